//! The simulator's configuration (one typed struct passed to [`super::start`]) and its
//! error type.

use super::card::Card;
use std::net::{Ipv4Addr, SocketAddr};

/// The reader's serial when none is configured (the sandbox registers it).
pub const DEFAULT_READER_SERIAL: &str = "R-1";

/// What the face match answers until a test changes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceMatchSetting {
    /// The similarity score, 0.0 to 1.0.
    pub score: f64,
    /// Whether the liveness check passed.
    pub liveness: bool,
}

impl Default for FaceMatchSetting {
    /// A clear pass: score 0.93, live.
    fn default() -> Self {
        Self {
            score: 0.93,
            liveness: true,
        }
    }
}

/// Everything [`super::start`] needs.
#[derive(Debug, Clone)]
pub struct IdReaderSimConfig {
    /// Where to listen; port 0 picks a free port. Loopback unless told otherwise: the
    /// service stands for one on the terminal machine.
    pub listen: SocketAddr,
    /// The reader's serial, in every card it reads and in face-match ids.
    pub reader_serial: String,
    /// The card on the reader at start and after `POST /control/reset` (`None`: empty).
    pub card: Option<Card>,
    /// The face match's answer at start and after a reset.
    pub face_match: FaceMatchSetting,
}

impl IdReaderSimConfig {
    /// `127.0.0.1:0`, reader `R-1` holding the test identity, a passing face match.
    pub fn new() -> Self {
        Self::with_serial(DEFAULT_READER_SERIAL)
    }

    /// As [`IdReaderSimConfig::new`] for the reader `reader_serial`.
    pub fn with_serial(reader_serial: &str) -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            reader_serial: reader_serial.to_owned(),
            card: Some(Card::test_identity(reader_serial)),
            face_match: FaceMatchSetting::default(),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), IdReaderSimError> {
        let s = &self.reader_serial;
        if s.is_empty() || s.len() > 64 || !s.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(IdReaderSimError::Config(
                "reader_serial must be 1 to 64 printable ASCII characters without spaces".into(),
            ));
        }
        if !valid_score(self.face_match.score) {
            return Err(IdReaderSimError::Config(
                "face_match.score must be within 0.0..=1.0".into(),
            ));
        }
        Ok(())
    }
}

impl Default for IdReaderSimConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether `s` is a face-match score.
pub(crate) fn valid_score(s: f64) -> bool {
    (0.0..=1.0).contains(&s)
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum IdReaderSimError {
    /// The listen address could not be bound or read back.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The requested address.
        addr: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The configuration is inconsistent.
    #[error("invalid configuration: {0}")]
    Config(String),
}

//! What an ES2+ call over HTTPS can end in, classified by what the caller may do next
//! (reference §1.3, §9). Messages come from the transport, the HTTP status and the
//! dotted codes only: never from request or response values (ICCID, EID, MatchingID,
//! Confirmation Code, free text) and never from key material.

use super::error::Es2Error;
use crate::http::HttpError;

/// Why [`super::Es2Client::new`] refused its configuration.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Es2TransportError {
    /// The base URL is not an absolute `https` URL (ES2+ is never sent in the clear).
    #[error("ES2+ base URL must be an absolute https URL without query or fragment")]
    InvalidBaseUrl,
    /// The function requester identifier is empty or not printable ASCII.
    #[error("ES2+ function requester identifier must be non-empty printable ASCII")]
    InvalidRequesterId,
    /// The TLS material is unusable (bad PEM, key that does not match the certificate).
    #[error("ES2+ client set-up failed: {0}")]
    Http(HttpError),
}

/// Why a call that reached the network may have gone wrong before a status arrived, or
/// which status made its outcome unknown.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AmbiguousCause {
    /// The SM-DP+ answered 5xx, or a 2xx other than 200 (which §6.3 forbids).
    #[error("HTTP status {0}")]
    HttpStatus(u16),
    /// The exchange broke after the request was sent: timeout, reset, truncated answer.
    #[error("{0}")]
    Transport(HttpError),
}

/// The outcome of an ES2+ call that did not succeed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Es2CallError {
    /// Nothing reached the SM-DP+ (TCP connect or TLS handshake failed, or the request
    /// could not be built): repeating the call is safe.
    #[error("ES2+ request not sent: {0}")]
    NotSent(HttpError),
    /// The request was sent but no usable status came back: the function may have run.
    /// Repeat only with the replay rules of reference §9.
    #[error("ES2+ outcome unknown: {0}")]
    Ambiguous(AmbiguousCause),
    /// The SM-DP+ refused the request at the HTTP layer (4xx, or 1xx/3xx): do not repeat
    /// it blindly, alert.
    #[error("ES2+ request rejected with HTTP status {status}")]
    Rejected {
        /// The HTTP status.
        status: u16,
    },
    /// HTTP 200 and the function was not executed: always [`Es2Error::Failed`], with the
    /// status, the codes verbatim and their retry classification.
    #[error("{0}")]
    Function(Es2Error),
    /// HTTP 200 but the body does not parse, or lacks a mandatory output. The function ran
    /// with an unknown result: reconcile, do not repeat blindly.
    #[error("ES2+ response unusable: {0}")]
    Protocol(Es2Error),
}

impl Es2CallError {
    /// Whether repeating the same call may succeed: a request that was not sent (unless the
    /// configuration is at fault), an ambiguous outcome (with the §9 replay rules), or a
    /// function failure the status catalogue marks retryable.
    pub fn retryable(&self) -> bool {
        match self {
            Self::NotSent(e) => !matches!(
                e,
                HttpError::InvalidUrl | HttpError::InvalidHeader { .. } | HttpError::Config(_)
            ),
            Self::Ambiguous(_) => true,
            Self::Function(e) => e.retryable(),
            Self::Rejected { .. } | Self::Protocol(_) => false,
        }
    }

    /// Whether the function may have run although no result was learned.
    pub fn is_ambiguous(&self) -> bool {
        matches!(self, Self::Ambiguous(_))
    }

    /// The `(subjectCode, reasonCode)` pair of a function failure, if any.
    pub fn codes(&self) -> Option<(&str, &str)> {
        match self {
            Self::Function(e) => e.codes(),
            _ => None,
        }
    }

    /// Classifies a transport failure: before the request left (connect, TLS handshake,
    /// local refusal) versus after (timeout, reset, broken or oversized answer).
    ///
    /// A TLS error counts as not sent: rustls reports it while handshaking, or, in TLS 1.3,
    /// as the peer's alert refusing our certificate right after; either way the peer's HTTP
    /// layer never saw the request.
    pub(crate) fn from_transport(e: HttpError) -> Self {
        match e {
            HttpError::Connect(_)
            | HttpError::Tls(_)
            | HttpError::InvalidUrl
            | HttpError::InvalidHeader { .. }
            | HttpError::Config(_) => Self::NotSent(e),
            HttpError::Timeout | HttpError::Io(_) | HttpError::BodyTooLarge { .. } => {
                Self::Ambiguous(AmbiguousCause::Transport(e))
            }
        }
    }

    /// Classifies a non-200 HTTP status (§1.3): 5xx and other 2xx are ambiguous, the rest
    /// a rejection.
    pub(crate) fn from_status(status: u16) -> Self {
        if status >= 500 || (200..300).contains(&status) {
            Self::Ambiguous(AmbiguousCause::HttpStatus(status))
        } else {
            Self::Rejected { status }
        }
    }

    /// Classifies a decoding outcome of a 200 answer.
    pub(crate) fn from_decode(e: Es2Error) -> Self {
        match e {
            Es2Error::Failed { .. } => Self::Function(e),
            other => Self::Protocol(other),
        }
    }
}

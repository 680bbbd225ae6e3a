//! The simulator's configuration: one typed struct, passed to [`super::start`].

use super::faults::FaultConfig;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The EDA endpoint path seen in deployments.
pub const DEFAULT_PATH: &str = "/CAI3G1.2/services/CAI3G1.2";

/// Idle lifetime of a session; public clients assume about ten minutes.
pub const DEFAULT_SESSION_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// Largest request body accepted; larger ones get HTTP 413.
pub const MAX_BODY_BYTES: usize = crate::common::http_util::MAX_BODY_BYTES;

/// Everything [`super::start`] needs.
#[derive(Clone)]
pub struct HlrSimConfig {
    /// Where to listen; port 0 picks a free port (see [`super::HlrSimHandle::addr`]).
    pub listen: SocketAddr,
    /// The CAI3G endpoint path (POST only).
    pub path: String,
    /// Serve HTTPS with this configuration; plain HTTP when `None`.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// The only `userId` Login accepts.
    pub user_id: String,
    /// The only `pwd` Login accepts. Never logged.
    pub password: String,
    /// Sessions unused for this long are invalid (measured on tokio's clock).
    pub session_lifetime: Duration,
    /// Fault injection at start; changeable at runtime.
    pub faults: FaultConfig,
    /// Seed of the fault-injection PRNG, for reproducible fault runs.
    pub seed: u64,
    /// Keep the subscribers in this file (created if missing) and resume from it; in
    /// memory only when `None`. See `common::state_file` for what a write survives.
    pub state_file: Option<PathBuf>,
}

impl HlrSimConfig {
    /// Plain HTTP on `127.0.0.1:0`, the default path and lifetime, no faults, seed 1.
    pub fn new(user_id: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            path: DEFAULT_PATH.to_owned(),
            tls: None,
            user_id: user_id.into(),
            password: password.into(),
            session_lifetime: DEFAULT_SESSION_LIFETIME,
            faults: FaultConfig::default(),
            seed: 1,
            state_file: None,
        }
    }
}

impl std::fmt::Debug for HlrSimConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HlrSimConfig")
            .field("listen", &self.listen)
            .field("path", &self.path)
            .field("tls", &self.tls.is_some())
            .field("user_id", &self.user_id)
            .field("password", &"***")
            .field("session_lifetime", &self.session_lifetime)
            .field("faults", &self.faults)
            .field("seed", &self.seed)
            .field("state_file", &self.state_file)
            .finish()
    }
}

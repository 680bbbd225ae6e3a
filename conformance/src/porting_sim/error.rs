//! The simulator's error type.

use std::net::SocketAddr;

/// Why the simulator could not start, or refused a setting.
#[derive(Debug, thiserror::Error)]
pub enum PortingSimError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The requested address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// TLS material is unusable (the message names the part, never key bytes).
    #[error("TLS configuration: {0}")]
    Tls(String),
    /// The configuration is inconsistent.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A fault configuration is out of range.
    #[error("invalid fault configuration: {0}")]
    Faults(String),
    /// The state file could not be opened or read.
    #[error(transparent)]
    State(#[from] crate::StateFileError),
}

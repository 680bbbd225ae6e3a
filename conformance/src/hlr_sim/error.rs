//! The simulator's error type.

use std::net::SocketAddr;

/// Why the simulator could not start or refused a control request.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The requested address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The configured endpoint path is not an absolute path outside `/sim/`.
    #[error("endpoint path {0:?} must start with '/' and not be under /sim/")]
    Path(String),
    /// The state file could not be opened or read.
    #[error(transparent)]
    State(#[from] crate::StateFileError),
    /// A fault configuration is out of range (fractions outside 0..=1 or summing above 1).
    #[error("invalid fault configuration: {0}")]
    Faults(String),
}

//! Configuration of the OsmoHLR CTRL adapter.

use std::net::SocketAddr;
use std::time::Duration;

/// Where OsmoHLR's CTRL interface listens and how long one request may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsmoConfig {
    /// The CTRL address (port 4259 in 1.5.0; loopback only: CTRL has no authentication).
    pub addr: SocketAddr,
    /// Deadline of one request, including (re)connecting.
    pub request_timeout: Duration,
}

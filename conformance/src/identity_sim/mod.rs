//! A fake identity-verification service speaking simgw's verifier protocol
//! (`POST /v1/verifications`, JSON over HTTPS, `docs/identity-verifier.md`) on loopback.
//! It checks what a real verifier checks: capture method against the request's
//! requirements, the ID number's shape for its type (GB 11643 check character and birth
//! date for 18-character numbers), a plausible name, the document's expiry, and the
//! real-person evidence (face score at or above the threshold with liveness). By default
//! it passes well-formed evidence. It answers a repeated request id with its first
//! decision, and a reused one with 409.
//!
//! Start it with [`start`]; the returned [`IdentitySimHandle`] injects faults (forced
//! reject or flag, for every request or one ID number; hang; any HTTP status; a broken
//! answer; delay) and reads counters; `admin` serves the same controls as JSON under
//! `/sim/`.
//!
//! Architecture invariant: the simulator reads and writes the protocol only through the
//! adapters' own codec (`adapters::identity`). Names and ID numbers never reach a log line.
//!
//! Code map: `id_shape` and `checks` are the pure decision; `replay` the idempotency
//! cache; `faults` the rules; `endpoint` one exchange; `simulator` the shared state and
//! routing; `server` start-up; `handle` the in-process controls.

mod admin;
mod checks;
mod config;
mod endpoint;
mod error;
mod faults;
mod handle;
mod id_shape;
mod replay;
mod server;
mod simulator;
mod stats;

pub use checks::DEFAULT_FACE_THRESHOLD;
pub use config::{DEFAULT_REPLAY_CAPACITY, IdentitySimConfig, server_tls_config};
pub use error::IdentitySimError;
pub use faults::{Action, Rule};
pub use handle::IdentitySimHandle;
pub use stats::{IdentityCounts, InjectedCounts, RejectCounts};

/// Binds the listener and starts serving; the handle reports the bound address.
pub async fn start(config: IdentitySimConfig) -> Result<IdentitySimHandle, IdentitySimError> {
    server::start(config).await
}

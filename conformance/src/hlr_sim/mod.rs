//! A faithful fake of a host operator's Ericsson HLR/AUC provisioning endpoint (CAI3G 1.2
//! over SOAP 1.1), with sessions, in-memory subscriptions, fault injection and an admin API.
//!
//! Start it with [`start`]; the returned [`HlrSimHandle`] observes and steers it in-process,
//! and the same controls are served as JSON under `/sim/` (see [`admin`]).
//!
//! Architecture invariant: the simulator does not parse or write SOAP itself; it uses the
//! gateway's own sans-IO codec (`adapters::cai3g::codec`), so both ends of the wire format
//! are written once. Key material never reaches a log line.
//!
//! Code map: `server` owns sockets, TLS and shutdown; `router` picks the endpoint;
//! `endpoint` runs one CAI3G exchange (decode, fault plan, delay/drop/hang, encode);
//! `provisioning` applies a decoded request to `sessions` and `store`; `fault_plan` decides
//! what to inject; `cai3g_faults` is the catalogue of fault bodies the fake sends.

pub mod admin;
mod cai3g_faults;
mod config;
mod endpoint;
mod error;
mod fault_plan;
mod faults;
mod handle;
mod persist;
mod provisioning;
mod router;
mod server;
mod sessions;
mod simulator;
mod stats;
mod store;

/// The CAI3G codec the simulator speaks through (the gateway's own).
pub(crate) use adapters::cai3g::codec;

pub use codec::{
    AucSubscription, GetResult, HlrSubscription, KiWire, MoBody, MoId, MoKind, Operation,
};
pub use config::{DEFAULT_PATH, DEFAULT_SESSION_LIFETIME, HlrSimConfig, MAX_BODY_BYTES};
pub use error::SimError;
pub use faults::{Action, FaultConfig, FaultKind, Rule};
pub use handle::HlrSimHandle;
pub use stats::{InjectedCounts, KindCounts, SimCounts};
pub use store::{AppliedCreate, SimSubscriber};

/// Binds the listener and starts serving; the handle reports the bound address.
pub async fn start(config: HlrSimConfig) -> Result<HlrSimHandle, SimError> {
    server::start(config).await
}

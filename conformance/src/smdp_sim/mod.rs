//! A faithful fake of an SM-DP+ on ES2+ (GSMA SGP.22 v2.2): the four order functions over
//! mutual TLS, the profile state machine, simulated customer (ES9+) actions with
//! HandleDownloadProgressInfo notifications to the operator, personalised profile
//! packages, fault injection and an admin API under `/sim/` (see [`admin`]).
//!
//! Start it with [`start`]; the returned [`SmdpSimHandle`] observes and steers it.
//!
//! Architecture invariant: the simulator reads and writes ES2+ only through the gateway's
//! own sans-IO codec (`adapters::es2plus`) and builds packages only through
//! `sim_profiles::profile`. Confirmation codes, Ki and OPc never reach a log line.
//!
//! Code map: `inventory` (ES2+ functions) and `es9` (customer events) are the pure state
//! machine over `state`; `cc`, `matching_id` and `package` are its pure helpers. `server`
//! starts the shared accept loop; `router` sends requests to `endpoint` (one ES2+
//! exchange, with `fault_plan`) or `admin`; `simulator` is the shared state and runs
//! customer actions and timers; `notify` builds, bends and delivers notifications.

pub mod admin;
pub mod cc;
mod clock;
pub mod codes;
mod config;
mod endpoint;
mod error;
mod es9;
mod fault_plan;
mod faults;
mod handle;
mod inventory;
mod matching_id;
mod notify;
mod package;
mod persist;
mod router;
mod seeds;
mod server;
mod simulator;
mod state;
mod stats;

pub use codes::Code;
pub use config::{
    CertFingerprint, MalformedAnswer, NotifierIdentity, OperatorAccount, ProfileSeed,
    SmdpAddressEcho, SmdpSimConfig, UnmappedCertPolicy, cert_fingerprint, cert_fingerprint_pem,
    server_tls_config,
};
pub use error::SmdpSimError;
pub use es9::{CancelReason, Es9Outcome, InstallResult, final_result_der};
pub use faults::{Action, FaultConfig, Function, Rule};
pub use handle::SmdpSimHandle;
pub use inventory::{Confirmed, Inventory, Policy, ReplayRule};
pub use notify::{Quirks, RetryPolicy, SentNotification, apply_quirks};
pub use package::{PackageError, build as build_package};
pub use seeds::{generate_profile_seeds, parse_profile_seeds};
pub use simulator::CustomerAction;
pub use state::{Notice, Personal, Profile, ProfileState};
pub use stats::{FunctionCounts, InjectedCounts, SmdpCounts};

/// Binds the listener and starts serving; the handle reports the bound address.
pub async fn start(config: SmdpSimConfig) -> Result<SmdpSimHandle, SmdpSimError> {
    server::start(config).await
}

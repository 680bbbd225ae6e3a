//! A faithful fake of an SM-DP+ on ES2+ (GSMA SGP.22 v2.2): the four order functions over
//! mutual TLS, the profile state machine, simulated customer (ES9+) actions with
//! HandleDownloadProgressInfo notifications to the operator, personalised profile
//! packages, fault injection and an admin API under `/sim/`.
//!
//! Architecture invariant: the simulator reads and writes ES2+ only through the gateway's
//! own sans-IO codec (`adapters::es2plus`) and builds packages only through
//! `sim_profiles::profile`. Confirmation codes, Ki and OPc never reach a log line.
//!
//! Code map: `inventory` (ES2+ functions) and `es9` (customer events) are the pure state
//! machine over `state`; `cc`, `matching_id` and `package` are its pure helpers.

pub mod cc;
pub mod codes;
mod es9;
mod inventory;
mod matching_id;
mod package;
mod state;

pub use codes::Code;
pub use es9::{CancelReason, Es9Outcome, InstallResult, final_result_der};
pub use inventory::{Confirmed, Inventory, Policy, ReplayRule};
pub use package::{PackageError, build as build_package};
pub use state::{Notice, Personal, Profile, ProfileState};

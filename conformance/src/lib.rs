//! Conformance tooling for simgw, in two parts:
//!
//! - **Simulators of the host operator**: faithful, fault-injecting fakes of the peers the
//!   gateway provisions into (today the Ericsson CAI3G 1.2 HLR/AUC, [`hlr_sim`]). The
//!   gateway's `serve --sandbox` mode runs them in-process on loopback, its end-to-end
//!   tests drive them, and carriers run them standalone (`simgw-conformance hlr-sim`).
//! - **The black-box conformance suite** (`simgw-conformance run`), which checks a running
//!   gateway against the public contract.
//!
//! Architecture invariant: conformance talks to the gateway over the wire only, never
//! through gateway internals. It may use `adapters` codecs so that both sides of a wire
//! format are written once, and `sim-profiles` identifier types.
#![forbid(unsafe_code)]

mod common;
pub mod hlr_sim;
pub mod id_reader_sim;
pub mod identity_sim;
pub mod osmo_peer;
pub mod pg_peer;
pub mod porting_sim;
pub mod smdp_sim;
pub mod suite;

pub use common::state_file::StateFileError;

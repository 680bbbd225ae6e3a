//! Ericsson CAI3G 1.2 (EMA / Dynamic Activation).
//!
//! Code map: [`codec`] is the sans-IO wire format; `classify` maps faults and transport
//! failures to [`crate::hlr::FaultClass`]; `session` holds the shared single-flight
//! session; `client` drives one host over HTTP; `hlr` implements
//! [`crate::hlr::HlrProvisioner`] (the multi-step, idempotent subscriber operations) on
//! top of it, with `domain` holding the pure mapping and comparisons it relies on.

mod classify;
mod client;
pub mod codec;
mod config;
mod domain;
mod hlr;
mod session;

pub use classify::classify_fault;
pub use client::Cai3gClient;
pub use config::{Cai3gConfig, CodeTable};
pub use hlr::Cai3gHlr;

//! Southbound adapters: each host-operator protocol is a sans-IO codec (pure encode/decode)
//! plus a thin async transport, exposed to the gateway through a protocol-neutral trait.
//!
//! Architecture invariant: only this crate knows SOAP, CTRL or ES2+ wire formats; the
//! gateway sees [`hlr::HlrProvisioner`] and typed errors.
#![forbid(unsafe_code)]

pub mod cai3g;
pub mod es2plus;
pub mod hlr;
pub mod http;
pub mod identity;
mod json_member;
pub mod osmo;
pub mod porting;

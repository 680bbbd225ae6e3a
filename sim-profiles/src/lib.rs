//! Pure data and codecs for SIM provisioning: identifiers (ICCID, IMSI, MSISDN, EID),
//! secret key material, and (later) profile packages and vendor batch files.
//!
//! Architecture invariant: this crate does no IO. Everything here is a pure function of
//! its inputs, so it can be property-tested exhaustively and reused by every other crate.
#![forbid(unsafe_code)]

pub mod batch;
pub mod ident;
pub mod milenage;
pub mod profile;
pub mod secret;
pub mod transport;

pub use ident::{Eid, Iccid, IdentError, Imsi, Msisdn, Plmn};
pub use secret::{Key128, SecretError};

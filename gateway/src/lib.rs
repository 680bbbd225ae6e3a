//! simgw: the SIM provisioning and eSIM activation gateway. This crate holds the northbound
//! API, the durable order engine, inventory, and the store; the `simgw` binary wraps it.
//!
//! Architecture invariant: only this crate knows the northbound HTTP/JSON API and the store
//! layout; southbound protocols live in `adapters`, identifiers in `sim-profiles`.
#![forbid(unsafe_code)]

pub mod admin;
pub mod admission;
pub mod api;
pub mod app;
#[cfg(feature = "sandbox")]
pub mod bench;
pub mod cli;
pub mod clock;
pub mod compliance;
pub mod config;
pub mod crypto;
pub mod engine;
pub mod import;
pub mod metrics;
pub mod numbers;
pub mod order;
pub mod porting;
pub mod qr;
pub mod reconcile;
#[cfg(feature = "sandbox")]
pub mod sandbox;
#[cfg(feature = "sandbox")]
pub mod sandbox_hlr;
#[cfg(feature = "sandbox")]
pub mod sandbox_identity;
#[cfg(feature = "sandbox")]
pub mod sandbox_markets;
#[cfg(feature = "sandbox")]
pub mod sandbox_porting;
#[cfg(feature = "sandbox")]
pub mod sandbox_profile_status;
#[cfg(feature = "sandbox")]
pub mod sandbox_profiles;
#[cfg(feature = "sandbox")]
pub mod sandbox_smdp;
#[cfg(feature = "sandbox")]
pub mod sandbox_terminal;
pub mod server;
#[cfg(feature = "sandbox")]
pub mod soak;
pub mod southbound;
pub mod store;
pub mod terminal;
pub mod tls;
pub mod webhooks;

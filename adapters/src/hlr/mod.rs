//! The protocol-neutral HLR/AUC provisioning boundary the gateway's order engine uses.
//!
//! Every operation here is idempotent by contract, so the engine can repeat a step whose
//! outcome it never learned (crash, timeout, dropped response):
//! - `provision` treats "already exists" with the same data as success and never
//!   overwrites different data (that is [`FaultClass::Conflict`]);
//! - `deprovision` treats "not found" as success and never deletes an object whose data
//!   differs from the spec (it was not created by this order).

mod error;
mod types;

pub use error::{FaultClass, HlrError};
pub use types::{
    AucState, AuthData, Barring, DeprovisionOutcome, HlrProfile, HlrState, KiMaterial,
    ProvisionOutcome, SubscriberSpec, SubscriberState,
};

use sim_profiles::Imsi;
use std::future::Future;
use std::pin::Pin;

/// A boxed, sendable future: the trait is used as `dyn HlrProvisioner`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One host operator's HLR/AUC, whatever its dialect (CAI3G, OsmoHLR CTRL, ...).
pub trait HlrProvisioner: Send + Sync {
    /// Dialect name for logs and metrics, e.g. `"cai3g"`.
    fn dialect(&self) -> &'static str;

    /// Creates the subscriber (AUC then HLR). Idempotent: existing objects with equal data
    /// give [`ProvisionOutcome::AlreadyPresent`]; different data gives a `Conflict` error.
    fn provision<'a>(
        &'a self,
        spec: &'a SubscriberSpec,
    ) -> BoxFuture<'a, Result<ProvisionOutcome, HlrError>>;

    /// Removes what `provision` created (HLR then AUC). Idempotent: absent objects are
    /// success; objects whose data differ from `spec` are left alone and reported.
    fn deprovision<'a>(
        &'a self,
        spec: &'a SubscriberSpec,
    ) -> BoxFuture<'a, Result<DeprovisionOutcome, HlrError>>;

    /// Reads the subscriber's current state, `None` if neither AUC nor HLR entry exists.
    fn query<'a>(
        &'a self,
        imsi: &'a Imsi,
    ) -> BoxFuture<'a, Result<Option<SubscriberState>, HlrError>>;

    /// Sets operator barring (suspend/resume) without touching authentication data.
    fn set_barring<'a>(
        &'a self,
        imsi: &'a Imsi,
        barring: Barring,
    ) -> BoxFuture<'a, Result<(), HlrError>>;

    /// Ends the session with the peer (e.g. CAI3G Logout). Best effort.
    fn shutdown(&self) -> BoxFuture<'_, ()>;
}

//! The protocol-neutral HLR/AUC provisioning boundary the gateway's order engine uses.
//!
//! Every operation here is idempotent by contract, so the engine can repeat a step whose
//! outcome it never learned (crash, timeout, dropped response):
//! - `provision` treats "already exists" with the same data as success and never
//!   overwrites different data (that is [`FaultClass::Conflict`]);
//! - `deprovision` treats "not found" as success and never deletes an object whose data
//!   differs from the spec (it was not created by this order);
//! - `detach_msisdn`, `change_msisdn` and `set_barring` compare before they write, so a
//!   repeat after a lost answer finds its own change and succeeds.
//!
//! HLRs keep an MSISDN on at most one IMSI. A SIM swap therefore moves the number in these
//! steps, each safe to repeat; the number is on the old IMSI before step 2, on the new one
//! after step 3, and on none only in between (so a resumed swap knows where it is):
//! 1. `provision` the new IMSI with `msisdn: None` (authentication only);
//! 2. `detach_msisdn` the number from the old IMSI;
//! 3. `provision` the new IMSI with the number (filled in: `AlreadyPresent`);
//! 4. `deprovision` the old IMSI with `msisdn: None`.
//!
//! Undoing after step 2 is `provision` of the old spec (it fills the number in again);
//! after step 3, `detach_msisdn` from the new IMSI comes first. Provisioning a number that
//! another IMSI still holds is a permanent `Conflict`, so step 3 never takes it early.

mod error;
mod types;

pub use error::{FaultClass, HlrError};
pub use types::{
    AucState, AuthData, Barring, DeprovisionOutcome, HlrProfile, HlrState, KiMaterial,
    ProvisionOutcome, SubscriberSpec, SubscriberState,
};

use sim_profiles::{Imsi, Msisdn};
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
    ///
    /// With `spec.msisdn: None` only the authentication side is created (OsmoHLR: the
    /// subscriber row and `aud3g`, no number; CAI3G: the AUC entry, no HLR subscription);
    /// a subscriber that already holds a number is then a `Conflict`. With a number, a
    /// subscriber with equal authentication data and no number gets the number filled in
    /// (`AlreadyPresent`); a number held by another IMSI is a permanent `Conflict`.
    fn provision<'a>(
        &'a self,
        spec: &'a SubscriberSpec,
    ) -> BoxFuture<'a, Result<ProvisionOutcome, HlrError>>;

    /// Removes what `provision` created (HLR then AUC). Idempotent: absent objects are
    /// success; objects whose data differ from `spec` are left alone and reported.
    /// With `spec.msisdn: None` a subscriber holding any number is foreign
    /// ([`DeprovisionOutcome::LeftForeign`]); one holding none is removed.
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
    /// Idempotent: flags already as wanted are not written again. An absent subscriber
    /// (CAI3G: one without HLR subscription) is `NotFound`.
    fn set_barring<'a>(
        &'a self,
        imsi: &'a Imsi,
        barring: Barring,
    ) -> BoxFuture<'a, Result<(), HlrError>>;

    /// Takes `msisdn` off subscriber `imsi`, keeping its authentication data, so another
    /// IMSI can take the number. Idempotent: an absent subscriber or one holding no number
    /// is success; one holding a different number is a `Conflict` (not ours to change).
    /// OsmoHLR clears `msisdn`; CAI3G deletes the GsmHlr subscription and keeps the AUC
    /// entry (barring and profile go with the subscription: re-attaching sets the spec's).
    fn detach_msisdn<'a>(
        &'a self,
        imsi: &'a Imsi,
        msisdn: &'a Msisdn,
    ) -> BoxFuture<'a, Result<(), HlrError>>;

    /// Changes subscriber `imsi`'s number from `from` to `to` in place. Idempotent: a
    /// subscriber already on `to` is success; one on `from` is moved; any other number
    /// (or none) is a `Conflict`, an absent subscriber `NotFound`. `to` held by another
    /// IMSI is a permanent `Conflict` whose message says so; nothing changes then.
    fn change_msisdn<'a>(
        &'a self,
        imsi: &'a Imsi,
        from: &'a Msisdn,
        to: &'a Msisdn,
    ) -> BoxFuture<'a, Result<(), HlrError>>;

    /// Ends the session with the peer (e.g. CAI3G Logout). Best effort.
    fn shutdown(&self) -> BoxFuture<'_, ()>;
}

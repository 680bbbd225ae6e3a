//! Creating an activation: the command, its idempotency record, and the outcomes.

use super::inventory::Rejection;
use crate::crypto::Sealed;
use crate::order::{MsisdnMode, Order};
use serde::{Deserialize, Serialize};
use sim_profiles::{Iccid, Msisdn};

/// The stored answer to an idempotent request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    /// Keyed fingerprint of the canonical request body (`crypto::Keyring::fingerprint`).
    pub body_hash: String,
    /// The order the first request created.
    pub order_id: String,
    /// Snapshot of the order as first returned, so a replay answers identically.
    pub response: Order,
    /// Unix ms of the first request.
    pub created_at_ms: u64,
}

/// How the caller wants the number chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NumberChoice {
    /// Any free number of the tenant.
    Auto,
    /// This number, which must be free in the tenant's pool.
    Choose(Msisdn),
    /// The number held by this reservation (`nres_…`).
    Reservation(String),
    /// A port-in's number, which is not ours until it completes: it must not be in our
    /// pools nor on any of our lines; nothing in the pool is taken.
    Ported(Msisdn),
}

/// Input of [`super::Store::create_activation`].
#[derive(Clone, Debug)]
pub struct NewActivation {
    /// The tenant of the API key.
    pub tenant: String,
    /// The `Idempotency-Key` header.
    pub idempotency_key: String,
    /// Keyed fingerprint of the canonical body (`crypto::Keyring::fingerprint`).
    pub body_hash: String,
    /// A fresh order id (used only if the order is created).
    pub order_id: String,
    /// The requested card, or an eSIM profile from stock.
    pub sim: SimChoice,
    /// Number selection.
    pub number: NumberChoice,
    /// Product code.
    pub product: String,
    /// Channel metadata.
    pub channel: Option<serde_json::Value>,
    /// Sealed subscriber details.
    pub subscriber: Option<Sealed>,
    /// Unix ms now.
    pub now_ms: u64,
    /// A uniform random value for the random number policy (keeps the store deterministic).
    pub random: u64,
    /// Idempotency records older than this (Unix ms) count as expired.
    pub idempotency_cutoff_ms: u64,
    /// The real-name and anti-fraud checks of the create commit (`None`: none). Run after
    /// the idempotency check (a replay is not checked again) and before any reservation;
    /// on `Allow` the commit also bumps the velocity counters, indexes the line under the
    /// ID hash, sets `Order::compliance` and appends the audit record; on `Refuse` it
    /// writes only the audit record and any freeze (`CreateOutcome::Refused`).
    pub compliance: Option<super::ComplianceCheck>,
    /// The port-in part of the order (`msisdn.mode` `port_in`): its number must be
    /// nobody's here (`Rejection::NumberAlreadyOurs`); `number` then gives the
    /// temporary number where the market issues one, else `NumberChoice::Ported`.
    pub port: Option<crate::order::PortIn>,
    /// The engine's sending ahead (`engine::machine::mark_next_sent`), applied to the new
    /// order in the create commit so that it also records the order's first southbound
    /// call as sent, when the caller drives the order at once (`Engine::submit_created`);
    /// `None`: the order is written as created.
    pub send_ahead: Option<SendAhead>,
}

/// The engine's sending ahead, passed to the store (which never imports the engine): the
/// order about to be written at a time, with its next southbound call recorded as sent.
pub type SendAhead = fn(Order, u64) -> Order;

/// Which card an activation uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimChoice {
    /// This physical card.
    Physical(Iccid),
    /// Any eSIM profile of the product's type, prepared for these ES2+ parameters.
    Esim {
        /// The customer's EID, if known.
        eid: Option<sim_profiles::Eid>,
        /// Our MatchingID for the order.
        matching_id: String,
        /// The sealed confirmation code, if the tenant uses them.
        confirmation_code: Option<crate::crypto::Sealed>,
    },
}

/// Result of [`super::Store::create_activation`].
#[derive(Clone, Debug)]
pub enum CreateOutcome {
    /// A new order was created and reserved.
    Created(Order),
    /// The same key and body were seen before: answer with this snapshot again.
    Replayed(Order),
    /// The same key was used with a different body.
    KeyReused,
    /// Refused; nothing changed.
    Rejected(Rejection),
    /// Refused by a compliance check: nothing was reserved; the refusal's audit record
    /// (and a freeze, if the policy asks) was committed.
    Refused(super::ComplianceRefusal),
}

/// An activation's number mode: a port-in's, whatever number it runs on meanwhile, is
/// `port_in`.
pub fn activation_number_mode(new: &NewActivation) -> MsisdnMode {
    match new.port {
        Some(_) => MsisdnMode::PortIn,
        None => number_mode(&new.number),
    }
}

/// The temporary number a port-in runs on until cutover: the pool number it was given,
/// unless its number choice is the ported number itself (the line waits).
pub fn temporary_number(choice: &NumberChoice, msisdn: &Msisdn) -> Option<Msisdn> {
    (!matches!(choice, NumberChoice::Ported(_))).then(|| msisdn.clone())
}

/// Orders also carry the mode used for their number.
pub fn number_mode(choice: &NumberChoice) -> MsisdnMode {
    match choice {
        NumberChoice::Auto => MsisdnMode::Auto,
        NumberChoice::Choose(_) => MsisdnMode::Choose,
        NumberChoice::Reservation(_) => MsisdnMode::Reservation,
        NumberChoice::Ported(_) => MsisdnMode::PortIn,
    }
}

/// What an activation becoming active does to pool numbers: the number it assigns (its
/// own; a port-in's temporary one, which served until cutover) and the one that goes to
/// quarantine at once (a port-in's temporary number). A port-in's own number is not from
/// our pools and is never touched.
pub fn activated_numbers(order: &Order) -> (Option<&Msisdn>, Option<&Msisdn>) {
    match &order.port {
        None => (Some(&order.msisdn), None),
        Some(p) => (p.temporary.as_ref(), p.temporary.as_ref()),
    }
}

/// Whether releasing an order gives its number back to the pool: not a port-in's own
/// number, which was never ours (its temporary one, the order's `msisdn` until cutover, is).
pub fn releases_pool_number(order: &Order) -> bool {
    order.port.as_ref().is_none_or(|p| p.temporary.is_some())
}

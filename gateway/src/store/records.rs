//! Records held by the store. They are serialised as JSON values inside redb tables; a
//! field added later must be `#[serde(default)]` so old records keep decoding.

use crate::crypto::Sealed;
use crate::order::{MsisdnMode, Order};
use serde::{Deserialize, Serialize};
use sim_profiles::{Iccid, Imsi, Msisdn, Plmn};
use std::collections::BTreeMap;

/// A reseller brand (MVNO) using the gateway.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    /// Stable id, e.g. `sandbox`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Home PLMN of the tenant's IMSIs.
    pub plmn: Plmn,
    /// Product code → HLR profile.
    pub products: BTreeMap<String, Product>,
}

/// A sellable product and what it means on the host operator's HLR.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// CAI3G `profileId` (HLR subscriber template).
    pub hlr_profile_id: u32,
}

/// An API key as stored: only the SHA-256 of the key is the table key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    /// The tenant the key acts for.
    pub tenant: String,
    /// Non-secret prefix shown in audit logs, e.g. `sk_sandbox_ab12`.
    pub prefix: String,
    /// Free-text label.
    pub label: String,
    /// Unix ms of creation.
    pub created_at_ms: u64,
}

/// Where a SIM is in its life.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SimState {
    /// In stock.
    Available,
    /// Held by an in-flight order.
    Reserved {
        /// The order.
        order: String,
    },
    /// In service.
    Active {
        /// The order that activated it.
        order: String,
    },
}

/// A physical SIM in inventory. Ki and OPc are sealed under the data key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimRecord {
    /// Card id.
    pub iccid: Iccid,
    /// Card IMSI.
    pub imsi: Imsi,
    /// Owning tenant.
    pub tenant: String,
    /// Lifecycle state.
    pub state: SimState,
    /// Sealed Ki (context `sim/<iccid>/ki`).
    pub ki: Sealed,
    /// Sealed OPc (context `sim/<iccid>/opc`), if the vendor gave one.
    pub opc: Option<Sealed>,
    /// Import batch id.
    pub batch: String,
}

/// Where a number is in its life.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum NumberState {
    /// Free to assign.
    Available,
    /// Held by an in-flight order.
    Reserved {
        /// The order.
        order: String,
    },
    /// In service.
    Assigned {
        /// The order that assigned it.
        order: String,
    },
}

/// An MSISDN in a tenant's pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberRecord {
    /// Owning tenant.
    pub tenant: String,
    /// The block it came from.
    pub block: String,
    /// Lifecycle state.
    pub state: NumberState,
}

/// The stored answer to an idempotent request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    /// SHA-256 (hex) of the canonical request body.
    pub body_hash: String,
    /// The order the first request created.
    pub order_id: String,
    /// Snapshot of the order as first returned, so a replay answers identically.
    pub response: Order,
    /// Unix ms of the first request.
    pub created_at_ms: u64,
}

/// What happened, for the event log (audit trail and, later, webhooks).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// Order created and inventory reserved.
    OrderCreated,
    /// A southbound step is about to be attempted.
    StepSent {
        /// Step name.
        step: String,
        /// Attempt number.
        attempt: u32,
    },
    /// A southbound step answered.
    StepAnswered {
        /// Step name.
        step: String,
        /// Attempt number.
        attempt: u32,
        /// `ok: <outcome>` or the error.
        result: String,
    },
    /// The order reached `active`.
    OrderActive,
    /// The order reached `failed` (after compensation).
    OrderFailed {
        /// The error code.
        code: String,
    },
    /// An administrative change.
    Admin {
        /// What changed.
        what: String,
    },
}

/// One event-log entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Global, gap-free sequence number.
    pub seq: u64,
    /// Unix ms.
    pub at_ms: u64,
    /// Tenant concerned.
    pub tenant: String,
    /// Order concerned, if any.
    pub order_id: Option<String>,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// How the caller wants the number chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NumberChoice {
    /// Any free number of the tenant.
    Auto,
    /// This number, which must be free in the tenant's pool.
    Choose(Msisdn),
}

/// Input of [`super::Store::create_activation`].
#[derive(Clone, Debug)]
pub struct NewActivation {
    /// The tenant of the API key.
    pub tenant: String,
    /// The `Idempotency-Key` header.
    pub idempotency_key: String,
    /// SHA-256 (hex) of the canonical body.
    pub body_hash: String,
    /// A fresh order id (used only if the order is created).
    pub order_id: String,
    /// The requested card.
    pub iccid: Iccid,
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
    /// Idempotency records older than this (Unix ms) count as expired.
    pub idempotency_cutoff_ms: u64,
}

/// Why a request was refused without any change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// No SIM with that ICCID exists.
    UnknownIccid,
    /// The SIM belongs to another tenant.
    SimOfOtherTenant,
    /// The SIM is reserved or active.
    SimNotAvailable {
        /// `reserved` or `active`.
        state: &'static str,
    },
    /// The product code is not configured for the tenant.
    UnknownProduct,
    /// The chosen number is not in the tenant's pool.
    NumberNotInPool,
    /// The chosen number is taken.
    NumberNotAvailable,
    /// The tenant's pool has no free number.
    NumberPoolExhausted,
    /// The tenant does not exist (key of a deleted tenant).
    UnknownTenant,
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
}

/// Inventory counts of one tenant.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct InventoryCounts {
    /// SIMs in stock.
    pub sims_available: u64,
    /// SIMs held by in-flight orders.
    pub sims_reserved: u64,
    /// SIMs in service.
    pub sims_active: u64,
    /// Free numbers.
    pub numbers_available: u64,
}

/// An administrative change.
#[derive(Clone, Debug)]
pub enum AdminChange {
    /// Create or replace a tenant.
    PutTenant(Tenant),
    /// Register an API key by its hash.
    PutApiKey {
        /// SHA-256 of the key.
        hash: [u8; 32],
        /// The record.
        record: ApiKeyRecord,
    },
    /// Load SIMs. The whole list is rejected if any ICCID or IMSI exists already.
    AddSims(Vec<SimRecord>),
    /// Add a block of consecutive numbers to a tenant's pool.
    AddNumbers {
        /// Owning tenant.
        tenant: String,
        /// Block label.
        block: String,
        /// First number.
        first: Msisdn,
        /// How many.
        count: u64,
    },
    /// Set a metadata value.
    PutMeta {
        /// Key.
        key: String,
        /// Value.
        value: Vec<u8>,
    },
    /// Several changes in one transaction (all or nothing).
    Batch(Vec<AdminChange>),
}

/// Result of an administrative change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminOutcome {
    /// Applied.
    Applied,
    /// Refused; nothing changed.
    Refused(String),
}

/// Orders also carry the mode used for their number.
pub fn number_mode(choice: &NumberChoice) -> MsisdnMode {
    match choice {
        NumberChoice::Auto => MsisdnMode::Auto,
        NumberChoice::Choose(_) => MsisdnMode::Choose,
    }
}

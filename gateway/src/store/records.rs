//! Records held by the store. They are serialised as JSON values inside redb tables; a
//! field added later must be `#[serde(default)]` so old records keep decoding.

use crate::crypto::Sealed;
use crate::numbers::{GoldenRule, NumberPolicy};
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
    /// How automatic number assignment picks.
    #[serde(default)]
    pub number_policy: NumberPolicy,
    /// Rules marking numbers golden (never auto-assigned), applied when numbers are added.
    #[serde(default = "crate::numbers::default_golden_rules")]
    pub golden_rules: Vec<GoldenRule>,
    /// Days a released number ages in quarantine before reuse.
    #[serde(default = "default_quarantine_days")]
    pub quarantine_days: u32,
    /// Alert when available SIMs, or a pool's ordinary numbers, fall below this.
    #[serde(default)]
    pub low_stock_threshold: Option<u64>,
    /// Per-pool thresholds (block label → minimum free numbers), overriding the default.
    #[serde(default)]
    pub pool_low_stock: BTreeMap<String, u64>,
}

fn default_quarantine_days() -> u32 {
    90
}

impl Tenant {
    /// A tenant with the default number policy, golden rules and 90-day quarantine.
    pub fn new(id: &str, name: &str, plmn: Plmn, products: BTreeMap<String, Product>) -> Self {
        Self {
            id: id.to_owned(),
            name: name.to_owned(),
            plmn,
            products,
            number_policy: NumberPolicy::default(),
            golden_rules: crate::numbers::default_golden_rules(),
            quarantine_days: default_quarantine_days(),
            low_stock_threshold: None,
            pool_low_stock: BTreeMap::new(),
        }
    }
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

impl SimState {
    /// The state's stable name and the order holding the SIM, if any.
    pub fn label(&self) -> (&'static str, Option<&str>) {
        match self {
            Self::Available => ("available", None),
            Self::Reserved { order } => ("reserved", Some(order)),
            Self::Active { order } => ("active", Some(order)),
        }
    }
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
    /// Held for a checkout by a reservation until `until_ms`.
    Held {
        /// The reservation.
        reservation: String,
        /// Unix ms when the hold lapses.
        until_ms: u64,
    },
    /// Given up (termination, port-out); ages until `until_ms` before reuse.
    Quarantined {
        /// Unix ms when it returns to the pool.
        until_ms: u64,
    },
}

/// Whether a number may be assigned automatically.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberClass {
    /// Ordinary: auto-assignable.
    #[default]
    Normal,
    /// Golden (premium pattern): only when chosen explicitly.
    Golden,
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
    /// Normal or golden.
    #[serde(default)]
    pub class: NumberClass,
}

/// A number held for an online checkout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    /// `nres_` + 26 base32 characters.
    pub id: String,
    /// Owning tenant.
    pub tenant: String,
    /// The held number.
    pub msisdn: Msisdn,
    /// Unix ms of creation.
    pub created_at_ms: u64,
    /// Unix ms when the hold lapses.
    pub expires_at_ms: u64,
    /// The order that used it, once used.
    pub order: Option<String>,
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
    /// The number held by this reservation (`nres_…`).
    Reservation(String),
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
    /// A uniform random value for the random number policy (keeps the store deterministic).
    pub random: u64,
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
    /// No such reservation for the tenant.
    ReservationNotFound,
    /// The reservation lapsed or was already used.
    ReservationNotUsable,
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
    /// Free ordinary numbers (automatic assignment draws from these).
    pub numbers_available: u64,
    /// Free golden numbers (assignable only when chosen).
    #[serde(default)]
    pub numbers_golden: u64,
    /// Numbers held by checkout reservations.
    #[serde(default)]
    pub numbers_held: u64,
    /// Numbers ageing in quarantine.
    #[serde(default)]
    pub numbers_quarantined: u64,
}

/// Inventory counts per number pool and per SIM batch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Breakdown {
    /// Block label → `numbers_available`, `numbers_golden`, `numbers_held`, `numbers_quarantined`.
    pub pools: BTreeMap<String, BTreeMap<String, u64>>,
    /// Batch id → `sims_available`, `sims_reserved`, `sims_active`.
    pub batches: BTreeMap<String, BTreeMap<String, u64>>,
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
        NumberChoice::Reservation(_) => MsisdnMode::Reservation,
    }
}

/// Input of [`super::Store::create_reservation`].
#[derive(Clone, Debug)]
pub struct NewReservation {
    /// The tenant of the API key.
    pub tenant: String,
    /// The `Idempotency-Key` header.
    pub idempotency_key: String,
    /// SHA-256 (hex) of the canonical body.
    pub body_hash: String,
    /// A fresh reservation id (used only if created).
    pub id: String,
    /// The number wanted, or any free ordinary number.
    pub msisdn: Option<Msisdn>,
    /// How long to hold it.
    pub ttl_ms: u64,
    /// Unix ms now.
    pub now_ms: u64,
    /// A uniform random value for the random number policy.
    pub random: u64,
}

/// Result of [`super::Store::create_reservation`].
#[derive(Clone, Debug)]
pub enum ReservationOutcome {
    /// The number is now held.
    Created(Reservation),
    /// The same key and body were seen before.
    Replayed(Reservation),
    /// The same key was used with another body.
    KeyReused,
    /// Refused; nothing changed.
    Rejected(Rejection),
}

/// What an expiry sweep returned to the pool.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Expired {
    /// Lapsed checkout holds.
    pub reservations: u64,
    /// Numbers whose quarantine ended.
    pub quarantine: u64,
}

/// Why one card of an import chunk was not written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clash {
    /// The ICCID or IMSI belongs to a SIM already in inventory (another batch).
    InInventory,
    /// The ICCID appeared earlier in the same file.
    DuplicateIccid {
        /// The earlier line.
        first_line: usize,
    },
    /// The IMSI appeared earlier in the same file.
    DuplicateImsi {
        /// The earlier line.
        first_line: usize,
    },
}

/// Where an import stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    /// Chunks are being written; none of its SIMs is usable yet.
    Importing,
    /// Every card is in; the SIMs are in stock.
    Complete,
}

/// A vendor batch file's import.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchRecord {
    /// `bat_` + the first 24 hex digits of the file's SHA-256: the same file is the same batch.
    pub id: String,
    /// Owning tenant.
    pub tenant: String,
    /// SHA-256 (hex) of the file.
    pub file_sha256: String,
    /// File name as given.
    pub source: String,
    /// `vendor-out` or `csv`.
    pub format: String,
    /// The vendor's batch id from the header, if any.
    pub vendor_batch: Option<String>,
    /// The transport key index the keys were encrypted under, if any.
    pub transport_key_index: Option<u16>,
    /// Number of cards.
    pub cards: u64,
    /// Import state.
    pub status: BatchStatus,
    /// Unix ms the import started.
    pub started_at_ms: u64,
}

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
    /// eSIM orders carry a confirmation code the customer types on the device.
    #[serde(default)]
    pub esim_confirmation_code: bool,
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
            esim_confirmation_code: false,
        }
    }
}

/// A sellable product and what it means on the host operator's HLR.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// CAI3G `profileId` (HLR subscriber template).
    pub hlr_profile_id: u32,
    /// The SM-DP+ profile type eSIM orders of this product draw from; `None`: the product
    /// is sold on physical SIMs only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub esim_profile_type: Option<String>,
}

impl Product {
    /// A product on HLR template `hlr_profile_id`, physical SIMs only.
    pub fn new(hlr_profile_id: u32) -> Self {
        Self {
            hlr_profile_id,
            esim_profile_type: None,
        }
    }

    /// The same product also sold as an eSIM drawn from `profile_type`.
    pub fn with_esim(mut self, profile_type: impl Into<String>) -> Self {
        self.esim_profile_type = Some(profile_type.into());
        self
    }
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
    /// Out of stock for good: an eSIM profile cancelled as `Unavailable` at the SM-DP+, or
    /// one the SM-DP+ says another operator holds.
    Retired {
        /// The order that retired it.
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
            Self::Retired { order } => ("retired", Some(order)),
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
    /// For an eSIM profile (held at the SM-DP+, not a card): its SM-DP+ profile type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub esim_profile_type: Option<String>,
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
    /// Keyed fingerprint of the canonical request body (`crypto::Keyring::fingerprint`).
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
    /// The SM-DP+ reported download progress for the order's profile.
    EsimProgress {
        /// Notification point id.
        point: u32,
        /// Status as sent.
        status: String,
        /// `subject/reason` of a failure.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
    },
    /// A released eSIM was never downloaded: the order is being undone.
    EsimExpired,
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
    /// The product is not sold as an eSIM (no profile type configured).
    EsimNotOffered,
    /// No eSIM profile of the product's type is left in stock.
    EsimStockOut {
        /// The profile type.
        profile_type: String,
    },
    /// A physical order named an eSIM profile's ICCID.
    SimIsEsim,
}

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

/// The mirror of an eSIM profile's progress on the customer's device, as the SM-DP+
/// reported it through HandleDownloadProgressInfo.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EsimState {
    /// Released: the customer may download it.
    Released,
    /// The bound profile package reached the device (point 3).
    Downloaded,
    /// The eUICC installed it (point 4 success).
    Installed,
    /// The SM-DP+ reported a failure (any point Failed).
    Error,
}

impl EsimState {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Released => "released",
            Self::Downloaded => "downloaded",
            Self::Installed => "installed",
            Self::Error => "error",
        }
    }
}

/// One notification point as the order shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressPoint {
    /// The notification point id (1–4 standard, 5–99 reserved, ≥ 100 vendor-specific).
    pub point: u32,
    /// `Executed-Success`, `Failed`, … as sent.
    pub status: String,
    /// `subject/reason` for a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// When the step happened, as the SM-DP+ wrote it.
    pub timestamp: String,
    /// Unix ms we received it.
    pub received_at_ms: u64,
}

/// The download progress of one eSIM order (table `esim_progress`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EsimProgress {
    /// The mirrored state; `None` until a notification arrives (the order's own status
    /// then tells whether the profile is released yet).
    pub state: Option<EsimState>,
    /// The points received, in arrival order (bounded).
    pub points: Vec<ProgressPoint>,
}

/// Most progress points kept per order.
pub const MAX_PROGRESS_POINTS: usize = 32;

/// A HandleDownloadProgressInfo to record (already parsed leniently).
#[derive(Clone, Debug)]
pub struct NotificationIn {
    /// The ICCID, normalised (no trailing `F`).
    pub iccid: Iccid,
    /// The notification point id.
    pub point: u32,
    /// The status as sent.
    pub status: String,
    /// `Some(true)` for a success status, `Some(false)` for `Failed`, `None` for `Expired`
    /// or an unknown status (stored, changes no state).
    pub success: Option<bool>,
    /// `subject/reason` of a failure.
    pub code: Option<String>,
    /// The timestamp as sent.
    pub timestamp: String,
    /// The tenants the sending SM-DP+ serves (empty: all).
    pub tenants: Vec<String>,
    /// The raw body, kept for audit.
    pub raw: String,
    /// Unix ms now.
    pub now_ms: u64,
}

impl NotificationIn {
    /// The de-duplication key: ICCID, point, status and timestamp.
    pub fn dedupe_key(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.iccid, self.point, self.status, self.timestamp
        )
    }
}

/// What recording a notification did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationOutcome {
    /// It updated an order's progress.
    Applied {
        /// The order.
        order: String,
    },
    /// Seen before (same ICCID, point, status and timestamp): ignored.
    Duplicate,
    /// The ICCID is not an eSIM profile we hold: recorded only.
    UnknownIccid,
    /// The profile belongs to a tenant this SM-DP+ does not serve: recorded only.
    ForeignTenant,
    /// The profile is in stock, not in any order: recorded only.
    NoOrder,
}

/// A received notification as stored (table `notifications`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRecord {
    /// Unix ms received.
    pub received_at_ms: u64,
    /// What it did.
    pub outcome: NotificationOutcome,
    /// The raw body.
    pub raw: String,
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
    /// Keyed fingerprint of the canonical body (`crypto::Keyring::fingerprint`).
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
    /// The ICCID belongs to a SIM already in inventory (another batch, maybe another tenant's).
    IccidInInventory,
    /// The IMSI belongs to a SIM already in inventory (another batch, maybe another tenant's).
    ImsiInInventory,
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
    /// `bat_` + 24 hex digits derived from the tenant and the file's SHA-256: the same file
    /// is the same batch for one tenant only.
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
    /// For a batch of eSIM profiles: their SM-DP+ profile type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub esim_profile_type: Option<String>,
}

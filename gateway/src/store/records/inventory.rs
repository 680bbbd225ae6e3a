//! SIMs, numbers, checkout reservations, inventory counts and import batches.

use crate::crypto::Sealed;
use serde::{Deserialize, Serialize};
use sim_profiles::{Iccid, Imsi, Msisdn};
use std::collections::BTreeMap;

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
    /// Given up (termination, number change); ages until `until_ms` before reuse.
    Quarantined {
        /// Unix ms when it returns to the pool.
        until_ms: u64,
    },
    /// Ported out to another operator by `order`: the number is theirs now (routed by
    /// the national number-portability database), never assigned or quarantined again.
    PortedOut {
        /// The port-out order.
        order: String,
    },
    /// In service on a line of ours after a port-in (`order`), but held in another
    /// operator's range: never quarantined into our pools, given back to `range_holder`
    /// when the line ends.
    PortedIn {
        /// The port-in order (its line).
        order: String,
        /// The hub's reference of that port (a number return names it).
        port_ref: String,
        /// The operator that holds the number's range.
        range_holder: String,
    },
    /// Given back to its range holder by `order` (the line that had it ended): no longer
    /// ours, never assigned or quarantined again; a new port-in may bring it back.
    Returned {
        /// The order that ended the line.
        order: String,
        /// The operator it went back to.
        range_holder: String,
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
    /// A port-in named a number that is already ours (in a pool or on a line).
    NumberAlreadyOurs,
}

/// What `import_begin` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportStart {
    /// A new batch is recorded; write its chunks.
    Started,
    /// This file was imported before: nothing to do.
    AlreadyComplete(BatchRecord),
}

/// What a re-wrap pass (data-key rotation) did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RewrapReport {
    /// Values re-sealed in this pass.
    pub resealed: u64,
    /// Transactions committed.
    pub chunks: u64,
    /// False if the pass stopped early (`max_chunks`); run again to finish.
    pub complete: bool,
}

/// The names of the inventory counters every backend keeps, per tenant (and per pool or
/// batch): what `inventory_counts` and `inventory_breakdown` report.
pub mod counter {
    /// SIMs in stock.
    pub const SIMS_AVAILABLE: &str = "sims_available";
    /// SIMs reserved by in-flight orders.
    pub const SIMS_RESERVED: &str = "sims_reserved";
    /// SIMs in service.
    pub const SIMS_ACTIVE: &str = "sims_active";
    /// Free ordinary numbers.
    pub const NUMBERS_AVAILABLE: &str = "numbers_available";
    /// Free golden numbers.
    pub const NUMBERS_GOLDEN: &str = "numbers_golden";
    /// Numbers held by reservations.
    pub const NUMBERS_HELD: &str = "numbers_held";
    /// Numbers in quarantine.
    pub const NUMBERS_QUARANTINED: &str = "numbers_quarantined";
    /// SIMs (eSIM profiles) out of stock for good.
    pub const SIMS_RETIRED: &str = "sims_retired";
}

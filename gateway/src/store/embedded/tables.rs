//! Table definitions. Values are JSON-encoded records; keys are chosen so that every hot
//! lookup is a point read or the first entry of a range (no scans on the request path).

use ::redb::TableDefinition;

/// tenant id → `Tenant`.
pub const TENANTS: TableDefinition<&str, &[u8]> = TableDefinition::new("tenants");
/// SHA-256(api key) → `ApiKeyRecord`.
pub const API_KEYS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("api_keys");
/// ICCID → `SimRecord` (keys sealed).
pub const SIMS: TableDefinition<&str, &[u8]> = TableDefinition::new("sims");
/// IMSI → ICCID (uniqueness of IMSIs across the inventory).
pub const IMSIS: TableDefinition<&str, &str> = TableDefinition::new("imsis");
/// MSISDN → `NumberRecord`.
pub const NUMBERS: TableDefinition<&str, &[u8]> = TableDefinition::new("numbers");
/// (tenant, MSISDN) of every available number: allocation takes the first entry.
pub const FREE_NUMBERS: TableDefinition<(&str, &str), ()> = TableDefinition::new("free_numbers");
/// (tenant, MSISDN) of every available golden number (never allocated automatically; a
/// store clerk's number page lists them marked). Built once for older stores
/// (`free_tree::ensure_free_golden`).
pub const FREE_GOLDEN: TableDefinition<(&str, &str), ()> = TableDefinition::new("free_golden");
/// (tenant, depth, width, prefix) → how many free ordinary numbers of `width` digits start
/// with `prefix` (of `depth` digits, down to `numbers::tree_bottom(width)`): the count tree
/// a random allocation walks down (`numbers::pick_uniform`). Kept in step with
/// `free_numbers` by `pool.rs`.
pub const FREE_TREE: TableDefinition<(&str, u8, u8, &str), u64> = TableDefinition::new("free_tree");
/// order id → `Order`.
pub const ORDERS: TableDefinition<&str, &[u8]> = TableDefinition::new("orders");
/// order ids not yet terminal (resumed after a restart).
pub const INFLIGHT: TableDefinition<&str, ()> = TableDefinition::new("orders_inflight");
/// (tenant, Idempotency-Key) → `IdempotencyRecord`.
pub const IDEMPOTENCY: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("idempotency");
/// (created ms, tenant, key) for expiry without scanning.
pub const IDEMPOTENCY_BY_TIME: TableDefinition<(u64, &str, &str), ()> =
    TableDefinition::new("idempotency_by_time");
/// reservation id → `Reservation`.
pub const RESERVATIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("reservations");
/// (expires ms, reservation id) of unused reservations: the expiry sweep's work list.
pub const RESERVATION_EXPIRY: TableDefinition<(u64, &str), ()> =
    TableDefinition::new("reservation_expiry");
/// (tenant, Idempotency-Key) → `ReservationIdem` for retried reservation requests.
pub const RESERVATION_IDEM: TableDefinition<(&str, &str), &[u8]> =
    TableDefinition::new("reservation_idem");
/// (release ms, MSISDN) of quarantined numbers: the ageing sweep's work list.
pub const QUARANTINE: TableDefinition<(u64, &str), ()> = TableDefinition::new("quarantine");
/// batch id → `BatchRecord` (import state of a vendor file).
pub const BATCHES: TableDefinition<&str, &[u8]> = TableDefinition::new("batches");
/// (batch id, ICCID) → file line of every SIM a batch brought: rollback without scanning
/// SIMs, and in-file duplicate detection that names the first line without holding the file.
pub const BATCH_SIMS: TableDefinition<(&str, &str), u32> = TableDefinition::new("batch_sims");
/// sequence → `Event`.
pub const EVENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("events");
/// (tenant, counter name) → count, maintained on every inventory transition.
pub const COUNTERS: TableDefinition<(&str, &str), u64> = TableDefinition::new("counters");
/// (tenant, profile type, ICCID) of every eSIM profile in stock: an eSIM order takes the
/// first entry of its product's type.
pub const FREE_ESIM: TableDefinition<(&str, &str, &str), ()> = TableDefinition::new("free_esim");
/// order id → `EsimProgress`: what the SM-DP+ reported (download, install, errors). Kept
/// apart from the order so notifications never race the engine's writes to the order.
pub const ESIM_PROGRESS: TableDefinition<&str, &[u8]> = TableDefinition::new("esim_progress");
/// (expiry ms, order id) of released eSIM orders not downloaded yet: the expiry timer's list.
pub const ESIM_EXPIRY: TableDefinition<(u64, &str), ()> = TableDefinition::new("esim_expiry");
/// dedupe key (ICCID, point, status, timestamp) → `NotificationRecord`: every
/// HandleDownloadProgressInfo received, raw body included.
pub const NOTIFICATIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("notifications");
/// subscription id → `Subscription`.
pub const SUBSCRIPTIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("subscriptions");
/// MSISDN → subscription id of the line holding it (a terminated line keeps none).
pub const SUB_BY_MSISDN: TableDefinition<&str, &str> = TableDefinition::new("sub_by_msisdn");
/// ICCID → subscription id of the line on that card.
pub const SUB_BY_ICCID: TableDefinition<&str, &str> = TableDefinition::new("sub_by_iccid");
/// (tenant, subscription id): a tenant's lines in id order, for cursor paging.
pub const SUB_BY_TENANT: TableDefinition<(&str, &str), ()> = TableDefinition::new("sub_by_tenant");
/// (enterprise, ID hash, activation order id) of every line that counts against its ID:
/// allowed with a valid ID, not failed, not terminated (`compliance.rs`).
pub const LIVE_LINES: TableDefinition<(&str, &str, &str), ()> = TableDefinition::new("live_lines");
/// (`velocity_scope`, bucket) → activations counted in the bucket.
pub const VELOCITY: TableDefinition<(&str, u64), u32> = TableDefinition::new("velocity");
/// (tenant, member, store, id) → `RegistryRow`: the channel registry.
pub const REGISTRY: TableDefinition<(&str, &str, &str, &str), &[u8]> =
    TableDefinition::new("registry");
/// (enterprise, list, value, start ms) → `BlocklistRow`.
pub const BLOCKLIST: TableDefinition<(&str, &str, &str, u64), &[u8]> =
    TableDefinition::new("blocklist");
/// (tenant, key) → a store-terminal record (`terminal::records`): pairing codes, device
/// generations, clerk credentials, recent sales.
pub const TERMINAL: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("terminal");
/// seq → the chain hash (32 bytes) followed by the canonical audit record.
pub const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit");
/// (due ms, subscription id) of lines waiting for their second real-person verification:
/// the re-verification timer's work list (`reverify.rs`).
pub const REVERIFY_DUE: TableDefinition<(u64, &str), ()> = TableDefinition::new("reverify_due");
/// Small metadata values (schema version, sandbox state).
pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

/// Counter names (one list for both backends, in `store/records`).
pub use crate::store::counter;

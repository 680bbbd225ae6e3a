//! The backend-neutral dump that `simgw db copy` moves from one backend to another, and
//! the per-table checksums that prove the copy whole. A row is a record as the store
//! holds it (the same serde JSON in every backend) under a key that names it; indexes,
//! free lists and counters are not dumped: the target derives them from the records.
//!
//! A table's checksum does not depend on row order (each backend dumps in its own order):
//! it is the sum, modulo 2^256, of SHA-256 over each row's key and canonical JSON, next to
//! the row count.

use serde_json::Value;

/// The tables of a dump, in the order a copy loads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DumpTable {
    /// `Tenant` by id.
    Tenants,
    /// `ApiKeyRecord` by hex SHA-256 of the key.
    ApiKeys,
    /// `BatchRecord` by id.
    Batches,
    /// `SimRecord` by ICCID (keys sealed).
    Sims,
    /// The line of an imported file each SIM of a batch came from (a number) by batch and
    /// ICCID: batch exports and in-file duplicate reports read it.
    BatchSims,
    /// `NumberRecord` by MSISDN.
    Numbers,
    /// `Order` by id.
    Orders,
    /// `IdempotencyRecord` by tenant and key.
    Idempotency,
    /// `Reservation` by id.
    Reservations,
    /// A checkout hold's idempotency: `{"body_hash", "reservation"}` by tenant and key.
    ReservationKeys,
    /// `Subscription` by id.
    Subscriptions,
    /// `EsimProgress` by order id.
    EsimProgress,
    /// `NotificationRecord` by its dedupe key.
    Notifications,
    /// `PortInboxItem` (hub messages and cancels of port-in orders, applied or not) by
    /// its dedupe key. The parked and open port indexes are derived from the orders.
    PortInbox,
    /// `Event` (the internal log) by sequence number.
    AuditEvents,
    /// `PublicEvent` by tenant and tenant sequence number.
    PublicEvents,
    /// `WebhookEndpoint` by id (secrets sealed).
    WebhookEndpoints,
    /// `Delivery` by endpoint and event sequence number.
    WebhookDeliveries,
    /// `LiveLineRow`s, the lines counting against an ID (keys: `records::compliance_rows`).
    LiveLines,
    /// `VelocityRow`s, the velocity counters.
    Velocity,
    /// `RegistryRow`s, the channel registry.
    Registry,
    /// `BlocklistRow`s, blocklist entries with their history.
    Blocklist,
    /// `AuditRowDoc`s, the tamper-evident audit chain.
    Audit,
    /// Store-terminal records (`terminal::records`; bytes, as hex) by tenant and key.
    TerminalRecords,
    /// Metadata values (bytes, as hex) by name.
    Meta,
    /// Outbox settings (numbers) by name.
    Settings,
}

impl DumpTable {
    /// Every table, in load order.
    pub const ALL: [DumpTable; 26] = [
        Self::Tenants,
        Self::ApiKeys,
        Self::Batches,
        Self::Sims,
        Self::BatchSims,
        Self::Numbers,
        Self::Orders,
        Self::Idempotency,
        Self::Reservations,
        Self::ReservationKeys,
        Self::Subscriptions,
        Self::EsimProgress,
        Self::Notifications,
        Self::PortInbox,
        Self::AuditEvents,
        Self::PublicEvents,
        Self::WebhookEndpoints,
        Self::WebhookDeliveries,
        Self::LiveLines,
        Self::Velocity,
        Self::Registry,
        Self::Blocklist,
        Self::Audit,
        Self::TerminalRecords,
        Self::Meta,
        Self::Settings,
    ];

    /// The table's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tenants => "tenants",
            Self::ApiKeys => "api_keys",
            Self::Batches => "batches",
            Self::Sims => "sims",
            Self::BatchSims => "batch_sims",
            Self::Numbers => "numbers",
            Self::Orders => "orders",
            Self::Idempotency => "idempotency",
            Self::Reservations => "reservations",
            Self::ReservationKeys => "reservation_keys",
            Self::Subscriptions => "subscriptions",
            Self::EsimProgress => "esim_progress",
            Self::Notifications => "notifications",
            Self::PortInbox => "port_inbox",
            Self::AuditEvents => "events",
            Self::PublicEvents => "public_events",
            Self::WebhookEndpoints => "webhook_endpoints",
            Self::WebhookDeliveries => "webhook_deliveries",
            Self::LiveLines => "live_lines",
            Self::Velocity => "velocity",
            Self::Registry => "registry",
            Self::Blocklist => "blocklist",
            Self::Audit => "audit",
            Self::TerminalRecords => "terminal_records",
            Self::Meta => "meta",
            Self::Settings => "settings",
        }
    }
}

/// One record of a dump.
#[derive(Debug, Clone, PartialEq)]
pub struct DumpRow {
    /// What names the record in its table: its id, or the parts of a composite key
    /// joined with `/` (numbers in decimal), e.g. `sandbox/42` for a public event.
    pub key: String,
    /// The record as the store's JSON codec writes it.
    pub doc: Value,
}

/// A page of a dump: rows, and where the next page starts (`None`: the table is done).
/// The cursor is the backend's own; pass it back unchanged.
#[derive(Debug, Clone, Default)]
pub struct DumpPage {
    /// The rows.
    pub rows: Vec<DumpRow>,
    /// The next page's cursor.
    pub next: Option<String>,
}

/// Rows and order-independent checksum of one table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableSum {
    /// How many rows.
    pub rows: u64,
    /// Sum modulo 2^256 of each row's SHA-256 (little-endian limbs).
    sum: [u64; 4],
}

impl TableSum {
    /// Adds a row.
    pub fn add(&mut self, row: &DumpRow) {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        ctx.update(row.key.as_bytes());
        ctx.update(&[0]);
        let mut json = String::new();
        canonical(&row.doc, &mut json);
        ctx.update(json.as_bytes());
        let digest = ctx.finish();
        let mut carry = false;
        for (i, limb) in self.sum.iter_mut().enumerate() {
            let mut b = [0u8; 8];
            b.copy_from_slice(&digest.as_ref()[i * 8..i * 8 + 8]);
            let (s1, c1) = limb.overflowing_add(u64::from_le_bytes(b));
            let (s2, c2) = s1.overflowing_add(u64::from(carry));
            *limb = s2;
            carry = c1 || c2;
        }
        self.rows += 1;
    }

    /// The checksum as 64 hex digits.
    pub fn hex(&self) -> String {
        self.sum.iter().rev().map(|l| format!("{l:016x}")).collect()
    }
}

/// JSON with object keys sorted at every level and no spaces: the same text for the same
/// value whichever backend (or JSON library setting) produced it.
pub fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(key: &str, doc: Value) -> DumpRow {
        DumpRow {
            key: key.into(),
            doc,
        }
    }

    #[test]
    fn the_sum_ignores_row_order_and_key_order_but_not_content() {
        let (a, b) = (
            row("a", json!({"x": 1, "y": [1, 2]})),
            row("b", json!({"z": "s"})),
        );
        let mut one = TableSum::default();
        one.add(&a);
        one.add(&b);
        let mut other = TableSum::default();
        other.add(&b);
        other.add(&row("a", json!({"y": [1, 2], "x": 1})));
        assert_eq!(one, other);
        assert_eq!(one.rows, 2);
        let mut changed = TableSum::default();
        changed.add(&b);
        changed.add(&row("a", json!({"x": 2, "y": [1, 2]})));
        assert_ne!(one.hex(), changed.hex());
        let mut rekeyed = TableSum::default();
        rekeyed.add(&b);
        rekeyed.add(&row("c", json!({"x": 1, "y": [1, 2]})));
        assert_ne!(one.hex(), rekeyed.hex());
        let mut array_order = TableSum::default();
        array_order.add(&b);
        array_order.add(&row("a", json!({"x": 1, "y": [2, 1]})));
        assert_ne!(one.hex(), array_order.hex());
    }

    #[test]
    fn carries_propagate_across_limbs() {
        let r = row("k", json!(null));
        let mut zero = TableSum::default();
        zero.add(&r);
        let d = zero.sum;
        assert!(
            d[0] > 0 && d[2] < u64::MAX,
            "this row's digest suits the test"
        );
        let mut s = TableSum {
            rows: 0,
            sum: [u64::MAX, u64::MAX, 0, 0],
        };
        s.add(&r);
        // MAX + d0 carries; MAX + d1 + 1 carries; 0 + d2 + 1 does not.
        assert_eq!(s.sum, [d[0] - 1, d[1], d[2] + 1, d[3]]);
    }

    #[test]
    fn canonical_json_sorts_nested_keys() {
        let mut out = String::new();
        canonical(
            &json!({"b": {"d": 1, "c": [true, null]}, "a": "x\"y"}),
            &mut out,
        );
        assert_eq!(out, r#"{"a":"x\"y","b":{"c":[true,null],"d":1}}"#);
    }
}

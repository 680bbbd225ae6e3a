//! The compliance rows as both backends store and dump them (issue 15): the registry and
//! blocklist records (their enums as stable strings), and the dump form of the live-line
//! index, the velocity counters and the audit chain. `simgw db copy` moves these between
//! backends, so the key and the document of each row are defined here, once.
//!
//! Dump tables and keys (`/`-joined parts, numbers in decimal):
//! - `live_lines`: `enterprise/id_hash/order_id` → [`LiveLineRow`];
//! - `velocity`: `scope/bucket` → [`VelocityRow`] (`scope` from `velocity_scope`);
//! - `registry`: `tenant/member/store/id` → [`RegistryRow`];
//! - `blocklist`: `enterprise/list/value/start_ms` → [`BlocklistRow`];
//! - `audit`: `seq` → [`AuditRowDoc`].

use super::compliance::{AuditRow, BlocklistEntry, RegistryEntry};
use crate::compliance::blocklist::{ListKind, Span};
use crate::compliance::channel::{Member, Registration};
use crate::compliance::policy::StoreHours;
use serde::{Deserialize, Serialize};

/// Why a stored compliance row does not decode (a name no build knows).
fn unknown(what: &str, v: &str) -> String {
    format!("unknown {what} {v:?}")
}

/// A member kind by its stable name (`Member::as_str`).
pub fn parse_member(s: &str) -> Option<Member> {
    [
        Member::Store,
        Member::Clerk,
        Member::Terminal,
        Member::Reader,
    ]
    .into_iter()
    .find(|m| m.as_str() == s)
}

/// A stored registration's stable name (`NotRegistered` is never stored).
pub fn registration_str(r: Registration) -> &'static str {
    match r {
        Registration::NotRegistered => "not_registered",
        Registration::Enabled => "enabled",
        Registration::Disabled => "disabled",
        Registration::Frozen => "frozen",
    }
}

/// A stored registration by its stable name.
pub fn parse_registration(s: &str) -> Option<Registration> {
    [
        Registration::Enabled,
        Registration::Disabled,
        Registration::Frozen,
        Registration::NotRegistered,
    ]
    .into_iter()
    .find(|r| registration_str(*r) == s)
}

/// A store's opening hours as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoursRow {
    /// See `StoreHours::open_min`.
    pub open_min: u16,
    /// See `StoreHours::close_min`.
    pub close_min: u16,
    /// See `StoreHours::utc_offset_min`.
    pub utc_offset_min: i16,
}

impl From<HoursRow> for StoreHours {
    fn from(h: HoursRow) -> Self {
        StoreHours {
            open_min: h.open_min,
            close_min: h.close_min,
            utc_offset_min: h.utc_offset_min,
        }
    }
}

/// What an activation's decision reads of a stored [`RegistryRow`]: its status and a
/// store's hours. Decoding only these skips the row's other members instead of copying
/// them (the decision reads up to four rows per order, twice).
#[derive(Deserialize)]
pub struct RegistryState<'a> {
    #[serde(borrow)]
    status: std::borrow::Cow<'a, str>,
    #[serde(default)]
    hours: Option<HoursRow>,
}

impl RegistryState<'_> {
    /// The registration and the hours (`Err`: a status no build knows).
    pub fn get(&self) -> Result<(Registration, Option<StoreHours>), String> {
        let status =
            parse_registration(&self.status).ok_or_else(|| unknown("status", &self.status))?;
        Ok((status, self.hours.map(StoreHours::from)))
    }
}

/// A registry entry as stored and dumped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryRow {
    /// The tenant.
    pub tenant: String,
    /// `Member::as_str`.
    pub member: String,
    /// The store it belongs to.
    pub store: String,
    /// Its id.
    pub id: String,
    /// `enabled`, `disabled` or `frozen`.
    pub status: String,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// A store's opening hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<HoursRow>,
    /// Unix ms of the last change.
    pub updated_at_ms: u64,
}

impl RegistryRow {
    /// The row of `entry` under `tenant`.
    pub fn new(tenant: &str, entry: &RegistryEntry) -> Self {
        Self {
            tenant: tenant.to_owned(),
            member: entry.member.as_str().to_owned(),
            store: entry.store.clone(),
            id: entry.id.clone(),
            status: registration_str(entry.status).to_owned(),
            label: entry.label.clone(),
            hours: entry.hours.map(|h| HoursRow {
                open_min: h.open_min,
                close_min: h.close_min,
                utc_offset_min: h.utc_offset_min,
            }),
            updated_at_ms: entry.updated_at_ms,
        }
    }

    /// The entry it holds.
    pub fn entry(&self) -> Result<RegistryEntry, String> {
        Ok(RegistryEntry {
            member: parse_member(&self.member).ok_or_else(|| unknown("member", &self.member))?,
            store: self.store.clone(),
            id: self.id.clone(),
            status: parse_registration(&self.status)
                .ok_or_else(|| unknown("status", &self.status))?,
            label: self.label.clone(),
            hours: self.hours.map(StoreHours::from),
            updated_at_ms: self.updated_at_ms,
        })
    }

    /// The dump key.
    pub fn dump_key(&self) -> String {
        format!("{}/{}/{}/{}", self.tenant, self.member, self.store, self.id)
    }
}

/// A blocklist entry as stored and dumped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlocklistRow {
    /// The enterprise.
    pub enterprise: String,
    /// `ListKind::as_str`.
    pub list: String,
    /// The subject.
    pub value: String,
    /// First instant in force (Unix ms).
    pub start_ms: u64,
    /// First instant no longer in force, if it ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_ms: Option<u64>,
    /// The operator's reason.
    pub reason: String,
    /// Unix ms it was added.
    pub created_at_ms: u64,
}

impl BlocklistRow {
    /// The row of `entry` under `enterprise`.
    pub fn new(enterprise: &str, entry: &BlocklistEntry) -> Self {
        Self {
            enterprise: enterprise.to_owned(),
            list: entry.list.as_str().to_owned(),
            value: entry.value.clone(),
            start_ms: entry.span.start_ms,
            end_ms: entry.span.end_ms,
            reason: entry.reason.clone(),
            created_at_ms: entry.created_at_ms,
        }
    }

    /// When it is in force.
    pub fn span(&self) -> Span {
        Span {
            start_ms: self.start_ms,
            end_ms: self.end_ms,
        }
    }

    /// The entry it holds.
    pub fn entry(&self) -> Result<BlocklistEntry, String> {
        Ok(BlocklistEntry {
            list: ListKind::parse(&self.list).ok_or_else(|| unknown("list", &self.list))?,
            value: self.value.clone(),
            span: self.span(),
            reason: self.reason.clone(),
            created_at_ms: self.created_at_ms,
        })
    }

    /// The dump key.
    pub fn dump_key(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.enterprise, self.list, self.value, self.start_ms
        )
    }
}

/// A live-line index row as dumped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveLineRow {
    /// The enterprise.
    pub enterprise: String,
    /// The keyed ID hash.
    pub id_hash: String,
    /// The activation order.
    pub order_id: String,
}

impl LiveLineRow {
    /// The dump key.
    pub fn dump_key(&self) -> String {
        format!("{}/{}/{}", self.enterprise, self.id_hash, self.order_id)
    }
}

/// A velocity counter as dumped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VelocityRow {
    /// `velocity_scope` of its key.
    pub scope: String,
    /// The bucket number.
    pub bucket: u64,
    /// Activations counted in it.
    pub count: u32,
}

impl VelocityRow {
    /// The dump key.
    pub fn dump_key(&self) -> String {
        format!("{}/{}", self.scope, self.bucket)
    }
}

/// An audit row as dumped: the canonical record and its chain hash, in hex.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRowDoc {
    /// Position in the chain.
    pub seq: u64,
    /// The canonical record bytes, hex.
    pub bytes: String,
    /// The chain hash, hex.
    pub hash: String,
}

impl AuditRowDoc {
    /// The dump form of a row.
    pub fn new(row: &AuditRow) -> Self {
        Self {
            seq: row.seq,
            bytes: crate::crypto::hex(&row.bytes),
            hash: crate::crypto::hex(&row.hash),
        }
    }

    /// The row it holds.
    pub fn row(&self) -> Result<AuditRow, String> {
        let bad = || format!("audit row {} is not hex", self.seq);
        let mut hash = [0u8; 32];
        if self.hash.len() != 64 {
            return Err(bad());
        }
        sim_profiles::secret::decode_hex_into(&self.hash, &mut hash).map_err(|_| bad())?;
        if self.bytes.len() % 2 != 0 {
            return Err(bad());
        }
        let mut bytes = vec![0u8; self.bytes.len() / 2];
        sim_profiles::secret::decode_hex_into(&self.bytes, &mut bytes).map_err(|_| bad())?;
        Ok(AuditRow {
            seq: self.seq,
            bytes,
            hash,
        })
    }

    /// The dump key.
    pub fn dump_key(&self) -> String {
        self.seq.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_their_entries() {
        let e = RegistryEntry {
            member: Member::Reader,
            store: "SZ-0042".into(),
            id: "R-1".into(),
            status: Registration::Frozen,
            label: Some("counter 2".into()),
            hours: Some(StoreHours {
                open_min: 480,
                close_min: 1320,
                utc_offset_min: 480,
            }),
            updated_at_ms: 7,
        };
        let row = RegistryRow::new("t1", &e);
        let bytes = serde_json::to_vec(&row).expect("encode");
        let state: RegistryState<'_> = serde_json::from_slice(&bytes).expect("decode");
        assert_eq!(state.get(), Ok((e.status, e.hours)));
        assert_eq!(row.entry(), Ok(e));
        assert_eq!(row.dump_key(), "t1/reader/SZ-0042/R-1");
        let escaped = br#"{"status":"en\u0061bled","id":"x"}"#;
        let state: RegistryState<'_> = serde_json::from_slice(escaped).expect("decode");
        assert_eq!(state.get(), Ok((Registration::Enabled, None)));
        let odd: RegistryState<'_> =
            serde_json::from_slice(br#"{"status":"gone"}"#).expect("decode");
        assert!(odd.get().is_err());
        let b = BlocklistEntry {
            list: ListKind::IdHash,
            value: "pk-1:ab".into(),
            span: Span {
                start_ms: 5,
                end_ms: Some(9),
            },
            reason: "fraud".into(),
            created_at_ms: 4,
        };
        let row = BlocklistRow::new("e1", &b);
        assert_eq!(row.entry(), Ok(b));
        assert_eq!(row.dump_key(), "e1/id/pk-1:ab/5");
        let mut bad = row.clone();
        bad.list = "nope".into();
        assert!(bad.entry().is_err());
        let a = AuditRow {
            seq: 3,
            bytes: vec![1, 2, 0xff],
            hash: [7; 32],
        };
        assert_eq!(AuditRowDoc::new(&a).row(), Ok(a));
        for r in [
            Registration::Enabled,
            Registration::Disabled,
            Registration::Frozen,
        ] {
            assert_eq!(parse_registration(registration_str(r)), Some(r));
        }
        assert_eq!(parse_member("clerk"), Some(Member::Clerk));
        assert_eq!(parse_member("x"), None);
    }
}

//! The one codec both backends share: records are the serde JSON of `store/records/`,
//! held here in `doc JSONB` columns. A record goes to and from the column's bytes
//! directly ([`Doc`], [`DocRef`]), never through a `serde_json::Value` tree, whose
//! building and dropping cost more than the encoding itself. Also the integer conversions
//! at the SQL boundary (Unix ms and counts are `u64` in Rust, `BIGINT` in SQL).

use crate::store::{StoreError, Tenant};
use bytes::{BufMut, BytesMut};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::error::Error;
use std::sync::Arc;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, accepts, to_sql_checked};

/// The binary `JSONB` format's version byte: the JSON text follows it.
const JSONB_VERSION: u8 = 1;

/// A record as a `doc` column value: its JSON text, sent as `JSONB` (or `JSON`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc(Vec<u8>);

impl ToSql for Doc {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        if *ty == Type::JSONB {
            out.put_u8(JSONB_VERSION);
        }
        out.put_slice(&self.0);
        Ok(IsNull::No)
    }

    accepts!(JSON, JSONB);
    to_sql_checked!();
}

impl Doc {
    /// The JSON array of `docs`, in order (a log's batch row: `deferred.rs`).
    pub fn array<'a>(docs: impl IntoIterator<Item = &'a Doc>) -> Doc {
        let mut out = vec![b'['];
        for (i, d) in docs.into_iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(&d.0);
        }
        out.push(b']');
        Doc(out)
    }
}

/// A `doc` column value as read: its JSON text, borrowed from the row.
#[derive(Debug, Clone, Copy)]
pub struct DocRef<'a>(&'a [u8]);

impl<'a> FromSql<'a> for DocRef<'a> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn Error + Sync + Send>> {
        if *ty != Type::JSONB {
            return Ok(Self(raw));
        }
        match raw.split_first() {
            Some((&JSONB_VERSION, text)) => Ok(Self(text)),
            _ => Err("unsupported JSONB encoding version".into()),
        }
    }

    accepts!(JSON, JSONB);
}

/// A record as its `doc` column value.
pub fn to_doc<T: Serialize>(v: &T) -> Result<Doc, StoreError> {
    serde_json::to_vec(v).map(Doc).map_err(encoding)
}

/// A record as a JSON value (a dump being written).
pub fn to_value<T: Serialize>(v: &T) -> Result<Value, StoreError> {
    serde_json::to_value(v).map_err(encoding)
}

fn encoding(e: serde_json::Error) -> StoreError {
    StoreError::Backend(format!("encoding a record: {e}"))
}

/// A `doc` column value as its record; a mismatch is `Corrupt` naming the table.
pub fn from_doc<T: DeserializeOwned>(table: &'static str, v: DocRef<'_>) -> Result<T, StoreError> {
    serde_json::from_slice(v.0).map_err(|e| corrupt(table, &e))
}

/// A tenant's stored document, decoded once per stored value (see
/// [`tenant_from_bytes`](crate::store::tenant_from_bytes)).
pub fn tenant_from_doc(id: &str, v: DocRef<'_>) -> Result<Arc<Tenant>, StoreError> {
    crate::store::tenant_from_bytes(id, v.0, |b| {
        serde_json::from_slice(b).map_err(|e| corrupt("tenants", &e))
    })
}

/// A record from a JSON value already parsed (a dump being loaded); a mismatch is
/// `Corrupt` naming the table.
pub fn from_value<T: DeserializeOwned>(table: &'static str, v: Value) -> Result<T, StoreError> {
    serde_json::from_value(v).map_err(|e| corrupt(table, &e))
}

fn corrupt(table: &'static str, e: &serde_json::Error) -> StoreError {
    StoreError::Corrupt {
        table,
        message: e.to_string(),
    }
}

/// A `u64` (ms, count, sequence number) as `BIGINT`, saturating.
pub fn big(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A `BIGINT` as `u64` (a negative value, which we never write, reads as 0).
pub fn unbig(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_saturate_instead_of_wrapping() {
        assert_eq!(big(u64::MAX), i64::MAX);
        assert_eq!(big(42), 42);
        assert_eq!(unbig(-1), 0);
        assert_eq!(unbig(7), 7);
    }

    #[test]
    fn a_doc_is_its_json_text_after_the_jsonb_version_byte() {
        let doc = to_doc(&serde_json::json!({"id": "t1", "n": 2})).expect("encodes");
        let mut sent = BytesMut::new();
        doc.to_sql(&Type::JSONB, &mut sent).expect("jsonb");
        assert_eq!(&sent[..], b"\x01{\"id\":\"t1\",\"n\":2}");
        let read = DocRef::from_sql(&Type::JSONB, &sent).expect("reads");
        let back: Value = from_doc("t", read).expect("decodes");
        assert_eq!(back, serde_json::json!({"id": "t1", "n": 2}));
        let mut as_json = BytesMut::new();
        doc.to_sql(&Type::JSON, &mut as_json).expect("json");
        assert_eq!(&as_json[..], b"{\"id\":\"t1\",\"n\":2}");
        assert!(
            DocRef::from_sql(&Type::JSONB, b"\x02{}").is_err(),
            "another version"
        );
        assert!(
            DocRef::from_sql(&Type::JSONB, b"").is_err(),
            "no version byte"
        );
    }

    #[test]
    fn a_bad_doc_is_corrupt_and_names_its_table() {
        let e = from_doc::<crate::store::Tenant>("tenants", DocRef(br#"{"id": 1}"#))
            .expect_err("not a tenant");
        assert!(matches!(
            e,
            StoreError::Corrupt {
                table: "tenants",
                ..
            }
        ));
    }
}

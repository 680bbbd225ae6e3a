//! The one codec both backends share: records are the serde JSON of `store/records/`,
//! held here in `doc JSONB` columns. Also the integer conversions at the SQL boundary
//! (Unix ms and counts are `u64` in Rust, `BIGINT` in SQL).

use crate::store::StoreError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A record as its `doc` column value.
pub fn to_doc<T: Serialize>(v: &T) -> Result<Value, StoreError> {
    serde_json::to_value(v).map_err(|e| StoreError::Backend(format!("encoding a record: {e}")))
}

/// A `doc` column value as its record; a mismatch is `Corrupt` naming the table.
pub fn from_doc<T: DeserializeOwned>(table: &'static str, v: Value) -> Result<T, StoreError> {
    serde_json::from_value(v).map_err(|e| StoreError::Corrupt {
        table,
        message: e.to_string(),
    })
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
    fn a_bad_doc_is_corrupt_and_names_its_table() {
        let e = from_doc::<crate::store::Tenant>("tenants", serde_json::json!({"id": 1}))
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

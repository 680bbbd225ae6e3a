//! Decoded tenants remembered by their stored bytes. Every order reads its tenant twice
//! (the API, then the create commit), and a tenant with a compliance override is the
//! largest record an order reads: decoding it was about a tenth of the extra CPU a
//! China-policy sale costs. Decoding is a function of the bytes alone, so an entry is
//! reused only while the stored bytes are the same; any change to the tenant is a
//! different value and is decoded afresh. Both backends share it (a tenant's row is the
//! same JSON in redb and in PostgreSQL's `doc`).

use super::Tenant;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

/// How many tenants are remembered; past it the memo starts again (tenants are written
/// by operators only, so this bounds memory, not an attack).
const REMEMBERED: usize = 4096;

type Entry = (Box<[u8]>, Arc<Tenant>);

static MEMO: LazyLock<Mutex<HashMap<String, Entry>>> = LazyLock::new(Default::default);

/// The tenant `id` whose stored value is `bytes`: the one decoded before from these same
/// bytes, else `decode(bytes)` (remembered when it succeeds).
pub fn tenant_from_bytes<E>(
    id: &str,
    bytes: &[u8],
    decode: impl FnOnce(&[u8]) -> Result<Tenant, E>,
) -> Result<Arc<Tenant>, E> {
    let memo = || MEMO.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((b, t)) = memo().get(id) {
        if **b == *bytes {
            return Ok(Arc::clone(t));
        }
    }
    let tenant = Arc::new(decode(bytes)?);
    let mut m = memo();
    if m.len() >= REMEMBERED && !m.contains_key(id) {
        m.clear();
    }
    m.insert(id.to_owned(), (bytes.into(), Arc::clone(&tenant)));
    Ok(tenant)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn bytes(name: &str) -> Vec<u8> {
        let plmn = "00101".parse().expect("plmn");
        let t = Tenant::new("memo-test", name, plmn, BTreeMap::new());
        serde_json::to_vec(&t).expect("encode")
    }

    fn decode(b: &[u8]) -> Result<Tenant, serde_json::Error> {
        serde_json::from_slice(b)
    }

    #[test]
    fn the_same_bytes_decode_once_and_changed_bytes_again() {
        let (one, two) = (bytes("One"), bytes("Two"));
        let first = tenant_from_bytes("memo-test", &one, decode).expect("decode");
        assert_eq!(first.name, "One");
        let again = tenant_from_bytes("memo-test", &one, |_| -> Result<Tenant, ()> {
            panic!("decoded the same bytes twice")
        })
        .expect("remembered");
        assert!(Arc::ptr_eq(&first, &again));
        let changed = tenant_from_bytes("memo-test", &two, decode).expect("decode");
        assert_eq!(changed.name, "Two");
        let back = tenant_from_bytes("memo-test", &one, decode).expect("decode");
        assert_eq!(
            back.name, "One",
            "a change back is decoded, not the stale entry"
        );
    }

    #[test]
    fn a_failed_decode_is_not_remembered() {
        let bad = b"{not json";
        assert!(tenant_from_bytes("memo-test-bad", bad, decode).is_err());
        assert!(tenant_from_bytes("memo-test-bad", bad, decode).is_err());
    }
}

//! The API keys this node resolved, kept for a while (`PgStore::api_key`): every request
//! authenticates, and on a shared database each lookup was a round trip of its own. A
//! key's record does not change once issued (`simgw apikey create` makes a new random
//! key; the sandbox puts its fixed keys again with the same record), so a kept answer
//! stays right; [`TTL`] bounds how long another node's put of a key this node holds (a
//! new tenant or role) goes unseen here, and this node's own puts drop the entry at once
//! (a lookup that read the row before such a put commits may keep the older record, for
//! [`TTL`] at most, as for another node's put).
//! Only keys that resolved are kept, so no unauthenticated caller can grow it, and it holds
//! at most [`CAPACITY`]. Pure: the caller passes the time.

use crate::store::ApiKeyRecord;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a resolved key is answered from memory.
pub const TTL: Duration = Duration::from_secs(30);

/// Most keys kept.
pub const CAPACITY: usize = 4096;

/// Resolved keys by the SHA-256 of the key (never the key itself).
#[derive(Default)]
pub struct KeyCache {
    keys: Mutex<HashMap<[u8; 32], (ApiKeyRecord, Instant)>>,
}

impl KeyCache {
    /// The record of `hash` if it resolved less than [`TTL`] before `now`.
    pub fn get(&self, hash: &[u8; 32], now: Instant) -> Option<ApiKeyRecord> {
        self.lock()
            .get(hash)
            .filter(|(_, at)| now.saturating_duration_since(*at) < TTL)
            .map(|(record, _)| record.clone())
    }

    /// Keeps what `hash` resolved to at `now`; when full, drops the expired entries, and
    /// everything if none has expired.
    pub fn put(&self, hash: [u8; 32], record: ApiKeyRecord, now: Instant) {
        let mut keys = self.lock();
        if keys.len() >= CAPACITY && !keys.contains_key(&hash) {
            keys.retain(|_, (_, at)| now.saturating_duration_since(*at) < TTL);
            if keys.len() >= CAPACITY {
                keys.clear();
            }
        }
        keys.insert(hash, (record, now));
    }

    /// Drops `hash` (this node put it again).
    pub fn forget(&self, hash: &[u8; 32]) {
        self.lock().remove(hash);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<[u8; 32], (ApiKeyRecord, Instant)>> {
        self.keys.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Role;

    fn record(tenant: &str) -> ApiKeyRecord {
        ApiKeyRecord {
            tenant: tenant.into(),
            prefix: "sk_test_ab12".into(),
            label: String::new(),
            created_at_ms: 1,
            role: Role::Channel,
        }
    }

    #[test]
    fn a_resolved_key_is_answered_until_its_time_is_up() {
        let (cache, t0) = (KeyCache::default(), Instant::now());
        assert_eq!(cache.get(&[1; 32], t0), None);
        cache.put([1; 32], record("acme"), t0);
        assert_eq!(cache.get(&[1; 32], t0 + TTL / 2), Some(record("acme")));
        assert_eq!(cache.get(&[2; 32], t0), None, "another key");
        assert_eq!(cache.get(&[1; 32], t0 + TTL), None, "expired");
        cache.put([1; 32], record("globex"), t0 + TTL);
        assert_eq!(cache.get(&[1; 32], t0 + TTL), Some(record("globex")));
        cache.forget(&[1; 32]);
        assert_eq!(cache.get(&[1; 32], t0 + TTL), None, "forgotten");
    }

    #[test]
    fn it_never_holds_more_than_its_capacity() {
        let (cache, t0) = (KeyCache::default(), Instant::now());
        let hash = |i: usize| {
            let mut h = [0u8; 32];
            h[..8].copy_from_slice(&(i as u64).to_be_bytes());
            h
        };
        for i in 0..CAPACITY {
            cache.put(hash(i), record("acme"), t0);
        }
        assert_eq!(cache.lock().len(), CAPACITY);
        cache.put(hash(0), record("acme"), t0);
        assert_eq!(
            cache.lock().len(),
            CAPACITY,
            "a key held again takes no room"
        );
        cache.put(hash(CAPACITY), record("acme"), t0 + TTL / 2);
        assert_eq!(cache.lock().len(), 1, "none expired: all dropped");
        assert!(cache.get(&hash(CAPACITY), t0 + TTL / 2).is_some());
        for i in 0..CAPACITY - 1 {
            cache.put(hash(i), record("acme"), t0 + TTL);
        }
        // Full again; at t0 + TTL * 3/2 only the first one put has expired.
        cache.put(hash(CAPACITY + 1), record("acme"), t0 + TTL + TTL / 2);
        assert_eq!(cache.lock().len(), CAPACITY, "the expired one made room");
        assert!(
            cache.get(&hash(CAPACITY), t0 + TTL).is_none(),
            "it was the one dropped"
        );
    }
}

//! Same-node queueing of activation creates that write the same hot rows. Every create a
//! store channel sends updates that store's velocity buckets (store per day, clerk and
//! device per hour), and every create for one ID its live-line and ID counters. Under
//! SERIALIZABLE, PostgreSQL does not queue two transactions on such a row: the second
//! fails to serialize once the first commits, and 16 concurrent sales at one store burned
//! through the retry budget (about 7 % gave up). So a node lets one create per hot key
//! into the database at a time and queues the others in memory, where waiting costs
//! nothing; across nodes, the retry loop still settles the (rarer) conflicts.
//!
//! Keys hash onto a fixed set of stripes (two keys may share one: they then also queue,
//! which is safe). A create takes its stripes in ascending order, so two creates that
//! need the same two stripes cannot deadlock. No PostgreSQL feature is involved (no
//! advisory lock), so CockroachDB behaves the same.

use crate::compliance::ChannelRef;
use crate::store::NewActivation;
use std::hash::{Hash, Hasher};
use tokio::sync::{Mutex, MutexGuard};

/// How many stripes: enough that distinct stores rarely share one at a node's
/// concurrency, few enough to be a small fixed array.
const STRIPES: usize = 256;

/// The stripes of one node.
pub struct CreateGate {
    stripes: Box<[Mutex<()>]>,
}

impl Default for CreateGate {
    fn default() -> Self {
        Self {
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }
}

impl CreateGate {
    /// Waits for the stripes of `new`'s hot keys (none for an order without compliance
    /// checks, or online without a valid subscriber) and holds them until the guards drop.
    pub async fn enter(&self, new: &NewActivation) -> Vec<MutexGuard<'_, ()>> {
        let mut guards = Vec::new();
        for i in stripes(&hot_keys(new)) {
            guards.push(self.stripes[i].lock().await);
        }
        guards
    }
}

/// The rows a create of `new` is certain to update that other creates also update: its
/// store's velocity buckets and its ID's counters.
fn hot_keys(new: &NewActivation) -> Vec<String> {
    let Some(check) = &new.compliance else {
        return Vec::new();
    };
    let mut keys = Vec::new();
    if let ChannelRef::Store(s) = &check.channel {
        keys.push(format!("store\u{1f}{}\u{1f}{}", new.tenant, s.store));
    }
    if let Some(h) = check.id_hash() {
        keys.push(format!("id\u{1f}{}\u{1f}{h}", check.enterprise));
    }
    keys
}

/// The stripe indices of `keys`, ascending and without repeats.
fn stripes(keys: &[String]) -> Vec<usize> {
    let mut out: Vec<usize> = keys.iter().map(|k| stripe(k)).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// A key's stripe (SipHash with fixed keys: the same on every run).
fn stripe(key: &str) -> usize {
    let mut h = std::hash::DefaultHasher::new();
    key.hash(&mut h);
    usize::try_from(h.finish() % STRIPES as u64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripes_are_sorted_unique_and_stable() {
        let a = "store\u{1f}t\u{1f}SZ-0042".to_owned();
        let b = "id\u{1f}e\u{1f}k1:ab".to_owned();
        let s = stripes(&[a.clone(), b.clone(), a.clone()]);
        assert!(s.windows(2).all(|w| w[0] < w[1]), "{s:?}");
        assert!(s.len() <= 2 && s.iter().all(|i| *i < STRIPES));
        assert_eq!(stripe(&a), stripe(&a.clone()));
        assert!(stripes(&[]).is_empty());
    }
}

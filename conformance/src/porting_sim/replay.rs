//! Idempotency by `request_id`, as the protocol asks of a hub: the first answer (a
//! receipt or a refusal) is kept with a fingerprint of the request, a repeat of the same
//! request gets it back, and the same id with another request is `request_id_reused`.
//! Request ids are the caller's: they are kept per provider (by certificate). Bounded:
//! the oldest entries go first.

use adapters::porting::Ref;
use std::collections::{HashMap, VecDeque};

/// SHA-256 of the operation and the request's canonical encoding.
pub(crate) type Fingerprint = [u8; 32];

/// An answer as sent: status and body (a receipt, or a problem body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

/// A request id of one provider (`None`: no operators configured).
pub(crate) type Key = (Option<Ref>, Ref);

/// What a request id has seen before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seen {
    /// Never (or forgotten).
    New,
    /// The same request: its first answer.
    Replay(Answer),
    /// Another request under the same id.
    Reused,
}

/// One kept answer: its request's fingerprint, and its place in arrival order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Kept {
    /// Arrival order (never reused, so it keys the state file's record).
    pub(crate) seq: u64,
    /// Whose request id.
    pub(crate) key: Key,
    /// The first request's fingerprint.
    pub(crate) fingerprint: Fingerprint,
    /// The first answer.
    pub(crate) answer: Answer,
}

/// An answer kept under its id, and its `seq` then.
type KeptAt = (Key, u64);

/// What changed in a tracked cache since the last [`ReplayCache::take_changes`].
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ReplayChanges {
    /// Answers kept since (still kept now).
    pub(crate) kept: Vec<Kept>,
    /// The `seq` of every answer forgotten since.
    pub(crate) dropped: Vec<u64>,
}

/// The answers kept, oldest first.
#[derive(Debug)]
pub(crate) struct ReplayCache {
    entries: HashMap<Key, Kept>,
    order: VecDeque<Key>,
    capacity: usize,
    next: u64,
    /// Since the last take, when something keeps the cache: the answers kept (by id and
    /// `seq`, so one forgotten since is skipped) and the `seq`s dropped.
    changes: Option<(Vec<KeptAt>, Vec<u64>)>,
}

impl ReplayCache {
    /// A cache keeping at most `capacity` answers.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            order: VecDeque::new(),
            capacity,
            next: 0,
            changes: None,
        }
    }

    /// A cache holding `kept` (any order; the oldest go beyond `capacity`) that records
    /// its changes for [`ReplayCache::take_changes`].
    pub(crate) fn restore(capacity: usize, mut kept: Vec<Kept>) -> Self {
        kept.sort_by_key(|k| k.seq);
        let mut cache = Self::new(capacity);
        cache.changes = Some(Default::default());
        cache.next = kept.last().map_or(0, |k| k.seq + 1);
        for k in kept {
            cache.order.push_back(k.key.clone());
            cache.entries.insert(k.key.clone(), k);
        }
        cache.shrink_to(capacity);
        cache
    }

    /// Looks `id` up.
    pub(crate) fn seen(&self, id: &Key, fingerprint: &Fingerprint) -> Seen {
        match self.entries.get(id) {
            None => Seen::New,
            Some(k) if k.fingerprint == *fingerprint => Seen::Replay(k.answer.clone()),
            Some(_) => Seen::Reused,
        }
    }

    /// Keeps the first answer for `id`.
    pub(crate) fn keep(&mut self, id: Key, fingerprint: Fingerprint, answer: Answer) {
        if self.capacity == 0 || self.entries.contains_key(&id) {
            return;
        }
        self.shrink_to(self.capacity - 1);
        let seq = self.next;
        self.next += 1;
        if let Some((kept, _)) = &mut self.changes {
            kept.push((id.clone(), seq));
        }
        self.order.push_back(id.clone());
        let kept = Kept {
            seq,
            key: id.clone(),
            fingerprint,
            answer,
        };
        self.entries.insert(id, kept);
    }

    /// Forgets every answer (arrival numbers go on).
    pub(crate) fn clear(&mut self) {
        self.shrink_to(0);
    }

    /// What changed since the last call (nothing when untracked). Costs what changed, not
    /// what is kept (it runs on every answer).
    pub(crate) fn take_changes(&mut self) -> ReplayChanges {
        let Some((kept, dropped)) = self.changes.as_mut().map(std::mem::take) else {
            return ReplayChanges::default();
        };
        ReplayChanges {
            kept: kept
                .iter()
                .filter_map(|(key, seq)| self.entries.get(key).filter(|k| k.seq == *seq))
                .cloned()
                .collect(),
            dropped,
        }
    }

    /// Forgets the oldest answers until at most `len` are kept.
    fn shrink_to(&mut self, len: usize) {
        while self.order.len() > len {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some(k) = self.entries.remove(&old) {
                if let Some((_, dropped)) = &mut self.changes {
                    dropped.push(k.seq);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_answer_wins_and_the_oldest_is_forgotten() {
        let id = |s: &str| (None, Ref::parse(s, "t").expect("ref"));
        let a = |status| Answer {
            status,
            body: Vec::new(),
        };
        let mut c = ReplayCache::new(2);
        assert_eq!(c.seen(&id("a"), &[1; 32]), Seen::New);
        c.keep(id("a"), [1; 32], a(202));
        c.keep(id("a"), [1; 32], a(409));
        assert_eq!(c.seen(&id("a"), &[1; 32]), Seen::Replay(a(202)));
        assert_eq!(c.seen(&id("a"), &[2; 32]), Seen::Reused);
        c.keep(id("b"), [2; 32], a(202));
        c.keep(id("c"), [3; 32], a(202));
        assert_eq!(c.seen(&id("a"), &[1; 32]), Seen::New);
        assert_eq!(c.seen(&id("c"), &[3; 32]), Seen::Replay(a(202)));
    }

    #[test]
    fn a_tracked_cache_reports_what_it_kept_and_forgot_and_restores_from_it() {
        let id = |s: &str| (None, Ref::parse(s, "t").expect("ref"));
        let a = |status| Answer {
            status,
            body: b"{}".to_vec(),
        };
        let mut c = ReplayCache::restore(2, Vec::new());
        c.keep(id("a"), [1; 32], a(202));
        c.keep(id("b"), [2; 32], a(409));
        let first = c.take_changes();
        assert_eq!(first.kept.iter().map(|k| k.seq).collect::<Vec<_>>(), [0, 1]);
        assert!(first.dropped.is_empty());
        // "c" pushes "a" out.
        c.keep(id("c"), [3; 32], a(202));
        assert_eq!(
            c.take_changes(),
            ReplayChanges {
                kept: vec![Kept {
                    seq: 2,
                    key: id("c"),
                    fingerprint: [3; 32],
                    answer: a(202)
                }],
                dropped: vec![0],
            }
        );
        // Reopened on what was kept (one record more than it may hold): the oldest goes.
        let mut back =
            ReplayCache::restore(1, vec![first.kept[1].clone(), c.entries[&id("c")].clone()]);
        assert_eq!(back.seen(&id("c"), &[3; 32]), Seen::Replay(a(202)));
        assert_eq!(back.seen(&id("b"), &[2; 32]), Seen::New);
        assert_eq!(back.take_changes().dropped, [1]);
        back.keep(id("e"), [5; 32], a(202));
        assert_eq!(back.take_changes().kept[0].seq, 3, "arrival numbers go on");
        back.clear();
        assert_eq!(back.take_changes().dropped, [3]);
        assert_eq!(ReplayCache::new(1).take_changes(), ReplayChanges::default());
    }

    #[test]
    fn an_answer_kept_and_forgotten_between_two_takes_is_only_dropped() {
        let id = |s: &str| (None, Ref::parse(s, "t").expect("ref"));
        let mut c = ReplayCache::restore(1, Vec::new());
        for (i, s) in ["a", "b", "a"].into_iter().enumerate() {
            let status = 200 + i as u16;
            c.keep(
                id(s),
                [i as u8; 32],
                Answer {
                    status,
                    body: Vec::new(),
                },
            );
        }
        let changes = c.take_changes();
        // "a" (0) went for "b" (1), which went for "a" again (2).
        assert_eq!(changes.kept.iter().map(|k| k.seq).collect::<Vec<_>>(), [2]);
        assert_eq!(changes.dropped, [0, 1]);
    }
}

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

/// The answers kept, oldest first.
#[derive(Debug)]
pub(crate) struct ReplayCache {
    entries: HashMap<Key, (Fingerprint, Answer)>,
    order: VecDeque<Key>,
    capacity: usize,
}

impl ReplayCache {
    /// A cache keeping at most `capacity` answers.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    /// Looks `id` up.
    pub(crate) fn seen(&self, id: &Key, fingerprint: &Fingerprint) -> Seen {
        match self.entries.get(id) {
            None => Seen::New,
            Some((f, a)) if f == fingerprint => Seen::Replay(a.clone()),
            Some(_) => Seen::Reused,
        }
    }

    /// Keeps the first answer for `id`.
    pub(crate) fn keep(&mut self, id: Key, fingerprint: Fingerprint, answer: Answer) {
        if self.capacity == 0 || self.entries.contains_key(&id) {
            return;
        }
        while self.order.len() >= self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.entries.remove(&old);
            }
        }
        self.order.push_back(id.clone());
        self.entries.insert(id, (fingerprint, answer));
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
}

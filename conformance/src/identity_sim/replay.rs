//! Idempotency by request id: the first decision for a request id is kept with a
//! fingerprint of the request, a repeat with the same request gets it back, and a repeat
//! with a different request is a conflict. Bounded: the oldest entries go first.

use adapters::identity::{Token, VerificationResponse};
use std::collections::{HashMap, VecDeque};

/// SHA-256 of the canonical request body.
pub(crate) type Fingerprint = [u8; 32];

/// What a request id has seen before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seen {
    /// Never (or forgotten).
    New,
    /// The same request: here is the first answer.
    Replay(VerificationResponse),
    /// Another request under the same id.
    Conflict,
}

/// The decisions kept, oldest first.
#[derive(Debug)]
pub(crate) struct ReplayCache {
    entries: HashMap<Token, (Fingerprint, VerificationResponse)>,
    order: VecDeque<Token>,
    capacity: usize,
}

impl ReplayCache {
    /// A cache keeping at most `capacity` decisions (0 keeps none).
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    /// Looks `id` up.
    pub(crate) fn seen(&self, id: &Token, fingerprint: &Fingerprint) -> Seen {
        match self.entries.get(id) {
            None => Seen::New,
            Some((f, resp)) if f == fingerprint => Seen::Replay(resp.clone()),
            Some(_) => Seen::Conflict,
        }
    }

    /// Keeps the first decision for `id` and returns the one kept: `resp`, or the
    /// decision a concurrent twin stored first (a later one for a known id is ignored).
    pub(crate) fn keep(
        &mut self,
        id: Token,
        fingerprint: Fingerprint,
        resp: VerificationResponse,
    ) -> VerificationResponse {
        if let Some((_, first)) = self.entries.get(&id) {
            return first.clone();
        }
        if self.capacity == 0 {
            return resp;
        }
        while self.order.len() >= self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.entries.remove(&old);
            }
        }
        self.order.push_back(id.clone());
        self.entries.insert(id, (fingerprint, resp.clone()));
        resp
    }

    /// How many decisions are kept.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use adapters::identity::{RejectCode, Verdict};

    fn tok(s: &str) -> Token {
        Token::parse(s, "t").expect("token")
    }

    fn resp(id: &str, verdict: Verdict) -> VerificationResponse {
        VerificationResponse {
            request_id: tok(id),
            verdict,
            verification_id: None,
        }
    }

    #[test]
    fn first_decision_wins_and_capacity_evicts_oldest() {
        let mut c = ReplayCache::new(2);
        assert_eq!(c.seen(&tok("a"), &[1; 32]), Seen::New);
        assert_eq!(
            c.keep(tok("a"), [1; 32], resp("a", Verdict::Pass)),
            resp("a", Verdict::Pass)
        );
        let late = resp("a", Verdict::Reject(RejectCode::IdExpired));
        assert_eq!(c.keep(tok("a"), [1; 32], late), resp("a", Verdict::Pass));
        assert_eq!(
            c.seen(&tok("a"), &[1; 32]),
            Seen::Replay(resp("a", Verdict::Pass))
        );
        assert_eq!(c.seen(&tok("a"), &[2; 32]), Seen::Conflict);
        c.keep(tok("b"), [2; 32], resp("b", Verdict::Pass));
        c.keep(tok("c"), [3; 32], resp("c", Verdict::Pass));
        assert_eq!(c.len(), 2);
        assert_eq!(c.seen(&tok("a"), &[1; 32]), Seen::New);
        assert!(matches!(c.seen(&tok("c"), &[3; 32]), Seen::Replay(_)));
        let mut none = ReplayCache::new(0);
        none.keep(tok("a"), [1; 32], resp("a", Verdict::Pass));
        assert_eq!(none.seen(&tok("a"), &[1; 32]), Seen::New);
    }
}

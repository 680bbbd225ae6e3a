//! CAI3G sessions: random ids from Login, an idle lifetime on tokio's clock (so tests can
//! pause and advance time), Logout, and an "expire everything" switch for re-login tests.

use ring::rand::{SecureRandom, SystemRandom};
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::Instant;

/// A new session's identifiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewSession {
    /// The `sessionId` to send back.
    pub(crate) session_id: String,
    /// The `baseSequenceId` to send back.
    pub(crate) base_sequence_id: u64,
}

/// Live sessions by id, with their last use.
#[derive(Debug)]
pub(crate) struct Sessions {
    lifetime: Duration,
    last_used: HashMap<String, Instant>,
    rng: SystemRandom,
}

impl Sessions {
    /// No sessions; each lives `lifetime` after its last use.
    pub(crate) fn new(lifetime: Duration) -> Self {
        Self {
            lifetime,
            last_used: HashMap::new(),
            rng: SystemRandom::new(),
        }
    }

    /// Opens a session; `None` only if the system RNG fails.
    pub(crate) fn open(&mut self, now: Instant) -> Option<NewSession> {
        let mut bytes = [0u8; 24];
        self.rng.fill(&mut bytes).ok()?;
        let (id, seq) = bytes.split_at(16);
        let session_id: String = id.iter().map(|b| format!("{b:02x}")).collect();
        let mut seq_bytes = [0u8; 8];
        seq_bytes.copy_from_slice(seq);
        // A plausible, readable base: 1_000_000 ..= 9_999_000 in steps of 1000.
        let base_sequence_id = (u64::from_be_bytes(seq_bytes) % 9000 + 1000) * 1000;
        self.prune(now);
        self.last_used.insert(session_id.clone(), now);
        Some(NewSession {
            session_id,
            base_sequence_id,
        })
    }

    /// True if `id` is live at `now`; a live session's idle timer restarts.
    pub(crate) fn touch(&mut self, id: &str, now: Instant) -> bool {
        let lifetime = self.lifetime;
        match self.last_used.get_mut(id) {
            Some(last) if now.saturating_duration_since(*last) < lifetime => {
                *last = now;
                true
            }
            Some(_) => {
                self.last_used.remove(id);
                false
            }
            None => false,
        }
    }

    /// Ends a session; true if it was live.
    pub(crate) fn close(&mut self, id: &str, now: Instant) -> bool {
        let live = self.touch(id, now);
        self.last_used.remove(id);
        live
    }

    /// Ends every session; returns how many there were.
    pub(crate) fn expire_all(&mut self) -> usize {
        let n = self.last_used.len();
        self.last_used.clear();
        n
    }

    /// Live sessions at `now`.
    pub(crate) fn live(&self, now: Instant) -> usize {
        self.last_used
            .values()
            .filter(|t| now.saturating_duration_since(**t) < self.lifetime)
            .count()
    }

    fn prune(&mut self, now: Instant) {
        let lifetime = self.lifetime;
        self.last_used
            .retain(|_, t| now.saturating_duration_since(*t) < lifetime);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetime_is_idle_time() {
        let mut s = Sessions::new(Duration::from_secs(600));
        let t0 = Instant::now();
        let a = s.open(t0).expect("rng");
        assert_eq!(a.session_id.len(), 32);
        assert!(s.touch(&a.session_id, t0 + Duration::from_secs(599)));
        // Refreshed at 599 s, so still live at 1198 s.
        assert!(s.touch(&a.session_id, t0 + Duration::from_secs(1198)));
        assert!(!s.touch(&a.session_id, t0 + Duration::from_secs(1798)));
        assert!(!s.touch(&a.session_id, t0 + Duration::from_secs(1799)));
        assert!(!s.touch("nope", t0));
    }

    #[test]
    fn ids_differ_and_close_and_expire_work() {
        let mut s = Sessions::new(Duration::from_secs(600));
        let t0 = Instant::now();
        let a = s.open(t0).expect("rng");
        let b = s.open(t0).expect("rng");
        assert_ne!(a.session_id, b.session_id);
        assert!((1_000_000..10_000_000).contains(&a.base_sequence_id));
        assert!(s.close(&a.session_id, t0));
        assert!(!s.close(&a.session_id, t0));
        assert_eq!(s.live(t0), 1);
        assert_eq!(s.expire_all(), 1);
        assert!(!s.touch(&b.session_id, t0));
    }
}

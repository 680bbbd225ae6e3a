//! What the store keeps for the terminal, and the pure rules over it: one-time pairing
//! codes, each terminal's pairing generation, each clerk's PIN hash and failure count,
//! and each terminal's recent sales. Records are stored as JSON under
//! `(tenant, key)` by `ComplianceChange::TerminalSwap` (compare-and-swap, audited), so
//! every rule here is a function of the record read and the time given.

use serde::{Deserialize, Serialize};

/// How long a pairing code may be redeemed.
pub const PAIRING_TTL_MS: u64 = 10 * 60 * 1000;
/// Wrong PINs in a row that lock a clerk out.
pub const LOCK_AFTER: u8 = 5;
/// How long a lock-out lasts.
pub const LOCK_MS: u64 = 15 * 60 * 1000;
/// How far back "recent sales" reaches.
pub const RECENT_MS: u64 = 24 * 60 * 60 * 1000;
/// At most this many recent sales are kept per terminal.
pub const RECENT_MAX: usize = 200;
/// Letters of a pairing code: Crockford's base32 (no I, L, O, U: nothing to misread).
const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters of a pairing code (40 bits).
pub const CODE_LEN: usize = 8;

/// Key of a pairing code's record: its keyed MAC, never the code.
pub fn pairing_key(code_mac: &str) -> String {
    format!("pairing/{code_mac}")
}

/// Key of a terminal's device record.
pub fn device_key(store: &str, terminal: &str) -> String {
    format!("device/{store}/{terminal}")
}

/// Key of a clerk's credential record.
pub fn clerk_key(store: &str, clerk: &str) -> String {
    format!("clerk/{store}/{clerk}")
}

/// Key of a terminal's recent sales.
pub fn sales_key(store: &str, terminal: &str) -> String {
    format!("sales/{store}/{terminal}")
}

/// Key of a terminal's recent holds (only the terminal that took a hold releases it).
pub fn holds_key(store: &str, terminal: &str) -> String {
    format!("holds/{store}/{terminal}")
}

/// A pairing code for display: 8 characters from 5 random bytes, as `XXXX-XXXX`.
pub fn format_code(random: [u8; 5]) -> String {
    let mut acc = 0u64;
    for b in random {
        acc = (acc << 8) | u64::from(b);
    }
    let chars: String = (0..CODE_LEN)
        .rev()
        .map(|i| char::from(CODE_ALPHABET[((acc >> (5 * i)) & 31) as usize]))
        .collect();
    format!("{}-{}", &chars[..4], &chars[4..])
}

/// A typed pairing code in its canonical form (upper case, no dash or spaces; `O` read as
/// `0`, `I`/`L` as `1`, as Crockford's base32 allows), or `None` if it cannot be one.
pub fn normalize_code(input: &str) -> Option<String> {
    let mut out = String::with_capacity(CODE_LEN);
    for c in input.chars() {
        let c = match c.to_ascii_uppercase() {
            '-' | ' ' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !c.is_ascii() || !CODE_ALPHABET.contains(&(c as u8)) || out.len() == CODE_LEN {
            return None;
        }
        out.push(c);
    }
    (out.len() == CODE_LEN).then_some(out)
}

/// A pairing code not yet redeemed (stored in no tenant: the page redeems it before it
/// knows its tenant).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pairing {
    /// The tenant.
    pub tenant: String,
    /// The store.
    pub store: String,
    /// The terminal.
    pub terminal: String,
    /// Unix ms after which it is refused.
    pub expires_at_ms: u64,
}

/// A terminal's device record: sessions carry the generation they were issued under, and
/// are refused once it moves on (a new pairing, or the operator's revoke).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// Bumped by every pairing and every revoke.
    pub generation: u64,
    /// False after a revoke until the next pairing.
    pub paired: bool,
    /// Unix ms of the last change.
    pub updated_at_ms: u64,
}

impl Device {
    /// The record after a pairing is redeemed.
    pub fn paired(current: Option<&Device>, now_ms: u64) -> Device {
        Device {
            generation: current.map_or(0, |d| d.generation) + 1,
            paired: true,
            updated_at_ms: now_ms,
        }
    }

    /// The record after the operator revokes the terminal's sessions.
    pub fn revoked(current: Option<&Device>, now_ms: u64) -> Device {
        Device {
            generation: current.map_or(0, |d| d.generation) + 1,
            paired: false,
            updated_at_ms: now_ms,
        }
    }

    /// Whether a session issued under `generation` still holds.
    pub fn admits(&self, generation: u64) -> bool {
        self.paired && self.generation == generation
    }
}

/// A clerk's sign-in credential.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClerkCredential {
    /// `pin::hash` of the PIN.
    pub pin_hash: String,
    /// Wrong PINs in a row since the last success or lock-out.
    pub failures: u8,
    /// Unix ms until which sign-in is refused (0: not locked).
    pub locked_until_ms: u64,
    /// Bumped by every PIN change: clerk sessions carry it, so a new PIN signs the clerk
    /// out everywhere.
    pub generation: u64,
    /// A supervisor may also do after-sales on the terminal (suspend a lost phone's line,
    /// swap its SIM); a sales clerk only sells and looks lines up.
    #[serde(default)]
    pub supervisor: bool,
}

/// What a sign-in attempt comes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignIn {
    /// The PIN is right.
    Ok,
    /// The PIN is wrong; this many tries are left before a lock-out.
    Wrong {
        /// Tries left.
        left: u8,
    },
    /// Locked out until then (by this attempt or an earlier one).
    Locked {
        /// Unix ms.
        until_ms: u64,
    },
}

impl ClerkCredential {
    /// A new PIN (`hash`) replacing `current`: failures and lock cleared.
    pub fn with_pin(current: Option<&ClerkCredential>, hash: String) -> ClerkCredential {
        ClerkCredential {
            pin_hash: hash,
            failures: 0,
            locked_until_ms: 0,
            generation: current.map_or(0, |c| c.generation) + 1,
            supervisor: current.is_some_and(|c| c.supervisor),
        }
    }

    /// Whether sign-in is refused at `now_ms` without looking at the PIN.
    pub fn locked_at(&self, now_ms: u64) -> Option<u64> {
        (now_ms < self.locked_until_ms).then_some(self.locked_until_ms)
    }

    /// The outcome of an attempt at `now_ms` whose PIN was `pin_ok`, and the record after
    /// it. A locked clerk stays locked whatever the PIN (the caller need not hash it).
    pub fn attempt(&self, now_ms: u64, pin_ok: bool) -> (SignIn, ClerkCredential) {
        let mut next = self.clone();
        if let Some(until_ms) = self.locked_at(now_ms) {
            return (SignIn::Locked { until_ms }, next);
        }
        if pin_ok {
            next.failures = 0;
            next.locked_until_ms = 0;
            return (SignIn::Ok, next);
        }
        next.failures = self.failures.saturating_add(1);
        if next.failures >= LOCK_AFTER {
            next.failures = 0;
            next.locked_until_ms = now_ms.saturating_add(LOCK_MS);
            return (
                SignIn::Locked {
                    until_ms: next.locked_until_ms,
                },
                next,
            );
        }
        (
            SignIn::Wrong {
                left: LOCK_AFTER - next.failures,
            },
            next,
        )
    }
}

/// A terminal's recent sales (order ids) or holds (reservation ids), newest last: what it
/// lists, and what it may release.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recent {
    /// `(id, unix ms it was taken)`.
    pub orders: Vec<(String, u64)>,
}

impl Recent {
    /// The list with `order` added (once) and anything older than [`RECENT_MS`] or beyond
    /// [`RECENT_MAX`] dropped.
    pub fn with(&self, order: &str, now_ms: u64) -> Recent {
        let cutoff = now_ms.saturating_sub(RECENT_MS);
        let mut orders: Vec<(String, u64)> = self
            .orders
            .iter()
            .filter(|(id, at)| *at >= cutoff && id != order)
            .cloned()
            .collect();
        orders.push((order.to_owned(), now_ms));
        let excess = orders.len().saturating_sub(RECENT_MAX);
        orders.drain(..excess);
        Recent { orders }
    }

    /// Whether `id` is listed.
    pub fn contains(&self, id: &str) -> bool {
        self.orders.iter().any(|(o, _)| o == id)
    }

    /// The ids taken since `now_ms - RECENT_MS`, newest first.
    pub fn newest_first(&self, now_ms: u64) -> Vec<&str> {
        let cutoff = now_ms.saturating_sub(RECENT_MS);
        self.orders
            .iter()
            .rev()
            .filter(|(_, at)| *at >= cutoff)
            .map(|(id, _)| id.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn codes_read_back_however_typed() {
        let code = format_code([0xff, 0, 0x12, 0x34, 0x56]);
        assert_eq!(code.len(), 9);
        let plain = code.replace('-', "");
        assert_eq!(normalize_code(&code).as_deref(), Some(plain.as_str()));
        assert_eq!(
            normalize_code(&format!(" {} ", code.to_lowercase())).as_deref(),
            Some(plain.as_str())
        );
        assert_eq!(normalize_code("ABCD-EFG"), None);
        assert_eq!(normalize_code("ABCD-EFGHJ"), None);
        assert_eq!(normalize_code("ABCD-EFGU"), None);
        assert_eq!(normalize_code("ABCD-ÉFGH"), None);
        assert_eq!(normalize_code("oIl0-0000").as_deref(), Some("01100000"));
    }

    #[test]
    fn five_wrong_pins_lock_for_fifteen_minutes_and_the_right_one_then_waits() {
        let mut c = ClerkCredential::with_pin(None, "h".into());
        for left in (1..LOCK_AFTER).rev() {
            let (r, next) = c.attempt(1_000, false);
            assert_eq!(r, SignIn::Wrong { left });
            c = next;
        }
        let (r, c) = c.attempt(2_000, false);
        assert_eq!(
            r,
            SignIn::Locked {
                until_ms: 2_000 + LOCK_MS
            }
        );
        assert_eq!(c.attempt(2_000 + LOCK_MS - 1, true).0, r);
        let (r, c) = c.attempt(2_000 + LOCK_MS, true);
        assert_eq!(r, SignIn::Ok);
        assert_eq!(c.failures, 0);
    }

    #[test]
    fn a_success_clears_the_count() {
        let c = ClerkCredential::with_pin(None, "h".into());
        let (_, c) = c.attempt(0, false);
        let (_, c) = c.attempt(0, false);
        let (r, c) = c.attempt(0, true);
        assert_eq!(r, SignIn::Ok);
        assert_eq!(c.attempt(0, false).0, SignIn::Wrong { left: 4 });
    }

    #[test]
    fn pairing_and_revoke_move_the_generation_on() {
        let d = Device::paired(None, 1);
        assert!(d.admits(1));
        let again = Device::paired(Some(&d), 2);
        assert!(!again.admits(1) && again.admits(2));
        let revoked = Device::revoked(Some(&again), 3);
        assert!(!revoked.admits(2) && !revoked.admits(3));
    }

    #[test]
    fn recent_sales_keep_a_day_newest_first() {
        let s = Recent::default()
            .with("a", 0)
            .with("b", 1_000)
            .with("a", 2_000);
        assert_eq!(s.newest_first(2_000), ["a", "b"]);
        assert_eq!(s.newest_first(1_000 + RECENT_MS + 1), ["a"]);
    }

    proptest! {
        #[test]
        fn every_code_normalizes_to_itself(bytes in any::<[u8; 5]>()) {
            let code = format_code(bytes);
            let n = normalize_code(&code).expect("a formatted code");
            prop_assert_eq!(n, code.replace('-', ""));
        }

        /// Whatever the attempts, a clerk is never let in while locked, never locked
        /// before five failures in a row, and always locked right after the fifth.
        #[test]
        fn lockout_holds(attempts in proptest::collection::vec((0u64..40 * 60_000, any::<bool>()), 0..40)) {
            let mut c = ClerkCredential::with_pin(None, "h".into());
            let (mut now, mut run) = (0u64, 0u8);
            for (step, ok) in attempts {
                now += step;
                let locked = c.locked_at(now).is_some();
                let (r, next) = c.attempt(now, ok);
                match r {
                    SignIn::Ok => { prop_assert!(!locked && ok); run = 0; }
                    SignIn::Wrong { left } => {
                        prop_assert!(!locked && !ok);
                        run += 1;
                        prop_assert_eq!(left, LOCK_AFTER - run);
                    }
                    SignIn::Locked { until_ms } => {
                        prop_assert!(locked || (!ok && run + 1 == LOCK_AFTER));
                        prop_assert!(until_ms > now);
                        if !locked { run = 0; }
                    }
                }
                c = next;
            }
        }

        #[test]
        fn recent_sales_stay_bounded(ids in proptest::collection::vec(0u16..400, 0..500)) {
            let mut s = Recent::default();
            for (i, id) in ids.iter().enumerate() {
                s = s.with(&id.to_string(), i as u64);
            }
            prop_assert!(s.orders.len() <= RECENT_MAX);
            let listed = s.newest_first(ids.len() as u64);
            let mut seen = std::collections::BTreeSet::new();
            prop_assert!(listed.iter().all(|id| seen.insert(*id)));
        }
    }
}

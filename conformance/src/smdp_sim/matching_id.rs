//! MatchingIDs the simulator generates when the operator sends none (reference §7.2):
//! 20 symbols from the Crockford-style alphabet (digits and upper-case letters without
//! I, L, O, U) in four dash-separated groups of five, drawn from the seeded PRNG.

use crate::common::rng::SplitMix64;
use adapters::es2plus::MatchingId;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// One generated MatchingID, e.g. `K7QF3-M3XH8-PZ2R9-DW4TA`.
pub(crate) fn generate(rng: &mut SplitMix64) -> MatchingId {
    let mut s = String::with_capacity(23);
    for i in 0..20 {
        if i > 0 && i % 5 == 0 {
            s.push('-');
        }
        let idx = usize::try_from(rng.up_to(31)).unwrap_or(0);
        s.push(char::from(ALPHABET.get(idx).copied().unwrap_or(b'0')));
    }
    // Every character is in the MatchingID alphabet, so this cannot fail.
    MatchingId::new(&s).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_determinism() {
        let mut a = SplitMix64::new(9);
        let mut b = SplitMix64::new(9);
        let x = generate(&mut a);
        assert_eq!(x, generate(&mut b));
        let s = x.as_str();
        assert_eq!(s.len(), 23);
        let groups: Vec<&str> = s.split('-').collect();
        assert_eq!(groups.len(), 4);
        assert!(groups.iter().all(|g| g.len() == 5));
        assert!(
            s.bytes()
                .all(|c| c == b'-' || (ALPHABET.contains(&c) && !b"ILOU".contains(&c)))
        );
        assert_ne!(x, generate(&mut a));
    }
}

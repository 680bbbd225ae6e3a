//! Confirmation Code hashing (reference §7.3): the SM-DP+ keeps H1 = SHA-256(CC) and
//! checks the LPA's `hashCc` = SHA-256(H1 ‖ TransactionID). The CC is hashed as ASCII.

use ring::digest::{Context, SHA256, digest};

/// A SHA-256 output.
pub type Hash32 = [u8; 32];

fn to_array(d: ring::digest::Digest) -> Hash32 {
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// H1 = SHA-256 of the code's ASCII bytes: what ConfirmOrder stores.
pub fn h1(code: &str) -> Hash32 {
    to_array(digest(&SHA256, code.as_bytes()))
}

/// `hashCc` = SHA-256(H1 ‖ TransactionID), as the LPA computes it from a typed code.
pub fn hash_cc(h1: &Hash32, transaction_id: &[u8]) -> Hash32 {
    let mut ctx = Context::new(&SHA256);
    ctx.update(h1);
    ctx.update(transaction_id);
    to_array(ctx.finish())
}

/// The SM-DP+'s check: recomputes `hashCc` from the stored H1 and compares in constant time.
pub fn verify(stored_h1: &Hash32, transaction_id: &[u8], presented: &[u8]) -> bool {
    let expected = hash_cc(stored_h1, transaction_id);
    presented.len() == expected.len()
        && expected
            .iter()
            .zip(presented)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn known_answer_from_the_reference() {
        let tx: Vec<u8> = (0u8..16).collect();
        let h = h1("482916");
        assert_eq!(
            hex(&h),
            "1a0774b36ea2885f90e416c8e53be40bfd731bb21118c0b43de829e267a3cabb"
        );
        let cc = hash_cc(&h, &tx);
        assert_eq!(
            hex(&cc),
            "a55b7a712a79cead667addef2ade5ea6c37c8644be85936e9ef390966c093d69"
        );
        assert!(verify(&h, &tx, &cc));
        assert!(!verify(&h1("482917"), &tx, &cc));
        assert!(!verify(&h, &tx[1..], &cc));
        assert!(!verify(&h, &tx, &cc[1..]));
    }
}

//! Clerk PINs, stored only as Argon2id hashes: `argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`
//! (salt and hash in unpadded base64). The parameters are OWASP's minimum for Argon2id and
//! are read back from each stored hash, so raising them later keeps old PINs working.
//! Hashing costs tens of milliseconds and 19 MiB: callers run it off the async threads
//! and only for a paired device (`api::terminal`), never for an anonymous caller.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;

/// Memory in KiB, passes and lanes of new hashes.
const PARAMS: (u32, u32, u32) = (19 * 1024, 2, 1);
const OUT_LEN: usize = 32;

/// Why a PIN cannot be set.
pub const PIN_RULE: &str = "a PIN is 4 to 12 digits";

/// Whether `pin` may be set as a clerk's PIN.
pub fn acceptable(pin: &str) -> bool {
    (4..=12).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}

fn derive(pin: &str, salt: &[u8], (m, t, p): (u32, u32, u32)) -> Option<[u8; OUT_LEN]> {
    let params = argon2::Params::new(m, t, p, Some(OUT_LEN)).ok()?;
    let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = [0u8; OUT_LEN];
    a.hash_password_into(pin.as_bytes(), salt, &mut out).ok()?;
    Some(out)
}

/// The stored form of `pin` under a fresh 16-byte `salt`; `None` only if Argon2 refuses
/// the parameters (it does not for these).
pub fn hash(pin: &str, salt: [u8; 16]) -> Option<String> {
    let out = derive(pin, &salt, PARAMS)?;
    let (m, t, p) = PARAMS;
    Some(format!(
        "argon2id$v=19$m={m},t={t},p={p}${}${}",
        B64.encode(salt),
        B64.encode(out)
    ))
}

/// Parses `m=…,t=…,p=…`, refusing parameters a tampered record could use to make every
/// check take minutes (memory above 256 MiB, more than 16 passes or lanes).
fn params(s: &str) -> Option<(u32, u32, u32)> {
    let mut it = s.split(',');
    let mut get = |k: &str| it.next()?.strip_prefix(k)?.parse::<u32>().ok();
    let (m, t, p) = (get("m=")?, get("t=")?, get("p=")?);
    (m <= 256 * 1024 && (1..=16).contains(&t) && (1..=16).contains(&p)).then_some((m, t, p))
}

/// Whether `pin` is the PIN `stored` was made from (compared in constant time). A
/// malformed stored value matches nothing.
pub fn verify(pin: &str, stored: &str) -> bool {
    let mut parts = stored.split('$');
    let (Some("argon2id"), Some("v=19"), Some(p), Some(salt), Some(want), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let (Some(p), Ok(salt), Ok(want)) = (params(p), B64.decode(salt), B64.decode(want)) else {
        return false;
    };
    match derive(pin, &salt, p) {
        Some(got) => super::cookie::same(&got, &want),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_right_pin_verifies_and_others_do_not() {
        let h = hash("123456", [7; 16]).expect("hash");
        assert!(h.starts_with("argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!h.contains("123456"));
        assert!(verify("123456", &h));
        assert!(!verify("123457", &h));
        assert!(!verify("", &h));
        // Another salt, another hash.
        assert_ne!(hash("123456", [8; 16]), Some(h));
    }

    #[test]
    fn malformed_or_costly_records_match_nothing() {
        for bad in [
            "",
            "argon2id",
            "argon2i$v=19$m=19456,t=2,p=1$AAAA$AAAA",
            "argon2id$v=19$m=999999999,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAA",
            "argon2id$v=19$m=19456,t=2,p=1$!!$AAAA",
            "argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAA$",
        ] {
            assert!(!verify("1234", bad), "{bad}");
        }
    }

    #[test]
    fn pins_are_four_to_twelve_digits() {
        assert!(acceptable("1234") && acceptable("123456789012"));
        assert!(!acceptable("123") && !acceptable("1234567890123") && !acceptable("12a4"));
    }
}

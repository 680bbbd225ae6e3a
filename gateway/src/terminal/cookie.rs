//! The terminal's session cookies: claims in JSON, base64url, then a keyed MAC
//! (`Keyring::fingerprint` under a purpose label), so a session needs no row per device
//! and any node of a cluster can check it. What can end a session early (a new pairing,
//! a revoke, a new PIN, a disabled registry entry) is a generation or status in the
//! store that the claims must still match on every call.

use crate::crypto::Keyring;
use axum::http::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The device session cookie.
pub const DEVICE_COOKIE: &str = "__Host-simgw-device";
/// The clerk session cookie.
pub const CLERK_COOKIE: &str = "__Host-simgw-clerk";
/// Lifetime of a device session.
pub const DEVICE_TTL_MS: u64 = 30 * 24 * 60 * 60 * 1000;
/// Lifetime of a clerk session (a shift).
pub const CLERK_TTL_MS: u64 = 12 * 60 * 60 * 1000;

/// What a device session cookie says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceClaims {
    /// The tenant.
    pub tenant: String,
    /// The store.
    pub store: String,
    /// The terminal.
    pub terminal: String,
    /// The terminal's pairing generation it was issued under.
    pub generation: u64,
    /// Random, per pairing: clerk sessions and the CSRF token are bound to it.
    pub nonce: String,
    /// Unix ms issued.
    pub issued_ms: u64,
    /// Unix ms after which it is refused.
    pub expires_ms: u64,
}

impl DeviceClaims {
    /// Whether it is past half its life (then each answer renews it).
    pub fn due_for_renewal(&self, now_ms: u64) -> bool {
        now_ms.saturating_sub(self.issued_ms) > self.expires_ms.saturating_sub(self.issued_ms) / 2
    }
}

/// What a clerk session cookie says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClerkClaims {
    /// The device session's nonce it was opened on.
    pub device_nonce: String,
    /// The clerk.
    pub clerk: String,
    /// The clerk's credential generation (a new PIN ends it).
    pub generation: u64,
    /// Unix ms after which it is refused.
    pub expires_ms: u64,
}

fn mac(keys: &Keyring, purpose: &str, body: &str) -> String {
    let mut m = Vec::with_capacity(purpose.len() + 1 + body.len());
    m.extend_from_slice(purpose.as_bytes());
    m.push(0);
    m.extend_from_slice(body.as_bytes());
    // `hmac-sha256:<key id>:<hex>`: only the hex goes into the cookie.
    let f = keys.fingerprint(&m);
    f.rsplit(':').next().unwrap_or_default().to_owned()
}

/// Equality in time independent of where `a` and `b` differ.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The cookie value of `claims` under `purpose`.
pub fn seal<T: Serialize>(keys: &Keyring, purpose: &str, claims: &T) -> String {
    let body = B64URL.encode(serde_json::to_vec(claims).unwrap_or_default());
    let tag = mac(keys, purpose, &body);
    format!("{body}.{tag}")
}

/// The claims of a cookie value sealed under `purpose`, if its MAC holds and it has not
/// expired at `now_ms` (`expires` reads the expiry).
pub fn open<T: DeserializeOwned>(
    keys: &Keyring,
    purpose: &str,
    value: &str,
    now_ms: u64,
    expires: impl Fn(&T) -> u64,
) -> Option<T> {
    if value.len() > 2048 {
        return None;
    }
    let (body, tag) = value.split_once('.')?;
    if !same(mac(keys, purpose, body).as_bytes(), tag.as_bytes()) {
        return None;
    }
    let claims: T = serde_json::from_slice(&B64URL.decode(body).ok()?).ok()?;
    (now_ms < expires(&claims)).then_some(claims)
}

/// The CSRF token of a device session: a MAC of its nonce, so the page learns it from
/// `GET /terminal/api/session` (the cookie itself is HttpOnly) and another site cannot.
pub fn csrf_token(keys: &Keyring, device_nonce: &str) -> String {
    mac(keys, "terminal-csrf", device_nonce)
}

/// A `Set-Cookie` value: HttpOnly, Secure, SameSite=Strict, the whole site (`__Host-`).
pub fn set_cookie(name: &str, value: &str, max_age_ms: u64) -> String {
    format!(
        "{name}={value}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={}",
        max_age_ms / 1000
    )
}

/// A `Set-Cookie` value that removes the cookie.
pub fn clear_cookie(name: &str) -> String {
    format!("{name}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> DeviceClaims {
        DeviceClaims {
            tenant: "t".into(),
            store: "SZ-0042".into(),
            terminal: "T7".into(),
            generation: 3,
            nonce: "n".into(),
            issued_ms: 1_000,
            expires_ms: 1_000 + DEVICE_TTL_MS,
        }
    }

    #[test]
    fn a_sealed_cookie_opens_until_it_expires_and_not_when_touched() {
        let keys = Keyring::ephemeral().expect("keys");
        let c = claims();
        let v = seal(&keys, "device", &c);
        let open_at =
            |v: &str, now| open::<DeviceClaims>(&keys, "device", v, now, |c| c.expires_ms);
        assert_eq!(open_at(&v, 2_000), Some(c.clone()));
        assert_eq!(open_at(&v, c.expires_ms), None);
        // Another purpose, another key, a flipped character: refused.
        assert!(open::<DeviceClaims>(&keys, "clerk", &v, 2_000, |c| c.expires_ms).is_none());
        let other = Keyring::ephemeral().expect("keys");
        assert!(open::<DeviceClaims>(&other, "device", &v, 2_000, |c| c.expires_ms).is_none());
        let mut bytes = v.into_bytes();
        bytes[3] ^= 1;
        assert!(open_at(&String::from_utf8(bytes).expect("ascii"), 2_000).is_none());
        assert!(open_at("garbage", 2_000).is_none());
        assert!(open_at(".", 2_000).is_none());
    }

    proptest::proptest! {
        /// Whatever a browser (or an attacker) sends as a cookie, opening it never panics
        /// and never yields claims without the MAC of our key.
        #[test]
        fn any_cookie_value_is_refused_safely(v in ".{0,300}", flip in 0usize..400) {
            let keys = Keyring::ephemeral().expect("keys");
            proptest::prop_assert!(open::<DeviceClaims>(&keys, "device", &v, 0, |c| c.expires_ms).is_none());
            // A sealed value with any one byte changed is refused too.
            let sealed = seal(&keys, "device", &claims());
            let mut bytes = sealed.clone().into_bytes();
            let i = flip % bytes.len();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            if let Ok(changed) = String::from_utf8(bytes) {
                if changed != sealed {
                    proptest::prop_assert!(open::<DeviceClaims>(&keys, "device", &changed, 0, |c| c.expires_ms).is_none());
                }
            }
        }
    }

    #[test]
    fn renewal_after_half_the_life() {
        let c = claims();
        assert!(!c.due_for_renewal(1_000 + DEVICE_TTL_MS / 2));
        assert!(c.due_for_renewal(1_001 + DEVICE_TTL_MS / 2));
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            "cookie",
            "a=1; __Host-simgw-device=xyz".parse().expect("header"),
        );
        h.append("cookie", "__Host-simgw-clerk=abc".parse().expect("header"));
        assert_eq!(cookie(&h, DEVICE_COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, CLERK_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "b"), None);
        let s = set_cookie(DEVICE_COOKIE, "v", DEVICE_TTL_MS);
        assert!(s.contains("HttpOnly") && s.contains("Secure") && s.contains("SameSite=Strict"));
    }
}

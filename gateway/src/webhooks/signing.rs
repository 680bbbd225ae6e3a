//! Standard Webhooks signatures (standardwebhooks.com): secrets `whsec_<base64 of the key
//! bytes>`, `webhook-signature: v1,<base64 HMAC-SHA256(key, "id.timestamp.body")>`, several
//! space-separated while a rotated secret still signs. Pure functions, used by the
//! dispatcher to sign and by `simgw webhooks listen` to verify.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ring::hmac;

/// The prefix of a secret as shown to the tenant.
pub const SECRET_PREFIX: &str = "whsec_";
/// Bytes of a new secret (the specification asks for 24 to 64).
pub const SECRET_LEN: usize = 32;
/// The timestamp tolerance the specification recommends for receivers, seconds.
pub const TOLERANCE_S: u64 = 5 * 60;

/// A secret's text form.
pub fn format_secret(key: &[u8]) -> String {
    format!("{SECRET_PREFIX}{}", B64.encode(key))
}

/// The key bytes of a `whsec_…` secret (`None` if it is not one).
pub fn parse_secret(s: &str) -> Option<Vec<u8>> {
    let key = B64.decode(s.strip_prefix(SECRET_PREFIX)?).ok()?;
    (!key.is_empty()).then_some(key)
}

/// One `v1,<base64>` signature of `body` under `key`.
pub fn sign(key: &[u8], id: &str, timestamp_s: u64, body: &[u8]) -> String {
    let k = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut ctx = hmac::Context::with_key(&k);
    ctx.update(id.as_bytes());
    ctx.update(b".");
    ctx.update(timestamp_s.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    format!("v1,{}", B64.encode(ctx.sign().as_ref()))
}

/// The `webhook-signature` header: one signature per key, space-separated.
pub fn signature_header<K: AsRef<[u8]>>(
    keys: &[K],
    id: &str,
    timestamp_s: u64,
    body: &[u8],
) -> String {
    keys.iter()
        .map(|k| sign(k.as_ref(), id, timestamp_s, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Why a delivery did not verify.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// `webhook-timestamp` is not a number of seconds.
    #[error("webhook-timestamp is not unix seconds")]
    BadTimestamp,
    /// The timestamp is further from now than the tolerance (a replay, or a wrong clock).
    #[error("webhook-timestamp is {0} s away from now (tolerance {TOLERANCE_S} s)")]
    OutsideTolerance(u64),
    /// No `v1` signature matched the key.
    #[error("no v1 signature matches the secret")]
    NoMatch,
}

/// Checks a delivery as a receiver should: the timestamp within the tolerance of `now_s`,
/// and at least one `v1` signature made with `key` (compared in constant time).
pub fn verify(
    key: &[u8],
    id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now_s: u64,
) -> Result<(), VerifyError> {
    let ts: u64 = timestamp.parse().map_err(|_| VerifyError::BadTimestamp)?;
    let skew = ts.abs_diff(now_s);
    if skew > TOLERANCE_S {
        return Err(VerifyError::OutsideTolerance(skew));
    }
    let k = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut msg = Vec::with_capacity(id.len() + body.len() + 22);
    msg.extend_from_slice(id.as_bytes());
    msg.extend_from_slice(format!(".{ts}.").as_bytes());
    msg.extend_from_slice(body);
    // ring compares the tags in constant time.
    let matched = signatures.split(' ').any(|s| {
        s.strip_prefix("v1,")
            .and_then(|b| B64.decode(b).ok())
            .is_some_and(|tag| hmac::verify(&k, &msg, &tag).is_ok())
    });
    if matched {
        Ok(())
    } else {
        Err(VerifyError::NoMatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_specification_example() {
        // The example of the Standard Webhooks specification (and its reference libraries).
        let key = parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("secret");
        let sig = sign(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_round_trip_and_garbage_is_refused() {
        let key = [7u8; SECRET_LEN];
        assert_eq!(parse_secret(&format_secret(&key)), Some(key.to_vec()));
        for bad in [
            "",
            "whsec_",
            "sk_abc",
            "whsec_***",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        ] {
            assert_eq!(parse_secret(bad), None, "{bad}");
        }
    }

    #[test]
    fn verify_accepts_any_listed_signature_and_checks_time() {
        let (old, new) = ([1u8; 32], [2u8; 32]);
        let header = signature_header(&[new, old], "evt_1", 1_000, b"{}");
        assert_eq!(header.split(' ').count(), 2);
        assert_eq!(verify(&old, "evt_1", "1000", &header, b"{}", 1_010), Ok(()));
        assert_eq!(verify(&new, "evt_1", "1000", &header, b"{}", 990), Ok(()));
        assert_eq!(
            verify(&[3u8; 32], "evt_1", "1000", &header, b"{}", 1_000),
            Err(VerifyError::NoMatch)
        );
        assert_eq!(
            verify(&old, "evt_2", "1000", &header, b"{}", 1_000),
            Err(VerifyError::NoMatch)
        );
        assert_eq!(
            verify(&old, "evt_1", "1000", &header, b"{ }", 1_000),
            Err(VerifyError::NoMatch)
        );
        assert_eq!(
            verify(
                &old,
                "evt_1",
                "1000",
                &header,
                b"{}",
                1_000 + TOLERANCE_S + 1
            ),
            Err(VerifyError::OutsideTolerance(TOLERANCE_S + 1))
        );
        assert_eq!(
            verify(&old, "evt_1", "x", &header, b"{}", 1_000),
            Err(VerifyError::BadTimestamp)
        );
    }
}

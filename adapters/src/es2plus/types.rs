//! Validated ES2+ value types (reference §3, §7): MatchingID, Confirmation Code, FQDN,
//! DATETIME and the CancelOrder final status. Each parses once and has no invalid state.

use super::error::Es2Error;
use serde::{Serialize, Serializer};
use std::fmt;
use std::str::FromStr;
use zeroize::Zeroize;

/// A MatchingID (§7.2): upper-case `0-9`, `A-Z` and `-` only, possibly empty, ≤ 255 chars.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct MatchingId(String);

impl MatchingId {
    /// Validates a MatchingID.
    pub fn new(s: &str) -> Result<Self, Es2Error> {
        s.parse()
    }

    /// The empty MatchingID of the default-SM-DP+ case.
    pub fn empty() -> Self {
        Self(String::new())
    }

    /// The MatchingID.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for the empty MatchingID.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromStr for MatchingId {
    type Err = Es2Error;
    fn from_str(s: &str) -> Result<Self, Es2Error> {
        if s.len() <= 255
            && s.bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase() || b == b'-')
        {
            Ok(Self(s.to_owned()))
        } else {
            Err(Es2Error::InvalidValue {
                field: "matchingId",
            })
        }
    }
}

impl fmt::Display for MatchingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for MatchingId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// A plain Confirmation Code (§7.3): 4–8 ASCII digits. Prints `***`, zeroised on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct ConfirmationCode(String);

impl ConfirmationCode {
    /// Validates a Confirmation Code.
    pub fn new(s: &str) -> Result<Self, Es2Error> {
        s.parse()
    }

    /// The plain code, for the wire and for delivery to the subscriber only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl FromStr for ConfirmationCode {
    type Err = Es2Error;
    fn from_str(s: &str) -> Result<Self, Es2Error> {
        if (4..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(Es2Error::InvalidValue {
                field: "confirmationCode",
            })
        }
    }
}

impl fmt::Debug for ConfirmationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConfirmationCode(***)")
    }
}

impl Drop for ConfirmationCode {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl Serialize for ConfirmationCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// An FQDN (`smdpAddress`, `smdsAddress`): dot-separated non-empty labels of ASCII letters,
/// digits and `-`, at most 253 characters; never contains `$`.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Fqdn(String);

impl Fqdn {
    /// Validates an FQDN.
    pub fn new(s: &str) -> Result<Self, Es2Error> {
        s.parse()
    }

    /// The FQDN as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Fqdn {
    type Err = Es2Error;
    fn from_str(s: &str) -> Result<Self, Es2Error> {
        let ok = !s.is_empty()
            && s.len() <= 253
            && s.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(Es2Error::InvalidValue { field: "fqdn" })
        }
    }
}

impl fmt::Display for Fqdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Fqdn {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// An ES2+ DATETIME (RFC 3339: `YYYY-MM-DDThh:mm:ss[.frac](Z|±hh:mm)`), kept verbatim.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Timestamp(String);

impl Timestamp {
    /// Validates a DATETIME.
    pub fn new(s: &str) -> Result<Self, Es2Error> {
        s.parse()
    }

    /// The timestamp as received.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The two-digit number at `b[i..i + 2]`, if both are digits.
fn two(b: &[u8], i: usize) -> Option<u8> {
    match (b.get(i), b.get(i + 1)) {
        (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
            Some((x - b'0') * 10 + (y - b'0'))
        }
        _ => None,
    }
}

/// True if `s` is an RFC 3339 date-time.
fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let date_ok = b.len() >= 20
        && b.iter().take(4).all(u8::is_ascii_digit)
        && b.get(4) == Some(&b'-')
        && two(b, 5).is_some_and(|m| (1..=12).contains(&m))
        && b.get(7) == Some(&b'-')
        && two(b, 8).is_some_and(|d| (1..=31).contains(&d))
        && matches!(b.get(10), Some(b'T' | b't'))
        && two(b, 11).is_some_and(|h| h <= 23)
        && b.get(13) == Some(&b':')
        && two(b, 14).is_some_and(|m| m <= 59)
        && b.get(16) == Some(&b':')
        && two(b, 17).is_some_and(|s| s <= 60);
    if !date_ok {
        return false;
    }
    let mut rest = b.get(19..).unwrap_or_default();
    if let Some((b'.', frac)) = rest.split_first() {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        rest = frac.get(n..).unwrap_or_default();
    }
    match rest {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', _, _, b':', _, _] => {
            two(rest, 1).is_some_and(|h| h <= 23) && two(rest, 4).is_some_and(|m| m <= 59)
        }
        _ => false,
    }
}

impl FromStr for Timestamp {
    type Err = Es2Error;
    fn from_str(s: &str) -> Result<Self, Es2Error> {
        if is_rfc3339(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(Es2Error::InvalidValue { field: "timestamp" })
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// CancelOrder `finalProfileStatusIndicator` (Table 29).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum FinalProfileStatus {
    /// The ICCID goes back to inventory.
    Available,
    /// The ICCID is never reused.
    Unavailable,
}

impl FinalProfileStatus {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "Available",
            Self::Unavailable => "Unavailable",
        }
    }
}

impl FromStr for FinalProfileStatus {
    type Err = Es2Error;
    fn from_str(s: &str) -> Result<Self, Es2Error> {
        match s {
            "Available" => Ok(Self::Available),
            "Unavailable" => Ok(Self::Unavailable),
            _ => Err(Es2Error::InvalidValue {
                field: "finalProfileStatusIndicator",
            }),
        }
    }
}

impl Serialize for FinalProfileStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

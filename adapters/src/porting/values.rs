//! Small validated values of the hub protocol: references ([`Ref`]), codes ([`Code`]),
//! the market, who caused an event ([`Actor`]) and instants ([`UtcTime`]). Each parses
//! once and its error names the field, never the value.

use super::error::PortingCodecError;
use crate::identity::CivilDate;

/// Longest [`Ref`], in bytes.
pub const MAX_REF_BYTES: usize = 128;
/// Longest [`Code`], in bytes.
pub const MAX_CODE_BYTES: usize = 64;

/// An opaque reference: a request id, a port reference, a message id, our order id or an
/// operator id. 1 to 128 printable ASCII characters without spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ref(String);

impl Ref {
    /// Parses a reference; `field` names it in the error.
    pub fn parse(s: &str, field: &'static str) -> Result<Self, PortingCodecError> {
        let ok =
            !s.is_empty() && s.len() <= MAX_REF_BYTES && s.bytes().all(|b| b.is_ascii_graphic());
        if !ok {
            return Err(PortingCodecError::InvalidValue { field });
        }
        Ok(Self(s.to_owned()))
    }

    /// The reference text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Ref {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A machine-readable code (a reason, a conflict cause, an error code): 1 to 64 ASCII
/// letters, digits, `_`, `-` and `.`. Never free text, so it is safe to log and store.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Code(String);

impl Code {
    /// Parses a code; `field` names it in the error.
    pub fn parse(s: &str, field: &'static str) -> Result<Self, PortingCodecError> {
        let ok = !s.is_empty()
            && s.len() <= MAX_CODE_BYTES
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        if !ok {
            return Err(PortingCodecError::InvalidValue { field });
        }
        Ok(Self(s.to_owned()))
    }

    /// The code text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The porting regime a port runs under: it decides which credential the donor checks
/// and which timers apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Market {
    /// Mainland China (携号转网): authorisation code from the donor, valid one hour.
    Cn,
    /// United Kingdom: PAC or STAC, valid 30 days, hub lock 17:00 the working day before.
    Uk,
    /// United States: account number and PIN (LSR/WPR), NPAC subscription versions.
    Us,
    /// France: RIO, through the EGP, frozen at GO Portability (D-1).
    EuFr,
    /// Another EU market: a national code, one working day.
    EuGeneric,
}

impl Market {
    /// Every market.
    pub const ALL: [Self; 5] = [Self::Cn, Self::Uk, Self::Us, Self::EuFr, Self::EuGeneric];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cn => "cn",
            Self::Uk => "uk",
            Self::Us => "us",
            Self::EuFr => "eu-fr",
            Self::EuGeneric => "eu-generic",
        }
    }

    /// The market with this wire name.
    pub fn from_wire(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

impl std::fmt::Display for Market {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who caused a hub event (the `actor` of the port's recorded transition).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Actor {
    /// The hub itself (its validation, a timer, the number-portability database).
    Hub,
    /// The losing provider.
    Donor,
    /// The gaining provider.
    Recipient,
}

impl Actor {
    /// Every actor.
    pub const ALL: [Self; 3] = [Self::Hub, Self::Donor, Self::Recipient];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hub => "hub",
            Self::Donor => "donor",
            Self::Recipient => "recipient",
        }
    }

    /// The actor with this wire name.
    pub fn from_wire(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// An instant, in milliseconds since 1970-01-01T00:00:00Z (the gateway's clock unit). On
/// the wire an RFC 3339 date-time in UTC, `YYYY-MM-DDThh:mm:ss[.fff]Z`, sent with exactly
/// three fraction digits; years 1970 to 9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcTime(u64);

/// 9999-12-31T23:59:59.999Z.
const MAX_UNIX_MS: u64 = 253_402_300_799_999;

impl UtcTime {
    /// The instant `unix_ms` milliseconds after the epoch, if at most 9999-12-31.
    pub fn from_unix_ms(unix_ms: u64) -> Option<Self> {
        (unix_ms <= MAX_UNIX_MS).then_some(Self(unix_ms))
    }

    /// Milliseconds since the epoch.
    pub fn unix_ms(self) -> u64 {
        self.0
    }

    /// Parses an RFC 3339 UTC date-time (`Z` only: a numeric offset is refused, so every
    /// party writes the same instant the same way). More than three fraction digits are
    /// truncated to milliseconds. `field` names it in the error.
    pub fn parse(s: &str, field: &'static str) -> Result<Self, PortingCodecError> {
        parse_utc(s).ok_or(PortingCodecError::InvalidValue { field })
    }
}

impl std::fmt::Display for UtcTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.0 / 1000;
        let days = i64::try_from(secs / 86_400).unwrap_or(0);
        let rem = secs % 86_400;
        let date = CivilDate::from_unix_days(days).unwrap_or(CivilDate::UNIX_EPOCH);
        write!(
            f,
            "{date}T{:02}:{:02}:{:02}.{:03}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60,
            self.0 % 1000
        )
    }
}

/// The digits of `b` as a number, if all are ASCII digits.
fn digits(b: &[u8]) -> Option<u64> {
    if b.is_empty() {
        return None;
    }
    b.iter().try_fold(0u64, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u64::from(c - b'0'))
    })
}

fn parse_utc(s: &str) -> Option<UtcTime> {
    let b = s.as_bytes();
    let sep = |i: usize, c: &[u8]| b.get(i).is_some_and(|x| c.contains(x));
    if b.len() < 20
        || !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt") && sep(13, b":") && sep(16, b":"))
    {
        return None;
    }
    let field = |r: std::ops::Range<usize>| b.get(r).and_then(digits);
    let (year, month, day) = (field(0..4)?, field(5..7)?, field(8..10)?);
    let (hour, minute, second) = (field(11..13)?, field(14..16)?, field(17..19)?);
    if hour > 23 || minute > 59 || second > 59 || year < 1970 {
        return None;
    }
    let date = CivilDate::new(
        u16::try_from(year).ok()?,
        u8::try_from(month).ok()?,
        u8::try_from(day).ok()?,
    )?;
    let (millis, zone) = match b.get(19..)? {
        [b'.', frac @ ..] => {
            let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return None;
            }
            // The first three digits, right-padded: `.5` is 500 ms, `.123456` is 123 ms.
            let ms = (0..3).fold(0u64, |acc, i| {
                let d = frac
                    .get(i)
                    .filter(|_| i < n)
                    .map_or(0, |c| u64::from(c - b'0'));
                acc * 10 + d
            });
            (ms, frac.get(n..)?)
        }
        rest => (0, rest),
    };
    if !matches!(zone, [b'Z' | b'z']) {
        return None;
    }
    let days = u64::try_from(date.unix_days()).ok()?;
    let ms = ((days * 86_400 + hour * 3600 + minute * 60 + second) * 1000) + millis;
    UtcTime::from_unix_ms(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Option<u64> {
        UtcTime::parse(s, "f").ok().map(UtcTime::unix_ms)
    }

    #[test]
    fn times_parse_and_print_as_the_gateway_does() {
        assert_eq!(t("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(t("2000-02-29T00:00:00.000Z"), Some(951_782_400_000));
        assert_eq!(t("2026-11-23T08:00:00.123Z"), Some(1_795_420_800_123));
        assert_eq!(t("2026-11-23t08:00:00.1z"), Some(1_795_420_800_100));
        assert_eq!(t("2026-11-23T08:00:00.123999Z"), Some(1_795_420_800_123));
        assert_eq!(t("9999-12-31T23:59:59.999Z"), Some(MAX_UNIX_MS));
        let shown = UtcTime::from_unix_ms(1_795_420_800_123).map(|x| x.to_string());
        assert_eq!(shown.as_deref(), Some("2026-11-23T08:00:00.123Z"));
        assert_eq!(
            UtcTime::from_unix_ms(0).map(|x| x.to_string()).as_deref(),
            Some("1970-01-01T00:00:00.000Z")
        );
        assert_eq!(UtcTime::from_unix_ms(MAX_UNIX_MS + 1), None);
        for bad in [
            "",
            "2026-11-23T08:00:00",
            "2026-11-23T08:00:00+01:00",
            "2026-11-23T08:00:00.Z",
            "2026-11-23 08:00:00Z",
            "2026-02-29T08:00:00Z",
            "2026-11-23T24:00:00Z",
            "2026-11-23T23:60:00Z",
            "2026-11-23T23:59:60Z",
            "1969-12-31T23:59:59Z",
            "2026-1-23T08:00:00Z",
            "+026-11-23T08:00:00Z",
            "2026-11-23T08:00:00ZZ",
        ] {
            assert_eq!(
                UtcTime::parse(bad, "at"),
                Err(PortingCodecError::InvalidValue { field: "at" }),
                "{bad}"
            );
        }
    }

    #[test]
    fn refs_codes_and_names() {
        assert!(Ref::parse("HUB-UK/000042", "f").is_ok());
        for bad in ["", "a b", "é", &"x".repeat(129)] {
            assert!(Ref::parse(bad, "f").is_err(), "{bad:?}");
        }
        assert!(Code::parse("credential_invalid", "f").is_ok());
        assert!(Code::parse("NANC-50.1", "f").is_ok());
        for bad in ["", "a b", "a/b", "名", &"x".repeat(65)] {
            assert!(Code::parse(bad, "f").is_err(), "{bad:?}");
        }
        for m in Market::ALL {
            assert_eq!(Market::from_wire(m.as_str()), Some(m));
        }
        assert_eq!(Market::from_wire("eu"), None);
        for a in Actor::ALL {
            assert_eq!(Actor::from_wire(a.as_str()), Some(a));
        }
    }
}

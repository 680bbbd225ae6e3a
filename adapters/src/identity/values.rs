//! Small validated values of the verification protocol: references ([`Token`]), codes
//! ([`Code`]), nationalities and calendar dates. Each parses once and its error names the
//! field, never the value.

use super::error::IdentityCodecError;

/// Longest [`Token`], in bytes.
pub const MAX_TOKEN_BYTES: usize = 128;
/// Longest [`Code`], in bytes.
pub const MAX_CODE_BYTES: usize = 64;

/// An opaque reference (request id, reader serial, vendor transaction id, store or clerk
/// id): 1 to 128 printable ASCII characters without spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Token(String);

impl Token {
    /// Parses a token; `field` names it in the error.
    pub fn parse(s: &str, field: &'static str) -> Result<Self, IdentityCodecError> {
        let ok =
            !s.is_empty() && s.len() <= MAX_TOKEN_BYTES && s.bytes().all(|b| b.is_ascii_graphic());
        if !ok {
            return Err(IdentityCodecError::InvalidValue { field });
        }
        Ok(Self(s.to_owned()))
    }

    /// The token text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A machine-readable code: 1 to 64 characters of `a-z`, `0-9` and `_`, starting with a
/// letter (snake_case). Used for flag reasons, where a verifier's free text could carry
/// personal data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Code(String);

impl Code {
    /// Parses a code; `field` names it in the error.
    pub fn parse(s: &str, field: &'static str) -> Result<Self, IdentityCodecError> {
        let ok = s.len() <= MAX_CODE_BYTES
            && s.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok {
            return Err(IdentityCodecError::InvalidValue { field });
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

/// A nationality as an ISO 3166-1 code: alpha-3 (`CHN`, as in passports' machine-readable
/// zone) or alpha-2 (`CN`), upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Nationality(String);

impl Nationality {
    /// Parses a nationality code.
    pub fn parse(s: &str) -> Result<Self, IdentityCodecError> {
        let ok = (2..=3).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_uppercase());
        if !ok {
            return Err(IdentityCodecError::InvalidValue {
                field: "subject.nationality",
            });
        }
        Ok(Self(s.to_owned()))
    }

    /// The code text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A face-match similarity score: a finite number in `0.0..=1.0`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Score(f64);

impl Score {
    /// The score, if finite and within `0.0..=1.0`.
    pub fn new(value: f64) -> Option<Self> {
        (0.0..=1.0).contains(&value).then_some(Self(value))
    }

    /// The value.
    pub fn get(self) -> f64 {
        self.0
    }
}

/// A proleptic Gregorian calendar date, years 1900 to 9999 (`YYYY-MM-DD` on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CivilDate {
    year: u16,
    month: u8,
    day: u8,
}

impl CivilDate {
    /// 1970-01-01.
    pub const UNIX_EPOCH: Self = Self {
        year: 1970,
        month: 1,
        day: 1,
    };

    /// The date, if it exists.
    pub fn new(year: u16, month: u8, day: u8) -> Option<Self> {
        let valid = (1900..=9999).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month);
        valid.then_some(Self { year, month, day })
    }

    /// Parses `YYYY-MM-DD`; `field` names it in the error.
    pub fn parse(s: &str, field: &'static str) -> Result<Self, IdentityCodecError> {
        let err = IdentityCodecError::InvalidValue { field };
        let b = s.as_bytes();
        if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
            return Err(err);
        }
        let num = |r: std::ops::Range<usize>| -> Option<u16> {
            let part = s.get(r)?;
            part.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| part.parse().ok())?
        };
        let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
            return Err(err);
        };
        let (Ok(m), Ok(d)) = (u8::try_from(m), u8::try_from(d)) else {
            return Err(err);
        };
        Self::new(y, m, d).ok_or(err)
    }

    /// The date `days` days after 1970-01-01 (negative: before), if in range.
    pub fn from_unix_days(days: i64) -> Option<Self> {
        // Howard Hinnant's civil_from_days.
        let z = days.checked_add(719_468)?;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Self::new(
            u16::try_from(year).ok()?,
            u8::try_from(month).ok()?,
            u8::try_from(day).ok()?,
        )
    }

    /// Days since 1970-01-01 (negative: before).
    pub fn unix_days(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let (m, d) = (i64::from(self.month), i64::from(self.day));
        let y = i64::from(self.year) - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The year.
    pub fn year(self) -> u16 {
        self.year
    }

    /// The month, 1 to 12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// The day of the month.
    pub fn day(self) -> u8 {
        self.day
    }
}

impl std::fmt::Display for CivilDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_codes() {
        assert!(Token::parse("SZ-0042", "f").is_ok());
        for bad in ["", "a b", "é", &"x".repeat(129)] {
            assert!(Token::parse(bad, "f").is_err(), "{bad:?}");
        }
        assert!(Code::parse("watchlist_near_match2", "f").is_ok());
        for bad in ["", "_x", "9x", "Upper", "a-b", &"x".repeat(65)] {
            assert!(Code::parse(bad, "f").is_err(), "{bad:?}");
        }
        assert_eq!(Score::new(0.5).map(Score::get), Some(0.5));
        for bad in [-0.1, 1.01, f64::NAN, f64::INFINITY] {
            assert!(Score::new(bad).is_none(), "{bad}");
        }
        assert!(Nationality::parse("CHN").is_ok());
        assert!(Nationality::parse("GB").is_ok());
        for bad in ["chn", "C", "CHNA", "C1N"] {
            assert!(Nationality::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn dates() {
        let d = CivilDate::parse("2024-02-29", "f").expect("leap day");
        assert_eq!(d.to_string(), "2024-02-29");
        for bad in [
            "2023-02-29",
            "1900-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-1-01",
            "+024-01-01",
            "1899-12-31",
            "2024-01-3a",
        ] {
            assert!(CivilDate::parse(bad, "f").is_err(), "{bad}");
        }
        assert_eq!(
            CivilDate::parse("2000-02-29", "f").ok(),
            CivilDate::new(2000, 2, 29)
        );
        assert_eq!(CivilDate::from_unix_days(0), Some(CivilDate::UNIX_EPOCH));
        assert_eq!(
            CivilDate::from_unix_days(19_782),
            CivilDate::new(2024, 2, 29)
        );
        assert_eq!(
            CivilDate::from_unix_days(-25_567),
            CivilDate::new(1900, 1, 1)
        );
        assert_eq!(CivilDate::from_unix_days(-25_568), None);
        assert_eq!(CivilDate::UNIX_EPOCH.unix_days(), 0);
        assert_eq!(
            CivilDate::new(2000, 3, 1).map(CivilDate::unix_days),
            Some(11_017)
        );
        for days in [-25_567, -1, 0, 11_016, 19_782, 2_932_896] {
            let date = CivilDate::from_unix_days(days).expect("in range");
            assert_eq!(date.unix_days(), days, "{date}");
        }
        assert_eq!(CivilDate::from_unix_days(i64::MAX), None);
    }
}

//! Identity documents: the accepted types, number normalisation, the per-type shape and
//! check-digit rules, and masking for display. Pure string functions; errors say what is
//! expected and never echo the number.

use serde::{Deserialize, Serialize};

/// An identity document type. The Chinese list is MIIT Order No. 25's (reference §1.1);
/// the last three are the generic documents of the other markets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdType {
    /// 居民身份证: the mainland resident ID card (2nd generation, 18 characters).
    ResidentId,
    /// 临时居民身份证: temporary resident ID, same number as the resident ID.
    TemporaryResidentId,
    /// 户口簿: household register, showing the holder's citizen ID number.
    HouseholdRegister,
    /// 港澳居民来往内地通行证: Hong Kong/Macao residents' travel permit (H/M + digits).
    HkMacauTravelPermit,
    /// 台湾居民来往大陆通行证: Taiwan residents' travel permit.
    TaiwanTravelPermit,
    /// 港澳台居民居住证: residence permit for HK/Macao/Taiwan residents (18, 81/82/83…).
    HkMacauTaiwanResidencePermit,
    /// 外国人永久居留身份证: foreigner's permanent-residence ID (15 or 18 characters).
    ForeignPermanentResidentId,
    /// A passport (any issuing state; `nationality` names it).
    Passport,
    /// A national identity card (EU and others).
    NationalId,
    /// A residence permit (other markets).
    ResidencePermit,
    /// A driving licence (UK, US).
    DrivingLicence,
}

impl IdType {
    /// Every type, in a stable order.
    pub const ALL: [Self; 11] = [
        Self::ResidentId,
        Self::TemporaryResidentId,
        Self::HouseholdRegister,
        Self::HkMacauTravelPermit,
        Self::TaiwanTravelPermit,
        Self::HkMacauTaiwanResidencePermit,
        Self::ForeignPermanentResidentId,
        Self::Passport,
        Self::NationalId,
        Self::ResidencePermit,
        Self::DrivingLicence,
    ];

    /// Stable snake_case name (the JSON value).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ResidentId => "resident_id",
            Self::TemporaryResidentId => "temporary_resident_id",
            Self::HouseholdRegister => "household_register",
            Self::HkMacauTravelPermit => "hk_macau_travel_permit",
            Self::TaiwanTravelPermit => "taiwan_travel_permit",
            Self::HkMacauTaiwanResidencePermit => "hk_macau_taiwan_residence_permit",
            Self::ForeignPermanentResidentId => "foreign_permanent_resident_id",
            Self::Passport => "passport",
            Self::NationalId => "national_id",
            Self::ResidencePermit => "residence_permit",
            Self::DrivingLicence => "driving_licence",
        }
    }

    /// Parses a stable name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The identity the number names, for counting: the resident ID, the temporary ID and
    /// the household register all carry the one citizen number, so a person cannot open a
    /// sixth line by showing another of them.
    pub fn identity_class(self) -> &'static str {
        match self {
            Self::ResidentId | Self::TemporaryResidentId | Self::HouseholdRegister => "cn_citizen",
            other => other.as_str(),
        }
    }

    /// Whether the number is unique only within its issuing state, so the hash includes
    /// `nationality` (and the subscriber must give it).
    pub fn needs_issuer(self) -> bool {
        matches!(
            self,
            Self::Passport | Self::NationalId | Self::ResidencePermit | Self::DrivingLicence
        )
    }
}

/// Why an ID number is not acceptable for its type. The text says what is expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdFormatError {
    /// Nothing left after removing spaces and hyphens.
    #[error("is empty")]
    Empty,
    /// More than 64 characters as sent.
    #[error("is too long (at most 64 characters)")]
    TooLong,
    /// A character other than letters, digits, spaces and hyphens.
    #[error("may hold only the letters A-Z, digits, spaces and hyphens")]
    BadCharacter,
    /// The wrong shape for the document type.
    #[error("must be {0}")]
    Shape(&'static str),
    /// The birth date inside the number is not a calendar date.
    #[error("holds a birth date (characters 7-14) that is not a valid date")]
    BirthDate,
    /// The ISO 7064 MOD 11-2 check character does not match.
    #[error("has a wrong check character (the 18th); re-read the card")]
    CheckDigit,
}

/// The longest number accepted as sent (before normalisation).
pub const MAX_RAW_LEN: usize = 64;

/// Normalises a number as typed or read: full-width forms to ASCII, spaces and hyphens
/// dropped, letters upper-cased. Anything else is refused.
pub fn normalise(raw: &str) -> Result<String, IdFormatError> {
    if raw.chars().count() > MAX_RAW_LEN {
        return Err(IdFormatError::TooLong);
    }
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        let c = match c {
            // Full-width ASCII forms (typed on Chinese keyboards) and the ideographic space.
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        };
        match c {
            ' ' | '-' | '\t' => {}
            '0'..='9' | 'A'..='Z' => out.push(c),
            'a'..='z' => out.push(c.to_ascii_uppercase()),
            _ => return Err(IdFormatError::BadCharacter),
        }
    }
    if out.is_empty() {
        return Err(IdFormatError::Empty);
    }
    Ok(out)
}

/// Checks a normalised number against its type's shape and check character.
pub fn check(id_type: IdType, n: &str) -> Result<(), IdFormatError> {
    let b = n.as_bytes();
    match id_type {
        IdType::ResidentId | IdType::TemporaryResidentId | IdType::HouseholdRegister => {
            citizen_number(b, "18 characters: 17 digits then a digit or X")
        }
        IdType::HkMacauTaiwanResidencePermit => {
            const SHAPE: &str = "18 characters starting 810000, 820000 or 830000";
            if !(b.starts_with(b"810000") || b.starts_with(b"820000") || b.starts_with(b"830000")) {
                return Err(IdFormatError::Shape(SHAPE));
            }
            citizen_number(b, SHAPE)
        }
        IdType::ForeignPermanentResidentId => match b.len() {
            // 2017 card: nationality letters then 12 digits.
            15 if b[..3].iter().all(u8::is_ascii_uppercase)
                && b[3..].iter().all(u8::is_ascii_digit) =>
            {
                Ok(())
            }
            // 2023 card: the resident-ID layout, starting with 9.
            18 if b[0] == b'9' => citizen_number(b, FPR_SHAPE),
            _ => Err(IdFormatError::Shape(FPR_SHAPE)),
        },
        IdType::HkMacauTravelPermit => {
            let digits = b.get(1..).unwrap_or_default();
            if matches!(b.first(), Some(b'H' | b'M'))
                && matches!(digits.len(), 8 | 10)
                && digits.iter().all(u8::is_ascii_digit)
            {
                Ok(())
            } else {
                Err(IdFormatError::Shape("H or M followed by 8 or 10 digits"))
            }
        }
        IdType::TaiwanTravelPermit => {
            if (b.len() == 8 && b.iter().all(u8::is_ascii_digit))
                || (b.len() == 10 && b.iter().all(u8::is_ascii_alphanumeric))
            {
                Ok(())
            } else {
                Err(IdFormatError::Shape(
                    "8 digits (or the 10 characters of an older permit)",
                ))
            }
        }
        IdType::Passport => generic(b, 5, 20, "5 to 20 letters and digits"),
        IdType::NationalId | IdType::ResidencePermit | IdType::DrivingLicence => {
            generic(b, 5, 24, "5 to 24 letters and digits")
        }
    }
}

const FPR_SHAPE: &str = "15 characters (3 letters, 12 digits) or 18 starting with 9";

fn generic(b: &[u8], min: usize, max: usize, shape: &'static str) -> Result<(), IdFormatError> {
    if (min..=max).contains(&b.len()) && b.iter().any(u8::is_ascii_digit) {
        Ok(())
    } else {
        Err(IdFormatError::Shape(shape))
    }
}

/// The mainland citizen-number layout (GB 11643-1999): 6-digit region, 8-digit birth
/// date, 3-digit sequence, ISO 7064 MOD 11-2 check character (`X` for 10).
fn citizen_number(b: &[u8], shape: &'static str) -> Result<(), IdFormatError> {
    if b.len() != 18
        || !b[..17].iter().all(u8::is_ascii_digit)
        || !(b[17].is_ascii_digit() || b[17] == b'X')
    {
        return Err(IdFormatError::Shape(shape));
    }
    if birth_date(b).is_none() {
        return Err(IdFormatError::BirthDate);
    }
    if mod11_2_check(&b[..17]) != b[17] {
        return Err(IdFormatError::CheckDigit);
    }
    Ok(())
}

/// The ISO 7064 MOD 11-2 check character of 17 ASCII digits.
pub fn mod11_2_check(digits: &[u8]) -> u8 {
    // Weight of position i (from the left, 18 positions in all) is 2^(17-i) mod 11.
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = digits
        .iter()
        .zip(W)
        .map(|(d, w)| u32::from(d.saturating_sub(b'0')) * w)
        .sum();
    match (12 - sum % 11) % 11 {
        10 => b'X',
        v => b'0' + u8::try_from(v).unwrap_or(0),
    }
}

/// The birth date (year, month, day) in a citizen-layout number, if it is a real date
/// between 1900 and 2099.
pub fn birth_date(b: &[u8]) -> Option<(u16, u8, u8)> {
    let d = b.get(6..14)?;
    if !d.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let num = |s: &[u8]| s.iter().fold(0u16, |a, c| a * 10 + u16::from(c - b'0'));
    let (y, m, day) = (num(&d[..4]), num(&d[4..6]), num(&d[6..]));
    if !(1900..=2099).contains(&y) || !(1..=12).contains(&m) || day < 1 {
        return None;
    }
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days_in = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day > days_in {
        return None;
    }
    Some((y, u8::try_from(m).ok()?, u8::try_from(day).ok()?))
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's days-from-civil).
pub fn days_from_civil(y: u16, m: u8, d: u8) -> i64 {
    let (m, d) = (i64::from(m), i64::from(d));
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A normalised number masked for display: the first four and last four characters of a
/// long number (`1101**********1234`), the first and last two of a shorter one, nothing of
/// a very short one.
pub fn mask(n: &str) -> String {
    let len = n.chars().count();
    let (head, tail) = match len {
        12.. => (4, 4),
        6..=11 => (1, 2),
        _ => (0, 0),
    };
    n.chars()
        .enumerate()
        .map(|(i, c)| if i < head || i >= len - tail { c } else { '*' })
        .collect()
}

/// Normalises an issuing-state code to ISO 3166-1 alpha-3 upper case (as in passports'
/// machine-readable zone, where Germany is the single letter `D`).
pub fn normalise_country(raw: &str) -> Option<String> {
    let up = raw.trim().to_ascii_uppercase();
    match up.len() {
        1 if up == "D" => Some("DEU".to_owned()),
        3 if up.bytes().all(|c| c.is_ascii_uppercase()) => Some(up),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid citizen number with the given 17 leading digits.
    fn with_check(first17: &str) -> String {
        let c = char::from(mod11_2_check(first17.as_bytes()));
        format!("{first17}{c}")
    }

    #[test]
    fn published_check_digits() {
        // GB 11643-1999's worked example and a well-known X-ending sample.
        assert_eq!(mod11_2_check(b"11010519491231002"), b'X');
        assert_eq!(mod11_2_check(b"44052418800101001"), b'4');
        assert_eq!(check(IdType::ResidentId, "11010519491231002X"), Ok(()));
        assert_eq!(
            check(IdType::ResidentId, "440524188001010014"),
            Err(IdFormatError::BirthDate)
        );
    }

    #[test]
    fn citizen_numbers() {
        let ok = with_check("11010119900307451");
        for t in [
            IdType::ResidentId,
            IdType::TemporaryResidentId,
            IdType::HouseholdRegister,
        ] {
            assert_eq!(check(t, &ok), Ok(()), "{t:?}");
        }
        let mut bad = ok.clone().into_bytes();
        bad[17] = if bad[17] == b'0' { b'1' } else { b'0' };
        let bad = String::from_utf8(bad).expect("ascii");
        assert_eq!(
            check(IdType::ResidentId, &bad),
            Err(IdFormatError::CheckDigit)
        );
        let feb30 = with_check("11010119900230451");
        assert_eq!(
            check(IdType::ResidentId, &feb30),
            Err(IdFormatError::BirthDate)
        );
        let leap = with_check("11010120000229451");
        assert_eq!(check(IdType::ResidentId, &leap), Ok(()));
        let not_leap = with_check("11010119000229451");
        assert_eq!(
            check(IdType::ResidentId, &not_leap),
            Err(IdFormatError::BirthDate)
        );
        assert!(matches!(
            check(IdType::ResidentId, "1101011990030745"),
            Err(IdFormatError::Shape(_))
        ));
        assert!(matches!(
            check(IdType::ResidentId, "11010119900307451A"),
            Err(IdFormatError::Shape(_))
        ));
    }

    #[test]
    fn other_chinese_documents() {
        let hk = with_check("81000019900307451");
        assert_eq!(check(IdType::HkMacauTaiwanResidencePermit, &hk), Ok(()));
        let mainland = with_check("11010119900307451");
        assert!(matches!(
            check(IdType::HkMacauTaiwanResidencePermit, &mainland),
            Err(IdFormatError::Shape(_))
        ));
        assert_eq!(
            check(IdType::ForeignPermanentResidentId, "USA110090031912"),
            Ok(())
        );
        let fpr18 = with_check("93310019900307451");
        assert_eq!(check(IdType::ForeignPermanentResidentId, &fpr18), Ok(()));
        assert!(check(IdType::ForeignPermanentResidentId, "12345").is_err());
        assert_eq!(check(IdType::HkMacauTravelPermit, "H12345678"), Ok(()));
        assert_eq!(check(IdType::HkMacauTravelPermit, "M1234567801"), Ok(()));
        assert!(check(IdType::HkMacauTravelPermit, "X12345678").is_err());
        assert!(check(IdType::HkMacauTravelPermit, "H").is_err());
        assert_eq!(check(IdType::TaiwanTravelPermit, "12345678"), Ok(()));
        assert!(check(IdType::TaiwanTravelPermit, "1234567").is_err());
    }

    #[test]
    fn generic_documents() {
        assert_eq!(check(IdType::Passport, "E12345678"), Ok(()));
        assert!(check(IdType::Passport, "ABCDEFGH").is_err(), "no digit");
        assert!(check(IdType::Passport, "E12").is_err());
        assert_eq!(check(IdType::DrivingLicence, "MORGA753116SM9IJ"), Ok(()));
        assert!(check(IdType::NationalId, &"1".repeat(25)).is_err());
    }

    #[test]
    fn normalisation() {
        assert_eq!(
            normalise(" 1101 0119-9003 07451x ").as_deref(),
            Ok("11010119900307451X")
        );
        assert_eq!(
            normalise("１１０１ｘ").as_deref(),
            Ok("1101X"),
            "full-width forms"
        );
        assert_eq!(normalise("e1234\u{3000}5678").as_deref(), Ok("E12345678"));
        assert_eq!(normalise(" - "), Err(IdFormatError::Empty));
        assert_eq!(normalise("12/34"), Err(IdFormatError::BadCharacter));
        assert_eq!(normalise("一二三"), Err(IdFormatError::BadCharacter));
        assert_eq!(normalise(&"1".repeat(65)), Err(IdFormatError::TooLong));
    }

    #[test]
    fn masking() {
        assert_eq!(mask("110101199003071234"), "1101**********1234");
        assert_eq!(mask("E12345678"), "E******78");
        assert_eq!(mask("12345"), "*****");
        assert_eq!(mask(""), "");
    }

    #[test]
    fn errors_never_echo() {
        for e in [
            IdFormatError::Empty,
            IdFormatError::TooLong,
            IdFormatError::BadCharacter,
            IdFormatError::Shape(FPR_SHAPE),
            IdFormatError::BirthDate,
            IdFormatError::CheckDigit,
        ] {
            assert!(!e.to_string().contains("1101"), "{e}");
        }
    }

    #[test]
    fn days_and_countries() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(normalise_country("chn").as_deref(), Some("CHN"));
        assert_eq!(normalise_country("D").as_deref(), Some("DEU"));
        assert_eq!(normalise_country("CN"), None);
        assert_eq!(normalise_country("C1N"), None);
    }

    #[test]
    fn names_round_trip() {
        for t in IdType::ALL {
            assert_eq!(IdType::parse(t.as_str()), Some(t));
            let json = serde_json::to_string(&t).expect("json");
            assert_eq!(json, format!("\"{}\"", t.as_str()));
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,80}", t in 0usize..11) {
            if let Ok(n) = normalise(&s) {
                let _ = check(IdType::ALL[t], &n);
                let _ = mask(&n);
            }
        }
    }
}

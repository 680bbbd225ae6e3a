//! Whether an ID number is well-formed for its document type, as a verifier checks before
//! it looks the person up. Pure functions; nothing here prints or returns the number.
//!
//! The 18-character numbers (resident ID and the documents carrying it, the residence
//! permit for Hong Kong, Macao and Taiwan residents, the 2023 foreigner's permanent
//! residence ID) follow GB 11643-1999: 6-digit region, 8-digit birth date, 3-digit
//! sequence, and an ISO 7064 MOD 11-2 check character (`0`-`9` or `X`). The others only
//! have a published shape.

use adapters::identity::{CivilDate, IdNumber, IdType};

/// ISO 7064 MOD 11-2 weights of the first 17 digits (2^(17-i) mod 11).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// The check character for each value of the weighted sum mod 11.
const CHECK: [u8; 11] = *b"10X98765432";

/// Province-level region codes of GB/T 2260 (the first two digits of a resident ID).
const PROVINCES: [u8; 34] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
];

/// Whether `id` is well-formed for `id_type`, with any birth date it encodes on or before
/// `today`.
pub(crate) fn well_formed(id_type: IdType, id: &IdNumber, today: CivilDate) -> bool {
    let s = id.expose().as_bytes();
    match id_type {
        IdType::ResidentId | IdType::TemporaryResidentId | IdType::HouseholdRegister => {
            gb11643(s, today)
                && s.get(..2)
                    .and_then(two_digits)
                    .is_some_and(|p| PROVINCES.contains(&p))
        }
        IdType::HmtResidencePermit => {
            gb11643(s, today)
                && [b"810000", b"820000", b"830000"]
                    .iter()
                    .any(|p| s.starts_with(*p))
        }
        IdType::ForeignPermanentResidenceId => match s.len() {
            // 2004 card: ISO 3166 alpha-3 country, then 12 digits.
            15 => s.iter().take(3).all(u8::is_ascii_uppercase) && digits(s.get(3..)),
            // 2023 card: GB 11643 layout, leading 9.
            18 => s.first() == Some(&b'9') && gb11643(s, today),
            _ => false,
        },
        // H or M, then 8 digits (2012+ card) or 10 (older booklet).
        IdType::HkMacaoTravelPermit => {
            matches!(s.first(), Some(b'H' | b'M'))
                && matches!(s.len(), 9 | 11)
                && digits(s.get(1..))
        }
        // 8 digits (2015+ card) or 10 (older booklet).
        IdType::TaiwanTravelPermit => matches!(s.len(), 8 | 10) && digits(Some(s)),
        // ICAO 9303: up to 9 characters in the MRZ, longer national numbers exist; any
        // letters and at least one digit.
        IdType::Passport => (5..=20).contains(&s.len()) && s.iter().any(u8::is_ascii_digit),
    }
}

/// 17 digits with a plausible birth date, then the MOD 11-2 check character.
fn gb11643(s: &[u8], today: CivilDate) -> bool {
    let (Some(body), Some(&check)) = (s.get(..17), s.get(17)) else {
        return false;
    };
    if s.len() != 18 || !digits(Some(body)) {
        return false;
    }
    let birth = birth_date(body);
    birth.is_some_and(|b| b <= today) && check_char(body) == Some(check)
}

/// The MOD 11-2 check character of 17 digits.
pub(crate) fn check_char(body: &[u8]) -> Option<u8> {
    if body.len() != 17 {
        return None;
    }
    let sum: u32 = body
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d.wrapping_sub(b'0')) * w)
        .sum();
    CHECK.get((sum % 11) as usize).copied()
}

/// The birth date at positions 7 to 14.
fn birth_date(body: &[u8]) -> Option<CivilDate> {
    let year = four_digits(body.get(6..10)?)?;
    let month = two_digits(body.get(10..12)?)?;
    let day = two_digits(body.get(12..14)?)?;
    CivilDate::new(year, month, day)
}

fn digits(s: Option<&[u8]>) -> bool {
    s.is_some_and(|s| !s.is_empty() && s.iter().all(u8::is_ascii_digit))
}

fn two_digits(s: &[u8]) -> Option<u8> {
    match s {
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => Some((a - b'0') * 10 + (b - b'0')),
        _ => None,
    }
}

fn four_digits(s: &[u8]) -> Option<u16> {
    let (hi, lo) = (two_digits(s.get(..2)?)?, two_digits(s.get(2..)?)?);
    Some(u16::from(hi) * 100 + u16::from(lo))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> CivilDate {
        CivilDate::new(2025, 6, 13).expect("date")
    }

    fn ok(t: IdType, s: &str) -> bool {
        well_formed(t, &IdNumber::parse(s).expect("shape"), today())
    }

    /// Completes 17 digits with their check character.
    fn with_check(body: &str) -> String {
        let c = check_char(body.as_bytes()).expect("17 digits");
        format!("{body}{}", char::from(c))
    }

    #[test]
    fn resident_id_check_digit_and_birth_date() {
        // The worked example of GB 11643-1999.
        assert!(ok(IdType::ResidentId, "11010519491231002X"));
        assert!(ok(IdType::ResidentId, "11010519491231002x"));
        assert!(ok(IdType::HouseholdRegister, "11010519491231002X"));
        assert!(ok(
            IdType::TemporaryResidentId,
            &with_check("44030420000229123")
        ));
        // Every other check character is refused.
        for c in "0123456789".chars() {
            assert!(
                !ok(IdType::ResidentId, &format!("11010519491231002{c}")),
                "{c}"
            );
        }
        // A transposition of two digits changes the check character.
        assert!(!ok(IdType::ResidentId, "11010519491213002X"));
        for body in [
            "44030420010229123", // 29 February of a common year
            "44030419001301123", // month 13
            "44030420300101123", // born after today
            "44030418991231123", // before 1900
            "99030419900101123", // no such province
        ] {
            assert!(!ok(IdType::ResidentId, &with_check(body)), "{body}");
        }
        assert!(!ok(IdType::ResidentId, "1101051949123100"));
        assert!(!ok(IdType::ResidentId, "A1010519491231002X"));
    }

    #[test]
    fn permits_and_passports() {
        assert!(ok(
            IdType::HmtResidencePermit,
            &with_check("81000019900101123")
        ));
        assert!(!ok(
            IdType::HmtResidencePermit,
            &with_check("11010519900101123")
        ));
        assert!(ok(IdType::ForeignPermanentResidenceId, "USA123456789012"));
        assert!(ok(
            IdType::ForeignPermanentResidenceId,
            &with_check("93000019900101123")
        ));
        assert!(!ok(IdType::ForeignPermanentResidenceId, "US1234567890123"));
        assert!(ok(IdType::HkMacaoTravelPermit, "H12345678"));
        assert!(ok(IdType::HkMacaoTravelPermit, "M1234567801"));
        assert!(!ok(IdType::HkMacaoTravelPermit, "X12345678"));
        assert!(!ok(IdType::HkMacaoTravelPermit, "H1234567"));
        assert!(ok(IdType::TaiwanTravelPermit, "12345678"));
        assert!(!ok(IdType::TaiwanTravelPermit, "T2345678"));
        assert!(ok(IdType::Passport, "E12345678"));
        assert!(!ok(IdType::Passport, "ABCDEFGH"));
        assert!(!ok(IdType::Passport, "E123"));
    }
}

//! ID numbers as documents print them: normalisation of what was typed or read, the
//! per-type shape and check-character rules, the birth date a number carries, and masking
//! for display. Pure string functions; errors say what is expected and never echo the
//! number.
//!
//! The 18-character numbers (the resident ID and the documents carrying it, the residence
//! permit for Hong Kong, Macao and Taiwan residents, the 2023 foreigner's permanent
//! residence ID) follow GB 11643-1999: 6-digit region, 8-digit birth date, 3-digit
//! sequence, and an ISO 7064 MOD 11-2 check character (`0`-`9` or `X`). The others only
//! have a published shape.

use super::id_type::IdType;
use super::values::CivilDate;
use zeroize::Zeroizing;

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

/// Province-level region codes of GB/T 2260 (the first two digits of a resident ID).
const PROVINCES: [u8; 34] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
];

const FPR_SHAPE: &str = "15 characters (3 letters, 12 digits) or 18 starting with 9";

/// Normalises a number as typed or read: full-width forms to ASCII, spaces and hyphens
/// dropped, letters upper-cased. Anything else is refused. The result is at most
/// [`MAX_RAW_LEN`] ASCII letters and digits, and is zeroised on drop.
pub fn normalise(raw: &str) -> Result<Zeroizing<String>, IdFormatError> {
    if raw.chars().count() > MAX_RAW_LEN {
        return Err(IdFormatError::TooLong);
    }
    // Sized once (the result is never longer than the input), so no copy is left behind.
    let mut out = Zeroizing::new(String::with_capacity(raw.len()));
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
        IdType::HkMacaoTaiwanResidencePermit => {
            const SHAPE: &str = "18 characters starting 810000, 820000 or 830000";
            if !(b.starts_with(b"810000") || b.starts_with(b"820000") || b.starts_with(b"830000")) {
                return Err(IdFormatError::Shape(SHAPE));
            }
            citizen_number(b, SHAPE)
        }
        IdType::ForeignPermanentResidentId => match b.len() {
            // 2004 card: ISO 3166 alpha-3 country, then 12 digits.
            15 if b[..3].iter().all(u8::is_ascii_uppercase)
                && b[3..].iter().all(u8::is_ascii_digit) =>
            {
                Ok(())
            }
            // 2023 card: the resident-ID layout, starting with 9.
            18 if b[0] == b'9' => citizen_number(b, FPR_SHAPE),
            _ => Err(IdFormatError::Shape(FPR_SHAPE)),
        },
        // H or M, then 8 digits (2012+ card) or 10 (older booklet).
        IdType::HkMacaoTravelPermit => {
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
        // 8 digits (2015+ card) or the 10 characters of an older booklet.
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
        // ICAO 9303: up to 9 characters in the MRZ, longer national numbers exist; any
        // letters and at least one digit.
        IdType::Passport => generic(b, 5, 20, "5 to 20 letters and digits"),
        IdType::NationalId | IdType::ResidencePermit | IdType::DrivingLicence => {
            generic(b, 5, 24, "5 to 24 letters and digits")
        }
    }
}

fn generic(b: &[u8], min: usize, max: usize, shape: &'static str) -> Result<(), IdFormatError> {
    if (min..=max).contains(&b.len()) && b.iter().any(u8::is_ascii_digit) {
        Ok(())
    } else {
        Err(IdFormatError::Shape(shape))
    }
}

/// The mainland citizen-number layout (GB 11643-1999).
fn citizen_number(b: &[u8], shape: &'static str) -> Result<(), IdFormatError> {
    if b.len() != 18
        || !b[..17].iter().all(u8::is_ascii_digit)
        || !(b[17].is_ascii_digit() || b[17] == b'X')
    {
        return Err(IdFormatError::Shape(shape));
    }
    if layout_birth_date(b).is_none() {
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

/// The holder's birth date, for a normalised number of a type that carries one (the
/// citizen layout), if it is a real date between 1900 and 2099.
pub fn birth_date(id_type: IdType, n: &str) -> Option<CivilDate> {
    let carries = id_type.citizen_layout()
        || (id_type == IdType::ForeignPermanentResidentId && n.len() == 18);
    carries.then(|| layout_birth_date(n.as_bytes())).flatten()
}

/// Whether a normalised citizen-layout number starts with a province-level region code
/// of GB/T 2260. Numbers of other types have no region code: `false`.
pub fn known_region(n: &str) -> bool {
    let b = n.as_bytes();
    match b {
        [h @ b'0'..=b'9', l @ b'0'..=b'9', ..] => {
            PROVINCES.contains(&((h - b'0') * 10 + (l - b'0')))
        }
        _ => false,
    }
}

/// The date at characters 7 to 14 of a citizen-layout number.
fn layout_birth_date(b: &[u8]) -> Option<CivilDate> {
    let d = b.get(6..14)?;
    if !d.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let num = |s: &[u8]| s.iter().fold(0u16, |a, c| a * 10 + u16::from(c - b'0'));
    let year = num(&d[..4]);
    if year > 2099 {
        return None;
    }
    let (m, day) = (num(&d[4..6]), num(&d[6..]));
    CivilDate::new(year, u8::try_from(m).ok()?, u8::try_from(day).ok()?)
}

/// A normalised number masked for display: the first four and last four characters of a
/// long number (`1101**********1234`), the first one and last two of a shorter one
/// (`E******78`), nothing of a very short one.
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

#[cfg(test)]
mod tests;

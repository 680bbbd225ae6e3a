//! The two personal values of real-name registration: the person's name and ID number,
//! as the gateway's `subscriber`, the verifier protocol and the simulator hold them. Both
//! print as `***`, are zeroised on drop, and have no `Display` or `Serialize`: the only
//! ways out are [`IdNumber::expose`] / [`PersonName::expose`] (for the wire, the keyed
//! hash and sealing) and the `masked` forms for display.

use super::error::IdentityCodecError;
use super::id_format::{self, IdFormatError};
use super::id_type::IdType;
use super::values::CivilDate;
use zeroize::Zeroizing;

/// Longest ID number accepted, in characters.
pub const MAX_ID_NUMBER_CHARS: usize = 64;
/// Longest name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 256;

/// An ID document number: 1 to 64 ASCII letters and digits, upper case (a resident ID's
/// check character `x` becomes `X`). [`IdNumber::parse_as`] also checks it for its
/// document type; [`IdNumber::parse`], the protocol's, does not (that is the verifier's
/// decision).
#[derive(Clone, PartialEq, Eq)]
pub struct IdNumber(Zeroizing<String>);

impl IdNumber {
    /// Parses an ID number as the verifier protocol carries it (already normalised); the
    /// error names the field, never the value.
    pub fn parse(s: &str) -> Result<Self, IdentityCodecError> {
        let ok = !s.is_empty()
            && s.len() <= MAX_ID_NUMBER_CHARS
            && s.bytes().all(|b| b.is_ascii_alphanumeric());
        if !ok {
            return Err(IdentityCodecError::InvalidValue {
                field: "subject.id_number",
            });
        }
        Ok(Self(Zeroizing::new(s.to_ascii_uppercase())))
    }

    /// Normalises a number as typed or read (full-width forms, spaces, hyphens, case) and
    /// checks it against `id_type`'s shape and check character.
    pub fn parse_as(id_type: IdType, raw: &str) -> Result<Self, IdFormatError> {
        let n = id_format::normalise(raw)?;
        id_format::check(id_type, &n)?;
        Ok(Self(n))
    }

    /// Checks the number against `id_type`'s shape and check character.
    pub fn check(&self, id_type: IdType) -> Result<(), IdFormatError> {
        id_format::check(id_type, &self.0)
    }

    /// The number itself. Call it only to put the number on the wire, to hash it, to seal
    /// it or to check it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The masked form for display (`1101**********1234`).
    pub fn masked(&self) -> String {
        id_format::mask(&self.0)
    }

    /// The holder's birth date, for numbers of `id_type` that carry one (the mainland
    /// citizen layout).
    pub fn birth_date(&self, id_type: IdType) -> Option<CivilDate> {
        id_format::birth_date(id_type, &self.0)
    }
}

impl std::fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdNumber(***)")
    }
}

/// A person's name as printed on the ID: 1 to 256 characters, not blank, no control
/// characters. Kept as given (no case or space folding: the verifier compares it).
#[derive(Clone, PartialEq, Eq)]
pub struct PersonName(Zeroizing<String>);

impl PersonName {
    /// Parses a name; the error names the field, never the value.
    pub fn parse(s: &str) -> Result<Self, IdentityCodecError> {
        let ok = !s.trim().is_empty()
            && s.chars().count() <= MAX_NAME_CHARS
            && !s.chars().any(char::is_control);
        if !ok {
            return Err(IdentityCodecError::InvalidValue {
                field: "subject.name",
            });
        }
        Ok(Self(Zeroizing::new(s.to_owned())))
    }

    /// The name itself. Call it only to put the name on the wire, to seal it or to check
    /// it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The first character, the rest masked (`张*`, `L*****`).
    pub fn masked(&self) -> String {
        let mut c = self.0.chars();
        let first: String = c.next().into_iter().collect();
        first + &"*".repeat(c.count())
    }
}

impl std::fmt::Debug for PersonName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PersonName(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_number_shape_and_redaction() {
        let id = IdNumber::parse("11010119900307451x").expect("valid");
        assert_eq!(id.expose(), "11010119900307451X");
        assert_eq!(format!("{id:?}"), "IdNumber(***)");
        for bad in ["", "1101-0119", "１２３", &"1".repeat(65)] {
            let err = IdNumber::parse(bad).expect_err(bad);
            assert_eq!(err.to_string(), "subject.id_number: invalid value");
        }
    }

    #[test]
    fn id_number_as_a_document() {
        let id = IdNumber::parse_as(IdType::ResidentId, "110105 19491231 002x").expect("valid");
        assert_eq!(id.expose(), "11010519491231002X");
        assert_eq!(id.masked(), "1101**********002X");
        assert_eq!(id.check(IdType::ResidentId), Ok(()));
        assert_eq!(
            id.birth_date(IdType::ResidentId),
            CivilDate::new(1949, 12, 31)
        );
        assert_eq!(
            IdNumber::parse_as(IdType::ResidentId, "110105194912310021"),
            Err(IdFormatError::CheckDigit)
        );
        let passport = IdNumber::parse_as(IdType::Passport, "E12345678").expect("passport");
        assert_eq!(passport.birth_date(IdType::Passport), None);
        // What the protocol carries is not checked for its type: the verifier decides.
        let loose = IdNumber::parse("110105194912310021").expect("wire shape");
        assert_eq!(
            loose.check(IdType::ResidentId),
            Err(IdFormatError::CheckDigit)
        );
    }

    #[test]
    fn name_shape_and_redaction() {
        let name = PersonName::parse("张三").expect("valid");
        assert_eq!(name.expose(), "张三");
        assert_eq!(format!("{name:?}"), "PersonName(***)");
        assert_eq!(name.masked(), "张*");
        let latin = PersonName::parse("Lovell").expect("valid");
        assert_eq!(latin.masked(), "L*****");
        assert!(PersonName::parse("Mary Ann O'Neil-Smith").is_ok());
        for bad in ["", "   ", "a\nb", &"名".repeat(257)] {
            assert!(PersonName::parse(bad).is_err(), "{bad:?}");
        }
    }
}

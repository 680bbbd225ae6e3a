//! The two personal values of a verification request: the person's name and ID number.
//! Both print as `***`, are zeroised on drop, and have no `Display` or `Serialize`: the
//! only way out is [`IdNumber::expose`] / [`PersonName::expose`], which the codec calls
//! once while writing the request body.

use super::error::IdentityCodecError;
use zeroize::Zeroizing;

/// Longest ID number accepted, in characters.
pub const MAX_ID_NUMBER_CHARS: usize = 64;
/// Longest name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 256;

/// An ID document number: 1 to 64 ASCII letters and digits, upper-cased when parsed (a
/// resident ID's check character `x` becomes `X`). Whether it is well-formed for its
/// document type is the verifier's decision, not ours.
#[derive(Clone, PartialEq, Eq)]
pub struct IdNumber(Zeroizing<String>);

impl IdNumber {
    /// Parses an ID number; the error names the field, never the value.
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

    /// The number itself. Call it only to put the number on the wire or to check it.
    pub fn expose(&self) -> &str {
        &self.0
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

    /// The name itself. Call it only to put the name on the wire or to check it.
    pub fn expose(&self) -> &str {
        &self.0
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
    fn name_shape_and_redaction() {
        let name = PersonName::parse("张三").expect("valid");
        assert_eq!(name.expose(), "张三");
        assert_eq!(format!("{name:?}"), "PersonName(***)");
        assert!(PersonName::parse("Mary Ann O'Neil-Smith").is_ok());
        for bad in ["", "   ", "a\nb", &"名".repeat(257)] {
            assert!(PersonName::parse(bad).is_err(), "{bad:?}");
        }
    }
}

//! Subscriber and card identifiers, each parsed once ("parse, don't validate") into a type
//! that can only hold a valid value.

mod eid;
mod error;
mod iccid;
mod imsi;
mod msisdn;

pub use eid::Eid;
pub use error::IdentError;
pub use iccid::Iccid;
pub use imsi::{Imsi, Plmn};
pub use msisdn::Msisdn;

/// True if `s` is non-empty and only ASCII decimal digits.
pub(crate) fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The value of an ASCII decimal digit. Callers only pass bytes already checked with
/// [`all_digits`]; anything else maps to a non-digit nibble instead of panicking.
pub(crate) fn digit_value(b: u8) -> u8 {
    b.wrapping_sub(b'0') & 0x0F
}

/// Implements `Serialize`/`Deserialize` as the canonical string form via `Display`/`FromStr`.
macro_rules! string_serde {
    ($ty:ty, $expecting:literal) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$ty, E> {
                        v.parse().map_err(E::custom)
                    }
                }
                d.deserialize_str(V)
            }
        }
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use string_serde;

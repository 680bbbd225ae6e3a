//! EF.ACC (`6F78`, 2 bytes): a card's access-control classes (3GPP TS 31.102 §4.2.15,
//! TS 22.011 §4.2). Bit *n* of the big-endian 16-bit value is class *n*. Every card belongs
//! to exactly one of the ordinary classes 0–9, drawn so that a network can bar a tenth of
//! its users at a time; classes 11–15 are special categories held in addition, and class
//! 10 (emergency calls) is signalled by the network, never stored on the card.

use super::error::ProfileError;
use crate::Imsi;

/// Class 10, which the network signals and the card never holds.
const CLASS_10: u16 = 1 << 10;
/// The ordinary classes 0–9.
const ORDINARY: u16 = (1 << 10) - 1;

fn invalid(reason: &'static str) -> ProfileError {
    ProfileError::InvalidAcc { reason }
}

/// An EF.ACC value: exactly one ordinary class (0–9), any special classes (11–15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Acc(u16);

impl Acc {
    /// Checks a bitmap: class 10 clear and exactly one ordinary class set.
    pub fn new(bits: u16) -> Result<Self, ProfileError> {
        if bits & CLASS_10 != 0 {
            return Err(invalid(
                "access class 10 (emergency calls) is signalled by the network, never stored on the card",
            ));
        }
        if (bits & ORDINARY).count_ones() != 1 {
            return Err(invalid(
                "a card holds exactly one of the ordinary access classes 0-9 (one of the bits 0001-0200)",
            ));
        }
        Ok(Self(bits))
    }

    /// The conventional class of a card: the last digit of its IMSI, as Osmocom pySim
    /// assigns it, so the classes spread evenly over a batch of consecutive IMSIs.
    pub fn from_imsi(imsi: &Imsi) -> Self {
        let digit = imsi
            .as_str()
            .bytes()
            .last()
            .map_or(0, |b| b.wrapping_sub(b'0') % 10);
        Self(1 << digit)
    }

    /// The bitmap.
    pub fn bits(self) -> u16 {
        self.0
    }

    /// The file content: two bytes, big-endian.
    pub fn to_bytes(self) -> [u8; 2] {
        self.0.to_be_bytes()
    }
}

impl std::str::FromStr for Acc {
    type Err = ProfileError;

    /// Exactly 4 hex digits, the file content as written (`0080` is class 7).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 4 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid(
                "give exactly 4 hex digits, e.g. 0080 for access class 7",
            ));
        }
        let bits = u16::from_str_radix(s, 16).map_err(|_| invalid("not hexadecimal"))?;
        Self::new(bits)
    }
}

impl std::fmt::Display for Acc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04x}", self.0)
    }
}

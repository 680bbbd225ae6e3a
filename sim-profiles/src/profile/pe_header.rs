//! `PEHeader`: the first component (`A0`) of every profile element except `header`.

use super::der::{decode_null, decode_uint, push_uint};
use super::error::ProfileError;
use super::tlv::{Reader, Tlv, push_tlv};

const ELEMENT: &str = "PEHeader";
/// Largest `UInt15`.
const MAX_ID: u16 = 0x7FFF;

/// A PE header: whether the element is mandatory to process, and its unique id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PeHeader {
    /// `mandated NULL OPTIONAL` (`80 00`).
    pub mandated: bool,
    /// `identification UInt15` (`81`), unique within a package.
    pub identification: u16,
}

impl PeHeader {
    /// Decodes the header from its `A0` TLV.
    pub(crate) fn decode(tlv: &Tlv<'_>) -> Result<Self, ProfileError> {
        let mut r = Reader::children(tlv);
        let mandated = match r.take(0x80)? {
            Some(t) => {
                decode_null(&t, ELEMENT)?;
                true
            }
            None => false,
        };
        let id = r.expect(0x81, ELEMENT, "identification missing")?;
        let identification: u16 = decode_uint(&id, ELEMENT)?;
        if identification > MAX_ID {
            return Err(ProfileError::malformed(
                ELEMENT,
                "identification above 32767",
            ));
        }
        r.finish(ELEMENT)?;
        Ok(Self {
            mandated,
            identification,
        })
    }

    /// Reads the mandatory `A0` header component from an element's reader.
    pub(crate) fn read(r: &mut Reader<'_>, element: &'static str) -> Result<Self, ProfileError> {
        let tlv = r.expect(0xA0, element, "PE header missing")?;
        Self::decode(&tlv)
    }

    /// Appends the `A0` TLV.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let mut v = Vec::with_capacity(7);
        if self.mandated {
            push_tlv(&mut v, 0x80, &[]);
        }
        push_uint(&mut v, 0x81, u64::from(self.identification));
        push_tlv(out, 0xA0, &v);
    }
}

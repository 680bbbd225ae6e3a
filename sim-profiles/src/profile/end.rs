//! `PE-End` (`AA`): the last element of every package.

use super::error::ProfileError;
use super::pe_header::PeHeader;
use super::tlv::{Reader, Tlv, push_tlv};

const ELEMENT: &str = "PE-End";

/// The end element: only its PE header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct End {
    /// `end-header` (`A0`).
    pub header: PeHeader,
}

impl End {
    /// Decodes the element from its `AA` TLV.
    pub(crate) fn decode(tlv: &Tlv<'_>) -> Result<Self, ProfileError> {
        let mut r = Reader::children(tlv);
        let header = PeHeader::read(&mut r, ELEMENT)?;
        r.finish(ELEMENT)?;
        Ok(Self { header })
    }

    /// Appends the whole `AA` TLV.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let mut v = Vec::with_capacity(7);
        self.header.encode(&mut v);
        push_tlv(out, 0xAA, &v);
    }
}

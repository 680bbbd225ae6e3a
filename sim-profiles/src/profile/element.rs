//! The `ProfileElement` CHOICE: typed where this crate reads or changes an element, raw
//! DER (written back byte for byte) everywhere else.

use super::aka::AkaParameter;
use super::end::End;
use super::error::ProfileError;
use super::files::{MfElement, UsimElement};
use super::header::ProfileHeader;
use super::pe_header::PeHeader;
use super::pin::{PinCodes, PukCodes};
use super::tlv::{Reader, Tlv, is_constructed, is_context, read_tlv};

/// Tag of `header` (`[0]`).
pub const TAG_HEADER: u32 = 0xA0;
/// Tag of `pinCodes` (`[2]`).
pub const TAG_PIN_CODES: u32 = 0xA2;
/// Tag of `pukCodes` (`[3]`).
pub const TAG_PUK_CODES: u32 = 0xA3;
/// Tag of `akaParameter` (`[4]`).
pub const TAG_AKA_PARAMETER: u32 = 0xA4;
/// Tag of `end` (`[10]`).
pub const TAG_END: u32 = 0xAA;
/// Tag of `mf` (`[16]`).
pub const TAG_MF: u32 = 0xB0;
/// Tag of `usim` (`[19]`).
pub const TAG_USIM: u32 = 0xB3;

/// The v3.3.1 alternatives' names, in tag order (`[0]` to `[33]`).
const ALTERNATIVES: [&str; 34] = [
    "header",
    "genericFileManagement",
    "pinCodes",
    "pukCodes",
    "akaParameter",
    "cdmaParameter",
    "securityDomain",
    "rfm",
    "application",
    "nonStandard",
    "end",
    "rfu1",
    "rfu2",
    "rfu3",
    "rfu4",
    "rfu5",
    "mf",
    "cd",
    "telecom",
    "usim",
    "opt-usim",
    "isim",
    "opt-isim",
    "phonebook",
    "gsm-access",
    "csim",
    "opt-csim",
    "eap",
    "df-5gs",
    "df-saip",
    "df-snpn",
    "df-5gprose",
    "iot",
    "opt-iot",
];

/// The ASN.1 alternative name of a top-level tag, if v3.3.1 defines it.
pub fn alternative_name(tag: u32) -> Option<&'static str> {
    if !is_constructed(tag) {
        return None;
    }
    let n = super::tlv::context_number(tag)?;
    ALTERNATIVES.get(usize::try_from(n).ok()?).copied()
}

/// One profile element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileElement {
    /// `header` (`A0`).
    Header(ProfileHeader),
    /// `mf` (`B0`).
    Mf(MfElement),
    /// `usim` (`B3`).
    Usim(UsimElement),
    /// `akaParameter` (`A4`).
    Aka(AkaParameter),
    /// `pinCodes` (`A2`).
    PinCodes(PinCodes),
    /// `pukCodes` (`A3`).
    PukCodes(PukCodes),
    /// `end` (`AA`).
    End(End),
    /// Any other element, kept as its DER bytes.
    Raw(RawPe),
}

/// An element this crate does not model: its tag and whole DER TLV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawPe {
    /// The tag, as its encoded bytes big-endian (`BF 1F` is `0xBF1F`).
    pub tag: u32,
    /// The whole TLV.
    pub der: Vec<u8>,
}

impl RawPe {
    /// The PE header, if the element's first component is a well-formed one.
    pub fn pe_header(&self) -> Option<PeHeader> {
        let outer = read_tlv(&self.der, 0).ok()?;
        let first = Reader::children(&outer).next_tlv().ok()??;
        (first.tag == 0xA0)
            .then(|| PeHeader::decode(&first).ok())
            .flatten()
    }
}

impl ProfileElement {
    /// Decodes one element from exactly one whole TLV. Known elements are decoded typed and
    /// must be canonical DER (re-encoding reproduces the input); others are kept raw.
    pub fn decode(der: &[u8]) -> Result<Self, ProfileError> {
        let tlv = read_tlv(der, 0)?;
        if tlv.bytes.len() != der.len() {
            return Err(ProfileError::malformed("ProfileElement", "trailing bytes"));
        }
        Self::decode_tlv(&tlv)
    }

    /// Decodes one element from a TLV read out of a larger buffer.
    pub(crate) fn decode_tlv(tlv: &Tlv<'_>) -> Result<Self, ProfileError> {
        if !is_context(tlv.tag) || !is_constructed(tlv.tag) {
            return Err(ProfileError::NotAnElement { offset: tlv.offset });
        }
        let element = match tlv.tag {
            TAG_HEADER => Self::Header(ProfileHeader::decode(tlv)?),
            TAG_MF => Self::Mf(MfElement::decode(tlv)?),
            TAG_USIM => Self::Usim(UsimElement::decode(tlv)?),
            TAG_AKA_PARAMETER => Self::Aka(AkaParameter::decode(tlv)?),
            TAG_PIN_CODES => Self::PinCodes(PinCodes::decode(tlv)?),
            TAG_PUK_CODES => Self::PukCodes(PukCodes::decode(tlv)?),
            TAG_END => Self::End(End::decode(tlv)?),
            tag => {
                return Ok(Self::Raw(RawPe {
                    tag,
                    der: tlv.bytes.to_vec(),
                }));
            }
        };
        if element.encode() != tlv.bytes {
            return Err(ProfileError::NonCanonical {
                element: element.name(),
            });
        }
        Ok(element)
    }

    /// The element's tag, as its encoded bytes big-endian.
    pub fn tag(&self) -> u32 {
        match self {
            Self::Header(_) => TAG_HEADER,
            Self::Mf(_) => TAG_MF,
            Self::Usim(_) => TAG_USIM,
            Self::Aka(_) => TAG_AKA_PARAMETER,
            Self::PinCodes(_) => TAG_PIN_CODES,
            Self::PukCodes(_) => TAG_PUK_CODES,
            Self::End(_) => TAG_END,
            Self::Raw(raw) => raw.tag,
        }
    }

    /// The ASN.1 alternative name, or `"unknown"` for a tag v3.3.1 does not define.
    pub fn name(&self) -> &'static str {
        alternative_name(self.tag()).unwrap_or("unknown")
    }

    /// The PE header; `None` for the profile header (which has none) and for raw elements
    /// without a well-formed one.
    pub fn pe_header(&self) -> Option<PeHeader> {
        match self {
            Self::Header(_) => None,
            Self::Mf(e) => Some(*e.header()),
            Self::Usim(e) => Some(*e.header()),
            Self::Aka(e) => Some(e.header),
            Self::PinCodes(e) => Some(e.header),
            Self::PukCodes(e) => Some(e.header),
            Self::End(e) => Some(e.header),
            Self::Raw(raw) => raw.pe_header(),
        }
    }

    /// Appends the element's DER.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Self::Header(e) => e.encode(out),
            Self::Mf(e) => out.extend_from_slice(e.der()),
            Self::Usim(e) => out.extend_from_slice(e.der()),
            Self::Aka(e) => e.encode(out),
            Self::PinCodes(e) => e.encode(out),
            Self::PukCodes(e) => e.encode(out),
            Self::End(e) => e.encode(out),
            Self::Raw(raw) => out.extend_from_slice(&raw.der),
        }
    }

    /// The element's DER.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }
}

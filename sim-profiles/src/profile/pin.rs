//! `PE-PINCodes` (`A2`) and `PE-PUKCodes` (`A3`).

use super::der::{decode_fixed, decode_uint, push_uint};
use super::error::ProfileError;
use super::pe_header::PeHeader;
use super::tlv::{Reader, Tlv, push_tlv};

const PIN_ELEMENT: &str = "PE-PINCodes";
const PUK_ELEMENT: &str = "PE-PUKCodes";

/// `pinAttributes` DEFAULT.
pub const DEFAULT_PIN_ATTRIBUTES: u8 = 7;
/// PIN `maxNumOfAttemps-retryNumLeft` DEFAULT (3 of 3).
pub const DEFAULT_PIN_ATTEMPTS: u8 = 0x33;
/// PUK `maxNumOfAttemps-retryNumLeft` DEFAULT (10 of 10).
pub const DEFAULT_PUK_ATTEMPTS: u8 = 0xAA;

/// The PIN element: its header and either PIN configurations or a file path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinCodes {
    /// `pin-Header` (`A0`).
    pub header: PeHeader,
    /// `pinCodes` (`A1`, explicit CHOICE).
    pub codes: PinCodesContent,
}

/// The `pinCodes` CHOICE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinCodesContent {
    /// `pinconfig` (`A0`): SEQUENCE (1..26) OF PINConfiguration.
    Pins(Vec<PinConfiguration>),
    /// `filePath` (`81`): the PIN context is shared with another DF.
    FilePath(Vec<u8>),
}

/// One `PINConfiguration`.
#[derive(Clone, PartialEq, Eq)]
pub struct PinConfiguration {
    /// `keyReference` (`80`): pinAppl1 = 1, adm1 = 10, secondPINAppl1 = 129, …
    pub key_reference: u8,
    /// `pinValue` (`81`): ASCII digits padded with `FF`.
    pub value: [u8; 8],
    /// `unblockingPINReference` (`82`) OPTIONAL.
    pub unblocking_reference: Option<u8>,
    /// `pinAttributes` (`83`), DEFAULT 7.
    pub attributes: u8,
    /// `maxNumOfAttemps-retryNumLeft` (`84`): high nibble max, low nibble left; DEFAULT `0x33`.
    pub attempts: u8,
}

/// The PUK element (once per package, in the MF context).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PukCodes {
    /// `puk-Header` (`A0`).
    pub header: PeHeader,
    /// `pukCodes` (`A1`): SEQUENCE (1..16) OF PUKConfiguration.
    pub codes: Vec<PukConfiguration>,
}

/// One `PUKConfiguration`.
#[derive(Clone, PartialEq, Eq)]
pub struct PukConfiguration {
    /// `keyReference` (`80`): pukAppl1 = 1, secondPUKAppl1 = 129, …
    pub key_reference: u8,
    /// `pukValue` (`81`).
    pub value: [u8; 8],
    /// `maxNumOfAttemps-retryNumLeft` (`82`), DEFAULT `0xAA`.
    pub attempts: u8,
}

/// Pads ASCII digits with `FF` to the 8-byte PIN/PUK coding; `None` if longer than 8 bytes.
pub fn pad_code(digits: &str) -> Option<[u8; 8]> {
    let bytes = digits.as_bytes();
    let mut out = [0xFFu8; 8];
    out.get_mut(..bytes.len())?.copy_from_slice(bytes);
    Some(out)
}

impl std::fmt::Debug for PinConfiguration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinConfiguration")
            .field("key_reference", &self.key_reference)
            .field("value", &"***")
            .field("unblocking_reference", &self.unblocking_reference)
            .field("attributes", &self.attributes)
            .field("attempts", &self.attempts)
            .finish()
    }
}

impl std::fmt::Debug for PukConfiguration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PukConfiguration")
            .field("key_reference", &self.key_reference)
            .field("value", &"***")
            .field("attempts", &self.attempts)
            .finish()
    }
}

impl PinConfiguration {
    fn decode(tlv: &Tlv<'_>) -> Result<Self, ProfileError> {
        let mut r = Reader::children(tlv);
        let key = r.expect(0x80, PIN_ELEMENT, "keyReference missing")?;
        let value = r.expect(0x81, PIN_ELEMENT, "pinValue missing")?;
        let unblock = r.take(0x82)?;
        let attributes = r.take(0x83)?;
        let attempts = r.take(0x84)?;
        r.finish(PIN_ELEMENT)?;
        Ok(Self {
            key_reference: decode_uint(&key, PIN_ELEMENT)?,
            value: decode_fixed(&value, PIN_ELEMENT, "pinValue must be 8 bytes")?,
            unblocking_reference: unblock.map(|t| decode_uint(&t, PIN_ELEMENT)).transpose()?,
            attributes: match attributes {
                Some(t) => decode_uint(&t, PIN_ELEMENT)?,
                None => DEFAULT_PIN_ATTRIBUTES,
            },
            attempts: match attempts {
                Some(t) => decode_uint(&t, PIN_ELEMENT)?,
                None => DEFAULT_PIN_ATTEMPTS,
            },
        })
    }

    fn encode(&self, out: &mut Vec<u8>) {
        let mut v = Vec::with_capacity(24);
        push_uint(&mut v, 0x80, u64::from(self.key_reference));
        push_tlv(&mut v, 0x81, &self.value);
        if let Some(u) = self.unblocking_reference {
            push_uint(&mut v, 0x82, u64::from(u));
        }
        if self.attributes != DEFAULT_PIN_ATTRIBUTES {
            push_uint(&mut v, 0x83, u64::from(self.attributes));
        }
        if self.attempts != DEFAULT_PIN_ATTEMPTS {
            push_uint(&mut v, 0x84, u64::from(self.attempts));
        }
        push_tlv(out, 0x30, &v);
    }
}

impl PinCodes {
    /// Decodes the element from its `A2` TLV.
    pub(crate) fn decode(tlv: &Tlv<'_>) -> Result<Self, ProfileError> {
        let mut r = Reader::children(tlv);
        let header = PeHeader::read(&mut r, PIN_ELEMENT)?;
        let codes = r.expect(0xA1, PIN_ELEMENT, "pinCodes missing")?;
        r.finish(PIN_ELEMENT)?;
        let mut inner = Reader::children(&codes);
        let choice = inner
            .next_tlv()?
            .ok_or(ProfileError::malformed(PIN_ELEMENT, "empty pinCodes"))?;
        inner.finish(PIN_ELEMENT)?;
        let codes = match choice.tag {
            0xA0 => {
                let mut list = Reader::children(&choice);
                let mut pins = Vec::new();
                while let Some(t) = list.next_tlv()? {
                    if t.tag != 0x30 {
                        return Err(ProfileError::malformed(
                            PIN_ELEMENT,
                            "entry is not a SEQUENCE",
                        ));
                    }
                    pins.push(PinConfiguration::decode(&t)?);
                }
                if pins.is_empty() {
                    return Err(ProfileError::malformed(PIN_ELEMENT, "no PINConfiguration"));
                }
                PinCodesContent::Pins(pins)
            }
            0x81 => PinCodesContent::FilePath(choice.value().to_vec()),
            _ => {
                return Err(ProfileError::malformed(
                    PIN_ELEMENT,
                    "unknown pinCodes alternative",
                ));
            }
        };
        Ok(Self { header, codes })
    }

    /// Appends the whole `A2` TLV.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let mut v = Vec::with_capacity(64);
        self.header.encode(&mut v);
        let mut choice = Vec::with_capacity(48);
        match &self.codes {
            PinCodesContent::Pins(pins) => {
                let mut list = Vec::with_capacity(pins.len() * 24);
                for p in pins {
                    p.encode(&mut list);
                }
                push_tlv(&mut choice, 0xA0, &list);
            }
            PinCodesContent::FilePath(path) => push_tlv(&mut choice, 0x81, path),
        }
        push_tlv(&mut v, 0xA1, &choice);
        push_tlv(out, 0xA2, &v);
    }
}

impl PukConfiguration {
    fn decode(tlv: &Tlv<'_>) -> Result<Self, ProfileError> {
        let mut r = Reader::children(tlv);
        let key = r.expect(0x80, PUK_ELEMENT, "keyReference missing")?;
        let value = r.expect(0x81, PUK_ELEMENT, "pukValue missing")?;
        let attempts = r.take(0x82)?;
        r.finish(PUK_ELEMENT)?;
        Ok(Self {
            key_reference: decode_uint(&key, PUK_ELEMENT)?,
            value: decode_fixed(&value, PUK_ELEMENT, "pukValue must be 8 bytes")?,
            attempts: match attempts {
                Some(t) => decode_uint(&t, PUK_ELEMENT)?,
                None => DEFAULT_PUK_ATTEMPTS,
            },
        })
    }

    fn encode(&self, out: &mut Vec<u8>) {
        let mut v = Vec::with_capacity(20);
        push_uint(&mut v, 0x80, u64::from(self.key_reference));
        push_tlv(&mut v, 0x81, &self.value);
        if self.attempts != DEFAULT_PUK_ATTEMPTS {
            push_uint(&mut v, 0x82, u64::from(self.attempts));
        }
        push_tlv(out, 0x30, &v);
    }
}

impl PukCodes {
    /// Decodes the element from its `A3` TLV.
    pub(crate) fn decode(tlv: &Tlv<'_>) -> Result<Self, ProfileError> {
        let mut r = Reader::children(tlv);
        let header = PeHeader::read(&mut r, PUK_ELEMENT)?;
        let codes = r.expect(0xA1, PUK_ELEMENT, "pukCodes missing")?;
        r.finish(PUK_ELEMENT)?;
        let mut list = Reader::children(&codes);
        let mut out = Vec::new();
        while let Some(t) = list.next_tlv()? {
            if t.tag != 0x30 {
                return Err(ProfileError::malformed(
                    PUK_ELEMENT,
                    "entry is not a SEQUENCE",
                ));
            }
            out.push(PukConfiguration::decode(&t)?);
        }
        if out.is_empty() {
            return Err(ProfileError::malformed(PUK_ELEMENT, "no PUKConfiguration"));
        }
        Ok(Self { header, codes: out })
    }

    /// Appends the whole `A3` TLV.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let mut v = Vec::with_capacity(64);
        self.header.encode(&mut v);
        let mut list = Vec::with_capacity(self.codes.len() * 20);
        for c in &self.codes {
            c.encode(&mut list);
        }
        push_tlv(&mut v, 0xA1, &list);
        push_tlv(out, 0xA3, &v);
    }
}

//! `PE-MF` (`B0`) and `PE-USIM` (`B3`), kept as raw DER with access to the `fillFileContent`
//! (`83`) of the EFs personalisation writes: EF.ICCID (`A4`) in the MF, EF.IMSI (`A3`) and
//! EF.ACC (`B2`) in the USIM. Replacing a content re-frames only the enclosing lengths;
//! every other byte stays.

use super::acc::Acc;
use super::error::ProfileError;
use super::pe_header::PeHeader;
use super::tlv::{Reader, Tlv, push_tlv, read_tlv};
use crate::{Iccid, Imsi};
use std::ops::Range;

/// Tag of `fillFileContent` inside a `File`.
const FILL_FILE_CONTENT: u32 = 0x83;
/// Tag of `fillFileOffset` inside a `File`.
const FILL_FILE_OFFSET: u32 = 0x82;

/// One EF this crate reads or replaces: its component tag in the element, and its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ef {
    tag: u32,
    name: &'static str,
    /// Why its content cannot be replaced when it is written at a non-zero offset.
    at_offset: &'static str,
}

const EF_ICCID: Ef = Ef {
    tag: 0xA4,
    name: "EF.ICCID",
    at_offset: "EF.ICCID content follows a fillFileOffset",
};
const EF_IMSI: Ef = Ef {
    tag: 0xA3,
    name: "EF.IMSI",
    at_offset: "EF.IMSI content follows a fillFileOffset",
};
const EF_ACC: Ef = Ef {
    tag: 0xB2,
    name: "EF.ACC",
    at_offset: "EF.ACC content follows a fillFileOffset",
};

/// Where the first `fillFileContent` of the first component `ef.tag` is, as a range of
/// `der` (the whole element); `None` if the file or its content is absent.
fn locate(der: &[u8], ef: Ef) -> Result<Option<Range<usize>>, ProfileError> {
    let outer = read_tlv(der, 0)?;
    let mut r = Reader::children(&outer);
    while let Some(c) = r.next_tlv()? {
        if c.tag != ef.tag {
            continue;
        }
        let mut items = Reader::children(&c);
        while let Some(item) = items.next_tlv()? {
            if item.tag == FILL_FILE_CONTENT {
                let start = item.value_offset().saturating_sub(outer.offset);
                return Ok(Some(start..start.saturating_add(item.value().len())));
            }
        }
        return Ok(None);
    }
    Ok(None)
}

/// A file-system element: raw DER, its decoded PE header, and where its main EF's content
/// is (checked at decode; other EFs are found when asked for).
#[derive(Debug, Clone, PartialEq, Eq)]
struct FilePe {
    element: &'static str,
    main: Ef,
    header: PeHeader,
    der: Vec<u8>,
    content: Option<Range<usize>>,
}

impl FilePe {
    fn decode(tlv: &Tlv<'_>, element: &'static str, main: Ef) -> Result<Self, ProfileError> {
        let mut r = Reader::children(tlv);
        let header = PeHeader::read(&mut r, element)?;
        while r.next_tlv()?.is_some() {}
        let der = tlv.bytes.to_vec();
        let content = locate(&der, main)?;
        Ok(Self {
            element,
            main,
            header,
            der,
            content,
        })
    }

    fn content(&self) -> Option<&[u8]> {
        self.content.clone().and_then(|r| self.der.get(r))
    }

    fn required_content(&self) -> Result<&[u8], ProfileError> {
        self.content().ok_or(ProfileError::MissingFile {
            file: self.main.name,
        })
    }

    /// The content of another EF of the element, if present and well-formed.
    fn content_of(&self, ef: Ef) -> Option<&[u8]> {
        locate(&self.der, ef)
            .ok()
            .flatten()
            .and_then(|r| self.der.get(r))
    }

    /// Replaces the first `fillFileContent` of `ef` (appending one if the file has none),
    /// re-framing the file and the element. Refuses a file whose first content is written
    /// after a non-zero `fillFileOffset` (a relative skip), as a whole-file value would
    /// land at that offset.
    fn set_content(&mut self, ef: Ef, new: &[u8]) -> Result<(), ProfileError> {
        let outer = read_tlv(&self.der, 0)?;
        let mut r = Reader::children(&outer);
        let mut value = Vec::with_capacity(self.der.len() + new.len());
        let mut found = false;
        while let Some(c) = r.next_tlv()? {
            if c.tag != ef.tag || found {
                value.extend_from_slice(c.bytes);
                continue;
            }
            found = true;
            let mut items = Reader::children(&c);
            let mut file = Vec::with_capacity(c.value().len() + new.len());
            let mut replaced = false;
            while let Some(item) = items.next_tlv()? {
                if item.tag == FILL_FILE_OFFSET && !replaced && item.value().iter().any(|b| *b != 0)
                {
                    return Err(ProfileError::malformed(self.element, ef.at_offset));
                }
                if item.tag == FILL_FILE_CONTENT && !replaced {
                    push_tlv(&mut file, FILL_FILE_CONTENT, new);
                    replaced = true;
                } else {
                    file.extend_from_slice(item.bytes);
                }
            }
            if !replaced {
                push_tlv(&mut file, FILL_FILE_CONTENT, new);
            }
            push_tlv(&mut value, c.tag, &file);
        }
        if !found {
            return Err(ProfileError::MissingFile { file: ef.name });
        }
        let mut der = Vec::with_capacity(value.len() + 6);
        push_tlv(&mut der, outer.tag, &value);
        let tlv = read_tlv(&der, 0)?;
        *self = Self::decode(&tlv, self.element, self.main)?;
        Ok(())
    }
}

/// `PE-MF`: the master file and its mandatory EFs, with typed access to EF.ICCID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfElement(FilePe);

impl MfElement {
    /// Decodes the element from its `B0` TLV.
    pub(crate) fn decode(tlv: &Tlv<'_>) -> Result<Self, ProfileError> {
        FilePe::decode(tlv, "PE-MF", EF_ICCID).map(Self)
    }

    /// The element's PE header.
    pub fn header(&self) -> &PeHeader {
        &self.0.header
    }

    /// The whole element as DER.
    pub fn der(&self) -> &[u8] {
        &self.0.der
    }

    /// EF.ICCID's `fillFileContent` bytes (nibble-swapped ICCID), if present.
    pub fn ef_iccid_content(&self) -> Option<&[u8]> {
        self.0.content()
    }

    /// The ICCID coded in EF.ICCID.
    pub fn iccid(&self) -> Result<Iccid, ProfileError> {
        Iccid::from_ef_bytes(self.0.required_content()?)
            .map_err(|_| ProfileError::malformed("PE-MF", "EF.ICCID is not a valid ICCID"))
    }

    /// Replaces EF.ICCID's content bytes; every other byte of the element is kept.
    pub fn set_ef_iccid_content(&mut self, content: &[u8]) -> Result<(), ProfileError> {
        self.0.set_content(EF_ICCID, content)
    }

    /// Writes `iccid` into EF.ICCID (nibble-swapped).
    pub fn set_iccid(&mut self, iccid: &Iccid) -> Result<(), ProfileError> {
        self.0.set_content(EF_ICCID, &iccid.to_ef_bytes())
    }
}

/// `PE-USIM`: the USIM ADF and its EFs, with typed access to EF.IMSI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsimElement(FilePe);

impl UsimElement {
    /// Decodes the element from its `B3` TLV.
    pub(crate) fn decode(tlv: &Tlv<'_>) -> Result<Self, ProfileError> {
        FilePe::decode(tlv, "PE-USIM", EF_IMSI).map(Self)
    }

    /// The element's PE header.
    pub fn header(&self) -> &PeHeader {
        &self.0.header
    }

    /// The whole element as DER.
    pub fn der(&self) -> &[u8] {
        &self.0.der
    }

    /// EF.IMSI's `fillFileContent` bytes, if present.
    pub fn ef_imsi_content(&self) -> Option<&[u8]> {
        self.0.content()
    }

    /// The IMSI coded in EF.IMSI.
    pub fn imsi(&self) -> Result<Imsi, ProfileError> {
        Imsi::from_ef_bytes(self.0.required_content()?)
            .map_err(|_| ProfileError::malformed("PE-USIM", "EF.IMSI is not a valid IMSI"))
    }

    /// Replaces EF.IMSI's content bytes; every other byte of the element is kept.
    pub fn set_ef_imsi_content(&mut self, content: &[u8]) -> Result<(), ProfileError> {
        self.0.set_content(EF_IMSI, content)
    }

    /// Writes `imsi` into EF.IMSI.
    pub fn set_imsi(&mut self, imsi: &Imsi) -> Result<(), ProfileError> {
        self.0.set_content(EF_IMSI, &imsi.to_ef_bytes())
    }

    /// EF.ACC's `fillFileContent` bytes, if present.
    pub fn ef_acc_content(&self) -> Option<&[u8]> {
        self.0.content_of(EF_ACC)
    }

    /// Writes `acc` into EF.ACC (2 bytes, big-endian).
    pub fn set_acc(&mut self, acc: Acc) -> Result<(), ProfileError> {
        self.0.set_content(EF_ACC, &acc.to_bytes())
    }
}

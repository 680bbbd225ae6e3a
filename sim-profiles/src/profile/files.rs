//! `PE-MF` (`B0`) and `PE-USIM` (`B3`), kept as raw DER with the location of one EF's
//! `fillFileContent` (`83`): EF.ICCID (`A4`) in the MF, EF.IMSI (`A3`) in the USIM.
//! Replacing that content re-frames only the enclosing lengths; every other byte stays.

use super::error::ProfileError;
use super::pe_header::PeHeader;
use super::tlv::{Reader, Tlv, push_tlv, read_tlv};
use crate::{Iccid, Imsi};
use std::ops::Range;

/// Tag of `fillFileContent` inside a `File`.
const FILL_FILE_CONTENT: u32 = 0x83;

/// A file-system element: raw DER, its decoded PE header, and where one EF's content is.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FilePe {
    element: &'static str,
    file: &'static str,
    file_tag: u32,
    header: PeHeader,
    der: Vec<u8>,
    content: Option<Range<usize>>,
}

impl FilePe {
    fn decode(
        tlv: &Tlv<'_>,
        element: &'static str,
        file: &'static str,
        file_tag: u32,
    ) -> Result<Self, ProfileError> {
        let mut r = Reader::children(tlv);
        let header = PeHeader::read(&mut r, element)?;
        let mut content = None;
        let mut seen = false;
        while let Some(c) = r.next_tlv()? {
            if c.tag != file_tag || seen {
                continue;
            }
            seen = true;
            let mut items = Reader::children(&c);
            while let Some(item) = items.next_tlv()? {
                if item.tag == FILL_FILE_CONTENT && content.is_none() {
                    let start = item.value_offset().saturating_sub(tlv.offset);
                    content = Some(start..start.saturating_add(item.value().len()));
                }
            }
        }
        Ok(Self {
            element,
            file,
            file_tag,
            header,
            der: tlv.bytes.to_vec(),
            content,
        })
    }

    fn content(&self) -> Option<&[u8]> {
        self.content.clone().and_then(|r| self.der.get(r))
    }

    fn required_content(&self) -> Result<&[u8], ProfileError> {
        self.content()
            .ok_or(ProfileError::MissingFile { file: self.file })
    }

    /// Replaces the first `fillFileContent` of the file (appending one if the file has
    /// none), re-framing the file and the element.
    fn set_content(&mut self, new: &[u8]) -> Result<(), ProfileError> {
        let outer = read_tlv(&self.der, 0)?;
        let mut r = Reader::children(&outer);
        let mut value = Vec::with_capacity(self.der.len() + new.len());
        let mut found = false;
        while let Some(c) = r.next_tlv()? {
            if c.tag != self.file_tag || found {
                value.extend_from_slice(c.bytes);
                continue;
            }
            found = true;
            let mut items = Reader::children(&c);
            let mut file = Vec::with_capacity(c.value().len() + new.len());
            let mut replaced = false;
            while let Some(item) = items.next_tlv()? {
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
            return Err(ProfileError::MissingFile { file: self.file });
        }
        let mut der = Vec::with_capacity(value.len() + 6);
        push_tlv(&mut der, outer.tag, &value);
        let tlv = read_tlv(&der, 0)?;
        *self = Self::decode(&tlv, self.element, self.file, self.file_tag)?;
        Ok(())
    }
}

/// `PE-MF`: the master file and its mandatory EFs, with typed access to EF.ICCID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfElement(FilePe);

impl MfElement {
    /// Decodes the element from its `B0` TLV.
    pub(crate) fn decode(tlv: &Tlv<'_>) -> Result<Self, ProfileError> {
        FilePe::decode(tlv, "PE-MF", "EF.ICCID", 0xA4).map(Self)
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
        self.0.set_content(content)
    }

    /// Writes `iccid` into EF.ICCID (nibble-swapped).
    pub fn set_iccid(&mut self, iccid: &Iccid) -> Result<(), ProfileError> {
        self.0.set_content(&iccid.to_ef_bytes())
    }
}

/// `PE-USIM`: the USIM ADF and its EFs, with typed access to EF.IMSI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsimElement(FilePe);

impl UsimElement {
    /// Decodes the element from its `B3` TLV.
    pub(crate) fn decode(tlv: &Tlv<'_>) -> Result<Self, ProfileError> {
        FilePe::decode(tlv, "PE-USIM", "EF.IMSI", 0xA3).map(Self)
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
        self.0.set_content(content)
    }

    /// Writes `imsi` into EF.IMSI.
    pub fn set_imsi(&mut self, imsi: &Imsi) -> Result<(), ProfileError> {
        self.0.set_content(&imsi.to_ef_bytes())
    }
}

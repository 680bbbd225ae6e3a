//! DER TLV framing: tags (single byte or the multi-byte `BF xx…` form), definite lengths
//! (short form and `81`/`82`/`83`), and the split of a package into top-level elements.
//!
//! A tag is held as a `u32` of its encoded bytes, big-endian: `A0` is `0xA0`, `BF 1F` is
//! `0xBF1F`. This keeps the wire form visible and makes re-encoding trivial.

use super::error::ProfileError;

/// Longest accepted tag, in bytes (so it fits a `u32`).
const MAX_TAG_BYTES: usize = 4;

/// One TLV read from a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The tag, as its encoded bytes big-endian.
    pub tag: u32,
    /// Offset of the TLV's first byte, relative to the decoder's input.
    pub offset: usize,
    /// Number of tag and length bytes.
    pub header_len: usize,
    /// The whole TLV: tag, length and value.
    pub bytes: &'a [u8],
}

impl<'a> Tlv<'a> {
    /// The value (content) bytes.
    pub fn value(&self) -> &'a [u8] {
        self.bytes.get(self.header_len..).unwrap_or_default()
    }

    /// Offset of the first value byte, relative to the decoder's input.
    pub fn value_offset(&self) -> usize {
        self.offset.saturating_add(self.header_len)
    }
}

/// One top-level element of a package: its tag and its whole DER TLV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawElement<'a> {
    /// The element's tag, as its encoded bytes big-endian.
    pub tag: u32,
    /// The whole TLV.
    pub bytes: &'a [u8],
}

/// Splits a package (a plain concatenation of DER TLVs) into its top-level elements.
pub fn split_package(input: &[u8]) -> Result<Vec<RawElement<'_>>, ProfileError> {
    let mut reader = Reader::new(input, 0);
    let mut out = Vec::new();
    while let Some(tlv) = reader.next_tlv()? {
        out.push(RawElement {
            tag: tlv.tag,
            bytes: tlv.bytes,
        });
    }
    Ok(out)
}

/// Reads one TLV from the start of `input`; `offset` is `input`'s own offset, for errors.
pub fn read_tlv(input: &[u8], offset: usize) -> Result<Tlv<'_>, ProfileError> {
    let truncated = ProfileError::Truncated { offset };
    let (tag, tag_len) = read_tag(input, offset)?;
    let len_offset = offset.saturating_add(tag_len);
    let first = *input.get(tag_len).ok_or(truncated.clone())?;
    let (len, len_len) = match first {
        0..=0x7F => (usize::from(first), 1),
        0x80 => return Err(ProfileError::IndefiniteLength { offset: len_offset }),
        0x81..=0x83 => {
            let n = usize::from(first & 0x7F);
            let bytes = input
                .get(tag_len + 1..tag_len + 1 + n)
                .ok_or(truncated.clone())?;
            let len = bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            let minimal = match n {
                1 => len >= 0x80,
                _ => bytes.first().is_some_and(|b| *b != 0),
            };
            if !minimal {
                return Err(ProfileError::NonMinimalLength { offset: len_offset });
            }
            (len, 1 + n)
        }
        _ => return Err(ProfileError::LengthTooLarge { offset: len_offset }),
    };
    let header_len = tag_len + len_len;
    let end = header_len.checked_add(len).ok_or(truncated.clone())?;
    let bytes = input.get(..end).ok_or(truncated)?;
    Ok(Tlv {
        tag,
        offset,
        header_len,
        bytes,
    })
}

/// Reads a tag: returns it as a `u32` of its bytes and its length in bytes.
fn read_tag(input: &[u8], offset: usize) -> Result<(u32, usize), ProfileError> {
    let first = *input.first().ok_or(ProfileError::Truncated { offset })?;
    if first & 0x1F != 0x1F {
        return Ok((u32::from(first), 1));
    }
    let mut tag = u32::from(first);
    let mut number: u32 = 0;
    for i in 1..MAX_TAG_BYTES {
        let b = *input.get(i).ok_or(ProfileError::Truncated { offset })?;
        if i == 1 && b == 0x80 {
            return Err(ProfileError::InvalidTag { offset });
        }
        tag = (tag << 8) | u32::from(b);
        number = (number << 7) | u32::from(b & 0x7F);
        if b & 0x80 == 0 {
            if number < 31 {
                return Err(ProfileError::InvalidTag { offset });
            }
            return Ok((tag, i + 1));
        }
    }
    Err(ProfileError::InvalidTag { offset })
}

/// Whether a tag's first byte has the constructed bit.
pub fn is_constructed(tag: u32) -> bool {
    first_tag_byte(tag) & 0x20 != 0
}

/// Whether a tag is of the context-specific class.
pub fn is_context(tag: u32) -> bool {
    first_tag_byte(tag) & 0xC0 == 0x80
}

fn first_tag_byte(tag: u32) -> u8 {
    let bytes = tag.to_be_bytes();
    bytes.iter().copied().find(|b| *b != 0).unwrap_or(0)
}

/// The tag for context-specific number `n` (`80+n`, or `9F …` for `n` ≥ 31), constructed
/// or primitive. Numbers above 2^21 are not representable in a `u32` tag and are clamped.
pub fn context_tag(n: u32, constructed: bool) -> u32 {
    let lead: u32 = if constructed { 0xA0 } else { 0x80 };
    if n < 31 {
        return lead | n;
    }
    let n = n.min((1 << 21) - 1);
    let mut tag = lead | 0x1F;
    let groups = if n >= 1 << 14 {
        3
    } else if n >= 1 << 7 {
        2
    } else {
        1
    };
    for g in (0..groups).rev() {
        let more = if g > 0 { 0x80 } else { 0 };
        tag = (tag << 8) | ((n >> (7 * g)) & 0x7F) | more;
    }
    tag
}

/// The context-specific tag number of `tag`, if it is context-specific.
pub fn context_number(tag: u32) -> Option<u32> {
    if !is_context(tag) {
        return None;
    }
    if tag <= 0xFF {
        let low = tag & 0x1F;
        return (low != 0x1F).then_some(low);
    }
    let bytes = tag.to_be_bytes();
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(0);
    let number = bytes
        .iter()
        .skip(start + 1)
        .fold(0u32, |acc, b| (acc << 7) | u32::from(b & 0x7F));
    Some(number)
}

/// Appends a tag's bytes.
pub fn push_tag(out: &mut Vec<u8>, tag: u32) {
    let bytes = tag.to_be_bytes();
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(3);
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
}

/// Appends a DER definite length in its minimal form.
pub fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        // Fits one byte by the check above.
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let start = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len() - 1);
    let significant = bytes.get(start..).unwrap_or_default();
    // At most size_of::<usize>() bytes, so the count fits the low seven bits.
    out.push(0x80 | significant.len() as u8);
    out.extend_from_slice(significant);
}

/// Appends a whole TLV.
pub fn push_tlv(out: &mut Vec<u8>, tag: u32, value: &[u8]) {
    push_tag(out, tag);
    push_len(out, value.len());
    out.extend_from_slice(value);
}

/// A whole TLV as a new buffer.
pub fn encode_tlv(tag: u32, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 6);
    push_tlv(&mut out, tag, value);
    out
}

/// A cursor over consecutive TLVs in one buffer (a package, or a constructed value).
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`, whose first byte is at offset `base` of the decoder's input.
    pub(crate) fn new(buf: &'a [u8], base: usize) -> Self {
        Self { buf, pos: 0, base }
    }

    /// A reader over a constructed TLV's value.
    pub(crate) fn children(tlv: &Tlv<'a>) -> Self {
        Self::new(tlv.value(), tlv.value_offset())
    }

    /// Whether everything has been read.
    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// The next TLV, or `None` at the end.
    pub(crate) fn next_tlv(&mut self) -> Result<Option<Tlv<'a>>, ProfileError> {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        if rest.is_empty() {
            return Ok(None);
        }
        let tlv = read_tlv(rest, self.base.saturating_add(self.pos))?;
        self.pos = self.pos.saturating_add(tlv.bytes.len());
        Ok(Some(tlv))
    }

    /// The next TLV if it has `tag`; otherwise nothing is consumed.
    pub(crate) fn take(&mut self, tag: u32) -> Result<Option<Tlv<'a>>, ProfileError> {
        let mut probe = self.clone();
        match probe.next_tlv()? {
            Some(tlv) if tlv.tag == tag => {
                *self = probe;
                Ok(Some(tlv))
            }
            _ => Ok(None),
        }
    }

    /// The next TLV, which must have `tag`.
    pub(crate) fn expect(
        &mut self,
        tag: u32,
        element: &'static str,
        reason: &'static str,
    ) -> Result<Tlv<'a>, ProfileError> {
        self.take(tag)?
            .ok_or(ProfileError::malformed(element, reason))
    }

    /// Everything left, as whole TLVs (validated).
    pub(crate) fn rest(&mut self) -> Result<Vec<Tlv<'a>>, ProfileError> {
        let mut out = Vec::new();
        while let Some(tlv) = self.next_tlv()? {
            out.push(tlv);
        }
        Ok(out)
    }

    /// Fails unless everything has been read.
    pub(crate) fn finish(&self, element: &'static str) -> Result<(), ProfileError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(ProfileError::malformed(element, "unexpected component"))
        }
    }
}

//! DER primitive values used by the profile elements: INTEGER (minimal two's complement,
//! non-negative here), NULL, and fixed-size OCTET STRING.

use super::error::ProfileError;
use super::tlv::{Tlv, push_tlv};

/// Decodes a non-negative DER INTEGER value that fits `T`.
pub(crate) fn decode_uint<T: TryFrom<u64>>(
    tlv: &Tlv<'_>,
    element: &'static str,
) -> Result<T, ProfileError> {
    let v = tlv.value();
    let malformed = |reason| ProfileError::malformed(element, reason);
    match v {
        [] => return Err(malformed("empty INTEGER")),
        [first, second, ..]
            if (*first == 0 && *second < 0x80) || (*first == 0xFF && *second >= 0x80) =>
        {
            return Err(malformed("non-minimal INTEGER"));
        }
        [first, ..] if *first >= 0x80 => return Err(malformed("negative INTEGER")),
        _ => {}
    }
    if v.len() > 9 || (v.len() == 9 && v.first() != Some(&0)) {
        return Err(malformed("INTEGER out of range"));
    }
    let n = v.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    T::try_from(n).map_err(|_| malformed("INTEGER out of range"))
}

/// The minimal two's complement content of a non-negative integer.
pub(crate) fn encode_uint(n: u64) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let start = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len() - 1);
    let mut out = Vec::with_capacity(9);
    if bytes.get(start).is_some_and(|b| *b >= 0x80) {
        out.push(0);
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
    out
}

/// Appends an INTEGER TLV with `tag`.
pub(crate) fn push_uint(out: &mut Vec<u8>, tag: u32, n: u64) {
    push_tlv(out, tag, &encode_uint(n));
}

/// Checks a NULL value (empty content).
pub(crate) fn decode_null(tlv: &Tlv<'_>, element: &'static str) -> Result<(), ProfileError> {
    if tlv.value().is_empty() {
        Ok(())
    } else {
        Err(ProfileError::malformed(element, "NULL with content"))
    }
}

/// Decodes an OCTET STRING of exactly `N` bytes.
pub(crate) fn decode_fixed<const N: usize>(
    tlv: &Tlv<'_>,
    element: &'static str,
    reason: &'static str,
) -> Result<[u8; N], ProfileError> {
    <[u8; N]>::try_from(tlv.value()).map_err(|_| ProfileError::malformed(element, reason))
}

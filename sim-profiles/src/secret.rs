//! Secret key material. Secrets print as `***`, are zeroised on drop, and have no
//! `Serialize`: they leave memory only through an explicit encoder call.

use zeroize::{Zeroize, ZeroizeOnDrop};

/// Why a key could not be parsed. Never echoes the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// The key is not hexadecimal.
    #[error("key must be hexadecimal")]
    NotHex,
    /// The key has the wrong length.
    #[error("key must be {expected} hex characters, got {got}")]
    Length {
        /// Expected hex length.
        expected: usize,
        /// Found hex length.
        got: usize,
    },
}

/// A 128-bit key (Ki/K, OP, OPc, transport key).
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Key128([u8; 16]);

impl Key128 {
    /// Wraps raw bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// Parses 32 hex characters (either case). Decodes in place, so no stray copy of the
    /// key is left on the stack, and a partial key is zeroised when parsing fails.
    pub fn from_hex(s: &str) -> Result<Self, SecretError> {
        let mut key = Self([0u8; 16]);
        decode_hex_into(s, &mut key.0)?;
        Ok(key)
    }

    /// The raw bytes. Callers must not log or persist them in clear.
    pub fn expose(&self) -> &[u8; 16] {
        &self.0
    }

    /// Upper-case hex, for a wire encoder that needs it. Callers must not log the result.
    pub fn expose_hex(&self) -> String {
        encode_hex_upper(&self.0)
    }
}

impl std::fmt::Debug for Key128 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key128(***)")
    }
}

/// Decodes hex (either case) into a fixed buffer, checking the length. On error `out` is
/// zeroised, so no partially decoded secret is left behind.
pub fn decode_hex_into(s: &str, out: &mut [u8]) -> Result<(), SecretError> {
    let expected = out.len().saturating_mul(2);
    if s.len() != expected {
        return Err(SecretError::Length {
            expected,
            got: s.len(),
        });
    }
    for (o, pair) in out.iter_mut().zip(s.as_bytes().chunks_exact(2)) {
        let byte = match *pair {
            [high, low] => hex_val(high).and_then(|h| hex_val(low).map(|l| (h << 4) | l)),
            _ => Err(SecretError::NotHex),
        };
        match byte {
            Ok(b) => *o = b,
            Err(e) => {
                out.zeroize();
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Upper-case hex encoding.
pub fn encode_hex_upper(bytes: &[u8]) -> String {
    encode_hex(bytes, b"0123456789ABCDEF")
}

/// Lower-case hex encoding.
pub fn encode_hex_lower(bytes: &[u8]) -> String {
    encode_hex(bytes, b"0123456789abcdef")
}

fn encode_hex(bytes: &[u8], digits: &[u8; 16]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(digits[usize::from(b >> 4)]));
        s.push(char::from(digits[usize::from(b & 0xF)]));
    }
    s
}

fn hex_val(c: u8) -> Result<u8, SecretError> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(SecretError::NotHex),
    }
}

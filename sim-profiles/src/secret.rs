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

    /// Parses 32 hex characters (either case).
    pub fn from_hex(s: &str) -> Result<Self, SecretError> {
        let mut out = [0u8; 16];
        decode_hex_into(s, &mut out)?;
        Ok(Self(out))
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

/// Decodes hex into a fixed buffer, checking the length.
pub fn decode_hex_into(s: &str, out: &mut [u8]) -> Result<(), SecretError> {
    if s.len() != out.len() * 2 {
        return Err(SecretError::Length { expected: out.len() * 2, got: s.len() });
    }
    for (i, pair) in s.as_bytes().chunks(2).enumerate() {
        out[i] = (hex_val(pair[0])? << 4) | hex_val(pair[1])?;
    }
    Ok(())
}

/// Upper-case hex encoding.
pub fn encode_hex_upper(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0xF)]));
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

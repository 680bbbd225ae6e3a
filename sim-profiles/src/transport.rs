//! Decryption of key columns (Ki, OPc) that SIM vendors deliver encrypted under an
//! operator transport key, and the registry that maps a batch header's key index to the
//! cipher that decrypts it.
//!
//! The transform ("A4"/"K4") is vendor-specific and not defined by 3GPP, so it is a trait,
//! [`TransportCipher`], with one implementation per convention:
//!
//! - [`Aes128Ecb`]: one AES-128 block decryption under the transport key.
//! - [`FsCbc`]: GSMA FS.28-style column encryption, AES-CBC with a fixed IV of 16 × `0x23`.
//!
//! Legacy batches encrypted with 3DES (DES-EDE, two- or three-key) would be a third
//! implementation over RustCrypto `des`; it is not built because no supported vendor needs
//! it yet. Which convention a batch uses is a vendor-contract fact, never guessed from the
//! data: a wrong cipher yields a well-formed but wrong key, not an error.
//!
//! Policy: commercial HLRs receive the ciphertext and key index unchanged. Decrypt only in
//! the narrow component that feeds a clear-key peer or a profile personalisation step.

use std::collections::BTreeMap;

use aes::cipher::{BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use aes::{Aes128, Aes192, Aes256};
use zeroize::Zeroizing;

use crate::secret::Key128;

/// Why a transport-key operation failed. Messages carry indices and lengths, never key
/// material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// No transport key is registered under this index.
    #[error("no transport key registered under index {0}")]
    UnknownKeyIndex(u16),
    /// A transport key is already registered under this index.
    #[error("a transport key is already registered under index {0}")]
    DuplicateKeyIndex(u16),
    /// The transport key has a length the cipher does not support.
    #[error("transport key must be 16, 24 or 32 bytes, got {got}")]
    InvalidKeyLength {
        /// Length of the key that was offered, in bytes.
        got: usize,
    },
}

/// A vendor convention for decrypting one 16-byte key column (Ki, OPc).
pub trait TransportCipher: Send + Sync {
    /// Decrypts one 16-byte key column into the clear key.
    fn decrypt_key(&self, ciphertext: &Key128) -> Result<Key128, TransportError>;
    /// Encrypts a clear key the same way (for peers that take the key under their own
    /// transport key, such as an AUC with an A4 index).
    fn encrypt_key(&self, clear: &Key128) -> Result<Key128, TransportError>;
    /// A stable name for logs and audit records (never includes key material).
    fn name(&self) -> &'static str;
}

/// The fixed FS.28 column-encryption IV: 16 bytes of `0x23`.
pub const FS28_IV: [u8; 16] = [0x23; 16];

/// AES-128 single-block decryption under the transport key.
///
/// This is the common vendor "A4"/"K4" form for one 16-byte key: the vendor output file's
/// `EKI` (and, where present, encrypted OPc) column is `E_TK(Ki)`, one AES block with no
/// IV and no padding, equivalent to ECB over a single block. Ericsson AUC `A4IND` and
/// Huawei `K4SNO` transport keys with an AES algorithm selector follow this shape, but the
/// exact selector → algorithm mapping must be confirmed per vendor contract.
pub struct Aes128Ecb {
    /// Key schedule of the transport key; zeroised on drop.
    cipher: Aes128,
}

impl Aes128Ecb {
    /// Builds the cipher from a 128-bit transport key.
    pub fn new(transport_key: &Key128) -> Self {
        Self {
            cipher: Aes128::new(transport_key.expose().into()),
        }
    }
}

impl std::fmt::Debug for Aes128Ecb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Aes128Ecb { .. }")
    }
}

impl TransportCipher for Aes128Ecb {
    fn decrypt_key(&self, ciphertext: &Key128) -> Result<Key128, TransportError> {
        let mut block = Zeroizing::new(*ciphertext.expose());
        self.cipher.decrypt_block((&mut *block).into());
        Ok(Key128::from_bytes(*block))
    }

    fn encrypt_key(&self, clear: &Key128) -> Result<Key128, TransportError> {
        let mut block = Zeroizing::new(*clear.expose());
        self.cipher.encrypt_block((&mut *block).into());
        Ok(Key128::from_bytes(*block))
    }

    fn name(&self) -> &'static str {
        "aes128-ecb"
    }
}

/// GSMA FS.28-style column decryption: AES-CBC with the fixed IV [`FS28_IV`] and a 128-,
/// 192- or 256-bit key, no padding.
///
/// This is the UICC credential-exchange convention as implemented by open-source card-key
/// tooling that follows FS.28: every encrypted column has its own key, and a 16-byte column
/// value is exactly one CBC block, so decryption is `D_TK(C) ⊕ IV`. Longer columns (none
/// of the 16-byte key columns this trait carries) would chain further blocks.
pub struct FsCbc {
    cipher: FsKey,
}

/// The key schedule for each supported key size; each zeroises itself on drop.
enum FsKey {
    Aes128(Aes128),
    Aes192(Aes192),
    Aes256(Aes256),
}

impl FsCbc {
    /// Builds the cipher from a 16-, 24- or 32-byte column key. The caller owns (and
    /// zeroises) `key`; this keeps only the expanded key schedule.
    pub fn new(key: &[u8]) -> Result<Self, TransportError> {
        let invalid = |_| TransportError::InvalidKeyLength { got: key.len() };
        let cipher = match key.len() {
            16 => FsKey::Aes128(Aes128::new_from_slice(key).map_err(invalid)?),
            24 => FsKey::Aes192(Aes192::new_from_slice(key).map_err(invalid)?),
            32 => FsKey::Aes256(Aes256::new_from_slice(key).map_err(invalid)?),
            got => return Err(TransportError::InvalidKeyLength { got }),
        };
        Ok(Self { cipher })
    }

    /// Builds the cipher from a 128-bit column key.
    pub fn from_key128(key: &Key128) -> Self {
        Self {
            cipher: FsKey::Aes128(Aes128::new(key.expose().into())),
        }
    }
}

impl std::fmt::Debug for FsCbc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FsCbc({})", self.name())
    }
}

impl TransportCipher for FsCbc {
    fn decrypt_key(&self, ciphertext: &Key128) -> Result<Key128, TransportError> {
        let mut block = Zeroizing::new(*ciphertext.expose());
        match &self.cipher {
            FsKey::Aes128(c) => c.decrypt_block((&mut *block).into()),
            FsKey::Aes192(c) => c.decrypt_block((&mut *block).into()),
            FsKey::Aes256(c) => c.decrypt_block((&mut *block).into()),
        }
        for (b, iv) in block.iter_mut().zip(FS28_IV) {
            *b ^= iv;
        }
        Ok(Key128::from_bytes(*block))
    }

    fn encrypt_key(&self, clear: &Key128) -> Result<Key128, TransportError> {
        let mut block = Zeroizing::new(*clear.expose());
        for (b, iv) in block.iter_mut().zip(FS28_IV) {
            *b ^= iv;
        }
        match &self.cipher {
            FsKey::Aes128(c) => c.encrypt_block((&mut *block).into()),
            FsKey::Aes192(c) => c.encrypt_block((&mut *block).into()),
            FsKey::Aes256(c) => c.encrypt_block((&mut *block).into()),
        }
        Ok(Key128::from_bytes(*block))
    }

    fn name(&self) -> &'static str {
        match self.cipher {
            FsKey::Aes128(_) => "fs28-aes128-cbc",
            FsKey::Aes192(_) => "fs28-aes192-cbc",
            FsKey::Aes256(_) => "fs28-aes256-cbc",
        }
    }
}

/// Transport keys by the index a batch header names (e.g. `Transport_key : 11`).
#[derive(Default)]
pub struct TransportKeys {
    keys: BTreeMap<u16, Box<dyn TransportCipher>>,
}

impl TransportKeys {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `cipher` under `index`. Refuses to replace an existing key, so a
    /// configuration mistake cannot silently re-point a batch at another key.
    pub fn insert(
        &mut self,
        index: u16,
        cipher: Box<dyn TransportCipher>,
    ) -> Result<(), TransportError> {
        match self.keys.entry(index) {
            std::collections::btree_map::Entry::Occupied(_) => {
                Err(TransportError::DuplicateKeyIndex(index))
            }
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(cipher);
                Ok(())
            }
        }
    }

    /// The cipher registered under `index`.
    pub fn get(&self, index: u16) -> Result<&dyn TransportCipher, TransportError> {
        self.keys
            .get(&index)
            .map(|c| c.as_ref())
            .ok_or(TransportError::UnknownKeyIndex(index))
    }

    /// Decrypts a key column with the cipher registered under `index`.
    pub fn decrypt_key(&self, index: u16, ciphertext: &Key128) -> Result<Key128, TransportError> {
        self.get(index)?.decrypt_key(ciphertext)
    }

    /// The registered indices, in ascending order.
    pub fn indices(&self) -> impl Iterator<Item = u16> + '_ {
        self.keys.keys().copied()
    }

    /// How many transport keys are registered.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True if no transport key is registered.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl std::fmt::Debug for TransportKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.keys.iter().map(|(i, c)| (i, c.name())))
            .finish()
    }
}

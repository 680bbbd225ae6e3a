//! One card of a batch, with its key material and access codes kept in redacting,
//! zeroising types.

use crate::{Iccid, Imsi, Key128};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A key column's value: clear, or ciphertext under the batch's transport key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyField {
    /// The key in clear (`KI`/`OPC`/`OP` with no transport key index in the header).
    Clear(Key128),
    /// The key encrypted under the transport key the header names (`EKI`, or `KI`/`OPC`/`OP`
    /// when the header names a non-zero transport key index); the importer decrypts it.
    Encrypted(Key128),
}

impl KeyField {
    /// The 16 bytes as they appear in the file (clear or ciphertext).
    pub fn key(&self) -> &Key128 {
        match self {
            Self::Clear(k) | Self::Encrypted(k) => k,
        }
    }

    /// True if the bytes are ciphertext under the batch's transport key.
    pub fn is_encrypted(&self) -> bool {
        matches!(self, Self::Encrypted(_))
    }
}

/// A PIN, PUK or ADM code: decimal digits that print as `***` and are zeroised on drop.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SecretDigits(String);

impl SecretDigits {
    /// Wraps 1 to 16 ASCII decimal digits; anything else gives `None`.
    pub fn new(digits: &str) -> Option<Self> {
        let ok = (1..=16).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
        ok.then(|| Self(digits.to_owned()))
    }

    /// The digits. Callers must not log or persist them in clear.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretDigits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretDigits(***)")
    }
}

/// One card (one data row) of a batch file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardRecord {
    /// The physical line (1-based) the row was read from.
    pub line: usize,
    /// The canonical ICCID (Luhn digit present, no `F`).
    pub iccid: Iccid,
    /// The IMSI.
    pub imsi: Imsi,
    /// The subscriber key Ki (`KI` or `EKI` column).
    pub ki: Option<KeyField>,
    /// The per-card OPc (`OPC` or `EOPC` column).
    pub opc: Option<KeyField>,
    /// The operator key OP (`OP` or `EOP` column).
    pub op: Option<KeyField>,
    /// PIN1.
    pub pin1: Option<SecretDigits>,
    /// PUK1.
    pub puk1: Option<SecretDigits>,
    /// PIN2.
    pub pin2: Option<SecretDigits>,
    /// PUK2.
    pub puk2: Option<SecretDigits>,
    /// ADM1 (also `PIN_ADM`, `PIN_ADM_HEX`).
    pub adm1: Option<SecretDigits>,
    /// The EF.ACC access-class bitmap.
    pub acc: Option<u16>,
    /// Known non-secret columns (`MSISDN`, `EID`, `IMSI2`, `PRINT_*`, pySim's `mcc`, `smsp`,
    /// …) as (column name as spelled, value), in file order. Other columns are dropped:
    /// OTA keys, other ADM codes, and any unknown name, which might hold key material.
    pub extra: Vec<(String, String)>,
}

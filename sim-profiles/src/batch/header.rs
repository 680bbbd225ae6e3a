//! The `key : value` header of a vendor `.out` file, matched tolerantly: vendors spell the
//! same key many ways (reference §6.3).

use super::{BatchError, normalize_name};
use crate::Plmn;

/// The header of a batch file: every key/value line, and the values the parser interprets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BatchHeader {
    /// Every `key : value` line before the `var_out` line (outside the `var_In` block), in
    /// file order, trimmed but otherwise as spelled.
    pub fields: Vec<(String, String)>,
    /// The number of cards (`Quantity`, `Quanitity`, `Qty`).
    pub quantity: Option<u64>,
    /// The transport key index (`Transport_key`, `OP Key Index`, `Key Index`, …).
    pub transport_key_index: Option<u16>,
    /// The vendor's batch id (`Batch No`, `Batch`, `Batch ID`).
    pub batch_id: Option<String>,
    /// The profile or card type (`ProfileType`, `Profile`, `Type`).
    pub profile_type: Option<String>,
    /// The PLMN (`MCC.MNC : 242.01`, `MCCMNC`, `PLMN`).
    pub plmn: Option<Plmn>,
}

/// The header keys the parser interprets.
enum Known {
    Quantity,
    TransportKeyIndex,
    BatchId,
    ProfileType,
    Plmn,
}

/// Matches a header key ignoring case, spaces, underscores and punctuation.
fn classify(key: &str) -> Option<Known> {
    let k = normalize_name(key);
    let known = match k.as_str() {
        "quantity" | "quanitity" | "quantitiy" | "qty" => Known::Quantity,
        "transportkey" | "transportkeyindex" | "transportkeyid" | "transportkeyno"
        | "opkeyindex" | "keyindex" | "auckeyindex" | "k4index" | "k4keyindex" => {
            Known::TransportKeyIndex
        }
        "batchno" | "batch" | "batchid" | "batchnumber" | "batchnr" => Known::BatchId,
        "profiletype" | "profile" | "type" => Known::ProfileType,
        "mccmnc" | "plmn" | "hplmn" => Known::Plmn,
        _ => return None,
    };
    Some(known)
}

impl BatchHeader {
    /// Interprets key/value lines. The first line for each interpreted key wins; an empty
    /// value counts as absent; a malformed number or PLMN is an error naming the key.
    pub fn from_fields(fields: Vec<(String, String)>) -> Result<Self, BatchError> {
        let mut h = Self::default();
        for (key, value) in &fields {
            let Some(known) = classify(key) else { continue };
            let v = value.trim();
            if v.is_empty() {
                continue;
            }
            let bad = || BatchError::BadHeaderValue { key: key.clone() };
            match known {
                Known::Quantity if h.quantity.is_none() => {
                    h.quantity = Some(parse_number(v).ok_or_else(bad)?);
                }
                Known::TransportKeyIndex if h.transport_key_index.is_none() => {
                    let n = parse_number(v).ok_or_else(bad)?;
                    h.transport_key_index = Some(u16::try_from(n).map_err(|_| bad())?);
                }
                Known::BatchId if h.batch_id.is_none() => h.batch_id = Some(v.to_owned()),
                Known::ProfileType if h.profile_type.is_none() => {
                    h.profile_type = Some(v.to_owned());
                }
                Known::Plmn if h.plmn.is_none() => {
                    // `242.01`, `242-01`, `242/01`, `242 01` and `24201` all mean the same.
                    let v: String = v
                        .chars()
                        .map(|c| if c == '/' || c == ' ' { '.' } else { c })
                        .collect();
                    h.plmn = Some(v.parse().map_err(|_| bad())?);
                }
                _ => {}
            }
        }
        h.fields = fields;
        Ok(h)
    }

    /// True if `KI`/`OPC`/`OP` columns hold ciphertext: the header names a transport key
    /// index other than 0 (index 0 means "no encryption", reference §6.3).
    pub fn keys_encrypted(&self) -> bool {
        matches!(self.transport_key_index, Some(i) if i != 0)
    }
}

/// Decimal digits only (`u64::from_str` would also take a leading `+`).
fn parse_number(v: &str) -> Option<u64> {
    if v.bytes().all(|b| b.is_ascii_digit()) {
        v.parse().ok()
    } else {
        None
    }
}

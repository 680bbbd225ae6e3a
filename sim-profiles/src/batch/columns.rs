//! Column names to fields: one classification shared by the `.out` and CSV parsers and
//! the writer. Names match ignoring case, spaces, underscores and punctuation.

use super::{BatchError, normalize_name};

/// Which key of a [`CardRecord`](super::CardRecord) a key column fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeySlot {
    Ki,
    Opc,
    Op,
}

/// Which access code of a [`CardRecord`](super::CardRecord) a column fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeSlot {
    Pin1,
    Puk1,
    Pin2,
    Puk2,
    Adm1,
}

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Iccid,
    Imsi,
    /// A 128-bit key; `encrypted` for `EKI`-style names, whatever the header says.
    Key {
        slot: KeySlot,
        encrypted: bool,
    },
    Code(CodeSlot),
    Acc,
    /// A known non-secret column (MSISDN, EID, …), kept in `extra`.
    Extra,
    /// Secret columns this parser does not model (OTA keys, ADM2.., SCP keys) and unknown
    /// columns, which might hold key material under a vendor's own name: dropped.
    Dropped,
}

fn classify(name: &str) -> Kind {
    let n = normalize_name(name);
    let key = |slot, encrypted| Kind::Key { slot, encrypted };
    match n.as_str() {
        "iccid" | "sernb" => Kind::Iccid,
        "imsi" => Kind::Imsi,
        "ki" => key(KeySlot::Ki, false),
        "eki" => key(KeySlot::Ki, true),
        "opc" => key(KeySlot::Opc, false),
        "eopc" => key(KeySlot::Opc, true),
        "op" => key(KeySlot::Op, false),
        "eop" => key(KeySlot::Op, true),
        "pin1" | "chv1" => Kind::Code(CodeSlot::Pin1),
        "puk1" => Kind::Code(CodeSlot::Puk1),
        "pin2" | "chv2" => Kind::Code(CodeSlot::Pin2),
        "puk2" => Kind::Code(CodeSlot::Puk2),
        "adm1" | "adm" | "pinadm" | "pinadmhex" => Kind::Code(CodeSlot::Adm1),
        "acc" | "acc1" | "accesscontrol" => Kind::Acc,
        _ if is_public(&n) => Kind::Extra,
        _ => Kind::Dropped,
    }
}

/// Columns known to hold no secret (reference §6.2 and §7). An allowlist, because a key
/// under an unexpected name kept in `extra` would end up in logs, while a harmless column
/// dropped costs nothing.
fn is_public(n: &str) -> bool {
    const NAMES: [&str; 22] = [
        "msisdn",
        "eid",
        "imsiascii",
        "mcc",
        "mnc",
        "smsp",
        "name",
        "id",
        "cardtypeid",
        "formfactorid",
        "coderetailer",
        "impi",
        "impu",
        "pcscf",
        "imshdomain",
        "epdgid",
        "epdgselection",
        "opmode",
        "fplmn",
        "type",
        "profile",
        "graphref",
    ];
    NAMES.contains(&n)
        || n.starts_with("print")
        // IMSI2..IMSI9 of multi-IMSI cards (IMSI1 may stand in for IMSI, see `kinds`).
        || n.strip_prefix("imsi").is_some_and(|d| matches!(d.as_bytes(), [b'1'..=b'9']))
}

/// The kind of each column, in order. `IMSI1` (multi-IMSI cards) stands in for `IMSI`
/// when there is no plain `IMSI` column.
pub(crate) fn kinds<S: AsRef<str>>(names: &[S]) -> Vec<Kind> {
    let mut kinds: Vec<Kind> = names.iter().map(|n| classify(n.as_ref())).collect();
    if !kinds.contains(&Kind::Imsi) {
        let first_imsi = names
            .iter()
            .position(|n| normalize_name(n.as_ref()) == "imsi1");
        if let Some(k) = first_imsi.and_then(|i| kinds.get_mut(i)) {
            *k = Kind::Imsi;
        }
    }
    kinds
}

/// A checked column line: ICCID and IMSI present, no field given twice.
#[derive(Debug)]
pub(crate) struct Layout {
    /// (kind, name as spelled) per column.
    pub columns: Vec<(Kind, String)>,
    pub iccid: usize,
    pub imsi: usize,
}

impl Layout {
    /// Checks the column names of the column line on `line`.
    pub fn new(names: Vec<String>, line: usize) -> Result<Self, BatchError> {
        if names.is_empty() {
            return Err(BatchError::NoColumns { line });
        }
        let kinds = kinds(&names);
        for (i, k) in kinds.iter().enumerate() {
            let modelled = !matches!(k, Kind::Extra | Kind::Dropped);
            if modelled && kinds.get(..i).is_some_and(|before| before.contains(k)) {
                let column = names.get(i).cloned().unwrap_or_default();
                return Err(BatchError::DuplicateColumn { column, line });
            }
        }
        let position = |kind, column| {
            kinds
                .iter()
                .position(|k| *k == kind)
                .ok_or(BatchError::MissingColumn { column, line })
        };
        let iccid = position(Kind::Iccid, "ICCID")?;
        let imsi = position(Kind::Imsi, "IMSI")?;
        // KI and EKI (or OPC and EOPC) fill the same slot.
        for slot in [KeySlot::Ki, KeySlot::Opc, KeySlot::Op] {
            let mut same = names
                .iter()
                .zip(&kinds)
                .filter(|(_, k)| matches!(k, Kind::Key { slot: s, .. } if *s == slot));
            if let (Some(_), Some((second, _))) = (same.next(), same.next()) {
                return Err(BatchError::DuplicateColumn {
                    column: second.clone(),
                    line,
                });
            }
        }
        Ok(Self {
            columns: kinds.into_iter().zip(names).collect(),
            iccid,
            imsi,
        })
    }
}

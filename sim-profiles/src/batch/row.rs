//! One data row to a [`CardRecord`] or a [`RejectReason`], with duplicate ICCIDs and IMSIs
//! found through hash maps (constant work per row, whatever the file size), and the file's
//! one ICCID convention (reference §1.4) checked across all its rows at the end.

use super::columns::{CodeSlot, KeySlot, Kind, Layout};
use super::{
    BatchHeader, CardRecord, KeyField, ParseOptions, ParseReport, Reject, RejectReason,
    SecretDigits,
};
use crate::ident::all_digits;
use crate::secret::decode_hex_into;
use crate::{Iccid, IdentError, Imsi, Key128, Plmn, SecretError};
use std::collections::HashMap;
use zeroize::Zeroizing;

/// Collects the rows of one file after its column line.
#[derive(Debug)]
pub(crate) struct Rows {
    layout: Layout,
    /// `KI`/`OPC`/`OP` columns hold ciphertext (the header names a transport key).
    keys_encrypted: bool,
    plmn: Option<Plmn>,
    iccid_len: Option<usize>,
    track_duplicates: bool,
    /// Compact keys ([`ident_key`]) so a million-card file costs tens of MB, not hundreds.
    first_iccid: HashMap<u128, u32>,
    first_imsi: HashMap<u128, u32>,
    records: Vec<CardRecord>,
    rejects: Vec<Reject>,
    /// Lines of the accepted rows by how many digits their ICCID was written with (18, 19,
    /// 20): the file's convention is the form most rows use, and the rest break it.
    forms: [Vec<u32>; 3],
    /// The form of the first accepted row (breaks a tie).
    first_form: Option<usize>,
    /// Data rows seen, accepted or rejected.
    pub count: u64,
}

impl Rows {
    pub fn new(layout: Layout, keys_encrypted: bool, opts: &ParseOptions) -> Self {
        Self {
            layout,
            keys_encrypted,
            plmn: opts.plmn.clone(),
            iccid_len: opts.iccid_len,
            track_duplicates: !opts.skip_duplicate_check,
            first_iccid: HashMap::new(),
            first_imsi: HashMap::new(),
            records: Vec::new(),
            rejects: Vec::new(),
            forms: Default::default(),
            first_form: None,
            count: 0,
        }
    }

    /// The number of columns.
    pub fn width(&self) -> usize {
        self.layout.columns.len()
    }

    /// Adds the row on `line`, as accepted record or reject.
    pub fn push<S: AsRef<str>>(&mut self, line: usize, fields: &[S]) {
        self.count += 1;
        match self.build(line, fields) {
            Ok((record, written)) => {
                let form = written.saturating_sub(18).min(2);
                self.first_form.get_or_insert(form);
                if let Some(lines) = self.forms.get_mut(form) {
                    lines.push(u32::try_from(line).unwrap_or(u32::MAX));
                }
                self.records.push(record);
            }
            Err(reason) => self.rejects.push(Reject { line, reason }),
        }
    }

    /// Takes the accepted records collected so far (streaming importers drain per chunk).
    pub fn drain(&mut self) -> Vec<CardRecord> {
        std::mem::take(&mut self.records)
    }

    /// Accepted records waiting to be drained.
    pub fn pending(&self) -> usize {
        self.records.len()
    }

    /// Records a row that could not even be split into fields.
    pub fn reject(&mut self, line: usize, reason: RejectReason) {
        self.count += 1;
        self.rejects.push(Reject { line, reason });
    }

    /// Ends the file: rows whose ICCID breaks the file's convention become rejects (and
    /// leave `records`; a streaming caller that drained them refuses the file anyway).
    pub fn into_report(mut self, header: BatchHeader) -> ParseReport {
        let broken = self.convention_breaks();
        if !broken.is_empty() {
            let lines: std::collections::HashSet<usize> = broken.iter().map(|r| r.line).collect();
            self.records.retain(|r| !lines.contains(&r.line));
            self.rejects.extend(broken);
            self.rejects.sort_by_key(|r| r.line);
        }
        ParseReport {
            header,
            records: self.records,
            rejects: self.rejects,
        }
    }

    /// A file writes all its ICCIDs one way (reference §1.4): the form most accepted rows
    /// use (on a tie, the first row's) is the convention, and every row in another form is
    /// refused rather than completed or trusted on its own.
    fn convention_breaks(&self) -> Vec<Reject> {
        let Some(first) = self.first_form else {
            return Vec::new();
        };
        let mut convention = first;
        for (form, lines) in self.forms.iter().enumerate() {
            if lines.len() > self.forms[convention].len() {
                convention = form;
            }
        }
        let mut out = Vec::new();
        for (form, lines) in self.forms.iter().enumerate() {
            if form == convention {
                continue;
            }
            out.extend(lines.iter().map(|&line| Reject {
                line: line as usize,
                reason: RejectReason::IccidFormMismatch {
                    digits: form + 18,
                    file_digits: convention + 18,
                },
            }));
        }
        out
    }

    fn build<S: AsRef<str>>(
        &mut self,
        line: usize,
        fields: &[S],
    ) -> Result<(CardRecord, usize), RejectReason> {
        if fields.len() != self.layout.columns.len() {
            return Err(RejectReason::WrongFieldCount {
                expected: self.layout.columns.len(),
                got: fields.len(),
            });
        }
        let field = |i: usize| fields.get(i).map_or("", |f| f.as_ref().trim());
        let iccid = parse_iccid(field(self.layout.iccid), self.iccid_len);
        let imsi = parse_imsi(field(self.layout.imsi)).map_err(RejectReason::BadImsi);
        // Register identities even when the row is rejected for another reason, so a later
        // copy of a bad row is still reported as a duplicate.
        let track = self.track_duplicates;
        let dup_iccid = iccid
            .as_ref()
            .ok()
            .filter(|_| track)
            .and_then(|(i, _)| first(&mut self.first_iccid, ident_key(i.as_str()), line));
        let dup_imsi = imsi
            .as_ref()
            .ok()
            .filter(|_| track)
            .and_then(|i| first(&mut self.first_imsi, ident_key(i.as_str()), line));
        let (iccid, written) = iccid?;
        if let Some(first_line) = dup_iccid {
            return Err(RejectReason::DuplicateIccid { first_line });
        }
        let imsi = imsi?;
        if self.plmn.as_ref().is_some_and(|p| !imsi.is_in(p)) {
            return Err(RejectReason::ImsiOutsidePlmn);
        }
        if let Some(first_line) = dup_imsi {
            return Err(RejectReason::DuplicateImsi { first_line });
        }
        let mut rec = CardRecord {
            line,
            iccid,
            imsi,
            ki: None,
            opc: None,
            op: None,
            pin1: None,
            puk1: None,
            pin2: None,
            puk2: None,
            adm1: None,
            acc: None,
            extra: Vec::new(),
        };
        for (i, (kind, name)) in self.layout.columns.iter().enumerate() {
            let v = field(i);
            if v.is_empty() && !matches!(kind, Kind::Extra) {
                continue;
            }
            match *kind {
                Kind::Iccid | Kind::Imsi | Kind::Dropped => {}
                Kind::Key { slot, encrypted } => {
                    let key = parse_key(v, name)?;
                    let value = if encrypted || self.keys_encrypted {
                        KeyField::Encrypted(key)
                    } else {
                        KeyField::Clear(key)
                    };
                    *key_slot(&mut rec, slot) = Some(value);
                }
                Kind::Code(slot) => *code_slot(&mut rec, slot) = Some(parse_code(v, slot, name)?),
                Kind::Acc => rec.acc = Some(parse_acc(v, name)?),
                Kind::Extra => rec.extra.push((name.clone(), v.to_owned())),
            }
        }
        Ok((rec, written))
    }
}

/// The line `value` was first seen on, or `None` (and remembers `line`) if it is new.
/// A digit string (at most 20 digits) as one integer, with its length folded in so that
/// leading zeros still tell identities apart.
fn ident_key(digits: &str) -> u128 {
    let value = digits.bytes().fold(0u128, |acc, b| {
        acc.wrapping_mul(10)
            .wrapping_add(u128::from(b.wrapping_sub(b'0')))
    });
    value.wrapping_mul(32).wrapping_add(digits.len() as u128)
}

fn first(seen: &mut HashMap<u128, u32>, key: u128, line: usize) -> Option<usize> {
    match seen.get(&key) {
        Some(&first_line) => Some(first_line as usize),
        None => {
            seen.insert(key, u32::try_from(line).unwrap_or(u32::MAX));
            None
        }
    }
}

fn key_slot(rec: &mut CardRecord, slot: KeySlot) -> &mut Option<KeyField> {
    match slot {
        KeySlot::Ki => &mut rec.ki,
        KeySlot::Opc => &mut rec.opc,
        KeySlot::Op => &mut rec.op,
    }
}

fn code_slot(rec: &mut CardRecord, slot: CodeSlot) -> &mut Option<SecretDigits> {
    match slot {
        CodeSlot::Pin1 => &mut rec.pin1,
        CodeSlot::Puk1 => &mut rec.puk1,
        CodeSlot::Pin2 => &mut rec.pin2,
        CodeSlot::Puk2 => &mut rec.puk2,
        CodeSlot::Adm1 => &mut rec.adm1,
    }
}

/// Reads an ICCID strictly (reference §1.4) and returns it with the number of digits it
/// was written with. Complete ICCIDs (19 or 20 digits) must pass Luhn as written: a
/// failing 19-digit value is a typo, never the payload of a 20-digit ICCID. A value one
/// digit short of the ICCID length gets its Luhn digit appended only where that is
/// unambiguous: 18 digits (no ICCID has 18), or 19 when the issuer's length is 20. An
/// EF-coded (nibble-swapped) ICCID is recognised by its `98` prefix, since every ICCID
/// starts with `89`.
fn parse_iccid(v: &str, len: Option<usize>) -> Result<(Iccid, usize), RejectReason> {
    let unswapped = unswap_ef(v);
    let v = unswapped.as_deref().unwrap_or(v);
    let s = v.strip_suffix(['F', 'f']).unwrap_or(v);
    let parsed = if s.is_empty() {
        Err(IdentError::Empty { kind: "ICCID" })
    } else if !all_digits(s) {
        Err(IdentError::NotDigits { kind: "ICCID" })
    } else {
        match (s.len(), len) {
            (18, None | Some(19)) | (19, Some(20)) => Iccid::from_payload(s),
            (19, None | Some(19)) | (20, None | Some(20)) => s.parse(),
            (got, Some(len)) => Err(IdentError::Length {
                kind: "ICCID",
                expected: if len == 19 {
                    "19 (configured), or 18 without the check digit"
                } else {
                    "20 (configured), or 19 without the check digit"
                },
                got,
            }),
            (got, None) => Err(IdentError::Length {
                kind: "ICCID",
                expected: "18 to 20",
                got,
            }),
        }
    };
    parsed.map(|i| (i, s.len())).map_err(|e| match e {
        IdentError::Luhn => RejectReason::BadLuhn,
        e => RejectReason::BadIccid(e),
    })
}

/// `982520506196020013F3` → `8952020516692000313F`; `None` if `v` is not EF-coded.
fn unswap_ef(v: &str) -> Option<String> {
    if v.len() != 20 || !v.is_ascii() || !v.starts_with("98") {
        return None;
    }
    let b = v.as_bytes();
    Some(
        b.chunks_exact(2)
            .flat_map(|p| p.iter().rev())
            .map(|&c| char::from(c))
            .collect(),
    )
}

/// An IMSI, also accepted in the 9-byte EF.IMSI coding written as 18 hex characters (no
/// IMSI has 18 digits, so the two forms cannot be confused).
fn parse_imsi(v: &str) -> Result<Imsi, IdentError> {
    if v.len() == 18 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
        let mut ef = [0u8; 9];
        decode_hex_into(v, &mut ef).map_err(|_| IdentError::NotDigits { kind: "IMSI" })?;
        return Imsi::from_ef_bytes(&ef);
    }
    v.parse()
}

fn parse_key(v: &str, column: &str) -> Result<Key128, RejectReason> {
    Key128::from_hex(v).map_err(|e| match e {
        SecretError::NotHex => RejectReason::BadHex {
            column: column.to_owned(),
        },
        SecretError::Length { .. } => RejectReason::BadKeyLength {
            column: column.to_owned(),
        },
    })
}

/// Digits, or the ASCII-hex `FF`-padded form some tooling writes (`31323334FFFFFFFF`).
fn parse_code(v: &str, slot: CodeSlot, column: &str) -> Result<SecretDigits, RejectReason> {
    let bad = || RejectReason::BadDigits {
        column: column.to_owned(),
    };
    let allowed = match slot {
        CodeSlot::Puk1 | CodeSlot::Puk2 => 8..=8,
        CodeSlot::Pin1 | CodeSlot::Pin2 | CodeSlot::Adm1 => 4..=8,
    };
    let digits = if v.len() == 16 {
        let mut raw = Zeroizing::new([0u8; 8]);
        decode_hex_into(v, &mut raw[..]).map_err(|_| bad())?;
        let used = raw.iter().position(|&b| b == 0xFF).unwrap_or(raw.len());
        let (code, padding) = raw.split_at(used);
        if padding.iter().any(|&b| b != 0xFF) || !code.iter().all(u8::is_ascii_digit) {
            return Err(bad());
        }
        let text: Zeroizing<String> = Zeroizing::new(code.iter().map(|&b| char::from(b)).collect());
        SecretDigits::new(&text)
    } else {
        SecretDigits::new(v)
    };
    digits
        .filter(|d| allowed.contains(&d.expose().len()))
        .ok_or_else(bad)
}

/// Exactly 4 hex characters (`u16::from_str_radix` alone would also take a `+`).
fn parse_acc(v: &str, column: &str) -> Result<u16, RejectReason> {
    let mut acc = [0u8; 2];
    decode_hex_into(v, &mut acc).map_err(|_| RejectReason::BadHex {
        column: column.to_owned(),
    })?;
    Ok(u16::from_be_bytes(acc))
}

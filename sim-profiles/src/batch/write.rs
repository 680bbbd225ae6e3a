//! Writes a vendor `.out` file: for test fixtures, round-trip property tests and handing a
//! batch to tooling that reads `.out` files.

use super::columns::{CodeSlot, KeySlot, Kind, kinds};
use super::{BatchHeader, CardRecord, KeyField, SecretDigits, normalize_name};
use std::fmt::Write as _;
use zeroize::Zeroizing;

/// Writes `header.fields` and `rows` as a `.out` file with the given `var_out` columns,
/// values separated by one space, lines ended by `\n`.
///
/// **The output contains key material and access codes in clear** (or as the ciphertext
/// the records hold): that is the point of a vendor file, so the caller must treat the
/// returned string as secret. Only `header.fields` is written (the typed header fields
/// are derived from them when parsing). A column a row has no value for is written
/// empty, which the parser then rejects: give every row every column.
pub fn write_vendor_out(header: &BatchHeader, columns: &[&str], rows: &[CardRecord]) -> String {
    let stars = "***************************************\n";
    let mut out = String::new();
    out.push_str("*HEADER DESCRIPTION\n");
    out.push_str(stars);
    for (key, value) in &header.fields {
        let _ = writeln!(out, "{key} : {value}");
    }
    out.push_str(stars);
    out.push_str("*INPUT VARIABLES\n");
    out.push_str(stars);
    out.push_str("var_In:\n");
    out.push_str(stars);
    out.push_str("*OUTPUT VARIABLES\n");
    out.push_str(stars);
    out.push_str("var_Out: ");
    out.push_str(&columns.join("/"));
    out.push('\n');
    let kinds = kinds(columns);
    let names: Vec<String> = columns.iter().map(|c| normalize_name(c)).collect();
    for rec in rows {
        for (i, (kind, name)) in kinds.iter().zip(&names).enumerate() {
            if i > 0 {
                out.push(' ');
            }
            let value = cell(rec, *kind, name);
            out.push_str(&value);
        }
        out.push('\n');
    }
    out
}

/// One value of `rec`, zeroised after it has been copied into the output.
fn cell(rec: &CardRecord, kind: Kind, normalized_name: &str) -> Zeroizing<String> {
    let key = |k: &Option<KeyField>| k.as_ref().map(|k| k.key().expose_hex());
    let code = |c: &Option<SecretDigits>| c.as_ref().map(|c| c.expose().to_owned());
    let value = match kind {
        Kind::Iccid => Some(rec.iccid.as_str().to_owned()),
        Kind::Imsi => Some(rec.imsi.as_str().to_owned()),
        Kind::Key { slot, .. } => match slot {
            KeySlot::Ki => key(&rec.ki),
            KeySlot::Opc => key(&rec.opc),
            KeySlot::Op => key(&rec.op),
        },
        Kind::Code(slot) => match slot {
            CodeSlot::Pin1 => code(&rec.pin1),
            CodeSlot::Puk1 => code(&rec.puk1),
            CodeSlot::Pin2 => code(&rec.pin2),
            CodeSlot::Puk2 => code(&rec.puk2),
            CodeSlot::Adm1 => code(&rec.adm1),
        },
        Kind::Acc => rec.acc.map(|a| format!("{a:04X}")),
        Kind::Extra => rec
            .extra
            .iter()
            .find(|(n, _)| normalize_name(n) == normalized_name)
            .map(|(_, v)| v.clone()),
        Kind::Dropped => None,
    };
    Zeroizing::new(value.unwrap_or_default())
}

//! SIM vendor batch files (reference §6 and §7): the Gemalto/IDEMIA-style `.out` layout and
//! pySim-style CSV, parsed into [`CardRecord`]s for `simgw inventory import`.
//!
//! The parsers do no IO. Both are fed one physical line at a time ([`VendorOutParser`],
//! [`CsvParser`]), so a caller can stream a large file; [`parse_vendor_out`] and
//! [`parse_csv`] drive them over a whole string. Work per line is proportional to the line:
//! duplicates are found through hash maps, never by rescanning earlier records.
//!
//! A problem with the file as a whole is a [`BatchError`]. A bad line becomes a [`Reject`]
//! and parsing goes on, so one pass reports every bad line: the importer is all-or-nothing
//! and the operator should fix the whole file at once.

mod columns;
mod csv;
mod error;
mod header;
mod record;
mod row;
mod vendor_out;
mod write;

pub use csv::{CsvParser, parse_csv, parse_csv_bytes};
pub use error::{BatchError, RejectReason};
pub use header::BatchHeader;
pub use record::{CardRecord, KeyField, SecretDigits};
pub use vendor_out::{VendorOutParser, parse_vendor_out, parse_vendor_out_bytes};
pub use write::write_vendor_out;

use crate::Plmn;

/// Settings that come from the tenant's configuration, not from the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// The tenant's PLMN: a row whose IMSI is outside it is rejected.
    pub plmn: Option<Plmn>,
    /// The issuer's ICCID length (19 or 20), when known (reference §1.4). Without it, a
    /// complete ICCID must pass Luhn as written and only an 18-digit payload is completed;
    /// with 20, 19-digit values are payloads whose Luhn digit is appended. Either way one
    /// file uses one form, and rows in another form are refused.
    pub iccid_len: Option<usize>,
    /// Leave duplicate detection to the caller (a streaming importer that checks against
    /// its staged store, so memory does not grow with the file).
    pub skip_duplicate_check: bool,
}

impl ParseOptions {
    fn check(&self) -> Result<(), BatchError> {
        match self.iccid_len {
            None | Some(19 | 20) => Ok(()),
            Some(len) => Err(BatchError::InvalidIccidLength { len }),
        }
    }
}

/// A rejected data line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// The physical line (1-based, counting every line of the file).
    pub line: usize,
    /// Why it was rejected (the first problem found on the line).
    pub reason: RejectReason,
}

impl std::fmt::Display for Reject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// Everything read from one file: its header, the accepted cards and the rejected lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseReport {
    /// The header (empty for CSV).
    pub header: BatchHeader,
    /// Accepted cards, in file order.
    pub records: Vec<CardRecord>,
    /// Rejected lines, in file order.
    pub rejects: Vec<Reject>,
}

/// Lower-case ASCII letters and digits only: `Batch No`, `batch_no` and `BATCH-NO` match.
pub(crate) fn normalize_name(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// One physical line without its `\r` (CRLF files), and without a UTF-8 byte-order mark on
/// the first line.
pub(crate) fn clean_line(line: &str, number: usize) -> &str {
    let line = line.strip_suffix('\r').unwrap_or(line);
    if number == 1 {
        line.strip_prefix('\u{feff}').unwrap_or(line)
    } else {
        line
    }
}

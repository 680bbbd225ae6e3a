//! File-level failures ([`BatchError`]) and per-line rejections ([`RejectReason`]). Neither
//! ever carries a value from the file: only line numbers, counts, and column or header key
//! names, so both are safe to log and to show to an operator.

use crate::IdentError;

/// Why a whole batch file cannot be parsed. Problems with single lines are
/// [`RejectReason`]s instead, so that one pass reports all of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// A vendor `.out` file has no `var_out` line, so its column order is unknown.
    #[error("no var_out line: the column order is unknown")]
    MissingVarOut,
    /// A vendor `.out` file has a second `var_out` line.
    #[error("second var_out line on line {line} (the first is on line {first_line})")]
    MultipleVarOut {
        /// Line of the first `var_out` line.
        first_line: usize,
        /// Line of the second one.
        line: usize,
    },
    /// A CSV file has no header row (it is empty or blank).
    #[error("no CSV header row")]
    MissingHeaderRow,
    /// The CSV header row is not valid CSV (bad quoting).
    #[error("CSV header row on line {line} has malformed quoting")]
    MalformedHeaderRow {
        /// Line of the header row.
        line: usize,
    },
    /// The column line (`var_out` or CSV header row) names no columns.
    #[error("the column line on line {line} names no columns")]
    NoColumns {
        /// Line of the column line.
        line: usize,
    },
    /// A mandatory column (`ICCID` or `IMSI`) is missing from the column line.
    #[error("mandatory column {column} is missing from the column line on line {line}")]
    MissingColumn {
        /// Which column: `"ICCID"` or `"IMSI"`.
        column: &'static str,
        /// Line of the column line.
        line: usize,
    },
    /// Two columns carry the same field (for example `KI` and `EKI`, or `ADM1` and `PIN_ADM`).
    #[error("column {column} on line {line} repeats a field already given by another column")]
    DuplicateColumn {
        /// The second column's name, as spelled in the file.
        column: String,
        /// Line of the column line.
        line: usize,
    },
    /// A header value the parser interprets (quantity, transport key index, PLMN) is malformed.
    #[error("header value for {key} is malformed")]
    BadHeaderValue {
        /// The header key, as spelled in the file.
        key: String,
    },
    /// The number of data rows differs from the header's `Quantity`.
    #[error("header says {expected} cards, file has {found} data rows")]
    QuantityMismatch {
        /// The header's quantity.
        expected: u64,
        /// Data rows found (accepted and rejected).
        found: u64,
    },
    /// [`ParseOptions::iccid_len`](super::ParseOptions::iccid_len) is not 19 or 20.
    #[error("configured ICCID length must be 19 or 20, got {len}")]
    InvalidIccidLength {
        /// The configured length.
        len: usize,
    },
}

/// Why one data line was rejected. Never contains a value from the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    /// The row has a different number of fields than the column line.
    #[error("expected {expected} fields, got {got}")]
    WrongFieldCount {
        /// Number of columns.
        expected: usize,
        /// Number of fields in the row.
        got: usize,
    },
    /// A CSV row has malformed quoting (an unclosed quote, or text after a closing quote).
    #[error("malformed CSV quoting")]
    BadQuoting,
    /// The ICCID is not 18 to 20 digits (or not the configured length).
    #[error("bad ICCID: {0}")]
    BadIccid(IdentError),
    /// The ICCID has a full length but its Luhn check digit is wrong.
    #[error("ICCID check digit (Luhn) is wrong")]
    BadLuhn,
    /// The ICCID is written with another number of digits than the file's other ICCIDs:
    /// a file follows one convention (reference §1.4), so this row is a typo or a stray.
    #[error("ICCID has {digits} digits where the file's ICCIDs have {file_digits}")]
    IccidFormMismatch {
        /// Digits in this row's ICCID (without `F` padding).
        digits: usize,
        /// Digits in the ICCIDs of most rows of the file.
        file_digits: usize,
    },
    /// The IMSI is not 6 to 15 digits (or a malformed EF.IMSI coding).
    #[error("bad IMSI: {0}")]
    BadImsi(IdentError),
    /// The IMSI does not start with the tenant's MCC and MNC.
    #[error("IMSI is outside the tenant PLMN")]
    ImsiOutsidePlmn,
    /// A key or ACC column is not hexadecimal (ACC: not exactly 4 hex characters).
    #[error("column {column} is not valid hexadecimal")]
    BadHex {
        /// The column name, as spelled in the file.
        column: String,
    },
    /// A key column is not 32 hex characters long.
    #[error("column {column} must be 32 hex characters")]
    BadKeyLength {
        /// The column name, as spelled in the file.
        column: String,
    },
    /// A PIN, PUK or ADM column is not decimal digits of the allowed length.
    #[error("column {column} must be decimal digits (PIN and ADM: 4 to 8, PUK: 8)")]
    BadDigits {
        /// The column name, as spelled in the file.
        column: String,
    },
    /// The ICCID already appeared on an earlier line.
    #[error("duplicate ICCID (first on line {first_line})")]
    DuplicateIccid {
        /// The line where this ICCID first appeared.
        first_line: usize,
    },
    /// The IMSI already appeared on an earlier line.
    #[error("duplicate IMSI (first on line {first_line})")]
    DuplicateImsi {
        /// The line where this IMSI first appeared.
        first_line: usize,
    },
    /// The ICCID is already in the store, in an earlier batch of any tenant (found by the
    /// importer, not the parser). Says nothing about whose card it is.
    #[error("ICCID is already in inventory")]
    IccidInInventory,
    /// The IMSI is already in the store, in an earlier batch of any tenant (found by the
    /// importer, not the parser). Says nothing about whose card it is.
    #[error("IMSI is already in inventory")]
    ImsiInInventory,
}

impl RejectReason {
    /// A stable snake_case name for the kind of problem, without the line's details: what
    /// `--rejects` files and the API carry as `code`, and what refusals are counted by.
    pub fn code(&self) -> &'static str {
        match self {
            Self::WrongFieldCount { .. } => "wrong_field_count",
            Self::BadQuoting => "bad_quoting",
            Self::BadIccid(_) => "bad_iccid",
            Self::BadLuhn => "bad_check_digit",
            Self::IccidFormMismatch { .. } => "iccid_form_mismatch",
            Self::BadImsi(_) => "bad_imsi",
            Self::ImsiOutsidePlmn => "imsi_outside_plmn",
            Self::BadHex { .. } => "bad_hex",
            Self::BadKeyLength { .. } => "bad_key_length",
            Self::BadDigits { .. } => "bad_digits",
            Self::DuplicateIccid { .. } => "duplicate_iccid",
            Self::DuplicateImsi { .. } => "duplicate_imsi",
            Self::IccidInInventory => "iccid_in_inventory",
            Self::ImsiInInventory => "imsi_in_inventory",
        }
    }
}

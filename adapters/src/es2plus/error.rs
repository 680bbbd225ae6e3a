//! Why an ES2+ message could not be decoded, or why the SM-DP+ did not execute a function.
//! Messages name members and limits only: they never echo values (ICCIDs, EIDs, codes
//! that are not well-formed, free text), so they are safe to log.

use super::header::ExecutionStatus;

/// A decoding failure, or a function the peer reported as not executed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Es2Error {
    /// The body exceeds the size cap.
    #[error("message exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The cap.
        limit: usize,
    },
    /// The body is not UTF-8.
    #[error("message is not UTF-8")]
    NotUtf8,
    /// The body is not well-formed JSON (or nests too deeply).
    #[error("malformed JSON at line {line}, column {column}")]
    Malformed {
        /// 1-based line where the parser stopped.
        line: usize,
        /// 1-based column where the parser stopped.
        column: usize,
    },
    /// The body is JSON but not an object.
    #[error("message is not a JSON object")]
    NotAnObject,
    /// A mandatory member is absent (or `null`).
    #[error("missing member {field}")]
    Missing {
        /// The member path, e.g. `header.functionCallIdentifier`.
        field: &'static str,
    },
    /// A member has the wrong JSON type or does not parse as its type (value not shown).
    #[error("invalid value in {field}")]
    InvalidValue {
        /// The member path.
        field: &'static str,
    },
    /// The HTTP status is not 200 (the function may or may not have run; see §9).
    #[error("HTTP status {status} instead of 200")]
    HttpStatus {
        /// The status.
        status: u16,
    },
    /// HTTP 200, but `functionExecutionStatus.status` is `Failed`, `Expired` or unknown.
    #[error(
        "ES2+ function not executed: {} (subject {}, reason {})",
        .status.label(),
        safe_code(.subject_code),
        safe_code(.reason_code)
    )]
    Failed {
        /// The status the peer reported (never a success status).
        status: ExecutionStatus,
        /// `statusCodeData.subjectCode`, verbatim; empty if the peer sent no `statusCodeData`.
        subject_code: String,
        /// `statusCodeData.reasonCode`, verbatim; empty if the peer sent no `statusCodeData`.
        reason_code: String,
        /// `statusCodeData.subjectIdentifier`, verbatim (not shown by `Display`).
        subject_identifier: Option<String>,
        /// `statusCodeData.message`, verbatim free text (never parsed, not shown by `Display`).
        message: Option<String>,
        /// Whether repeating the call with the same parameters may succeed (see [`super::status`]).
        retryable: bool,
    },
}

impl Es2Error {
    /// Whether repeating the same call may succeed: a retryable `Failed`, or an HTTP 5xx
    /// (ambiguous: apply the §9 replay rules). Decoding errors are never retryable.
    pub fn retryable(&self) -> bool {
        match self {
            Self::Failed { retryable, .. } => *retryable,
            Self::HttpStatus { status } => *status >= 500,
            _ => false,
        }
    }

    /// The `(subjectCode, reasonCode)` pair of a `Failed`, if any.
    pub fn codes(&self) -> Option<(&str, &str)> {
        match self {
            Self::Failed {
                subject_code,
                reason_code,
                ..
            } => Some((subject_code, reason_code)),
            _ => None,
        }
    }
}

/// A status code for display: shown only if it looks like a dotted code, else `?`.
pub(crate) fn safe_code(code: &str) -> &str {
    if code.is_empty() {
        "none"
    } else if code.len() <= 16 && code.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        code
    } else {
        "?"
    }
}

//! Why a CAI3G message could not be decoded. Messages name elements and limits only: they
//! never echo values, so they cannot leak key material or request bodies into logs.

/// A decoding failure.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The message exceeds the size or element-count cap.
    #[error("message exceeds the limit of {limit} {unit}")]
    TooLarge {
        /// The cap.
        limit: usize,
        /// What is counted (`bytes` or `elements`).
        unit: &'static str,
    },
    /// Elements nest deeper than the cap.
    #[error("elements nest deeper than {limit}")]
    TooDeep {
        /// The cap.
        limit: usize,
    },
    /// The body is not UTF-8.
    #[error("message is not UTF-8")]
    NotUtf8,
    /// The XML is not well-formed (or uses a DTD, which SOAP forbids).
    #[error("malformed XML at byte {offset}: {reason}")]
    Malformed {
        /// What is wrong.
        reason: &'static str,
        /// Byte offset where the parser stopped.
        offset: u64,
    },
    /// A required element is absent.
    #[error("missing element {path}")]
    Missing {
        /// Where the element was expected, e.g. `LoginResponse/sessionId`.
        path: &'static str,
    },
    /// The body holds a different element than the operation expects.
    #[error("expected {expected} in the SOAP body, found {found}")]
    UnexpectedElement {
        /// The expected element.
        expected: &'static str,
        /// The local name found (truncated), without its namespace.
        found: String,
    },
    /// An element has the right local name but the wrong namespace.
    #[error("element {element} is in the wrong namespace")]
    WrongNamespace {
        /// The element.
        element: &'static str,
    },
    /// `MOType` names an MO this codec does not handle.
    #[error("unsupported MOType")]
    UnsupportedMoType,
    /// A value does not parse as its type (the value itself is not shown).
    #[error("invalid value in {field}")]
    InvalidValue {
        /// The element or attribute.
        field: &'static str,
    },
    /// Two places that must agree (e.g. `MOId` and the subscription) disagree.
    #[error("{field} differs between MOId and MOAttributes")]
    Inconsistent {
        /// The key that differs.
        field: &'static str,
    },
    /// A non-success HTTP status without a SOAP fault in the body.
    #[error("HTTP status {status} without a SOAP fault")]
    HttpStatus {
        /// The status.
        status: u16,
    },
}

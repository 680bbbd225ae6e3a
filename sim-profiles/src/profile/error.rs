//! The one error type of the profile package codec. Messages never echo the input bytes.

/// Why a profile package or one of its elements could not be decoded or changed.
///
/// Offsets count bytes from the start of the input handed to the decoder: the package for
/// [`crate::profile::split_package`] and [`crate::profile::Package::decode`], the element's
/// own TLV for [`crate::profile::ProfileElement::decode`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// The input ends inside a tag, a length or a value.
    #[error("truncated TLV at offset {offset}")]
    Truncated {
        /// Where the TLV starts.
        offset: usize,
    },
    /// The indefinite length form (`80`), which DER forbids.
    #[error("indefinite length at offset {offset}")]
    IndefiniteLength {
        /// Where the length starts.
        offset: usize,
    },
    /// A long-form length that fits a shorter form, which DER forbids.
    #[error("non-minimal length at offset {offset}")]
    NonMinimalLength {
        /// Where the length starts.
        offset: usize,
    },
    /// A length with more than three length bytes (above 16 MiB), or the reserved `FF`.
    #[error("length too large at offset {offset}")]
    LengthTooLarge {
        /// Where the length starts.
        offset: usize,
    },
    /// A multi-byte tag that is non-minimal or longer than four bytes.
    #[error("invalid tag at offset {offset}")]
    InvalidTag {
        /// Where the tag starts.
        offset: usize,
    },
    /// The package holds no element at all.
    #[error("profile package is empty")]
    Empty,
    /// The first element is not a `ProfileHeader` and none follows.
    #[error("profile package has no ProfileHeader")]
    MissingHeader,
    /// A `ProfileHeader` appears, but not as the first element.
    #[error("ProfileHeader must be the first element, found at index {index}")]
    HeaderNotFirst {
        /// Index of the misplaced header.
        index: usize,
    },
    /// A second `ProfileHeader`.
    #[error("duplicate ProfileHeader at index {index}")]
    DuplicateHeader {
        /// Index of the second header.
        index: usize,
    },
    /// No `PE-End` element.
    #[error("profile package has no PE-End")]
    MissingEnd,
    /// An element follows `PE-End`.
    #[error("element at index {index} follows PE-End")]
    ElementAfterEnd {
        /// Index of the first element after the end.
        index: usize,
    },
    /// Two elements share one PE header `identification`.
    #[error("duplicate PE identification {id}")]
    DuplicateIdentification {
        /// The repeated identification value.
        id: u16,
    },
    /// A top-level TLV is not a context-specific constructed tag, so no `ProfileElement`.
    #[error("element at offset {offset} is not a ProfileElement")]
    NotAnElement {
        /// Where the TLV starts.
        offset: usize,
    },
    /// An element's content does not follow its ASN.1 definition.
    #[error("{element} is malformed: {reason}")]
    Malformed {
        /// Which element or type.
        element: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// An element decodes but is not in DER canonical form (for example, a component equal
    /// to its DEFAULT is present), so re-encoding it would change its bytes.
    #[error("{element} is not canonical DER")]
    NonCanonical {
        /// Which element.
        element: &'static str,
    },
    /// An EF.ACC value that no card may hold, or that is not 4 hex digits.
    #[error("invalid EF.ACC value: {reason}")]
    InvalidAcc {
        /// What is wrong, and what to give instead.
        reason: &'static str,
    },
    /// A value cannot be written into one AKA parameter: its algorithm or its fields have
    /// no room for it. Names the element, its application and its algorithm.
    #[error(
        "cannot set {field} in PE-AKAParameter id {identification} ({application}, {algorithm}): {reason}"
    )]
    AkaValue {
        /// The element's PE `identification`.
        identification: u16,
        /// The application it belongs to (`USIM`, `ISIM`, …).
        application: &'static str,
        /// Its algorithm as the template has it.
        algorithm: &'static str,
        /// What could not be set (`K`, `OPc`, `algorithmID`).
        field: &'static str,
        /// Why, and what would work.
        reason: &'static str,
    },
    /// The template lacks the element a personalisation value goes into.
    #[error("the template has no {element}")]
    MissingElement {
        /// Which element.
        element: &'static str,
    },
    /// The file to read or replace is absent from the element.
    #[error("{file} is not present in the profile element")]
    MissingFile {
        /// Which file.
        file: &'static str,
    },
}

impl ProfileError {
    /// Shorthand for [`ProfileError::Malformed`].
    pub(crate) fn malformed(element: &'static str, reason: &'static str) -> Self {
        Self::Malformed { element, reason }
    }
}

//! What the gateway asks a verifier: who (name, ID document), how the ID was captured,
//! the liveness evidence, where the order comes from, and what the tenant's policy
//! demands. Typed values only; the wire form is in `codec`.

use super::id_type::IdType;
use super::pii::{IdNumber, PersonName};
use super::values::{CivilDate, Nationality, Score, Token};

/// How the ID data was captured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capture {
    /// Read from the chip by a certified ID reader (the only method allowed in mainland
    /// China physical stores).
    CardReader {
        /// The reader's serial number (registered in the channel registry).
        reader_serial: Token,
        /// A reference to the reader's signed or structured payload, if kept.
        payload_ref: Option<Token>,
    },
    /// Typed in by hand, where the tenant's policy allows it.
    Manual,
}

/// A face comparison between the ID photo and the person, with a liveness check.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceMatch {
    /// The face-match vendor's transaction id.
    pub transaction_id: Token,
    /// The similarity score.
    pub score: Score,
    /// Whether the liveness check passed.
    pub liveness: bool,
}

/// The real-person evidence that goes with the ID.
#[derive(Debug, Clone, PartialEq)]
pub enum Evidence {
    /// In store: a face match.
    FaceMatch(FaceMatch),
    /// Online: a recorded real-person video.
    Video {
        /// The video's id in the evidence store.
        id: Token,
    },
}

/// Where the order comes from; every part is optional (online channels have no store).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelContext {
    /// The gateway tenant (brand).
    pub tenant: Option<Token>,
    /// The store.
    pub store: Option<Token>,
    /// The clerk.
    pub clerk: Option<Token>,
    /// The device (terminal).
    pub device: Option<Token>,
}

/// What the tenant's policy demands of this verification.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Requirements {
    /// Real-person evidence must be present (otherwise `face_check_required`).
    pub evidence_required: bool,
    /// `manual` capture is allowed (otherwise `id_capture_method_not_allowed`).
    pub manual_capture_allowed: bool,
}

/// One verification request. `Debug` shows neither the name nor the ID number.
#[derive(Debug, Clone, PartialEq)]
pub struct VerificationRequest {
    /// The caller's id for this verification; a repeat with the same id must get the same
    /// decision without a second check (idempotency).
    pub request_id: Token,
    /// The name on the ID.
    pub name: PersonName,
    /// The ID document type.
    pub id_type: IdType,
    /// The ID document number.
    pub id_number: IdNumber,
    /// The holder's nationality, if known.
    pub nationality: Option<Nationality>,
    /// The last day the ID document is valid, if the capture read it.
    pub id_expiry: Option<CivilDate>,
    /// How the ID was captured.
    pub capture: Capture,
    /// The real-person evidence, if any.
    pub evidence: Option<Evidence>,
    /// Where the order comes from.
    pub channel: ChannelContext,
    /// What the policy demands.
    pub requirements: Requirements,
}

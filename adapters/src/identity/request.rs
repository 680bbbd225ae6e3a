//! What the gateway asks a verifier: who (name, ID document), how the ID was captured,
//! the liveness evidence, where the order comes from, and what the tenant's policy
//! demands. Typed values only; the wire form is in `codec`.

use super::pii::{IdNumber, PersonName};
use super::values::{CivilDate, Nationality, Score, Token};

/// The ID documents accepted for real-name registration (reference §1.1, MIIT Order 25).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdType {
    /// 居民身份证: mainland resident ID card (18 characters).
    ResidentId,
    /// 临时居民身份证: temporary resident ID (same number as the resident ID).
    TemporaryResidentId,
    /// 户口簿: household register (carries the resident ID number).
    HouseholdRegister,
    /// 港澳居民来往内地通行证: Hong Kong / Macao travel permit.
    HkMacaoTravelPermit,
    /// 台湾居民来往大陆通行证: Taiwan travel permit.
    TaiwanTravelPermit,
    /// 港澳台居民居住证: residence permit for Hong Kong, Macao and Taiwan residents.
    HmtResidencePermit,
    /// A foreign passport.
    Passport,
    /// 外国人永久居留身份证: foreigner's permanent-residence ID card.
    ForeignPermanentResidenceId,
}

impl IdType {
    /// Every type, in wire-name order of the documentation.
    pub const ALL: [Self; 8] = [
        Self::ResidentId,
        Self::TemporaryResidentId,
        Self::HouseholdRegister,
        Self::HkMacaoTravelPermit,
        Self::TaiwanTravelPermit,
        Self::HmtResidencePermit,
        Self::Passport,
        Self::ForeignPermanentResidenceId,
    ];

    /// The wire name (also the `id_type` of the gateway's `subscriber`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ResidentId => "resident_id",
            Self::TemporaryResidentId => "temporary_resident_id",
            Self::HouseholdRegister => "household_register",
            Self::HkMacaoTravelPermit => "hk_macao_travel_permit",
            Self::TaiwanTravelPermit => "taiwan_travel_permit",
            Self::HmtResidencePermit => "hmt_residence_permit",
            Self::Passport => "passport",
            Self::ForeignPermanentResidenceId => "foreign_permanent_residence_id",
        }
    }

    /// The type with this wire name.
    pub fn from_wire(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

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

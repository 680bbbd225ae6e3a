//! What a verifier decides: pass, reject with one of five fixed codes, or flag for a
//! second verification.

use super::values::{Code, Token};

/// Why a verifier refused the identity. The wire names are fixed (the gateway reports
/// them to the channel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectCode {
    /// Name and ID number do not belong together (or the number does not exist).
    IdentityMismatch,
    /// The face did not match the ID photo, or the liveness check failed.
    FaceCheckFailed,
    /// The policy requires real-person evidence and none was sent.
    FaceCheckRequired,
    /// The capture method is not allowed (e.g. `manual` in a China store).
    IdCaptureMethodNotAllowed,
    /// The ID document has expired.
    IdExpired,
}

impl RejectCode {
    /// Every code.
    pub const ALL: [Self; 5] = [
        Self::IdentityMismatch,
        Self::FaceCheckFailed,
        Self::FaceCheckRequired,
        Self::IdCaptureMethodNotAllowed,
        Self::IdExpired,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IdentityMismatch => "identity_mismatch",
            Self::FaceCheckFailed => "face_check_failed",
            Self::FaceCheckRequired => "face_check_required",
            Self::IdCaptureMethodNotAllowed => "id_capture_method_not_allowed",
            Self::IdExpired => "id_expired",
        }
    }

    /// The code with this wire name.
    pub fn from_wire(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl std::fmt::Display for RejectCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The identity is verified.
    Pass,
    /// The identity is refused; nothing may be provisioned.
    Reject(RejectCode),
    /// Verified, but risky: the line may open and must go through re-verification. The
    /// reason is the verifier's code (never free text).
    Flag(Code),
}

impl Verdict {
    /// The wire name of the outcome: `pass`, `reject` or `flag`.
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Reject(_) => "reject",
            Self::Flag(_) => "flag",
        }
    }
}

/// A verifier's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationResponse {
    /// The request id, echoed.
    pub request_id: Token,
    /// The decision.
    pub verdict: Verdict,
    /// The verifier's own reference for this check (for the audit record), if it gives one.
    pub verification_id: Option<Token>,
}

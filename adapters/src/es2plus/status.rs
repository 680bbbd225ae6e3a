//! The status-code catalogue (reference §4, §6): names of subject and reason codes, the
//! known failure pairs of Tables 24/27/30/32, and the retryable-vs-permanent rule.
//! Codes are strings and are compared as strings (`"3.10"` ≠ `"3.1"`).

use super::header::ExecutionStatus;

/// Whether a non-success outcome may succeed if the same call is repeated.
///
/// Retryable: `Failed` with a processing or transport reason (`4`, `4.2`, `5`, `5.1`),
/// e.g. SM-DS registration failed or inaccessible. Everything else is permanent: access
/// (1.x), format (2.x), conditions of use (3.x, stock-out included), security (6.x), the
/// other 4.x reasons, a missing code, an unknown status, and `Expired`. SGP.22 has no
/// validity period, so a peer answering `Expired` is outside the spec; the reference says
/// to treat it as a failure, and repeating the same call gives no reason to expect better.
pub fn is_retryable(status: &ExecutionStatus, _subject: &str, reason: &str) -> bool {
    match status {
        ExecutionStatus::Failed => matches!(reason, "4" | "4.2" | "5" | "5.1"),
        _ => false,
    }
}

/// A failure pair the gateway acts on (Tables 24, 27, 30, 32 and §6 field deviations).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KnownFailure {
    /// 8.2.1/3.9: the SM-DP+ does not know the ICCID.
    IccidUnknown,
    /// 8.2.1/1.2: the profile belongs to another Operator.
    IccidNotAllowed,
    /// 8.2.1/3.3: the profile is not Available (DownloadOrder) or already downloaded (CancelOrder).
    IccidAlreadyInUse,
    /// 8.2.1/3.5: invalid state transition (e.g. ReleaseProfile before ConfirmOrder).
    InvalidTransition,
    /// 8.2.1/3.10: a different EID is associated with the ICCID (CancelOrder).
    IccidEidMismatch,
    /// 8.2.5/3.9: unknown profile type.
    ProfileTypeUnknown,
    /// 8.2.5/1.2: the profile type is not allowed for the caller.
    ProfileTypeNotAllowed,
    /// 8.2.5/3.7: no Available profile left of this type (stock-out).
    ProfileTypeStockOut,
    /// 8.2.5/3.8: the profile type does not match the ICCID.
    ProfileTypeMismatch,
    /// 8.2.6/3.3: the MatchingID is already in use.
    MatchingIdInUse,
    /// 8.2.6/3.10: a different MatchingID is associated with the ICCID.
    MatchingIdMismatch,
    /// 8.1.1/2.2: an EID is needed but none was given.
    EidMissing,
    /// 8.1.1/3.10: a different EID is already tied to the ICCID.
    EidInvalidAssociation,
    /// 8.9/5.1: the SM-DS address is invalid or unreachable.
    SmdsInaccessible,
    /// 8.9/4.2: SM-DS event registration failed.
    SmdsExecutionError,
    /// 1.1/1.2 (or 1.1/1.1): the caller is not authorised (certificate or requester id).
    RequesterNotAllowed,
    /// 1.3.1/2.1 or 1.3.1/2.2: the request was malformed or incomplete.
    ProtocolFormat,
}

/// Maps a `(subjectCode, reasonCode)` pair to a known failure, if it is one.
pub fn known_failure(subject: &str, reason: &str) -> Option<KnownFailure> {
    use KnownFailure::*;
    Some(match (subject, reason) {
        ("8.2.1", "3.9") => IccidUnknown,
        ("8.2.1", "1.2") => IccidNotAllowed,
        ("8.2.1", "3.3") => IccidAlreadyInUse,
        ("8.2.1", "3.5") => InvalidTransition,
        ("8.2.1", "3.10") => IccidEidMismatch,
        ("8.2.5", "3.9") => ProfileTypeUnknown,
        ("8.2.5", "1.2") => ProfileTypeNotAllowed,
        ("8.2.5", "3.7") => ProfileTypeStockOut,
        ("8.2.5", "3.8") => ProfileTypeMismatch,
        ("8.2.6", "3.3") => MatchingIdInUse,
        ("8.2.6", "3.10") => MatchingIdMismatch,
        ("8.1.1", "2.2") => EidMissing,
        ("8.1.1", "3.10") => EidInvalidAssociation,
        ("8.9", "5.1") => SmdsInaccessible,
        ("8.9", "4.2") => SmdsExecutionError,
        ("1.1", "1.1" | "1.2") => RequesterNotAllowed,
        ("1.3.1", "2.1" | "2.2") => ProtocolFormat,
        _ => return None,
    })
}

/// The name of a subject code (§6), if known.
pub fn subject_name(code: &str) -> Option<&'static str> {
    Some(match code {
        "1" => "Generic",
        "1.1" => "Function Requester",
        "1.2" => "Function Provider",
        "1.3" => "Protocol",
        "1.3.1" => "Protocol Format",
        "1.3.2" => "Protocol Version",
        "1.6" => "Function",
        "8" => "eUICC Remote Provisioning",
        "8.1" => "eUICC",
        "8.1.1" => "EID",
        "8.1.2" => "EUM Certificate",
        "8.1.3" => "eUICC Certificate",
        "8.2" => "Profile",
        "8.2.1" => "Profile ICCID",
        "8.2.5" => "Profile Type",
        "8.2.6" => "Matching ID",
        "8.2.7" => "Confirmation Code",
        "8.2.8" => "PPR",
        "8.2.9" => "Profile Metadata",
        "8.2.10" => "Bound Profile Package",
        "8.8" => "SM-DP+",
        "8.8.1" => "SM-DP+ Address",
        "8.8.2" => "Security configuration",
        "8.8.3" => "SVN",
        "8.8.4" => "SM-DP+ Certificate",
        "8.8.5" => "Download order",
        "8.9" => "SM-DS",
        "8.9.1" => "SM-DS Address",
        "8.9.2" => "SM-DS Security configuration",
        "8.9.3" => "SM-DS SVN",
        "8.9.4" => "SM-DS Certificate",
        "8.9.5" => "Event Record",
        "8.10" => "RSP Operation",
        "8.10.1" => "TransactionId",
        "8.11" => "GSMA CI",
        "8.11.1" => "CI Public Key",
        _ => return None,
    })
}

/// The name of a reason code (§6), if known.
pub fn reason_name(code: &str) -> Option<&'static str> {
    Some(match code {
        "1" => "Access Error",
        "1.1" => "Unknown",
        "1.2" => "Not Allowed",
        "2" => "Format Error",
        "2.1" => "Invalid",
        "2.2" => "Mandatory Element Missing",
        "2.3" => "Conditional Element Missing",
        "3" => "Conditions of Use Not Satisfied",
        "3.1" => "Unsupported",
        "3.3" => "Already in Use",
        "3.5" => "Invalid transition",
        "3.7" => "Unavailable",
        "3.8" => "Refused",
        "3.9" => "Unknown",
        "3.10" => "Invalid Association",
        "3.11" => "Value has Changed",
        "4" => "Processing Error",
        "4.2" => "Execution Error",
        "4.3" => "Stopped on Warning",
        "4.8" => "Insufficient Memory",
        "4.10" => "Time to Live Expired",
        "5" => "Transport Error",
        "5.1" => "Inaccessible",
        "6" => "Security Error",
        "6.1" => "Verification Failed",
        "6.3" => "Expired",
        "6.4" => "Maximum number of retries exceeded",
        _ => return None,
    })
}

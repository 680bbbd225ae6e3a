//! The `(subjectCode, reasonCode)` pairs the simulator answers, named once so the state
//! machine, the endpoint and the tests agree on them.

use adapters::es2plus::{FunctionExecutionStatus, StatusCodeData};
use serde::Serialize;

/// A status code pair; compared as strings, never as numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Code {
    /// Subject code, e.g. `8.2.1`.
    pub subject: &'static str,
    /// Reason code, e.g. `3.9`.
    pub reason: &'static str,
}

impl Code {
    const fn new(subject: &'static str, reason: &'static str) -> Self {
        Self { subject, reason }
    }

    /// This pair as `statusCodeData`.
    pub fn status_code_data(self) -> StatusCodeData {
        StatusCodeData::new(self.subject, self.reason)
    }

    /// `Failed` with this pair.
    pub fn failed(self) -> FunctionExecutionStatus {
        FunctionExecutionStatus::failed(self.subject, self.reason)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.subject, self.reason)
    }
}

/// 8.2.1/3.9: the ICCID is unknown.
pub const ICCID_UNKNOWN: Code = Code::new("8.2.1", "3.9");
/// 8.2.1/1.2: the profile belongs to another operator.
pub const ICCID_NOT_ALLOWED: Code = Code::new("8.2.1", "1.2");
/// 8.2.1/3.3: the profile is not Available, or (CancelOrder) already downloaded.
pub const ICCID_IN_USE: Code = Code::new("8.2.1", "3.3");
/// 8.2.1/3.5: the function is not allowed in the profile's state.
pub const INVALID_TRANSITION: Code = Code::new("8.2.1", "3.5");
/// 8.2.1/3.10: CancelOrder names another EID than the one bound.
pub const ICCID_EID_MISMATCH: Code = Code::new("8.2.1", "3.10");
/// 8.2.1/2.3: DownloadOrder with neither ICCID nor profile type.
pub const ICCID_OR_TYPE_MISSING: Code = Code::new("8.2.1", "2.3");
/// 8.2.1/2.2: a mandatory ICCID-related member is missing (CancelOrder indicator, ICCID).
pub const ICCID_MANDATORY_MISSING: Code = Code::new("8.2.1", "2.2");
/// 8.2.1/2.1: the ICCID (or the final status indicator) does not parse.
pub const ICCID_INVALID: Code = Code::new("8.2.1", "2.1");
/// 8.2.5/3.9: no profile of this type exists.
pub const TYPE_UNKNOWN: Code = Code::new("8.2.5", "3.9");
/// 8.2.5/1.2: the caller owns no profile of this type.
pub const TYPE_NOT_ALLOWED: Code = Code::new("8.2.5", "1.2");
/// 8.2.5/3.7: no Available profile of this type is left.
pub const TYPE_STOCK_OUT: Code = Code::new("8.2.5", "3.7");
/// 8.2.5/3.8: the named profile is of another type.
pub const TYPE_MISMATCH: Code = Code::new("8.2.5", "3.8");
/// 8.2.6/3.3: the MatchingID is already used by this operator.
pub const MATCHING_ID_IN_USE: Code = Code::new("8.2.6", "3.3");
/// 8.2.6/3.10: CancelOrder names another MatchingID than the one bound.
pub const MATCHING_ID_MISMATCH: Code = Code::new("8.2.6", "3.10");
/// 8.2.6/2.1: the MatchingID is malformed (or empty where a value is needed).
pub const MATCHING_ID_INVALID: Code = Code::new("8.2.6", "2.1");
/// 8.1.1/2.2: an EID is needed and none was given.
pub const EID_MISSING: Code = Code::new("8.1.1", "2.2");
/// 8.1.1/3.10: another EID is already bound to the ICCID.
pub const EID_MISMATCH: Code = Code::new("8.1.1", "3.10");
/// 8.1.1/2.1: the EID does not parse.
pub const EID_INVALID: Code = Code::new("8.1.1", "2.1");
/// 8.2.7/2.1: the Confirmation Code does not parse.
pub const CC_INVALID: Code = Code::new("8.2.7", "2.1");
/// 8.9/5.1: the SM-DS address is invalid or unreachable.
pub const SMDS_INACCESSIBLE: Code = Code::new("8.9", "5.1");
/// 1.1/1.2: the caller's certificate or requester identifier is not authorised.
pub const REQUESTER_NOT_ALLOWED: Code = Code::new("1.1", "1.2");
/// 1.3.1/2.1: the body is not well-formed JSON, or a member has the wrong type.
pub const FORMAT_INVALID: Code = Code::new("1.3.1", "2.1");
/// 1.3.1/2.2: the header (or another mandatory member) is missing.
pub const FORMAT_MISSING: Code = Code::new("1.3.1", "2.2");
/// 1.3.2/2.2: the `X-Admin-Protocol` header is missing (strict mode).
pub const VERSION_MISSING: Code = Code::new("1.3.2", "2.2");
/// 1.3.2/3.1: the `X-Admin-Protocol` version is not supported.
pub const VERSION_UNSUPPORTED: Code = Code::new("1.3.2", "3.1");

/// An `Executed-WithWarning` injected by the fault plan: 1.2/4.3 (Stopped on Warning).
pub const INJECTED_WARNING: Code = Code::new("1.2", "4.3");
/// An injected `Expired`: 8.8.5/4.10 (Time to Live Expired).
pub const INJECTED_EXPIRY: Code = Code::new("8.8.5", "4.10");

/// ES9+ 8.2/1.2: the profile has not been released yet (download refused).
pub const NOT_RELEASED: Code = Code::new("8.2", "1.2");
/// ES9+ 8.2/3.7: the profile cannot be bound for a new download.
pub const BPP_UNAVAILABLE: Code = Code::new("8.2", "3.7");
/// ES9+ 8.2.7/2.2: a Confirmation Code is required and was not verified.
pub const CC_MISSING: Code = Code::new("8.2.7", "2.2");
/// ES9+ 8.2.7/3.8: the Confirmation Code was refused.
pub const CC_REFUSED: Code = Code::new("8.2.7", "3.8");
/// ES9+ 8.2.7/6.4: the Confirmation Code attempt limit is reached.
pub const CC_LIMIT: Code = Code::new("8.2.7", "6.4");
/// ES9+ 8.8.5/6.4: the download attempt limit is reached.
pub const DOWNLOAD_LIMIT: Code = Code::new("8.8.5", "6.4");
/// ES9+ 8.2.5/4.3: no eligible profile for this device.
pub const NOT_ELIGIBLE: Code = Code::new("8.2.5", "4.3");
/// CancelSession endUserRejection: 8.8.5/3.8.
pub const END_USER_REJECTION: Code = Code::new("8.8.5", "3.8");
/// CancelSession pprNotAllowed: 8.2.8/1.2.
pub const PPR_NOT_ALLOWED: Code = Code::new("8.2.8", "1.2");
/// CancelSession metadataMismatch: 8.2.9/3.11.
pub const METADATA_MISMATCH: Code = Code::new("8.2.9", "3.11");
/// CancelSession loadBppExecutionError (and a failed installation): 8.2.10/4.2.
pub const BPP_EXECUTION_ERROR: Code = Code::new("8.2.10", "4.2");
/// CancelSession undefinedReason: 8/4.2.
pub const UNDEFINED_REASON: Code = Code::new("8", "4.2");
/// Installation failed for lack of eUICC memory: 8.1/4.8.
pub const EUICC_MEMORY_FULL: Code = Code::new("8.1", "4.8");

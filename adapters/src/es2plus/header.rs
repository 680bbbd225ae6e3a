//! The ES2+ request header, the response `functionExecutionStatus`, and the HTTP header
//! rules of reference §1.2.

use super::error::Es2Error;
use super::json::{self, Object};
use serde::{Serialize, Serializer};
use serde_json::Value;

/// The HTTP header that carries the protocol version on every request and response.
pub const ADMIN_PROTOCOL_HEADER: &str = "X-Admin-Protocol";

/// The `X-Admin-Protocol` value simgw emits (the SGP.22 version it implements).
pub const ADMIN_PROTOCOL_VERSION: &str = "gsma/rsp/v2.2.0";

/// Whether a peer's `X-Admin-Protocol` is acceptable: any `gsma/rsp/v2.*` or `v3.*`.
pub fn is_supported_admin_protocol(value: &str) -> bool {
    let v = value.trim();
    v.starts_with("gsma/rsp/v2.") || v.starts_with("gsma/rsp/v3.")
}

/// Whether a `Content-Type` names JSON, comparing the media type only (parameters ignored).
pub fn is_json_media_type(value: &str) -> bool {
    value
        .split(';')
        .next()
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// The request header (§2.1): who calls, and the caller's correlation id for this call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestHeader {
    /// Identity of the caller as agreed with the peer (the SM-DP+ in a notification).
    pub function_requester_identifier: String,
    /// The caller's id for this call: correlation only, not an idempotency key.
    pub function_call_identifier: String,
}

impl RequestHeader {
    /// A header from its two identifiers.
    pub fn new(requester: impl Into<String>, call: impl Into<String>) -> Self {
        Self {
            function_requester_identifier: requester.into(),
            function_call_identifier: call.into(),
        }
    }

    /// Reads the mandatory `header` member of a request or notification.
    pub(crate) fn decode(obj: &Object) -> Result<Self, Es2Error> {
        let h = json::req_obj(obj, "header", "header")?;
        Ok(Self {
            function_requester_identifier: json::req_str(
                h,
                "functionRequesterIdentifier",
                "header.functionRequesterIdentifier",
            )?
            .to_owned(),
            function_call_identifier: json::req_str(
                h,
                "functionCallIdentifier",
                "header.functionCallIdentifier",
            )?
            .to_owned(),
        })
    }
}

/// `functionExecutionStatus.status` (§2.2); unknown values are kept verbatim.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ExecutionStatus {
    /// `Executed-Success`.
    ExecutedSuccess,
    /// `Executed-WithWarning`: done, treat as success and log the code.
    ExecutedWithWarning,
    /// `Failed`: not executed.
    Failed,
    /// `Expired` (inherited from SGP.02): treated as failure.
    Expired,
    /// Any other value, verbatim.
    Unknown(String),
}

impl ExecutionStatus {
    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            Self::ExecutedSuccess => "Executed-Success",
            Self::ExecutedWithWarning => "Executed-WithWarning",
            Self::Failed => "Failed",
            Self::Expired => "Expired",
            Self::Unknown(s) => s,
        }
    }

    /// Maps a wire string (case-sensitive, as the spec spells it).
    pub fn from_wire(s: &str) -> Self {
        match s {
            "Executed-Success" => Self::ExecutedSuccess,
            "Executed-WithWarning" => Self::ExecutedWithWarning,
            "Failed" => Self::Failed,
            "Expired" => Self::Expired,
            other => Self::Unknown(other.to_owned()),
        }
    }

    /// True for `Executed-Success` and `Executed-WithWarning`.
    pub fn is_success(&self) -> bool {
        matches!(self, Self::ExecutedSuccess | Self::ExecutedWithWarning)
    }

    /// A label safe to log: the wire string for known values, `unknown status` otherwise.
    pub fn label(&self) -> &'static str {
        match self {
            Self::ExecutedSuccess => "Executed-Success",
            Self::ExecutedWithWarning => "Executed-WithWarning",
            Self::Failed => "Failed",
            Self::Expired => "Expired",
            Self::Unknown(_) => "unknown status",
        }
    }
}

impl Serialize for ExecutionStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// `statusCodeData` (§2.2): the codes are strings and compared as strings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusCodeData {
    /// Dotted subject code, e.g. `8.2.1`.
    pub subject_code: String,
    /// Dotted reason code, e.g. `3.9`.
    pub reason_code: String,
    /// The object concerned (ICCID, profile type, …), if given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_identifier: Option<String>,
    /// Free text: kept for support, never parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl StatusCodeData {
    /// A code pair without identifier or message.
    pub fn new(subject_code: impl Into<String>, reason_code: impl Into<String>) -> Self {
        Self {
            subject_code: subject_code.into(),
            reason_code: reason_code.into(),
            subject_identifier: None,
            message: None,
        }
    }
}

/// `functionExecutionStatus` (and a notification's `notificationPointStatus`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionExecutionStatus {
    /// The outcome.
    pub status: ExecutionStatus,
    /// The codes: present on failure, expected on warning; tolerated missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code_data: Option<StatusCodeData>,
}

impl FunctionExecutionStatus {
    /// `Executed-Success` without codes.
    pub fn success() -> Self {
        Self {
            status: ExecutionStatus::ExecutedSuccess,
            status_code_data: None,
        }
    }

    /// `Failed` with a code pair.
    pub fn failed(subject_code: &str, reason_code: &str) -> Self {
        Self {
            status: ExecutionStatus::Failed,
            status_code_data: Some(StatusCodeData::new(subject_code, reason_code)),
        }
    }

    /// Reads an execution-status object; the paths name its members in errors.
    pub(crate) fn decode(
        obj: &Object,
        status_path: &'static str,
        data_path: &'static str,
    ) -> Result<Self, Es2Error> {
        let status = ExecutionStatus::from_wire(json::req_str(obj, "status", status_path)?);
        let status_code_data = match json::get(obj, "statusCodeData") {
            None => None,
            Some(Value::Object(d)) => Some(StatusCodeData {
                subject_code: json::req_str(d, "subjectCode", data_path)?.to_owned(),
                reason_code: json::req_str(d, "reasonCode", data_path)?.to_owned(),
                subject_identifier: json::opt_str(d, "subjectIdentifier", data_path)?
                    .map(str::to_owned),
                message: json::opt_str(d, "message", data_path)?.map(str::to_owned),
            }),
            Some(_) => return Err(Es2Error::InvalidValue { field: data_path }),
        };
        Ok(Self {
            status,
            status_code_data,
        })
    }
}

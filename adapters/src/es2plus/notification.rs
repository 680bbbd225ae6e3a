//! `ES2+.HandleDownloadProgressInfo` (§5.3.5, reference §4.6): the SM-DP+ reports a
//! download step. Parsing is lenient as the reference requires: `timestamp` or
//! `timeStamp`, integer or decimal-string point ids, ICCID with a trailing `F`, missing or
//! malformed EID, unknown status values and unknown members are all accepted.

use super::error::Es2Error;
use super::header::{FunctionExecutionStatus, RequestHeader};
use super::json::{self, Object};
use super::types::Timestamp;
use serde::{Serialize, Serializer};
use serde_json::Value;
use sim_profiles::{Eid, Iccid};

/// The notification point (§3.1.3); ids are kept, not rejected, when unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NotificationPoint {
    /// 1: eligibility and retry-limit check.
    EligibilityAndRetryLimit,
    /// 2: Confirmation Code failure.
    ConfirmationFailure,
    /// 3: BPP handed to the LPA.
    BppDownload,
    /// 4: BPP installation result.
    BppInstallation,
    /// 0 or 5–99: reserved by GSMA (one vendor uses 5–8 for install-confirmed…deleted).
    Reserved(u8),
    /// ≥ 100: Operator/SM-DP+ specific.
    VendorSpecific(u32),
}

impl NotificationPoint {
    /// The point for a numeric id.
    pub fn from_id(id: u32) -> Self {
        match id {
            1 => Self::EligibilityAndRetryLimit,
            2 => Self::ConfirmationFailure,
            3 => Self::BppDownload,
            4 => Self::BppInstallation,
            n => match u8::try_from(n) {
                Ok(small) if small < 100 => Self::Reserved(small),
                _ => Self::VendorSpecific(n),
            },
        }
    }

    /// The numeric id.
    pub fn id(self) -> u32 {
        match self {
            Self::EligibilityAndRetryLimit => 1,
            Self::ConfirmationFailure => 2,
            Self::BppDownload => 3,
            Self::BppInstallation => 4,
            Self::Reserved(n) => u32::from(n),
            Self::VendorSpecific(n) => n,
        }
    }
}

impl Serialize for NotificationPoint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.id())
    }
}

/// The `eid` member: tolerated when malformed (the Annex I example EID is invalid).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotifiedEid {
    /// A valid EID.
    Valid(Eid),
    /// Anything else, verbatim (a non-string value as its JSON text): log it, do not reject.
    Malformed(String),
}

impl Serialize for NotifiedEid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Valid(e) => e.serialize(s),
            Self::Malformed(raw) => s.serialize_str(raw),
        }
    }
}

/// What the first tag of the decoded `resultData` says it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResultDataKind {
    /// Starts with `A2`: the `finalResult` (as the spec says).
    FinalResult(Vec<u8>),
    /// Starts with `BF37`: the whole ProfileInstallationResult.
    InstallationResult(Vec<u8>),
    /// Valid base64 with another first tag: kept raw.
    Other(Vec<u8>),
    /// Not valid base64: only the string is kept.
    NotBase64,
}

/// `resultData`: the base64 text as received plus its sniffed content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResultData {
    /// The base64 text, verbatim.
    pub base64: String,
    /// The decoded content.
    pub kind: ResultDataKind,
}

impl ResultData {
    /// Classifies received base64 text.
    pub fn from_base64(text: &str) -> Self {
        let kind = match b64_decode(text) {
            None => ResultDataKind::NotBase64,
            Some(b) if b.first() == Some(&0xA2) => ResultDataKind::FinalResult(b),
            Some(b) if b.starts_with(&[0xBF, 0x37]) => ResultDataKind::InstallationResult(b),
            Some(b) => ResultDataKind::Other(b),
        };
        Self {
            base64: text.to_owned(),
            kind,
        }
    }

    /// Encodes DER bytes as `resultData` (simulator side).
    pub fn from_der(der: &[u8]) -> Self {
        Self::from_base64(&b64_encode(der))
    }
}

impl Serialize for ResultData {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.base64)
    }
}

/// A HandleDownloadProgressInfo notification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DownloadProgressInfo {
    /// The header; `functionRequesterIdentifier` names the SM-DP+.
    pub header: RequestHeader,
    /// The EID, if the SM-DP+ sent one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eid: Option<NotifiedEid>,
    /// The profile (a trailing `F` is normalised away).
    pub iccid: Iccid,
    /// The profile type (mandatory in the spec; tolerated missing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_type: Option<String>,
    /// When the step happened (accepted as `timestamp` or `timeStamp`, emitted as `timestamp`).
    pub timestamp: Timestamp,
    /// The notification point.
    #[serde(rename = "notificationPointId")]
    pub point: NotificationPoint,
    /// The step's outcome; unknown status values are kept verbatim.
    #[serde(rename = "notificationPointStatus")]
    pub point_status: FunctionExecutionStatus,
    /// The installation result, expected (not required) at point 4.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_data: Option<ResultData>,
}

/// Encodes a notification body (simulator side; canonical spellings).
pub fn encode_notification(info: &DownloadProgressInfo) -> Vec<u8> {
    json::to_bytes(info)
}

/// Decodes a notification leniently (receiver side). Errors mean "unparseable" (HTTP 400);
/// anything that decodes gets 204.
pub fn decode_notification(body: &[u8]) -> Result<DownloadProgressInfo, Es2Error> {
    let obj = json::parse_object(body)?;
    let header = RequestHeader::decode(&obj)?;
    let eid = match json::get(&obj, "eid") {
        None => None,
        Some(Value::String(s)) => Some(match s.parse::<Eid>() {
            Ok(e) => NotifiedEid::Valid(e),
            Err(_) => NotifiedEid::Malformed(s.clone()),
        }),
        Some(other) => Some(NotifiedEid::Malformed(other.to_string())),
    };
    let iccid = json::req_parse(&obj, "iccid", "iccid")?;
    let profile_type = match json::get(&obj, "profileType") {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    let ts_name = if json::get(&obj, "timestamp").is_some() {
        "timestamp"
    } else {
        "timeStamp"
    };
    let timestamp = json::req_parse(&obj, ts_name, "timestamp")?;
    let point = decode_point(&obj)?;
    let status_obj = json::req_obj(&obj, "notificationPointStatus", "notificationPointStatus")?;
    let point_status = FunctionExecutionStatus::decode(
        status_obj,
        "notificationPointStatus.status",
        "notificationPointStatus.statusCodeData",
    )?;
    let result_data = match json::get(&obj, "resultData") {
        Some(Value::String(s)) => Some(ResultData::from_base64(s)),
        None => None,
        Some(_) => {
            return Err(Es2Error::InvalidValue {
                field: "resultData",
            });
        }
    };
    Ok(DownloadProgressInfo {
        header,
        eid,
        iccid,
        profile_type,
        timestamp,
        point,
        point_status,
        result_data,
    })
}

/// `notificationPointId` as a JSON integer or a decimal string. An integer is a number
/// without a fractional part, however it is written (`4`, `4.0`, `4e0`): JSON Schema's
/// `integer`, which the OpenAPI document of the receiver says.
fn decode_point(obj: &Object) -> Result<NotificationPoint, Es2Error> {
    const FIELD: &str = "notificationPointId";
    let invalid = Es2Error::InvalidValue { field: FIELD };
    let id = match json::get(obj, FIELD) {
        None => return Err(Es2Error::Missing { field: FIELD }),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(v) => u32::try_from(v).ok(),
            None => n.as_f64().and_then(whole_u32),
        },
        Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse::<u32>().ok()
        }
        Some(_) => None,
    };
    id.map(NotificationPoint::from_id).ok_or(invalid)
}

/// A number written with a fraction or an exponent whose value is a whole `u32`.
fn whole_u32(f: f64) -> Option<u32> {
    if f.fract() != 0.0 || !(0.0..=f64::from(u32::MAX)).contains(&f) {
        return None;
    }
    // Whole and in range, so the conversion is exact.
    Some(f as u32)
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
fn b64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let idx = ((n >> (18 - 6 * i)) & 0x3F) as usize;
                out.push(char::from(B64.get(idx).copied().unwrap_or(b'A')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64, padding optional; `None` on any other character or a bad length.
fn b64_decode(text: &str) -> Option<Vec<u8>> {
    let s = text.trim_end_matches('=');
    if s.len() % 4 == 1 || text.len() - s.len() > 2 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = ((acc << 6) | u32::from(v)) & 0xFFFF;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xFF) as u8);
        }
    }
    Some(out)
}

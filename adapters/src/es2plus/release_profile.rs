//! `ES2+.ReleaseProfile` (§5.3.4): make a confirmed profile downloadable. Idempotent by
//! the spec (already released → success); the response is header only.

use super::error::Es2Error;
use super::header::RequestHeader;
use super::iccid_form::{IccidForm, WireIccid};
use super::json;
use serde::Serialize;
use sim_profiles::Iccid;

/// A ReleaseProfile request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseProfileRequest {
    /// The request header.
    pub header: RequestHeader,
    /// The confirmed profile.
    pub iccid: Iccid,
}

#[derive(Serialize)]
struct Wire<'a> {
    header: &'a RequestHeader,
    iccid: WireIccid<'a>,
}

/// Encodes a ReleaseProfile request body (canonical ICCID).
pub fn encode_release_profile(req: &ReleaseProfileRequest) -> Vec<u8> {
    encode_release_profile_with(req, IccidForm::Canonical)
}

/// Encodes a ReleaseProfile request body, writing the ICCID in `form`.
pub fn encode_release_profile_with(req: &ReleaseProfileRequest, form: IccidForm) -> Vec<u8> {
    json::to_bytes(&Wire {
        header: &req.header,
        iccid: WireIccid(&req.iccid, form),
    })
}

/// Decodes a ReleaseProfile request (simulator side).
pub fn decode_release_profile_request(body: &[u8]) -> Result<ReleaseProfileRequest, Es2Error> {
    let obj = json::parse_object(body)?;
    Ok(ReleaseProfileRequest {
        header: RequestHeader::decode(&obj)?,
        iccid: json::req_parse(&obj, "iccid", "iccid")?,
    })
}

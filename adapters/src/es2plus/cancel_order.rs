//! `ES2+.CancelOrder` (§5.3.3): end a reservation; the response is header only.

use super::error::Es2Error;
use super::header::RequestHeader;
use super::iccid_form::{IccidForm, WireIccid};
use super::json;
use super::types::{FinalProfileStatus, MatchingId};
use serde::Serialize;
use sim_profiles::{Eid, Iccid};

/// A CancelOrder request; the final status indicator is always sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelOrderRequest {
    /// The request header.
    pub header: RequestHeader,
    /// The reserved profile.
    pub iccid: Iccid,
    /// The associated EID (SHALL be sent if one is associated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eid: Option<Eid>,
    /// The allocated MatchingID (SHALL be sent if one was allocated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matching_id: Option<MatchingId>,
    /// Where the profile goes: back to inventory, or never reused.
    pub final_profile_status_indicator: FinalProfileStatus,
}

/// The request as written: the same members in the same order, the ICCID in a chosen form.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Wire<'a> {
    header: &'a RequestHeader,
    iccid: WireIccid<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    eid: Option<&'a Eid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    matching_id: Option<&'a MatchingId>,
    final_profile_status_indicator: FinalProfileStatus,
}

/// Encodes a CancelOrder request body (canonical ICCID).
pub fn encode_cancel_order(req: &CancelOrderRequest) -> Vec<u8> {
    encode_cancel_order_with(req, IccidForm::Canonical)
}

/// Encodes a CancelOrder request body, writing the ICCID in `form`.
pub fn encode_cancel_order_with(req: &CancelOrderRequest, form: IccidForm) -> Vec<u8> {
    json::to_bytes(&Wire {
        header: &req.header,
        iccid: WireIccid(&req.iccid, form),
        eid: req.eid.as_ref(),
        matching_id: req.matching_id.as_ref(),
        final_profile_status_indicator: req.final_profile_status_indicator,
    })
}

/// Decodes a CancelOrder request (simulator side). A missing indicator gives
/// `Missing { field: "finalProfileStatusIndicator" }` (the simulator answers 8.2.1/2.2).
pub fn decode_cancel_order_request(body: &[u8]) -> Result<CancelOrderRequest, Es2Error> {
    let obj = json::parse_object(body)?;
    Ok(CancelOrderRequest {
        header: RequestHeader::decode(&obj)?,
        iccid: json::req_parse(&obj, "iccid", "iccid")?,
        eid: json::opt_parse(&obj, "eid", "eid")?,
        matching_id: json::opt_parse(&obj, "matchingId", "matchingId")?,
        final_profile_status_indicator: json::req_parse(
            &obj,
            "finalProfileStatusIndicator",
            "finalProfileStatusIndicator",
        )?,
    })
}

//! `ES2+.ConfirmOrder` (§5.3.2): confirm a reservation, bind MatchingID, EID and CC.

use super::error::Es2Error;
use super::header::RequestHeader;
use super::iccid_form::{IccidForm, WireIccid};
use super::json::{self, Object};
use super::response::{ResponseBody, sealed};
use super::types::{ConfirmationCode, Fqdn, MatchingId};
use serde::Serialize;
use sim_profiles::{Eid, Iccid};

/// A ConfirmOrder request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmOrderRequest {
    /// The request header.
    pub header: RequestHeader,
    /// The reserved profile.
    pub iccid: Iccid,
    /// The EID, if not given in DownloadOrder (required in the default-SM-DP+ and SM-DS cases).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eid: Option<Eid>,
    /// Our MatchingID; absent lets the SM-DP+ generate one, empty selects default SM-DP+.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matching_id: Option<MatchingId>,
    /// The plain Confirmation Code, if one is required.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmation_code: Option<ConfirmationCode>,
    /// The SM-DS address (SM-DS case only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smds_address: Option<Fqdn>,
    /// `true`: straight to Released; `false`: Confirmed, ReleaseProfile follows.
    pub release_flag: bool,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    confirmation_code: Option<&'a ConfirmationCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    smds_address: Option<&'a Fqdn>,
    release_flag: bool,
}

/// Encodes a ConfirmOrder request body (canonical ICCID).
pub fn encode_confirm_order(req: &ConfirmOrderRequest) -> Vec<u8> {
    encode_confirm_order_with(req, IccidForm::Canonical)
}

/// Encodes a ConfirmOrder request body, writing the ICCID in `form`.
pub fn encode_confirm_order_with(req: &ConfirmOrderRequest, form: IccidForm) -> Vec<u8> {
    json::to_bytes(&Wire {
        header: &req.header,
        iccid: WireIccid(&req.iccid, form),
        eid: req.eid.as_ref(),
        matching_id: req.matching_id.as_ref(),
        confirmation_code: req.confirmation_code.as_ref(),
        smds_address: req.smds_address.as_ref(),
        release_flag: req.release_flag,
    })
}

/// Decodes a ConfirmOrder request (simulator side, strict member names).
pub fn decode_confirm_order_request(body: &[u8]) -> Result<ConfirmOrderRequest, Es2Error> {
    let obj = json::parse_object(body)?;
    Ok(ConfirmOrderRequest {
        header: RequestHeader::decode(&obj)?,
        iccid: json::req_parse(&obj, "iccid", "iccid")?,
        eid: json::opt_parse(&obj, "eid", "eid")?,
        matching_id: json::opt_parse(&obj, "matchingId", "matchingId")?,
        confirmation_code: json::opt_parse(&obj, "confirmationCode", "confirmationCode")?,
        smds_address: json::opt_parse(&obj, "smdsAddress", "smdsAddress")?,
        release_flag: json::req_bool(&obj, "releaseFlag", "releaseFlag")?,
    })
}

/// The ConfirmOrder output (the schema requires nothing, so every member is optional).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmOrderResponse {
    /// The EID bound to the order, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eid: Option<Eid>,
    /// The MatchingID supplied or generated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matching_id: Option<MatchingId>,
    /// The SM-DP+ address to put in the Activation Code, if it differs from the default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smdp_address: Option<Fqdn>,
}

impl ConfirmOrderResponse {
    /// The MatchingID to use: the returned one, else the one we supplied; neither is a
    /// protocol error (`Missing { field: "matchingId" }`).
    pub fn matching_id_or(&self, supplied: Option<&MatchingId>) -> Result<MatchingId, Es2Error> {
        self.matching_id
            .as_ref()
            .or(supplied)
            .cloned()
            .ok_or(Es2Error::Missing {
                field: "matchingId",
            })
    }

    /// The SM-DP+ address for the Activation Code: the returned one, else `default`.
    pub fn smdp_address_or<'a>(&'a self, default: &'a Fqdn) -> &'a Fqdn {
        self.smdp_address.as_ref().unwrap_or(default)
    }
}

impl sealed::Sealed for ConfirmOrderResponse {}

impl ResponseBody for ConfirmOrderResponse {
    fn decode_body(obj: &Object) -> Result<Self, Es2Error> {
        Ok(Self {
            eid: json::opt_parse(obj, "eid", "eid")?,
            matching_id: json::opt_parse(obj, "matchingId", "matchingId")?,
            smdp_address: json::opt_parse(obj, "smdpAddress", "smdpAddress")?,
        })
    }
}

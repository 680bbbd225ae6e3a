//! `ES2+.DownloadOrder` (§5.3.1): reserve a profile by ICCID and/or profile type.

use super::error::Es2Error;
use super::header::RequestHeader;
use super::iccid_form::{IccidForm, WireIccid};
use super::json::{self, Object};
use super::response::{ResponseBody, sealed};
use serde::Serialize;
use sim_profiles::{Eid, Iccid};

/// Which profile to reserve: at least one of `iccid` and `profileType` is always present.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProfileSelector {
    /// This specific profile.
    Iccid(Iccid),
    /// Any Available profile of this type.
    ProfileType(String),
    /// This profile, which must be of this type (else 8.2.5/3.8).
    Both {
        /// The profile.
        iccid: Iccid,
        /// Its expected type.
        profile_type: String,
    },
}

impl ProfileSelector {
    /// The ICCID, if one is named.
    pub fn iccid(&self) -> Option<&Iccid> {
        match self {
            Self::Iccid(i) | Self::Both { iccid: i, .. } => Some(i),
            Self::ProfileType(_) => None,
        }
    }

    /// The profile type, if one is named.
    pub fn profile_type(&self) -> Option<&str> {
        match self {
            Self::ProfileType(t)
            | Self::Both {
                profile_type: t, ..
            } => Some(t),
            Self::Iccid(_) => None,
        }
    }
}

/// A DownloadOrder request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DownloadOrderRequest {
    /// The request header.
    pub header: RequestHeader,
    /// The EID, if already known (the profile becomes Linked).
    pub eid: Option<Eid>,
    /// The profile to reserve.
    pub profile: ProfileSelector,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Wire<'a> {
    header: &'a RequestHeader,
    #[serde(skip_serializing_if = "Option::is_none")]
    eid: Option<&'a Eid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iccid: Option<WireIccid<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    profile_type: Option<&'a str>,
}

/// Encodes a DownloadOrder request body (canonical ICCID).
pub fn encode_download_order(req: &DownloadOrderRequest) -> Vec<u8> {
    encode_download_order_with(req, IccidForm::Canonical)
}

/// Encodes a DownloadOrder request body, writing the ICCID in `form`.
pub fn encode_download_order_with(req: &DownloadOrderRequest, form: IccidForm) -> Vec<u8> {
    json::to_bytes(&Wire {
        header: &req.header,
        eid: req.eid.as_ref(),
        iccid: req.profile.iccid().map(|i| WireIccid(i, form)),
        profile_type: req.profile.profile_type(),
    })
}

/// Decodes a DownloadOrder request (simulator side). Neither `iccid` nor `profileType`
/// gives `Missing { field: "iccid|profileType" }` (the simulator answers 8.2.1/2.3).
pub fn decode_download_order_request(body: &[u8]) -> Result<DownloadOrderRequest, Es2Error> {
    let obj = json::parse_object(body)?;
    let header = RequestHeader::decode(&obj)?;
    let eid = json::opt_parse(&obj, "eid", "eid")?;
    let iccid = json::opt_parse(&obj, "iccid", "iccid")?;
    let profile_type = json::opt_str(&obj, "profileType", "profileType")?.map(str::to_owned);
    let profile = match (iccid, profile_type) {
        (Some(iccid), Some(profile_type)) => ProfileSelector::Both {
            iccid,
            profile_type,
        },
        (Some(i), None) => ProfileSelector::Iccid(i),
        (None, Some(t)) => ProfileSelector::ProfileType(t),
        (None, None) => {
            return Err(Es2Error::Missing {
                field: "iccid|profileType",
            });
        }
    };
    Ok(DownloadOrderRequest {
        header,
        eid,
        profile,
    })
}

/// The DownloadOrder output: the reserved ICCID (a trailing `F` is normalised away).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DownloadOrderResponse {
    /// The ICCID given, or the one the SM-DP+ picked.
    pub iccid: Iccid,
}

impl sealed::Sealed for DownloadOrderResponse {}

impl ResponseBody for DownloadOrderResponse {
    fn decode_body(obj: &Object) -> Result<Self, Es2Error> {
        Ok(Self {
            iccid: json::req_parse(obj, "iccid", "iccid")?,
        })
    }
}

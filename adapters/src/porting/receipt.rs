//! The hub's answers to our requests: a receipt (`202`, the request is recorded and will
//! be processed; its outcome comes as hub messages) or a problem body with a code (`4xx`,
//! `5xx`). Encoded by the hub (the simulator), decoded by the client; decoding is total.

use super::error::PortingCodecError;
use super::json::{self, opt_str, req_ref, req_str};
use super::reason::HubErrorCode;
use super::values::{Code, Ref};
use serde::Serialize;

/// The hub's receipt for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The request's id, echoed.
    pub request_id: Ref,
    /// The hub's port reference (the port's `external_ref`): new for a submit, the
    /// request's own for every other operation.
    pub port_ref: Ref,
}

/// Encodes a receipt.
pub fn encode_receipt(r: &Receipt) -> Vec<u8> {
    json::to_bytes(&WireReceipt {
        request_id: r.request_id.as_str(),
        port_ref: r.port_ref.as_str(),
    })
}

/// Decodes a receipt; unknown members are ignored.
pub fn decode_receipt(body: &[u8]) -> Result<Receipt, PortingCodecError> {
    let obj = json::parse_object(body)?;
    Ok(Receipt {
        request_id: req_ref(&obj, "request_id")?,
        port_ref: req_ref(&obj, "port_ref")?,
    })
}

/// A hub's refusal: `{"code": …, "field": …}` (`field`, for `invalid_request`, is the
/// JSON path at fault). Any human-readable `detail` is ignored: it may quote the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubProblem {
    /// Why.
    pub code: HubErrorCode,
    /// The member at fault, if the hub named one.
    pub field: Option<Code>,
}

/// Encodes a problem body (served as `application/problem+json`).
pub fn encode_problem(p: &HubProblem) -> Vec<u8> {
    json::to_bytes(&WireProblem {
        code: p.code.as_str(),
        field: p.field.as_ref().map(Code::as_str),
    })
}

/// Decodes a problem body; an unknown code is kept as [`HubErrorCode::Other`].
pub fn decode_problem(body: &[u8]) -> Result<HubProblem, PortingCodecError> {
    let obj = json::parse_object(body)?;
    Ok(HubProblem {
        code: HubErrorCode::parse(req_str(&obj, "code", "code")?, "code")?,
        field: opt_str(&obj, "field", "field")?
            .map(|s| Code::parse(s, "field"))
            .transpose()?,
    })
}

#[derive(Serialize)]
struct WireReceipt<'a> {
    request_id: &'a str,
    port_ref: &'a str,
}

#[derive(Serialize)]
struct WireProblem<'a> {
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

//! Answer a port-out request (`POST /v1/port-out-answers`): we are the donor and accept
//! the hub's `port_out_request`, or reject it with a reason, before its `respond_by`.

use super::error::PortingCodecError;
use super::json::{self, opt_str, req_ref, req_str};
use super::reason::RejectReason;
use super::values::Ref;
use serde::Serialize;

/// What we decide about a port-out request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortOutDecision {
    /// The subscriber is who the request says and nothing stops the port.
    Accept,
    /// The port may not go ahead, for this reason.
    Reject(RejectReason),
}

/// Our answer to a port-out request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerPortOut {
    /// Our id for this request; a repeat with the same id gets the hub's first answer.
    pub request_id: Ref,
    /// The hub's port reference (from the `port_out_request` message).
    pub port_ref: Ref,
    /// The decision.
    pub decision: PortOutDecision,
}

/// Encodes an answer.
pub fn encode_answer_port_out(req: &AnswerPortOut) -> Vec<u8> {
    let (decision, reason) = match &req.decision {
        PortOutDecision::Accept => ("accept", None),
        PortOutDecision::Reject(r) => ("reject", Some(r.as_str())),
    };
    json::to_bytes(&Wire {
        request_id: req.request_id.as_str(),
        port_ref: req.port_ref.as_str(),
        decision,
        reason,
    })
}

/// Decodes an answer (the hub's side): `decision` is `accept` (no `reason`) or `reject`
/// (a `reason`, known or not). Unknown members are ignored.
pub fn decode_answer_port_out(body: &[u8]) -> Result<AnswerPortOut, PortingCodecError> {
    let obj = json::parse_object(body)?;
    let request_id = req_ref(&obj, "request_id")?;
    let port_ref = req_ref(&obj, "port_ref")?;
    let reason = opt_str(&obj, "reason", "reason")?;
    let decision = match (req_str(&obj, "decision", "decision")?, reason) {
        ("accept", None) => PortOutDecision::Accept,
        ("accept", Some(_)) => return Err(PortingCodecError::InvalidValue { field: "reason" }),
        ("reject", Some(r)) => PortOutDecision::Reject(RejectReason::parse(r, "reason")?),
        ("reject", None) => return Err(PortingCodecError::Missing { field: "reason" }),
        _ => return Err(PortingCodecError::InvalidValue { field: "decision" }),
    };
    Ok(AnswerPortOut {
        request_id,
        port_ref,
        decision,
    })
}

#[derive(Serialize)]
struct Wire<'a> {
    request_id: &'a str,
    port_ref: &'a str,
    decision: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

//! Acknowledge a hub message (`POST /v1/acknowledgements`): we have applied it, not only
//! recorded it (the callback's `204` says that). The hub needs it for `cutover`: a port
//! completes once both sides have acknowledged their cut-over.

use super::error::PortingCodecError;
use super::json::{self, req_ref};
use super::values::Ref;
use serde::Serialize;

/// An acknowledgement of one hub message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledge {
    /// Our id for this request; a repeat with the same id gets the hub's first answer.
    pub request_id: Ref,
    /// The port the message is about.
    pub port_ref: Ref,
    /// The message's `message_id`.
    pub message_id: Ref,
}

/// Encodes an acknowledgement.
pub fn encode_acknowledge(req: &Acknowledge) -> Vec<u8> {
    json::to_bytes(&Wire {
        request_id: req.request_id.as_str(),
        port_ref: req.port_ref.as_str(),
        message_id: req.message_id.as_str(),
    })
}

/// Decodes an acknowledgement (the hub's side); unknown members are ignored.
pub fn decode_acknowledge(body: &[u8]) -> Result<Acknowledge, PortingCodecError> {
    let obj = json::parse_object(body)?;
    Ok(Acknowledge {
        request_id: req_ref(&obj, "request_id")?,
        port_ref: req_ref(&obj, "port_ref")?,
        message_id: req_ref(&obj, "message_id")?,
    })
}

#[derive(Serialize)]
struct Wire<'a> {
    request_id: &'a str,
    port_ref: &'a str,
    message_id: &'a str,
}

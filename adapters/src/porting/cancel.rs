//! Cancel a port (`POST /v1/cancellations`): ours before it locks, or our concurrence
//! with the other side's `cancel_request`. The hub confirms with a `cancelled` message.

use super::error::PortingCodecError;
use super::json::{self, req_ref};
use super::values::Ref;
use serde::Serialize;

/// A cancellation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelPort {
    /// Our id for this request; a repeat with the same id gets the hub's first answer.
    pub request_id: Ref,
    /// The hub's port reference.
    pub port_ref: Ref,
}

/// Encodes a cancellation.
pub fn encode_cancel(req: &CancelPort) -> Vec<u8> {
    json::to_bytes(&Wire {
        request_id: req.request_id.as_str(),
        port_ref: req.port_ref.as_str(),
    })
}

/// Decodes a cancellation (the hub's side); unknown members are ignored.
pub fn decode_cancel(body: &[u8]) -> Result<CancelPort, PortingCodecError> {
    let obj = json::parse_object(body)?;
    Ok(CancelPort {
        request_id: req_ref(&obj, "request_id")?,
        port_ref: req_ref(&obj, "port_ref")?,
    })
}

#[derive(Serialize)]
struct Wire<'a> {
    request_id: &'a str,
    port_ref: &'a str,
}

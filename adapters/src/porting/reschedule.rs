//! Reschedule a port (`POST /v1/reschedules`) before it locks. The hub confirms with a
//! new `scheduled` message, or refuses (`port_locked`, `date_not_available`).

use super::error::PortingCodecError;
use super::json::{self, req_ref};
use super::values::{Ref, UtcTime};
use serde::Serialize;

/// A new date and time for a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReschedulePort {
    /// Our id for this request; a repeat with the same id gets the hub's first answer.
    pub request_id: Ref,
    /// The hub's port reference.
    pub port_ref: Ref,
    /// The date and time asked for.
    pub requested_at: UtcTime,
}

/// Encodes a reschedule.
pub fn encode_reschedule(req: &ReschedulePort) -> Vec<u8> {
    json::to_bytes(&Wire {
        request_id: req.request_id.as_str(),
        port_ref: req.port_ref.as_str(),
        requested_at: &req.requested_at.to_string(),
    })
}

/// Decodes a reschedule (the hub's side); unknown members are ignored.
pub fn decode_reschedule(body: &[u8]) -> Result<ReschedulePort, PortingCodecError> {
    let obj = json::parse_object(body)?;
    Ok(ReschedulePort {
        request_id: req_ref(&obj, "request_id")?,
        port_ref: req_ref(&obj, "port_ref")?,
        requested_at: json::req_time(&obj, "requested_at")?,
    })
}

#[derive(Serialize)]
struct Wire<'a> {
    request_id: &'a str,
    port_ref: &'a str,
    requested_at: &'a str,
}

//! Return a ported-in number to its range holder (`POST /v1/number-returns`): the line
//! that brought the number in by a port has ended, so the number is no longer ours to
//! keep or to reassign; the hub tells the operator that holds the number's range, which
//! takes it back (after its own ageing) and updates the number-portability database.
//! The request names the port that brought the number in; the receipt echoes it.

use super::error::PortingCodecError;
use super::json::{self, req_ref};
use super::values::Ref;
use serde::Serialize;
use sim_profiles::Msisdn;

/// A number given back to its range holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnNumber {
    /// Our id for this request; a repeat with the same id gets the hub's first answer.
    pub request_id: Ref,
    /// The hub's reference of the port that brought the number to us.
    pub port_ref: Ref,
    /// The number.
    pub number: Msisdn,
    /// The operator that holds the number's range (the hub's `range_holder`, else the
    /// port's donor).
    pub range_holder: Ref,
}

/// Encodes a number return.
pub fn encode_return_number(req: &ReturnNumber) -> Vec<u8> {
    json::to_bytes(&Wire {
        request_id: req.request_id.as_str(),
        port_ref: req.port_ref.as_str(),
        number: req.number.as_str(),
        range_holder: req.range_holder.as_str(),
    })
}

/// Decodes a number return (the hub's side); unknown members are ignored.
pub fn decode_return_number(body: &[u8]) -> Result<ReturnNumber, PortingCodecError> {
    let obj = json::parse_object(body)?;
    Ok(ReturnNumber {
        request_id: req_ref(&obj, "request_id")?,
        port_ref: req_ref(&obj, "port_ref")?,
        number: json::req_msisdn(&obj, "number")?,
        range_holder: req_ref(&obj, "range_holder")?,
    })
}

#[derive(Serialize)]
struct Wire<'a> {
    request_id: &'a str,
    port_ref: &'a str,
    number: &'a str,
    range_holder: &'a str,
}

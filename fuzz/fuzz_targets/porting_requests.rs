//! The porting hub's request and answer decoders: every input goes through the five
//! request decoders (submit a port-in, cancel, reschedule, answer a port-out, acknowledge:
//! what the hub and its simulator read) and the two answer decoders (receipt and problem:
//! what the gateway's client reads). Nothing may panic, and each value that decodes
//! re-encodes to a body that decodes to the same value. The hub's messages to the
//! gateway are `porting_callback`'s.

#![no_main]

use adapters::porting::{
    PortingCodecError, decode_acknowledge, decode_answer_port_out, decode_cancel, decode_problem,
    decode_receipt, decode_reschedule, decode_submit_port_in, encode_acknowledge,
    encode_answer_port_out, encode_cancel, encode_problem, encode_receipt, encode_reschedule,
    encode_submit_port_in,
};
use libfuzzer_sys::fuzz_target;
use std::fmt::Debug;

/// If `data` decodes, its encoding decodes to the same value.
fn round_trip<T: PartialEq + Debug>(
    data: &[u8],
    decode: fn(&[u8]) -> Result<T, PortingCodecError>,
    encode: fn(&T) -> Vec<u8>,
) {
    if let Ok(v) = decode(data) {
        assert_eq!(decode(&encode(&v)), Ok(v));
    }
}

fuzz_target!(|data: &[u8]| {
    round_trip(data, decode_submit_port_in, encode_submit_port_in);
    round_trip(data, decode_cancel, encode_cancel);
    round_trip(data, decode_reschedule, encode_reschedule);
    round_trip(data, decode_answer_port_out, encode_answer_port_out);
    round_trip(data, decode_acknowledge, encode_acknowledge);
    round_trip(data, decode_receipt, encode_receipt);
    round_trip(data, decode_problem, encode_problem);
});

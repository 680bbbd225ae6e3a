//! The porting hub decoders: any body gives a hub message (or a receipt, a problem, a
//! request) or a typed error, never a panic; a message that decodes re-encodes to a body
//! that decodes to the same message.

#![no_main]

use adapters::porting::{
    decode_acknowledge, decode_answer_port_out, decode_callback, decode_cancel, decode_problem,
    decode_receipt, decode_reschedule, decode_submit_port_in, encode_callback,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = decode_callback(data) {
        assert_eq!(decode_callback(&encode_callback(&msg)), Ok(msg));
    }
    // The client reads these from the hub; the hub (and its simulator) reads the rest.
    let _ = decode_receipt(data);
    let _ = decode_problem(data);
    let _ = decode_submit_port_in(data);
    let _ = decode_cancel(data);
    let _ = decode_reschedule(data);
    let _ = decode_answer_port_out(data);
    let _ = decode_acknowledge(data);
});

//! The porting hub's messages to the gateway (`POST /v1/hub-messages`): any body gives a
//! hub message or a typed error, never a panic; a message that decodes re-encodes to a
//! body that decodes to the same message. The hub's requests and answers are
//! `porting_requests`'.

#![no_main]

use adapters::porting::{decode_callback, encode_callback};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = decode_callback(data) {
        assert_eq!(decode_callback(&encode_callback(&msg)), Ok(msg));
    }
});

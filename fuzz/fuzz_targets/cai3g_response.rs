//! The CAI3G SOAP decoders: any body, with any of a few HTTP statuses, expected
//! operations and MO kinds, gives a response or a typed error, never a panic. The same
//! bytes also go through the server-side request decoder.

#![no_main]

use adapters::cai3g::codec::{MoKind, Operation, decode_request, decode_response};
use libfuzzer_sys::fuzz_target;

const STATUSES: [u16; 5] = [200, 204, 302, 404, 500];
const KINDS: [Option<MoKind>; 3] = [None, Some(MoKind::GsmHlr), Some(MoKind::GsmAuc)];

fuzz_target!(|data: &[u8]| {
    // Every status and operation, with the MO kind picked by the input's length (all
    // three over a run) so each input costs 30 decodes rather than 90.
    let kind = KINDS[data.len() % KINDS.len()];
    for status in STATUSES {
        for op in Operation::ALL {
            let _ = decode_response(status, data, op, kind);
        }
    }
    let _ = decode_request(data);
});

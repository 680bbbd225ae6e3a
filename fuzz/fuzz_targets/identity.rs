//! The identity verification codec: every input goes through the request decoder (what
//! the verification service, its shim and the simulator read) and the answer decoder
//! (what the gateway's client reads), and, as text, through the ID number and name rules
//! the northbound API applies to what a clerk typed or a card reader sent. Nothing may
//! panic; a request or answer that decodes re-encodes to a body that decodes to the same
//! value; a number accepted for a document type is normalised (upper-case ASCII letters
//! and digits), passes its type's check again, parses unchanged as the protocol's ID
//! number, and masks to the same length.

#![no_main]

use adapters::identity::{
    IdNumber, IdType, PersonName, decode_request, decode_response, encode_request, encode_response,
    id_format,
};
use libfuzzer_sys::fuzz_target;

/// The document rules on `raw` for every type.
fn id_numbers(raw: &str) {
    for id_type in IdType::ALL {
        let Ok(n) = IdNumber::parse_as(id_type, raw) else {
            continue;
        };
        let s = n.expose();
        assert!(
            s.bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        );
        assert_eq!(n.check(id_type), Ok(()));
        assert_eq!(IdNumber::parse_as(id_type, s).as_ref(), Ok(&n));
        assert_eq!(IdNumber::parse(s).as_ref(), Ok(&n));
        assert_eq!(n.masked().len(), s.len());
        if id_type.citizen_layout() {
            assert!(n.birth_date(id_type).is_some());
            let (body, check) = s.as_bytes().split_at(17);
            assert_eq!(&[id_format::mod11_2_check(body)], check);
        }
        let _ = id_format::known_region(s);
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = decode_request(data) {
        assert_eq!(decode_request(&encode_request(&req)), Ok(req));
    }
    if let Ok(resp) = decode_response(data) {
        assert_eq!(decode_response(&encode_response(&resp)), Ok(resp));
    }
    if let Ok(text) = std::str::from_utf8(data) {
        id_numbers(text);
        if let Ok(name) = PersonName::parse(text) {
            assert_eq!(name.expose(), text);
            assert_eq!(name.masked().chars().count(), text.chars().count());
        }
    }
});

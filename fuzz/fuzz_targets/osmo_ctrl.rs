//! The OsmoHLR CTRL codec: the IPA frame decoder fed the input as one byte stream (whole,
//! and again in chunks whose size the first byte picks), every framed payload and the
//! whole input through the CTRL reply and request grammars, and the input as text through
//! the `info-all` parser. Nothing may panic; chunking never changes what is decoded; the
//! frames decoded re-encode to exactly the bytes consumed; a reply or request that parses
//! re-encodes to text that parses to the same message; subscriber data that parses
//! renders back to `info-all` lines that parse to the same data.

#![no_main]

use adapters::osmo::codec::{
    CodecError, DEFAULT_MAX_PAYLOAD, FrameDecoder, Reply, Request, encode_frame,
};
use adapters::osmo::{SubscriberInfo, parse_info};
use libfuzzer_sys::fuzz_target;

/// Every frame the decoder yields for `data` pushed in `chunk`-byte pieces, the error
/// that stopped it (if any), and the bytes left buffered.
fn frames(data: &[u8], chunk: usize) -> (Vec<Vec<u8>>, Option<CodecError>, usize) {
    let mut decoder = FrameDecoder::new(DEFAULT_MAX_PAYLOAD);
    let mut out = Vec::new();
    for piece in data.chunks(chunk.max(1)) {
        decoder.push(piece);
        loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => out.push(frame),
                Ok(None) => break,
                // The stream is out of sync: the client drops the connection here.
                Err(e) => return (out, Some(e), decoder.buffered()),
            }
        }
    }
    (out, None, decoder.buffered())
}

/// `info-all` lines for `info`, in OsmoHLR's layout.
fn render_info(info: &SubscriberInfo) -> String {
    let mut text = String::new();
    if let Some(m) = &info.msisdn {
        text.push_str(&format!("\nmsisdn\t{m}"));
    }
    text.push_str(&format!("\nnam_cs\t{}", u8::from(info.nam_cs)));
    text.push_str(&format!("\nnam_ps\t{}", u8::from(info.nam_ps)));
    if let Some(ki) = &info.aud2g_ki {
        text.push_str(&format!("\naud2g.ki\t{}", ki.expose_hex()));
    }
    if let Some(a) = &info.aud3g {
        text.push_str(&format!("\naud3g.algo\t{}", a.algo));
        text.push_str(&format!("\naud3g.k\t{}", a.k.expose_hex()));
        if let Some(opc) = &a.opc {
            text.push_str(&format!("\naud3g.opc\t{}", opc.expose_hex()));
        }
        if let Some(op) = &a.op {
            text.push_str(&format!("\naud3g.op\t{}", op.expose_hex()));
        }
    }
    text
}

/// Parses `payload` as a reply and as a request; whatever parses must round-trip.
fn messages(payload: &[u8]) {
    if let Ok(reply) = Reply::parse(payload) {
        assert_eq!(Reply::parse(reply.encode().as_bytes()).as_ref(), Ok(&reply));
        if let Reply::GetReply { value, .. } = &reply {
            info(value);
        }
    }
    if let Ok(req) = Request::parse(payload) {
        let text = req.encode().expect("a parsed request encodes");
        assert_eq!(Request::parse(text.as_bytes()), Ok(req));
    }
}

/// Parses `text` as `info-all`; subscriber data that parses must round-trip.
fn info(text: &str) {
    if let Ok(info) = parse_info(text) {
        assert_eq!(parse_info(&render_info(&info)), Ok(info));
    }
}

fuzz_target!(|data: &[u8]| {
    let whole = frames(data, data.len());
    let chunk = usize::from(data.first().copied().unwrap_or(1) % 16) + 1;
    let (payloads, err, buffered) = &whole;
    let chunked = frames(data, chunk);
    assert_eq!(
        (&chunked.0, &chunked.1),
        (payloads, err),
        "chunk size {chunk}"
    );

    let mut wire = Vec::new();
    for p in payloads {
        wire.extend(encode_frame(p).expect("a decoded payload fits a frame"));
        messages(p);
    }
    assert!(data.starts_with(&wire));
    // After an error the chunked decoder has seen less of the stream, so only a clean
    // end compares what is left buffered.
    if err.is_none() {
        assert_eq!(wire.len() + buffered, data.len());
        assert_eq!(chunked.2, *buffered);
    }

    messages(data);
    if let Ok(text) = std::str::from_utf8(data) {
        info(text);
    }
});

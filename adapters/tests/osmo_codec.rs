//! Property tests of the OsmoHLR CTRL codec: framing under arbitrary chunking, request
//! round-trips, and no panics on arbitrary bytes.

use adapters::osmo::codec::{FrameDecoder, Reply, Request, encode_frame};
use proptest::prelude::*;

fn var() -> impl Strategy<Value = String> {
    "[a-z0-9.\\-]{1,40}"
}

fn request() -> impl Strategy<Value = Request> {
    prop_oneof![
        (any::<u64>(), var()).prop_map(|(id, var)| Request::Get { id, var }),
        (any::<u64>(), var(), "[ -~\\n\\t]{1,60}").prop_map(|(id, var, value)| Request::Set {
            id,
            var,
            value
        }),
    ]
}

/// Feeds `bytes` to a decoder in chunks of the given sizes and collects every frame.
fn decode_chunked(bytes: &[u8], chunks: &[usize]) -> Vec<Vec<u8>> {
    let mut decoder = FrameDecoder::default();
    let mut frames = Vec::new();
    let mut rest = bytes;
    let mut sizes = chunks.iter().cycle();
    while !rest.is_empty() {
        let n = sizes.next().copied().unwrap_or(1).clamp(1, rest.len());
        let (head, tail) = rest.split_at(n);
        decoder.push(head);
        while let Some(frame) = decoder.next_frame().expect("valid stream") {
            frames.push(frame);
        }
        rest = tail;
    }
    assert_eq!(decoder.buffered(), 0);
    frames
}

proptest! {
    #[test]
    fn frames_round_trip_through_any_chunking(
        payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 1..8),
        chunks in proptest::collection::vec(1usize..64, 1..10),
    ) {
        let mut wire = Vec::new();
        for p in &payloads {
            wire.extend(encode_frame(p).expect("small payload"));
        }
        prop_assert_eq!(decode_chunked(&wire, &chunks), payloads);
    }

    #[test]
    fn requests_round_trip(req in request()) {
        let text = req.encode().expect("valid request");
        prop_assert_eq!(Request::parse(text.as_bytes()), Ok(req));
    }

    #[test]
    fn replies_round_trip(id in any::<u64>(), var in var(), value in "[ -~\\n\\t]{0,60}", get in any::<bool>()) {
        let reply = if get {
            Reply::GetReply { id, var, value }
        } else {
            Reply::SetReply { id, var, value }
        };
        prop_assert_eq!(Reply::parse(reply.encode().as_bytes()), Ok(reply));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), split in 0usize..512) {
        let mut decoder = FrameDecoder::new(256);
        let (a, b) = bytes.split_at(split.min(bytes.len()));
        decoder.push(a);
        let _ = decoder.next_frame();
        decoder.push(b);
        for _ in 0..8 {
            match decoder.next_frame() {
                Ok(Some(frame)) => { let _ = Reply::parse(&frame); let _ = Request::parse(&frame); }
                _ => break,
            }
        }
        let _ = Reply::parse(&bytes);
        let _ = Request::parse(&bytes);
    }
}

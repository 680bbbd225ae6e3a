//! One delivery on the callback listener: a single hub message, or a batch of them
//! (`{"messages": [m1, m2, …]}`, at most [`MAX_BATCH`] in the order the hub produced them,
//! the whole body within [`MAX_BODY_BYTES`]). A national hub cuts many ports over at the
//! same hour (the UK's 09:00), so it sends their messages together rather than one HTTPS
//! exchange each. Each message of a batch decodes as [`decode_callback`] decodes a single
//! one; the receiver keeps each message's own text (its raw slice of the body).

use super::callback::{HubMessage, decode_callback};
use super::error::PortingCodecError;
use super::json::MAX_BODY_BYTES;
use serde::Deserialize;
use serde_json::value::RawValue;

/// The most messages one batch carries.
pub const MAX_BATCH: usize = 100;

/// Why a delivery is not readable: the message at `index` of a batch, or the body itself
/// (`None`). The receiver answers `400` and records nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{error}", index.map(|i| format!("messages[{i}]: ")).unwrap_or_default())]
pub struct DeliveryError {
    /// The message at fault, counted from 0; `None`: the body as a whole.
    pub index: Option<usize>,
    /// What is wrong with it.
    pub error: PortingCodecError,
}

impl DeliveryError {
    fn body(error: PortingCodecError) -> Self {
        Self { index: None, error }
    }
}

/// The members of a batch envelope; any other member is ignored.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    messages: Option<Vec<&'a RawValue>>,
}

/// Decodes a delivery: every message with its own text (for a single message, the whole
/// body). A body with a `messages` member is a batch (a hub message has no member of
/// that name); one of 0 or more than [`MAX_BATCH`] messages is refused.
pub fn decode_delivery(body: &[u8]) -> Result<Vec<(HubMessage, &[u8])>, DeliveryError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(DeliveryError::body(PortingCodecError::TooLarge {
            limit: MAX_BODY_BYTES,
        }));
    }
    // Anything that is not a well-formed envelope is read as one message, whose decoder
    // says precisely what is wrong (serde's own errors may quote a value).
    let batch = serde_json::from_slice::<Envelope<'_>>(body)
        .ok()
        .and_then(|e| e.messages);
    let Some(raws) = batch else {
        return decode_callback(body)
            .map(|m| vec![(m, body)])
            .map_err(DeliveryError::body);
    };
    if raws.is_empty() || raws.len() > MAX_BATCH {
        return Err(DeliveryError::body(PortingCodecError::InvalidValue {
            field: "messages",
        }));
    }
    raws.into_iter()
        .enumerate()
        .map(|(i, raw)| {
            let text = raw.get().as_bytes();
            decode_callback(text)
                .map(|m| (m, text))
                .map_err(|error| DeliveryError {
                    index: Some(i),
                    error,
                })
        })
        .collect()
}

/// The body of a batch of encoded messages (each as [`super::encode_callback`] gives it),
/// in order. The caller keeps to [`MAX_BATCH`] and [`MAX_BODY_BYTES`]
/// ([`batch_len`] says how long the body will be).
pub fn encode_batch<B: AsRef<[u8]>>(messages: &[B]) -> Vec<u8> {
    let mut out = Vec::with_capacity(batch_len(messages.iter().map(|m| m.as_ref().len())));
    out.extend_from_slice(b"{\"messages\":[");
    for (i, m) in messages.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(m.as_ref());
    }
    out.extend_from_slice(b"]}");
    out
}

/// The length of the batch body holding messages of these encoded lengths.
pub fn batch_len(lengths: impl Iterator<Item = usize>) -> usize {
    let (n, total) = lengths.fold((0usize, 0usize), |(n, t), l| (n + 1, t + l));
    "{\"messages\":[]}".len() + total + n.saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str, port: &str, sequence: u64) -> Vec<u8> {
        format!(
            r#"{{"message_id":"{id}","port_ref":"{port}","sequence":{sequence},"kind":"accepted","at":"2026-03-02T09:15:00.000Z","actor":"donor","reference":"ord_7","x_vendor":{{"a":[1,2]}}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn a_single_message_is_a_delivery_of_one_with_the_whole_body() {
        let body = message("m-1", "P-1", 1);
        let got = decode_delivery(&body).expect("decodes");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0.message_id.as_str(), "m-1");
        assert_eq!(got[0].1, body.as_slice());
    }

    #[test]
    fn a_batch_keeps_order_and_each_messages_own_text() {
        let (a, b) = (message("m-1", "P-1", 1), message("m-2", "P-2", 3));
        let body = encode_batch(&[&a, &b]);
        assert_eq!(body.len(), batch_len([a.len(), b.len()].into_iter()));
        let got = decode_delivery(&body).expect("decodes");
        let ids: Vec<_> = got.iter().map(|(m, _)| m.message_id.as_str()).collect();
        assert_eq!(ids, ["m-1", "m-2"]);
        assert_eq!(got[0].1, a.as_slice());
        assert_eq!(got[1].1, b.as_slice());
    }

    #[test]
    fn a_bad_message_is_named_by_its_place() {
        let bad = br#"{"message_id":"m-2","port_ref":"P-2","sequence":0,"kind":"accepted","at":"2026-03-02T09:15:00.000Z","actor":"hub"}"#;
        let body = encode_batch(&[message("m-1", "P-1", 1).as_slice(), bad.as_slice()]);
        let e = decode_delivery(&body).expect_err("refused");
        assert_eq!(e.index, Some(1));
        assert_eq!(e.to_string(), "messages[1]: sequence: invalid value");
    }

    #[test]
    fn empty_oversized_and_malformed_batches_are_refused() {
        let empty = decode_delivery(br#"{"messages":[]}"#).expect_err("empty");
        assert_eq!(empty.to_string(), "messages: invalid value");
        let one = message("m-1", "P-1", 1);
        let many: Vec<&[u8]> = (0..=MAX_BATCH).map(|_| one.as_slice()).collect();
        let e = decode_delivery(&encode_batch(&many)).expect_err("too many");
        assert_eq!(e.index, None);
        let not_a_list = decode_delivery(br#"{"messages":{}}"#).expect_err("not a list");
        assert_eq!(not_a_list.index, None);
        let cut = decode_delivery(br#"{"messages":[{"message_id":"m-1""#).expect_err("cut");
        assert!(
            matches!(cut.error, PortingCodecError::Malformed { .. }),
            "{cut:?}"
        );
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(
            decode_delivery(&big).expect_err("large").error,
            PortingCodecError::TooLarge {
                limit: MAX_BODY_BYTES
            }
        );
    }
}

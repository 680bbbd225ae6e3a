//! The identity verification request of an activation, built from the persisted order, its
//! subscriber (opened in memory by the caller) and the create commit's terms, as a pure
//! function. The request id is derived from the order id, so every attempt, also after a
//! restart, sends the same request and the verifier answers a repeat with its first
//! decision.

use crate::compliance::channel::ChannelRef;
use crate::compliance::{Capture as SubscriberCapture, Subscriber};
use crate::order::{Order, VerifyTerms, identity_request_id};
use adapters::identity::{
    Capture, ChannelContext, Evidence, FaceMatch, Nationality, Requirements, Score, Token,
    VerificationRequest,
};
use serde_json::Value;
use zeroize::Zeroize;

/// The order a request is for: its id, tenant and channel, as the create commit stores
/// them (the order need not exist yet: the API may ask before the commit).
#[derive(Clone, Copy, Debug)]
pub struct Asker<'a> {
    /// The order's id (the request id derives from it).
    pub order_id: &'a str,
    /// Its tenant.
    pub tenant: &'a str,
    /// Its channel object, as sent.
    pub channel: Option<&'a Value>,
}

impl<'a> Asker<'a> {
    /// The stored order's.
    pub fn of(order: &'a Order) -> Self {
        Self {
            order_id: &order.id,
            tenant: &order.tenant,
            channel: order.channel.as_ref(),
        }
    }
}

/// The request verifying the subscriber sealed at rest as `clear` (its normalised JSON,
/// opened in memory by the caller) for `asker` under `terms`. An error names the field
/// the protocol cannot carry (never its value).
pub fn request_from_clear(
    asker: Asker<'_>,
    clear: &[u8],
    terms: &VerifyTerms,
) -> Result<VerificationRequest, String> {
    let mut value: Value = serde_json::from_slice(clear)
        .map_err(|_| "the stored `subscriber` is not a JSON object".to_owned())?;
    let parsed = Subscriber::from_json(&value);
    scrub(&mut value);
    let subscriber = parsed.map_err(|r| r.detail)?;
    verification_request(asker, &subscriber, terms)
}

/// Overwrites the clear strings of an opened subscriber before they are dropped.
fn scrub(v: &mut Value) {
    match v {
        Value::String(s) => s.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(scrub),
        Value::Object(m) => m.values_mut().for_each(scrub),
        _ => {}
    }
}

/// The request verifying `s` for `asker` under `terms`. An error names the subscriber's
/// field whose value the protocol cannot carry (never the value).
pub fn verification_request(
    asker: Asker<'_>,
    s: &Subscriber,
    terms: &VerifyTerms,
) -> Result<VerificationRequest, String> {
    let token = |v: &str, field: &'static str| {
        Token::parse(v, field).map_err(|_| {
            format!("`{field}` must be 1 to 128 printable ASCII characters without spaces")
        })
    };
    let capture = match &s.capture {
        SubscriberCapture::CardReader {
            reader_serial,
            payload_ref,
        } => Capture::CardReader {
            reader_serial: token(reader_serial, "subscriber.capture.reader_serial")?,
            payload_ref: payload_ref
                .as_deref()
                .map(|p| token(p, "subscriber.capture.payload_ref"))
                .transpose()?,
        },
        SubscriberCapture::Manual => Capture::Manual,
    };
    let evidence = match (&s.evidence.face_match, &s.evidence.video_id) {
        (Some(f), _) => Some(Evidence::FaceMatch(FaceMatch {
            transaction_id: token(
                &f.transaction_id,
                "subscriber.evidence.face_match.transaction_id",
            )?,
            score: Score::new(f.score).ok_or_else(|| {
                "`subscriber.evidence.face_match.score` must be from 0.0 to 1.0".to_owned()
            })?,
            liveness: f.liveness,
        })),
        (None, Some(v)) => Some(Evidence::Video {
            id: token(v, "subscriber.evidence.video.id")?,
        }),
        (None, None) => None,
    };
    let nationality = s
        .nationality
        .as_deref()
        .map(|n| {
            Nationality::parse(n).map_err(|_| {
                "`subscriber.nationality` must be an ISO 3166-1 code, upper case".to_owned()
            })
        })
        .transpose()?;
    Ok(VerificationRequest {
        request_id: token(&identity_request_id(asker.order_id), "request_id")?,
        name: s.name.clone(),
        id_type: s.id_type,
        id_number: s.id_number.clone(),
        nationality,
        id_expiry: None,
        capture,
        evidence,
        channel: channel_context(asker),
        requirements: Requirements {
            evidence_required: terms.evidence_required,
            manual_capture_allowed: terms.manual_capture_allowed,
        },
    })
}

/// Where the order comes from, as far as the protocol can carry it: the tenant and, for a
/// store channel, the store, the clerk and the terminal. A member the protocol cannot
/// carry is left out (they are optional and only inform the verifier).
fn channel_context(asker: Asker<'_>) -> ChannelContext {
    let members = asker.channel.and_then(Value::as_object);
    let get = |k: &str| members.and_then(|m| m.get(k)).and_then(Value::as_str);
    let token = |v: Option<&str>| v.and_then(|v| Token::parse(v, "channel").ok());
    let mut ctx = ChannelContext {
        tenant: token(Some(asker.tenant)),
        ..ChannelContext::default()
    };
    let from = ChannelRef::from_request(
        get("kind"),
        get("store_id"),
        get("staff_id"),
        get("terminal_id"),
    );
    if let ChannelRef::Store(s) = from {
        ctx.store = token(Some(&s.store));
        ctx.clerk = token(s.clerk.as_deref());
        ctx.device = token(s.terminal.as_deref());
    }
    ctx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::machine::fixture_order;
    use adapters::identity::IdType;
    use serde_json::json;

    fn subscriber(v: Value) -> Subscriber {
        Subscriber::from_json(&v).expect("valid subscriber")
    }

    fn cn_store() -> Value {
        json!({
            "name": "张三", "id_type": "resident_id", "id_number": "11010519491231002x",
            "nationality": "CHN",
            "capture": {"method": "card_reader", "reader_serial": "R-1", "payload_ref": "rdr-7"},
            "evidence": {"face_match": {"transaction_id": "fm-1", "score": 0.93, "liveness": true}}
        })
    }

    const TERMS: VerifyTerms = VerifyTerms {
        required: true,
        evidence_required: true,
        manual_capture_allowed: false,
        flag_reverifies: true,
    };

    #[test]
    fn a_store_order_carries_identity_evidence_channel_and_requirements() {
        let mut o = fixture_order();
        o.channel = Some(
            json!({"kind": "store", "store_id": "SZ-0042", "staff_id": "C1", "terminal_id": "T7"}),
        );
        let r =
            verification_request(Asker::of(&o), &subscriber(cn_store()), &TERMS).expect("request");
        assert_eq!(r.request_id.as_str(), "act_x-idv");
        assert_eq!(r.name.expose(), "张三");
        assert_eq!(r.id_type, IdType::ResidentId);
        assert_eq!(r.id_number.expose(), "11010519491231002X");
        assert_eq!(r.nationality.as_ref().map(Nationality::as_str), Some("CHN"));
        let Capture::CardReader {
            reader_serial,
            payload_ref,
        } = &r.capture
        else {
            panic!("not a card reader: {:?}", r.capture)
        };
        assert_eq!(
            (
                reader_serial.as_str(),
                payload_ref.as_ref().map(Token::as_str)
            ),
            ("R-1", Some("rdr-7"))
        );
        let Some(Evidence::FaceMatch(f)) = &r.evidence else {
            panic!("no face match: {:?}", r.evidence)
        };
        assert_eq!(
            (f.transaction_id.as_str(), f.score.get(), f.liveness),
            ("fm-1", 0.93, true)
        );
        let tok = |t: &Option<Token>| t.as_ref().map(|t| t.as_str().to_owned());
        assert_eq!(
            [
                &r.channel.tenant,
                &r.channel.store,
                &r.channel.clerk,
                &r.channel.device
            ]
            .map(tok),
            [Some("t"), Some("SZ-0042"), Some("C1"), Some("T7")].map(|s| s.map(str::to_owned))
        );
        assert_eq!(
            r.requirements,
            Requirements {
                evidence_required: true,
                manual_capture_allowed: false
            }
        );
        // The same order gives the same request, attempt after attempt.
        let again =
            verification_request(Asker::of(&o), &subscriber(cn_store()), &TERMS).expect("request");
        assert_eq!(again, r);
    }

    #[test]
    fn an_online_order_sends_its_video_and_no_store() {
        let mut o = fixture_order();
        o.channel = Some(json!({"kind": "online", "store_id": "ignored", "platform": "app"}));
        let s = subscriber(json!({
            "name": "Jane Doe", "id_type": "passport", "id_number": "X1234567", "nationality": "GBR",
            "capture": {"method": "manual"}, "evidence": {"video": {"id": "vid-9"}}
        }));
        let r = verification_request(Asker::of(&o), &s, &TERMS).expect("request");
        assert_eq!(r.capture, Capture::Manual);
        assert!(matches!(&r.evidence, Some(Evidence::Video { id }) if id.as_str() == "vid-9"));
        assert_eq!(r.channel.store, None);
        assert_eq!(r.channel.tenant.as_ref().map(Token::as_str), Some("t"));
    }

    #[test]
    fn a_value_the_protocol_cannot_carry_names_its_field_not_its_value() {
        let mut v = cn_store();
        v["capture"]["reader_serial"] = json!("reader one");
        let err = verification_request(Asker::of(&fixture_order()), &subscriber(v), &TERMS)
            .expect_err("refused");
        assert!(err.contains("subscriber.capture.reader_serial"), "{err}");
        assert!(!err.contains("reader one"), "{err}");
    }
}

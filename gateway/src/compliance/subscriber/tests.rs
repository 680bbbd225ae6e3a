use super::*;
use adapters::identity::CivilDate;

const ID: &str = "11010519491231002X";

fn full() -> Value {
    json!({
        "name": "张三",
        "id_type": "resident_id",
        "id_number": "110105 19491231 002x",
        "nationality": "chn",
        "capture": {"method": "card_reader", "reader_serial": "R-1", "payload_ref": "p-9"},
        "evidence": {"face_match": {"transaction_id": "fm-1", "score": 0.93, "liveness": true}},
        "future_field": {"anything": 1}
    })
}

#[test]
fn parses_the_contract_shape_and_ignores_new_fields() {
    let s = Subscriber::from_json(&full()).expect("valid");
    assert_eq!(s.id_type, IdType::ResidentId);
    assert_eq!(s.id_number.expose(), ID, "normalised");
    assert_eq!(s.nationality.as_deref(), Some("CHN"));
    assert_eq!(s.capture.reader_serial(), Some("R-1"));
    assert_eq!(
        s.evidence.face_match.as_ref().map(|f| f.liveness),
        Some(true)
    );
    assert_eq!(
        s.evidence_refs(),
        ["reader:R-1", "reader_payload:p-9", "face_match:fm-1"]
    );
    let video = json!({"name": "A", "id_type": "resident_id", "id_number": ID,
        "evidence": {"video": {"id": "v-1"}}});
    let s = Subscriber::from_json(&video).expect("valid");
    assert_eq!(s.capture, Capture::Manual, "no capture: typed");
    assert_eq!(s.evidence.video_id.as_deref(), Some("v-1"));
}

#[test]
fn never_reveals_the_number_or_the_name() {
    let s = Subscriber::from_json(&full()).expect("valid");
    let debug = format!("{s:?}");
    let shown = serde_json::to_string(&s).expect("json");
    for text in [&debug, &shown, &s.id_number.masked(), &s.name.masked()] {
        assert!(!text.contains(ID) && !text.contains("张三"), "{text}");
    }
    assert!(shown.contains("1101**********002X"), "{shown}");
    assert!(shown.contains("\"张*\""), "{shown}");
}

#[test]
fn sealed_form_round_trips() {
    let s = Subscriber::from_json(&full()).expect("valid");
    let bytes = s.to_sealed_json();
    let text = std::str::from_utf8(&bytes).expect("utf8");
    assert!(text.contains(ID) && text.contains("张三"));
    let back: Subscriber = serde_json::from_slice(&bytes).expect("reads back");
    assert_eq!(back, s);
}

/// `check(patch, field, code)`: the full subscriber with `patch` applied is refused
/// with `code` at `field`, and the detail never echoes what was sent.
fn check(patch: &[(&str, Value)], field: &str, code: &str) {
    let mut v = full();
    for (k, val) in patch {
        let mut at = &mut v;
        let mut parts = k.split('.').peekable();
        while let Some(p) = parts.next() {
            if parts.peek().is_none() {
                if val.is_null() {
                    at.as_object_mut().expect("object").remove(p);
                } else {
                    at[p] = val.clone();
                }
                break;
            }
            at = &mut at[p];
        }
    }
    let r = Subscriber::from_json(&v).expect_err("refused");
    assert_eq!(
        (r.field.as_deref(), r.code),
        (Some(field), code),
        "{patch:?}: {r:?}"
    );
    for secret in ["1101051949", "SECRET", "张三"] {
        assert!(!r.detail.contains(secret), "{}", r.detail);
    }
}

#[test]
fn machine_values_are_taken_as_sent_as_the_api_document_states_them() {
    // `id_type` is an enum and `nationality` a pattern in the API document: padded or
    // otherwise, what the document refuses the server refuses.
    for (k, v) in [
        ("id_type", " resident_id"),
        ("id_type", "resident_id "),
        ("id_type", "RESIDENT_ID"),
        ("nationality", " CHN"),
        ("nationality", "CHN\n"),
        ("nationality", "CN"),
    ] {
        check(
            &[(k, json!(v))],
            &format!("subscriber.{k}"),
            "subscriber_invalid",
        );
    }
}

#[test]
fn refusals_name_the_field() {
    let null = Value::Null;
    check(
        &[("name", null.clone())],
        "subscriber.name",
        "subscriber_invalid",
    );
    check(
        &[("name", json!("  "))],
        "subscriber.name",
        "subscriber_invalid",
    );
    check(
        &[("name", json!("a\u{7}b"))],
        "subscriber.name",
        "subscriber_invalid",
    );
    check(
        &[("id_type", json!("SECRET"))],
        "subscriber.id_type",
        "subscriber_invalid",
    );
    check(
        &[("id_number", json!(110105194912310020u64))],
        "subscriber.id_number",
        "subscriber_invalid",
    );
    check(
        &[("id_number", json!("11010519491231002"))],
        "subscriber.id_number",
        "id_number_invalid",
    );
    check(
        &[("id_number", json!("110105194912310021"))],
        "subscriber.id_number",
        "id_number_invalid",
    );
    check(
        &[("nationality", json!("CN"))],
        "subscriber.nationality",
        "subscriber_invalid",
    );
    check(
        &[
            ("id_type", json!("passport")),
            ("id_number", json!("E1234567")),
            ("nationality", null.clone()),
        ],
        "subscriber.nationality",
        "subscriber_invalid",
    );
    check(
        &[("capture.method", json!("SECRET"))],
        "subscriber.capture.method",
        "subscriber_invalid",
    );
    check(
        &[("capture.reader_serial", null.clone())],
        "subscriber.capture.reader_serial",
        "subscriber_invalid",
    );
    check(
        &[("evidence.face_match.score", json!(1.5))],
        "subscriber.evidence.face_match.score",
        "subscriber_invalid",
    );
    check(
        &[("evidence.face_match.liveness", json!("yes"))],
        "subscriber.evidence.face_match.liveness",
        "subscriber_invalid",
    );
    check(
        &[("evidence.video", json!({}))],
        "subscriber.evidence.video.id",
        "subscriber_invalid",
    );
    check(
        &[("evidence", json!([]))],
        "subscriber.evidence",
        "subscriber_invalid",
    );
    let r = Subscriber::from_json(&json!("SECRET")).expect_err("not an object");
    assert_eq!(r.field.as_deref(), Some("subscriber"));
}

#[test]
fn birth_dates_where_the_number_has_one() {
    let s = Subscriber::from_json(&full()).expect("valid");
    assert_eq!(
        s.id_number.birth_date(s.id_type),
        CivilDate::new(1949, 12, 31)
    );
    let p = IdNumber::parse_as(IdType::Passport, "E12345678").expect("passport");
    assert_eq!(p.birth_date(IdType::Passport), None);
}

#[test]
fn countries() {
    assert_eq!(normalise_country("chn").as_deref(), Some("CHN"));
    assert_eq!(normalise_country("D").as_deref(), Some("DEU"));
    assert_eq!(normalise_country("CN"), None);
    assert_eq!(normalise_country("C1N"), None);
    assert_eq!(normalise_country(" CHN"), None, "as sent, untrimmed");
}

proptest::proptest! {
    /// Arbitrary JSON never panics the parser.
    #[test]
    fn arbitrary_members_never_panic(
        name in proptest::option::of("\\PC{0,120}"),
        t in proptest::option::of("[a-z_]{0,20}"),
        n in proptest::option::of("\\PC{0,70}"),
        score in proptest::num::f64::ANY,
    ) {
        let v = json!({"name": name, "id_type": t, "id_number": n,
            "evidence": {"face_match": {"transaction_id": "x", "score": score, "liveness": true}}});
        let _ = Subscriber::from_json(&v);
    }
}

/// An optional member sent as null parses as if absent (the API document says so).
#[test]
fn null_optional_members_are_absent() {
    let mut nulls = full();
    nulls["nationality"] = Value::Null;
    nulls["capture"]["payload_ref"] = Value::Null;
    nulls["evidence"]["face_match"] = Value::Null;
    nulls["evidence"]["video"] = Value::Null;
    nulls["evidence"]["risk_notice"] = Value::Null;
    let mut absent = full();
    absent
        .as_object_mut()
        .expect("object")
        .remove("nationality");
    absent["capture"]
        .as_object_mut()
        .expect("capture")
        .remove("payload_ref");
    absent["evidence"] = json!({});
    assert_eq!(
        Subscriber::from_json(&nulls).expect("nulls"),
        Subscriber::from_json(&absent).expect("absent")
    );
    let mut nulls = full();
    nulls["capture"] = Value::Null;
    nulls["evidence"] = Value::Null;
    let s = Subscriber::from_json(&nulls).expect("nulls");
    assert_eq!(s.capture, Capture::Manual);
    assert_eq!(s.evidence, Evidence::default());
}

//! The porting hub codec: fixed wire vectors (`fixtures/porting/`, the same bodies as in
//! `docs/porting-hub.md`) both ways, and strict decoding with errors that name the member
//! and never the value. The property tests are in `porting_props.rs`.

use adapters::porting::*;
use serde_json::{Value, json};
use sim_profiles::Msisdn;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/porting/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn value(body: &[u8]) -> Value {
    serde_json::from_slice(body).expect("json")
}

fn r(s: &str) -> Ref {
    Ref::parse(s, "test").expect("ref")
}

fn t(s: &str) -> UtcTime {
    UtcTime::parse(s, "test").expect("time")
}

fn msisdn(s: &str) -> Msisdn {
    s.parse().expect("msisdn")
}

/// Checks that `name` decodes to `expected` and that `expected` encodes to exactly it.
fn check<T: PartialEq + std::fmt::Debug>(
    name: &str,
    expected: &T,
    decode: impl Fn(&[u8]) -> Result<T, PortingCodecError>,
    encode: impl Fn(&T) -> Vec<u8>,
) {
    let body = fixture(name);
    assert_eq!(decode(&body).as_ref(), Ok(expected), "{name}");
    assert_eq!(value(&encode(expected)), value(&body), "{name}");
}

fn uk_submit() -> SubmitPortIn {
    SubmitPortIn {
        request_id: r("ord_7-port-in"),
        reference: r("ord_7"),
        market: Market::Uk,
        number: msisdn("447700900123"),
        donor: r("UK-DONOR-01"),
        recipient: r("SIMGW-UK"),
        credential: Some(Credential::parse("ABC123456", "t").expect("pac")),
        account: None,
        requested_at: Some(t("2026-03-04T08:00:00Z")),
    }
}

#[test]
fn request_vectors() {
    check(
        "submit_port_in_uk",
        &uk_submit(),
        decode_submit_port_in,
        encode_submit_port_in,
    );
    let us = SubmitPortIn {
        request_id: r("ord_9-port-in"),
        reference: r("ord_9"),
        market: Market::Us,
        number: msisdn("12025550143"),
        donor: r("1234"),
        recipient: r("5678"),
        credential: None,
        account: Some(Account {
            number: AccountNumber::parse("9876543210", "t").expect("number"),
            pin: AccountPin::parse("4321", "t").expect("pin"),
        }),
        requested_at: None,
    };
    check(
        "submit_port_in_us",
        &us,
        decode_submit_port_in,
        encode_submit_port_in,
    );
    let cancel = CancelPort {
        request_id: r("ord_7-cancel-1"),
        port_ref: r("HUB-UK-000042"),
    };
    check("cancel", &cancel, decode_cancel, encode_cancel);
    let reschedule = ReschedulePort {
        request_id: r("ord_7-reschedule-1"),
        port_ref: r("HUB-UK-000042"),
        requested_at: t("2026-03-05T08:00:00Z"),
    };
    check(
        "reschedule",
        &reschedule,
        decode_reschedule,
        encode_reschedule,
    );
    let accept = AnswerPortOut {
        request_id: r("po_3-answer"),
        port_ref: r("HUB-UK-000077"),
        decision: PortOutDecision::Accept,
    };
    check(
        "answer_accept",
        &accept,
        decode_answer_port_out,
        encode_answer_port_out,
    );
    let reject = AnswerPortOut {
        request_id: r("po_4-answer"),
        port_ref: r("HUB-UK-000078"),
        decision: PortOutDecision::Reject(RejectReason::CredentialMsisdnMismatch),
    };
    check(
        "answer_reject",
        &reject,
        decode_answer_port_out,
        encode_answer_port_out,
    );
    let ack = Acknowledge {
        request_id: r("ord_7-ack-m-000126"),
        port_ref: r("HUB-UK-000042"),
        message_id: r("m-000126"),
    };
    check("acknowledge", &ack, decode_acknowledge, encode_acknowledge);
    let give_back = ReturnNumber {
        request_id: r("sub_7-return-447700900123"),
        port_ref: r("HUB-UK-000042"),
        number: msisdn("447700900123"),
        range_holder: r("UK-RANGE-07"),
    };
    check(
        "return_number",
        &give_back,
        decode_return_number,
        encode_return_number,
    );
    let receipt = Receipt {
        request_id: r("ord_7-port-in"),
        port_ref: r("HUB-UK-000042"),
    };
    check("receipt", &receipt, decode_receipt, encode_receipt);
    let problem = HubProblem {
        code: HubErrorCode::InvalidRequest,
        field: Some(Code::parse("requested_at", "t").expect("code")),
    };
    check("problem", &problem, decode_problem, encode_problem);
}

/// A UK port-in's message with the envelope of `HUB-UK-000042`.
fn uk_msg(id: &str, sequence: u64, at: &str, event: HubEvent) -> HubMessage {
    let scheduled = sequence >= 2;
    HubMessage {
        message_id: r(id),
        port_ref: r("HUB-UK-000042"),
        sequence,
        at: t(at),
        actor: Actor::Hub,
        reference: Some(r("ord_7")),
        due_at: scheduled.then(|| t("2026-03-04T08:00:00Z")),
        lock_at: scheduled.then(|| t("2026-03-03T17:00:00Z")),
        range_holder: None,
        event,
    }
}

#[test]
fn message_vectors() {
    let mut accepted = uk_msg("m-000123", 1, "2026-03-02T09:15:00Z", HubEvent::Accepted);
    accepted.actor = Actor::Donor;
    accepted.range_holder = Some(r("UK-RANGE-07"));
    let cases = [
        ("msg_accepted", accepted),
        (
            "msg_scheduled",
            uk_msg("m-000124", 2, "2026-03-02T09:15:01Z", HubEvent::Scheduled),
        ),
        (
            "msg_locked",
            uk_msg("m-000125", 3, "2026-03-03T17:00:00Z", HubEvent::Locked),
        ),
        (
            "msg_cutover",
            uk_msg("m-000126", 4, "2026-03-04T08:00:00Z", HubEvent::Cutover),
        ),
        (
            "msg_completed",
            uk_msg(
                "m-000127",
                5,
                "2026-03-04T08:04:31.25Z",
                HubEvent::Completed,
            ),
        ),
        (
            "msg_rejected",
            HubMessage {
                message_id: r("m-000130"),
                port_ref: r("HUB-UK-000043"),
                sequence: 1,
                at: t("2026-03-02T09:16:00Z"),
                actor: Actor::Hub,
                reference: Some(r("ord_8")),
                due_at: None,
                lock_at: None,
                range_holder: None,
                event: HubEvent::Rejected {
                    reason: RejectReason::CredentialExpired,
                },
            },
        ),
        (
            "msg_conflict",
            HubMessage {
                message_id: r("m-000311"),
                port_ref: r("NPAC-SV-88123"),
                sequence: 3,
                at: t("2026-03-03T15:00:00Z"),
                actor: Actor::Donor,
                reference: Some(r("ord_9")),
                due_at: Some(t("2026-03-04T16:00:00Z")),
                lock_at: None,
                range_holder: None,
                event: HubEvent::Conflict {
                    cause: Code::parse("50", "t").expect("cause"),
                },
            },
        ),
        (
            "msg_cancel_request",
            HubMessage {
                message_id: r("m-000312"),
                port_ref: r("NPAC-SV-88123"),
                sequence: 4,
                at: t("2026-03-03T16:00:00Z"),
                actor: Actor::Donor,
                reference: Some(r("ord_9")),
                due_at: Some(t("2026-03-04T16:00:00Z")),
                lock_at: None,
                range_holder: None,
                event: HubEvent::CancelRequest,
            },
        ),
        (
            "msg_cancelled",
            HubMessage {
                message_id: r("m-000140"),
                port_ref: r("HUB-UK-000044"),
                sequence: 3,
                at: t("2026-03-02T11:00:00Z"),
                actor: Actor::Recipient,
                reference: Some(r("ord_10")),
                due_at: None,
                lock_at: None,
                range_holder: None,
                event: HubEvent::Cancelled,
            },
        ),
        ("msg_port_out_request", port_out_uk()),
        ("msg_port_out_request_us", port_out_us()),
    ];
    for (name, expected) in &cases {
        check(name, expected, decode_callback, encode_callback);
        let code = expected.event.reason_code();
        match *name {
            "msg_rejected" => assert_eq!(code, Some("credential_expired")),
            "msg_conflict" => assert_eq!(code, Some("50")),
            _ => assert_eq!(code, None, "{name}"),
        }
    }
    // An unknown kind decodes by name; its unknown members are not kept.
    let unknown = decode_callback(&fixture("msg_unknown")).expect("unknown kind");
    assert_eq!(
        unknown.event,
        HubEvent::Unknown(Code::parse("billing_closed", "t").expect("kind"))
    );
    assert_eq!(unknown.sequence, 6);
    let mut expected = value(&fixture("msg_unknown"));
    expected.as_object_mut().map(|o| o.remove("final_bill"));
    assert_eq!(value(&encode_callback(&unknown)), expected);
}

fn port_out_uk() -> HubMessage {
    HubMessage {
        message_id: r("m-000200"),
        port_ref: r("HUB-UK-000077"),
        sequence: 1,
        at: t("2026-03-02T10:00:00Z"),
        actor: Actor::Recipient,
        reference: None,
        due_at: None,
        lock_at: None,
        range_holder: None,
        event: HubEvent::PortOutRequest(Box::new(PortOutRequest {
            market: Market::Uk,
            number: msisdn("447700900456"),
            recipient: r("UK-RECIPIENT-02"),
            credential: Some(Credential::parse("XYZ654321", "t").expect("pac")),
            account: None,
            requested_at: t("2026-03-04T08:00:00Z"),
            respond_by: t("2026-03-02T12:00:00Z"),
        })),
    }
}

fn port_out_us() -> HubMessage {
    HubMessage {
        message_id: r("m-000201"),
        port_ref: r("NPAC-SV-90001"),
        sequence: 1,
        at: t("2026-03-02T10:00:00Z"),
        actor: Actor::Recipient,
        reference: None,
        due_at: None,
        lock_at: None,
        range_holder: None,
        event: HubEvent::PortOutRequest(Box::new(PortOutRequest {
            market: Market::Us,
            number: msisdn("12025550199"),
            recipient: r("5678"),
            credential: None,
            account: Some(Account {
                number: AccountNumber::parse("5550001111", "t").expect("number"),
                pin: AccountPin::parse("8080", "t").expect("pin"),
            }),
            requested_at: t("2026-03-02T14:00:00Z"),
            respond_by: t("2026-03-02T11:00:00Z"),
        })),
    }
}

/// What is changed in a good body, how, and the error expected.
type Case = (&'static str, fn(&mut Value), &'static str);

fn remove(v: &mut Value, member: &str) {
    v.as_object_mut().map(|o| o.remove(member));
}

#[test]
fn message_decoding_is_strict_and_names_the_member() {
    let good = value(&fixture("msg_port_out_request_us"));
    let cases: [Case; 14] = [
        ("no id", |v| remove(v, "message_id"), "message_id: missing"),
        (
            "port ref",
            |v| v["port_ref"] = json!("A B"),
            "port_ref: invalid value",
        ),
        (
            "sequence 0",
            |v| v["sequence"] = json!(0),
            "sequence: invalid value",
        ),
        (
            "sequence text",
            |v| v["sequence"] = json!("1"),
            "sequence: invalid value",
        ),
        (
            "sequence negative",
            |v| v["sequence"] = json!(-1),
            "sequence: invalid value",
        ),
        (
            "offset",
            |v| v["at"] = json!("2026-03-02T11:00:00+01:00"),
            "at: invalid value",
        ),
        (
            "actor",
            |v| v["actor"] = json!("regulator"),
            "actor: invalid value",
        ),
        ("no kind", |v| remove(v, "kind"), "kind: missing"),
        (
            "kind",
            |v| v["kind"] = json!("port out"),
            "kind: invalid value",
        ),
        (
            "market",
            |v| v["market"] = json!("de"),
            "market: invalid value",
        ),
        (
            "number",
            |v| v["number"] = json!("+1 202 555"),
            "number: invalid value",
        ),
        (
            "pin",
            |v| v["account"]["pin"] = json!(""),
            "account.pin: invalid value",
        ),
        (
            "no respond_by",
            |v| remove(v, "respond_by"),
            "respond_by: missing",
        ),
        (
            "account",
            |v| v["account"] = json!("5550001111"),
            "account: invalid value",
        ),
    ];
    for (what, edit, expected) in cases {
        let mut v = good.clone();
        edit(&mut v);
        let err = decode_callback(&serde_json::to_vec(&v).expect("json")).expect_err(what);
        assert_eq!(err.to_string(), expected, "{what}");
        let shown = format!("{err} {err:?}");
        assert!(
            !shown.contains("8080") && !shown.contains("5550001111"),
            "{what}: {shown}"
        );
    }
    let mut scheduled = value(&fixture("msg_scheduled"));
    remove(&mut scheduled, "due_at");
    assert_eq!(
        decode_callback(&serde_json::to_vec(&scheduled).expect("json")),
        Err(PortingCodecError::Missing { field: "due_at" })
    );
    let mut rejected = value(&fixture("msg_rejected"));
    rejected["reason"] = json!("donor_system_error");
    rejected["extra"] = json!({"x": [1, 2]});
    let decoded = decode_callback(&serde_json::to_vec(&rejected).expect("json")).expect("ok");
    assert_eq!(
        decoded.event,
        HubEvent::Rejected {
            reason: RejectReason::Other(Code::parse("donor_system_error", "t").expect("code"))
        }
    );
    // A known reason is always its variant, however it was built.
    for reason in RejectReason::KNOWN {
        let parsed = RejectReason::parse(reason.as_str(), "reason").expect("reason");
        assert_eq!(&parsed, reason);
    }
}

#[test]
fn request_decoding_is_strict() {
    let good = value(&fixture("submit_port_in_uk"));
    let cases: [Case; 6] = [
        (
            "no reference",
            |v| remove(v, "reference"),
            "reference: missing",
        ),
        (
            "market",
            |v| v["market"] = json!("UK"),
            "market: invalid value",
        ),
        (
            "number",
            |v| v["number"] = json!("07700900123x"),
            "number: invalid value",
        ),
        (
            "credential",
            |v| v["credential"] = json!("ABC 123456"),
            "credential: invalid value",
        ),
        (
            "when",
            |v| v["requested_at"] = json!("2026-03-04"),
            "requested_at: invalid value",
        ),
        ("donor", |v| v["donor"] = json!(17), "donor: invalid value"),
    ];
    for (what, edit, expected) in cases {
        let mut v = good.clone();
        edit(&mut v);
        let err = decode_submit_port_in(&serde_json::to_vec(&v).expect("json")).expect_err(what);
        assert_eq!(err.to_string(), expected, "{what}");
        assert!(!format!("{err:?}").contains("ABC"), "{what}");
    }
    let answer = |v: Value| decode_answer_port_out(&serde_json::to_vec(&v).expect("json"));
    let base = json!({"request_id": "q", "port_ref": "p"});
    let with = |extra: Value| {
        let mut v = base.clone();
        if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        v
    };
    assert_eq!(
        answer(with(
            json!({"decision": "accept", "reason": "contract_lock"})
        )),
        Err(PortingCodecError::InvalidValue { field: "reason" })
    );
    assert_eq!(
        answer(with(json!({"decision": "reject"}))),
        Err(PortingCodecError::Missing { field: "reason" })
    );
    assert_eq!(
        answer(with(json!({"decision": "maybe"}))),
        Err(PortingCodecError::InvalidValue { field: "decision" })
    );
    assert_eq!(
        decode_problem(br#"{"code": "port_locked", "detail": "PAC ABC123456 is locked"}"#),
        Ok(HubProblem {
            code: HubErrorCode::PortLocked,
            field: None
        })
    );
}

#[test]
fn debug_shows_no_secret() {
    let shown = format!("{:?} {:?} {:?}", uk_submit(), port_out_uk(), port_out_us());
    for secret in ["ABC123456", "XYZ654321", "5550001111", "8080"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

#[test]
fn oversize_and_broken_bodies_are_refused() {
    let huge = vec![b' '; MAX_BODY_BYTES + 1];
    let too_large = PortingCodecError::TooLarge {
        limit: MAX_BODY_BYTES,
    };
    assert_eq!(decode_callback(&huge).err(), Some(too_large.clone()));
    assert_eq!(decode_receipt(&huge).err(), Some(too_large.clone()));
    assert_eq!(decode_submit_port_in(&huge).err(), Some(too_large));
    assert_eq!(decode_callback(b"\xff"), Err(PortingCodecError::NotUtf8));
    assert_eq!(decode_callback(b"[1]"), Err(PortingCodecError::NotAnObject));
    assert!(matches!(
        decode_callback(b"{\"message_id\":"),
        Err(PortingCodecError::Malformed { .. })
    ));
    // A body just under the cap, padded with white space, still decodes.
    let mut padded = fixture("msg_locked");
    padded.resize(MAX_BODY_BYTES, b' ');
    assert!(decode_callback(&padded).is_ok());
}

/// A batch is its messages, each decoded as if it came alone and kept as its own text.
#[test]
fn the_batch_vector_is_its_messages() {
    let body = fixture("msg_batch");
    let got = decode_delivery(&body).expect("a batch");
    let alone = fixture("msg_cutover");
    let alone = std::str::from_utf8(&alone).expect("utf-8").trim_end();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].1, alone.as_bytes(), "the first message's own text");
    assert_eq!(
        got[0].0,
        decode_callback(alone.as_bytes()).expect("cutover")
    );
    let mut second = uk_msg("m-000131", 4, "2026-03-04T08:00:00Z", HubEvent::Cutover);
    second.port_ref = r("HUB-UK-000045");
    second.reference = Some(r("ord_11"));
    assert_eq!(got[1].0, second);
}

/// Every JSON example in `docs/porting-hub.md` is one of the vectors above, so the
/// document shows exactly what the codec sends and reads.
#[test]
fn the_protocol_document_shows_the_vectors() {
    let doc_path = format!("{}/../docs/porting-hub.md", env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(&doc_path).expect("docs/porting-hub.md");
    let dir = format!("{}/tests/fixtures/porting", env!("CARGO_MANIFEST_DIR"));
    let mut fixtures: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .filter_map(Result::ok)
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let body = std::fs::read(e.path()).expect("fixture");
            (name, value(&body))
        })
        .collect();
    let mut shown = 0;
    for block in doc.split("```json\n").skip(1) {
        let json = block.split("```").next().unwrap_or_default();
        let v: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
        let at = fixtures.iter().position(|(_, f)| *f == v);
        assert!(at.is_some(), "not a vector: {json}");
        fixtures.retain(|(_, f)| *f != v);
        shown += 1;
    }
    // Every vector but the unknown kind is shown.
    let left: Vec<&str> = fixtures.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(left, ["msg_unknown.json"], "{shown} shown");
}

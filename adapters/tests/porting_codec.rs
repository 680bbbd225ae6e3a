//! The porting hub codec: fixed wire vectors (`fixtures/porting/`, the same bodies as in
//! `docs/porting-hub.md`) both ways, strict decoding with errors that name the member and
//! never the value, round trips of every request and message kind, total decoders on
//! arbitrary and mutated bytes, and message freshness.

use adapters::porting::*;
use proptest::prelude::*;
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
        event,
    }
}

#[test]
fn message_vectors() {
    let mut accepted = uk_msg("m-000123", 1, "2026-03-02T09:15:00Z", HubEvent::Accepted);
    accepted.actor = Actor::Donor;
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

// ---- property tests ----

fn arb_ref() -> impl Strategy<Value = Ref> {
    "[!-~]{1,40}".prop_map(|s| r(&s))
}

fn arb_code() -> impl Strategy<Value = Code> {
    "[A-Za-z0-9_.-]{1,64}".prop_map(|s| Code::parse(&s, "t").expect("code"))
}

fn arb_time() -> impl Strategy<Value = UtcTime> {
    (0u64..=253_402_300_799_999).prop_map(|ms| UtcTime::from_unix_ms(ms).expect("time"))
}

fn arb_msisdn() -> impl Strategy<Value = Msisdn> {
    "[1-9][0-9]{6,14}".prop_map(|s| msisdn(&s))
}

fn arb_market() -> impl Strategy<Value = Market> {
    proptest::sample::select(Market::ALL.to_vec())
}

fn arb_reason() -> impl Strategy<Value = RejectReason> {
    prop_oneof![
        proptest::sample::select(RejectReason::KNOWN.to_vec()),
        arb_code().prop_map(RejectReason::from_code),
    ]
}

fn arb_credential() -> impl Strategy<Value = Option<Credential>> {
    proptest::option::of("[!-~]{1,64}".prop_map(|s| Credential::parse(&s, "t").expect("c")))
}

fn arb_account() -> impl Strategy<Value = Option<Account>> {
    proptest::option::of(("[!-~]{1,64}", "[0-9]{4,8}").prop_map(|(n, p)| Account {
        number: AccountNumber::parse(&n, "t").expect("number"),
        pin: AccountPin::parse(&p, "t").expect("pin"),
    }))
}

fn arb_submit() -> impl Strategy<Value = SubmitPortIn> {
    (
        (arb_ref(), arb_ref(), arb_market(), arb_msisdn()),
        (arb_ref(), arb_ref()),
        (
            arb_credential(),
            arb_account(),
            proptest::option::of(arb_time()),
        ),
    )
        .prop_map(
            |((request_id, reference, market, number), (donor, recipient), (c, a, at))| {
                SubmitPortIn {
                    request_id,
                    reference,
                    market,
                    number,
                    donor,
                    recipient,
                    credential: c,
                    account: a,
                    requested_at: at,
                }
            },
        )
}

fn arb_event() -> impl Strategy<Value = HubEvent> {
    let port_out = (
        (arb_market(), arb_msisdn(), arb_ref()),
        (arb_credential(), arb_account()),
        (arb_time(), arb_time()),
    )
        .prop_map(
            |((market, number, recipient), (credential, account), (at, by))| {
                HubEvent::PortOutRequest(Box::new(PortOutRequest {
                    market,
                    number,
                    recipient,
                    credential,
                    account,
                    requested_at: at,
                    respond_by: by,
                }))
            },
        );
    prop_oneof![
        Just(HubEvent::Accepted),
        arb_reason().prop_map(|reason| HubEvent::Rejected { reason }),
        arb_code().prop_map(|cause| HubEvent::Conflict { cause }),
        Just(HubEvent::Scheduled),
        Just(HubEvent::Locked),
        Just(HubEvent::Cutover),
        Just(HubEvent::Completed),
        Just(HubEvent::Cancelled),
        port_out,
        Just(HubEvent::CancelRequest),
        "x_[a-z_]{1,20}".prop_map(|k| HubEvent::Unknown(Code::parse(&k, "t").expect("kind"))),
    ]
}

fn arb_message() -> impl Strategy<Value = HubMessage> {
    (
        (arb_ref(), arb_ref(), 1u64..=u64::MAX, arb_time()),
        (
            proptest::sample::select(Actor::ALL.to_vec()),
            proptest::option::of(arb_ref()),
        ),
        (
            proptest::option::of(arb_time()),
            proptest::option::of(arb_time()),
        ),
        arb_event(),
        arb_time(),
    )
        .prop_map(
            |((message_id, port_ref, sequence, at), (actor, reference), (due, lock), event, d)| {
                // `scheduled` always carries its due time.
                let due_at = if event == HubEvent::Scheduled {
                    Some(due.unwrap_or(d))
                } else {
                    due
                };
                HubMessage {
                    message_id,
                    port_ref,
                    sequence,
                    at,
                    actor,
                    reference,
                    due_at,
                    lock_at: lock,
                    event,
                }
            },
        )
}

/// One encoded body of every request and answer kind.
fn arb_bodies() -> impl Strategy<Value = Vec<Vec<u8>>> {
    (
        arb_submit(),
        arb_message(),
        arb_ref(),
        arb_ref(),
        arb_time(),
        arb_reason(),
    )
        .prop_map(|(submit, msg, request_id, port_ref, at, reason)| {
            vec![
                encode_submit_port_in(&submit),
                encode_callback(&msg),
                encode_cancel(&CancelPort {
                    request_id: request_id.clone(),
                    port_ref: port_ref.clone(),
                }),
                encode_reschedule(&ReschedulePort {
                    request_id: request_id.clone(),
                    port_ref: port_ref.clone(),
                    requested_at: at,
                }),
                encode_answer_port_out(&AnswerPortOut {
                    request_id: request_id.clone(),
                    port_ref: port_ref.clone(),
                    decision: PortOutDecision::Reject(reason.clone()),
                }),
                encode_acknowledge(&Acknowledge {
                    request_id: request_id.clone(),
                    port_ref: port_ref.clone(),
                    message_id: request_id.clone(),
                }),
                encode_receipt(&Receipt {
                    request_id,
                    port_ref,
                }),
                encode_problem(&HubProblem {
                    code: HubErrorCode::Other(Code::parse(reason.as_str(), "t").expect("code")),
                    field: None,
                }),
            ]
        })
}

/// Runs every decoder on `body`; none may panic.
fn decode_all(body: &[u8]) {
    let _ = decode_submit_port_in(body);
    let _ = decode_cancel(body);
    let _ = decode_reschedule(body);
    let _ = decode_answer_port_out(body);
    let _ = decode_acknowledge(body);
    let _ = decode_receipt(body);
    let _ = decode_problem(body);
    let _ = decode_callback(body);
}

proptest! {
    #[test]
    fn submits_round_trip(req in arb_submit()) {
        prop_assert_eq!(decode_submit_port_in(&encode_submit_port_in(&req)), Ok(req));
    }

    #[test]
    fn messages_round_trip(msg in arb_message()) {
        prop_assert_eq!(decode_callback(&encode_callback(&msg)), Ok(msg));
    }

    #[test]
    fn port_operations_round_trip(request_id in arb_ref(), port_ref in arb_ref(), message_id in arb_ref(), at in arb_time(), reason in proptest::option::of(arb_reason())) {
        let cancel = CancelPort { request_id: request_id.clone(), port_ref: port_ref.clone() };
        prop_assert_eq!(decode_cancel(&encode_cancel(&cancel)), Ok(cancel));
        let reschedule = ReschedulePort { request_id: request_id.clone(), port_ref: port_ref.clone(), requested_at: at };
        prop_assert_eq!(decode_reschedule(&encode_reschedule(&reschedule)), Ok(reschedule));
        let decision = reason.map_or(PortOutDecision::Accept, PortOutDecision::Reject);
        let answer = AnswerPortOut { request_id: request_id.clone(), port_ref: port_ref.clone(), decision };
        prop_assert_eq!(decode_answer_port_out(&encode_answer_port_out(&answer)), Ok(answer));
        let ack = Acknowledge { request_id: request_id.clone(), port_ref: port_ref.clone(), message_id };
        prop_assert_eq!(decode_acknowledge(&encode_acknowledge(&ack)), Ok(ack));
        let receipt = Receipt { request_id, port_ref };
        prop_assert_eq!(decode_receipt(&encode_receipt(&receipt)), Ok(receipt));
    }

    #[test]
    fn problems_round_trip(code in arb_code(), field in proptest::option::of(arb_code())) {
        let p = HubProblem { code: HubErrorCode::from_code(code), field };
        prop_assert_eq!(decode_problem(&encode_problem(&p)), Ok(p));
    }

    #[test]
    fn times_round_trip(at in arb_time()) {
        prop_assert_eq!(UtcTime::parse(&at.to_string(), "at"), Ok(at));
    }

    #[test]
    fn decoders_are_total_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        decode_all(&bytes);
    }

    #[test]
    fn decoders_are_total_on_mutated_bodies(bodies in arb_bodies(), at in any::<usize>(), byte in any::<u8>(), cut in any::<usize>()) {
        for mut body in bodies {
            let i = at % body.len();
            body[i] = byte;
            body.truncate(cut % (body.len() + 1));
            decode_all(&body);
        }
    }

    #[test]
    fn errors_never_quote_a_secret(msg in arb_message(), submit in arb_submit(), at in any::<usize>(), byte in any::<u8>()) {
        let secrets: Vec<String> = [&submit.credential, &port_out_secret(&msg)]
            .into_iter()
            .flatten()
            .map(|c| c.expose().to_owned())
            .filter(|s| s.len() >= 6)
            .collect();
        for mut body in [encode_callback(&msg), encode_submit_port_in(&submit)] {
            let i = at % body.len();
            body[i] = byte;
            let errors = [decode_callback(&body).err(), decode_submit_port_in(&body).err()];
            for e in errors.into_iter().flatten() {
                let shown = format!("{e} {e:?}");
                for s in &secrets {
                    prop_assert!(!shown.contains(s.as_str()), "{} in {}", s, shown);
                }
            }
        }
    }

    /// Whatever order and repetition messages 1..=n arrive in, a receiver that applies
    /// only `New` ones applies an increasing run ending at n, and never one twice.
    #[test]
    fn freshness_applies_an_increasing_run(order in proptest::collection::vec(1u64..=12, 1..40)) {
        let mut last = None;
        let mut applied = Vec::new();
        for seq in &order {
            if freshness(last, *seq) == Freshness::New {
                applied.push(*seq);
                last = Some(*seq);
            } else {
                prop_assert!(last.is_some_and(|l| l >= *seq));
            }
        }
        prop_assert!(applied.windows(2).all(|w| w[0] < w[1]));
        prop_assert_eq!(last, order.iter().copied().max());
    }
}

fn port_out_secret(msg: &HubMessage) -> Option<Credential> {
    match &msg.event {
        HubEvent::PortOutRequest(p) => p.credential.clone(),
        _ => None,
    }
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

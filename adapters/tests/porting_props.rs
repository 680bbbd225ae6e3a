//! Property tests of the porting hub codec: round trips of every request, answer and
//! message kind, total decoders on arbitrary and mutated bytes, errors that never quote a
//! secret, and message freshness under any arrival order.

use adapters::porting::*;
use proptest::prelude::*;
use sim_profiles::Msisdn;

fn r(s: &str) -> Ref {
    Ref::parse(s, "test").expect("ref")
}

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
    "[1-9][0-9]{6,14}".prop_map(|s| s.parse().expect("msisdn"))
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
            proptest::option::of(arb_ref()),
        ),
        arb_event(),
        arb_time(),
    )
        .prop_map(
            |(
                (message_id, port_ref, sequence, at),
                (actor, reference),
                (due, lock, range_holder),
                event,
                d,
            )| {
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
                    range_holder,
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
                encode_batch(&[encode_callback(&msg), encode_callback(&msg)]),
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
                encode_return_number(&ReturnNumber {
                    request_id: request_id.clone(),
                    port_ref: port_ref.clone(),
                    number: submit.number.clone(),
                    range_holder: port_ref.clone(),
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

/// A range holder id distinct from the request id (any valid ref will do).
fn message_id_holder(request_id: &Ref) -> Ref {
    Ref::parse(&format!("RH-{}", request_id.as_str().len()), "t").expect("ref")
}

/// Runs every decoder on `body`; none may panic.
fn decode_all(body: &[u8]) {
    let _ = decode_submit_port_in(body);
    let _ = decode_cancel(body);
    let _ = decode_reschedule(body);
    let _ = decode_answer_port_out(body);
    let _ = decode_acknowledge(body);
    let _ = decode_return_number(body);
    let _ = decode_receipt(body);
    let _ = decode_problem(body);
    let _ = decode_callback(body);
    let _ = decode_delivery(body);
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
    fn batches_round_trip(msgs in proptest::collection::vec(arb_message(), 1..8)) {
        let bodies: Vec<Vec<u8>> = msgs.iter().map(encode_callback).collect();
        let batch = encode_batch(&bodies);
        prop_assert_eq!(batch.len(), batch_len(bodies.iter().map(Vec::len)));
        let got = decode_delivery(&batch).expect("a batch decodes");
        prop_assert_eq!(got.len(), msgs.len());
        for ((m, raw), (want, body)) in got.into_iter().zip(msgs.iter().zip(&bodies)) {
            prop_assert_eq!(&m, want);
            prop_assert_eq!(raw, body.as_slice());
        }
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
        let number: sim_profiles::Msisdn = "447700900123".parse().expect("msisdn");
        let give_back = ReturnNumber { request_id: request_id.clone(), port_ref: port_ref.clone(), number, range_holder: message_id_holder(&request_id) };
        prop_assert_eq!(decode_return_number(&encode_return_number(&give_back)), Ok(give_back));
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

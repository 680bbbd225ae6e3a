use super::super::{Action, Attempt, FIXTURE_POLICY as POLICY, at, fixture_order, next_action};
use super::*;
use crate::store::OrderCompliance;
use adapters::identity::{Code, Token, Unavailable};
use proptest::prelude::*;
use std::time::Duration;

const WINDOW: u64 = 10_000;

fn terms(required: bool, flag_reverifies: bool) -> VerifyTerms {
    VerifyTerms {
        required,
        evidence_required: true,
        manual_capture_allowed: false,
        flag_reverifies,
    }
}

/// A fresh physical order whose create commit asked for a verification.
fn order_with(terms: Option<VerifyTerms>) -> Order {
    let mut o = fixture_order();
    o.compliance = Some(OrderCompliance {
        enterprise: "t".into(),
        id_hash: Some("k1:00".into()),
        policy_version: "cn.v1".into(),
        risk: Vec::new(),
        verify: terms,
        reverify_after_ms: 24 * 3_600_000,
        line: None,
        handset: None,
    });
    o
}

fn order() -> Order {
    order_with(Some(terms(true, true)))
}

fn answer(verdict: Verdict) -> Result<VerificationResponse, IdentityError> {
    Ok(VerificationResponse {
        request_id: Token::parse("act_x-idv", "request_id").expect("token"),
        verdict,
        verification_id: Some(Token::parse("v-1", "verification_id").expect("token")),
    })
}

fn flag(code: &str) -> Verdict {
    Verdict::Flag(Code::parse(code, "code").expect("code"))
}

fn timeout() -> Result<VerificationResponse, IdentityError> {
    Err(IdentityError::Unavailable(Unavailable::Timeout))
}

fn code(o: &Order) -> Option<&str> {
    o.error.as_ref().map(|e| e.code.as_str())
}

fn identity(o: &Order) -> &IdentityStep {
    o.identity.as_ref().expect("identity step")
}

#[test]
fn an_order_without_terms_goes_straight_to_the_hlr() {
    assert_eq!(
        next_action(&fixture_order(), 0),
        Action::Provision { attempt: 1 }
    );
    assert_eq!(
        next_action(&order_with(None), 0),
        Action::Provision { attempt: 1 }
    );
}

#[test]
fn pass_is_recorded_before_the_hlr_step() {
    let o = order();
    assert_eq!(next_action(&o, 0), Action::Verify { attempt: 1 });
    let o = begin_verify(o, 1, 10, WINDOW);
    // Not a version of its own: the answer's commit records the attempt.
    assert_eq!((o.status, o.version), (OrderStatus::Reserved, 1));
    let step = identity(&o);
    assert_eq!(
        (step.status, &step.step, step.attempts, step.deadline_ms),
        (
            IdentityStatus::Pending,
            &Step::Sent { attempt: 1 },
            1,
            Some(10 + WINDOW)
        )
    );
    assert_eq!(step.request_id, "act_x-idv");
    let (o, eff) = on_verify(o, at(1, 20), answer(Verdict::Pass), CallAhead::NotMade);
    assert_eq!(eff, Effect::None);
    assert_eq!(o.version, 2, "one write: the attempt and its answer");
    let step = identity(&o);
    assert_eq!(step.status, IdentityStatus::Passed);
    assert_eq!(step.attempts, 1);
    assert_eq!(step.verification_id.as_deref(), Some("v-1"));
    assert_eq!(o.hlr, Step::Pending);
    assert_eq!(next_action(&o, 30), Action::Provision { attempt: 1 });
    assert!(identity_concluded(&o), "a pass lets the order go on");
}

#[test]
fn only_a_decision_that_lets_the_order_go_on_concludes() {
    let o = order();
    assert!(!identity_concluded(&o), "not asked yet");
    let sent = begin_verify(o, 1, 0, WINDOW);
    assert!(!identity_concluded(&sent), "in flight");
    let (flagged, _) = on_verify(
        sent.clone(),
        at(1, 5),
        answer(flag("x")),
        CallAhead::NotMade,
    );
    assert!(identity_concluded(&flagged));
    let (rejected, eff) = on_verify(
        sent,
        at(1, 5),
        answer(Verdict::Reject(RejectCode::IdentityMismatch)),
        CallAhead::NotMade,
    );
    assert_eq!(eff, Effect::Release);
    assert!(!identity_concluded(&rejected));
    let mut plain = fixture_order();
    plain.identity = Some(IdentityStep {
        status: IdentityStatus::Passed,
        ..IdentityStep::pending("act_x")
    });
    assert!(!identity_concluded(&plain), "no terms: nothing was asked");
}

#[test]
fn flag_goes_on_and_records_the_reason_and_the_re_verification() {
    for reverifies in [true, false] {
        let o = begin_verify(order_with(Some(terms(true, reverifies))), 1, 0, WINDOW);
        let (o, eff) = on_verify(
            o,
            at(1, 1),
            answer(flag("watchlist_near_match")),
            CallAhead::NotMade,
        );
        assert_eq!(eff, Effect::None);
        let step = identity(&o);
        assert_eq!(step.status, IdentityStatus::Flagged);
        assert_eq!(step.code.as_deref(), Some("watchlist_near_match"));
        assert_eq!(step.reverify, reverifies);
        assert_eq!(o.identity_reverify(), reverifies);
        assert_eq!(o.error, None);
        assert_eq!(next_action(&o, 2), Action::Provision { attempt: 1 });
    }
}

/// An order as its create commit writes it when the verifier was asked before the commit.
fn created_with(step: Option<IdentityStep>, reverifies: bool) -> Order {
    let mut o = order_with(Some(terms(true, reverifies)));
    o.identity = step;
    o
}

#[test]
fn a_decision_before_the_create_commit_is_the_order_s_and_the_hlr_call_rides_on_the_create() {
    let ok = |v: Verdict| answer(v).expect("an answer");
    // A pass: concluded as attempt 1, and the create commit sends the HLR call ahead.
    let step = decided_before_create("act_x", ok(Verdict::Pass), &terms(true, true))
        .expect("a pass goes on");
    assert_eq!(
        (step.status, step.attempts, step.request_id.as_str()),
        (IdentityStatus::Passed, 1, "act_x-idv")
    );
    assert_eq!(step.verification_id.as_deref(), Some("v-1"));
    let o = created_with(Some(step), true);
    assert!(identity_concluded(&o));
    assert_eq!(next_action(&o, 0), Action::Provision { attempt: 1 });
    let ahead = super::super::mark_next_sent(o, 0);
    assert_eq!(
        (ahead.hlr.clone(), ahead.version),
        (Step::Sent { attempt: 1 }, 1)
    );
    // A flag: goes on, re-verified as the terms say.
    for reverifies in [true, false] {
        let flagged = decided_before_create(
            "act_x",
            ok(flag("watchlist_near_match")),
            &terms(true, reverifies),
        )
        .expect("a flag goes on");
        assert_eq!(flagged.status, IdentityStatus::Flagged);
        assert_eq!(flagged.code.as_deref(), Some("watchlist_near_match"));
        let o = created_with(Some(flagged), reverifies);
        assert_eq!(o.identity_reverify(), reverifies);
        assert_eq!(next_action(&o, 0), Action::Provision { attempt: 1 });
    }
    // A reject is left to the engine: the order is created unverified and asks again.
    for code_ in RejectCode::ALL {
        assert_eq!(
            decided_before_create("act_x", ok(Verdict::Reject(code_)), &terms(true, true)),
            None,
            "{code_:?}"
        );
    }
    let o = created_with(None, true);
    assert_eq!(next_action(&o, 0), Action::Verify { attempt: 1 });
}

/// A physical order created unverified, as its create commit writes it: its HLR call
/// recorded ahead of the verification.
fn created_unverified() -> Order {
    super::super::mark_next_sent(order(), 0)
}

#[test]
fn an_unverified_physical_order_is_created_with_its_hlr_call_recorded_after_the_verification() {
    let o = created_unverified();
    assert_eq!(
        (o.status, o.hlr.clone(), o.version),
        (OrderStatus::Reserved, Step::Sent { attempt: 1 }, 1),
        "recorded in the create commit's version, nothing made yet"
    );
    // The verification still comes first, and the driver has no call to make before it.
    assert_eq!(next_action(&o, 0), Action::Verify { attempt: 1 });
    assert_eq!(super::super::sent_ahead(&o, 0), None);
    // A pass: the recorded call is the one to make now, with no write of its own.
    let stored = o.version;
    let (mut passed, eff) = on_verify(
        begin_verify(o, 1, 1, WINDOW),
        at(1, 2),
        answer(Verdict::Pass),
        CallAhead::NotMade,
    );
    assert_eq!(eff, Effect::None);
    passed.version = stored;
    assert_eq!(passed.status, OrderStatus::HlrProvisioning);
    assert_eq!(
        super::super::sent_ahead(&passed, 2),
        Some(Action::Provision { attempt: 1 })
    );
    // Read back after a restart instead, the record is a call cut short: a new attempt.
    assert_eq!(next_action(&passed, 2), Action::Provision { attempt: 2 });
    // A flag goes on the same way.
    let (flagged, _) = on_verify(
        begin_verify(created_unverified(), 1, 1, WINDOW),
        at(1, 2),
        answer(flag("risk")),
        CallAhead::MaybeMade,
    );
    assert_eq!(
        (flagged.status, &flagged.hlr),
        (OrderStatus::HlrProvisioning, &Step::Sent { attempt: 1 })
    );
    // A retry wait keeps the record, and a pass after it goes on as above.
    let (waiting, eff) = on_verify(
        begin_verify(created_unverified(), 1, 1, WINDOW),
        Attempt::new(1, &POLICY, u32::MAX, 1),
        timeout(),
        CallAhead::NotMade,
    );
    assert_eq!(
        (waiting.status, &waiting.hlr, eff),
        (
            OrderStatus::Reserved,
            &Step::Sent { attempt: 1 },
            Effect::None
        )
    );
    assert_eq!(super::super::mark_next_sent(waiting.clone(), 1), waiting);
}

#[test]
fn only_a_physical_activation_records_its_hlr_call_ahead_of_the_verification() {
    let mut esim = order();
    esim.esim = Some(crate::order::EsimOrder::new(
        "T".into(),
        None,
        "AAAA-BBBB".into(),
        None,
    ));
    let marked = super::super::mark_next_sent(esim.clone(), 0);
    assert_eq!(marked, esim, "an eSIM order's first call is the SM-DP+'s");
    // Decided before the create commit: the call is recorded unconditionally, as always.
    let decided = decided_before_create(
        "act_x",
        answer(Verdict::Pass).expect("ok"),
        &terms(true, true),
    );
    let o = super::super::mark_next_sent(created_with(decided, true), 0);
    assert_eq!(
        (o.status, o.hlr),
        (OrderStatus::HlrProvisioning, Step::Sent { attempt: 1 })
    );
    // No verification asked: the call is simply the first.
    let plain = super::super::mark_next_sent(fixture_order(), 0);
    assert_eq!(plain.status, OrderStatus::HlrProvisioning);
}

#[test]
fn a_refusal_takes_back_a_call_not_made_and_undoes_one_that_may_have_been() {
    type Refusal = fn(Order, CallAhead) -> (Order, Effect);
    let refusals: [(&str, Refusal); 5] = [
        ("reject", |o, a| {
            let o = begin_verify(o, 1, 1, WINDOW);
            on_verify(
                o,
                at(1, 2),
                answer(Verdict::Reject(RejectCode::IdentityMismatch)),
                a,
            )
        }),
        ("unavailable", |o, a| {
            let o = begin_verify(o, 1, 1, 0);
            on_verify(o, at(1, 2), timeout(), a)
        }),
        ("refused", |o, a| {
            let o = begin_verify(o, 1, 1, WINDOW);
            on_verify(o, at(1, 2), Err(IdentityError::Refused { status: 403 }), a)
        }),
        ("no verifier", |o, a| on_no_verifier(o, 2, a)),
        ("unsendable", |o, a| {
            on_unsendable(o, 2, "`subscriber.name`", a)
        }),
    ];
    for (name, refuse) in refusals {
        // Held since the create commit: nothing was made, the order fails at once.
        let (o, eff) = refuse(created_unverified(), CallAhead::NotMade);
        assert_eq!(
            (o.status, eff),
            (OrderStatus::Failed, Effect::Release),
            "{name}"
        );
        assert_eq!((&o.hlr, &o.undo), (&Step::Pending, &None), "{name}");
        let detail = &o.error.as_ref().expect("error").detail;
        assert!(
            detail.contains("nothing was provisioned"),
            "{name}: {detail}"
        );
        // Read back: the call may have been made; it is undone before the order fails.
        let (o, eff) = refuse(created_unverified(), CallAhead::MaybeMade);
        assert_eq!(
            (o.status, eff),
            (OrderStatus::Compensating, Effect::None),
            "{name}"
        );
        assert!(
            matches!(o.hlr, Step::Failed { attempt: 1, .. }),
            "{name}: {:?}",
            o.hlr
        );
        let code_ = code(&o).expect("code").to_owned();
        let detail = &o.error.as_ref().expect("error").detail;
        assert!(detail.contains("is being removed"), "{name}: {detail}");
        assert!(
            !detail.contains("nothing was provisioned"),
            "{name}: {detail}"
        );
        assert_eq!(
            next_action(&o, 3),
            Action::Deprovision { attempt: 1 },
            "{name}"
        );
        let undo = super::super::mark_undo_sent(o, 1, 3);
        let (o, eff) = super::super::on_deprovision(
            undo,
            at(1, 4),
            Ok(adapters::hlr::DeprovisionOutcome::NotPresent),
        );
        assert_eq!(
            (o.status, eff),
            (OrderStatus::Failed, Effect::Release),
            "{name}"
        );
        assert_eq!(
            code(&o),
            Some(code_.as_str()),
            "{name}: the refusal's code stays"
        );
    }
    // With no call recorded, whoever holds the order: it fails at once.
    let (o, eff) = on_verify(
        begin_verify(order(), 1, 1, WINDOW),
        at(1, 2),
        answer(Verdict::Reject(RejectCode::IdExpired)),
        CallAhead::MaybeMade,
    );
    assert_eq!(
        (o.status, eff, o.hlr),
        (OrderStatus::Failed, Effect::Release, Step::Pending)
    );
}

#[test]
fn every_reject_fails_the_order_with_its_code_and_provisions_nothing() {
    for code_ in RejectCode::ALL {
        let o = begin_verify(order(), 1, 0, WINDOW);
        let (o, eff) = on_verify(
            o,
            at(1, 1),
            answer(Verdict::Reject(code_)),
            CallAhead::NotMade,
        );
        assert_eq!((o.status, eff), (OrderStatus::Failed, Effect::Release));
        assert_eq!(code(&o), Some(code_.as_str()));
        assert_eq!(identity(&o).status, IdentityStatus::Rejected);
        assert_eq!(identity(&o).code.as_deref(), Some(code_.as_str()));
        assert_eq!((o.hlr.clone(), o.undo.clone()), (Step::Pending, None));
        assert!(!o.needs_attention);
        assert_eq!(next_action(&o, 2), Action::Finished);
    }
}

#[test]
fn an_esim_reject_leaves_nothing_at_the_smdp() {
    let mut o = order();
    o.esim = Some(crate::order::EsimOrder::new(
        "T".into(),
        None,
        "AAAA-BBBB".into(),
        None,
    ));
    assert_eq!(next_action(&o, 0), Action::Verify { attempt: 1 });
    let o = begin_verify(o, 1, 0, WINDOW);
    let (o, eff) = on_verify(
        o,
        at(1, 1),
        answer(Verdict::Reject(RejectCode::FaceCheckFailed)),
        CallAhead::NotMade,
    );
    assert_eq!((o.status, eff), (OrderStatus::Failed, Effect::Release));
    let e = o.esim.as_ref().expect("esim");
    assert_eq!(
        (&e.download, &e.cancel, e.fate),
        (&Step::Pending, &None, None)
    );
}

#[test]
fn unavailable_retries_with_backoff_then_fails_past_the_budget() {
    let mut o = order();
    for attempt in 1..POLICY.max_attempts {
        assert_eq!(next_action(&o, u64::MAX - 1), Action::Verify { attempt });
        let now = u64::from(attempt) * 10;
        let (next, eff) = on_verify(
            begin_verify(o, attempt, now, WINDOW),
            Attempt::new(attempt, &POLICY, u32::MAX, now),
            timeout(),
            CallAhead::NotMade,
        );
        assert_eq!(eff, Effect::None);
        let Step::RetryWait { retry_at_ms, .. } = identity(&next).step else {
            panic!("not waiting: {:?}", next.identity)
        };
        assert_eq!(retry_at_ms, now + POLICY.delay_ms(attempt, u32::MAX));
        assert_eq!(
            next_action(&next, retry_at_ms - 1),
            Action::WaitUntil(retry_at_ms)
        );
        assert_eq!(
            identity(&next).deadline_ms,
            Some(10 + WINDOW),
            "fixed at first"
        );
        o = next;
    }
    let last = POLICY.max_attempts;
    let (o, eff) = on_verify(
        begin_verify(o, last, 500, WINDOW),
        at(last, 501),
        timeout(),
        CallAhead::NotMade,
    );
    assert_eq!((o.status, eff), (OrderStatus::Failed, Effect::Release));
    assert_eq!(code(&o), Some(UNAVAILABLE));
    assert_eq!(identity(&o).status, IdentityStatus::Unavailable);
    assert!(matches!(identity(&o).step, Step::Failed { attempt, .. } if attempt == last));
    assert_eq!(o.hlr, Step::Pending);
}

#[test]
fn no_retry_is_started_past_the_stored_deadline() {
    // The first attempt fixes the deadline at 0 + 150; a retry due later is not started.
    let o = begin_verify(order(), 1, 0, 150);
    let (o, _) = on_verify(
        o,
        Attempt::new(1, &POLICY, u32::MAX, 0),
        timeout(),
        CallAhead::NotMade,
    );
    assert!(matches!(
        identity(&o).step,
        Step::RetryWait {
            retry_at_ms: 100,
            ..
        }
    ));
    // A restart much later keeps the stored deadline, whatever window it is given now.
    let o = begin_verify(o, 2, 100, 1_000_000);
    assert_eq!(identity(&o).deadline_ms, Some(150));
    let (o, eff) = on_verify(
        o,
        Attempt::new(2, &POLICY, u32::MAX, 100),
        timeout(),
        CallAhead::NotMade,
    );
    assert_eq!((o.status, eff), (OrderStatus::Failed, Effect::Release));
    assert_eq!(code(&o), Some(UNAVAILABLE));
}

#[test]
fn retry_after_stretches_the_backoff() {
    let busy = Err(IdentityError::Unavailable(Unavailable::Status {
        status: 429,
        retry_after: Some(Duration::from_secs(2)),
    }));
    let (o, _) = on_verify(
        begin_verify(order(), 1, 0, WINDOW),
        at(1, 0),
        busy,
        CallAhead::NotMade,
    );
    assert!(matches!(
        identity(&o).step,
        Step::RetryWait {
            retry_at_ms: 2_000,
            ..
        }
    ));
}

#[test]
fn a_permanent_error_fails_at_once() {
    for e in [
        IdentityError::Refused { status: 401 },
        IdentityError::Tls("certificate not trusted".into()),
        IdentityError::UnexpectedStatus { status: 302 },
    ] {
        let o = begin_verify(order(), 1, 0, WINDOW);
        let (o, eff) = on_verify(o, at(1, 1), Err(e.clone()), CallAhead::NotMade);
        assert_eq!(
            (o.status, eff),
            (OrderStatus::Failed, Effect::Release),
            "{e}"
        );
        assert_eq!(code(&o), Some(UNAVAILABLE));
        assert!(
            o.error
                .as_ref()
                .is_some_and(|e| e.detail.contains("[identity]"))
        );
    }
}

#[test]
fn a_call_cut_by_a_crash_is_repeated_as_the_same_request() {
    let o = begin_verify(order(), 1, 0, WINDOW);
    assert_eq!(next_action(&o, 5), Action::Verify { attempt: 2 });
    let again = begin_verify(o.clone(), 2, 5, WINDOW);
    assert_eq!(identity(&again).request_id, identity(&o).request_id);
    assert_eq!(identity(&again).deadline_ms, Some(WINDOW));
}

#[test]
fn without_a_verifier_a_required_check_fails_and_an_optional_one_is_skipped() {
    let (o, eff) = on_no_verifier(order_with(Some(terms(true, true))), 1, CallAhead::NotMade);
    assert_eq!((o.status, eff), (OrderStatus::Failed, Effect::Release));
    assert_eq!(code(&o), Some(UNAVAILABLE));
    let (o, eff) = on_no_verifier(order_with(Some(terms(false, true))), 1, CallAhead::NotMade);
    assert_eq!((o.status, eff), (OrderStatus::Reserved, Effect::None));
    assert_eq!(identity(&o).status, IdentityStatus::Skipped);
    assert_eq!(next_action(&o, 2), Action::Provision { attempt: 1 });
}

#[test]
fn an_unsendable_subscriber_fails_naming_the_field() {
    let (o, eff) = on_unsendable(
        order(),
        1,
        "`subscriber.capture.reader_serial`: invalid value",
        CallAhead::NotMade,
    );
    assert_eq!((o.status, eff), (OrderStatus::Failed, Effect::Release));
    assert_eq!(code(&o), Some(UNSENDABLE));
    assert_eq!(identity(&o).status, IdentityStatus::Unsendable);
    assert!(
        o.error
            .as_ref()
            .is_some_and(|e| e.detail.contains("reader_serial"))
    );
}

/// One scripted verifier answer.
#[derive(Clone, Debug)]
enum Answer {
    Pass,
    Flag,
    Reject(usize),
    Unavailable,
    Refused,
}

fn any_answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        Just(Answer::Pass),
        Just(Answer::Flag),
        (0..RejectCode::ALL.len()).prop_map(Answer::Reject),
        Just(Answer::Unavailable),
        Just(Answer::Unavailable),
        Just(Answer::Refused),
    ]
}

fn result_of(a: &Answer) -> Result<VerificationResponse, IdentityError> {
    match a {
        Answer::Pass => answer(Verdict::Pass),
        Answer::Flag => answer(flag("risk")),
        Answer::Reject(i) => answer(Verdict::Reject(RejectCode::ALL[*i])),
        Answer::Unavailable => timeout(),
        Answer::Refused => Err(IdentityError::Refused { status: 403 }),
    }
}

proptest! {
    /// Whatever the verifier answers: nothing goes southbound before a pass or a flag, the
    /// request id never changes, the order fails only with a verifier code or
    /// `identity_service_unavailable` (and then releases its inventory at once), and the
    /// verification ends within the retry budget.
    #[test]
    fn nothing_southbound_before_a_decision_and_it_always_ends(
        script in proptest::collection::vec(any_answer(), 1..20),
        window in 0u64..5_000,
        jitter in any::<u32>(),
        recorded in any::<bool>(),
        made in any::<bool>(),
    ) {
        // Created with or without the HLR call recorded ahead of the verification, held
        // since then by the driver or read back.
        let mut o = if recorded { created_unverified() } else { order() };
        let ahead = if made { CallAhead::MaybeMade } else { CallAhead::NotMade };
        let mut now = 0;
        let mut calls = 0u32;
        for a in &script {
            let attempt = match next_action(&o, now) {
                Action::Verify { attempt } => attempt,
                Action::WaitUntil(t) => {
                    now = t;
                    match next_action(&o, now) {
                        Action::Verify { attempt } => attempt,
                        other => panic!("after the wait: {other:?}"),
                    }
                }
                _ => break,
            };
            calls += 1;
            prop_assert_eq!(attempt, calls);
            let sent = begin_verify(o, attempt, now, window);
            prop_assert_eq!(identity(&sent).request_id.as_str(), "act_x-idv");
            let (next, eff) = on_verify(sent, Attempt::new(attempt, &POLICY, jitter, now), result_of(a), ahead);
            let decided = matches!(identity(&next).status, IdentityStatus::Passed | IdentityStatus::Flagged);
            prop_assert_eq!(decided, matches!(a, Answer::Pass | Answer::Flag));
            // Nothing is made before a decision: the HLR step is as created until then.
            if !decided && next.status != OrderStatus::Compensating {
                let want = if recorded && next.status != OrderStatus::Failed {
                    Step::Sent { attempt: 1 }
                } else {
                    Step::Pending
                };
                prop_assert_eq!(&next.hlr, &want);
            }
            match (next.status, &eff) {
                (OrderStatus::Failed, Effect::Release) => {
                    prop_assert!(!(recorded && made), "a call that may have been made is undone first");
                    let c = code(&next).unwrap_or_default();
                    prop_assert!(c == UNAVAILABLE || RejectCode::from_wire(c).is_some(), "{}", c);
                    prop_assert!(matches!(a, Answer::Reject(_) | Answer::Unavailable | Answer::Refused));
                }
                (OrderStatus::Compensating, Effect::None) => {
                    prop_assert!(recorded && made);
                    prop_assert!(matches!(a, Answer::Reject(_) | Answer::Unavailable | Answer::Refused));
                    prop_assert_eq!(next_action(&next, now), Action::Deprovision { attempt: 1 });
                    break;
                }
                (OrderStatus::Reserved, Effect::None) => prop_assert_eq!(code(&next), None),
                (OrderStatus::HlrProvisioning, Effect::None) => prop_assert!(decided && recorded),
                other => prop_assert!(false, "unexpected {:?}", other),
            }
            if decided {
                let n = if recorded { 2 } else { 1 };
                prop_assert_eq!(next_action(&next, now), Action::Provision { attempt: n });
            }
            o = next;
        }
        prop_assert!(calls <= POLICY.max_attempts);
    }
}

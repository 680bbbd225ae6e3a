//! A ConfirmOrder repeat refused as if done, or a reservation found lost: the order is
//! active only on evidence (a ConfirmOrder or ReleaseProfile success), re-reserves a
//! profile that is Available again, and is flagged where no answer tells.

use super::*;
use proptest::prelude::*;

/// One scripted SM-DP+ answer; `Ok` carries no data (the code is ours).
type Answer = Result<(), Es2Failure>;

const ISSUED: &str = "1$SMDP.FROM.ANSWER$AAAA-BBBB";

fn rejected_4xx() -> Es2Failure {
    Es2Failure {
        retryable: false,
        codes: None,
        message: "ES2+ request rejected with HTTP status 404".into(),
    }
}

/// An order whose profile is reserved and whose subscriber is on the HLR.
fn releasing() -> Order {
    provisioned(download(order(), 1, Ok(())).0)
}

/// Applies one answer to the action the machine asks for at `now`; `None` when the order
/// wants no ES2+ forward call (active, compensating, or an HLR step).
fn step(o: Order, answer: &Answer, now: u64) -> Option<(Order, Es2Call, Effect)> {
    if o.status != OrderStatus::EsimReleasing {
        return None;
    }
    let Action::Es2 { call, attempt } = next_action(&o, u64::MAX) else {
        return None;
    };
    let sent = mark_es2_sent(o, call, attempt, now);
    let (o, eff) = match call {
        Es2Call::Confirm => on_confirm(
            sent,
            at(attempt, now),
            answer.clone().map(|()| ISSUED.to_owned()),
            &terms(),
        ),
        Es2Call::Release => on_release_check(sent, at(attempt, now), answer.clone(), &terms()),
        Es2Call::Reorder => on_reorder(sent, at(attempt, now), answer.clone()),
        other => panic!("unexpected forward call {other:?}"),
    };
    Some((o, call, eff))
}

/// Runs `script` (the call each answer is for, and the answer) from a releasing order.
fn run(script: &[(Es2Call, Answer)]) -> (Order, Effect) {
    let mut o = releasing();
    let mut eff = Effect::None;
    for (n, (want, answer)) in script.iter().enumerate() {
        let (next, call, e) = step(o.clone(), answer, 10 + n as u64)
            .unwrap_or_else(|| panic!("step {n}: no ES2+ call wanted: {o:?}"));
        assert_eq!(call, *want, "step {n}");
        (o, eff) = (next, e);
    }
    (o, eff)
}

fn confirm_outcome(o: &Order) -> Option<&str> {
    match o.esim.as_ref().map(|e| &e.confirm) {
        Some(Step::Done { outcome }) => Some(outcome),
        _ => None,
    }
}

fn code(o: &Order) -> Option<&str> {
    o.esim.as_ref().and_then(|e| e.activation_code.as_deref())
}

use Es2Call::{Confirm, Release, Reorder};

#[test]
fn a_replayed_release_is_published_only_once_release_profile_proves_it() {
    for (s, r) in [("8.2.6", "3.3"), ("8.2.1", "3.5")] {
        // The repeat alone changes nothing visible: the confirm is held for verification.
        let (held, eff) = run(&[(Confirm, Err(lost())), (Confirm, Err(refused(s, r)))]);
        assert_eq!(
            (held.status, eff),
            (OrderStatus::EsimReleasing, Effect::None),
            "{s}/{r}"
        );
        assert_eq!(code(&held), None, "{s}/{r}");
        assert_eq!(
            next_action(&held, 0),
            Action::Es2 {
                call: Release,
                attempt: 1
            },
            "{s}/{r}"
        );
        let (o, eff) = run(&[
            (Confirm, Err(lost())),
            (Confirm, Err(refused(s, r))),
            (Release, Ok(())),
        ]);
        assert_eq!(
            (o.status, eff),
            (OrderStatus::Active, Effect::Activate),
            "{s}/{r}"
        );
        assert_eq!(confirm_outcome(&o), Some("released_by_earlier_attempt"));
        assert_eq!(code(&o), Some(REPLAYED));
        assert!(o.esim.as_ref().is_some_and(|e| e.expires_at_ms.is_some()));
        assert!(!o.needs_attention);
    }
}

#[test]
fn a_lost_reservation_is_made_anew_and_confirmed_again() {
    let (o, eff) = run(&[
        (Confirm, Err(lost())),
        (Confirm, Err(refused("8.2.1", "3.5"))),
        (Release, Err(refused("8.2.1", "3.5"))),
        (Reorder, Ok(())),
        (Confirm, Ok(())),
    ]);
    assert_eq!((o.status, eff), (OrderStatus::Active, Effect::Activate));
    assert_eq!(confirm_outcome(&o), Some("released"));
    assert_eq!(code(&o), Some(ISSUED));
    let e = o.esim.as_ref().expect("esim");
    assert_eq!((e.reorders, e.confirm_from), (1, 2));
    // On the first attempt of a reservation, 3.5 cannot be a replay: no ReleaseProfile.
    let (o, eff) = run(&[
        (Confirm, Err(refused("8.2.1", "3.5"))),
        (Reorder, Ok(())),
        (Confirm, Ok(())),
    ]);
    assert_eq!((o.status, eff), (OrderStatus::Active, Effect::Activate));
    // An SM-DP+ without ReleaseProfile (HTTP 404) gives no evidence: re-reserve decides.
    let (o, _) = run(&[
        (Confirm, Err(lost())),
        (Confirm, Err(refused("8.2.1", "3.5"))),
        (Release, Err(rejected_4xx())),
        (Reorder, Ok(())),
        (Confirm, Ok(())),
    ]);
    assert_eq!(o.status, OrderStatus::Active);
    // A re-reservation whose answer was lost: 3.3 on its repeat may be ours; the confirm
    // that follows decides.
    let (o, _) = run(&[
        (Confirm, Err(refused("8.2.1", "3.5"))),
        (Reorder, Err(lost())),
        (Reorder, Err(refused("8.2.1", "3.3"))),
        (Confirm, Ok(())),
    ]);
    assert_eq!(o.status, OrderStatus::Active);
}

/// Asserts `o` failed as unverified: compensating, flagged, profile retired and cancelled.
fn assert_unverified(o: &Order, label: &str) {
    assert_eq!(o.status, OrderStatus::Compensating, "{label}");
    assert_eq!(
        o.error.as_ref().map(|e| e.code.as_str()),
        Some("esim_release_unverified"),
        "{label}"
    );
    assert!(o.needs_attention, "{label}");
    assert_eq!(
        o.attention,
        [AttentionReason::EsimReleaseUnverified],
        "{label}"
    );
    let e = o.esim.as_ref().expect("esim");
    assert_eq!(e.fate, Some(ProfileFate::Retire), "{label}");
    assert_eq!(e.activation_code, None, "{label}");
    assert!(
        matches!(e.confirm, Step::Failed { .. }),
        "{label}: {:?}",
        e.confirm
    );
    assert_eq!(
        next_action(o, 0),
        Action::Es2 {
            call: Es2Call::Cancel,
            attempt: 1
        },
        "{label}"
    );
}

#[test]
fn where_no_answer_tells_the_order_is_flagged_never_active() {
    // Neither released (ReleaseProfile 3.5) nor available (DownloadOrder 3.3).
    let (o, _) = run(&[
        (Confirm, Err(lost())),
        (Confirm, Err(refused("8.2.1", "3.5"))),
        (Release, Err(refused("8.2.1", "3.5"))),
        (Reorder, Err(refused("8.2.1", "3.3"))),
    ]);
    assert_unverified(&o, "released nor available");
    // The confirm after a doubtful re-reservation finds it gone again: another round.
    let (o, _) = run(&[
        (Confirm, Err(refused("8.2.1", "3.5"))),
        (Reorder, Err(lost())),
        (Reorder, Err(refused("8.2.1", "3.3"))),
        (Confirm, Err(refused("8.2.1", "3.5"))),
        (Reorder, Err(refused("8.2.1", "3.3"))),
    ]);
    assert_unverified(&o, "second round");
    // A peer that keeps losing the reservation: re-reserved at most MAX_REORDERS times.
    let mut script = vec![(Confirm, Err(refused("8.2.1", "3.5")))];
    for _ in 0..MAX_REORDERS {
        script.push((Reorder, Ok(())));
        script.push((Confirm, Err(refused("8.2.1", "3.5"))));
    }
    let (o, _) = run(&script);
    assert_unverified(&o, "bounded");
    assert_eq!(o.esim.as_ref().map(|e| e.reorders), Some(MAX_REORDERS));
}

#[test]
fn a_silent_or_refusing_smdp_during_verification_undoes_the_order() {
    // ReleaseProfile never answers: the profile may be released for us; cancel it back.
    let mut script = vec![
        (Confirm, Err(lost())),
        (Confirm, Err(refused("8.2.1", "3.5"))),
    ];
    script.extend((0..POLICY.max_attempts).map(|_| (Release, Err(lost()))));
    let (o, _) = run(&script);
    assert_eq!(o.status, OrderStatus::Compensating);
    assert_eq!(
        o.error.as_ref().map(|e| e.code.as_str()),
        Some("smdp_unavailable")
    );
    assert_eq!(
        o.esim.as_ref().and_then(|e| e.fate),
        Some(ProfileFate::Reuse)
    );
    assert!(!o.needs_attention);
    // DownloadOrder again says the profile is unknown: our stock is wrong about it.
    let (o, _) = run(&[
        (Confirm, Err(refused("8.2.1", "3.5"))),
        (Reorder, Err(refused("8.2.1", "3.9"))),
    ]);
    assert_eq!(o.status, OrderStatus::Compensating);
    assert_eq!(
        o.error.as_ref().map(|e| e.code.as_str()),
        Some("esim_profile_unknown")
    );
    assert_eq!(o.attention, [AttentionReason::EsimStockMismatch]);
    assert_eq!(
        o.esim.as_ref().and_then(|e| e.fate),
        Some(ProfileFate::Retire)
    );
    assert_eq!(next_action(&o, 0), Action::Deprovision { attempt: 1 });
}

#[test]
fn a_matching_id_refusal_on_a_first_attempt_is_real() {
    let (o, _) = run(&[(Confirm, Err(refused("8.2.6", "3.3")))]);
    assert_eq!(o.status, OrderStatus::Compensating);
    assert_eq!(
        o.error.as_ref().map(|e| e.code.as_str()),
        Some("esim_matching_id_in_use")
    );
    assert_eq!(o.undo, Some(Step::Pending));
    // Also on the first attempt of a new reservation: it cannot be a replay of the old one.
    let (o, _) = run(&[
        (Confirm, Err(refused("8.2.1", "3.5"))),
        (Reorder, Ok(())),
        (Confirm, Err(refused("8.2.6", "3.3"))),
    ]);
    assert_eq!(
        o.error.as_ref().map(|e| e.code.as_str()),
        Some("esim_matching_id_in_use")
    );
}

#[test]
fn call_ids_stay_unique_across_verification_rounds() {
    let mut o = releasing();
    let mut ids = vec![o.esim.as_ref().and_then(|e| e.last_call_id.clone())];
    let script = [
        Err(lost()),
        Err(refused("8.2.1", "3.5")),
        Err(refused("8.2.1", "3.5")),
        Ok(()),
        Err(lost()),
        Err(refused("8.2.1", "3.5")),
        Err(refused("8.2.1", "3.5")),
        Ok(()),
        Ok(()),
    ];
    for (n, answer) in script.iter().enumerate() {
        let (next, _, _) = step(o, answer, n as u64).expect("a call");
        ids.push(next.esim.as_ref().and_then(|e| e.last_call_id.clone()));
        o = next;
    }
    assert_eq!(o.status, OrderStatus::Active);
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
}

fn any_answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        Just(Ok(())),
        Just(Err(lost())),
        Just(Err(refused("8.2.1", "3.5"))),
        Just(Err(refused("8.2.6", "3.3"))),
        Just(Err(refused("8.2.1", "3.3"))),
        Just(Err(refused("8.2.1", "3.9"))),
        Just(Err(rejected_4xx())),
    ]
}

proptest! {
    /// Whatever the SM-DP+ answers, in any order: the order is active only right after a
    /// ConfirmOrder or ReleaseProfile success, a profile is reserved anew at most
    /// MAX_REORDERS times, and the verification always ends.
    #[test]
    fn active_only_on_evidence_and_always_ends(script in proptest::collection::vec(any_answer(), 1..60)) {
        let mut o = releasing();
        let mut calls = 0;
        for (n, answer) in script.iter().enumerate() {
            let Some((next, call, eff)) = step(o.clone(), answer, n as u64) else { break };
            calls += 1;
            if next.status == OrderStatus::Active {
                prop_assert!(answer.is_ok() && matches!(call, Confirm | Release), "{call:?} {answer:?}");
                prop_assert_eq!(eff, Effect::Activate);
                prop_assert!(code(&next).is_some());
            } else {
                prop_assert_eq!(code(&next), None);
            }
            prop_assert!(next.esim.as_ref().is_some_and(|e| e.reorders <= MAX_REORDERS));
            o = next;
        }
        // Each round costs at most max_attempts per call; rounds are bounded.
        let bound = (POLICY.max_attempts * 3 + 1) * (MAX_REORDERS + 1) + 1;
        prop_assert!(calls <= bound as usize, "{calls} calls");
    }
}

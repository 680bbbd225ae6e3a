//! Undoing at the SM-DP+: CancelOrder answers, retries past the budget, and expiry.

use super::*;
use crate::order::LeftAtSmdp;

#[test]
fn expiry_cancels_unless_the_customer_downloaded_meanwhile() {
    let o = provisioned(download(order(), 1, Ok(())).0);
    let (o, _) = confirm(o, 1, Ok("1$X$Y".into()));
    let expiring = expire(o, 2_000);
    assert_eq!(expiring.status, OrderStatus::Compensating);
    assert_eq!(
        next_action(&expiring, 2_000),
        Action::Es2 {
            call: Es2Call::Cancel,
            attempt: 1
        }
    );
    // Downloaded in the meantime: the order is active again, nothing undone.
    let (o, eff) = on_cancel(
        mark_es2_sent(expiring.clone(), Es2Call::Cancel, 1, 2_001),
        at(1, 2_002),
        Err(refused("8.2.1", "3.3")),
    );
    assert_eq!((o.status, eff), (OrderStatus::Active, Effect::None));
    assert!(o.error.is_none() && o.undo.is_none());
    // Not downloaded: cancelled, then the HLR, then released.
    let (o, _) = on_cancel(
        mark_es2_sent(expiring, Es2Call::Cancel, 1, 2_001),
        at(1, 2_002),
        Ok(()),
    );
    assert_eq!(next_action(&o, 2_003), Action::Deprovision { attempt: 1 });
    let o = crate::engine::machine::mark_undo_sent(o, 1, 2_003);
    let (o, eff) = crate::engine::machine::on_deprovision(
        o,
        at(1, 2_004),
        Ok(adapters::hlr::DeprovisionOutcome::Deleted),
    );
    assert_eq!((o.status, eff), (OrderStatus::Failed, Effect::Release));
    assert_eq!(
        o.error.as_ref().map(|e| e.code.as_str()),
        Some("esim_not_downloaded")
    );
}

#[test]
fn cancel_retries_transport_failures_and_accepts_replays() {
    let (o, _) = download(order(), 1, Err(refused("8.2.5", "3.7")));
    assert_eq!(o.status, OrderStatus::Failed);
    let mut o = order();
    o.status = OrderStatus::Compensating;
    if let Some(e) = o.esim.as_mut() {
        e.cancel = Some(Step::Pending);
    }
    let (o, eff) = on_cancel(
        mark_es2_sent(o, Es2Call::Cancel, 1, 1),
        at(1, 2),
        Err(lost()),
    );
    assert_eq!(eff, Effect::None);
    assert!(matches!(next_action(&o, 2), Action::WaitUntil(_)));
    // The repeat finds the profile Available already (8.2.1/3.5): the cancel happened.
    let (o, eff) = on_cancel(
        mark_es2_sent(o, Es2Call::Cancel, 2, 5_000),
        at(2, 5_001),
        Err(refused("8.2.1", "3.5")),
    );
    assert_eq!((o.status, eff), (OrderStatus::Failed, Effect::Release));
    assert!(!o.needs_attention);
    // Even on a first attempt, nothing reserved means nothing left to cancel.
    let mut o = order();
    o.status = OrderStatus::Compensating;
    let (o, eff) = on_cancel(
        mark_es2_sent(o, Es2Call::Cancel, 1, 1),
        at(1, 2),
        Err(refused("8.2.1", "3.5")),
    );
    assert_eq!((o.status, eff), (OrderStatus::Failed, Effect::Release));
    assert_eq!(o.esim.as_ref().and_then(|e| e.fate), None);
    // Unknown at the SM-DP+: not ours to put back; retired and flagged.
    let mut o = order();
    o.status = OrderStatus::Compensating;
    let (o, _) = on_cancel(
        mark_es2_sent(o, Es2Call::Cancel, 1, 1),
        at(1, 2),
        Err(refused("8.2.1", "3.9")),
    );
    assert_eq!(
        o.esim.as_ref().and_then(|e| e.fate),
        Some(ProfileFate::Retire)
    );
    assert!(o.needs_attention);
}

/// An order undoing a released profile (expired, or failed after release), with the
/// cancel about to be sent as attempt `attempt`.
fn cancelling(expired: bool) -> Order {
    let o = provisioned(download(order(), 1, Ok(())).0);
    let (mut o, _) = confirm(o, 1, Ok("1$X$Y".into()));
    if expired {
        return expire(o, 2_000);
    }
    o.status = OrderStatus::Compensating;
    o.error = Some(OrderError {
        code: "hlr_rejected".into(),
        detail: "test".into(),
    });
    o.undo = Some(Step::Pending);
    if let Some(e) = o.esim.as_mut() {
        e.cancel = Some(Step::Pending);
        e.fate = Some(ProfileFate::Reuse);
    }
    o
}

fn cancel(o: Order, attempt: u32, r: Result<(), Es2Failure>) -> (Order, Effect) {
    on_cancel(
        mark_es2_sent(o, Es2Call::Cancel, attempt, 5_000),
        Attempt::new(attempt, &POLICY, u32::MAX, 5_001),
        r,
    )
}

fn expired_answer() -> Es2Failure {
    Es2Failure {
        retryable: false,
        codes: Some(("8.8.5".into(), "4.10".into())),
        message: "Expired".into(),
    }
}

#[test]
fn every_cancel_answer_settles_the_profile_or_keeps_trying() {
    use AttentionReason::*;
    // (answer, settled as, fate, attention, left at the SM-DP+)
    type Case = (
        Es2Failure,
        Option<&'static str>,
        ProfileFate,
        Vec<AttentionReason>,
        Option<LeftAtSmdp>,
    );
    let table: Vec<Case> = vec![
        (
            refused("8.2.1", "3.5"),
            Some("done"),
            ProfileFate::Reuse,
            vec![],
            None,
        ),
        (
            refused("8.2.1", "3.3"),
            Some("failed"),
            ProfileFate::Retire,
            vec![EsimProfileNotCancellable],
            Some(LeftAtSmdp::Downloaded),
        ),
        (
            refused("8.2.1", "3.10"),
            Some("failed"),
            ProfileFate::Retire,
            vec![EsimProfileNotCancellable],
            Some(LeftAtSmdp::BoundElsewhere),
        ),
        (
            refused("8.2.6", "3.10"),
            Some("failed"),
            ProfileFate::Retire,
            vec![EsimProfileNotCancellable],
            Some(LeftAtSmdp::BoundElsewhere),
        ),
        (
            refused("8.2.1", "3.9"),
            Some("failed"),
            ProfileFate::Retire,
            vec![EsimStockMismatch],
            None,
        ),
        (
            refused("8.2.1", "1.2"),
            Some("failed"),
            ProfileFate::Retire,
            vec![EsimStockMismatch],
            None,
        ),
        // Not cancelled and nothing says it never will be: retried.
        (
            expired_answer(),
            None,
            ProfileFate::Reuse,
            vec![],
            Some(LeftAtSmdp::Released),
        ),
        (
            refused("1.1", "1.2"),
            None,
            ProfileFate::Reuse,
            vec![],
            Some(LeftAtSmdp::Released),
        ),
        (
            refused("8.9", "4.2"),
            None,
            ProfileFate::Reuse,
            vec![],
            Some(LeftAtSmdp::Released),
        ),
        (
            lost(),
            None,
            ProfileFate::Reuse,
            vec![],
            Some(LeftAtSmdp::Released),
        ),
        (
            Es2Failure {
                retryable: false,
                codes: None,
                message: "HTTP 403".into(),
            },
            None,
            ProfileFate::Reuse,
            vec![],
            Some(LeftAtSmdp::Released),
        ),
    ];
    for (answer, settled, fate, attention, left) in table {
        for attempt in [1, 2] {
            let label = format!("{} at attempt {attempt}", answer.pair());
            let (o, eff) = cancel(cancelling(false), attempt, Err(answer.clone()));
            let e = o.esim.as_ref().expect("esim");
            let step = match &e.cancel {
                Some(Step::Done { .. }) => Some("done"),
                Some(Step::Failed { .. }) => Some("failed"),
                Some(Step::RetryWait { .. }) => None,
                other => panic!("{label}: {other:?}"),
            };
            assert_eq!(step, settled, "{label}");
            assert_eq!(e.fate, Some(fate), "{label}");
            assert_eq!(o.attention, attention, "{label}");
            assert_eq!(e.left_at_smdp, left, "{label}");
            assert_eq!(eff, Effect::None, "{label}: the HLR is undone next");
            let next = next_action(&o, 10_000_000);
            if settled.is_some() {
                assert_eq!(next, Action::Deprovision { attempt: 1 }, "{label}");
            } else {
                assert_eq!(
                    next,
                    Action::Es2 {
                        call: Es2Call::Cancel,
                        attempt: attempt + 1
                    },
                    "{label}"
                );
            }
        }
    }
    // Before release, what may be left is a reservation.
    let mut o = order();
    o.status = OrderStatus::Compensating;
    let (o, _) = cancel(o, 1, Err(expired_answer()));
    assert_eq!(
        o.esim.as_ref().and_then(|e| e.left_at_smdp),
        Some(LeftAtSmdp::Reserved)
    );
}

#[test]
fn a_cancel_refused_past_the_budget_is_flagged_and_retried_until_it_passes() {
    let mut o = cancelling(false);
    let mut now = 5_000;
    for attempt in 1..=5 {
        let (next, _) = on_cancel(
            mark_es2_sent(o, Es2Call::Cancel, attempt, now),
            Attempt::new(attempt, &POLICY, u32::MAX, now),
            Err(expired_answer()),
        );
        let Some(Step::RetryWait { retry_at_ms, .. }) =
            next.esim.as_ref().and_then(|e| e.cancel.clone())
        else {
            panic!("not retrying: {next:?}")
        };
        assert!(retry_at_ms - now <= POLICY.max_ms);
        assert_eq!(next.status, OrderStatus::Compensating);
        assert_eq!(
            next.undo,
            Some(Step::Pending),
            "the HLR waits for the cancel"
        );
        let stalled = attempt >= POLICY.max_attempts;
        assert_eq!(next.needs_attention, stalled, "attempt {attempt}");
        if stalled {
            assert_eq!(next.attention, [AttentionReason::SmdpCancelStalled]);
        }
        o = next;
        now = retry_at_ms;
    }
    // The SM-DP+ recovers: cancelled, nothing left there, the flag withdrawn.
    let (o, _) = on_cancel(
        mark_es2_sent(o, Es2Call::Cancel, 6, now),
        at(6, now),
        Ok(()),
    );
    assert!(!o.needs_attention && o.attention.is_empty());
    assert_eq!(o.esim.as_ref().and_then(|e| e.left_at_smdp), None);
    assert_eq!(
        o.esim.as_ref().and_then(|e| e.fate),
        Some(ProfileFate::Reuse)
    );
    assert_eq!(next_action(&o, now), Action::Deprovision { attempt: 1 });
    // An expiring order whose stalled cancel finally finds the profile downloaded is
    // active again, with nothing to look at.
    let mut o = cancelling(true);
    for attempt in 1..=3 {
        o = cancel(o, attempt, Err(expired_answer())).0;
    }
    assert!(o.needs_attention);
    let (o, _) = cancel(o, 4, Err(refused("8.2.1", "3.3")));
    assert_eq!(o.status, OrderStatus::Active);
    assert!(!o.needs_attention && o.attention.is_empty());
    assert_eq!(o.esim.as_ref().and_then(|e| e.left_at_smdp), None);
}

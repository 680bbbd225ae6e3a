use super::super::port_order::tests::msg;
use super::super::port_order::{
    self, PortAnswer, PortOp, apply_hub, mark_port_sent, on_deadline, on_port_answer,
};
use super::super::{Action, at, fixture_order, mark_saga_sent, on_saga_answer, plan};
use super::*;
use crate::compliance::Market;
use crate::crypto::Sealed;
use crate::order::{Actor, Line, OrderKind, PortOut, SagaOp};
use adapters::porting::HubEvent;
use proptest::prelude::*;

const HOUR: u64 = 3_600_000;
const BY: u64 = 10 * HOUR;

/// A port-out order as the intake creates it: `reject` is our decision.
fn order(reject: Option<&str>) -> Order {
    let mut o = fixture_order();
    o.id = "ord_x".into();
    o.kind = OrderKind::PortOut;
    let line = Line {
        iccid: o.iccid.clone(),
        imsi: o.imsi.clone(),
        msisdn: Some(o.msisdn.clone()),
        hlr_profile_id: 1,
        barred: false,
    };
    let mut l = Lifecycle {
        subscription: "sub_x".into(),
        actor: Actor {
            key_prefix: "hub".into(),
            role: "porting_hub".into(),
        },
        reason: None,
        verification: false,
        line,
        reasons_before: Vec::new(),
        new_line: None,
        new_profile: None,
        undownloaded_profile: None,
        number_return: None,
        new_msisdn: None,
        plan: Vec::new(),
        undo: Vec::new(),
    };
    l.plan = plan(OrderKind::PortOut, &l);
    o.lifecycle = Some(l);
    let sealed = Sealed {
        kid: "k1".into(),
        nonce: "00".into(),
        ct: "00".into(),
    };
    let mut p = PortIn::new(
        Market::Uk,
        o.msisdn.clone(),
        "SIM-RECIPIENT".into(),
        sealed,
        None,
        None,
    );
    p.port_ref = Some("P-9".into());
    p.out = Some(PortOut {
        received_at_ms: 0,
        respond_by_ms: BY,
        reject: reject.map(str::to_owned),
        answer: Step::Pending,
        timed_out: false,
    });
    o.port = Some(p);
    o
}

fn port(o: &Order) -> &PortIn {
    o.port.as_ref().expect("port")
}

fn step(o: Order, want: PortOp, answer: PortAnswer, now: u64) -> Order {
    let Action::Port { op, attempt } = next_action(&o, now) else {
        panic!("expected {want:?}, got {:?}", next_action(&o, now));
    };
    assert_eq!(op, want);
    let o = mark_port_sent(o, op, attempt, now);
    on_port_answer(o, op, at(attempt, now), answer)
}

fn accepted() -> Order {
    step(
        order(None),
        PortOp::Answer,
        PortAnswer::Done("accepted".into()),
        1,
    )
}

#[test]
fn the_plan_is_the_terminate_plan_past_the_point_of_no_return() {
    let o = order(None);
    let plan = &o.lifecycle.as_ref().expect("lifecycle").plan;
    assert!(matches!(plan[0].op, SagaOp::Deprovision { .. }), "{plan:?}");
    assert!(plan.iter().all(|s| s.must_finish));
}

#[test]
fn an_accepted_request_waits_for_the_hub_and_the_request_is_on_the_timeline() {
    let o = accepted();
    assert_eq!(port(&o).state, PortState::Submitted);
    assert_eq!(o.status_name(), "port_out_accepted");
    let states: Vec<PortState> = port(&o).timeline.iter().map(|t| t.state).collect();
    assert_eq!(states, [PortState::Validating, PortState::Submitted]);
    assert_eq!(
        next_action(&o, 2),
        Action::Park(port_order::CUTOVER_GRACE_MS)
    );
}

#[test]
fn hub_messages_applied_while_the_answer_was_in_doubt_are_kept() {
    // The answer was sent, the process died before its receipt was recorded, and the
    // hub's `scheduled` was applied first after the restart; the repeated answer's
    // receipt must not take the port back to `submitted`.
    let o = order(None);
    let o = mark_port_sent(o, PortOp::Answer, 1, 1);
    let o = apply_hub(o, &msg(2, HubEvent::Scheduled, 2), 2);
    assert_eq!(port(&o).state, PortState::Scheduled);
    let o = step(o, PortOp::Answer, PortAnswer::Done("accepted".into()), 3);
    assert_eq!(port(&o).state, PortState::Scheduled);
    assert_eq!(next_action(&o, 3), Action::Park(20 * HOUR));
}

#[test]
fn an_accepted_port_out_the_hub_never_schedules_is_flagged_once_not_given_up() {
    // `order` asks for no date: the request's arrival (0) counts.
    let o = accepted();
    let due = port_order::CUTOVER_GRACE_MS;
    assert_eq!(next_action(&o, 2), Action::Park(due));
    assert_eq!(next_action(&o, due), Action::PortDeadline);
    let o = on_deadline(o, due);
    assert!(
        o.attention.contains(&AttentionReason::PortCutoverStalled),
        "{o:?}"
    );
    assert_eq!(
        port(&o).state,
        PortState::Submitted,
        "the port is not given up"
    );
    assert_eq!(next_action(&o, due + 1), Action::Park(u64::MAX));
    // Scheduled after all: the lock point is the next deadline again.
    let o = apply_hub(o, &msg(2, HubEvent::Scheduled, due + 2), due + 2);
    assert_eq!(next_action(&o, due + 2), Action::Park(20 * HOUR));
    assert!(
        !o.needs_attention,
        "the flag is withdrawn once the hub schedules"
    );
}

#[test]
fn a_refused_request_is_answered_and_ends_the_order_with_the_line_unchanged() {
    let o = order(Some("credential_invalid"));
    assert_eq!(o.status_name(), "port_out_requested");
    let o = step(o, PortOp::Answer, PortAnswer::Done("accepted".into()), 1);
    assert_eq!(port(&o).state, PortState::Rejected);
    assert_eq!(next_action(&o, 2), Action::PortRelease);
    let (o, effect) = release(o, 2);
    assert_eq!((o.status, effect), (OrderStatus::Failed, Effect::Release));
    assert_eq!(o.status_name(), "port_out_rejected");
    let e = o.error.expect("error");
    assert_eq!(e.code, "port_out_refused");
    assert!(e.detail.contains("credential_invalid"), "{}", e.detail);
}

#[test]
fn an_answer_not_delivered_by_the_deadline_becomes_a_timeout_rejection() {
    let o = order(None);
    let o = step(o, PortOp::Answer, PortAnswer::Retryable("503".into()), 1);
    assert_eq!(answer_request_id(&o), "ord_x-answer");
    assert_eq!(next_action(&o, BY), Action::PortDeadline);
    let o = on_deadline(o, BY);
    let out = port(&o).out.as_ref().expect("out");
    assert_eq!(
        (out.reject.as_deref(), out.timed_out),
        (Some(TIMEOUT), true)
    );
    assert_eq!(answer_request_id(&o), "ord_x-answer-timeout");
    // The rejection is sent (its own request), even though the deadline has passed.
    let o = step(
        o,
        PortOp::Answer,
        PortAnswer::Done("accepted".into()),
        BY + 1,
    );
    assert_eq!(port(&o).state, PortState::Rejected);
    // If even that is refused by the hub, the port expires.
    let o = order(None);
    let o = on_deadline(o, BY);
    let o = step(
        o,
        PortOp::Answer,
        PortAnswer::Refused("invalid_state".into()),
        BY,
    );
    assert_eq!(port(&o).state, PortState::Expired);
    let (o, _) = release(o, BY);
    assert_eq!(o.error.expect("error").code, "port_out_expired");
}

/// A hub that stays away longer than the retry budget: our answer is retried until the
/// deadline (never given up before it, never waiting past it), then replaced.
#[test]
fn an_answer_is_retried_past_the_budget_until_its_deadline() {
    let mut o = order(None);
    let mut now = 1;
    // Waits are capped at the policy's 1 s: ten hours are some 36,000 attempts.
    for _ in 0..40_000 {
        o = match next_action(&o, now) {
            Action::Port { op, attempt } => {
                let sent = mark_port_sent(o, op, attempt, now);
                // The longest jitter: each wait is the full capped backoff.
                let answered = crate::engine::machine::Attempt::new(
                    attempt,
                    &crate::engine::machine::FIXTURE_POLICY,
                    u32::MAX,
                    now,
                );
                on_port_answer(sent, op, answered, PortAnswer::Retryable("503".into()))
            }
            Action::PortDeadline => break,
            a => panic!("unexpected {a:?} at {now}"),
        };
        let out = port(&o).out.as_ref().expect("out");
        let Step::RetryWait { retry_at_ms, .. } = out.answer else {
            panic!("gave up before the deadline: {:?}", out.answer);
        };
        assert!(retry_at_ms <= BY, "waits past the deadline: {retry_at_ms}");
        now = retry_at_ms;
    }
    assert_eq!(now, BY, "the last wait ends at the deadline");
    assert_eq!(next_action(&o, now), Action::PortDeadline);
    let o = on_deadline(o, now);
    assert_eq!(answer_request_id(&o), "ord_x-answer-timeout");
}

#[test]
fn at_cutover_the_line_leaves_then_the_cutover_is_acknowledged_and_the_order_completes() {
    let o = accepted();
    let o = apply_hub(o, &msg(2, HubEvent::Scheduled, 3), 3);
    assert_eq!(next_action(&o, 3), Action::Park(20 * HOUR));
    let o = apply_hub(o, &msg(3, HubEvent::Locked, 20 * HOUR), 20 * HOUR);
    assert_eq!(o.status_name(), "port_out_locked");
    let o = apply_hub(o, &msg(4, HubEvent::Cutover, 30 * HOUR), 30 * HOUR);
    assert_eq!(o.status_name(), "port_out_deprovisioning");
    // The saga: the HLR subscriber goes.
    let now = 30 * HOUR;
    let Action::Saga {
        undo, index, op, ..
    } = next_action(&o, now)
    else {
        panic!("{:?}", next_action(&o, now));
    };
    assert!(!undo && matches!(op, SagaOp::Deprovision { .. }));
    let o = mark_saga_sent(o, false, index, 1, now);
    let (o, effect) = on_saga_answer(o, false, index, at(1, now), Ok("deleted".into()));
    assert_eq!(
        effect,
        Effect::None,
        "the port machine completes the order, not the saga"
    );
    let o = step(
        o,
        PortOp::ActivateNumber,
        PortAnswer::Done("deprovisioned".into()),
        now,
    );
    assert_eq!(o.hlr, Step::Pending, "a port-out has no activation step");
    let o = step(
        o,
        PortOp::Acknowledge,
        PortAnswer::Done("accepted".into()),
        now,
    );
    assert_eq!(
        next_action(&o, now),
        Action::Park(30 * HOUR + port_order::CUTOVER_GRACE_MS)
    );
    let o = apply_hub(o, &msg(5, HubEvent::Completed, now + 1), now + 1);
    assert_eq!(next_action(&o, now + 1), Action::PortComplete);
    let (o, effect) = complete(o, now + 1);
    assert_eq!(
        (o.status, effect),
        (OrderStatus::Completed, Effect::Complete)
    );
    assert_eq!(o.status_name(), "completed");
}

#[test]
fn a_cancel_before_the_lock_ends_the_order_and_after_it_changes_nothing() {
    let o = accepted();
    let o = apply_hub(o, &msg(2, HubEvent::Scheduled, 3), 3);
    let cancelled = apply_hub(o.clone(), &msg(3, HubEvent::Cancelled, 4), 4);
    assert_eq!(next_action(&cancelled, 4), Action::PortRelease);
    let (c, _) = release(cancelled, 4);
    assert_eq!(c.error.expect("error").code, "port_out_cancelled");
    let locked = apply_hub(o, &msg(3, HubEvent::Locked, 20 * HOUR), 20 * HOUR);
    let late = apply_hub(locked, &msg(4, HubEvent::Cancelled, 21 * HOUR), 21 * HOUR);
    assert_eq!(
        port(&late).state,
        PortState::Locked,
        "past the lock it goes forward"
    );
}

#[test]
fn a_line_reported_lost_withdraws_its_port_out_until_the_lock() {
    // Not answered yet: the answer becomes a refusal `line_not_active`.
    let o = order(None);
    assert!(withdrawable(&o, 1));
    let o = withdraw(o, 1);
    let out = port(&o).out.as_ref().expect("out");
    assert_eq!(out.reject.as_deref(), Some(LINE_NOT_ACTIVE));
    let o = step(o, PortOp::Answer, PortAnswer::Done("accepted".into()), 2);
    assert_eq!(port(&o).state, PortState::Rejected);
    let (o, _) = release(o, 2);
    let e = o.error.expect("error");
    assert_eq!(e.code, "port_out_refused");
    assert!(e.detail.contains(LINE_NOT_ACTIVE), "{}", e.detail);
    // Accepted and scheduled: the hub is asked to cancel, whose `cancelled` ends it.
    let o = apply_hub(accepted(), &msg(2, HubEvent::Scheduled, 3), 3);
    let o = withdraw(o, 4);
    assert_eq!(port(&o).out.as_ref().and_then(|x| x.reject.clone()), None);
    let o = step(o, PortOp::Cancel, PortAnswer::Done("accepted".into()), 5);
    assert_eq!(next_action(&o, 5), Action::Park(20 * HOUR));
    let o = apply_hub(o, &msg(3, HubEvent::Cancelled, 6), 6);
    assert_eq!(next_action(&o, 6), Action::PortRelease);
    let (o, effect) = release(o, 6);
    assert_eq!((o.status, effect), (OrderStatus::Failed, Effect::Release));
    assert_eq!(o.error.expect("error").code, "port_out_withdrawn");
    // Past the lock the number is leaving: nothing changes.
    let o = apply_hub(accepted(), &msg(2, HubEvent::Scheduled, 3), 3);
    let locked = apply_hub(o, &msg(3, HubEvent::Locked, 20 * HOUR), 20 * HOUR);
    assert!(!withdrawable(&locked, 20 * HOUR));
    let after = withdraw(locked.clone(), 20 * HOUR + 1);
    assert_eq!(after.port, locked.port);
}

proptest! {
    /// Whatever hub messages arrive, in any order and repeated, once the line left
    /// (cutover acted on) the order never ends without completing, and an order that
    /// ends before the lock never touched the line.
    #[test]
    fn the_line_is_only_touched_past_the_lock(events in proptest::collection::vec(0u8..6, 1..12)) {
        let mut o = accepted();
        let mut now = 10;
        for (i, e) in events.iter().enumerate() {
            let event = match e {
                0 => HubEvent::Scheduled,
                1 => HubEvent::Locked,
                2 => HubEvent::Cutover,
                3 => HubEvent::Completed,
                4 => HubEvent::Cancelled,
                _ => HubEvent::CancelRequest,
            };
            now += 1;
            o = apply_hub(o, &msg(2 + i as u64 % 4, event, now), now);
        }
        let touched = port(&o).activate.is_some();
        if port(&o).state.is_terminal() && port(&o).state != PortState::Completed {
            prop_assert!(!touched, "ended before the lock but the line was scheduled to go");
        }
        if touched {
            prop_assert!(port(&o).state.past_lock(), "{:?}", port(&o).state);
        }
    }
}

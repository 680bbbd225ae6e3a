//! Sending ahead on port orders (`super`'s module doc): what is recorded is what the order
//! would do next, at every point of a port-in, and an item applied after a sent-ahead
//! call still acts.

use super::{mark_next_sent, sent_ahead};
use crate::engine::machine::port_order::tests::{HOUR, event, msg, order};
use crate::engine::machine::port_order::{
    self, PortAnswer, PortOp, apply_cancel, apply_hub, mark_port_sent, on_port_answer, park,
};
use crate::engine::machine::{Action, at, next_action, on_deprovision, on_provision_any};
use crate::order::{Order, OrderStatus, PortState, Step};
use adapters::hlr::{DeprovisionOutcome, FaultClass, HlrError, ProvisionOutcome};
use adapters::porting::HubEvent;
use proptest::prelude::*;

fn port(o: &Order) -> &crate::order::PortIn {
    o.port.as_ref().expect("port")
}

/// The call sent ahead in the write of `o` at `now`, checked against what the order
/// would do next without the record; `o` as written.
fn sent(o: Order, now: u64) -> (Order, Option<Action>) {
    let next = next_action(&o, now);
    let marked = mark_next_sent(o.clone(), now);
    assert_eq!(marked.version, o.version, "one write, one version");
    let ahead = sent_ahead(&marked, now);
    match &next {
        Action::Port { .. } | Action::Provision { .. } | Action::Deprovision { .. } => {
            assert_eq!(ahead.as_ref(), Some(&next));
        }
        _ => {
            assert_eq!(marked, o, "nothing to send: written as it is");
            assert_eq!(ahead, None);
        }
    }
    (marked, ahead)
}

/// The answer to `call`, as the driver records it.
fn answer(o: Order, call: &Action, answer: PortAnswer, now: u64) -> Order {
    match call {
        Action::Port { op, attempt } => on_port_answer(o, *op, at(*attempt, now), answer),
        Action::Provision { attempt } => {
            let r = match answer {
                PortAnswer::Done(_) => Ok(ProvisionOutcome::Created),
                PortAnswer::Retryable(e) => Err(HlrError::new(FaultClass::Transient, "create", e)),
                PortAnswer::Refused(e) => Err(HlrError::new(FaultClass::Conflict, "create", e)),
            };
            on_provision_any(o, at(*attempt, now), r).0
        }
        Action::Deprovision { attempt } => {
            let r = match answer {
                PortAnswer::Done(_) => Ok(DeprovisionOutcome::Deleted),
                PortAnswer::Retryable(e) | PortAnswer::Refused(e) => {
                    Err(HlrError::new(FaultClass::Transient, "delete", e))
                }
            };
            on_deprovision(o, at(*attempt, now), r).0
        }
        a => panic!("not a call: {a:?}"),
    }
}

fn refused() -> PortAnswer {
    PortAnswer::Refused("imsi in use".into())
}

fn done(s: &str) -> PortAnswer {
    PortAnswer::Done(s.into())
}

#[test]
fn a_uk_port_in_sends_each_call_ahead_in_the_write_before_it() {
    // Created: the line on its temporary number is sent in the create commit, and the
    // submission with it.
    let (o, call) = sent(order(true), 1);
    assert_eq!(call, Some(Action::Provision { attempt: 1 }));
    assert_eq!(o.hlr, Step::Sent { attempt: 1 });
    assert_eq!(port(&o).submit, Step::Sent { attempt: 1 });
    // Without the commit that wrote it (after a restart) it is a call cut short.
    assert_eq!(next_action(&o, 1), Action::Provision { attempt: 2 });
    // Its answer: the line is up, and the submission recorded with it is made next, its
    // answer recorded in the same write.
    let o = answer(o, &Action::Provision { attempt: 1 }, done(""), 2);
    assert_eq!(o.status, OrderStatus::InProgress);
    assert_eq!(port_order::submit_after_line(&o), Some(1));
    let submit = Action::Port {
        op: PortOp::Submit,
        attempt: 1,
    };
    // The submission's answer parks the port: nothing sent.
    let (o, call) = sent(answer(o, &submit, done("P-1"), 3), 3);
    assert_eq!((call, next_action(&o, 3)), (None, Action::Park(720 * HOUR)));
    // The cutover, applied on arrival to the parked order, sends the number change.
    let parked = park(o, 720 * HOUR, 4);
    let mut o = parked;
    for (seq, e) in [(1, 0u8), (2, 1), (3, 2)] {
        o = port_order::on_arrival(o, 5, |o| apply_hub(o, &msg(seq, event(e), 5), 5));
        assert_eq!(
            mark_next_sent(o.clone(), 5),
            o,
            "parked again: nothing sent"
        );
    }
    let o = port_order::on_arrival(o, 30 * HOUR, |o| {
        apply_hub(o, &msg(4, HubEvent::Cutover, 30 * HOUR), 30 * HOUR)
    });
    let (o, call) = sent(o, 30 * HOUR);
    let change = Action::Port {
        op: PortOp::ActivateNumber,
        attempt: 1,
    };
    assert_eq!(call.as_ref(), Some(&change));
    // The acknowledgement was recorded with it: made straight after its answer, and both
    // answers go in one write, which sends nothing.
    assert_eq!(port(&o).ack, Some(Step::Sent { attempt: 1 }));
    let o = answer(o, &change, done("number_changed"), 30 * HOUR);
    assert_eq!(
        port_order::ack_after_activation(&o, PortOp::ActivateNumber),
        Some(1)
    );
    let ack = Action::Port {
        op: PortOp::Acknowledge,
        attempt: 1,
    };
    let (o, call) = sent(answer(o, &ack, done("accepted"), 30 * HOUR), 30 * HOUR);
    assert_eq!(call, None);
    assert!(matches!(next_action(&o, 30 * HOUR), Action::Park(_)));
}

#[test]
fn a_line_that_is_not_up_takes_back_the_submission_recorded_with_it() {
    // The driver made the line's call as the create commit recorded it: the submission
    // recorded with it was not made, and goes back when the line is not up.
    let (o, _) = sent(order(true), 1);
    let line = Action::Provision { attempt: 1 };
    let waiting = answer(o.clone(), &line, PortAnswer::Retryable("timeout".into()), 2);
    assert!(matches!(waiting.hlr, Step::RetryWait { .. }));
    assert_eq!(port_order::submit_after_line(&waiting), None);
    let waiting = port_order::submission_not_made(waiting);
    assert_eq!(port(&waiting).submit, Step::Pending);
    assert!(matches!(next_action(&waiting, 2), Action::WaitUntil(_)));
    // Refused: the clean-up, and the hub never hears of the port.
    let failed = port_order::submission_not_made(answer(o, &line, refused(), 2));
    assert_eq!(failed.status, OrderStatus::Compensating);
    assert_eq!(port(&failed).submit, Step::Pending);
    assert_eq!(next_action(&failed, 2), Action::Deprovision { attempt: 1 });
    // A line that is up keeps the record: the submission is made next.
    let (o, _) = sent(order(true), 1);
    let up = port_order::submission_not_made(answer(o, &line, done(""), 2));
    assert_eq!(port_order::submit_after_line(&up), Some(1));
}

#[test]
fn a_submission_in_doubt_when_the_line_fails_is_repeated_then_cancelled() {
    // Read back after a crash: the line and the submission recorded together, both in
    // doubt. The line is made again and refused: the submission may have reached the hub
    // before the crash, so it is repeated (the hub's first answer and its reference),
    // then the port is cancelled there, and only then is the line cleaned up.
    let (o, _) = sent(order(true), 1);
    let line = Action::Provision { attempt: 2 };
    assert_eq!(next_action(&o, 1), line);
    let o = answer(mark_next_sent(o, 2), &line, refused(), 3);
    assert_eq!(o.status, OrderStatus::Compensating);
    let submit = Action::Port {
        op: PortOp::Submit,
        attempt: 2,
    };
    assert_eq!(next_action(&o, 3), submit);
    let repeated = answer(o.clone(), &submit, done("P-1"), 4);
    assert_eq!(port(&repeated).port_ref.as_deref(), Some("P-1"));
    assert_eq!(port(&repeated).state, PortState::CancelPending);
    let cancel = Action::Port {
        op: PortOp::Cancel,
        attempt: 1,
    };
    let (repeated, call) = sent(repeated, 4);
    assert_eq!(call.as_ref(), Some(&cancel));
    let cancelled = answer(repeated, &cancel, done("accepted"), 5);
    assert_eq!(
        next_action(&cancelled, 5),
        Action::Deprovision { attempt: 1 }
    );
    // The hub never had it: the clean-up follows at once, with nothing to cancel.
    let unknown = answer(o, &submit, refused(), 4);
    assert_eq!(port(&unknown).cancel, None);
    assert_eq!(next_action(&unknown, 4), Action::Deprovision { attempt: 1 });
}

#[test]
fn a_submission_in_doubt_is_repeated_once_the_line_is_up() {
    let (o, _) = sent(order(true), 1);
    let line = Action::Provision { attempt: 2 };
    let o = answer(
        mark_next_sent(o, 2),
        &line,
        PortAnswer::Retryable("timeout".into()),
        3,
    );
    // Still in doubt while the line waits for its retry: not taken back.
    assert_eq!(port(&o).submit, Step::Sent { attempt: 1 });
    let Step::RetryWait { retry_at_ms, .. } = o.hlr else {
        panic!("not waiting: {:?}", o.hlr);
    };
    let o = answer(o, &Action::Provision { attempt: 3 }, done(""), retry_at_ms);
    assert_eq!(
        next_action(&o, retry_at_ms),
        Action::Port {
            op: PortOp::Submit,
            attempt: 2
        }
    );
}

#[test]
fn a_cancel_applied_after_a_sent_ahead_submission_still_reaches_the_hub() {
    // The submission was sent ahead in the HLR answer's commit; a channel's cancel queued
    // meanwhile is applied after the call (the driver makes the call first).
    let mut o = order(true);
    o.hlr = Step::Done {
        outcome: "created".into(),
    };
    let (o, call) = sent(o, 1);
    let submit = call.expect("submission sent ahead");
    let o = apply_cancel(o, 2);
    assert_eq!(port(&o).cancel, Some(Step::Pending), "waits for the answer");
    // Its answer gives the port reference: the cancel goes to the hub, sent ahead.
    let (o, call) = sent(answer(o, &submit, done("P-1"), 3), 3);
    assert_eq!(
        call,
        Some(Action::Port {
            op: PortOp::Cancel,
            attempt: 1
        })
    );
    let o = answer(o, call.as_ref().expect("cancel"), done("accepted"), 4);
    assert_eq!(port(&o).state, PortState::CancelPending);
    // The hub confirms: the port ends and what was reserved goes back.
    let o = apply_hub(o, &msg(1, HubEvent::Cancelled, 5), 5);
    assert_eq!(port(&o).state, PortState::Cancelled);
    assert_eq!(next_action(&o, 5), Action::PortRelease);
}

#[test]
fn a_hub_cancellation_applied_after_a_sent_ahead_call_ends_the_port() {
    // A scheduled port; a channel's reschedule sends its hub call ahead; the hub's
    // cancellation queued meanwhile is applied after the call, and ends the port.
    let mut o = order(true);
    o.hlr = Step::Done {
        outcome: "created".into(),
    };
    let o = mark_port_sent(o, PortOp::Submit, 1, 1);
    let o = on_port_answer(o, PortOp::Submit, at(1, 1), done("P-1"));
    let o = apply_hub(o, &msg(1, event(0), 2), 2);
    let o = apply_hub(o, &msg(2, event(1), 2), 2);
    assert_eq!(port(&o).state, PortState::Scheduled);
    let o = port_order::apply_reschedule(o, 50 * HOUR, 3);
    let (o, call) = sent(o, 3);
    let call = call.expect("reschedule sent ahead");
    assert!(matches!(
        call,
        Action::Port {
            op: PortOp::Reschedule,
            attempt: 1
        }
    ));
    let o = apply_hub(o, &msg(3, HubEvent::Cancelled, 4), 4);
    let o = answer(o, &call, done("accepted"), 5);
    assert_eq!(port(&o).state, PortState::Cancelled);
    let (o, call) = sent(o, 5);
    assert_eq!(call, None);
    assert_eq!(next_action(&o, 5), Action::PortRelease);
}

proptest! {
    /// Whatever a port-in has been through (answers of any kind, hub messages in any
    /// order, channel cancels), the write of its state records as sent exactly the call
    /// it would make next, which the driver finds again; and a restart (the record read
    /// back) makes it again as the next attempt.
    #[test]
    fn what_a_port_sends_ahead_is_what_it_would_send(
        temporary in any::<bool>(),
        moves in proptest::collection::vec((0u8..4, 0u8..8), 0..24),
    ) {
        let mut o = order(temporary);
        let mut t = 1;
        let mut seq = 1;
        for (kind, arg) in moves {
            t += 1_000;
            let (marked, call) = sent(o.clone(), t);
            if let Some(Action::Port { op: PortOp::Submit, .. }) = call {
                // The hub hears of a port only once its line is up (no crash here, so
                // no submission is ever in doubt while the line fails).
                let line_up = matches!(marked.hlr, Step::Done { .. });
                prop_assert!(line_up || !temporary);
                prop_assert!(marked.status != OrderStatus::Compensating);
            }
            o = match (call, kind) {
                (Some(call), 0 | 1) => {
                    if let Action::Port { attempt, .. } | Action::Provision { attempt } = call {
                        // A restart would repeat it as the next attempt.
                        let again = next_action(&marked, t);
                        prop_assert!(matches!(again,
                            Action::Port { attempt: n, .. } | Action::Provision { attempt: n }
                                if n == attempt + 1), "{:?}", again);
                    }
                    let a = match arg % 3 {
                        0 if matches!(call, Action::Port { op: PortOp::Submit, .. }) => done("P-1"),
                        0 => done("ok"),
                        1 => PortAnswer::Retryable("timeout".into()),
                        _ => PortAnswer::Refused("no".into()),
                    };
                    let answered = answer(marked, &call, a, t + 1);
                    match call {
                        // The driver: the line's call was made as recorded, so a
                        // submission recorded with it was not made if the line is not up.
                        Action::Provision { .. } => port_order::submission_not_made(answered),
                        _ => answered,
                    }
                }
                (_, 2) => {
                    seq += 1;
                    apply_hub(o, &msg(seq, event(arg), t), t)
                }
                (_, _) if arg == 0 => apply_cancel(o, t),
                (_, _) => match next_action(&o, t) {
                    Action::Park(due) => park(o, due, t),
                    _ => o,
                },
            };
            if o.status.is_terminal() || o.port_parked().is_some() {
                break;
            }
        }
        let _ = sent(o, t + 1);
    }
}

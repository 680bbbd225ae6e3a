//! Sending ahead on port orders (`super`'s module doc): what is recorded is what the order
//! would do next, at every point of a port-in, and an item applied after a sent-ahead
//! call still acts.

use super::{mark_next_sent, sent_ahead};
use crate::engine::machine::port_order::tests::{HOUR, event, msg, order};
use crate::engine::machine::port_order::{
    self, PortAnswer, PortOp, apply_cancel, apply_hub, mark_port_sent, on_port_answer, park,
};
use crate::engine::machine::{Action, at, next_action, on_provision_any};
use crate::order::{Order, OrderStatus, PortState, Step};
use adapters::hlr::ProvisionOutcome;
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
            on_provision_any(o, at(*attempt, now), Ok(ProvisionOutcome::Created)).0
        }
        a => panic!("not a call: {a:?}"),
    }
}

fn done(s: &str) -> PortAnswer {
    PortAnswer::Done(s.into())
}

#[test]
fn a_uk_port_in_sends_each_call_ahead_in_the_write_before_it() {
    // Created: the line on its temporary number is sent in the create commit.
    let (o, call) = sent(order(true), 1);
    assert_eq!(call, Some(Action::Provision { attempt: 1 }));
    assert_eq!(o.hlr, Step::Sent { attempt: 1 });
    // Without the commit that wrote it (after a restart) it is a call cut short.
    assert_eq!(next_action(&o, 1), Action::Provision { attempt: 2 });
    // Its answer sends the submission.
    let (o, call) = sent(answer(o, &Action::Provision { attempt: 1 }, done(""), 2), 2);
    assert_eq!(o.status, OrderStatus::InProgress);
    let submit = Action::Port {
        op: PortOp::Submit,
        attempt: 1,
    };
    assert_eq!(call.as_ref(), Some(&submit));
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
                    answer(marked, &call, a, t + 1)
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

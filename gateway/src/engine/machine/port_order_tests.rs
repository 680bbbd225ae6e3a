use super::super::{FIXTURE_POLICY, at, fixture_order};
use super::*;
use crate::compliance::Market;
use crate::crypto::Sealed;
use crate::order::{MsisdnMode, OrderStatus};
use adapters::porting::{Actor, HubEvent, HubMessage, Ref, RejectReason, UtcTime};
use proptest::prelude::*;

pub(in crate::engine::machine) const HOUR: u64 = 3_600_000;
const PORTED: &str = "447911000001";

fn sealed() -> Sealed {
    Sealed {
        kid: "k1".into(),
        nonce: "00".into(),
        ct: "00".into(),
    }
}

/// A fresh port-in order; `temporary`: the UK's temporary number, else the line waits.
pub(in crate::engine::machine) fn order(temporary: bool) -> Order {
    let mut o = fixture_order();
    let number = PORTED.parse().expect("msisdn");
    let p = PortIn::new(
        Market::Uk,
        number,
        "EE".into(),
        sealed(),
        Some(720 * HOUR),
        None,
    );
    o.port = Some(if temporary {
        p.running_on(Some(o.msisdn.clone()))
    } else {
        o.msisdn = PORTED.parse().expect("msisdn");
        p
    });
    o.msisdn_mode = MsisdnMode::PortIn;
    o
}

/// Hub message `seq` of port `P-1` (due 30 h, lock 20 h).
pub(in crate::engine::machine) fn msg(seq: u64, event: HubEvent, at_ms: u64) -> HubMessage {
    HubMessage {
        message_id: Ref::parse(&format!("m-{seq}"), "message_id").expect("ref"),
        port_ref: Ref::parse("P-1", "port_ref").expect("ref"),
        sequence: seq,
        at: UtcTime::from_unix_ms(at_ms).expect("time"),
        actor: Actor::Hub,
        reference: None,
        due_at: UtcTime::from_unix_ms(30 * HOUR),
        lock_at: UtcTime::from_unix_ms(20 * HOUR),
        range_holder: None,
        event,
    }
}

fn port(o: &Order) -> &PortIn {
    o.port.as_ref().expect("port")
}

/// Performs whatever port step `next_action` asks with `answer`.
fn step(o: Order, want: PortOp, answer: PortAnswer, now: u64) -> Order {
    let Action::Port { op, attempt } = next_action(&o, now) else {
        panic!("expected {want:?}, got {:?}", next_action(&o, now));
    };
    assert_eq!(op, want);
    let o = mark_port_sent(o, op, attempt, now);
    on_port_answer(o, op, at(attempt, now), answer)
}

fn submitted(temporary: bool) -> Order {
    let mut o = order(temporary);
    if temporary {
        assert_eq!(next_action(&o, 0), Action::Provision { attempt: 1 });
        o.hlr = Step::Done {
            outcome: "created".into(),
        };
    }
    step(o, PortOp::Submit, PortAnswer::Done("P-1".into()), 1)
}

#[test]
fn a_uk_port_runs_on_its_temporary_number_then_completes_on_the_ported_one() {
    let o = submitted(true);
    assert_eq!(port(&o).state, PortState::Submitted);
    assert_eq!(o.status_name(), "port_submitted");
    // Waiting: parked until the credential's expiry.
    assert_eq!(next_action(&o, 2), Action::Park(720 * HOUR));
    let o = apply_hub(o, &msg(1, HubEvent::Accepted, 2), 2);
    let o = apply_hub(o, &msg(2, HubEvent::Scheduled, 3), 3);
    assert_eq!(next_action(&o, 4), Action::Park(20 * HOUR));
    let o = apply_hub(o, &msg(3, HubEvent::Locked, 20 * HOUR), 20 * HOUR);
    assert_eq!(
        next_action(&o, 20 * HOUR),
        Action::Park(30 * HOUR + CUTOVER_GRACE_MS)
    );
    let o = apply_hub(o, &msg(4, HubEvent::Cutover, 30 * HOUR), 30 * HOUR);
    assert_eq!(o.status_name(), "port_activating");
    let o = step(
        o,
        PortOp::ActivateNumber,
        PortAnswer::Done("number_changed".into()),
        30 * HOUR,
    );
    let o = step(
        o,
        PortOp::Acknowledge,
        PortAnswer::Done("accepted".into()),
        30 * HOUR,
    );
    // Our side is done; the hub's completion is awaited until the cutover is overdue.
    assert_eq!(
        next_action(&o, 30 * HOUR),
        Action::Park(30 * HOUR + CUTOVER_GRACE_MS)
    );
    let o = apply_hub(
        o,
        &msg(5, HubEvent::Completed, 30 * HOUR + 9),
        30 * HOUR + 9,
    );
    assert_eq!(next_action(&o, 31 * HOUR), Action::PortComplete);
    let temp = o.msisdn.clone();
    let (o, effect) = complete(o, 31 * HOUR);
    assert_eq!((o.status, effect), (OrderStatus::Active, Effect::Activate));
    assert_eq!(o.msisdn.as_str(), PORTED);
    assert_eq!(port(&o).temporary.as_ref(), Some(&temp));
    assert_eq!(o.status_name(), "active");
}

#[test]
fn the_acknowledgement_is_recorded_with_the_number_activation_and_made_straight_after_it() {
    let o = submitted(true);
    let o = apply_hub(o, &msg(1, HubEvent::Scheduled, 2), 2);
    let o = apply_hub(o, &msg(2, HubEvent::Locked, 3), 3);
    let o = apply_hub(o, &msg(3, HubEvent::Cutover, 4), 4);
    let activate = |attempt| Action::Port {
        op: PortOp::ActivateNumber,
        attempt,
    };
    assert_eq!(next_action(&o, 4), activate(1));
    assert_eq!(
        port(&o).ack,
        None,
        "nothing to acknowledge before the number is on"
    );
    let sent = mark_port_sent(o, PortOp::ActivateNumber, 1, 4);
    assert_eq!(
        port(&sent).ack,
        Some(Step::Sent { attempt: 1 }),
        "recorded first"
    );
    // A crash here leaves both in doubt: the number goes first, and the acknowledgement is
    // recorded again with it.
    assert_eq!(next_action(&sent, 5), activate(2));
    let again = mark_port_sent(sent.clone(), PortOp::ActivateNumber, 2, 5);
    assert_eq!(port(&again).ack, Some(Step::Sent { attempt: 2 }));
    // The HLR is busy: the acknowledgement was not made and waits for the number.
    let busy = PortAnswer::Retryable("busy".into());
    let waiting = on_port_answer(sent.clone(), PortOp::ActivateNumber, at(1, 5), busy);
    assert_eq!(port(&waiting).ack, None);
    assert_eq!(ack_after_activation(&waiting, PortOp::ActivateNumber), None);
    assert!(matches!(next_action(&waiting, 5), Action::WaitUntil(_)));
    // Done: the driver makes attempt 1 of the acknowledgement before any commit.
    let changed = PortAnswer::Done("number_changed".into());
    let done = on_port_answer(sent, PortOp::ActivateNumber, at(1, 5), changed);
    assert!(port(&done).number_active);
    assert_eq!(ack_after_activation(&done, PortOp::ActivateNumber), Some(1));
    assert_eq!(ack_after_activation(&done, PortOp::Acknowledge), None);
    let accepted = PortAnswer::Done("accepted".into());
    let acked = on_port_answer(done, PortOp::Acknowledge, at(1, 5), accepted);
    assert!(matches!(port(&acked).ack, Some(Step::Done { .. })));
    assert_eq!(ack_after_activation(&acked, PortOp::ActivateNumber), None);
    assert!(matches!(next_action(&acked, 6), Action::Park(_)));
}

#[test]
fn in_china_the_line_waits_and_cutover_creates_the_subscriber() {
    let o = order(false);
    assert!(
        matches!(
            next_action(&o, 0),
            Action::Port {
                op: PortOp::Submit,
                ..
            }
        ),
        "no HLR step before the hub"
    );
    let o = step(o, PortOp::Submit, PortAnswer::Done("P-1".into()), 1);
    let o = apply_hub(o, &msg(1, HubEvent::Scheduled, 2), 2);
    let o = apply_hub(o, &msg(2, HubEvent::Locked, 2), 2);
    let o = apply_hub(o, &msg(3, HubEvent::Cutover, 3), 3);
    assert_eq!(o.hlr, Step::Pending);
    let o = step(
        o,
        PortOp::ActivateNumber,
        PortAnswer::Done("created".into()),
        3,
    );
    assert!(matches!(o.hlr, Step::Done { .. }), "{:?}", o.hlr);
    assert!(port(&o).number_active);
}

#[test]
fn a_cancel_before_the_lock_goes_to_the_hub_and_the_temporary_line_is_removed() {
    let o = submitted(true);
    assert_eq!(cancel_allowed(&o, 5), Ok(()));
    let o = apply_cancel(o, 5);
    assert_eq!(port(&o).state, PortState::CancelPending);
    let o = step(o, PortOp::Cancel, PortAnswer::Done("accepted".into()), 6);
    let o = apply_hub(o, &msg(1, HubEvent::Cancelled, 7), 7);
    assert_eq!(next_action(&o, 7), Action::PortRelease);
    assert_eq!(o.status_name(), "compensating");
    let (o, effect) = release(o, 8);
    assert_eq!(
        (o.status, effect),
        (OrderStatus::Compensating, Effect::None)
    );
    assert_eq!(
        o.error.as_ref().map(|e| e.code.as_str()),
        Some("port_cancelled")
    );
    // The activation's compensation removes the line on the temporary number.
    assert_eq!(next_action(&o, 8), Action::Deprovision { attempt: 1 });
    // Where nothing reached the HLR, the order fails at once and gives everything back.
    let o = apply_cancel(order(false), 1);
    assert_eq!(port(&o).state, PortState::Cancelled);
    let (o, effect) = release(o, 2);
    assert_eq!((o.status, effect), (OrderStatus::Failed, Effect::Release));
    assert_eq!(o.status_name(), "port_cancelled");
}

#[test]
fn a_reschedule_goes_to_the_hub_and_a_refusal_leaves_the_port_on_its_date() {
    let o = apply_hub(submitted(true), &msg(1, HubEvent::Scheduled, 2), 2);
    assert_eq!(port(&o).state, PortState::Scheduled);
    // Asked: one hub request for the day; the hub's new `scheduled` moves the promise.
    let o = apply_reschedule(o, 54 * HOUR, 3);
    assert_eq!(port(&o).requested_at_ms, Some(54 * HOUR));
    let o = step(
        o,
        PortOp::Reschedule,
        PortAnswer::Done("accepted".into()),
        4,
    );
    let mut moved = msg(2, HubEvent::Scheduled, 5);
    moved.due_at = UtcTime::from_unix_ms(54 * HOUR);
    moved.lock_at = UtcTime::from_unix_ms(44 * HOUR);
    let o = apply_hub(o, &moved, 5);
    assert_eq!(
        (port(&o).due_at_ms, port(&o).lock_at_ms),
        (Some(54 * HOUR), Some(44 * HOUR))
    );
    assert!(matches!(next_action(&o, 6), Action::Park(d) if d == 44 * HOUR));
    // Refused: the step ends, the order stays open on its date, nothing else runs.
    let o = apply_reschedule(o, 80 * HOUR, 7);
    let o = step(
        o,
        PortOp::Reschedule,
        PortAnswer::Refused("date_not_available".into()),
        8,
    );
    let r = port(&o).reschedule.as_ref().expect("reschedule");
    assert!(matches!(r.step, Step::Failed { .. }), "{r:?}");
    assert_eq!(port(&o).state, PortState::Scheduled);
    assert_eq!(port(&o).due_at_ms, Some(54 * HOUR));
    assert!(!o.status.is_terminal());
    assert!(matches!(next_action(&o, 9), Action::Park(_)));
    // Past the lock point a reschedule changes nothing.
    let locked = apply_hub(o, &msg(3, HubEvent::Locked, 10), 10);
    let after = apply_reschedule(locked.clone(), 90 * HOUR, 11);
    assert_eq!(after.port, locked.port);
}

#[test]
fn a_cancel_while_the_submission_is_in_doubt_waits_for_it_then_goes_to_the_hub() {
    let o = order(false);
    let Action::Port { op, attempt } = next_action(&o, 0) else {
        panic!("{:?}", next_action(&o, 0));
    };
    assert_eq!(op, PortOp::Submit);
    // Sent, no answer recorded (a crash, a timeout): the hub may hold the port.
    let o = mark_port_sent(o, op, attempt, 0);
    let o = apply_cancel(o, 1);
    assert_eq!(port(&o).state, PortState::Validating, "not ended locally");
    // The submission is repeated; its answer names the port, then the cancel is sent.
    let o = step(o, PortOp::Submit, PortAnswer::Done("P-1".into()), 2);
    assert_eq!(port(&o).state, PortState::CancelPending);
    let o = step(o, PortOp::Cancel, PortAnswer::Done("accepted".into()), 3);
    let o = apply_hub(o, &msg(1, HubEvent::Cancelled, 4), 4);
    assert_eq!(next_action(&o, 5), Action::PortRelease);
    // Refused instead: nothing to cancel at the hub; the order is released.
    let o = mark_port_sent(order(false), PortOp::Submit, 1, 0);
    let o = apply_cancel(o, 1);
    let o = on_port_answer(o, PortOp::Submit, at(1, 2), PortAnswer::Refused("x".into()));
    assert_eq!(next_action(&o, 3), Action::PortRelease);
}

#[test]
fn past_the_lock_a_cancel_is_refused_and_nothing_is_given_up() {
    let o = submitted(false);
    let o = apply_hub(o, &msg(1, HubEvent::Scheduled, 2), 2);
    let o = apply_hub(o, &msg(2, HubEvent::Locked, 3), 3);
    assert_eq!(cancel_allowed(&o, 4), Err(CancelRefused::Locked));
    let o = apply_cancel(o, 4);
    assert_eq!(port(&o).state, PortState::Locked);
    // A late rejection is recorded and changes nothing.
    let reason = RejectReason::parse("contract_lock", "reason").expect("reason");
    let o = apply_hub(o, &msg(3, HubEvent::Rejected { reason }, 5), 5);
    assert_eq!(port(&o).state, PortState::Locked);
    // The HLR refusing the ported number is retried for good, and flagged.
    let o = apply_hub(o, &msg(4, HubEvent::Cutover, 6), 6);
    let mut o = o;
    for n in 1..=FIXTURE_POLICY.max_attempts + 2 {
        let now = 10 * HOUR * u64::from(n);
        let Action::Port { op, attempt } = next_action(&o, now) else {
            panic!("{:?}", next_action(&o, now));
        };
        assert_eq!(op, PortOp::ActivateNumber);
        let sent = mark_port_sent(o, op, attempt, now);
        o = on_port_answer(
            sent,
            op,
            at(attempt, now),
            PortAnswer::Refused("conflict".into()),
        );
        assert!(matches!(port(&o).activate, Some(Step::RetryWait { .. })));
        assert_ne!(o.status, OrderStatus::Compensating);
    }
    assert!(o.attention.contains(&AttentionReason::PortCutoverStalled));
    let now = 100 * HOUR;
    let o = step(
        o,
        PortOp::ActivateNumber,
        PortAnswer::Done("created".into()),
        now,
    );
    assert!(!o.needs_attention, "settled once the number is on the line");
}

#[test]
fn deadlines_expire_a_stale_port_and_flag_an_overdue_cutover() {
    let o = submitted(false);
    assert_eq!(next_action(&o, 720 * HOUR), Action::PortDeadline);
    let o = on_deadline(o, 720 * HOUR);
    assert_eq!(port(&o).state, PortState::Expired);
    // The hub knows the port: it is cancelled there before the release.
    assert!(matches!(
        next_action(&o, 720 * HOUR),
        Action::Port {
            op: PortOp::Cancel,
            ..
        }
    ));
    let o = submitted(false);
    let o = apply_hub(o, &msg(1, HubEvent::Scheduled, 2), 2);
    let o = apply_hub(o, &msg(2, HubEvent::Locked, 3), 3);
    let late = 30 * HOUR + CUTOVER_GRACE_MS;
    assert_eq!(next_action(&o, late), Action::PortDeadline);
    let o = on_deadline(o, late);
    assert!(o.attention.contains(&AttentionReason::PortCutoverStalled));
    assert_eq!(next_action(&o, late + 1), Action::Park(u64::MAX));
}

#[test]
fn a_refused_submission_ends_the_port_with_the_hubs_code() {
    let o = order(false);
    let o = step(
        o,
        PortOp::Submit,
        PortAnswer::Refused("number_not_portable".into()),
        1,
    );
    assert_eq!(port(&o).state, PortState::Rejected);
    let (o, effect) = release(o, 2);
    assert_eq!(effect, Effect::Release);
    assert_eq!(
        o.error.as_ref().map(|e| e.code.as_str()),
        Some("number_not_portable")
    );
    // An unreachable hub ends it once the retries are spent.
    let mut o = order(false);
    for n in 1..=FIXTURE_POLICY.max_attempts {
        let now = HOUR * u64::from(n);
        o = step(
            o,
            PortOp::Submit,
            PortAnswer::Retryable("timeout".into()),
            now,
        );
    }
    assert_eq!(port(&o).state, PortState::Failed);
    let (o, _) = release(o, 10 * HOUR);
    assert_eq!(
        o.error.as_ref().map(|e| e.code.as_str()),
        Some("hub_unavailable")
    );
}

#[test]
fn a_parked_order_has_nothing_to_do_until_woken() {
    let o = park(submitted(false), 720 * HOUR, 2);
    assert_eq!(o.port_parked(), Some(720 * HOUR));
    assert_eq!(next_action(&o, 2), Action::Finished);
    let o = wake(o, 3);
    assert_eq!(o.port_parked(), None);
    assert_eq!(next_action(&o, 3), Action::Park(720 * HOUR));
}

pub(in crate::engine::machine) fn event(e: u8) -> HubEvent {
    match e {
        0 => HubEvent::Accepted,
        1 => HubEvent::Scheduled,
        2 => HubEvent::Locked,
        3 => HubEvent::Cutover,
        4 => HubEvent::Completed,
        5 => HubEvent::Cancelled,
        _ => HubEvent::Rejected {
            reason: RejectReason::parse("contract_lock", "reason").expect("reason"),
        },
    }
}

proptest! {
    /// Hub messages delivered twice, and in any order: applying a message again changes
    /// nothing of the port; the number is put on the line at most once per port; and a
    /// port that passed its lock is never released.
    #[test]
    fn duplicates_and_reordering_change_nothing_twice(
        order_of in proptest::collection::vec((0u8..7, 1u64..8, any::<bool>()), 0..30),
    ) {
        let mut o = submitted(true);
        let mut activations = 0;
        let mut passed_lock = false;
        for (i, (e, seq, again)) in order_of.into_iter().enumerate() {
            let now = 10 + i as u64;
            let m = msg(seq, event(e), now);
            let once = apply_hub(o.clone(), &m, now);
            if again {
                let twice = apply_hub(once.clone(), &m, now);
                prop_assert_eq!(&twice.port, &once.port);
            }
            o = once;
            passed_lock |= port(&o).state.past_lock();
            // Perform whatever step the order asks for, successfully.
            while let Action::Port { op, attempt } = next_action(&o, now) {
                if op == PortOp::ActivateNumber {
                    activations += 1;
                }
                let answer = match op {
                    PortOp::Submit => PortAnswer::Done("P-1".into()),
                    _ => PortAnswer::Done("ok".into()),
                };
                o = on_port_answer(mark_port_sent(o, op, attempt, now), op, at(attempt, now), answer);
            }
            if passed_lock {
                prop_assert_ne!(next_action(&o, now), Action::PortRelease);
            }
        }
        prop_assert!(activations <= 1, "the number went on the line {} times", activations);
    }

    /// A message applied on arrival to a parked port (one write, in the store's commit)
    /// leaves the order as the engine's wake, apply and park (three writes) do, but for
    /// the version, moved once.
    #[test]
    fn a_message_applied_on_arrival_is_the_engines_three_writes_in_one(
        order_of in proptest::collection::vec((0u8..7, 1u64..8), 0..20),
    ) {
        let mut o = submitted(true);
        for (i, (e, seq)) in order_of.into_iter().enumerate() {
            let now = 10 + i as u64;
            // Perform whatever step the order asks for, successfully, until it waits.
            while let Action::Port { op, attempt } = next_action(&o, now) {
                let answer = PortAnswer::Done("ok".into());
                o = on_port_answer(mark_port_sent(o, op, attempt, now), op, at(attempt, now), answer);
            }
            let Action::Park(due) = next_action(&o, now) else {
                break;
            };
            o = park(o, due, now);
            let m = msg(seq, event(e), now);
            let engine = {
                let woken = apply_hub(wake(o.clone(), now), &m, now);
                match next_action(&woken, now) {
                    Action::Park(due) => park(woken, due, now),
                    _ => woken,
                }
            };
            let folded = on_arrival(o.clone(), now, |w| apply_hub(w, &m, now));
            prop_assert_eq!(folded.version, o.version + 1);
            let mut same = engine.clone();
            same.version = folded.version;
            prop_assert_eq!(&folded, &same);
            o = engine;
        }
    }
}

use super::*;
use crate::compliance::Market;
use crate::crypto::Sealed;
use adapters::porting::{Actor, Code, Ref, RejectReason, UtcTime};
use proptest::prelude::*;

const HOUR: u64 = 3_600_000;

fn port() -> PortIn {
    let sealed = Sealed {
        kid: "k1".into(),
        nonce: "00".into(),
        ct: "00".into(),
    };
    let number = "447700900123".parse().expect("msisdn");
    PortIn::new(
        Market::Uk,
        number,
        "donor-1".into(),
        sealed,
        Some(30 * 24 * HOUR),
        None,
    )
    .running_on(Some("447700900999".parse().expect("msisdn")))
}

fn msg(seq: u64, event: HubEvent, at_ms: u64) -> HubMessage {
    HubMessage {
        message_id: Ref::parse(&format!("m-{seq}"), "message_id").expect("ref"),
        port_ref: Ref::parse("P-1", "port_ref").expect("ref"),
        sequence: seq,
        at: UtcTime::from_unix_ms(at_ms).expect("time"),
        actor: Actor::Hub,
        reference: None,
        due_at: UtcTime::from_unix_ms(10 * HOUR),
        lock_at: UtcTime::from_unix_ms(8 * HOUR),
        range_holder: None,
        event,
    }
}

fn submitted() -> PortIn {
    assert_eq!(start(&port()), [PortEffect::Submit]);
    on_submitted(port(), "P-1", 1)
}

fn states(p: &PortIn) -> Vec<PortState> {
    p.timeline.iter().map(|t| t.state).collect()
}

#[test]
fn the_happy_path_goes_through_every_state_in_order() {
    let p = submitted();
    assert_eq!(
        (p.state, p.port_ref.as_deref()),
        (PortState::Submitted, Some("P-1"))
    );
    let (p, fx) = on_message(p, &msg(1, HubEvent::Accepted, 2));
    assert!(fx.is_empty());
    let (p, _) = on_message(p, &msg(2, HubEvent::Scheduled, 3));
    assert_eq!(
        (p.state, p.due_at_ms, p.lock_at_ms),
        (PortState::Scheduled, Some(10 * HOUR), Some(8 * HOUR))
    );
    let (p, _) = on_message(p, &msg(3, HubEvent::Locked, 8 * HOUR));
    assert_eq!(p.state, PortState::Locked);
    let (p, fx) = on_message(p, &msg(4, HubEvent::Cutover, 10 * HOUR));
    assert_eq!(
        (p.state, fx),
        (PortState::Activating, vec![PortEffect::ActivateNumber])
    );
    let (p, fx) = on_number_active(p, 10 * HOUR + 5);
    assert_eq!(fx, [PortEffect::Acknowledge("m-4".into())]);
    let (p, fx) = on_message(p, &msg(5, HubEvent::Completed, 10 * HOUR + 9));
    assert_eq!(
        (p.state, fx),
        (PortState::Completed, vec![PortEffect::Complete])
    );
    assert_eq!(p.completed_at_ms, Some(10 * HOUR + 9));
    assert_eq!(
        states(&p),
        [
            PortState::Submitted,
            PortState::Submitted,
            PortState::Scheduled,
            PortState::Locked,
            PortState::Activating,
            PortState::Completed
        ]
    );
    assert_eq!(p.status_name(), "active");
}

#[test]
fn a_rejection_records_its_reason_and_releases_what_was_reserved() {
    let (p, fx) = on_message(
        submitted(),
        &msg(
            1,
            HubEvent::Rejected {
                reason: RejectReason::CredentialInvalid,
            },
            2,
        ),
    );
    assert_eq!(
        (p.state, fx),
        (PortState::Rejected, vec![PortEffect::Release])
    );
    let last = p.timeline.last().expect("transition");
    assert_eq!(last.reason_code.as_deref(), Some("credential_invalid"));
    assert_eq!(last.external_ref.as_deref(), Some("m-1"));
    assert_eq!(p.status_name(), "port_rejected");
    // Nothing moves a finished port.
    let (q, fx) = on_message(p.clone(), &msg(2, HubEvent::Cutover, 3));
    assert_eq!((q.state, fx), (PortState::Rejected, vec![]));
}

#[test]
fn cancel_before_the_lock_asks_the_hub_and_after_it_is_refused() {
    // Not yet known to the hub: over at once.
    let (p, fx) = request_cancel(port(), 5).expect("cancel");
    assert_eq!(
        (p.state, fx),
        (PortState::Cancelled, vec![PortEffect::Release])
    );
    // Known: the hub is asked, and its confirmation releases.
    let (p, _) = on_message(submitted(), &msg(1, HubEvent::Scheduled, 2));
    let (p, fx) = request_cancel(p, 3).expect("cancel");
    assert_eq!(
        (p.state, fx),
        (PortState::CancelPending, vec![PortEffect::SendCancel])
    );
    let (again, fx) = request_cancel(p.clone(), 4).expect("repeat");
    assert_eq!((again.state, fx), (PortState::CancelPending, vec![]));
    let (p, fx) = on_message(p, &msg(2, HubEvent::Cancelled, 5));
    assert_eq!(
        (p.state, fx),
        (PortState::Cancelled, vec![PortEffect::Release])
    );
    assert_eq!(request_cancel(p, 6), Err(CancelRefused::Finished));
    // At or past the lock point (by the hub's word or by the clock): 409.
    let (p, _) = on_message(submitted(), &msg(1, HubEvent::Scheduled, 2));
    assert_eq!(
        request_cancel(p.clone(), 8 * HOUR),
        Err(CancelRefused::Locked)
    );
    let (locked, _) = on_message(p, &msg(2, HubEvent::Locked, 3));
    assert_eq!(request_cancel(locked, 4), Err(CancelRefused::Locked));
}

#[test]
fn after_the_lock_only_forward() {
    let (p, _) = on_message(submitted(), &msg(1, HubEvent::Locked, 2));
    for late in [
        HubEvent::Cancelled,
        HubEvent::Rejected {
            reason: RejectReason::ContractLock,
        },
        HubEvent::Conflict {
            cause: Code::parse("50", "cause").expect("code"),
        },
    ] {
        let (q, fx) = on_message(p.clone(), &msg(2, late, 3));
        assert_eq!((q.state, fx), (PortState::Locked, vec![]), "recorded only");
        assert_eq!(q.timeline.len(), p.timeline.len() + 1);
    }
}

#[test]
fn duplicates_and_stale_messages_change_nothing_but_a_lost_acknowledgement_is_repeated() {
    let (p, _) = on_message(submitted(), &msg(3, HubEvent::Locked, 2));
    // `scheduled` (seq 2) overtaken by `locked` (seq 3): stale, but the envelope of the
    // locked message already carried the due time.
    let (q, fx) = on_message(p.clone(), &msg(2, HubEvent::Scheduled, 1));
    assert_eq!((q.clone(), fx), (p.clone(), vec![]));
    assert_eq!(q.due_at_ms, Some(10 * HOUR));
    let (p, _) = on_message(p, &msg(4, HubEvent::Cutover, 10 * HOUR));
    let (p, _) = on_number_active(p, 10 * HOUR + 1);
    let (q, fx) = on_message(p.clone(), &msg(4, HubEvent::Cutover, 10 * HOUR));
    assert_eq!(q, p);
    assert_eq!(fx, [PortEffect::Acknowledge("m-4".into())]);
}

#[test]
fn completion_reported_before_our_side_is_done_is_fixed_forward() {
    let (p, _) = on_message(submitted(), &msg(1, HubEvent::Locked, 2));
    let (p, fx) = on_message(p, &msg(2, HubEvent::Completed, 3));
    assert_eq!(
        (p.state, fx),
        (PortState::Activating, vec![PortEffect::ActivateNumber])
    );
    let (p, fx) = on_number_active(p, 9);
    assert_eq!(
        (p.state, fx),
        (PortState::Completed, vec![PortEffect::Complete])
    );
    assert_eq!(p.completed_at_ms, Some(9));
}

#[test]
fn deadlines_expire_an_unscheduled_port_and_lock_a_scheduled_one() {
    let p = submitted();
    let due = p.next_deadline().expect("credential expiry");
    assert_eq!(on_time(p.clone(), due - 1).1, vec![]);
    let (q, fx) = on_time(p, due);
    assert_eq!(q.state, PortState::Expired);
    assert_eq!(fx, [PortEffect::SendCancel, PortEffect::Release]);
    // Not known to the hub yet: nothing to cancel there.
    let (q, fx) = on_time(port(), due);
    assert_eq!(
        (q.state, fx),
        (PortState::Expired, vec![PortEffect::Release])
    );
    let (p, _) = on_message(submitted(), &msg(1, HubEvent::Scheduled, 2));
    assert_eq!(p.next_deadline(), Some(8 * HOUR));
    let (q, fx) = on_time(p, 8 * HOUR);
    assert_eq!((q.state, fx), (PortState::Locked, vec![]));
    assert_eq!(q.timeline.last().map(|t| t.actor), Some(PortActor::Timer));
    assert_eq!(
        q.next_deadline(),
        None,
        "a locked port waits for the hub only"
    );
}

fn event(i: u8) -> HubEvent {
    match i % 8 {
        0 => HubEvent::Accepted,
        1 => HubEvent::Scheduled,
        2 => HubEvent::Locked,
        3 => HubEvent::Cutover,
        4 => HubEvent::Completed,
        5 => HubEvent::Cancelled,
        6 => HubEvent::Rejected {
            reason: RejectReason::ContractLock,
        },
        _ => HubEvent::Conflict {
            cause: Code::parse("50", "cause").expect("code"),
        },
    }
}

proptest! {
    /// Whatever the hub sends, in whatever order, with whatever channel cancels and our
    /// own activation interleaved: a finished port never changes; nothing is released
    /// once the port has passed its lock; `Complete` comes once, only with the number
    /// active; and a port that passed the lock never ends cancelled or rejected.
    #[test]
    fn the_pivot_holds(steps in proptest::collection::vec((0u8..10, 0u64..12), 0..40)) {
        let mut p = submitted();
        let (mut released, mut completed, mut locked_once) = (false, 0, false);
        for (i, (what, seq)) in steps.into_iter().enumerate() {
            let now = 10 + i as u64;
            let before = p.clone();
            let fx = match what {
                8 => match request_cancel(p.clone(), now) {
                    Ok((q, fx)) => { p = q; fx }
                    Err(_) => Vec::new(),
                },
                9 => { let (q, fx) = on_number_active(p.clone(), now); p = q; fx }
                e => { let (q, fx) = on_message(p.clone(), &msg(seq, event(e), now)); p = q; fx }
            };
            if before.state.is_terminal() {
                prop_assert_eq!(p.state, before.state);
                prop_assert!(!fx.iter().any(|f| matches!(f, PortEffect::Release | PortEffect::Complete)));
            }
            locked_once |= p.state.past_lock();
            for f in &fx {
                match f {
                    PortEffect::Release => {
                        prop_assert!(!before.state.past_lock(), "released after the lock");
                        prop_assert!(!released);
                        released = true;
                    }
                    PortEffect::Complete => {
                        prop_assert!(p.number_active);
                        completed += 1;
                    }
                    _ => {}
                }
            }
            if locked_once {
                prop_assert!(!matches!(p.state, PortState::Cancelled | PortState::Rejected | PortState::Expired));
            }
        }
        prop_assert!(completed <= 1);
        prop_assert!(!(released && completed == 1));
    }
}

use super::*;
use crate::engine::machine::{FIXTURE_POLICY, at, fixture_order, next_action, plan};
use crate::order::{Actor, Line, SuspensionReason};
use adapters::hlr::FaultClass;
use proptest::prelude::*;

fn line(barred: bool) -> Line {
    let o = fixture_order();
    Line {
        iccid: o.iccid,
        imsi: o.imsi,
        msisdn: Some(o.msisdn),
        hlr_profile_id: 1,
        barred,
    }
}

pub(in crate::engine::machine) fn order(
    kind: OrderKind,
    reason: Option<SuspensionReason>,
    before: &[SuspensionReason],
) -> Order {
    let mut l = Lifecycle {
        subscription: "sub_x".into(),
        actor: Actor {
            key_prefix: "sk_test".into(),
            role: "operator".into(),
        },
        reason,
        verification: false,
        line: line(!before.is_empty()),
        reasons_before: before.to_vec(),
        new_line: None,
        new_msisdn: None,
        new_profile: None,
        undownloaded_profile: None,
        number_return: None,
        plan: Vec::new(),
        undo: Vec::new(),
    };
    if kind == OrderKind::SimSwap {
        l.new_line = Some(Line {
            iccid: "8988211000000530090".parse().expect("iccid"),
            imsi: "001010000000009".parse().expect("imsi"),
            ..line(!before.is_empty())
        });
    }
    l.plan = plan(kind, &l);
    let mut o = fixture_order();
    o.id = "ord_x".into();
    o.kind = kind;
    o.lifecycle = Some(l);
    o
}

fn retryable() -> HlrError {
    HlrError::new(FaultClass::Transient, "set_barring", "timeout")
}

fn permanent() -> HlrError {
    HlrError::new(FaultClass::Conflict, "set_barring", "refused")
}

/// Drives `o` with answers from `answer` until it is terminal; returns it, the effect of
/// its last change and the ops performed.
fn drive(
    mut o: Order,
    mut answer: impl FnMut(&SagaOp) -> Result<&'static str, HlrError>,
) -> (Order, Effect, Vec<SagaOp>) {
    let mut now = 10;
    let mut done = Vec::new();
    let mut last = Effect::None;
    for _ in 0..200 {
        match next_action(&o, now) {
            Action::Finished => return (o, last, done),
            Action::WaitUntil(t) => now = t,
            Action::Conclude => {
                let v = o.version;
                let (n, e) = conclude(o, now);
                assert_eq!(n.version, v + 1, "one version per persisted change");
                (o, last) = (n, e);
            }
            Action::Saga {
                undo,
                index,
                op,
                attempt,
            } => {
                let v = o.version;
                o = mark_saga_sent(o, undo, index, attempt, now);
                let r = answer(&op);
                done.push(op);
                let (n, e) = on_saga_answer(
                    o,
                    undo,
                    index,
                    at(attempt, now),
                    r.map(StepDone::from).map_err(StepFailure::from),
                );
                // The store accepts each write only as the next version.
                assert_eq!(n.version, v + 2, "one version per persisted change");
                (o, last) = (n, e);
            }
            other => panic!("unexpected {other:?}"),
        }
        now += 1;
    }
    panic!("the saga did not finish");
}

#[test]
fn a_first_suspension_bars_and_a_stacked_one_changes_nothing_on_the_hlr() {
    let o = order(OrderKind::Suspend, Some(SuspensionReason::NonPayment), &[]);
    let (o, e, ops) = drive(o, |_| Ok("ok"));
    assert_eq!((o.status, e), (OrderStatus::Completed, Effect::Complete));
    assert!(matches!(
        ops.as_slice(),
        [SagaOp::SetBarring { barred: true, .. }]
    ));
    let o = order(
        OrderKind::Suspend,
        Some(SuspensionReason::LostOrStolen),
        &[SuspensionReason::NonPayment],
    );
    let (o, e, ops) = drive(o, |_| Ok("ok"));
    assert_eq!((o.status, e), (OrderStatus::Completed, Effect::Complete));
    assert!(ops.is_empty());
}

#[test]
fn only_lifting_the_last_reason_unbars() {
    let both = [SuspensionReason::NonPayment, SuspensionReason::LostOrStolen];
    let (_, _, ops) = drive(
        order(OrderKind::Resume, Some(SuspensionReason::NonPayment), &both),
        |_| Ok("ok"),
    );
    assert!(ops.is_empty());
    let (_, _, ops) = drive(
        order(
            OrderKind::Resume,
            Some(SuspensionReason::LostOrStolen),
            &[SuspensionReason::LostOrStolen],
        ),
        |_| Ok("ok"),
    );
    assert!(matches!(
        ops.as_slice(),
        [SagaOp::SetBarring { barred: false, .. }]
    ));
}

#[test]
fn a_refused_one_write_step_fails_the_order_with_nothing_to_undo() {
    let mut o = order(OrderKind::NumberChange, None, &[]);
    if let Some(l) = o.lifecycle.as_mut() {
        l.new_msisdn = Some("447700900123".parse().expect("msisdn"));
        l.plan = plan(OrderKind::NumberChange, l);
    }
    let (o, e, ops) = drive(o, |op| match op {
        SagaOp::ChangeMsisdn { .. } => Err(permanent()),
        _ => Ok("ok"),
    });
    assert_eq!((o.status, e), (OrderStatus::Failed, Effect::Release));
    assert!(
        matches!(ops.as_slice(), [SagaOp::ChangeMsisdn { .. }]),
        "{ops:?}"
    );
    assert_eq!(o.error.map(|e| e.code).as_deref(), Some("hlr_rejected"));
}

#[test]
fn a_barring_refused_at_its_first_attempt_is_set_back_because_it_writes_in_parts() {
    // OsmoHLR bars in two writes: a refusal of `ps-enabled` leaves `cs-enabled` written.
    let o = order(OrderKind::Suspend, Some(SuspensionReason::NonPayment), &[]);
    let (o, e, ops) = drive(o, |op| match op {
        SagaOp::SetBarring { barred: true, .. } => Err(permanent()),
        _ => Ok("ok"),
    });
    assert_eq!((o.status, e), (OrderStatus::Failed, Effect::Release));
    assert!(
        matches!(
            ops.as_slice(),
            [
                SagaOp::SetBarring { barred: true, .. },
                SagaOp::SetBarring { barred: false, .. }
            ]
        ),
        "{ops:?}"
    );
    assert_eq!(o.error.map(|e| e.code).as_deref(), Some("hlr_rejected"));
}

#[test]
fn a_provision_refused_at_its_first_attempt_is_undone_because_it_writes_in_parts() {
    // CAI3G writes the AUC entry, then the HLR subscription: a refusal of the second
    // leaves the first (the fault soak found such orphans after refused SIM swaps).
    let o = order(OrderKind::SimSwap, None, &[]);
    let new = o
        .lifecycle
        .as_ref()
        .and_then(|l| l.new_line.clone())
        .expect("new line");
    let (o, e, ops) = drive(o, |op| match op {
        SagaOp::Provision { line } if line.iccid == new.iccid => Err(permanent()),
        _ => Ok("ok"),
    });
    assert_eq!((o.status, e), (OrderStatus::Failed, Effect::Release));
    assert_eq!(o.error.map(|e| e.code).as_deref(), Some("hlr_rejected"));
    assert!(
        matches!(ops.as_slice(), [SagaOp::Provision { .. }, SagaOp::Deprovision { line }] if line.iccid == new.iccid),
        "{ops:?}"
    );
}

#[test]
fn a_step_out_of_budget_is_undone_because_it_may_have_applied() {
    let o = order(OrderKind::Suspend, Some(SuspensionReason::NonPayment), &[]);
    let mut calls = 0;
    let (o, e, ops) = drive(o, |op| {
        calls += 1;
        match op {
            SagaOp::SetBarring { barred: true, .. } => Err(retryable()),
            _ => Ok("ok"),
        }
    });
    assert_eq!((o.status, e), (OrderStatus::Failed, Effect::Release));
    assert_eq!(calls as u32, FIXTURE_POLICY.max_attempts + 1);
    assert!(matches!(
        ops.last(),
        Some(SagaOp::SetBarring { barred: false, .. })
    ));
    assert_eq!(o.error.map(|e| e.code).as_deref(), Some("hlr_unavailable"));
}

#[test]
fn a_swap_moves_the_number_in_four_steps_and_names_the_holder() {
    let o = order(OrderKind::SimSwap, None, &[]);
    let new = o
        .lifecycle
        .as_ref()
        .and_then(|l| l.new_line.clone())
        .expect("new");
    let (o, e, ops) = drive(o, |_| Ok("ok"));
    assert_eq!((o.status, e), (OrderStatus::Completed, Effect::Complete));
    let names: Vec<_> = ops.iter().map(SagaOp::name).collect();
    assert_eq!(
        names,
        [
            "hlr_provision",
            "hlr_detach_msisdn",
            "hlr_provision",
            "hlr_deprovision"
        ]
    );
    assert_eq!(
        o.lifecycle.as_ref().and_then(|l| l.msisdn_holder()),
        Some(&new.iccid)
    );
}

#[test]
fn a_swap_refused_at_the_attach_puts_the_number_back_on_the_old_card() {
    let o = order(OrderKind::SimSwap, None, &[]);
    let old = o.lifecycle.as_ref().map(|l| l.line.clone()).expect("line");
    let mut provisions = 0;
    let (o, e, ops) = drive(o, |op| match op {
        SagaOp::Provision { line } if line.msisdn.is_some() && line.iccid != old.iccid => {
            provisions += 1;
            Err(permanent())
        }
        _ => Ok("ok"),
    });
    assert_eq!(provisions, 1);
    assert_eq!((o.status, e), (OrderStatus::Failed, Effect::Release));
    // Undo: the refused attach may have written the new card's AUC entry before the HLR
    // refused, so it is removed; then the number goes back on the old card, and the new
    // card (as provisioned without a number) is removed.
    let tail: Vec<_> = ops[3..].to_vec();
    assert!(
        matches!(&tail[0], SagaOp::Deprovision { line } if line.msisdn.is_some() && line.iccid != old.iccid)
    );
    assert!(matches!(&tail[1], SagaOp::Provision { line } if *line == old));
    assert!(matches!(&tail[2], SagaOp::Deprovision { line } if line.msisdn.is_none()));
    assert_eq!(
        o.lifecycle.as_ref().and_then(|l| l.msisdn_holder()),
        Some(&old.iccid)
    );
}

#[test]
fn removing_the_old_card_after_the_move_never_fails_the_swap() {
    let o = order(OrderKind::SimSwap, None, &[]);
    let mut refusals = 0;
    let (o, e, _) = drive(o, |op| match op {
        SagaOp::Deprovision { .. } if refusals < 5 => {
            refusals += 1;
            Err(permanent())
        }
        _ => Ok("ok"),
    });
    assert_eq!((o.status, e), (OrderStatus::Completed, Effect::Complete));
    assert!(
        !o.needs_attention,
        "the stall flag is withdrawn once it succeeds"
    );
}

/// What an operation does to the line's reasons once it completes (the store's rule).
fn apply(reasons: &mut Vec<SuspensionReason>, kind: OrderKind, r: SuspensionReason) {
    match kind {
        OrderKind::Suspend if !reasons.contains(&r) => reasons.push(r),
        OrderKind::Resume => reasons.retain(|x| *x != r),
        _ => {}
    }
}

#[derive(Clone, Debug)]
enum Fault {
    None,
    /// Refused: at the first write (nothing applied), or at the second of OsmoHLR's two
    /// (`cs-enabled` written, `ps-enabled` not).
    Refused {
        first_written: bool,
    },
    /// Timed out: applied or not, unknown to the gateway.
    Timeout {
        applied: bool,
    },
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        4 => Just(Fault::None),
        1 => any::<bool>().prop_map(|first_written| Fault::Refused { first_written }),
        1 => any::<bool>().prop_map(|applied| Fault::Timeout { applied }),
    ]
}

proptest! {
    /// Random suspends and resumes with faults at the HLR (a barring written in two parts,
    /// as OsmoHLR does, refused between them included) never leave its barring different
    /// from the subscription's reasons once the orders are terminal.
    #[test]
    fn barring_always_follows_the_reasons(
        ops in proptest::collection::vec(
            (any::<bool>(), 0usize..5, proptest::collection::vec(fault(), 0..12)),
            1..25,
        )
    ) {
        let mut reasons: Vec<SuspensionReason> = Vec::new();
        // Circuit- and packet-switched barring, written in that order.
        let mut hlr = (false, false);
        for (suspend, r, faults) in ops {
            let r = SuspensionReason::ALL[r];
            let kind = if suspend { OrderKind::Suspend } else { OrderKind::Resume };
            // The API refuses what would change nothing; those orders never exist.
            if suspend == reasons.contains(&r) {
                continue;
            }
            let o = order(kind, Some(r), &reasons);
            let mut faults = faults.into_iter();
            let (o, effect, _) = drive(o, |op| {
                let SagaOp::SetBarring { barred, .. } = op else { return Ok("ok") };
                match faults.next().unwrap_or(Fault::None) {
                    Fault::None => { hlr = (*barred, *barred); Ok("ok") }
                    Fault::Refused { first_written } => {
                        if first_written { hlr.0 = *barred; }
                        Err(permanent())
                    }
                    Fault::Timeout { applied } => {
                        if applied { hlr = (*barred, *barred); }
                        Err(retryable())
                    }
                }
            });
            prop_assert!(o.status.is_terminal());
            if effect == Effect::Complete {
                apply(&mut reasons, kind, r);
            }
            let want = !reasons.is_empty();
            prop_assert_eq!(hlr, (want, want));
        }
    }
}

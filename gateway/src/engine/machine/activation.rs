//! The activation machine: an order whose create commit asked for it first verifies the
//! subscriber's identity (`super::identity`); then a physical order provisions the HLR; an
//! eSIM order also reserves and releases its profile at the SM-DP+ (`super::esim`).
//! Compensation undoes what was done: CancelOrder, then HLR clean-up.

use super::esim::Es2Call;
use super::{Action, Attempt, finished, next_attempt, open, touch};
use crate::order::{AttentionReason, Effect, Order, OrderError, OrderStatus, ProfileFate, Step};
use adapters::hlr::{DeprovisionOutcome, HlrError, ProvisionOutcome};

/// The next action of a non-terminal activation.
pub(super) fn next_action(o: &Order, now_ms: u64) -> Action {
    let Some((step, kind)) = current_step(o) else {
        return Action::Finished;
    };
    let attempt = match next_attempt(step, now_ms) {
        Ok(n) => n,
        Err(action) => return action,
    };
    match kind {
        StepRef::Verify => Action::Verify { attempt },
        StepRef::Hlr => Action::Provision { attempt },
        StepRef::Undo => Action::Deprovision { attempt },
        StepRef::Es2(call) => Action::Es2 { call, attempt },
    }
}

/// Which step of an order is current.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StepRef {
    Verify,
    Hlr,
    Undo,
    Es2(Es2Call),
}

/// The step to work on: forward (the identity verification first, when asked for; then
/// eSIM: DownloadOrder, HLR, ConfirmOrder, with a
/// verification of a doubtful release (DownloadOrder again, ReleaseProfile) ahead of the
/// confirm it holds; physical: HLR), or, once compensating, the undo steps (eSIM:
/// CancelOrder first, then the HLR).
fn current_step(o: &Order) -> Option<(&Step, StepRef)> {
    if o.status == OrderStatus::Compensating {
        if let Some(c) = o.esim.as_ref().and_then(|e| e.cancel.as_ref()) {
            if !finished(c) {
                return Some((c, StepRef::Es2(Es2Call::Cancel)));
            }
        }
        return o.undo.as_ref().map(|u| (u, StepRef::Undo));
    }
    if let Some(s) = super::identity::current(o) {
        return Some((s, StepRef::Verify));
    }
    match &o.esim {
        None => Some((&o.hlr, StepRef::Hlr)),
        Some(e) if !finished(&e.download) => Some((&e.download, StepRef::Es2(Es2Call::Download))),
        Some(_) if !finished(&o.hlr) => Some((&o.hlr, StepRef::Hlr)),
        Some(e) => {
            if let Some(s) = open(e.reorder.as_ref()) {
                return Some((s, StepRef::Es2(Es2Call::Reorder)));
            }
            if let Some(s) = open(e.release_check.as_ref()) {
                return Some((s, StepRef::Es2(Es2Call::Release)));
            }
            Some((&e.confirm, StepRef::Es2(Es2Call::Confirm)))
        }
    }
}

/// Records that provisioning attempt `attempt` is about to be sent.
pub fn mark_sent(o: Order, attempt: u32, now_ms: u64) -> Order {
    let mut o = touch(o, now_ms);
    o.status = OrderStatus::HlrProvisioning;
    o.hlr = Step::Sent { attempt };
    o
}

/// Records that compensation attempt `attempt` is about to be sent.
pub fn mark_undo_sent(o: Order, attempt: u32, now_ms: u64) -> Order {
    let mut o = touch(o, now_ms);
    o.undo = Some(Step::Sent { attempt });
    o
}

/// Applies a provisioning answer.
pub fn on_provision(
    o: Order,
    at: Attempt,
    result: Result<ProvisionOutcome, HlrError>,
) -> (Order, Effect) {
    let mut o = touch(o, at.now_ms);
    let attempt = at.n;
    match result {
        Ok(outcome) => {
            o.hlr = Step::Done {
                outcome: provision_outcome(outcome).into(),
            };
            if o.esim.is_some() {
                // The network knows the subscriber: now release the profile.
                o.status = OrderStatus::EsimReleasing;
                return (o, Effect::None);
            }
            o.status = OrderStatus::Active;
            (o, Effect::Activate)
        }
        Err(e) if e.retryable() && at.may_retry() => {
            o.hlr = at.wait(e.to_string());
            (o, Effect::None)
        }
        Err(e) => {
            let code = if e.retryable() {
                "hlr_unavailable"
            } else {
                "hlr_rejected"
            };
            // The detail stays true for the order's whole life: while it is `compensating`
            // and once it is `failed` (the status says whether inventory is back yet).
            let detail = if e.retryable() {
                format!(
                    "the host operator's HLR did not accept the subscriber after {attempt} attempts ({e}); the SIM and number go back to the pool once the HLR is cleaned up (status `failed`); retry the activation later"
                )
            } else {
                format!(
                    "the host operator's HLR refused the subscriber ({e}); the SIM and number go back to the pool once the HLR is cleaned up (status `failed`); check the product's HLR profile with the host operator"
                )
            };
            o.hlr = Step::Failed {
                attempt,
                error: e.to_string(),
            };
            o.error = Some(OrderError {
                code: code.into(),
                detail,
            });
            if let Some(e) = o.esim.as_mut() {
                // The profile was reserved at the SM-DP+ and is still reusable.
                e.cancel = Some(Step::Pending);
                e.fate = Some(ProfileFate::Reuse);
            }
            o.status = OrderStatus::Compensating;
            o.undo = Some(Step::Pending);
            (o, Effect::None)
        }
    }
}

/// Applies a compensation answer. Compensation never gives up: leaving an orphan
/// subscriber on the HLR is worse than retrying; it backs off to the policy's cap. Once
/// the retry budget is spent the order is flagged [`AttentionReason::HlrCleanupStalled`]
/// (and keeps retrying); the flag is withdrawn when the clean-up finally succeeds.
pub fn on_deprovision(
    o: Order,
    at: Attempt,
    result: Result<DeprovisionOutcome, HlrError>,
) -> (Order, Effect) {
    let mut o = touch(o, at.now_ms);
    match result {
        Ok(outcome) => {
            o.settle(AttentionReason::HlrCleanupStalled);
            if outcome == DeprovisionOutcome::LeftForeign {
                o.raise(AttentionReason::HlrForeignData);
            }
            o.undo = Some(Step::Done {
                outcome: deprovision_outcome(outcome).into(),
            });
            o.status = OrderStatus::Failed;
            (o, Effect::Release)
        }
        Err(e) => {
            o.undo = Some(at.wait(e.to_string()));
            if !at.may_retry() {
                o.raise(AttentionReason::HlrCleanupStalled);
            }
            (o, Effect::None)
        }
    }
}

/// The short outcome an order records for a provisioning answer.
pub fn provision_outcome(o: ProvisionOutcome) -> &'static str {
    match o {
        ProvisionOutcome::Created => "created",
        ProvisionOutcome::AlreadyPresent => "already_present",
    }
}

/// The short outcome an order records for a deprovisioning answer.
pub fn deprovision_outcome(o: DeprovisionOutcome) -> &'static str {
    match o {
        DeprovisionOutcome::Deleted => "deleted",
        DeprovisionOutcome::NotPresent => "not_present",
        DeprovisionOutcome::LeftForeign => "left_foreign",
    }
}

#[cfg(test)]
mod tests {
    use super::super::{FIXTURE_POLICY as POLICY, at, fixture_order};
    use super::*;
    use crate::order::OrderStatus;
    use adapters::hlr::FaultClass;

    fn order() -> Order {
        fixture_order()
    }

    fn fault(class: FaultClass) -> HlrError {
        HlrError::new(class, "GsmHlr Create", "test")
    }

    #[test]
    fn happy_path_records_before_and_after() {
        let o = order();
        assert_eq!(next_action(&o, 0), Action::Provision { attempt: 1 });
        let o = mark_sent(o, 1, 10);
        assert_eq!(
            (o.status, o.hlr.clone(), o.version),
            (OrderStatus::HlrProvisioning, Step::Sent { attempt: 1 }, 2)
        );
        let (o, eff) = on_provision(o, at(1, 20), Ok(ProvisionOutcome::Created));
        assert_eq!(eff, Effect::Activate);
        assert_eq!(o.status, OrderStatus::Active);
        assert_eq!(next_action(&o, 30), Action::Finished);
    }

    #[test]
    fn sent_but_unrecorded_step_is_repeated_after_restart() {
        let o = mark_sent(order(), 1, 10);
        assert_eq!(next_action(&o, 1_000), Action::Provision { attempt: 2 });
    }

    #[test]
    fn retryable_faults_back_off_then_give_up_and_compensate() {
        let o = mark_sent(order(), 1, 0);
        let (o, eff) = on_provision(
            o,
            Attempt::new(1, &POLICY, u32::MAX, 0),
            Err(fault(FaultClass::Timeout)),
        );
        assert_eq!(eff, Effect::None);
        let Step::RetryWait { retry_at_ms, .. } = o.hlr.clone() else {
            panic!("expected retry wait, got {:?}", o.hlr)
        };
        assert_eq!(retry_at_ms, 100);
        assert_eq!(next_action(&o, 99), Action::WaitUntil(100));
        assert_eq!(next_action(&o, 100), Action::Provision { attempt: 2 });
        let o = mark_sent(o, 3, 500);
        let (o, _) = on_provision(o, at(3, 600), Err(fault(FaultClass::Connection)));
        assert_eq!(o.status, OrderStatus::Compensating);
        assert_eq!(
            o.error.as_ref().map(|e| e.code.as_str()),
            Some("hlr_unavailable")
        );
        assert_eq!(next_action(&o, 600), Action::Deprovision { attempt: 1 });
    }

    #[test]
    fn permanent_fault_compensates_immediately() {
        let o = mark_sent(order(), 1, 0);
        let (o, eff) = on_provision(o, at(1, 1), Err(fault(FaultClass::External)));
        assert_eq!(eff, Effect::None);
        assert_eq!(o.status, OrderStatus::Compensating);
        assert_eq!(
            o.error.as_ref().map(|e| e.code.as_str()),
            Some("hlr_rejected")
        );
        assert!(
            matches!(o.hlr, Step::Failed { attempt: 1, .. }),
            "{:?}",
            o.hlr
        );
        let o = mark_undo_sent(o, 1, 2);
        // Compensation retries even "permanent" faults: an orphan on the HLR is never acceptable.
        let (o, eff) = on_deprovision(o, at(1, 3), Err(fault(FaultClass::External)));
        assert_eq!(eff, Effect::None);
        assert!(matches!(next_action(&o, 3), Action::WaitUntil(_)));
        let o = mark_undo_sent(o, 2, 2_000);
        let (o, eff) = on_deprovision(o, at(2, 2_001), Ok(DeprovisionOutcome::Deleted));
        assert_eq!(eff, Effect::Release);
        assert_eq!(o.status, OrderStatus::Failed);
        assert!(!o.needs_attention);
    }

    #[test]
    fn a_clean_up_failing_past_the_budget_is_flagged_keeps_retrying_and_unflags_on_success() {
        let mut o = on_provision(
            mark_sent(order(), 1, 0),
            at(1, 1),
            Err(fault(FaultClass::External)),
        )
        .0;
        let mut now = 10;
        for attempt in 1..=6 {
            assert_eq!(next_action(&o, now), Action::Deprovision { attempt });
            let (next, eff) = on_deprovision(
                mark_undo_sent(o, attempt, now),
                Attempt::new(attempt, &POLICY, u32::MAX, now),
                Err(fault(FaultClass::External)),
            );
            assert_eq!(
                (next.status, eff),
                (OrderStatus::Compensating, Effect::None)
            );
            let Some(Step::RetryWait { retry_at_ms, .. }) = next.undo else {
                panic!("not retrying: {:?}", next.undo)
            };
            // Past the budget the backoff stays at its cap, and the flag is raised once.
            assert_eq!(retry_at_ms - now, POLICY.delay_ms(attempt, u32::MAX));
            assert!(retry_at_ms - now <= POLICY.max_ms);
            let stalled = attempt >= POLICY.max_attempts;
            assert_eq!(next.needs_attention, stalled, "attempt {attempt}");
            let want: &[AttentionReason] = if stalled {
                &[AttentionReason::HlrCleanupStalled]
            } else {
                &[]
            };
            assert_eq!(next.attention, want, "attempt {attempt}");
            o = next;
            now = retry_at_ms;
        }
        // The fault clears: the order fails for good, inventory goes back, flag withdrawn.
        let (o, eff) = on_deprovision(
            mark_undo_sent(o, 7, now),
            at(7, now),
            Ok(DeprovisionOutcome::Deleted),
        );
        assert_eq!((o.status, eff), (OrderStatus::Failed, Effect::Release));
        assert!(!o.needs_attention);
        assert!(o.attention.is_empty());
        // Another reason survives the withdrawal of the stall.
        let mut flagged = o.clone();
        flagged.raise(AttentionReason::HlrCleanupStalled);
        flagged.raise(AttentionReason::EsimStockMismatch);
        flagged.settle(AttentionReason::HlrCleanupStalled);
        assert!(flagged.needs_attention);
        assert_eq!(flagged.attention, [AttentionReason::EsimStockMismatch]);
    }

    #[test]
    fn foreign_data_is_flagged_for_an_operator() {
        let o = mark_undo_sent(
            on_provision(
                mark_sent(order(), 1, 0),
                at(1, 1),
                Err(fault(FaultClass::Conflict)),
            )
            .0,
            1,
            2,
        );
        let (o, eff) = on_deprovision(o, at(1, 3), Ok(DeprovisionOutcome::LeftForeign));
        assert_eq!(eff, Effect::Release);
        assert!(o.needs_attention);
        assert_eq!(o.attention, [AttentionReason::HlrForeignData]);
    }

    #[test]
    fn backoff_is_bounded_and_grows() {
        for attempt in 1..40 {
            for jitter in [0, 1 << 31, u32::MAX] {
                let d = POLICY.delay_ms(attempt, jitter);
                assert!(d <= POLICY.max_ms, "attempt {attempt}: {d}");
                assert!(d >= 1);
            }
        }
        assert_eq!(POLICY.delay_ms(1, u32::MAX), 100);
        assert_eq!(POLICY.delay_ms(2, u32::MAX), 200);
        assert_eq!(POLICY.delay_ms(10, u32::MAX), 1_000);
        assert_eq!(POLICY.delay_ms(1, 0), 10);
    }
}

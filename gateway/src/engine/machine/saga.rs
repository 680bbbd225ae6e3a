//! The lifecycle machine: runs a lifecycle order's saga (its plan of southbound steps,
//! one after another) and, when a step fails for good, its compensation, built from what
//! was done so the line ends as it was. Each order kind only says what its plan is
//! (`barring`, `terminate`, `sim_swap`, `number_change`); the running is shared here.
//!
//! Rules: a step that failed retryably is repeated with backoff within the budget; a step
//! that failed for good (or ran out of budget) fails the order, unless it is past the
//! point of no return (`must_finish`), in which case it keeps retrying at the capped
//! backoff and flags the order. Compensation steps never give up either. A failed step
//! whose outcome is unknown (any attempt of it timed out or was cut short by a crash, so
//! it may have applied), or that the adapter performs as several writes (a provision, a
//! removal: it may have applied in part), is compensated too: every inverse is
//! idempotent, so undoing what did not happen is harmless.

use super::{Action, Attempt, finished, next_attempt, touch};
use crate::order::{
    AttentionReason, Effect, Lifecycle, Order, OrderError, OrderKind, OrderStatus, SagaOp,
    SagaStep, Step,
};
use adapters::hlr::HlrError;

/// The next action of a non-terminal lifecycle order.
pub(super) fn next_action(o: &Order, now_ms: u64) -> Action {
    let Some(l) = &o.lifecycle else {
        return Action::Finished;
    };
    let undo = o.status == OrderStatus::Compensating;
    let steps = if undo { &l.undo } else { &l.plan };
    let Some((index, s)) = steps.iter().enumerate().find(|(_, s)| !finished(&s.step)) else {
        // Nothing left to do (an empty plan, say): record the outcome.
        return Action::Conclude;
    };
    match next_attempt(&s.step, now_ms) {
        Ok(attempt) => Action::Saga {
            undo,
            index,
            op: s.op.clone(),
            attempt,
        },
        Err(action) => action,
    }
}

/// Records the outcome of a saga with no step left: completed, or failed once
/// compensated.
pub fn conclude(o: Order, now_ms: u64) -> (Order, Effect) {
    finish(touch(o, now_ms))
}

/// The outcome of an order whose saga has no step left (already touched).
fn finish(mut o: Order) -> (Order, Effect) {
    if o.status == OrderStatus::Compensating {
        o.status = OrderStatus::Failed;
        (o, Effect::Release)
    } else {
        o.status = OrderStatus::Completed;
        (o, Effect::Complete)
    }
}

fn step_mut(o: &mut Order, undo: bool, index: usize) -> Option<&mut SagaStep> {
    let l = o.lifecycle.as_mut()?;
    let steps = if undo { &mut l.undo } else { &mut l.plan };
    steps.get_mut(index)
}

/// Records that attempt `attempt` of step `index` is about to be sent.
pub fn mark_saga_sent(o: Order, undo: bool, index: usize, attempt: u32, now_ms: u64) -> Order {
    let mut o = touch(o, now_ms);
    if o.status == OrderStatus::Reserved {
        o.status = OrderStatus::InProgress;
    }
    if let Some(s) = step_mut(&mut o, undo, index) {
        s.step = Step::Sent { attempt };
    }
    o
}

/// A saga step that succeeded: its short outcome (`created`, `cancelled`, …), for a
/// released eSIM profile its activation code, and what an operator must look at when the
/// step settled in a way that needs one (a profile the SM-DP+ would not cancel).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepDone {
    /// What the step found or did.
    pub outcome: &'static str,
    /// The activation code of a profile the step released.
    pub activation_code: Option<String>,
    /// Raised on the order with the step's success.
    pub attention: Option<AttentionReason>,
}

impl From<&'static str> for StepDone {
    fn from(outcome: &'static str) -> Self {
        Self {
            outcome,
            activation_code: None,
            attention: None,
        }
    }
}

/// Why a saga step's attempt failed, whichever peer answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepFailure {
    /// Whether another attempt may succeed (and this one may have applied).
    pub retryable: bool,
    /// What the peer said (never a secret).
    pub message: String,
}

impl From<HlrError> for StepFailure {
    fn from(e: HlrError) -> Self {
        Self {
            retryable: e.retryable(),
            message: e.to_string(),
        }
    }
}

impl std::fmt::Display for StepFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Applies the answer to step `index`.
pub fn on_saga_answer(
    o: Order,
    undo: bool,
    index: usize,
    at: Attempt,
    result: Result<StepDone, StepFailure>,
) -> (Order, Effect) {
    let mut o = touch(o, at.now_ms);
    let kind = o.kind;
    let Some(s) = step_mut(&mut o, undo, index) else {
        return (o, Effect::None);
    };
    let must_finish = undo || s.must_finish;
    let stalled = stall_reason(&s.op);
    match result {
        Ok(done) => {
            s.step = Step::Done {
                outcome: done.outcome.into(),
            };
            if let (Some(code), Some(e)) = (done.activation_code, o.esim.as_mut()) {
                e.activation_code = Some(code);
            }
            if must_finish {
                o.settle(stalled);
            }
            if let Some(reason) = done.attention {
                o.raise(reason);
            }
            let left = o.lifecycle.as_ref().is_some_and(|l| {
                let steps = if undo { &l.undo } else { &l.plan };
                steps.iter().any(|s| !finished(&s.step))
            });
            // A port-out's saga is only its side of the cutover: the port machine
            // completes the order once the hub reports the number moved.
            if left || o.kind == OrderKind::PortOut {
                (o, Effect::None)
            } else {
                finish(o)
            }
        }
        Err(e) if must_finish => {
            s.step = at.wait(e.to_string());
            if !at.may_retry() {
                o.raise(stalled);
            }
            (o, Effect::None)
        }
        Err(e) if e.retryable && at.may_retry() => {
            s.step = at.wait(e.to_string());
            (o, Effect::None)
        }
        Err(e) => {
            // The step may have applied if this or any earlier attempt's outcome is unknown
            // (a timeout, or a crash before the answer was recorded), or in part if the
            // adapter makes it several writes: only a refusal at the first attempt of a
            // one-write step proves nothing changed.
            let ambiguous = e.retryable || at.n > 1 || writes_in_parts(&s.op);
            s.step = Step::Failed {
                attempt: at.n,
                error: e.to_string(),
            };
            let error = failure(kind, &s.op, &e);
            o.error = Some(error);
            let Some(l) = o.lifecycle.as_mut() else {
                return (o, Effect::None);
            };
            l.undo = compensation(l, index, ambiguous);
            if l.undo.is_empty() {
                o.status = OrderStatus::Failed;
                (o, Effect::Release)
            } else {
                o.status = OrderStatus::Compensating;
                (o, Effect::None)
            }
        }
    }
}

/// What a step past the point of no return that keeps failing is flagged as: a CancelOrder
/// at the SM-DP+, or a clean-up elsewhere (the HLR, a number's return at the hub).
fn stall_reason(op: &SagaOp) -> AttentionReason {
    match op {
        SagaOp::CancelReservation { .. } | SagaOp::CancelProfile { .. } => {
            AttentionReason::SmdpCancelStalled
        }
        _ => AttentionReason::HlrCleanupStalled,
    }
}

/// Whether the adapters perform `op` as several writes, so that a refusal of a later one
/// leaves the earlier ones applied: a provision writes the AUC entry, then the HLR
/// subscription (CAI3G), a removal deletes them one after the other, and OsmoHLR bars a
/// line in two writes (`cs-enabled`, then `ps-enabled`). (The fault soak found a SIM swap
/// refused at the HLR half of its new card's provision leaving the AUC entry behind as an
/// orphan.) Undoing such a step is safe when nothing changed: the inverse of a barring
/// writes only what differs, and a removal of what is absent succeeds.
fn writes_in_parts(op: &SagaOp) -> bool {
    matches!(
        op,
        SagaOp::Provision { .. } | SagaOp::Deprovision { .. } | SagaOp::SetBarring { .. }
    )
}

/// The steps that undo the plan's steps up to `failed` (itself included when its outcome
/// is unknown), last done first.
fn compensation(l: &Lifecycle, failed: usize, ambiguous: bool) -> Vec<SagaStep> {
    let upto = if ambiguous { failed + 1 } else { failed };
    l.plan[..upto.min(l.plan.len())]
        .iter()
        .rev()
        .filter(|s| {
            matches!(s.step, Step::Done { .. }) || (ambiguous && !matches!(s.step, Step::Pending))
        })
        .filter_map(|s| inverse(&s.op, l).map(SagaStep::pending))
        .collect()
}

/// The operation that undoes `op`; `None` for one that cannot be undone (a cancelled
/// profile), which plans only place past the point of no return. Plans only contain steps
/// that change something, so the inverse of setting a value is setting the one before.
fn inverse(op: &SagaOp, l: &Lifecycle) -> Option<SagaOp> {
    Some(match op {
        SagaOp::Provision { line } => SagaOp::Deprovision { line: line.clone() },
        SagaOp::Deprovision { line } => SagaOp::Provision { line: line.clone() },
        SagaOp::SetBarring { imsi, barred } => SagaOp::SetBarring {
            imsi: imsi.clone(),
            barred: !barred,
        },
        // The number goes back onto the card it was taken from, as that line was.
        SagaOp::DetachMsisdn { .. } => SagaOp::Provision {
            line: l.line.clone(),
        },
        SagaOp::ChangeMsisdn { imsi, from, to } => SagaOp::ChangeMsisdn {
            imsi: imsi.clone(),
            from: to.clone(),
            to: from.clone(),
        },
        SagaOp::ReserveProfile { iccid, eid } => SagaOp::CancelReservation {
            iccid: iccid.clone(),
            eid: eid.clone(),
        },
        // A released profile's code may have reached the customer: it is taken out of use.
        SagaOp::ReleaseProfile {
            iccid,
            eid,
            matching_id,
        } => SagaOp::CancelProfile {
            iccid: iccid.clone(),
            eid: eid.clone(),
            matching_id: matching_id.clone(),
        },
        SagaOp::CancelReservation { .. }
        | SagaOp::CancelProfile { .. }
        | SagaOp::ReturnNumber { .. } => return None,
    })
}

/// Why a lifecycle order failed, and what to do.
fn failure(kind: OrderKind, op: &SagaOp, e: &StepFailure) -> OrderError {
    let what = match kind {
        OrderKind::Suspend => "suspend the line",
        OrderKind::Resume => "resume the line",
        OrderKind::Terminate => "terminate the line",
        OrderKind::SimSwap => "move the line to the new SIM",
        OrderKind::NumberChange => "change the line's number",
        OrderKind::Activation => "activate the line",
        OrderKind::PortOut => "take the ported-out line off the network",
    };
    // Only a SIM swap's new profile is reserved or released before the point of no return.
    if matches!(
        op,
        SagaOp::ReserveProfile { .. } | SagaOp::ReleaseProfile { .. }
    ) {
        let (code, how) = if e.retryable {
            ("smdp_unavailable", "did not answer in time for")
        } else {
            ("smdp_rejected", "refused")
        };
        return OrderError {
            code: code.into(),
            detail: format!(
                "the SM-DP+ {how} the new eSIM profile ({e}); the line was left as it was; retry the swap (the profile goes back to stock only if the SM-DP+ shows it available)"
            ),
        };
    }
    if e.retryable {
        OrderError {
            code: "hlr_unavailable".into(),
            detail: format!(
                "the host operator's HLR did not answer in time to {what} ({e}); the line was put back as it was; retry the operation later"
            ),
        }
    } else {
        OrderError {
            code: "hlr_rejected".into(),
            detail: format!(
                "the host operator's HLR refused to {what} ({e}); the line was put back as it was; check the subscriber with the host operator before retrying"
            ),
        }
    }
}

#[cfg(test)]
pub(in crate::engine::machine) mod tests;

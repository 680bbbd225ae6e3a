//! A port-out order (issue 12): the hub asked for one of our numbers. The order is
//! created with our decision (`porting::port_out::decide`); this machine sends the
//! answer before its deadline and then follows the port as the port-in machine does
//! (`port_in::on_message`: scheduled, locked, cutover, completed), with our side of the
//! cutover being the line taken off the network: the terminate saga (HLR subscriber
//! removed, an undownloaded eSIM profile cancelled), every step past the point of no
//! return. Once the cutover is acknowledged and the hub reports the number moved, the
//! order completes: the store retires the SIM and records the number `ported_out`.
//!
//! Before the lock nothing is done to the line, so a port that ends there (we refused,
//! the recipient cancelled, the hub rejected) just ends the order. An answer that
//! cannot reach the hub by the deadline is replaced by a rejection `timeout` (never left
//! unanswered); if that cannot be delivered either, the port expires.

use super::port_in::{self, PortEffect};
use super::port_order::step;
use super::{Action, finished, open, saga, touch};
use crate::order::{
    AttentionReason, Effect, Lifecycle, Order, OrderError, OrderStatus, PortActor, PortIn,
    PortState, PortTransition, SagaStep, Step,
};

use super::port_order::{self, PortOp};

/// Our rejection when the answer could not be delivered by the deadline.
pub const TIMEOUT: &str = "timeout";

/// The plan of a port-out's cutover: the terminate plan, every step past the point of
/// no return (the number is leaving whatever happens).
pub fn plan(l: &Lifecycle) -> Vec<SagaStep> {
    let mut steps = super::terminate::plan(l);
    for s in &mut steps {
        s.must_finish = true;
    }
    steps
}

/// The request id of our answer: a repeat of the same decision is the same request; the
/// replacement `timeout` rejection is another.
pub fn answer_request_id(o: &Order) -> String {
    let timed_out = o
        .port
        .as_ref()
        .and_then(|p| p.out.as_ref())
        .is_some_and(|out| out.reject.as_deref() == Some(TIMEOUT) && out.timed_out);
    if timed_out {
        format!("{}-answer-timeout", o.id)
    } else {
        format!("{}-answer", o.id)
    }
}

/// The next action of a non-terminal port-out order.
pub(super) fn next_action(o: &Order, now_ms: u64) -> Action {
    let Some(p) = &o.port else {
        return Action::Finished;
    };
    let Some(out) = &p.out else {
        return Action::Finished;
    };
    if p.parked.is_some() {
        return Action::Finished;
    }
    if p.state.is_terminal() && p.state != PortState::Completed {
        return Action::PortRelease;
    }
    if !finished(&out.answer) {
        if now_ms >= out.respond_by_ms && !out.timed_out {
            return Action::PortDeadline;
        }
        return step(&out.answer, PortOp::Answer, now_ms);
    }
    if let Some(s) = open(p.cancel.as_ref()).filter(|_| !p.state.past_lock()) {
        // The port-out was withdrawn after our acceptance: the hub is asked to cancel.
        return step(s, PortOp::Cancel, now_ms);
    }
    if let Some(s) = open(p.activate.as_ref()) {
        // Our side of the cutover: the saga first, then the step that records it done.
        return match saga::next_action(o, now_ms) {
            Action::Conclude => step(s, PortOp::ActivateNumber, now_ms),
            a => a,
        };
    }
    if let Some(s) = open(p.ack.as_ref()) {
        return step(s, PortOp::Acknowledge, now_ms);
    }
    if p.state == PortState::Completed {
        return Action::PortComplete;
    }
    match deadline(o) {
        Some(d) if d <= now_ms => Action::PortDeadline,
        d => Action::Park(d.unwrap_or(u64::MAX)),
    }
}

/// Whether an accepted port-out still waits for the hub to schedule it.
pub(super) fn awaits_schedule(p: &PortIn) -> bool {
    p.is_out() && matches!(p.state, PortState::Submitted | PortState::Conflict)
}

/// The order's next deadline while it waits: an accepted port-out the hub has not
/// scheduled by the requested time plus [`port_order::CUTOVER_GRACE_MS`] is flagged
/// (`port_cutover_stalled`): it keeps its line busy, and only an operator can tell
/// whether the hub lost it. Otherwise as a port-in (lock point, overdue cutover).
fn deadline(o: &Order) -> Option<u64> {
    let p = o.port.as_ref()?;
    if awaits_schedule(p) {
        if o.attention.contains(&AttentionReason::PortCutoverStalled) {
            return None;
        }
        let from = p.requested_at_ms.unwrap_or(p.out.as_ref()?.received_at_ms);
        return Some(from.saturating_add(port_order::CUTOVER_GRACE_MS));
    }
    port_order::deadline(o)
}

fn enter(p: &mut PortIn, state: PortState, reason: Option<&str>, at_ms: u64) {
    p.state = state;
    p.timeline.push(PortTransition {
        state,
        actor: PortActor::Donor,
        reason_code: reason.map(str::to_owned),
        external_ref: None,
        at_ms,
    });
}

/// Applies the hub's answer to our answer: accepted, the port goes on (`submitted`, its
/// reference the hub's); rejected by us, the port ends; refused by the hub for good, it
/// expires. Returns the port and what the driver must do next.
pub(super) fn on_answered(p: PortIn, step: &Step, now_ms: u64) -> (PortIn, Vec<PortEffect>) {
    let mut p = p;
    let Some(out) = p.out.as_mut() else {
        return (p, Vec::new());
    };
    out.answer = step.clone();
    let accepts = out.accepts();
    let reject = out.reject.clone();
    match step {
        Step::Done { .. } if accepts => {
            // `submitted`, unless the hub's messages (applied while the answer was in
            // doubt, e.g. across a restart) already moved the port on.
            let port_ref = p.port_ref.clone().unwrap_or_default();
            (port_in::on_submitted(p, &port_ref, now_ms), Vec::new())
        }
        Step::Done { .. } => {
            enter(&mut p, PortState::Rejected, reject.as_deref(), now_ms);
            (p, vec![PortEffect::Release])
        }
        Step::Failed { error, .. } => {
            enter(&mut p, PortState::Expired, Some(short(error)), now_ms);
            (p, vec![PortEffect::Release])
        }
        _ => (p, Vec::new()),
    }
}

/// The hub's code of a refusal, else a fixed word (the timeline keeps codes, not prose).
fn short(error: &str) -> &str {
    if !error.is_empty()
        && error.len() <= 40
        && error.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
    {
        error
    } else {
        "answer_not_delivered"
    }
}

/// The answer deadline passed before our answer reached the hub: whatever we decided,
/// we now reject with `timeout` (a fresh request), so the request is never left
/// unanswered by us.
pub fn on_answer_deadline(o: Order, now_ms: u64) -> Order {
    let mut o = touch(o, now_ms);
    if let Some(out) = o.port.as_mut().and_then(|p| p.out.as_mut()) {
        if !finished(&out.answer) && !out.timed_out {
            out.reject = Some(TIMEOUT.into());
            out.timed_out = true;
            out.answer = Step::Pending;
        }
    }
    o
}

/// The reason our refusal carries when the line was reported lost or stolen.
pub const LINE_NOT_ACTIVE: &str = "line_not_active";

/// Whether port-out `o` can still be stopped at `now_ms` (its line reported lost or
/// stolen): not ended and not past the lock point.
pub fn withdrawable(o: &Order, now_ms: u64) -> bool {
    o.port.as_ref().is_some_and(|p| {
        p.is_out()
            && !o.status.is_terminal()
            && !p.state.is_terminal()
            && !p.state.past_lock()
            && p.lock_at_ms.is_none_or(|l| now_ms < l)
    })
}

/// The line was reported lost or stolen while the port-out was open (§1.6: a line that
/// is lost may not port out). An answer not yet sent becomes a refusal
/// `line_not_active`; once an answer may have reached the hub, the hub is asked to
/// cancel the port (it confirms with `cancelled`, which ends the order with the line
/// unchanged). Past the lock point nothing changes: the number is leaving.
pub fn withdraw(o: Order, now_ms: u64) -> Order {
    let stoppable = withdrawable(&o, now_ms);
    let mut o = touch(o, now_ms);
    let Some(p) = o.port.as_mut().filter(|_| stoppable) else {
        return o;
    };
    let Some(out) = p.out.as_mut() else {
        return o;
    };
    if matches!(out.answer, Step::Pending) && !out.timed_out {
        out.reject = Some(LINE_NOT_ACTIVE.into());
    } else if out.accepts() && p.cancel.is_none() {
        p.cancel = Some(Step::Pending);
    }
    o
}

/// The port ended before our side began: the order fails, the line unchanged.
pub fn release(o: Order, now_ms: u64) -> (Order, Effect) {
    let mut o = touch(o, now_ms);
    o.error = o.port.as_ref().map(error);
    o.status = OrderStatus::Failed;
    (o, Effect::Release)
}

/// The number moved and our side is done: the order completes (the store retires the
/// SIM, records the number ported out and ends the line in the same commit).
pub fn complete(o: Order, now_ms: u64) -> (Order, Effect) {
    let mut o = touch(o, now_ms);
    o.status = OrderStatus::Completed;
    (o, Effect::Complete)
}

/// Why a port-out ended without the number leaving, for the order's `error`.
pub fn error(p: &PortIn) -> OrderError {
    let reason = p
        .timeline
        .iter()
        .rev()
        .find_map(|t| t.reason_code.clone())
        .unwrap_or_default();
    let (code, detail) = match p.state {
        PortState::Rejected if p.out.as_ref().is_some_and(|o| o.reject.is_some()) => (
            "port_out_refused",
            format!(
                "we refused the port-out request ({reason}); the line stays with us. The \
                 customer can ask for a new porting credential and have the new provider \
                 try again"
            ),
        ),
        PortState::Rejected => (
            "port_out_rejected",
            format!("the porting hub rejected the port-out ({reason}); the line stays with us"),
        ),
        PortState::Cancelled if p.cancel.is_some() => (
            "port_out_withdrawn",
            "the line was reported lost or stolen, so we withdrew the port-out; the line stays with us (suspended once the suspend is repeated)".into(),
        ),
        PortState::Cancelled => (
            "port_out_cancelled",
            "the new provider or the hub cancelled the port-out; the line stays with us".into(),
        ),
        _ => (
            "port_out_expired",
            format!(
                "our answer did not reach the porting hub in time ({reason}); the hub decides \
                 by its own rule and the line stays with us unless it schedules the port again"
            ),
        ),
    };
    OrderError {
        code: code.into(),
        detail,
    }
}

#[cfg(test)]
#[path = "port_out_tests.rs"]
mod tests;

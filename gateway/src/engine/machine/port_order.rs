//! A port-in order (issue 12): an activation whose number comes from another operator.
//! The port itself moves by `port_in`'s machine; this file puts it on the order: what
//! the driver does next, and each step's record. Pure, like every machine.
//!
//! Order of work: the identity verification (as any activation); where the market
//! issues a temporary number, the line on it (the activation's HLR step); then the hub
//! (`Submit`). While the hub decides, the order is *parked* (out of flight, on the
//! store's one port-deadline index) until a hub message, a channel's cancel or its next
//! deadline wakes it. At cutover the number goes on the line (`ActivateNumber`: HLR
//! change of the temporary number, or the subscriber created with the ported number where
//! the line waited), the cutover is acknowledged, and the order completes. A port that
//! ends before the lock point is released: the HLR line (if any) is removed, then the
//! SIM and temporary number go back. After the lock nothing is given up: steps retry at
//! the capped backoff, and an order stuck there needs attention.

use super::port_in::{self, CancelRefused, PortEffect};
use super::port_outcome::port_error;
use super::{Action, Attempt, activation, finished, next_attempt, open, touch};
use crate::order::{AttentionReason, Effect, Order, OrderStatus, PortIn, PortState, Step};
use adapters::porting::HubMessage;

/// How long after the promised cutover a locked port may wait for it before it needs
/// attention (our choice; the reference gives no figure).
pub const CUTOVER_GRACE_MS: u64 = 2 * 3_600_000;

/// A port step the driver performs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortOp {
    /// Send the port-in to the hub.
    Submit,
    /// Ask the hub to cancel.
    Cancel,
    /// Ask the hub for the channel's new date.
    Reschedule,
    /// Put the ported number on our line (HLR).
    ActivateNumber,
    /// Acknowledge the cutover message.
    Acknowledge,
    /// Answer the hub's port-out request (we are the donor).
    Answer,
}

impl PortOp {
    /// Step name in events and logs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Submit => "port_submit",
            Self::Cancel => "port_cancel",
            Self::Reschedule => "port_reschedule",
            Self::ActivateNumber => "port_activate_number",
            Self::Acknowledge => "port_acknowledge",
            Self::Answer => "port_out_answer",
        }
    }
}

/// What a port step's peer answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortAnswer {
    /// Done; for `Submit`, the hub's port reference.
    Done(String),
    /// Refused for good, with the peer's code.
    Refused(String),
    /// Failed in a way worth repeating (timeout, 5xx, connection).
    Retryable(String),
}

fn past_lock(o: &Order) -> bool {
    o.port.as_ref().is_some_and(|p| p.state.past_lock())
}

fn waits_for_number(o: &Order) -> bool {
    o.port.as_ref().is_some_and(|p| p.temporary.is_none())
}

fn with_port(mut o: Order, f: impl FnOnce(PortIn) -> PortIn) -> Order {
    if let Some(p) = o.port.take() {
        o.port = Some(f(p));
    }
    o
}

/// The next action of a non-terminal port-in order.
pub(super) fn next_action(o: &Order, now_ms: u64) -> Action {
    let Some(p) = &o.port else {
        return activation::next_action(o, now_ms);
    };
    if p.parked.is_some() {
        // Parked: the store wakes it; nothing to do until then.
        return Action::Finished;
    }
    if o.status == OrderStatus::Compensating && !p.is_out() {
        // The line failed while a submission recorded with it may have reached the hub
        // (`submit_with_line`, read back after a crash): repeated (the hub's first answer,
        // with its reference), then cancelled, before the clean-up.
        if p.state == PortState::Validating && submit_in_doubt(p) {
            return step(&p.submit, PortOp::Submit, now_ms);
        }
        if let Some(s) = open(p.cancel.as_ref()).filter(|_| p.port_ref.is_some()) {
            return step(s, PortOp::Cancel, now_ms);
        }
    }
    if o.status == OrderStatus::Compensating || super::identity::current(o).is_some() {
        return activation::next_action(o, now_ms);
    }
    let ended = p.state.is_terminal() && p.state != PortState::Completed;
    if p.temporary.is_some() && !ended && !finished(&o.hlr) {
        // The line on its temporary number first.
        return activation::next_action(o, now_ms);
    }
    if ended {
        // The hub knows the port only if it gave a reference.
        if let Some(s) = open(p.cancel.as_ref()).filter(|_| p.port_ref.is_some()) {
            return step(s, PortOp::Cancel, now_ms);
        }
        return Action::PortRelease;
    }
    if p.state == PortState::Validating && !finished(&p.submit) {
        return step(&p.submit, PortOp::Submit, now_ms);
    }
    for (s, op) in [
        (p.cancel.as_ref(), PortOp::Cancel),
        (p.reschedule.as_ref().map(|r| &r.step), PortOp::Reschedule),
        (p.activate.as_ref(), PortOp::ActivateNumber),
        (p.ack.as_ref(), PortOp::Acknowledge),
    ] {
        if let Some(s) = open(s) {
            return step(s, op, now_ms);
        }
    }
    if p.state == PortState::Completed {
        return Action::PortComplete;
    }
    match deadline(o) {
        Some(d) if d <= now_ms => Action::PortDeadline,
        d => Action::Park(d.unwrap_or(u64::MAX)),
    }
}

pub(super) fn step(s: &Step, op: PortOp, now_ms: u64) -> Action {
    match next_attempt(s, now_ms) {
        Ok(attempt) => Action::Port { op, attempt },
        Err(a) => a,
    }
}

/// The order's next deadline while it waits: the port's own (credential expiry, lock
/// point), or, past the lock, the promised cutover plus [`CUTOVER_GRACE_MS`] until the
/// order is flagged.
pub fn deadline(o: &Order) -> Option<u64> {
    let p = o.port.as_ref()?;
    if p.state.past_lock() && p.state != PortState::Completed {
        if o.attention.contains(&AttentionReason::PortCutoverStalled) {
            return None;
        }
        return p.due_at_ms.map(|d| d.saturating_add(CUTOVER_GRACE_MS));
    }
    p.next_deadline()
}

/// Turns the port machine's effects into the order's pending steps (`Release` and
/// `Complete` follow from the port's state; `Submit` is the submit step itself).
fn absorb(mut p: PortIn, fx: Vec<PortEffect>) -> PortIn {
    for e in fx {
        match e {
            PortEffect::SendCancel => {
                if p.cancel.as_ref().is_none_or(finished) {
                    p.cancel = Some(Step::Pending);
                }
            }
            PortEffect::ActivateNumber => {
                if p.activate.is_none() {
                    p.activate = Some(Step::Pending);
                }
            }
            PortEffect::Acknowledge(id) => {
                p.cutover_message = Some(id);
                // Recorded as sent with the number activation: the driver makes it next.
                if !matches!(p.ack, Some(Step::Sent { .. })) {
                    p.ack = Some(Step::Pending);
                }
            }
            PortEffect::Submit | PortEffect::Release | PortEffect::Complete => {}
        }
    }
    p
}

/// Records that attempt `attempt` of `op` is about to be made.
pub fn mark_port_sent(o: Order, op: PortOp, attempt: u32, now_ms: u64) -> Order {
    let mut o = touch(o, now_ms);
    if o.status == OrderStatus::Reserved {
        o.status = OrderStatus::InProgress;
    }
    let sent = Step::Sent { attempt };
    with_port(o, |mut p| {
        match op {
            PortOp::Submit => p.submit = sent,
            PortOp::Cancel => p.cancel = Some(sent),
            PortOp::Reschedule => set_reschedule(&mut p, sent),
            PortOp::ActivateNumber => {
                // Marking the same attempt again changes nothing (see `ahead::sent_ahead`).
                if p.activate.as_ref() != Some(&sent) {
                    ack_with_activation(&mut p);
                }
                p.activate = Some(sent);
            }
            PortOp::Acknowledge => p.ack = Some(sent),
            PortOp::Answer => {
                if let Some(out) = p.out.as_mut() {
                    out.answer = sent;
                    if p.timeline.is_empty() {
                        // The request enters the timeline (and the events) with the
                        // order's first write.
                        p.timeline.push(crate::order::PortTransition {
                            state: PortState::Validating,
                            actor: crate::order::PortActor::Recipient,
                            reason_code: None,
                            external_ref: p.port_ref.clone(),
                            at_ms: out.received_at_ms,
                        });
                    }
                }
            }
        }
        p
    })
}

/// A port-in's acknowledgement of the cutover follows a successful number activation with
/// no commit between: the driver makes it straight after the HLR's answer, and one commit
/// records both answers (one commit and one engine turn less per port-in). Like every
/// call it is recorded before it is made, so it is marked sent with the activation.
/// After a crash both are in doubt and [`next_action`] repeats them in their order (the
/// number first; the hub's request id makes a second acknowledgement the same one).
fn ack_with_activation(p: &mut PortIn) {
    if p.is_out() || p.cutover_message.is_none() {
        return;
    }
    let attempt = match &p.ack {
        None | Some(Step::Pending) => 1,
        Some(Step::Sent { attempt } | Step::RetryWait { attempt, .. }) => attempt + 1,
        Some(Step::Done { .. } | Step::Failed { .. }) => return,
    };
    p.ack = Some(Step::Sent { attempt });
}

/// The attempt of the acknowledgement to make straight after `o`'s number activation was
/// answered done (see [`ack_with_activation`]); `None` when there is none to make now.
pub fn ack_after_activation(o: &Order, op: PortOp) -> Option<u32> {
    let p = o.port.as_ref()?;
    match (&p.activate, &p.ack) {
        (Some(Step::Done { .. }), Some(Step::Sent { attempt }))
            if op == PortOp::ActivateNumber && !p.is_out() =>
        {
            Some(*attempt)
        }
        _ => None,
    }
}

/// A UK-style port-in's submission goes with the line on its temporary number: it is
/// recorded as sent in the commit that records the line's HLR call (`machine::ahead`),
/// the driver makes it straight after the line's answer when the line is up, and one
/// commit records both answers (one commit and one engine turn less per port-in). The
/// line still comes first: the hub hears of the port only once the line exists.
/// When the line is not up, the driver that made its call takes the record back
/// ([`submission_not_made`]); read back after a crash the submission is in doubt, so it
/// is repeated once the line is up, or, should the line fail, repeated and then
/// cancelled before the clean-up (`next_action`).
pub(super) fn submit_with_line(mut o: Order) -> Order {
    let fresh = o.port.as_ref().is_some_and(|p| {
        !p.is_out()
            && p.temporary.is_some()
            && p.state == PortState::Validating
            && p.port_ref.is_none()
            && p.cancel.is_none()
            && p.submit == Step::Pending
    });
    if fresh && o.status != OrderStatus::Compensating {
        if let Some(p) = o.port.as_mut() {
            p.submit = Step::Sent { attempt: 1 };
        }
    }
    o
}

/// The attempt of the submission to make straight after the line's answer (see
/// [`submit_with_line`]): the line is up and the submission recorded with it.
pub fn submit_after_line(o: &Order) -> Option<u32> {
    let p = o.port.as_ref().filter(|p| !p.is_out())?;
    match (&o.hlr, &p.submit) {
        (Step::Done { .. }, Step::Sent { attempt }) if p.state == PortState::Validating => {
            Some(*attempt)
        }
        _ => None,
    }
}

/// `o` after its line's answer left the line not up, when the driver that made the line's
/// call knows the submission recorded with it was not made: the record goes back.
pub fn submission_not_made(mut o: Order) -> Order {
    if matches!(o.hlr, Step::Done { .. }) {
        return o;
    }
    if let Some(p) = o.port.as_mut().filter(|p| !p.is_out()) {
        if p.state == PortState::Validating && matches!(p.submit, Step::Sent { .. }) {
            p.submit = Step::Pending;
        }
    }
    o
}

/// Applies the answer to attempt `at.n` of `op`.
pub fn on_port_answer(o: Order, op: PortOp, at: Attempt, answer: PortAnswer) -> Order {
    let now = at.now_ms;
    let mut o = touch(o, now);
    let past_lock = past_lock(&o);
    // Our answer to a port-out request is retried until its deadline whatever the retry
    // budget (the deadline then replaces it with a `timeout` rejection): giving up
    // earlier would leave the request unanswered by us.
    let answer_due = (op == PortOp::Answer)
        .then(|| o.port.as_ref().and_then(|p| p.out.as_ref()))
        .flatten()
        .filter(|out| !out.timed_out && now < out.respond_by_ms)
        .map(|out| out.respond_by_ms);
    let step = match &answer {
        PortAnswer::Done(outcome) => Step::Done {
            outcome: outcome.clone(),
        },
        PortAnswer::Retryable(e) if answer_due.is_some() => match at.wait(e.clone()) {
            // Never wait past the deadline: it is the next thing to do.
            Step::RetryWait {
                attempt,
                retry_at_ms,
                last_error,
            } => Step::RetryWait {
                attempt,
                retry_at_ms: answer_due.map_or(retry_at_ms, |d| retry_at_ms.min(d)),
                last_error,
            },
            s => s,
        },
        PortAnswer::Retryable(e) if at.may_retry() || op == PortOp::ActivateNumber => {
            if op == PortOp::ActivateNumber && !at.may_retry() {
                // After the lock the number must reach the line: never give up.
                o.raise(AttentionReason::PortCutoverStalled);
            }
            at.wait(e.clone())
        }
        PortAnswer::Refused(e) if op == PortOp::ActivateNumber && past_lock => {
            o.raise(AttentionReason::PortCutoverStalled);
            at.wait(e.clone())
        }
        PortAnswer::Refused(e) | PortAnswer::Retryable(e) => Step::Failed {
            attempt: at.n,
            error: e.clone(),
        },
    };
    let done = matches!(step, Step::Done { .. });
    let failed = matches!(step, Step::Failed { .. });
    let mut o = with_port(o, |mut p| {
        match op {
            PortOp::Submit => p.submit = step,
            PortOp::Cancel => p.cancel = Some(step),
            // A refused or given-up reschedule ends its step; the port keeps its date.
            PortOp::Reschedule => set_reschedule(&mut p, step),
            PortOp::ActivateNumber => {
                p.activate = Some(step);
                if !done && !p.number_active && matches!(p.ack, Some(Step::Sent { .. })) {
                    // Recorded with the activation and not made: it waits for the number.
                    p.ack = None;
                }
            }
            PortOp::Acknowledge => p.ack = Some(step),
            PortOp::Answer => {
                let (p, fx) = super::port_out::on_answered(p, &step, now);
                return absorb(p, fx);
            }
        }
        p
    });
    if op == PortOp::ActivateNumber && done {
        o.settle(AttentionReason::PortCutoverStalled);
        if waits_for_number(&o) && o.kind == crate::order::OrderKind::Activation {
            // The line waited for the number: the HLR subscriber now exists.
            o.hlr = Step::Done {
                outcome: "created".into(),
            };
        }
    }
    let compensating = o.status == OrderStatus::Compensating;
    with_port(o, |p| match (op, &answer) {
        (PortOp::Submit, PortAnswer::Done(port_ref)) => {
            // A cancel asked meanwhile, or the line failed (the port goes no further).
            let waiting_cancel = p.cancel.is_some() || compensating;
            let p = port_in::on_submitted(p, port_ref, now);
            if !waiting_cancel {
                return p;
            }
            // A cancel arrived, or the line failed, while the submission was in doubt: now
            // the hub is told.
            match port_in::request_cancel(p.clone(), now) {
                Ok((p, fx)) => absorb(p, fx),
                Err(_) => p,
            }
        }
        (PortOp::Submit, PortAnswer::Refused(code)) => port_in::on_submit_refused(p, code, now).0,
        (PortOp::Submit, _) if failed => fail(p, "hub_unavailable", now),
        (PortOp::ActivateNumber, _) if done => {
            let (p, fx) = port_in::on_number_active(p, now);
            absorb(p, fx)
        }
        _ => p,
    })
}

fn fail(p: PortIn, reason: &str, now_ms: u64) -> PortIn {
    let mut p = p;
    p.state = PortState::Failed;
    p.timeline.push(crate::order::PortTransition {
        state: PortState::Failed,
        actor: crate::order::PortActor::Recipient,
        reason_code: Some(reason.to_owned()),
        external_ref: None,
        at_ms: now_ms,
    });
    p
}

/// Applies a hub message.
pub fn apply_hub(o: Order, m: &HubMessage, now_ms: u64) -> Order {
    let o = touch(o, now_ms);
    let mut o = with_port(o, |p| {
        let (p, fx) = port_in::on_message(p, m);
        absorb(p, fx)
    });
    let scheduled_out = o.port.as_ref().is_some_and(|p| {
        p.is_out() && !super::port_out::awaits_schedule(p) && !p.state.past_lock()
    });
    if scheduled_out {
        // A port-out flagged for waiting on the hub has moved on by itself.
        o.settle(AttentionReason::PortCutoverStalled);
    }
    o
}

/// Applies a channel's cancel (refused past the lock or once the port ended: nothing
/// changes then but the version).
pub fn apply_cancel(o: Order, now_ms: u64) -> Order {
    let o = touch(o, now_ms);
    with_port(o, |mut p| {
        if p.state == PortState::Validating && submit_in_doubt(&p) {
            // The submission may have reached the hub: the port may exist there. The
            // cancel waits for the submission's answer (its port reference), then goes
            // to the hub; ending it here would leave the hub's port orphaned.
            p.cancel = Some(Step::Pending);
            return p;
        }
        match port_in::request_cancel(p.clone(), now_ms) {
            Ok((p, fx)) => absorb(p, fx),
            Err(_) => p,
        }
    })
}

/// Applies a channel's reschedule to `requested_at_ms` (nothing changes if the port has
/// moved past where one is taken since the API checked).
pub fn apply_reschedule(o: Order, requested_at_ms: u64, now_ms: u64) -> Order {
    let o = touch(o, now_ms);
    with_port(o, |p| {
        super::port_reschedule::request(p, requested_at_ms, now_ms)
    })
}

fn set_reschedule(p: &mut PortIn, step: Step) {
    if let Some(r) = p.reschedule.as_mut() {
        r.step = step;
    }
}

/// Whether a submission was sent without a recorded answer (repeating it gets the hub's
/// first answer).
fn submit_in_doubt(p: &PortIn) -> bool {
    matches!(p.submit, Step::Sent { .. } | Step::RetryWait { .. })
}

/// Whether a channel's cancel at `now_ms` would be taken (the API answers `409
/// port_locked` or `409 order_finished` otherwise, before recording anything).
pub fn cancel_allowed(o: &Order, now_ms: u64) -> Result<(), CancelRefused> {
    let Some(p) = &o.port else {
        return Err(CancelRefused::Finished);
    };
    if o.status.is_terminal() {
        return Err(CancelRefused::Finished);
    }
    port_in::request_cancel(p.clone(), now_ms).map(drop)
}

/// The order's deadline came: the port's own (expiry, lock), or an overdue cutover,
/// which flags the order.
pub fn on_deadline(o: Order, now_ms: u64) -> Order {
    let overdue = past_lock(&o);
    let answering = o
        .port
        .as_ref()
        .and_then(|p| p.out.as_ref())
        .is_some_and(|out| !finished(&out.answer));
    if answering {
        return super::port_out::on_answer_deadline(o, now_ms);
    }
    let waiting_out = o
        .port
        .as_ref()
        .is_some_and(super::port_out::awaits_schedule);
    let mut o = touch(o, now_ms);
    if overdue || waiting_out {
        o.raise(AttentionReason::PortCutoverStalled);
        return o;
    }
    with_port(o, |p| {
        let (p, fx) = port_in::on_time(p, now_ms);
        absorb(p, fx)
    })
}

/// Parks the order until `due` (Unix ms, `u64::MAX` for none) or a port item.
pub fn park(o: Order, due: u64, now_ms: u64) -> Order {
    with_port(touch(o, now_ms), |mut p| {
        p.parked = Some(due);
        p
    })
}

/// An item arriving while `o` is parked, as one write (the store runs this in the
/// commit that records the item): what the engine does in three (wake the order, `apply`
/// the item, park it again if the machine only has to wait), with the version moved
/// once.
pub fn on_arrival(o: Order, now_ms: u64, apply: impl FnOnce(Order) -> Order) -> Order {
    let version = o.version;
    let o = apply(wake(o, now_ms));
    after_applying(o, version, now_ms).0
}

/// `o` with items applied, as one write of the order at `version`: parked again when
/// the machine only has to wait (`true`), with the version moved once.
pub fn after_applying(o: Order, version: u64, now_ms: u64) -> (Order, bool) {
    let (mut o, parked) = match super::next_action(&o, now_ms) {
        Action::Park(due) => (park(o, due, now_ms), true),
        _ => (o, false),
    };
    o.version = version + 1;
    (o, parked)
}

/// Takes a parked order back into flight (the store's `Reopen` for port items and
/// deadlines).
pub fn wake(o: Order, now_ms: u64) -> Order {
    with_port(touch(o, now_ms), |mut p| {
        p.parked = None;
        p
    })
}

/// The port ended before the lock point: the HLR line on the temporary number (if it was
/// ever sent) is removed first, then the SIM and temporary number go back.
pub fn release(o: Order, now_ms: u64) -> (Order, Effect) {
    let mut o = touch(o, now_ms);
    o.error = o.port.as_ref().map(port_error);
    if matches!(o.hlr, Step::Pending) {
        o.status = OrderStatus::Failed;
        return (o, Effect::Release);
    }
    o.status = OrderStatus::Compensating;
    o.undo = Some(Step::Pending);
    (o, Effect::None)
}

/// The port completed: the line opens on the ported number (the temporary number goes to
/// quarantine in the same commit).
pub fn complete(o: Order, now_ms: u64) -> (Order, Effect) {
    let mut o = touch(o, now_ms);
    if let Some(p) = &o.port {
        o.msisdn = p.number.clone();
    }
    o.status = OrderStatus::Active;
    (o, Effect::Activate)
}

/// A provisioning answer of a port order's HLR step (the line on its temporary number):
/// the order stays open for the port instead of becoming active.
pub fn after_provision(o: Order, effect: Effect) -> (Order, Effect) {
    if o.port.is_none() || effect != Effect::Activate {
        return (o, effect);
    }
    let mut o = o;
    o.status = OrderStatus::InProgress;
    (o, Effect::None)
}

#[cfg(test)]
#[path = "port_order_tests.rs"]
pub(super) mod tests;

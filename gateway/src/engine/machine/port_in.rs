//! The port-in machine (issue 12), after the reference's consolidated state machine
//! (`porting-and-compliance.md` §1.6): pure, with the hub's messages, the channel's
//! cancel, our own steps' outcomes and the clock as inputs, and what the driver must do
//! as effects. Every transition is recorded with its actor, reason code and external
//! reference.
//!
//! The pivot is the lock: before it every side effect is undone when the port ends
//! (`Release`: the SIM and any temporary number go back); after it there is no way back,
//! only forward (activate the number, retry, flag for attention). Hub messages carry a
//! per-port sequence: a message at or below the last applied one changes nothing (a
//! redelivered cutover is acknowledged again, since the hub evidently lost our
//! acknowledgement). A message may overtake an earlier one: the envelope repeats the due
//! time and the lock point, so a `locked` that arrives before its `scheduled` still
//! records the promise.

use crate::order::{PortActor, PortIn, PortState, PortTransition};
use adapters::porting::{Freshness, HubEvent, HubMessage, freshness};

/// What the driver must do after a transition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortEffect {
    /// Send the port-in to the hub (one request id per order: a repeat is safe).
    Submit,
    /// Ask the hub to cancel the port.
    SendCancel,
    /// Put the ported number on our line (HLR: the temporary number replaced, or the
    /// subscriber created with it where the line waited).
    ActivateNumber,
    /// Acknowledge this hub message (our side of the cutover is done).
    Acknowledge(String),
    /// Compensation before the lock: the SIM and any temporary number go back.
    Release,
    /// The port is complete: the number is recorded ported in, any temporary number goes
    /// to quarantine, the line opens with the ported number.
    Complete,
}

/// Why a channel's cancel is refused (nothing changes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelRefused {
    /// Past the lock point (`409 port_locked`).
    Locked,
    /// The port has already ended.
    Finished,
}

fn enter(
    mut p: PortIn,
    state: PortState,
    actor: PortActor,
    reason: Option<&str>,
    external: Option<&str>,
    at_ms: u64,
) -> PortIn {
    p.state = state;
    p.timeline.push(PortTransition {
        state,
        actor,
        reason_code: reason.map(str::to_owned),
        external_ref: external.map(str::to_owned),
        at_ms,
    });
    p
}

/// The first thing a fresh port-in does: go to the hub.
pub fn start(p: &PortIn) -> Vec<PortEffect> {
    match p.state {
        PortState::Validating if p.port_ref.is_none() => vec![PortEffect::Submit],
        _ => Vec::new(),
    }
}

/// The hub recorded our submission under `port_ref`.
pub fn on_submitted(p: PortIn, port_ref: &str, now_ms: u64) -> PortIn {
    if p.state != PortState::Validating {
        return p;
    }
    let mut p = enter(
        p,
        PortState::Submitted,
        PortActor::Recipient,
        None,
        Some(port_ref),
        now_ms,
    );
    p.port_ref = Some(port_ref.to_owned());
    p
}

/// The hub refused our submission for good (its problem code): the port ends before it
/// began, and what was reserved goes back.
pub fn on_submit_refused(p: PortIn, code: &str, now_ms: u64) -> (PortIn, Vec<PortEffect>) {
    if p.state != PortState::Validating {
        return (p, Vec::new());
    }
    let p = enter(
        p,
        PortState::Rejected,
        PortActor::Hub,
        Some(code),
        None,
        now_ms,
    );
    (p, vec![PortEffect::Release])
}

/// Applies one hub message (its own `at` is the transition's time).
pub fn on_message(p: PortIn, m: &HubMessage) -> (PortIn, Vec<PortEffect>) {
    let mut p = p;
    // A fact about the number, not a transition: kept even from a message that arrives
    // after a later one.
    if let (None, Some(holder)) = (&p.range_holder, &m.range_holder) {
        p.range_holder = Some(holder.as_str().to_owned());
    }
    match freshness(p.last_sequence, m.sequence) {
        Freshness::New => {}
        Freshness::Duplicate | Freshness::Stale => {
            // Our acknowledgement of this cutover did not reach the hub: send it again.
            let again = matches!(m.event, HubEvent::Cutover)
                && p.number_active
                && p.cutover_message.as_deref() == Some(m.message_id.as_str());
            let fx = if again {
                vec![PortEffect::Acknowledge(m.message_id.as_str().to_owned())]
            } else {
                Vec::new()
            };
            return (p, fx);
        }
    }
    p.last_sequence = Some(m.sequence);
    if let Some(d) = m.due_at {
        p.due_at_ms = Some(d.unix_ms());
    }
    if let Some(l) = m.lock_at {
        p.lock_at_ms = Some(l.unix_ms());
    }
    if p.port_ref.is_none() {
        p.port_ref = Some(m.port_ref.as_str().to_owned());
    }
    if p.state.is_terminal() {
        return (p, Vec::new());
    }
    let at = m.at.unix_ms();
    let id = Some(m.message_id.as_str());
    let reason = m.event.reason_code().map(str::to_owned);
    let reason = reason.as_deref();
    let actor = match m.actor {
        adapters::porting::Actor::Donor => PortActor::Donor,
        _ => PortActor::Hub,
    };
    let before_lock = !p.state.past_lock();
    match &m.event {
        HubEvent::Accepted => {
            // The donor validated it; the due time follows with `scheduled`.
            let state = p.state;
            (enter(p, state, actor, None, id, at), Vec::new())
        }
        HubEvent::Scheduled if before_lock => {
            let state = match p.state {
                // Our cancel is still on its way: the port stays cancel-pending.
                PortState::CancelPending => PortState::CancelPending,
                _ => PortState::Scheduled,
            };
            (enter(p, state, actor, None, id, at), Vec::new())
        }
        HubEvent::Conflict { .. } if before_lock => (
            enter(p, PortState::Conflict, actor, reason, id, at),
            Vec::new(),
        ),
        HubEvent::Rejected { .. } | HubEvent::Cancelled if before_lock => {
            let state = match m.event {
                HubEvent::Cancelled => PortState::Cancelled,
                _ => PortState::Rejected,
            };
            (
                enter(p, state, actor, reason, id, at),
                vec![PortEffect::Release],
            )
        }
        HubEvent::Locked if before_lock => {
            (enter(p, PortState::Locked, actor, None, id, at), Vec::new())
        }
        HubEvent::Cutover if p.state != PortState::Activating => {
            let mut p = enter(p, PortState::Activating, actor, None, id, at);
            p.cutover_message = Some(m.message_id.as_str().to_owned());
            let fx = if p.number_active {
                vec![PortEffect::Acknowledge(m.message_id.as_str().to_owned())]
            } else {
                vec![PortEffect::ActivateNumber]
            };
            (p, fx)
        }
        HubEvent::Completed => {
            // The number has moved in the national database. Our line must carry it:
            // if our side is not done yet, it is now urgent (fix forward).
            if p.number_active {
                let mut p = enter(p, PortState::Completed, actor, None, id, at);
                p.completed_at_ms = Some(at);
                (p, vec![PortEffect::Complete])
            } else {
                let mut p = match p.state {
                    PortState::Activating => p,
                    _ => enter(p, PortState::Activating, actor, None, id, at),
                };
                p.hub_completed_at_ms = Some(at);
                (p, vec![PortEffect::ActivateNumber])
            }
        }
        // After the lock the port goes forward whatever the hub says: a late cancel,
        // conflict or rejection is recorded for the operator, and changes nothing.
        _ => {
            let state = p.state;
            (enter(p, state, actor, reason, id, at), Vec::new())
        }
    }
}

/// Our side of the cutover is done (the ported number is on the HLR line): acknowledge
/// the cutover, and complete at once if the hub already reported the number moved.
pub fn on_number_active(p: PortIn, now_ms: u64) -> (PortIn, Vec<PortEffect>) {
    if p.number_active || p.state.is_terminal() {
        return (p, Vec::new());
    }
    let mut p = p;
    p.number_active = true;
    let mut fx: Vec<PortEffect> = p
        .cutover_message
        .iter()
        .map(|id| PortEffect::Acknowledge(id.clone()))
        .collect();
    if let Some(at) = p.hub_completed_at_ms {
        p = enter(
            p,
            PortState::Completed,
            PortActor::Recipient,
            None,
            None,
            now_ms,
        );
        p.completed_at_ms = Some(at.max(now_ms));
        fx.push(PortEffect::Complete);
    }
    (p, fx)
}

/// The channel asks to cancel at `now_ms` (`POST /v1/orders/{id}/cancel`). Before the
/// hub knows the port it ends at once; before the lock the hub is asked; after it the
/// answer is `409 port_locked`.
pub fn request_cancel(p: PortIn, now_ms: u64) -> Result<(PortIn, Vec<PortEffect>), CancelRefused> {
    if p.state.is_terminal() {
        return Err(CancelRefused::Finished);
    }
    if p.state.past_lock() || p.lock_at_ms.is_some_and(|l| now_ms >= l) {
        return Err(CancelRefused::Locked);
    }
    Ok(match p.state {
        PortState::Validating if p.port_ref.is_none() => (
            enter(
                p,
                PortState::Cancelled,
                PortActor::Channel,
                None,
                None,
                now_ms,
            ),
            vec![PortEffect::Release],
        ),
        PortState::CancelPending => (p, Vec::new()),
        _ => (
            enter(
                p,
                PortState::CancelPending,
                PortActor::Channel,
                None,
                None,
                now_ms,
            ),
            vec![PortEffect::SendCancel],
        ),
    })
}

/// The clock reached `now_ms`: a credential that ran out before the port was scheduled
/// expires it (what was reserved goes back, and a port the hub knows is cancelled
/// there); a scheduled port reaching its lock point is locked (§1.6 `LockReached`).
pub fn on_time(p: PortIn, now_ms: u64) -> (PortIn, Vec<PortEffect>) {
    let Some(due) = p.next_deadline() else {
        return (p, Vec::new());
    };
    if now_ms < due {
        return (p, Vec::new());
    }
    match p.state {
        PortState::Validating | PortState::Submitted => {
            let known = p.port_ref.is_some();
            let p = enter(
                p,
                PortState::Expired,
                PortActor::Timer,
                Some("credential_expired"),
                None,
                now_ms,
            );
            let mut fx = vec![PortEffect::Release];
            if known {
                fx.insert(0, PortEffect::SendCancel);
            }
            (p, fx)
        }
        _ => (
            enter(p, PortState::Locked, PortActor::Timer, None, None, now_ms),
            Vec::new(),
        ),
    }
}

#[cfg(test)]
#[path = "port_in_tests.rs"]
mod tests;

//! Sending ahead: the commit that records an order's creation, or the answer to one of its
//! southbound calls, also records the next call as sent when there is one to make at
//! once, so the driver makes that call straight after the commit instead of writing a
//! commit of its own first. The rule "every decision durable before it is acted on" holds:
//! the call is recorded before it is made, in the commit before it rather than in one of
//! its own. A physical activation then takes two commits (create and sent; answer and
//! outcome) instead of three.
//!
//! A physical activation whose verification comes first is created with its HLR call
//! recorded too, conditional on the verification: the driver asks the verifier, makes
//! the call on a pass or a flag with no commit between, and records both in the answer's
//! commit (the identity machine's module doc says how a refusal takes the record back or
//! undoes the call).
//!
//! The driver must then know that the order in hand holds its next call as sent by the
//! commit that wrote it ([`sent_ahead`]): [`super::next_action`] treats a `Sent` step as a
//! call cut short (by a crash) and makes a new attempt, which is right after a restart and
//! wrong right after the commit that recorded it.
//!
//! Port orders (port-in and port-out) are sent ahead too: their hub calls, their HLR
//! steps, and a port-out's saga steps. Their one difficulty is the port inbox: hub
//! messages and channels' items (cancel, reschedule, withdraw) queue there while the order
//! is in flight, and the driver applies them, one per commit, between steps. A commit that
//! records a call ahead does not read the inbox, so an item may already wait when the
//! call is made. Two orders are possible:
//!
//! - **Call first, then the items** (what the driver does). A call recorded as sent may
//!   have been made: that is exactly the state after a crash right after sending. Making
//!   it and applying the waiting items afterwards is the crash-free run in which those
//!   items arrived just after the call, a run the machine must handle anyway (an item
//!   can always arrive while a call is in flight: the inbox was never read in the same
//!   commit as a call's record). An item is applied only by the driver, so until then it
//!   has not happened for the order; its effect (a cancel, a reschedule, a hub's
//!   rejection or cutover) is acted on once the call's answer is recorded: the driver
//!   reads the inbox before every step but a call sent ahead (a wait, a park, a settle,
//!   a call recorded in a commit of its own), and the store refuses a park while an item
//!   waits. Calls sent ahead one after another are few: a port-in's line with its
//!   submission, its number change with the acknowledgement (each pair recorded
//!   together, made one after the other, answered in one commit:
//!   `port_order::submit_with_line`, `port_order::ack_with_activation`); a port-out's
//!   cutover saga runs past the lock, where no item can undo it. It costs no commit and
//!   no call beyond what that run costs.
//! - **Items first, the recorded call in doubt.** Reading the inbox before the call costs
//!   a read per call; when an item waits, its commit leaves the call recorded as sent, so
//!   the machine must take it as possibly made: a new attempt with a commit of its own,
//!   and the call still made (a submission in doubt is repeated, then cancelled, rather
//!   than dropped). More commits and reads, the same calls.
//!
//! So the driver takes the first. The last item of the inbox applied by the driver may
//! send the next call ahead in its commit too (items arriving after it are again "after
//! the call"); an earlier one does not, so that the rest are applied first. An item that
//! arrives while the order is parked is applied in the store's commit that records it
//! (`OnArrival::Apply`), which sends the next call ahead the same way. After a crash
//! nothing is lost: the recorded call is made again as a new attempt (every hub request
//! carries a request id derived from the order, so a repeat is the same request), and the
//! items still queued are applied before it.

use super::{Action, esim, mark_saga_sent, mark_sent, mark_undo_sent, next_action, port_order};
use crate::order::{Order, Step};

/// `o` with the call `a` recorded as sent at `now_ms`; `o` unchanged when `a` is not a
/// southbound call (a wait, a verification, the end of a saga, port bookkeeping: those
/// for which [`attempt_of`] is `None`).
fn mark_call(o: Order, a: &Action, now_ms: u64) -> Order {
    match a {
        Action::Provision { attempt } => mark_sent(o, *attempt, now_ms),
        Action::Deprovision { attempt } => mark_undo_sent(o, *attempt, now_ms),
        Action::Es2 { call, attempt } => esim::mark_es2_sent(o, *call, *attempt, now_ms),
        Action::Saga {
            undo,
            index,
            attempt,
            ..
        } => mark_saga_sent(o, *undo, *index, *attempt, now_ms),
        Action::Port { op, attempt } => port_order::mark_port_sent(o, *op, *attempt, now_ms),
        _ => o,
    }
}

/// The same call, as attempt `attempt`.
fn with_attempt(a: &Action, n: u32) -> Action {
    let mut a = a.clone();
    match &mut a {
        Action::Provision { attempt }
        | Action::Deprovision { attempt }
        | Action::Es2 { attempt, .. }
        | Action::Saga { attempt, .. }
        | Action::Port { attempt, .. } => *attempt = n,
        _ => {}
    }
    a
}

fn attempt_of(a: &Action) -> Option<u32> {
    match a {
        Action::Provision { attempt }
        | Action::Deprovision { attempt }
        | Action::Es2 { attempt, .. }
        | Action::Saga { attempt, .. }
        | Action::Port { attempt, .. } => Some(*attempt),
        _ => None,
    }
}

/// `o`, about to be written at `now_ms`, with its next call recorded as sent when its
/// next action is a southbound call (see the module doc); otherwise `o` unchanged. The
/// version stays `o`'s: the record is part of the write that makes that version.
pub fn mark_next_sent(o: Order, now_ms: u64) -> Order {
    if o.status.is_terminal() {
        return o;
    }
    let next = next_action(&o, now_ms);
    mark_sent_as(o, &next, now_ms)
}

/// [`mark_next_sent`] for a caller that already holds `next`, `o`'s
/// [`next_action`] at `now_ms` (the machine is not asked twice in one write).
pub fn mark_sent_as(o: Order, next: &Action, now_ms: u64) -> Order {
    if o.status.is_terminal() {
        return o;
    }
    if matches!(next, Action::Verify { .. }) && super::identity::hlr_call_rides_ahead(&o) {
        // The HLR call after the verification, recorded with this write and made once
        // the verification lets the order go on (`super::identity`).
        return Order {
            hlr: Step::Sent { attempt: 1 },
            ..o
        };
    }
    if attempt_of(next).is_none() {
        return o;
    }
    // One write, one version: the record rides on the version being written.
    let version = o.version;
    let mut o = mark_call(o, next, now_ms);
    if matches!(next, Action::Provision { .. }) {
        // A port-in's submission goes with the line on its temporary number.
        o = port_order::submit_with_line(o);
    }
    Order { version, ..o }
}

/// The call that the commit which wrote `o` recorded as sent ahead
/// ([`mark_next_sent`]), with the attempt it recorded; `None` when `o` holds no call
/// recorded as sent and not answered. Only the driver that made that commit may use it:
/// after a restart the same record means a call cut short, made again as a new attempt.
pub fn sent_ahead(o: &Order, now_ms: u64) -> Option<Action> {
    let next = next_action(o, now_ms);
    // A `Sent` step's next action is its attempt + 1.
    let n = attempt_of(&next)?.checked_sub(1).filter(|n| *n > 0)?;
    let recorded = with_attempt(&next, n);
    // The record is there exactly when recording it again changes nothing.
    let mut again = mark_call(o.clone(), &recorded, o.updated_at_ms);
    again.version = o.version;
    (again == *o).then_some(recorded)
}

#[cfg(test)]
#[path = "ahead_port_tests.rs"]
mod port_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::machine::{at, fixture_order, on_provision};
    use crate::order::{EsimOrder, OrderKind, OrderStatus, Step};
    use adapters::hlr::{FaultClass, HlrError, ProvisionOutcome};
    use proptest::prelude::*;

    fn timeout() -> HlrError {
        HlrError::new(FaultClass::Transient, "provision", "timeout")
    }

    #[test]
    fn a_fresh_physical_order_is_created_with_its_provisioning_sent() {
        let o = fixture_order();
        let marked = mark_next_sent(o.clone(), 5);
        assert_eq!(marked.hlr, Step::Sent { attempt: 1 });
        assert_eq!(marked.status, OrderStatus::HlrProvisioning);
        assert_eq!(
            sent_ahead(&marked, 5),
            Some(Action::Provision { attempt: 1 })
        );
        // Without the record, nothing was sent ahead.
        assert_eq!(sent_ahead(&o, 5), None);
        // After a restart the same record is a call cut short: a new attempt.
        assert_eq!(next_action(&marked, 5), Action::Provision { attempt: 2 });
    }

    #[test]
    fn an_answer_that_needs_no_call_is_written_as_it_is() {
        let sent = mark_sent(fixture_order(), 1, 1);
        let (active, _) = on_provision(sent, at(1, 2), Ok(ProvisionOutcome::Created));
        assert_eq!(mark_next_sent(active.clone(), 2), active);
        // A retry that waits out its backoff is not sent ahead either.
        let sent = mark_sent(fixture_order(), 1, 1);
        let (waiting, _) = on_provision(sent, at(1, 2), Err(timeout()));
        assert!(matches!(waiting.hlr, Step::RetryWait { .. }));
        assert_eq!(mark_next_sent(waiting.clone(), 2), waiting);
        assert_eq!(sent_ahead(&waiting, 2), None);
    }

    #[test]
    fn a_retry_due_now_is_sent_ahead_as_its_next_attempt() {
        let sent = mark_sent(fixture_order(), 1, 1);
        let (waiting, _) = on_provision(sent, at(1, 2), Err(timeout()));
        let Step::RetryWait { retry_at_ms, .. } = waiting.hlr else {
            panic!("not waiting: {:?}", waiting.hlr);
        };
        let marked = mark_next_sent(waiting, retry_at_ms);
        assert_eq!(marked.hlr, Step::Sent { attempt: 2 });
        assert_eq!(
            sent_ahead(&marked, retry_at_ms),
            Some(Action::Provision { attempt: 2 })
        );
    }

    #[test]
    fn an_esim_order_is_created_with_its_download_order_sent() {
        let mut o = fixture_order();
        o.esim = Some(EsimOrder::new("pt".into(), None, "MATCH-1".into(), None));
        let marked = mark_next_sent(o, 5);
        assert_eq!(marked.status, OrderStatus::EsimOrdering);
        assert!(matches!(
            sent_ahead(&marked, 5),
            Some(Action::Es2 { attempt: 1, .. })
        ));
    }

    #[test]
    fn a_lifecycle_order_is_created_with_its_first_step_sent() {
        let o = crate::engine::machine::saga::tests::order(
            OrderKind::Suspend,
            Some(crate::order::SuspensionReason::NonPayment),
            &[],
        );
        let marked = mark_next_sent(o, 5);
        assert_eq!(marked.status, OrderStatus::InProgress);
        assert!(matches!(
            sent_ahead(&marked, 5),
            Some(Action::Saga {
                undo: false,
                index: 0,
                attempt: 1,
                ..
            })
        ));
    }

    proptest! {
        /// Whatever state a physical order's provisioning step is in, sending ahead
        /// records exactly the call the order would make next, and the driver finds
        /// that same call again in what was written.
        #[test]
        fn what_is_sent_ahead_is_what_would_be_sent(
            answers in proptest::collection::vec(0u8..3, 0..4),
            now in 0u64..10_000,
        ) {
            let mut o = fixture_order();
            let mut t = 1;
            for a in answers {
                let Action::Provision { attempt } = next_action(&o, t) else { break };
                let sent = mark_sent(o, attempt, t);
                let r = match a {
                    0 => Err(timeout()),
                    1 => Err(HlrError::new(FaultClass::Conflict, "provision", "refused")),
                    _ => Ok(ProvisionOutcome::Created),
                };
                o = on_provision(sent, at(attempt, t + 1), r).0;
                t += 2;
            }
            let now = t + now;
            let next = next_action(&o, now);
            let marked = mark_next_sent(o.clone(), now);
            match next {
                Action::Provision { .. } | Action::Deprovision { .. } => {
                    prop_assert_eq!(sent_ahead(&marked, now), Some(next));
                    prop_assert_eq!(marked.version, o.version);
                }
                _ => {
                    prop_assert_eq!(&marked, &o);
                    prop_assert_eq!(sent_ahead(&marked, now), None);
                }
            }
        }
    }
}

//! The first step of an activation whose create commit asked for it: the identity
//! verification (real-name registration), before anything goes to the HLR or the SM-DP+.
//!
//! `pass` lets the order go on; `flag` too, recording the reason and whether the line must
//! be re-verified; `reject` fails the order with the verifier's code, and since nothing was
//! sent southbound the failure is final at once (`Effect::Release` returns the SIM and the
//! number). An unavailable verifier is retried with the same request id under the engine's
//! retry policy, within a deadline fixed at the first attempt; past either the order fails
//! `identity_service_unavailable`. Any other error of the call (credentials, TLS, a broken
//! answer) will not fix itself between retries and fails the order at once, with the same
//! code. Pure: time, jitter and the answer are inputs.
//!
//! A physical order's create commit records its HLR call as sent ahead of the
//! verification (`super::ahead`): the driver makes that call straight after a pass or a
//! flag, and the call's answer is the order's next write, so a verified activation costs
//! the store two writes as an unverified one does. Until the verification concludes the
//! record is conditional; a refusal takes it back when the driver knows the call was not
//! made ([`CallAhead::NotMade`]: it holds the order since the commit that recorded it),
//! and otherwise (the order read back after a restart or taken over from another node,
//! whose pass may have let the call go out before it crashed) sends the order down the
//! HLR clean-up before it fails ([`CallAhead::MaybeMade`]). A verifier answers a repeated
//! request with its first decision, so that clean-up only runs for one that forgot.

use super::{Attempt, touch};
use crate::order::{
    Effect, IdentityStatus, IdentityStep, Order, OrderError, OrderStatus, Step, VerifyTerms,
};
use adapters::identity::{IdentityError, RejectCode, Verdict, VerificationResponse};

/// The code of an order that could not get a decision.
pub const UNAVAILABLE: &str = "identity_service_unavailable";

/// The code of an order whose subscriber cannot be put to the verifier.
pub const UNSENDABLE: &str = "subscriber_invalid";

/// The name of the step in events and logs.
pub const STEP: &str = "identity_verify";

/// A verification not attempted yet.
static PENDING: Step = Step::Pending;

/// Whether the HLR call that the create commit recorded ahead of the verification may have
/// been made (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallAhead {
    /// The driver holds the order since the commit that recorded the call and has not made
    /// it: a refusal takes the record back and the order fails at once.
    NotMade,
    /// Read back from the store: a refusal sends the order down the HLR clean-up first.
    MaybeMade,
}

/// What a refused order says about its inventory, when nothing went southbound.
const NOTHING_SENT: &str = "nothing was provisioned and the SIM and number are back in the pool";

/// The same, when the HLR call recorded ahead of the verification may have been made.
const BEING_UNDONE: &str = "the subscriber that the order may have created on the HLR is being removed, and the SIM and number go back to the pool once it is (status `failed`)";

/// Whether `o` is an order whose create commit records its HLR call ahead of its
/// verification: a physical activation (neither a port nor an eSIM order, whose first
/// calls go elsewhere) whose verification is current and whose HLR step has not started.
pub(super) fn hlr_call_rides_ahead(o: &Order) -> bool {
    hlr_call_next(o) && o.hlr == Step::Pending && current(o).is_some()
}

/// Whether `o`'s first southbound call after its verification is the HLR's: neither a
/// port nor an eSIM order.
fn hlr_call_next(o: &Order) -> bool {
    o.port.is_none() && o.esim.is_none()
}

/// The verification step while it is current: the create commit asked for one and it has
/// not concluded. `None` once it has (or when none was asked).
pub(super) fn current(o: &Order) -> Option<&Step> {
    o.verify_terms()?;
    match &o.identity {
        None => Some(&PENDING),
        Some(i) if i.status == IdentityStatus::Pending => Some(&i.step),
        Some(_) => None,
    }
}

/// Whether the order's verification has concluded and let it go on (passed, flagged or
/// skipped): its next action is a southbound step.
pub fn identity_concluded(o: &Order) -> bool {
    o.verify_terms().is_some()
        && o.identity.as_ref().is_some_and(|i| {
            matches!(
                i.status,
                IdentityStatus::Passed | IdentityStatus::Flagged | IdentityStatus::Skipped
            )
        })
}

/// Attempt `attempt` as it goes out, on the order as stored (no new version: the engine
/// does not write it before the call). The first attempt fixes the deadline
/// (`now_ms + window_ms`) after which no retry is started. A verification is a query with no effect on any
/// network, repeated under one request id (the verifier answers a repeat with its first
/// decision), so the attempt is recorded with its answer, in one commit; after a crash
/// in between, the attempt is simply asked again.
pub fn begin_verify(o: Order, attempt: u32, now_ms: u64, window_ms: u64) -> Order {
    let mut o = o;
    let mut step = o
        .identity
        .take()
        .unwrap_or_else(|| IdentityStep::pending(&o.id));
    step.status = IdentityStatus::Pending;
    step.step = Step::Sent { attempt };
    step.attempts = attempt;
    step.deadline_ms = Some(
        step.deadline_ms
            .unwrap_or_else(|| now_ms.saturating_add(window_ms)),
    );
    o.identity = Some(step);
    o
}

/// Applies the verifier's answer to attempt `at.n`; `ahead` says whether an HLR call
/// recorded ahead of the verification may have been made.
pub fn on_verify(
    o: Order,
    at: Attempt,
    result: Result<VerificationResponse, IdentityError>,
    ahead: CallAhead,
) -> (Order, Effect) {
    let mut o = touch(o, at.now_ms);
    let terms = o.verify_terms().copied();
    let mut step = o
        .identity
        .take()
        .unwrap_or_else(|| IdentityStep::pending(&o.id));
    let attempt = at.n;
    match result {
        Ok(answer) => {
            let flag_reverifies = terms.is_some_and(|t| t.flag_reverifies);
            let rejected = decide(&mut step, answer, flag_reverifies);
            o.identity = Some(step);
            match rejected {
                None => (go_on(o), Effect::None),
                Some(code) => fail(o, code.as_str(), ahead, |left| reject_detail(code, left)),
            }
        }
        Err(e) if e.retryable() => {
            let delay = at
                .policy
                .delay_ms(attempt, at.jitter)
                .max(e.retry_after().map_or(0, |d| d.as_millis() as u64));
            let retry_at_ms = at.now_ms.saturating_add(delay);
            let deadline = step.deadline_ms.unwrap_or(u64::MAX);
            if at.may_retry() && retry_at_ms <= deadline {
                step.step = Step::RetryWait {
                    attempt,
                    retry_at_ms,
                    last_error: e.to_string(),
                };
                o.identity = Some(step);
                return (o, Effect::None);
            }
            step.status = IdentityStatus::Unavailable;
            step.step = Step::Failed {
                attempt,
                error: e.to_string(),
            };
            o.identity = Some(step);
            fail(o, UNAVAILABLE, ahead, |left| {
                format!(
                    "the identity verification service did not answer after {attempt} attempts ({e}); {left}; place the order again later"
                )
            })
        }
        Err(e) => {
            step.status = IdentityStatus::Unavailable;
            step.step = Step::Failed {
                attempt,
                error: e.to_string(),
            };
            o.identity = Some(step);
            fail(o, UNAVAILABLE, ahead, |left| {
                format!(
                    "the identity verification service could not be used ({e}); {left}; the operator must check the gateway's `[identity]` configuration with the verification provider"
                )
            })
        }
    }
}

/// Records the verifier's decision on `step`: passed, or flagged (re-verified when
/// `flag_reverifies`), or rejected, whose code is returned.
fn decide(
    step: &mut IdentityStep,
    answer: VerificationResponse,
    flag_reverifies: bool,
) -> Option<RejectCode> {
    step.verification_id = answer.verification_id.map(|v| v.as_str().to_owned());
    step.step = Step::Done {
        outcome: answer.verdict.outcome().into(),
    };
    match answer.verdict {
        Verdict::Pass => {
            step.status = IdentityStatus::Passed;
            None
        }
        Verdict::Flag(code) => {
            step.status = IdentityStatus::Flagged;
            step.code = Some(code.as_str().to_owned());
            step.reverify = flag_reverifies;
            None
        }
        Verdict::Reject(code) => {
            step.status = IdentityStatus::Rejected;
            step.code = Some(code.as_str().to_owned());
            Some(code)
        }
    }
}

/// The concluded verification of order `order_id` (not created yet) whose verifier was
/// asked before its create commit, under the terms that commit will record: `Some` for a
/// decision that lets the order go on (a pass or a flag), as attempt 1; `None` for a
/// reject, which is left to the engine after the commit: it asks again under the same
/// request id, the verifier answers a repeat with its first decision, and the order fails
/// as any refused order does.
pub fn decided_before_create(
    order_id: &str,
    answer: VerificationResponse,
    terms: &VerifyTerms,
) -> Option<IdentityStep> {
    let mut step = IdentityStep::pending(order_id);
    step.attempts = 1;
    match decide(&mut step, answer, terms.flag_reverifies) {
        None => Some(step),
        Some(_) => None,
    }
}

/// Concludes the verification on a gateway with no verifier configured: skipped when the
/// policy does not require identity, else the order fails `identity_service_unavailable`.
pub fn on_no_verifier(o: Order, now_ms: u64, ahead: CallAhead) -> (Order, Effect) {
    let mut o = touch(o, now_ms);
    let required = o.verify_terms().is_some_and(|t: &VerifyTerms| t.required);
    let mut step = o
        .identity
        .take()
        .unwrap_or_else(|| IdentityStep::pending(&o.id));
    if !required {
        step.status = IdentityStatus::Skipped;
        step.step = Step::Done {
            outcome: "skipped".into(),
        };
        o.identity = Some(step);
        return (go_on(o), Effect::None);
    }
    step.status = IdentityStatus::Unavailable;
    step.step = Step::Failed {
        attempt: step.attempts,
        error: "no identity verifier is configured".into(),
    };
    o.identity = Some(step);
    fail(o, UNAVAILABLE, ahead, |left| {
        format!(
            "this tenant's policy requires identity verification and the gateway has no identity verification service configured; {left}; the operator must set `[identity] url`"
        )
    })
}

/// Concludes the verification of an order whose subscriber cannot be sent: `problem`
/// names the field (never its value). The order fails `subscriber_invalid`.
pub fn on_unsendable(o: Order, now_ms: u64, problem: &str, ahead: CallAhead) -> (Order, Effect) {
    let mut o = touch(o, now_ms);
    let mut step = o
        .identity
        .take()
        .unwrap_or_else(|| IdentityStep::pending(&o.id));
    step.status = IdentityStatus::Unsendable;
    step.step = Step::Failed {
        attempt: step.attempts,
        error: problem.to_owned(),
    };
    o.identity = Some(step);
    fail(o, UNSENDABLE, ahead, |left| {
        format!(
            "the subscriber cannot be sent to the identity verification service: {problem}; {left}; correct the subscriber and place the order again"
        )
    })
}

/// An order whose verification let it go on: an HLR call recorded ahead of the
/// verification is now about to be made (the status says so, as `super::mark_sent` would).
fn go_on(mut o: Order) -> Order {
    if hlr_call_next(&o) && matches!(o.hlr, Step::Sent { .. }) {
        o.status = OrderStatus::HlrProvisioning;
    }
    o
}

/// Fails an order whose verification did not let it go on. With nothing sent southbound
/// it is final at once and its inventory released; an HLR call recorded ahead of the
/// verification is taken back when it was not made, and otherwise undone first
/// (`Compensating`, as a refused HLR call is). `detail` is told what became of the
/// inventory.
fn fail(
    mut o: Order,
    code: &str,
    ahead: CallAhead,
    detail: impl FnOnce(&str) -> String,
) -> (Order, Effect) {
    let recorded = match o.hlr {
        Step::Sent { attempt } => Some(attempt),
        _ => None,
    };
    if let (Some(attempt), CallAhead::MaybeMade) = (recorded, ahead) {
        o.hlr = Step::Failed {
            attempt,
            error: "recorded ahead of the identity verification, which did not let the order go on; the call may have been made before a restart".into(),
        };
        o.error = Some(OrderError {
            code: code.into(),
            detail: detail(BEING_UNDONE),
        });
        o.status = OrderStatus::Compensating;
        o.undo = Some(Step::Pending);
        return (o, Effect::None);
    }
    if recorded.is_some() {
        o.hlr = Step::Pending;
    }
    o.status = OrderStatus::Failed;
    o.error = Some(OrderError {
        code: code.into(),
        detail: detail(NOTHING_SENT),
    });
    (o, Effect::Release)
}

/// What a reject means and what to do, per code; `left` says what became of the inventory.
fn reject_detail(code: RejectCode, left: &str) -> String {
    let why = match code {
        RejectCode::IdentityMismatch => {
            "the name and the ID number do not belong together, or the number does not exist; check the document and its reading"
        }
        RejectCode::FaceCheckFailed => {
            "the face did not match the ID photo, or the liveness check failed; repeat the face check with the customer present"
        }
        RejectCode::FaceCheckRequired => {
            "real-person evidence is required and none was sent; send `subscriber.evidence` (a face match in store, a video online)"
        }
        RejectCode::IdCaptureMethodNotAllowed => {
            "the ID must be read by a registered ID-card reader here; typed ID numbers are not accepted"
        }
        RejectCode::IdExpired => "the ID document has expired; ask for a valid document",
    };
    format!("the identity verification service refused the subscriber's identity: {why}; {left}")
}

#[cfg(test)]
#[path = "identity_tests.rs"]
mod tests;

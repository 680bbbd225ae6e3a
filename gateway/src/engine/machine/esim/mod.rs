//! The eSIM half of the order state machine, pure like the activation machine: the ES2+ steps
//! (DownloadOrder → HLR → ConfirmOrder with releaseFlag, and CancelOrder to undo), the
//! replay rules that make each step safe to repeat after an ambiguous attempt (SGP.22 has
//! no idempotency key), the verification of a release the SM-DP+ answered ambiguously
//! (`verify`: ReleaseProfile, DownloadOrder again), the mapping of SM-DP+ status codes to
//! reseller error codes (`codes`), expiry of profiles never downloaded (`cancel`), and
//! the progress mirror fed by notifications.

use super::{Attempt, touch};
use crate::order::Effect;
use crate::order::{AttentionReason, Order, OrderError, OrderStatus, ProfileFate, Step};

mod cancel;
mod codes;
mod confirm;
mod lifecycle;
mod verify;

pub use cancel::{CancelRefusal, expire, on_cancel};
use codes::download_refusal_retires;
pub use codes::smdp_error;
pub use confirm::{ReleaseTerms, on_confirm};
pub use lifecycle::{SagaCancel, on_saga_cancel, on_saga_reserve};
pub use verify::{MAX_REORDERS, on_release_check, on_reorder};

/// The ES2+ calls an order makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Es2Call {
    /// DownloadOrder(iccid[, eid]): reserve our profile at the SM-DP+.
    Download,
    /// ConfirmOrder(iccid, [eid], our matchingId, [CC], releaseFlag=true).
    Confirm,
    /// CancelOrder(iccid, [eid], matchingId, Available|Unavailable).
    Cancel,
    /// ReleaseProfile(iccid), only to verify a refused ConfirmOrder repeat.
    Release,
    /// DownloadOrder(iccid[, eid]) again, after the reservation was found lost.
    Reorder,
}

impl Es2Call {
    /// Step name in events and call ids.
    pub fn name(self) -> &'static str {
        match self {
            Self::Download => "es2_download_order",
            Self::Confirm => "es2_confirm_order",
            Self::Cancel => "es2_cancel_order",
            Self::Release => "es2_release_profile",
            Self::Reorder => "es2_download_order_again",
        }
    }
}

/// An ES2+ call that did not succeed, reduced to what the state machine decides on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Es2Failure {
    /// Repeating the same call may succeed (nothing sent, ambiguous, or a transient code).
    pub retryable: bool,
    /// The SM-DP+ answered Failed with this (subjectCode, reasonCode): the function was
    /// not executed. `None`: transport-level, so it may or may not have run.
    pub codes: Option<(String, String)>,
    /// One line for the event log (no identifiers, no secrets).
    pub message: String,
}

impl Es2Failure {
    fn is(&self, subject: &str, reason: &str) -> bool {
        self.codes
            .as_ref()
            .is_some_and(|(s, r)| s == subject && r == reason)
    }

    fn pair(&self) -> String {
        match &self.codes {
            Some((s, r)) => format!("{s}/{r}"),
            None => "no status".into(),
        }
    }

    /// The message with its status pair, as a failed or waiting step records it.
    fn summary(&self) -> String {
        format!("{} ({})", self.message, self.pair())
    }
}

/// Schedules a retry of a retryable failure while attempts remain (returns true), else
/// marks the step failed for good (returns false).
fn retry_or_give_up(o: &mut Order, call: Es2Call, at: Attempt, f: &Es2Failure) -> bool {
    let retry = f.retryable && at.may_retry();
    let next = if retry {
        at.wait(f.message.clone())
    } else {
        Step::Failed {
            attempt: at.n,
            error: f.summary(),
        }
    };
    if let Some(step) = esim_step(o, call) {
        *step = next;
    }
    retry
}

fn esim_step(o: &mut Order, call: Es2Call) -> Option<&mut Step> {
    let e = o.esim.as_mut()?;
    Some(match call {
        Es2Call::Download => &mut e.download,
        Es2Call::Confirm => &mut e.confirm,
        Es2Call::Cancel => e.cancel.get_or_insert(Step::Pending),
        Es2Call::Release => e.release_check.get_or_insert(Step::Pending),
        Es2Call::Reorder => e.reorder.get_or_insert(Step::Pending),
    })
}

/// Records that ES2+ `call` attempt `attempt` is about to be sent, with its
/// `functionCallIdentifier`, so the identifier is durable before the call.
pub fn mark_es2_sent(o: Order, call: Es2Call, attempt: u32, now_ms: u64) -> Order {
    let mut o = touch(o, now_ms);
    match call {
        Es2Call::Download => o.status = OrderStatus::EsimOrdering,
        Es2Call::Confirm | Es2Call::Release | Es2Call::Reorder => {
            o.status = OrderStatus::EsimReleasing;
        }
        Es2Call::Cancel => {}
    }
    // Verification steps restart their attempts each round: the round keeps ids unique.
    let round = o.esim.as_ref().map_or(0, |e| e.reorders);
    let step = match call {
        Es2Call::Release | Es2Call::Reorder if round > 0 => {
            format!("{}_r{}", call.name(), round + 1)
        }
        _ => call.name().to_owned(),
    };
    let id = crate::order::es2_call_id(&o.id, &step, attempt);
    if let Some(step) = esim_step(&mut o, call) {
        *step = Step::Sent { attempt };
    }
    if let Some(e) = o.esim.as_mut() {
        e.last_call_id = Some(id);
    }
    o
}

/// Sets up the undo of an order after a permanent failure: cancel at the SM-DP+ if the
/// profile may be reserved there, then the HLR if it may hold the subscriber. With
/// nothing to undo, the order fails at once and inventory is released.
fn begin_undo(mut o: Order, cancel: bool, fate: ProfileFate, error: OrderError) -> (Order, Effect) {
    o.error = Some(error);
    let hlr_touched = o.hlr != Step::Pending;
    if let Some(e) = o.esim.as_mut() {
        e.fate = Some(fate);
        e.cancel = cancel.then_some(Step::Pending);
    }
    if hlr_touched {
        o.undo = Some(Step::Pending);
    }
    if cancel || hlr_touched {
        o.status = OrderStatus::Compensating;
        (o, Effect::None)
    } else {
        o.status = OrderStatus::Failed;
        (o, Effect::Release)
    }
}

/// Applies a DownloadOrder answer. `8.2.1/3.3` on a repeat means our earlier, ambiguous
/// attempt reserved the profile (it is leased to this order alone), so it counts as done.
pub fn on_download(o: Order, at: Attempt, result: Result<(), Es2Failure>) -> (Order, Effect) {
    let mut o = touch(o, at.now_ms);
    let outcome = match result {
        Ok(()) => "reserved",
        Err(f) if at.n > 1 && f.is("8.2.1", "3.3") => "reserved_by_earlier_attempt",
        Err(f) => {
            if retry_or_give_up(&mut o, Es2Call::Download, at, &f) {
                return (o, Effect::None);
            }
            // A definite refusal changed nothing at the SM-DP+; a transport failure may
            // have, and so may an earlier attempt whose answer was lost (the fault soak
            // found such a profile back in stock while still reserved for us, refused
            // to the next order as `esim_profile_in_use`).
            let maybe_reserved = f.codes.is_none() || at.n > 1;
            let fate = if download_refusal_retires(&f) {
                ProfileFate::Retire
            } else {
                ProfileFate::Reuse
            };
            if fate == ProfileFate::Retire {
                o.raise(AttentionReason::EsimStockMismatch);
            }
            return begin_undo(o, maybe_reserved, fate, smdp_error(Es2Call::Download, &f));
        }
    };
    if let Some(e) = o.esim.as_mut() {
        e.download = Step::Done {
            outcome: outcome.into(),
        };
    }
    o.status = OrderStatus::HlrProvisioning;
    (o, Effect::None)
}

#[cfg(test)]
mod tests;

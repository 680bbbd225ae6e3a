//! Verifying a release the SM-DP+ answered ambiguously. SGP.22 has no status query, so the
//! states are told apart by which function succeeds (reference §5 matrix):
//! - ReleaseProfile succeeds only on Confirmed, Released (and, by agreement, Downloaded
//!   or Installed): the profile is released for our MatchingID, the only one an exclusive
//!   ICCID lease lets anyone confirm;
//! - DownloadOrder succeeds only on Available: the reservation was lost, and this call
//!   reserves the profile anew, after which ConfirmOrder runs again;
//! - both refused (3.5, then 3.3): Allocated, Error or Unavailable, which no answer here
//!   tells apart. The order then fails, its profile is retired (cancelled as
//!   Unavailable), and it is flagged for an operator: never `active` without evidence.
//!
//! Re-reservations are bounded, so a peer answering inconsistently cannot loop an order.

use super::confirm::{ReleaseTerms, release};
use super::{Es2Call, Es2Failure, begin_undo, retry_or_give_up, smdp_error};
use crate::engine::machine::{Attempt, touch};
use crate::order::Effect;
use crate::order::{AttentionReason, Order, OrderError, ProfileFate, Step};

/// Most times a lost reservation is made anew for one order.
pub const MAX_REORDERS: u32 = 2;

/// A repeated ConfirmOrder was refused as if done (`f`): hold the confirm and verify.
pub(super) fn check_release(mut o: Order, at: Attempt, f: &Es2Failure) -> (Order, Effect) {
    if let Some(e) = o.esim.as_mut() {
        e.confirm = held(at, f, "verifying the release with ReleaseProfile");
        e.release_check = Some(Step::Pending);
    }
    (o, Effect::None)
}

/// The SM-DP+ showed no reservation of ours (`f`): reserve anew if the bound allows,
/// else the profile's state is unknown.
pub(super) fn reservation_lost(mut o: Order, at: Attempt, f: &Es2Failure) -> (Order, Effect) {
    if let Some(e) = o.esim.as_mut() {
        e.confirm = held(at, f, "the reservation was not found");
    }
    reorder_or_give_up(o, f)
}

/// The confirm step waiting (due at once) behind the verification: its next attempt
/// keeps counting, so call ids never repeat.
fn held(at: Attempt, f: &Es2Failure, what: &str) -> Step {
    Step::RetryWait {
        attempt: at.n,
        retry_at_ms: at.now_ms,
        last_error: format!("{} on a ConfirmOrder repeat; {what}", f.pair()),
    }
}

fn reorder_or_give_up(mut o: Order, f: &Es2Failure) -> (Order, Effect) {
    match o.esim.as_mut() {
        Some(e) if e.reorders < MAX_REORDERS => {
            e.reorder = Some(Step::Pending);
            (o, Effect::None)
        }
        _ => unverified(o, f),
    }
}

/// Applies a ReleaseProfile answer (verification only). Success proves the release: the
/// order is active with `terms.replayed_code`. A refusal (3.5: not confirmed; or any
/// other: no evidence) sends the order to re-reserve. ReleaseProfile is idempotent by the
/// spec, so transport failures are simply retried within the budget.
pub fn on_release_check(
    o: Order,
    at: Attempt,
    result: Result<(), Es2Failure>,
    terms: &ReleaseTerms,
) -> (Order, Effect) {
    let mut o = touch(o, at.now_ms);
    let f = match result {
        Ok(()) => {
            if let Some(e) = o.esim.as_mut() {
                e.release_check = Some(Step::Done {
                    outcome: "released".into(),
                });
            }
            let code = terms.replayed_code.clone();
            return release(o, code, "released_by_earlier_attempt", terms, at.now_ms);
        }
        Err(f) => f,
    };
    if f.retryable {
        if retry_or_give_up(&mut o, Es2Call::Release, at, &f) {
            return (o, Effect::None);
        }
        // The SM-DP+ stays silent: the profile may be released for us; cancel it.
        let error = smdp_error(Es2Call::Release, &f);
        close_confirm(&mut o, &f);
        return begin_undo(o, true, ProfileFate::Reuse, error);
    }
    if let Some(e) = o.esim.as_mut() {
        e.release_check = Some(Step::Done {
            outcome: format!("not_released ({})", f.pair()),
        });
    }
    reorder_or_give_up(o, &f)
}

/// Applies the answer to DownloadOrder sent again. Success: the profile was Available and
/// is ours again, so ConfirmOrder runs again. `8.2.1/3.3` after an attempt of this call
/// that may have run may be our own reservation: ConfirmOrder tells (it succeeds only if
/// so). `8.2.1/3.3` otherwise: neither released nor available, so unverified. Other
/// refusals mean our stock is wrong about the profile.
pub fn on_reorder(o: Order, at: Attempt, result: Result<(), Es2Failure>) -> (Order, Effect) {
    let mut o = touch(o, at.now_ms);
    let f = match result {
        Ok(()) => return reserved_again(o, "reserved_again"),
        Err(f) if at.n > 1 && f.is("8.2.1", "3.3") => {
            return reserved_again(o, "maybe_reserved_by_earlier_attempt");
        }
        Err(f) => f,
    };
    if f.is("8.2.1", "3.3") {
        return unverified(o, &f);
    }
    if retry_or_give_up(&mut o, Es2Call::Reorder, at, &f) {
        return (o, Effect::None);
    }
    if f.retryable {
        // Unknown whether it reserved the profile: cancel it in case it did.
        let error = smdp_error(Es2Call::Reorder, &f);
        close_confirm(&mut o, &f);
        return begin_undo(o, true, ProfileFate::Reuse, error);
    }
    o.raise(AttentionReason::EsimStockMismatch);
    let error = smdp_error(Es2Call::Download, &f);
    close_confirm(&mut o, &f);
    begin_undo(o, false, ProfileFate::Retire, error)
}

/// The profile is reserved for this order again: ConfirmOrder runs anew, and only its
/// attempts from now on can be replays of each other.
fn reserved_again(mut o: Order, outcome: &str) -> (Order, Effect) {
    if let Some(e) = o.esim.as_mut() {
        e.reorder = Some(Step::Done {
            outcome: outcome.into(),
        });
        e.reorders += 1;
        e.confirm_from = match e.confirm {
            Step::Sent { attempt }
            | Step::RetryWait { attempt, .. }
            | Step::Failed { attempt, .. } => attempt,
            Step::Pending | Step::Done { .. } => e.confirm_from,
        };
    }
    (o, Effect::None)
}

/// No answer showed the profile released or available: fail the order, retire the
/// profile (cancelled as Unavailable, so no one can download it), flag it.
fn unverified(mut o: Order, f: &Es2Failure) -> (Order, Effect) {
    o.raise(AttentionReason::EsimReleaseUnverified);
    close_confirm(&mut o, f);
    let error = OrderError {
        code: "esim_release_unverified".into(),
        detail: format!(
            "the SM-DP+ refused a repeated ConfirmOrder and gave no evidence that the profile was released or available again (last answer {}): the profile was taken out of stock and is cancelled as Unavailable, an operator reconciles it with the eSIM vendor; the number goes back to the pool once the order is undone (status `failed`); retry the order",
            f.pair()
        ),
    };
    begin_undo(o, true, ProfileFate::Retire, error)
}

/// The confirm held for verification will not run again: it failed, with the answer that
/// ended the verification.
fn close_confirm(o: &mut Order, f: &Es2Failure) {
    if let Some(e) = o.esim.as_mut() {
        if let Step::RetryWait { attempt, .. } = e.confirm {
            e.confirm = Step::Failed {
                attempt,
                error: format!(
                    "release not verified; last answer {}: {}",
                    f.pair(),
                    f.message
                ),
            };
        }
    }
}

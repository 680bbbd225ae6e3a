//! Undoing an eSIM order at the SM-DP+: CancelOrder and what each answer settles, and the
//! expiry that reopens a released profile nobody downloaded.

use super::Es2Failure;
use crate::engine::machine::{Attempt, touch};
use crate::order::Effect;
use crate::order::{
    AttentionReason, LeftAtSmdp, Order, OrderError, OrderStatus, ProfileFate, Step,
};

/// Applies a CancelOrder answer. A cancel never gives up while the profile may still be
/// reserved for us: transport failures and any refusal that does not settle the profile's
/// fate are retried at the capped backoff (past the retry budget the order is flagged
/// [`AttentionReason::SmdpCancelStalled`], and `left_at_smdp` says what is still there).
/// Settled: success; `8.2.1/3.5` (nothing reserved: what the cancel was for);
/// `8.2.1/3.3` (downloaded: an expiring order goes back to `active`, otherwise the profile
/// is retired and flagged); `8.2.1/3.10` or `8.2.6/3.10` (bound elsewhere) and
/// `8.2.1/3.9` or `1.2` (unknown, not ours): retired and flagged.
pub fn on_cancel(o: Order, at: Attempt, result: Result<(), Es2Failure>) -> (Order, Effect) {
    let mut o = touch(o, at.now_ms);
    let f = match result {
        Ok(()) => return cancelled(o, "cancelled"),
        Err(f) => f,
    };
    let (reason, left) = match CancelRefusal::of(&f) {
        Some(CancelRefusal::NotReserved) => return cancelled(o, "not_reserved"),
        Some(CancelRefusal::Downloaded) if expiring(&o) => return (revive(o), Effect::None),
        Some(CancelRefusal::Downloaded) => (
            AttentionReason::EsimProfileNotCancellable,
            Some(LeftAtSmdp::Downloaded),
        ),
        Some(CancelRefusal::BoundElsewhere) => (
            AttentionReason::EsimProfileNotCancellable,
            Some(LeftAtSmdp::BoundElsewhere),
        ),
        Some(CancelRefusal::NotOurs) => (AttentionReason::EsimStockMismatch, None),
        None => {
            // Not cancelled, and nothing says it never will be: keep trying.
            let released = matches!(o.esim.as_ref().map(|e| &e.confirm), Some(Step::Done { .. }));
            if let Some(e) = o.esim.as_mut() {
                e.cancel = Some(at.wait(f.summary()));
                e.left_at_smdp = Some(if released {
                    LeftAtSmdp::Released
                } else {
                    LeftAtSmdp::Reserved
                });
            }
            if !at.may_retry() {
                o.raise(AttentionReason::SmdpCancelStalled);
            }
            return (o, Effect::None);
        }
    };
    o.settle(AttentionReason::SmdpCancelStalled);
    o.raise(reason);
    if let Some(e) = o.esim.as_mut() {
        e.fate = Some(ProfileFate::Retire);
        e.left_at_smdp = left;
        e.cancel = Some(Step::Failed {
            attempt: at.n,
            error: f.summary(),
        });
    }
    after_cancel(o)
}

/// What a refused CancelOrder settles about the profile. Any other refusal (an `Expired`,
/// a processing error, an access or format error, an HTTP status) settles nothing: the
/// profile may still be reserved or released, and the cancel is tried again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelRefusal {
    /// `8.2.1/3.5`: not reserved (Available or Unavailable already), which is what the
    /// cancel was for.
    NotReserved,
    /// `8.2.1/3.3`: downloaded; the device's now, as ES2+ leaves it.
    Downloaded,
    /// `8.2.1/3.10` or `8.2.6/3.10`: bound to another EID or MatchingID.
    BoundElsewhere,
    /// `8.2.1/3.9` or `8.2.1/1.2`: unknown to the SM-DP+, or another operator's.
    NotOurs,
}

impl CancelRefusal {
    /// The refusal `f` is, if it settles anything.
    pub fn of(f: &Es2Failure) -> Option<Self> {
        if f.is("8.2.1", "3.5") {
            Some(Self::NotReserved)
        } else if f.is("8.2.1", "3.3") {
            Some(Self::Downloaded)
        } else if f.is("8.2.1", "3.10") || f.is("8.2.6", "3.10") {
            Some(Self::BoundElsewhere)
        } else if f.is("8.2.1", "3.9") || f.is("8.2.1", "1.2") {
            Some(Self::NotOurs)
        } else {
            None
        }
    }
}

/// The cancel is done: nothing of the order is left at the SM-DP+.
fn cancelled(mut o: Order, outcome: &str) -> (Order, Effect) {
    o.settle(AttentionReason::SmdpCancelStalled);
    if let Some(e) = o.esim.as_mut() {
        e.cancel = Some(Step::Done {
            outcome: outcome.to_owned(),
        });
        e.left_at_smdp = None;
    }
    after_cancel(o)
}

fn after_cancel(mut o: Order) -> (Order, Effect) {
    if o.undo.is_some() {
        return (o, Effect::None);
    }
    o.status = OrderStatus::Failed;
    (o, Effect::Release)
}

const EXPIRED: &str = "esim_not_downloaded";

fn expiring(o: &Order) -> bool {
    o.error.as_ref().is_some_and(|e| e.code == EXPIRED)
}

/// An expiring order whose profile was downloaded after all: back to `active`.
fn revive(mut o: Order) -> Order {
    o.status = OrderStatus::Active;
    o.error = None;
    o.undo = None;
    o.settle(AttentionReason::SmdpCancelStalled);
    if let Some(e) = o.esim.as_mut() {
        e.cancel = None;
        e.fate = None;
        e.expires_at_ms = None;
        e.left_at_smdp = None;
    }
    o
}

/// Reopens an active eSIM order whose profile was released but never downloaded by its
/// deadline: cancel it at the SM-DP+ (back to stock), remove the subscriber, free the number.
pub fn expire(o: Order, now_ms: u64) -> Order {
    let mut o = touch(o, now_ms);
    o.status = OrderStatus::Compensating;
    o.error = Some(OrderError {
        code: EXPIRED.into(),
        detail: "the customer did not download the eSIM profile before the activation code expired; the profile was cancelled and the number returned to the pool; place a new order".into(),
    });
    o.undo = Some(Step::Pending);
    if let Some(e) = o.esim.as_mut() {
        e.cancel = Some(Step::Pending);
        e.fate = Some(ProfileFate::Reuse);
    }
    o
}

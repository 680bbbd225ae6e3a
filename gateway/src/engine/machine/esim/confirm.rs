//! ConfirmOrder (releaseFlag true): the step that releases the profile and makes the
//! order active. A refusal that could be the replay of an earlier, ambiguous attempt is
//! never taken as proof of release: it sends the order to `verify`.

use super::{Es2Call, Es2Failure, begin_undo, retry_or_give_up, smdp_error, verify};
use crate::engine::machine::{Attempt, RetryPolicy, touch};
use crate::order::Effect;
use crate::order::{Order, OrderStatus, ProfileFate, Step};

/// What releasing an order needs besides the SM-DP+'s answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseTerms {
    /// The activation code from our own data (our MatchingID at the default SM-DP+
    /// address), published when the release is proven but its answer was lost.
    pub replayed_code: String,
    /// How long the customer has to download, from release; `None`: no deadline.
    pub expiry_ms: Option<u64>,
}

/// Applies a ConfirmOrder answer. `Ok(code)` carries the activation code built from the
/// answer (or our own data) and makes the order active. `8.2.6/3.3` or `8.2.1/3.5` on a
/// repeat after an attempt of this reservation that may have run is what a replay looks
/// like, and also what a lost reservation looks like (reference §5: 3.5 on Available):
/// it is verified with ReleaseProfile before anything is published. `8.2.1/3.5` on the
/// first attempt of a reservation means the reservation is gone: re-reserve if possible.
pub fn on_confirm(
    o: Order,
    at: Attempt,
    result: Result<String, Es2Failure>,
    terms: &ReleaseTerms,
) -> (Order, Effect) {
    let mut o = touch(o, at.now_ms);
    let f = match result {
        Ok(code) => return release(o, code, "released", terms, at.now_ms),
        Err(f) => f,
    };
    let earlier = o.esim.as_ref().map_or(0, |e| e.confirm_from);
    let first_of_reservation = at.n <= earlier + 1;
    let looks_done = f.is("8.2.6", "3.3") || f.is("8.2.1", "3.5");
    if looks_done && !first_of_reservation {
        return verify::check_release(o, at, &f);
    }
    if f.is("8.2.1", "3.5") {
        // Nothing of ours confirmed it, yet it is not reserved for us: lost.
        return verify::reservation_lost(o, at, &f);
    }
    // Each reservation gets the whole retry budget (attempts keep counting, for call ids).
    let budget = RetryPolicy {
        max_attempts: at.policy.max_attempts.saturating_add(earlier),
        ..*at.policy
    };
    let at = Attempt {
        policy: &budget,
        ..at
    };
    if retry_or_give_up(&mut o, Es2Call::Confirm, at, &f) {
        return (o, Effect::None);
    }
    // Reserved (maybe confirmed) at the SM-DP+: cancel it back to stock.
    begin_undo(
        o,
        true,
        ProfileFate::Reuse,
        smdp_error(Es2Call::Confirm, &f),
    )
}

/// The profile is released with `code`: the order is active and its download deadline
/// starts.
pub(super) fn release(
    mut o: Order,
    code: String,
    outcome: &str,
    terms: &ReleaseTerms,
    now_ms: u64,
) -> (Order, Effect) {
    if let Some(e) = o.esim.as_mut() {
        e.confirm = Step::Done {
            outcome: outcome.into(),
        };
        e.activation_code = Some(code);
        e.expires_at_ms = terms.expiry_ms.map(|d| now_ms.saturating_add(d));
    }
    o.status = OrderStatus::Active;
    (o, Effect::Activate)
}

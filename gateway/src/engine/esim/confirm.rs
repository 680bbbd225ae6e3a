//! ConfirmOrder (releaseFlag true): the step that releases the profile and makes the
//! order active, with the replay rule for a repeat after an ambiguous attempt.

use super::{Es2Call, Es2Failure, begin_undo, retry_or_give_up, smdp_error};
use crate::engine::machine::{Effect, RetryPolicy, touch};
use crate::order::{Order, OrderStatus, ProfileFate, Step};

/// Applies a ConfirmOrder answer. `Ok(code)` carries the activation code built from the
/// answer (or our own data). A repeat answered `8.2.6/3.3` or `8.2.1/3.5` means the first,
/// ambiguous attempt took effect: our MatchingID is unique and the ICCID ours alone, so
/// the order is released with `replayed_code`. Success makes the order active and starts
/// the download deadline.
#[allow(clippy::too_many_arguments)]
pub fn on_confirm(
    o: Order,
    attempt: u32,
    result: Result<String, Es2Failure>,
    replayed_code: String,
    expiry_ms: Option<u64>,
    policy: &RetryPolicy,
    jitter: u32,
    now_ms: u64,
) -> (Order, Effect) {
    let mut o = touch(o, now_ms);
    let (code, outcome) = match result {
        Ok(code) => (code, "released"),
        Err(f) if attempt > 1 && (f.is("8.2.6", "3.3") || f.is("8.2.1", "3.5")) => {
            (replayed_code, "released_by_earlier_attempt")
        }
        Err(f) => {
            if retry_or_give_up(
                &mut o,
                Es2Call::Confirm,
                attempt,
                &f,
                policy,
                jitter,
                now_ms,
            ) {
                return (o, Effect::None);
            }
            // Reserved (maybe confirmed) at the SM-DP+: cancel it back to stock.
            return begin_undo(
                o,
                true,
                ProfileFate::Reuse,
                smdp_error(Es2Call::Confirm, &f),
            );
        }
    };
    if let Some(e) = o.esim.as_mut() {
        e.confirm = Step::Done {
            outcome: outcome.into(),
        };
        e.activation_code = Some(code);
        e.expires_at_ms = expiry_ms.map(|d| now_ms.saturating_add(d));
    }
    o.status = OrderStatus::Active;
    (o, Effect::Activate)
}

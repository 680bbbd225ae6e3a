//! The eSIM half of the order state machine, pure like [`super::machine`]: the ES2+ steps
//! (DownloadOrder → HLR → ConfirmOrder with releaseFlag, and CancelOrder to undo), the
//! replay rules that make each step safe to repeat after an ambiguous attempt (SGP.22 has
//! no idempotency key), the mapping of SM-DP+ status codes to reseller error codes, expiry
//! of profiles never downloaded, and the progress mirror fed by notifications.

use super::machine::{Effect, RetryPolicy, touch};
use crate::order::{
    AttentionReason, LeftAtSmdp, Order, OrderError, OrderStatus, ProfileFate, Step,
};
use crate::store::EsimState;

/// The ES2+ calls an order makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Es2Call {
    /// DownloadOrder(iccid[, eid]): reserve our profile at the SM-DP+.
    Download,
    /// ConfirmOrder(iccid, [eid], our matchingId, [CC], releaseFlag=true).
    Confirm,
    /// CancelOrder(iccid, [eid], matchingId, Available|Unavailable).
    Cancel,
}

impl Es2Call {
    /// Step name in events and call ids.
    pub fn name(self) -> &'static str {
        match self {
            Self::Download => "es2_download_order",
            Self::Confirm => "es2_confirm_order",
            Self::Cancel => "es2_cancel_order",
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
}

fn esim_step(o: &mut Order, call: Es2Call) -> Option<&mut Step> {
    let e = o.esim.as_mut()?;
    Some(match call {
        Es2Call::Download => &mut e.download,
        Es2Call::Confirm => &mut e.confirm,
        Es2Call::Cancel => e.cancel.get_or_insert(Step::Pending),
    })
}

/// Records that ES2+ `call` attempt `attempt` is about to be sent, with its
/// `functionCallIdentifier`, so the identifier is durable before the call.
pub fn mark_es2_sent(o: Order, call: Es2Call, attempt: u32, now_ms: u64) -> Order {
    let mut o = touch(o, now_ms);
    match call {
        Es2Call::Download => o.status = OrderStatus::EsimOrdering,
        Es2Call::Confirm => o.status = OrderStatus::EsimReleasing,
        Es2Call::Cancel => {}
    }
    let id = crate::order::es2_call_id(&o.id, call.name(), attempt);
    if let Some(step) = esim_step(&mut o, call) {
        *step = Step::Sent { attempt };
    }
    if let Some(e) = o.esim.as_mut() {
        e.last_call_id = Some(id);
    }
    o
}

/// The reseller-facing error for a permanent SM-DP+ refusal, with what to do next.
pub fn smdp_error(call: Es2Call, f: &Es2Failure) -> OrderError {
    let pair = f.pair();
    let (code, what) = match f.codes.as_ref().map(|(s, r)| (s.as_str(), r.as_str())) {
        Some(("8.2.5", "3.7")) => (
            "esim_stock_out",
            "the SM-DP+ has no profile of this type left; order more profiles from the eSIM vendor",
        ),
        Some(("8.2.5", "3.9" | "1.2")) => (
            "esim_profile_type_refused",
            "the SM-DP+ does not offer this profile type to us; check the product's `esim_profile_type`",
        ),
        Some(("8.2.5", "3.8")) => (
            "esim_profile_type_mismatch",
            "the SM-DP+ holds this profile under another profile type; re-import the profile batch with the right type",
        ),
        Some(("8.2.1", "3.9")) => (
            "esim_profile_unknown",
            "the SM-DP+ does not know this profile; the profile was taken out of stock, reconcile the batch with the eSIM vendor and retry the order",
        ),
        Some(("8.2.1", "1.2")) => (
            "esim_profile_not_allowed",
            "the SM-DP+ says this profile belongs to another operator; it was taken out of stock, retry the order",
        ),
        Some(("8.2.1", "3.3")) => (
            "esim_profile_in_use",
            "the SM-DP+ says this profile is already reserved or used; it was taken out of stock, retry the order",
        ),
        Some(("8.1.1", "3.10")) => (
            "esim_eid_mismatch",
            "the SM-DP+ has this profile bound to another EID; retry the order, checking the device's EID",
        ),
        Some(("8.1.1", "2.2")) => (
            "esim_eid_required",
            "the SM-DP+ requires the device's EID for this profile; retry with `sim.eid`",
        ),
        Some(("8.2.6", "3.3")) => (
            "esim_matching_id_in_use",
            "the SM-DP+ refused our MatchingID as already used; retry the order",
        ),
        Some(_) if !f.retryable => (
            "smdp_rejected",
            "the SM-DP+ refused the order; contact the eSIM vendor with the status code",
        ),
        _ => (
            "smdp_unavailable",
            "the SM-DP+ did not answer in time; retry the activation later",
        ),
    };
    OrderError {
        code: code.into(),
        detail: format!(
            "ES2+ {} failed ({pair}: {}): {what}; the number goes back to the pool once the order is undone (status `failed`)",
            call.name().trim_start_matches("es2_"),
            f.message
        ),
    }
}

/// Whether a DownloadOrder refusal means our inventory is wrong about the profile, so it
/// must leave stock rather than be handed to the next customer.
fn download_refusal_retires(f: &Es2Failure) -> bool {
    f.codes
        .as_ref()
        .is_some_and(|(s, _)| s == "8.2.1" || s == "8.2.5")
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

/// Schedules a retry of a retryable failure while attempts remain (returns true), else
/// marks the step failed for good (returns false).
fn retry_or_give_up(
    o: &mut Order,
    call: Es2Call,
    attempt: u32,
    f: &Es2Failure,
    policy: &RetryPolicy,
    jitter: u32,
    now_ms: u64,
) -> bool {
    let retry = f.retryable && attempt < policy.max_attempts;
    let next = if retry {
        Step::RetryWait {
            attempt,
            retry_at_ms: now_ms + policy.delay_ms(attempt, jitter),
            last_error: f.message.clone(),
        }
    } else {
        Step::Failed {
            attempt,
            error: format!("{} ({})", f.message, f.pair()),
        }
    };
    if let Some(step) = esim_step(o, call) {
        *step = next;
    }
    retry
}

/// Applies a DownloadOrder answer. `8.2.1/3.3` on a repeat means our earlier, ambiguous
/// attempt reserved the profile (it is leased to this order alone), so it counts as done.
pub fn on_download(
    o: Order,
    attempt: u32,
    result: Result<(), Es2Failure>,
    policy: &RetryPolicy,
    jitter: u32,
    now_ms: u64,
) -> (Order, Effect) {
    let mut o = touch(o, now_ms);
    let outcome = match result {
        Ok(()) => "reserved",
        Err(f) if attempt > 1 && f.is("8.2.1", "3.3") => "reserved_by_earlier_attempt",
        Err(f) => {
            if retry_or_give_up(
                &mut o,
                Es2Call::Download,
                attempt,
                &f,
                policy,
                jitter,
                now_ms,
            ) {
                return (o, Effect::None);
            }
            // A definite refusal changed nothing at the SM-DP+; a transport failure may have.
            let maybe_reserved = f.codes.is_none();
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

/// Applies a CancelOrder answer. A cancel never gives up while the profile may still be
/// reserved for us: transport failures and any refusal that does not settle the profile's
/// fate are retried at the capped backoff (past the retry budget the order is flagged
/// [`AttentionReason::SmdpCancelStalled`], and `left_at_smdp` says what is still there).
/// Settled: success; `8.2.1/3.5` (nothing reserved: what the cancel was for);
/// `8.2.1/3.3` (downloaded: an expiring order goes back to `active`, otherwise the profile
/// is retired and flagged); `8.2.1/3.10` or `8.2.6/3.10` (bound elsewhere) and
/// `8.2.1/3.9` or `1.2` (unknown, not ours): retired and flagged.
pub fn on_cancel(
    o: Order,
    attempt: u32,
    result: Result<(), Es2Failure>,
    policy: &RetryPolicy,
    jitter: u32,
    now_ms: u64,
) -> (Order, Effect) {
    let mut o = touch(o, now_ms);
    let f = match result {
        Ok(()) => return cancelled(o, "cancelled"),
        // Invalid transition: the profile is not reserved (Available or Unavailable
        // already, by an earlier attempt or otherwise), which is what the cancel was for.
        Err(f) if f.is("8.2.1", "3.5") => return cancelled(o, "not_reserved"),
        Err(f) if f.is("8.2.1", "3.3") && expiring(&o) => return (revive(o), Effect::None),
        Err(f) => f,
    };
    let settled = if f.is("8.2.1", "3.3") {
        Some((
            AttentionReason::EsimProfileNotCancellable,
            Some(LeftAtSmdp::Downloaded),
        ))
    } else if f.is("8.2.1", "3.10") || f.is("8.2.6", "3.10") {
        Some((
            AttentionReason::EsimProfileNotCancellable,
            Some(LeftAtSmdp::BoundElsewhere),
        ))
    } else if f.is("8.2.1", "3.9") || f.is("8.2.1", "1.2") {
        Some((AttentionReason::EsimStockMismatch, None))
    } else {
        None
    };
    let Some((reason, left)) = settled else {
        // Not cancelled, and nothing says it never will be: keep trying.
        let released = matches!(o.esim.as_ref().map(|e| &e.confirm), Some(Step::Done { .. }));
        if let Some(e) = o.esim.as_mut() {
            e.cancel = Some(Step::RetryWait {
                attempt,
                retry_at_ms: now_ms + policy.delay_ms(attempt, jitter),
                last_error: format!("{} ({})", f.message, f.pair()),
            });
            e.left_at_smdp = Some(if released {
                LeftAtSmdp::Released
            } else {
                LeftAtSmdp::Reserved
            });
        }
        if attempt >= policy.max_attempts {
            o.raise(AttentionReason::SmdpCancelStalled);
        }
        return (o, Effect::None);
    };
    o.settle(AttentionReason::SmdpCancelStalled);
    o.raise(reason);
    if let Some(e) = o.esim.as_mut() {
        e.fate = Some(ProfileFate::Retire);
        e.left_at_smdp = left;
        e.cancel = Some(Step::Failed {
            attempt,
            error: format!("{} ({})", f.message, f.pair()),
        });
    }
    after_cancel(o)
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

/// The mirrored state after notification point `point` with a success or failure status.
/// Never goes backwards from installed; a failure after install does not undo it; an
/// unknown point (5–99, ≥ 100) changes nothing.
pub fn progress_after(state: Option<EsimState>, point: u32, success: bool) -> Option<EsimState> {
    use EsimState::*;
    if state == Some(Installed) {
        return state;
    }
    match (point, success) {
        (1..=4, false) => Some(Error),
        (3, true) if state != Some(Error) => Some(Downloaded),
        (4, true) => Some(Installed),
        (1 | 2, true) => state.or(Some(Released)),
        _ => state,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::machine::{Action, next_action};
    use crate::order::EsimOrder;

    const POLICY: RetryPolicy = RetryPolicy {
        max_attempts: 3,
        base_ms: 100,
        max_ms: 1_000,
    };

    fn order() -> Order {
        let mut o = crate::engine::machine::fixture_order();
        o.id = "act_e".into();
        o.esim = Some(EsimOrder::new("T".into(), None, "AAAA-BBBB".into(), None));
        o
    }

    fn refused(s: &str, r: &str) -> Es2Failure {
        Es2Failure {
            retryable: false,
            codes: Some((s.into(), r.into())),
            message: "refused".into(),
        }
    }

    fn lost() -> Es2Failure {
        Es2Failure {
            retryable: true,
            codes: None,
            message: "response lost".into(),
        }
    }

    fn download(o: Order, attempt: u32, r: Result<(), Es2Failure>) -> (Order, Effect) {
        on_download(
            mark_es2_sent(o, Es2Call::Download, attempt, 1),
            attempt,
            r,
            &POLICY,
            0,
            2,
        )
    }

    fn confirm(o: Order, attempt: u32, r: Result<String, Es2Failure>) -> (Order, Effect) {
        on_confirm(
            mark_es2_sent(o, Es2Call::Confirm, attempt, 3),
            attempt,
            r,
            "1$SMDP.EXAMPLE$AAAA-BBBB".into(),
            Some(1_000),
            &POLICY,
            0,
            4,
        )
    }

    fn provisioned(o: Order) -> Order {
        let mut o = o;
        o.hlr = Step::Done {
            outcome: "created".into(),
        };
        o.status = OrderStatus::EsimReleasing;
        o
    }

    #[test]
    fn steps_run_download_then_hlr_then_confirm() {
        let o = order();
        assert_eq!(
            next_action(&o, 0),
            Action::Es2 {
                call: Es2Call::Download,
                attempt: 1
            }
        );
        let sent = mark_es2_sent(o, Es2Call::Download, 1, 1);
        assert_eq!(
            sent.esim.as_ref().and_then(|e| e.last_call_id.as_deref()),
            Some("act_e-es2_download_order-1"),
            "the call id is persisted with the order before the call"
        );
        let (o, eff) = on_download(sent, 1, Ok(()), &POLICY, 0, 2);
        assert_eq!(
            (o.status, eff),
            (OrderStatus::HlrProvisioning, Effect::None)
        );
        assert_eq!(next_action(&o, 2), Action::Provision { attempt: 1 });
        let o = provisioned(o);
        assert_eq!(
            next_action(&o, 3),
            Action::Es2 {
                call: Es2Call::Confirm,
                attempt: 1
            }
        );
        let (o, eff) = confirm(o, 1, Ok("1$SMDP.EXAMPLE$AAAA-BBBB".into()));
        assert_eq!((o.status, eff), (OrderStatus::Active, Effect::Activate));
        let e = o.esim.as_ref().expect("esim");
        assert_eq!(
            e.activation_code.as_deref(),
            Some("1$SMDP.EXAMPLE$AAAA-BBBB")
        );
        assert_eq!(e.expires_at_ms, Some(1_004));
        assert_eq!(next_action(&o, 5), Action::Finished);
    }

    #[test]
    fn a_download_answered_in_use_after_a_lost_response_is_ours() {
        let (o, _) = download(order(), 1, Err(lost()));
        assert!(matches!(
            o.esim.as_ref().map(|e| &e.download),
            Some(Step::RetryWait { .. })
        ));
        let (o, _) = download(o, 2, Err(refused("8.2.1", "3.3")));
        assert_eq!(o.status, OrderStatus::HlrProvisioning);
        // The same answer to a first attempt is someone else's profile: retire it.
        let (o, eff) = download(order(), 1, Err(refused("8.2.1", "3.3")));
        assert_eq!((o.status, eff), (OrderStatus::Failed, Effect::Release));
        assert_eq!(
            o.esim.as_ref().and_then(|e| e.fate),
            Some(ProfileFate::Retire)
        );
        assert!(o.needs_attention);
        assert_eq!(o.attention, [AttentionReason::EsimStockMismatch]);
    }

    #[test]
    fn every_download_refusal_maps_to_a_reseller_code() {
        for (s, r, code, fate) in [
            ("8.2.1", "3.9", "esim_profile_unknown", ProfileFate::Retire),
            (
                "8.2.1",
                "1.2",
                "esim_profile_not_allowed",
                ProfileFate::Retire,
            ),
            ("8.2.1", "3.3", "esim_profile_in_use", ProfileFate::Retire),
            (
                "8.2.5",
                "3.9",
                "esim_profile_type_refused",
                ProfileFate::Retire,
            ),
            (
                "8.2.5",
                "1.2",
                "esim_profile_type_refused",
                ProfileFate::Retire,
            ),
            ("8.2.5", "3.7", "esim_stock_out", ProfileFate::Retire),
            (
                "8.2.5",
                "3.8",
                "esim_profile_type_mismatch",
                ProfileFate::Retire,
            ),
            ("8.1.1", "3.10", "esim_eid_mismatch", ProfileFate::Reuse),
            ("1.1", "1.2", "smdp_rejected", ProfileFate::Reuse),
        ] {
            let (o, eff) = download(order(), 1, Err(refused(s, r)));
            // A definite refusal reserved nothing and touched no HLR: fail at once.
            assert_eq!(
                (o.status, eff),
                (OrderStatus::Failed, Effect::Release),
                "{s}/{r}"
            );
            assert_eq!(
                o.error.as_ref().map(|e| e.code.as_str()),
                Some(code),
                "{s}/{r}"
            );
            assert_eq!(o.esim.as_ref().and_then(|e| e.fate), Some(fate), "{s}/{r}");
            // Only a profile our stock is wrong about needs an operator, and says so.
            let want: &[AttentionReason] = match fate {
                ProfileFate::Retire => &[AttentionReason::EsimStockMismatch],
                ProfileFate::Reuse => &[],
            };
            assert_eq!(o.attention, want, "{s}/{r}");
            assert_eq!(o.needs_attention, !want.is_empty(), "{s}/{r}");
            let detail = &o.error.as_ref().expect("error").detail;
            assert!(detail.contains(&format!("{s}/{r}")), "{detail}");
        }
    }

    #[test]
    fn a_download_lost_every_time_cancels_in_case_it_happened() {
        let mut o = order();
        for attempt in 1..=3 {
            o = download(o, attempt, Err(lost())).0;
        }
        assert_eq!(o.status, OrderStatus::Compensating);
        assert_eq!(
            o.error.as_ref().map(|e| e.code.as_str()),
            Some("smdp_unavailable")
        );
        assert_eq!(
            next_action(&o, 10),
            Action::Es2 {
                call: Es2Call::Cancel,
                attempt: 1
            }
        );
        let (o, eff) = on_cancel(
            mark_es2_sent(o, Es2Call::Cancel, 1, 11),
            1,
            Ok(()),
            &POLICY,
            0,
            12,
        );
        // The HLR was never touched: done.
        assert_eq!((o.status, eff), (OrderStatus::Failed, Effect::Release));
    }

    #[test]
    fn a_permanent_hlr_failure_cancels_the_profile_as_available_then_cleans_the_hlr() {
        let (o, _) = download(order(), 1, Ok(()));
        let o = crate::engine::machine::mark_sent(o, 1, 3);
        let (o, _) = crate::engine::machine::on_provision(
            o,
            1,
            Err(adapters::hlr::HlrError::new(
                adapters::hlr::FaultClass::External,
                "Create",
                "refused",
            )),
            &POLICY,
            0,
            4,
        );
        assert_eq!(o.status, OrderStatus::Compensating);
        assert_eq!(
            o.esim.as_ref().and_then(|e| e.fate),
            Some(ProfileFate::Reuse)
        );
        assert_eq!(
            next_action(&o, 5),
            Action::Es2 {
                call: Es2Call::Cancel,
                attempt: 1
            }
        );
        let (o, eff) = on_cancel(
            mark_es2_sent(o, Es2Call::Cancel, 1, 5),
            1,
            Ok(()),
            &POLICY,
            0,
            6,
        );
        assert_eq!(eff, Effect::None);
        assert_eq!(next_action(&o, 6), Action::Deprovision { attempt: 1 });
    }

    #[test]
    fn confirm_replays_after_an_ambiguous_attempt_count_as_released() {
        for (s, r) in [("8.2.6", "3.3"), ("8.2.1", "3.5")] {
            let o = provisioned(download(order(), 1, Ok(())).0);
            let (o, _) = confirm(o, 1, Err(lost()));
            let (o, eff) = confirm(o, 2, Err(refused(s, r)));
            assert_eq!(
                (o.status, eff),
                (OrderStatus::Active, Effect::Activate),
                "{s}/{r}"
            );
            assert_eq!(
                o.esim.as_ref().and_then(|e| e.activation_code.as_deref()),
                Some("1$SMDP.EXAMPLE$AAAA-BBBB")
            );
        }
        // On a first attempt the same answer is a real refusal.
        let o = provisioned(download(order(), 1, Ok(())).0);
        let (o, _) = confirm(o, 1, Err(refused("8.2.6", "3.3")));
        assert_eq!(o.status, OrderStatus::Compensating);
        assert_eq!(
            o.error.as_ref().map(|e| e.code.as_str()),
            Some("esim_matching_id_in_use")
        );
        assert_eq!(o.undo, Some(Step::Pending));
    }

    #[test]
    fn expiry_cancels_unless_the_customer_downloaded_meanwhile() {
        let o = provisioned(download(order(), 1, Ok(())).0);
        let (o, _) = confirm(o, 1, Ok("1$X$Y".into()));
        let expiring = expire(o, 2_000);
        assert_eq!(expiring.status, OrderStatus::Compensating);
        assert_eq!(
            next_action(&expiring, 2_000),
            Action::Es2 {
                call: Es2Call::Cancel,
                attempt: 1
            }
        );
        // Downloaded in the meantime: the order is active again, nothing undone.
        let (o, eff) = on_cancel(
            mark_es2_sent(expiring.clone(), Es2Call::Cancel, 1, 2_001),
            1,
            Err(refused("8.2.1", "3.3")),
            &POLICY,
            0,
            2_002,
        );
        assert_eq!((o.status, eff), (OrderStatus::Active, Effect::None));
        assert!(o.error.is_none() && o.undo.is_none());
        // Not downloaded: cancelled, then the HLR, then released.
        let (o, _) = on_cancel(
            mark_es2_sent(expiring, Es2Call::Cancel, 1, 2_001),
            1,
            Ok(()),
            &POLICY,
            0,
            2_002,
        );
        assert_eq!(next_action(&o, 2_003), Action::Deprovision { attempt: 1 });
        let o = crate::engine::machine::mark_undo_sent(o, 1, 2_003);
        let (o, eff) = crate::engine::machine::on_deprovision(
            o,
            1,
            Ok(adapters::hlr::DeprovisionOutcome::Deleted),
            &POLICY,
            0,
            2_004,
        );
        assert_eq!((o.status, eff), (OrderStatus::Failed, Effect::Release));
        assert_eq!(
            o.error.as_ref().map(|e| e.code.as_str()),
            Some("esim_not_downloaded")
        );
    }

    #[test]
    fn cancel_retries_transport_failures_and_accepts_replays() {
        let (o, _) = download(order(), 1, Err(refused("8.2.5", "3.7")));
        assert_eq!(o.status, OrderStatus::Failed);
        let mut o = order();
        o.status = OrderStatus::Compensating;
        if let Some(e) = o.esim.as_mut() {
            e.cancel = Some(Step::Pending);
        }
        let (o, eff) = on_cancel(
            mark_es2_sent(o, Es2Call::Cancel, 1, 1),
            1,
            Err(lost()),
            &POLICY,
            0,
            2,
        );
        assert_eq!(eff, Effect::None);
        assert!(matches!(next_action(&o, 2), Action::WaitUntil(_)));
        // The repeat finds the profile Available already (8.2.1/3.5): the cancel happened.
        let (o, eff) = on_cancel(
            mark_es2_sent(o, Es2Call::Cancel, 2, 5_000),
            2,
            Err(refused("8.2.1", "3.5")),
            &POLICY,
            0,
            5_001,
        );
        assert_eq!((o.status, eff), (OrderStatus::Failed, Effect::Release));
        assert!(!o.needs_attention);
        // Even on a first attempt, nothing reserved means nothing left to cancel.
        let mut o = order();
        o.status = OrderStatus::Compensating;
        let (o, eff) = on_cancel(
            mark_es2_sent(o, Es2Call::Cancel, 1, 1),
            1,
            Err(refused("8.2.1", "3.5")),
            &POLICY,
            0,
            2,
        );
        assert_eq!((o.status, eff), (OrderStatus::Failed, Effect::Release));
        assert_eq!(o.esim.as_ref().and_then(|e| e.fate), None);
        // Unknown at the SM-DP+: not ours to put back; retired and flagged.
        let mut o = order();
        o.status = OrderStatus::Compensating;
        let (o, _) = on_cancel(
            mark_es2_sent(o, Es2Call::Cancel, 1, 1),
            1,
            Err(refused("8.2.1", "3.9")),
            &POLICY,
            0,
            2,
        );
        assert_eq!(
            o.esim.as_ref().and_then(|e| e.fate),
            Some(ProfileFate::Retire)
        );
        assert!(o.needs_attention);
    }

    /// An order undoing a released profile (expired, or failed after release), with the
    /// cancel about to be sent as attempt `attempt`.
    fn cancelling(expired: bool) -> Order {
        let o = provisioned(download(order(), 1, Ok(())).0);
        let (mut o, _) = confirm(o, 1, Ok("1$X$Y".into()));
        if expired {
            return expire(o, 2_000);
        }
        o.status = OrderStatus::Compensating;
        o.error = Some(OrderError {
            code: "hlr_rejected".into(),
            detail: "test".into(),
        });
        o.undo = Some(Step::Pending);
        if let Some(e) = o.esim.as_mut() {
            e.cancel = Some(Step::Pending);
            e.fate = Some(ProfileFate::Reuse);
        }
        o
    }

    fn cancel(o: Order, attempt: u32, r: Result<(), Es2Failure>) -> (Order, Effect) {
        on_cancel(
            mark_es2_sent(o, Es2Call::Cancel, attempt, 5_000),
            attempt,
            r,
            &POLICY,
            u32::MAX,
            5_001,
        )
    }

    fn expired_answer() -> Es2Failure {
        Es2Failure {
            retryable: false,
            codes: Some(("8.8.5".into(), "4.10".into())),
            message: "Expired".into(),
        }
    }

    #[test]
    fn every_cancel_answer_settles_the_profile_or_keeps_trying() {
        use AttentionReason::*;
        // (answer, settled as, fate, attention, left at the SM-DP+)
        type Case = (
            Es2Failure,
            Option<&'static str>,
            ProfileFate,
            Vec<AttentionReason>,
            Option<LeftAtSmdp>,
        );
        let table: Vec<Case> = vec![
            (
                refused("8.2.1", "3.5"),
                Some("done"),
                ProfileFate::Reuse,
                vec![],
                None,
            ),
            (
                refused("8.2.1", "3.3"),
                Some("failed"),
                ProfileFate::Retire,
                vec![EsimProfileNotCancellable],
                Some(LeftAtSmdp::Downloaded),
            ),
            (
                refused("8.2.1", "3.10"),
                Some("failed"),
                ProfileFate::Retire,
                vec![EsimProfileNotCancellable],
                Some(LeftAtSmdp::BoundElsewhere),
            ),
            (
                refused("8.2.6", "3.10"),
                Some("failed"),
                ProfileFate::Retire,
                vec![EsimProfileNotCancellable],
                Some(LeftAtSmdp::BoundElsewhere),
            ),
            (
                refused("8.2.1", "3.9"),
                Some("failed"),
                ProfileFate::Retire,
                vec![EsimStockMismatch],
                None,
            ),
            (
                refused("8.2.1", "1.2"),
                Some("failed"),
                ProfileFate::Retire,
                vec![EsimStockMismatch],
                None,
            ),
            // Not cancelled and nothing says it never will be: retried.
            (
                expired_answer(),
                None,
                ProfileFate::Reuse,
                vec![],
                Some(LeftAtSmdp::Released),
            ),
            (
                refused("1.1", "1.2"),
                None,
                ProfileFate::Reuse,
                vec![],
                Some(LeftAtSmdp::Released),
            ),
            (
                refused("8.9", "4.2"),
                None,
                ProfileFate::Reuse,
                vec![],
                Some(LeftAtSmdp::Released),
            ),
            (
                lost(),
                None,
                ProfileFate::Reuse,
                vec![],
                Some(LeftAtSmdp::Released),
            ),
            (
                Es2Failure {
                    retryable: false,
                    codes: None,
                    message: "HTTP 403".into(),
                },
                None,
                ProfileFate::Reuse,
                vec![],
                Some(LeftAtSmdp::Released),
            ),
        ];
        for (answer, settled, fate, attention, left) in table {
            for attempt in [1, 2] {
                let label = format!("{} at attempt {attempt}", answer.pair());
                let (o, eff) = cancel(cancelling(false), attempt, Err(answer.clone()));
                let e = o.esim.as_ref().expect("esim");
                let step = match &e.cancel {
                    Some(Step::Done { .. }) => Some("done"),
                    Some(Step::Failed { .. }) => Some("failed"),
                    Some(Step::RetryWait { .. }) => None,
                    other => panic!("{label}: {other:?}"),
                };
                assert_eq!(step, settled, "{label}");
                assert_eq!(e.fate, Some(fate), "{label}");
                assert_eq!(o.attention, attention, "{label}");
                assert_eq!(e.left_at_smdp, left, "{label}");
                assert_eq!(eff, Effect::None, "{label}: the HLR is undone next");
                let next = next_action(&o, 10_000_000);
                if settled.is_some() {
                    assert_eq!(next, Action::Deprovision { attempt: 1 }, "{label}");
                } else {
                    assert_eq!(
                        next,
                        Action::Es2 {
                            call: Es2Call::Cancel,
                            attempt: attempt + 1
                        },
                        "{label}"
                    );
                }
            }
        }
        // Before release, what may be left is a reservation.
        let mut o = order();
        o.status = OrderStatus::Compensating;
        let (o, _) = cancel(o, 1, Err(expired_answer()));
        assert_eq!(
            o.esim.as_ref().and_then(|e| e.left_at_smdp),
            Some(LeftAtSmdp::Reserved)
        );
    }

    #[test]
    fn a_cancel_refused_past_the_budget_is_flagged_and_retried_until_it_passes() {
        let mut o = cancelling(false);
        let mut now = 5_000;
        for attempt in 1..=5 {
            let (next, _) = on_cancel(
                mark_es2_sent(o, Es2Call::Cancel, attempt, now),
                attempt,
                Err(expired_answer()),
                &POLICY,
                u32::MAX,
                now,
            );
            let Some(Step::RetryWait { retry_at_ms, .. }) =
                next.esim.as_ref().and_then(|e| e.cancel.clone())
            else {
                panic!("not retrying: {next:?}")
            };
            assert!(retry_at_ms - now <= POLICY.max_ms);
            assert_eq!(next.status, OrderStatus::Compensating);
            assert_eq!(
                next.undo,
                Some(Step::Pending),
                "the HLR waits for the cancel"
            );
            let stalled = attempt >= POLICY.max_attempts;
            assert_eq!(next.needs_attention, stalled, "attempt {attempt}");
            if stalled {
                assert_eq!(next.attention, [AttentionReason::SmdpCancelStalled]);
            }
            o = next;
            now = retry_at_ms;
        }
        // The SM-DP+ recovers: cancelled, nothing left there, the flag withdrawn.
        let (o, _) = on_cancel(
            mark_es2_sent(o, Es2Call::Cancel, 6, now),
            6,
            Ok(()),
            &POLICY,
            0,
            now,
        );
        assert!(!o.needs_attention && o.attention.is_empty());
        assert_eq!(o.esim.as_ref().and_then(|e| e.left_at_smdp), None);
        assert_eq!(
            o.esim.as_ref().and_then(|e| e.fate),
            Some(ProfileFate::Reuse)
        );
        assert_eq!(next_action(&o, now), Action::Deprovision { attempt: 1 });
        // An expiring order whose stalled cancel finally finds the profile downloaded is
        // active again, with nothing to look at.
        let mut o = cancelling(true);
        for attempt in 1..=3 {
            o = cancel(o, attempt, Err(expired_answer())).0;
        }
        assert!(o.needs_attention);
        let (o, _) = cancel(o, 4, Err(refused("8.2.1", "3.3")));
        assert_eq!(o.status, OrderStatus::Active);
        assert!(!o.needs_attention && o.attention.is_empty());
        assert_eq!(o.esim.as_ref().and_then(|e| e.left_at_smdp), None);
    }

    #[test]
    fn progress_tolerates_duplicates_and_disorder() {
        use EsimState::*;
        assert_eq!(progress_after(None, 3, true), Some(Downloaded));
        assert_eq!(progress_after(Some(Downloaded), 4, true), Some(Installed));
        // 4 before 3: installed stays installed.
        assert_eq!(progress_after(Some(Installed), 3, true), Some(Installed));
        assert_eq!(progress_after(None, 4, true), Some(Installed));
        assert_eq!(progress_after(Some(Released), 2, false), Some(Error));
        assert_eq!(progress_after(Some(Installed), 1, false), Some(Installed));
        assert_eq!(
            progress_after(Some(Downloaded), 150, true),
            Some(Downloaded)
        );
        assert_eq!(progress_after(Some(Downloaded), 7, false), Some(Downloaded));
        assert_eq!(progress_after(Some(Error), 4, true), Some(Installed));
    }
}

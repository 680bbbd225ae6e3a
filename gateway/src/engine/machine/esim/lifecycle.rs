//! The ES2+ answers of a lifecycle saga's profile steps (a SIM swap's new profile, the
//! old profile a terminate or swap takes out of use), read with the activation's rules:
//! a DownloadOrder refused as in use after an attempt that may have run is our own
//! reservation (the card is leased to this order alone), and a CancelOrder is done only
//! when its answer settles the profile's fate. Anything else is a failure the saga
//! retries; its cancels are compensation or past the point of no return, so they retry
//! until settled. (The fault soak found a cancel answered `Expired`, which runs nothing,
//! taken as done: the reservation stayed at the SM-DP+ while the profile went back to
//! stock, and the next order given that profile was refused it as in use.)

use super::Es2Failure;
use super::cancel::CancelRefusal;
use crate::engine::machine::{StepDone, StepFailure};
use crate::order::{AttentionReason, PROFILE_BACK_IN_STOCK};

/// A saga's DownloadOrder answer, to attempt `attempt`.
pub fn on_saga_reserve(
    attempt: u32,
    result: Result<(), Es2Failure>,
) -> Result<StepDone, StepFailure> {
    match result {
        Ok(()) => Ok("reserved".into()),
        Err(f) if attempt > 1 && f.is("8.2.1", "3.3") => Ok("reserved_by_earlier_attempt".into()),
        Err(f) => Err(failure(&f)),
    }
}

/// What a saga's CancelOrder is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SagaCancel {
    /// A reservation never released, cancelled as `Available` back to stock.
    Reservation,
    /// A released profile, cancelled as `Unavailable`: out of use with its line.
    Released,
}

/// A saga's CancelOrder answer: done with what it settled, or a failure to retry.
pub fn on_saga_cancel(
    what: SagaCancel,
    result: Result<(), Es2Failure>,
) -> Result<StepDone, StepFailure> {
    let [cancelled, not_reserved] = PROFILE_BACK_IN_STOCK;
    let f = match result {
        Ok(()) => return Ok(cancelled.into()),
        Err(f) => f,
    };
    let Some(refusal) = CancelRefusal::of(&f) else {
        return Err(failure(&f));
    };
    let flagged = |outcome, reason| StepDone {
        attention: Some(reason),
        ..StepDone::from(outcome)
    };
    Ok(match (refusal, what) {
        (CancelRefusal::NotReserved, _) => not_reserved.into(),
        // Downloaded (or bound to the device) meanwhile: the device's now, which ES2+
        // leaves to it.
        (CancelRefusal::Downloaded | CancelRefusal::BoundElsewhere, SagaCancel::Released) => {
            "left_to_device".into()
        }
        // A reservation never released cannot have been downloaded: our stock is wrong.
        (CancelRefusal::Downloaded | CancelRefusal::BoundElsewhere, SagaCancel::Reservation) => {
            flagged(
                "not_cancellable",
                AttentionReason::EsimProfileNotCancellable,
            )
        }
        (CancelRefusal::NotOurs, _) => flagged("not_ours", AttentionReason::EsimStockMismatch),
    })
}

fn failure(f: &Es2Failure) -> StepFailure {
    StepFailure {
        retryable: f.retryable,
        message: f.summary(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(pair: (&str, &str), retryable: bool) -> Result<(), Es2Failure> {
        Err(Es2Failure {
            retryable,
            codes: Some((pair.0.into(), pair.1.into())),
            message: "refused".into(),
        })
    }

    #[test]
    fn a_cancel_answered_expired_or_with_any_unsettling_refusal_is_tried_again() {
        for pair in [
            ("8.8.5", "4.10"),
            ("1.1", "1.2"),
            ("1.3.1", "2.1"),
            ("8.2.1", "4.2"),
        ] {
            for what in [SagaCancel::Reservation, SagaCancel::Released] {
                let r = on_saga_cancel(what, refused(pair, false));
                assert!(r.is_err(), "{pair:?} {what:?} settled as {r:?}");
            }
        }
        let timeout = Err(Es2Failure {
            retryable: true,
            codes: None,
            message: "timed out".into(),
        });
        assert!(on_saga_cancel(SagaCancel::Reservation, timeout).is_err());
    }

    #[test]
    fn a_cancel_settles_on_success_not_reserved_downloaded_bound_or_unknown() {
        use SagaCancel::{Released, Reservation};
        let cases = [
            (Reservation, None, "cancelled", None),
            (Released, None, "cancelled", None),
            (Reservation, Some(("8.2.1", "3.5")), "not_reserved", None),
            (Released, Some(("8.2.1", "3.5")), "not_reserved", None),
            (Released, Some(("8.2.1", "3.3")), "left_to_device", None),
            (Released, Some(("8.2.6", "3.10")), "left_to_device", None),
            (
                Reservation,
                Some(("8.2.1", "3.3")),
                "not_cancellable",
                Some(AttentionReason::EsimProfileNotCancellable),
            ),
            (
                Reservation,
                Some(("8.2.1", "3.10")),
                "not_cancellable",
                Some(AttentionReason::EsimProfileNotCancellable),
            ),
            (
                Released,
                Some(("8.2.1", "3.9")),
                "not_ours",
                Some(AttentionReason::EsimStockMismatch),
            ),
            (
                Reservation,
                Some(("8.2.1", "1.2")),
                "not_ours",
                Some(AttentionReason::EsimStockMismatch),
            ),
        ];
        for (what, pair, outcome, attention) in cases {
            let result = pair.map_or(Ok(()), |p| refused(p, false));
            let done = on_saga_cancel(what, result).expect("settled");
            assert_eq!(
                (done.outcome, done.attention),
                (outcome, attention),
                "{what:?} {pair:?}"
            );
        }
    }

    #[test]
    fn in_use_is_our_reservation_only_after_an_attempt_that_may_have_run() {
        let in_use = || refused(("8.2.1", "3.3"), false);
        assert!(on_saga_reserve(1, in_use()).is_err());
        let done = on_saga_reserve(2, in_use()).expect("ours");
        assert_eq!(done.outcome, "reserved_by_earlier_attempt");
        assert_eq!(on_saga_reserve(1, Ok(())).expect("ok").outcome, "reserved");
        assert!(on_saga_reserve(2, refused(("8.2.1", "3.9"), false)).is_err());
    }
}

//! SIM swap: the line's number moves to a new card. HLRs keep a number on one subscriber
//! only, so the move is four steps, each idempotent:
//!
//! 1. provision the new card without a number (its authentication, with the line's
//!    barring, so suspension reasons carry over);
//! 2. detach the number from the old card;
//! 3. give the number to the new card;
//! 4. remove the old card (it holds no number any more).
//!
//! After a crash at any instant, resuming repeats the step in doubt, so exactly one card
//! holds the number once the order is terminal (`Lifecycle::msisdn_holder` says which
//! from the record). A failure before step 3 succeeds is compensated in reverse: the
//! number goes back to the old card and the new card is removed. Step 4 is past the
//! point of no return: it retries until done, and the old SIM is retired only then.
//!
//! To an eSIM, the new profile is first reserved (DownloadOrder) and released
//! (ConfirmOrder) before the HLR is touched, so a profile the SM-DP+ will not give fails
//! the swap while the line is untouched; compensation cancels it (back to stock if it was
//! only reserved; out of use if its activation code was handed out). An
//! old eSIM profile released but never downloaded is then cancelled at the SM-DP+ (as
//! for a terminate), so its activation code cannot bring the old card back.

use crate::order::{Lifecycle, Line, SagaOp, SagaStep};

/// The plan of a SIM swap; empty without a new card.
pub fn plan(l: &Lifecycle) -> Vec<SagaStep> {
    let (Some(new), Some(msisdn)) = (&l.new_line, &l.line.msisdn) else {
        return Vec::new();
    };
    let bare_new = Line {
        msisdn: None,
        ..new.clone()
    };
    let bare_old = Line {
        msisdn: None,
        ..l.line.clone()
    };
    let new_with_number = Line {
        msisdn: Some(msisdn.clone()),
        ..new.clone()
    };
    let mut steps = Vec::new();
    if let Some(p) = &l.new_profile {
        steps.push(SagaStep::pending(SagaOp::ReserveProfile {
            iccid: new.iccid.clone(),
            eid: p.eid.clone(),
        }));
        steps.push(SagaStep::pending(SagaOp::ReleaseProfile {
            iccid: new.iccid.clone(),
            eid: p.eid.clone(),
            matching_id: p.matching_id.clone(),
        }));
    }
    steps.extend([
        SagaStep::pending(SagaOp::Provision { line: bare_new }),
        SagaStep::pending(SagaOp::DetachMsisdn {
            imsi: l.line.imsi.clone(),
            msisdn: msisdn.clone(),
        }),
        SagaStep::pending(SagaOp::Provision {
            line: new_with_number,
        }),
        SagaStep::must_finish(SagaOp::Deprovision { line: bare_old }),
    ]);
    if let Some(cancel) = &l.undownloaded_profile {
        steps.push(SagaStep::must_finish(cancel.clone()));
    }
    steps
}

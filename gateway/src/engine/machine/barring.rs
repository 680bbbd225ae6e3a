//! Suspend and resume: suspension reasons stack, and the HLR's barring follows whether any
//! reason holds. A suspend bars the line only when it was not barred yet; a resume unbars
//! it only when it lifts the last reason. Otherwise the plan is empty and the order only
//! records the reason.

use crate::order::{Lifecycle, SagaOp, SagaStep};

/// The plan of a suspend.
pub fn suspend(l: &Lifecycle) -> Vec<SagaStep> {
    if l.reasons_before.is_empty() {
        vec![SagaStep::pending(SagaOp::SetBarring {
            imsi: l.line.imsi.clone(),
            barred: true,
        })]
    } else {
        Vec::new()
    }
}

/// The plan of a resume.
pub fn resume(l: &Lifecycle) -> Vec<SagaStep> {
    let last = l.reasons_before.len() == 1 && l.reason.is_some_and(|r| l.reasons_before[0] == r);
    if last {
        vec![SagaStep::pending(SagaOp::SetBarring {
            imsi: l.line.imsi.clone(),
            barred: false,
        })]
    } else {
        Vec::new()
    }
}

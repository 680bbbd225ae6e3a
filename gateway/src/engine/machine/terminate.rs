//! Terminate: the subscriber leaves the HLR. The store then retires the SIM and sends
//! the number to quarantine in the commit that completes the order. If the HLR refuses
//! for good, the line is put back (a removal that may have half-happened is undone by
//! provisioning the line again).

use crate::order::{HlrOp, Lifecycle, SagaStep};

/// The plan of a terminate.
pub fn plan(l: &Lifecycle) -> Vec<SagaStep> {
    vec![SagaStep::pending(HlrOp::Deprovision {
        line: l.line.clone(),
    })]
}

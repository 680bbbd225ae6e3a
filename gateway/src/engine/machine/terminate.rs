//! Terminate: the subscriber leaves the HLR; an eSIM profile released but never
//! downloaded is then cancelled at the SM-DP+ (a downloaded one is left to the device, as
//! ES2+ allows). The store then retires the SIM and sends the number to quarantine in the
//! commit that completes the order; a number that came by a port-in is given back to its
//! range holder through the porting hub instead. If the HLR refuses for good, the line is
//! put back (a removal that may have half-happened is undone by provisioning the line
//! again); once the HLR step is done, the cancel and the return are past the point of no
//! return.

use crate::order::{Lifecycle, SagaOp, SagaStep};

/// The plan of a terminate.
pub fn plan(l: &Lifecycle) -> Vec<SagaStep> {
    let mut steps = vec![SagaStep::pending(SagaOp::Deprovision {
        line: l.line.clone(),
    })];
    if let Some(cancel) = &l.undownloaded_profile {
        steps.push(SagaStep::must_finish(cancel.clone()));
    }
    if let Some(give_back) = &l.number_return {
        steps.push(SagaStep::must_finish(give_back.clone()));
    }
    steps
}

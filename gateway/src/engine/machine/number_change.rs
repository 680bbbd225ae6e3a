//! Number change: the new number (reserved when the order was created) replaces the old
//! one on the subscriber in one HLR change; the store then assigns the new number and
//! sends the old one to quarantine, or, if it came by a port-in, a last step gives it
//! back to its range holder (past the point of no return: the HLR no longer has it).

use crate::order::{Lifecycle, SagaOp, SagaStep};

/// The plan of a number change; empty (the order fails at creation instead) without a
/// new number.
pub fn plan(l: &Lifecycle) -> Vec<SagaStep> {
    match (&l.line.msisdn, &l.new_msisdn) {
        (Some(from), Some(to)) => {
            let change = SagaStep::pending(SagaOp::ChangeMsisdn {
                imsi: l.line.imsi.clone(),
                from: from.clone(),
                to: to.clone(),
            });
            let give_back = l.number_return.clone().map(SagaStep::must_finish);
            std::iter::once(change).chain(give_back).collect()
        }
        _ => Vec::new(),
    }
}

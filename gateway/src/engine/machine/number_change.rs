//! Number change: the new number (reserved when the order was created) replaces the old
//! one on the subscriber in one HLR change; the store then assigns the new number and
//! sends the old one to quarantine.

use crate::order::{Lifecycle, SagaOp, SagaStep};

/// The plan of a number change; empty (the order fails at creation instead) without a
/// new number.
pub fn plan(l: &Lifecycle) -> Vec<SagaStep> {
    match (&l.line.msisdn, &l.new_msisdn) {
        (Some(from), Some(to)) => vec![SagaStep::pending(SagaOp::ChangeMsisdn {
            imsi: l.line.imsi.clone(),
            from: from.clone(),
            to: to.clone(),
        })],
        _ => Vec::new(),
    }
}

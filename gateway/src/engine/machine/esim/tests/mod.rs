//! Table tests of the eSIM machine: every ES2+ answer of every step, replays after
//! ambiguous attempts, undo and expiry, and the progress mirror.

use super::*;
use crate::engine::machine::{Action, FIXTURE_POLICY as POLICY, at, next_action};
use crate::order::EsimOrder;

mod steps;
mod undo;
mod verify;

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
        at(attempt, 2),
        r,
    )
}

/// The activation code from our own data that a proven replay publishes.
const REPLAYED: &str = "1$SMDP.EXAMPLE$AAAA-BBBB";

fn terms() -> ReleaseTerms {
    ReleaseTerms {
        replayed_code: REPLAYED.into(),
        expiry_ms: Some(1_000),
    }
}

fn confirm(o: Order, attempt: u32, r: Result<String, Es2Failure>) -> (Order, Effect) {
    on_confirm(
        mark_es2_sent(o, Es2Call::Confirm, attempt, 3),
        at(attempt, 4),
        r,
        &terms(),
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

//! The error a port-in order ends with when its port ends before the lock point: one
//! stable `code` per cause (each donor or hub rejection reason keeps its own), with a
//! `detail` that says what the customer or the channel should do next.

use crate::order::{OrderError, PortIn, PortState};

/// The order's error for a port that ended in `p.state` (rejected, cancelled, expired or
/// failed), from the reason recorded with that transition.
pub fn port_error(p: &PortIn) -> OrderError {
    let reason = p
        .timeline
        .iter()
        .rev()
        .find(|t| t.state == p.state)
        .and_then(|t| t.reason_code.clone());
    let (code, detail): (String, &str) = match (p.state, reason.as_deref()) {
        (PortState::Cancelled, _) => (
            "port_cancelled".into(),
            "the port was cancelled before its lock point; the SIM and any temporary number went back to stock; the customer keeps their number with their current operator",
        ),
        (PortState::Expired, _) => (
            "credential_expired".into(),
            "the porting code ran out before the port was scheduled; the customer asks their current operator for a new code, then the channel places a new port-in",
        ),
        (PortState::Rejected, Some(r)) => (r.to_owned(), rejection_detail(r)),
        (PortState::Rejected, None) => (
            "port_rejected".into(),
            "the porting hub refused the port without a reason; the customer asks their current operator why, then the channel places a new port-in",
        ),
        (_, Some("hub_unavailable")) | (_, None) => (
            "hub_unavailable".into(),
            "the porting hub could not be reached after every retry; the SIM and any temporary number went back to stock; place the port-in again later",
        ),
        (_, Some(r)) => (
            r.to_owned(),
            "the porting hub refused the port request; check the request against the market's rules and place the port-in again",
        ),
    };
    OrderError {
        code,
        detail: detail.to_owned(),
    }
}

/// What to do about each rejection reason of the hub's catalogue (`docs/porting-hub.md`).
pub fn rejection_detail(reason: &str) -> &'static str {
    match reason {
        "credential_invalid" => {
            "the donor did not accept the porting code; the customer checks the code with their current operator (or asks for a new one) and the channel places a new port-in"
        }
        "credential_expired" => {
            "the porting code has expired; the customer asks their current operator for a new one and the channel places a new port-in"
        }
        "credential_msisdn_mismatch" => {
            "the porting code was issued for another number; the customer checks which number the code belongs to, or asks for a code for this number"
        }
        "number_not_portable" => {
            "the donor says this number cannot be ported (a block that never ports, or a service number); the customer keeps it with their current operator: sell a new number instead"
        }
        "account_mismatch" => {
            "the donor's account number or PIN did not match; the customer checks both on their current operator's bill or account page and the channel places a new port-in"
        }
        "pending_port_exists" => {
            "another port of this number is already in progress; the customer cancels it with the other recipient (or waits for it to end) before porting to us"
        }
        "contract_lock" => {
            "the number is under contract or a port lock at the donor; the customer lifts the lock with their current operator, then the channel places a new port-in"
        }
        "line_not_active" => {
            "the number is not an active line at the donor; the customer reactivates it there first (or sells a new number here)"
        }
        _ => {
            "the porting hub refused the port; the customer checks the request with their current operator and the channel places a new port-in"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_reason_says_what_to_do() {
        for r in [
            "credential_invalid",
            "credential_expired",
            "credential_msisdn_mismatch",
            "number_not_portable",
            "account_mismatch",
            "pending_port_exists",
            "contract_lock",
            "line_not_active",
        ] {
            let d = rejection_detail(r);
            assert_ne!(d, rejection_detail("something_else"), "{r}");
            assert!(d.contains("customer"), "{r}: {d}");
        }
    }
}

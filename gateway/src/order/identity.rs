//! The identity verification of an activation (real-name registration, issue 15): what the
//! create commit asked for ([`VerifyTerms`], on `Order::compliance`) and where the engine's
//! verification stands ([`IdentityStep`], on `Order::identity`). Neither holds the name or
//! the ID number: the engine builds each request from the sealed subscriber.
//!
//! Which orders are verified: every activation whose create commit allowed a *valid*
//! subscriber (the commit then sets `OrderCompliance::verify`), whatever the policy. The
//! terms say what the policy demands of the check, and `required` (the policy's
//! `identity_required`) what happens on a gateway without a verifier: the order fails
//! `identity_service_unavailable` when it is required, and skips the check (recorded as
//! `skipped`) when it is not.

use super::{Order, Step};
use crate::compliance::CaptureMethod;
use crate::compliance::policy::{ChannelKind, Policy};
use serde::{Deserialize, Serialize};

/// What an activation's identity verification asks of the verifier, fixed by the create
/// commit from the tenant's policy and the order's channel (a later policy change does not
/// change an order in flight).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyTerms {
    /// The policy requires the subscriber's identity (`identity_required`): a gateway
    /// with no verifier fails the order rather than skip the check.
    pub required: bool,
    /// Real-person evidence is required (the protocol's `requirements.evidence_required`).
    pub evidence_required: bool,
    /// `manual` capture is allowed (`requirements.manual_capture_allowed`).
    pub manual_capture_allowed: bool,
    /// A `flag` puts the line into re-verification (the policy's `verifier_flag` risk
    /// rule).
    pub flag_reverifies: bool,
}

impl VerifyTerms {
    /// The terms of `policy` for an order from a `kind` channel.
    pub fn of(policy: &Policy, kind: ChannelKind) -> Self {
        let rules = policy.channel(kind);
        Self {
            required: policy.identity_required,
            evidence_required: rules.face_match_required || rules.video_required,
            manual_capture_allowed: rules.capture.contains(&CaptureMethod::Manual),
            flag_reverifies: policy.risk.verifier_flag,
        }
    }
}

/// Where an activation's identity verification stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityStatus {
    /// Not decided yet: about to be sent, in flight, or waiting to retry.
    Pending,
    /// The verifier passed the identity; the order went on.
    Passed,
    /// The verifier passed it with a flag (`code`); the order went on, and the line must
    /// be re-verified when `reverify` is set.
    Flagged,
    /// The verifier refused it (`code`); the order failed with that code.
    Rejected,
    /// No decision could be had (the verifier stayed unavailable past the retry budget or
    /// the deadline, refused our call, or none is configured where the policy requires
    /// one); the order failed `identity_service_unavailable`.
    Unavailable,
    /// Not checked: no verifier is configured and the policy does not require one.
    Skipped,
    /// The subscriber could not be put to the verifier (a value outside the protocol);
    /// the order failed `subscriber_invalid`.
    Unsendable,
}

impl IdentityStatus {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Passed => "passed",
            Self::Flagged => "flagged",
            Self::Rejected => "rejected",
            Self::Unavailable => "unavailable",
            Self::Skipped => "skipped",
            Self::Unsendable => "unsendable",
        }
    }
}

/// The identity verification of an activation, recorded before each call and after each
/// answer like every southbound step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityStep {
    /// Where it stands.
    pub status: IdentityStatus,
    /// The call's progress (attempt sent, backoff, last error, outcome).
    pub step: Step,
    /// Calls made so far.
    pub attempts: u32,
    /// The request id every attempt sends ([`identity_request_id`]): the verifier answers
    /// a repeat with its first decision.
    pub request_id: String,
    /// No retry is started after this Unix ms (set at the first attempt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_ms: Option<u64>,
    /// The verifier's own reference for its decision, if it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_id: Option<String>,
    /// The reject code, or the flag's reason code (never free text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Flagged under a policy whose `verifier_flag` rule is on: the line must be
    /// re-verified (it opens in `pending_verification`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reverify: bool,
}

impl IdentityStep {
    /// A verification of order `order_id` not attempted yet.
    pub fn pending(order_id: &str) -> Self {
        Self {
            status: IdentityStatus::Pending,
            step: Step::Pending,
            attempts: 0,
            request_id: identity_request_id(order_id),
            deadline_ms: None,
            verification_id: None,
            code: None,
            reverify: false,
        }
    }
}

/// The verification request id of order `order_id`: fixed, so that every attempt, also
/// after a restart, is the same request.
pub fn identity_request_id(order_id: &str) -> String {
    format!("{order_id}-idv")
}

impl Order {
    /// The identity verification the create commit asked for, if any.
    pub fn verify_terms(&self) -> Option<&VerifyTerms> {
        self.compliance.as_ref().and_then(|c| c.verify.as_ref())
    }

    /// Whether the line must be re-verified because the verifier flagged the subscriber.
    pub fn identity_reverify(&self) -> bool {
        self.identity.as_ref().is_some_and(|i| i.reverify)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::Market;

    #[test]
    fn terms_follow_the_policy_and_the_channel() {
        let cn = Policy::for_market(Market::Cn);
        let store = VerifyTerms::of(&cn, ChannelKind::Store);
        assert!(store.required && store.evidence_required && !store.manual_capture_allowed);
        assert!(store.flag_reverifies);
        let sandbox = VerifyTerms::of(&Policy::sandbox(), ChannelKind::Online);
        assert_eq!(
            sandbox,
            VerifyTerms {
                required: false,
                evidence_required: false,
                manual_capture_allowed: true,
                flag_reverifies: false,
            }
        );
    }

    #[test]
    fn the_step_round_trips_and_omits_what_is_unset() {
        let s = IdentityStep::pending("act_1");
        assert_eq!(s.request_id, "act_1-idv");
        let json = serde_json::to_value(&s).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"status": "pending", "step": {"state": "pending"}, "attempts": 0, "request_id": "act_1-idv"})
        );
        let back: IdentityStep = serde_json::from_value(json).expect("back");
        assert_eq!(back, s);
    }
}

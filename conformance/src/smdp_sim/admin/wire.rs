//! The admin API's JSON shapes, kept apart from the simulator's own types: these are a
//! published wire format for carriers' test rigs. No secret ever appears in them.

use crate::smdp_sim::es9::CancelReason;
use crate::smdp_sim::faults::{Action, Function, Rule};
use crate::smdp_sim::state::{Profile, ProfileState};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `GET /sim/state`: `{"profiles": [ProfileView...]}`, ordered by ICCID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateDump {
    /// Every profile.
    pub profiles: Vec<ProfileView>,
}

/// One profile without secrets: the Confirmation Code shows only as `cc_required`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileView {
    /// ICCID digits.
    pub iccid: String,
    /// Profile type.
    pub profile_type: String,
    /// Owning operator.
    pub owner: String,
    /// State name, e.g. `"Released"`.
    pub state: ProfileState,
    /// Bound EID.
    pub eid: Option<String>,
    /// Bound MatchingID.
    pub matching_id: Option<String>,
    /// True if a Confirmation Code hash is stored.
    pub cc_required: bool,
    /// SM-DS address of the order.
    pub smds_address: Option<String>,
    /// Download attempts in this order.
    pub download_attempts: u32,
    /// Failed CC attempts in this order.
    pub cc_attempts: u32,
    /// When the state last changed.
    pub changed_at: Option<String>,
    /// Size of the personalised package, once downloaded.
    pub package_bytes: Option<usize>,
}

impl From<&Profile> for ProfileView {
    fn from(p: &Profile) -> Self {
        Self {
            iccid: p.iccid.to_string(),
            profile_type: p.profile_type.clone(),
            owner: p.owner.clone(),
            state: p.state,
            eid: p.eid.as_ref().map(ToString::to_string),
            matching_id: p.matching_id.as_ref().map(ToString::to_string),
            cc_required: p.cc_hash.is_some(),
            smds_address: p.smds_address.as_ref().map(ToString::to_string),
            download_attempts: p.download_attempts,
            cc_attempts: p.cc_attempts,
            changed_at: p.changed_at.clone(),
            package_bytes: p.package.as_ref().map(Vec::len),
        }
    }
}

/// A scripted rule for `POST /sim/rules` (one or an array) and `GET /sim/rules`:
/// `{"function": "confirm_order"|null, "action": ..., "times": 1}` where `action` is one
/// of `"drop_after_commit"`, `"error_before_commit"`, `"error_after_commit"`,
/// `"with_warning"`, `"expired"`, `"wrong_admin_protocol"`, `"content_type_charset"`,
/// `"timeout"`, `"lose_reservation"` or `{"delay_ms": 250}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireRule {
    /// Function to match (any when absent).
    #[serde(default)]
    pub function: Option<Function>,
    /// What to do.
    pub action: WireAction,
    /// How many matching requests it applies to.
    #[serde(default = "one")]
    pub times: u32,
}

fn one() -> u32 {
    1
}

/// A rule's action, snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireAction {
    /// `{"delay_ms": 250}`.
    DelayMs(u64),
    /// Execute, then drop the connection.
    DropAfterCommit,
    /// HTTP 500 without executing.
    ErrorBeforeCommit,
    /// Execute, then HTTP 500.
    ErrorAfterCommit,
    /// Success reported as `Executed-WithWarning`.
    WithWarning,
    /// `Expired` without executing.
    Expired,
    /// Unexpected `X-Admin-Protocol`.
    WrongAdminProtocol,
    /// `Content-Type` with a charset.
    ContentTypeCharset,
    /// Never answer.
    Timeout,
    /// The profile goes back to Available (reservation lost), then HTTP 500.
    LoseReservation,
}

impl From<WireRule> for Rule {
    fn from(r: WireRule) -> Self {
        let action = match r.action {
            WireAction::DelayMs(ms) => Action::Delay(Duration::from_millis(ms)),
            WireAction::DropAfterCommit => Action::DropAfterCommit,
            WireAction::ErrorBeforeCommit => Action::ServerErrorBeforeCommit,
            WireAction::ErrorAfterCommit => Action::ServerErrorAfterCommit,
            WireAction::WithWarning => Action::WithWarning,
            WireAction::Expired => Action::Expired,
            WireAction::WrongAdminProtocol => Action::WrongAdminProtocol,
            WireAction::ContentTypeCharset => Action::ContentTypeCharset,
            WireAction::Timeout => Action::Timeout,
            WireAction::LoseReservation => Action::LoseReservation,
        };
        Self {
            function: r.function,
            action,
            times: r.times,
        }
    }
}

impl From<&Rule> for WireRule {
    fn from(r: &Rule) -> Self {
        let action = match r.action {
            Action::Delay(d) => {
                WireAction::DelayMs(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            }
            Action::DropAfterCommit => WireAction::DropAfterCommit,
            Action::ServerErrorBeforeCommit => WireAction::ErrorBeforeCommit,
            Action::ServerErrorAfterCommit => WireAction::ErrorAfterCommit,
            Action::WithWarning => WireAction::WithWarning,
            Action::Expired => WireAction::Expired,
            Action::WrongAdminProtocol => WireAction::WrongAdminProtocol,
            Action::ContentTypeCharset => WireAction::ContentTypeCharset,
            Action::Timeout => WireAction::Timeout,
            Action::LoseReservation => WireAction::LoseReservation,
        };
        Self {
            function: r.function,
            action,
            times: r.times,
        }
    }
}

/// `POST /sim/profiles/{iccid}/eligibility`: `{"eligible": true}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Eligibility {
    /// The device is eligible.
    pub eligible: bool,
}

/// `POST /sim/profiles/{iccid}/cc`: either `{"code": "482916"}` (typed by the user; the
/// simulator plays the LPA) or `{"transaction_id": "<hex>", "hash_cc": "<hex>"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CcAttempt {
    /// The plain code the user typed.
    #[serde(default)]
    pub code: Option<String>,
    /// The session's TransactionID, hex.
    #[serde(default)]
    pub transaction_id: Option<String>,
    /// SHA-256(SHA-256(CC) ‖ TransactionID), hex.
    #[serde(default)]
    pub hash_cc: Option<String>,
}

/// `POST /sim/profiles/{iccid}/cancel-session`: `{"reason": "endUserRejection"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelSession {
    /// The CancelSession reason.
    pub reason: CancelReason,
}

/// `POST /sim/profiles/{iccid}/auto-install`: `{"delay_ms": 500}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoInstall {
    /// Delay before download and installation.
    pub delay_ms: u64,
}

/// The answer to a customer action: the state after it, and the ES9+ refusal if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionAnswer {
    /// State after the action.
    pub state: Option<ProfileState>,
    /// `"subject/reason"` if the device's request was refused.
    pub refused: Option<String>,
    /// Notifications queued by the action.
    pub notifications: usize,
}

/// A refusal that changed nothing (409): `{"error": "...", "code": "8.2/1.2"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refused {
    /// What happened.
    pub error: String,
    /// The ES9+ code, `"subject/reason"`.
    pub code: String,
}

/// Decodes hex (either case).
pub(crate) fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_shapes_round_trip() {
        let rules: Vec<WireRule> = serde_json::from_str(
            r#"[{"function":"confirm_order","action":"drop_after_commit","times":2},
                {"action":{"delay_ms":250}}]"#,
        )
        .expect("rules");
        let rules: Vec<Rule> = rules.into_iter().map(Rule::from).collect();
        assert_eq!(
            rules[0],
            Rule {
                function: Some(Function::ConfirmOrder),
                action: Action::DropAfterCommit,
                times: 2
            }
        );
        assert_eq!(
            rules[1],
            Rule::any(Action::Delay(Duration::from_millis(250)), 1)
        );
        assert_eq!(WireRule::from(&rules[1]).action, WireAction::DelayMs(250));
        let lose: WireRule =
            serde_json::from_str(r#"{"function":"confirm_order","action":"lose_reservation"}"#)
                .expect("rule");
        let lose = Rule::from(lose);
        assert_eq!(lose.action, Action::LoseReservation);
        assert_eq!(WireRule::from(&lose).action, WireAction::LoseReservation);
        assert!(serde_json::from_str::<WireRule>(r#"{"action":"explode"}"#).is_err());
        assert_eq!(hex_decode("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(hex_decode("0"), None);
    }
}

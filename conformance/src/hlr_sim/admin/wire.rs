//! The admin API's JSON shapes. Kept apart from the simulator's own types: these are a
//! published wire format, frozen for carriers' test rigs.

use crate::hlr_sim::codec::{KiWire, MoKind, Operation};
use crate::hlr_sim::faults::{Action, FaultConfig, FaultKind, Rule};
use crate::hlr_sim::store::SimSubscriber;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `GET /sim/state`: `{"subscribers": [Subscriber...], "sessions": 1}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Every subscriber with an AUC entry or HLR subscription, ordered by IMSI.
    pub subscribers: Vec<Subscriber>,
    /// Live sessions.
    pub sessions: usize,
}

/// One subscriber, keys masked:
/// `{"imsi": "...", "msisdn": "..."|null, "profile_id": 12|null, "auc": Auc|null, "hlr": Hlr|null}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscriber {
    /// IMSI digits.
    pub imsi: String,
    /// MSISDN digits of the HLR subscription.
    pub msisdn: Option<String>,
    /// Profile of the HLR subscription.
    pub profile_id: Option<u32>,
    /// The AUC entry.
    pub auc: Option<Auc>,
    /// The HLR subscription.
    pub hlr: Option<Hlr>,
}

/// An AUC entry: `{"ki": "***", "encrypted": true, "a4ind": 2|null, "adkey": 2|null, "fsetind": 0}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Auc {
    /// Always `"***"`: the admin API never shows keys.
    pub ki: String,
    /// True if Ki came encrypted under a transport key.
    pub encrypted: bool,
    /// A4 algorithm selector (encrypted Ki only).
    pub a4ind: Option<u8>,
    /// Transport-key index (encrypted Ki only).
    pub adkey: Option<u16>,
    /// Function set.
    pub fsetind: u8,
}

/// An HLR subscription: `{"msisdn": "...", "profile_id": 12, "obo": false, "obi": false}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hlr {
    /// MSISDN digits.
    pub msisdn: String,
    /// Subscriber profile.
    pub profile_id: u32,
    /// Outgoing calls barred.
    pub obo: bool,
    /// Incoming calls barred.
    pub obi: bool,
}

impl From<&SimSubscriber> for Subscriber {
    fn from(s: &SimSubscriber) -> Self {
        Self {
            imsi: s.imsi.to_string(),
            msisdn: s.msisdn.as_ref().map(ToString::to_string),
            profile_id: s.profile_id,
            auc: s.auc.as_ref().map(|a| {
                let (encrypted, a4ind, adkey) = match &a.ki {
                    KiWire::Clear(_) => (false, None, None),
                    KiWire::Encrypted { a4ind, adkey, .. } => (true, Some(*a4ind), Some(*adkey)),
                };
                Auc {
                    ki: "***".to_owned(),
                    encrypted,
                    a4ind,
                    adkey,
                    fsetind: a.fsetind,
                }
            }),
            hlr: s.hlr.as_ref().map(|h| Hlr {
                msisdn: h.msisdn.to_string(),
                profile_id: h.profile_id,
                obo: h.obo,
                obi: h.obi,
            }),
        }
    }
}

/// `GET`/`PUT /sim/faults`; every field optional on input (default 0):
/// `{"latency_ms": 0, "jitter_ms": 0, "timeout": 0.0, "busy": 0.0, "session": 0.0,
/// "external": 0.0, "invalid": 0.0, "drop_after_apply": 0.0, "hang_after_apply": 0.0}`.
/// Fractions are in `0..=1` and sum to at most 1.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Fixed delay before every answer, in milliseconds.
    pub latency_ms: u64,
    /// Extra uniform random delay up to this many milliseconds.
    pub jitter_ms: u64,
    /// Fraction of provisioning requests never answered nor applied.
    pub timeout: f64,
    /// Fraction answered 4005 "Temporarily overloaded".
    pub busy: f64,
    /// Fraction answered with the 1001/1010 session fault.
    pub session: f64,
    /// Fraction answered 4006/13001 "SERVICE NOT DEFINED".
    pub external: f64,
    /// Fraction answered SOAP Client 4001.
    pub invalid: f64,
    /// Fraction applied, then closed without a response.
    pub drop_after_apply: f64,
    /// Fraction applied, then held without a response.
    pub hang_after_apply: f64,
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl From<&FaultConfig> for Faults {
    fn from(c: &FaultConfig) -> Self {
        Self {
            latency_ms: millis(c.latency),
            jitter_ms: millis(c.jitter),
            timeout: c.timeout,
            busy: c.busy,
            session: c.session,
            external: c.external,
            invalid: c.invalid,
            drop_after_apply: c.drop_after_apply,
            hang_after_apply: c.hang_after_apply,
        }
    }
}

impl From<Faults> for FaultConfig {
    fn from(f: Faults) -> Self {
        Self {
            latency: Duration::from_millis(f.latency_ms),
            jitter: Duration::from_millis(f.jitter_ms),
            timeout: f.timeout,
            busy: f.busy,
            session: f.session,
            external: f.external,
            invalid: f.invalid,
            drop_after_apply: f.drop_after_apply,
            hang_after_apply: f.hang_after_apply,
        }
    }
}

/// A scripted rule for `POST /sim/rules` (one object or an array) and `GET /sim/rules`:
/// `{"op": "create"|null, "kind": "gsm_hlr"|null, "action": ..., "times": 1}` where
/// `action` is `"timeout"`, `"drop_after_apply"`, `"hang_after_apply"`,
/// `{"fault": "busy"|"session"|"external"|"invalid"}` or `{"delay_ms": 250}`.
/// `op`, `kind` default to any, `times` to 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireRule {
    /// Operation to match.
    #[serde(default)]
    pub op: Option<WireOp>,
    /// Managed-object kind to match.
    #[serde(default)]
    pub kind: Option<WireKind>,
    /// What to do.
    pub action: WireAction,
    /// How many matching requests it applies to.
    #[serde(default = "one")]
    pub times: u32,
}

fn one() -> u32 {
    1
}

/// A CAI3G operation, snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireOp {
    /// Login.
    Login,
    /// Logout.
    Logout,
    /// Create.
    Create,
    /// Get.
    Get,
    /// Set.
    Set,
    /// Delete.
    Delete,
}

/// A managed-object kind, snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireKind {
    /// `Subscription@.../GsmHlr/`.
    GsmHlr,
    /// `Subscription@.../GsmAuc/`.
    GsmAuc,
}

/// An injected fault kind, snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireFault {
    /// 4005.
    Busy,
    /// 1001/1010.
    Session,
    /// 4006/13001.
    External,
    /// SOAP Client 4001.
    Invalid,
}

/// A rule's action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireAction {
    /// `{"fault": "busy"}`.
    Fault(WireFault),
    /// `"drop_after_apply"`.
    DropAfterApply,
    /// `"hang_after_apply"`.
    HangAfterApply,
    /// `"timeout"`.
    Timeout,
    /// `{"delay_ms": 250}`.
    DelayMs(u64),
}

/// `POST /sim/rules` accepts one rule or several.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum WireRules {
    /// A single rule object.
    One(WireRule),
    /// An array of rules, appended in order.
    Many(Vec<WireRule>),
}

impl WireRules {
    /// The rules in order.
    pub fn into_vec(self) -> Vec<WireRule> {
        match self {
            Self::One(r) => vec![r],
            Self::Many(rs) => rs,
        }
    }
}

impl From<WireRule> for Rule {
    fn from(r: WireRule) -> Self {
        Self {
            op: r.op.map(|o| match o {
                WireOp::Login => Operation::Login,
                WireOp::Logout => Operation::Logout,
                WireOp::Create => Operation::Create,
                WireOp::Get => Operation::Get,
                WireOp::Set => Operation::Set,
                WireOp::Delete => Operation::Delete,
            }),
            kind: r.kind.map(|k| match k {
                WireKind::GsmHlr => MoKind::GsmHlr,
                WireKind::GsmAuc => MoKind::GsmAuc,
            }),
            action: match r.action {
                WireAction::Fault(f) => Action::Fault(match f {
                    WireFault::Busy => FaultKind::Busy,
                    WireFault::Session => FaultKind::Session,
                    WireFault::External => FaultKind::External,
                    WireFault::Invalid => FaultKind::Invalid,
                }),
                WireAction::DropAfterApply => Action::DropAfterApply,
                WireAction::HangAfterApply => Action::HangAfterApply,
                WireAction::Timeout => Action::Timeout,
                WireAction::DelayMs(ms) => Action::Delay(Duration::from_millis(ms)),
            },
            times: r.times,
        }
    }
}

impl From<&Rule> for WireRule {
    fn from(r: &Rule) -> Self {
        Self {
            op: r.op.map(|o| match o {
                Operation::Login => WireOp::Login,
                Operation::Logout => WireOp::Logout,
                Operation::Create => WireOp::Create,
                Operation::Get => WireOp::Get,
                Operation::Set => WireOp::Set,
                Operation::Delete => WireOp::Delete,
            }),
            kind: r.kind.map(|k| match k {
                MoKind::GsmHlr => WireKind::GsmHlr,
                MoKind::GsmAuc => WireKind::GsmAuc,
            }),
            action: match r.action {
                Action::Fault(f) => WireAction::Fault(match f {
                    FaultKind::Busy => WireFault::Busy,
                    FaultKind::Session => WireFault::Session,
                    FaultKind::External => WireFault::External,
                    FaultKind::Invalid => WireFault::Invalid,
                }),
                Action::DropAfterApply => WireAction::DropAfterApply,
                Action::HangAfterApply => WireAction::HangAfterApply,
                Action::Timeout => WireAction::Timeout,
                Action::Delay(d) => WireAction::DelayMs(millis(d)),
            },
            times: r.times,
        }
    }
}

/// `POST /sim/sessions/expire`: `{"expired": 2}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expired {
    /// How many sessions were ended.
    pub expired: usize,
}

/// Error body of any 4xx: `{"error": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What was wrong with the request.
    pub error: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_json_shapes() {
        let rules: WireRules = serde_json::from_str(
            r#"[{"op":"create","kind":"gsm_hlr","action":{"fault":"busy"},"times":2},
                {"action":"timeout"},
                {"action":{"delay_ms":250}}]"#,
        )
        .expect("valid rules");
        let rules: Vec<Rule> = rules.into_vec().into_iter().map(Rule::from).collect();
        assert_eq!(
            rules,
            vec![
                Rule {
                    op: Some(Operation::Create),
                    kind: Some(MoKind::GsmHlr),
                    action: Action::Fault(FaultKind::Busy),
                    times: 2
                },
                Rule::any(Action::Timeout, 1),
                Rule::any(Action::Delay(Duration::from_millis(250)), 1),
            ]
        );
        let back = serde_json::to_value(WireRule::from(&rules[2])).expect("serialise");
        assert_eq!(
            back,
            serde_json::json!({"op": null, "kind": null, "action": {"delay_ms": 250}, "times": 1})
        );
        assert!(serde_json::from_str::<WireRules>(r#"{"action":"explode"}"#).is_err());
    }

    #[test]
    fn faults_round_trip_and_defaults() {
        let f: Faults = serde_json::from_str(r#"{"latency_ms": 5, "busy": 0.5}"#).expect("valid");
        let c = FaultConfig::from(f.clone());
        assert_eq!(c.latency, Duration::from_millis(5));
        assert_eq!(c.busy, 0.5);
        assert_eq!(Faults::from(&c), f);
        assert!(serde_json::from_str::<Faults>(r#"{"bussy": 0.5}"#).is_err());
    }
}

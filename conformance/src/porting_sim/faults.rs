//! What can be injected, and how it is planned: on the hub's request endpoints random
//! rates ([`FaultConfig`]) and scripted rules ([`Rule`], next-N, optionally for one
//! operation); on callbacks duplicates and reorderings ([`CallbackFaultConfig`],
//! [`CallbackRule`]). Rules come first, then one seeded draw over the rates, so a run
//! replays from its seed. The types are also the admin API's JSON.

use super::error::PortingSimError;
use crate::common::fault_rates::{self, CountedRule, Planner};
use adapters::porting::path;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The hub's six request operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// `POST /v1/port-ins`.
    SubmitPortIn,
    /// `POST /v1/cancellations`.
    Cancel,
    /// `POST /v1/reschedules`.
    Reschedule,
    /// `POST /v1/port-out-answers`.
    AnswerPortOut,
    /// `POST /v1/acknowledgements`.
    Acknowledge,
    /// `POST /v1/number-returns`.
    ReturnNumber,
}

impl Operation {
    /// Every operation.
    pub const ALL: [Self; 6] = [
        Self::SubmitPortIn,
        Self::Cancel,
        Self::Reschedule,
        Self::AnswerPortOut,
        Self::Acknowledge,
        Self::ReturnNumber,
    ];

    /// Its path.
    pub fn path(self) -> &'static str {
        match self {
            Self::SubmitPortIn => path::PORT_INS,
            Self::Cancel => path::CANCELLATIONS,
            Self::Reschedule => path::RESCHEDULES,
            Self::AnswerPortOut => path::PORT_OUT_ANSWERS,
            Self::Acknowledge => path::ACKNOWLEDGEMENTS,
            Self::ReturnNumber => path::NUMBER_RETURNS,
        }
    }

    /// The operation served at `path`.
    pub fn from_path(p: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.path() == p)
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SubmitPortIn => "submit_port_in",
            Self::Cancel => "cancel",
            Self::Reschedule => "reschedule",
            Self::AnswerPortOut => "answer_port_out",
            Self::Acknowledge => "acknowledge",
            Self::ReturnNumber => "return_number",
        }
    }
}

/// What a fault does to one request (`{"action": "…"}` on the admin wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Wait this long (tokio time), then answer normally.
    Delay {
        /// Milliseconds.
        ms: u64,
    },
    /// Never answer nor apply; the connection is held until the client gives up.
    Timeout,
    /// Answer 503 (`Retry-After: 1`) without applying.
    Unavailable,
    /// Answer 429 (`Retry-After: 1`) without applying.
    RateLimited,
    /// Apply, then answer 500: the answer is lost, the request is recorded.
    ErrorAfterApply,
    /// Apply, then close the connection without an answer.
    DropAfterApply,
}

impl Action {
    /// The snake_case name, for the request journal.
    pub fn name(self) -> &'static str {
        match self {
            Self::Delay { .. } => "delay",
            Self::Timeout => "timeout",
            Self::Unavailable => "unavailable",
            Self::RateLimited => "rate_limited",
            Self::ErrorAfterApply => "error_after_apply",
            Self::DropAfterApply => "drop_after_apply",
        }
    }
}

fn once() -> u32 {
    1
}

/// A scripted request fault: `{"action": "timeout", "operation": "cancel", "times": 2}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// Only this operation (any when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<Operation>,
    /// What to do.
    #[serde(flatten)]
    pub action: Action,
    /// How many matching requests it applies to (default 1; 0 never fires).
    #[serde(default = "once")]
    pub times: u32,
}

impl Rule {
    /// A rule firing on the next `times` requests of `operation` (any when `None`).
    pub fn new(operation: Option<Operation>, action: Action, times: u32) -> Self {
        Self {
            operation,
            action,
            times,
        }
    }
}

impl CountedRule for Rule {
    fn remaining(&mut self) -> &mut u32 {
        &mut self.times
    }
}

impl From<&Rule> for Rule {
    fn from(r: &Rule) -> Self {
        r.clone()
    }
}

/// Random request faults: exclusive fractions (summing to at most 1) plus latency.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Fixed delay before every answer, in ms.
    pub latency_ms: u64,
    /// Extra uniform random delay in `[0, jitter_ms]`.
    pub jitter_ms: u64,
    /// Fraction held unanswered and unapplied.
    pub timeout: f64,
    /// Fraction answered 503 unapplied.
    pub unavailable: f64,
    /// Fraction answered 429 unapplied.
    pub rate_limited: f64,
    /// Fraction applied, then answered 500.
    pub error_after_apply: f64,
    /// Fraction applied, then cut off unanswered.
    pub drop_after_apply: f64,
}

impl FaultConfig {
    fn fractions(&self) -> [(&'static str, f64, Action); 5] {
        [
            ("timeout", self.timeout, Action::Timeout),
            ("unavailable", self.unavailable, Action::Unavailable),
            ("rate_limited", self.rate_limited, Action::RateLimited),
            (
                "error_after_apply",
                self.error_after_apply,
                Action::ErrorAfterApply,
            ),
            (
                "drop_after_apply",
                self.drop_after_apply,
                Action::DropAfterApply,
            ),
        ]
    }

    /// Checks every fraction is in `0..=1` and that they sum to at most 1.
    pub fn validate(&self) -> Result<(), PortingSimError> {
        let named = self.fractions().map(|(n, f, _)| (n, f));
        fault_rates::validate(&named).map_err(PortingSimError::Faults)
    }
}

/// What a callback fault does to one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackAction {
    /// Deliver the message twice (same id, same body).
    Duplicate,
    /// Hold the message back and deliver it right after the port's next message.
    Reorder,
}

/// A scripted callback fault: `{"action": "reorder", "kind": "scheduled", "times": 1}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackRule {
    /// What to do.
    pub action: CallbackAction,
    /// Only messages of this kind (any when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// How many matching messages it applies to (default 1).
    #[serde(default = "once")]
    pub times: u32,
}

impl CountedRule for CallbackRule {
    fn remaining(&mut self) -> &mut u32 {
        &mut self.times
    }
}

impl From<&CallbackRule> for CallbackRule {
    fn from(r: &CallbackRule) -> Self {
        r.clone()
    }
}

/// Random callback faults: exclusive fractions of messages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CallbackFaultConfig {
    /// Fraction delivered twice.
    pub duplicate: f64,
    /// Fraction held back behind the port's next message.
    pub reorder: f64,
}

impl CallbackFaultConfig {
    /// Checks every fraction is in `0..=1` and that they sum to at most 1.
    pub fn validate(&self) -> Result<(), PortingSimError> {
        fault_rates::validate(&[("duplicate", self.duplicate), ("reorder", self.reorder)])
            .map_err(PortingSimError::Faults)
    }
}

/// The plan for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Wait this long first.
    pub(crate) delay: Duration,
    /// Then misbehave so (`None`: answer normally).
    pub(crate) action: Option<Action>,
    /// The fault that fired, for the journal and counters (a delay included).
    pub(crate) fired: Option<Action>,
}

/// Request fault configuration, rules and PRNG.
pub(crate) type RequestPlanner = Planner<FaultConfig, Rule>;
/// Callback fault configuration, rules and PRNG.
pub(crate) type CallbackPlanner = Planner<CallbackFaultConfig, CallbackRule>;

impl RequestPlanner {
    /// Plans one request of `op`.
    pub(crate) fn plan(&mut self, op: Operation) -> Plan {
        let jitter =
            fault_rates::jitter(&mut self.rng, Duration::from_millis(self.config.jitter_ms));
        let mut delay = Duration::from_millis(self.config.latency_ms) + jitter;
        let fired = match self
            .rules
            .fire(|r| r.operation.is_none_or(|o| o == op))
            .map(|r| r.action)
        {
            Some(a) => Some(a),
            None => {
                let fractions = self.config.fractions();
                let rates = fractions.map(|(_, f, _)| f);
                fault_rates::pick(&mut self.rng, &rates)
                    .and_then(|i| fractions.get(i).map(|(_, _, a)| *a))
            }
        };
        let action = match fired {
            Some(Action::Delay { ms }) => {
                delay += Duration::from_millis(ms);
                None
            }
            other => other,
        };
        Plan {
            delay,
            action,
            fired,
        }
    }
}

impl CallbackPlanner {
    /// Plans one message of `kind`.
    pub(crate) fn plan(&mut self, kind: &str) -> Option<CallbackAction> {
        if let Some(r) = self
            .rules
            .fire(|r| r.kind.as_deref().is_none_or(|k| k == kind))
        {
            return Some(r.action);
        }
        let c = &self.config;
        let actions = [CallbackAction::Duplicate, CallbackAction::Reorder];
        fault_rates::pick(&mut self.rng, &[c.duplicate, c.reorder])
            .and_then(|i| actions.get(i).copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_fire_in_order_and_rates_replay_from_the_seed() {
        let rules: Vec<Rule> = serde_json::from_str(
            r#"[{"action":"delay","ms":20,"operation":"cancel"},
                {"action":"drop_after_apply","times":2}]"#,
        )
        .expect("rules");
        assert_eq!(rules[0].action, Action::Delay { ms: 20 });
        assert_eq!(rules[1].times, 2);
        let mut p = RequestPlanner::new(FaultConfig::default(), 1);
        for r in rules {
            p.push_rule(r);
        }
        let first = p.plan(Operation::SubmitPortIn);
        assert_eq!(first.action, Some(Action::DropAfterApply));
        let second = p.plan(Operation::Cancel);
        assert_eq!(
            (second.action, second.delay),
            (None, Duration::from_millis(20))
        );
        assert_eq!(second.fired, Some(Action::Delay { ms: 20 }));
        assert_eq!(
            p.plan(Operation::Cancel).action,
            Some(Action::DropAfterApply)
        );
        assert_eq!(p.plan(Operation::Cancel).fired, None);

        let config = FaultConfig {
            unavailable: 0.5,
            ..FaultConfig::default()
        };
        let run = |seed| {
            let mut p = RequestPlanner::new(config.clone(), seed);
            (0..1000)
                .map(|_| p.plan(Operation::Acknowledge).action)
                .collect::<Vec<_>>()
        };
        assert_eq!(run(3), run(3));
        let hits = run(3).iter().filter(|a| a.is_some()).count();
        assert!((400..600).contains(&hits), "{hits}");
        assert!(
            FaultConfig {
                timeout: 0.8,
                unavailable: 0.8,
                ..FaultConfig::default()
            }
            .validate()
            .is_err()
        );

        let mut c = CallbackPlanner::new(CallbackFaultConfig::default(), 1);
        c.push_rule(CallbackRule {
            action: CallbackAction::Reorder,
            kind: Some("scheduled".into()),
            times: 1,
        });
        assert_eq!(c.plan("accepted"), None);
        assert_eq!(c.plan("scheduled"), Some(CallbackAction::Reorder));
        assert_eq!(c.plan("scheduled"), None);
        assert!(
            CallbackFaultConfig {
                duplicate: 2.0,
                reorder: 0.0
            }
            .validate()
            .is_err()
        );
    }
}

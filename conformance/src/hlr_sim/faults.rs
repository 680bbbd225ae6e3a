//! What can be injected: random fault rates ([`FaultConfig`]) and scripted rules ([`Rule`]).

use super::codec::{MoKind, Operation};
use super::error::SimError;
use std::time::Duration;

/// A fault answered instead of performing the request (nothing is applied).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// SOAP Server, Cai3gFault 4005 "Temporarily overloaded".
    Busy,
    /// Cai3gFault 1001 "Invalid sessionId." with PGFault 1010 (as for an expired session).
    Session,
    /// Cai3gFault 4006 with UserProvisioningFault 13001 "SERVICE NOT DEFINED".
    External,
    /// SOAP Client, Cai3gFault 4001 (request rejected as invalid).
    Invalid,
}

/// What a matching [`Rule`] does to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Answer this fault; apply nothing.
    Fault(FaultKind),
    /// Apply the request, then close the connection without any response.
    DropAfterApply,
    /// Apply the request, then hold the connection open without any response.
    HangAfterApply,
    /// Apply nothing and never answer; the connection is held until the client gives up.
    Timeout,
    /// Wait this long (on top of configured latency), then process normally.
    Delay(Duration),
}

/// A scripted, deterministic injection. Rules are tried in insertion order; the first
/// match fires and counts down, and is removed when `times` reaches zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Only this operation (any when `None`, including Login and Logout).
    pub op: Option<Operation>,
    /// Only this managed-object kind (any when `None`; `Some` never matches Login/Logout).
    pub kind: Option<MoKind>,
    /// What to do.
    pub action: Action,
    /// How many matching requests it applies to; 0 means the rule never fires.
    pub times: u32,
}

impl Rule {
    /// A rule firing `times` times on every request.
    pub fn any(action: Action, times: u32) -> Self {
        Self {
            op: None,
            kind: None,
            action,
            times,
        }
    }

    /// A rule firing once on `op` of `kind`.
    pub fn once(op: Operation, kind: MoKind, action: Action) -> Self {
        Self {
            op: Some(op),
            kind: Some(kind),
            action,
            times: 1,
        }
    }

    /// True if the rule applies to a request for `op` on `kind`.
    pub(crate) fn matches(&self, op: Operation, kind: Option<MoKind>) -> bool {
        self.op.is_none_or(|o| o == op) && self.kind.is_none_or(|k| kind == Some(k))
    }
}

/// Random fault injection. Fractions are per provisioning request (Create/Get/Set/Delete;
/// Login and Logout only get latency) and are mutually exclusive, so they must sum to at
/// most 1. All zero (the `Default`) injects nothing. Faults are decided before the session
/// check and before any state change; scripted rules take precedence over these rates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultConfig {
    /// Fixed delay before every answer (Login included).
    pub latency: Duration,
    /// Extra uniform random delay in `[0, jitter]`.
    pub jitter: Duration,
    /// Fraction never answered and not applied.
    pub timeout: f64,
    /// Fraction answered with [`FaultKind::Busy`].
    pub busy: f64,
    /// Fraction answered with [`FaultKind::Session`].
    pub session: f64,
    /// Fraction answered with [`FaultKind::External`].
    pub external: f64,
    /// Fraction answered with [`FaultKind::Invalid`].
    pub invalid: f64,
    /// Fraction applied, then the connection closed without a response.
    pub drop_after_apply: f64,
    /// Fraction applied, then the connection held open without a response.
    pub hang_after_apply: f64,
}

impl FaultConfig {
    /// The fractions with their names, in the order the PRNG draw walks them.
    pub(crate) fn fractions(&self) -> [(&'static str, f64); 7] {
        [
            ("timeout", self.timeout),
            ("busy", self.busy),
            ("session", self.session),
            ("external", self.external),
            ("invalid", self.invalid),
            ("drop_after_apply", self.drop_after_apply),
            ("hang_after_apply", self.hang_after_apply),
        ]
    }

    /// Checks every fraction is in `0..=1` and that they sum to at most 1.
    pub fn validate(&self) -> Result<(), SimError> {
        crate::common::fault_rates::validate(&self.fractions()).map_err(SimError::Faults)
    }
}

impl crate::common::fault_rates::CountedRule for Rule {
    fn remaining(&mut self) -> &mut u32 {
        &mut self.times
    }
}

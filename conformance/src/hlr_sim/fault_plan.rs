//! Decides, per request, what to inject: scripted rules first, then the random rates.
//! Pure apart from the seeded PRNG, so a fault run replays from its seed.

use super::codec::{MoKind, Operation};
use super::faults::{Action, FaultConfig, FaultKind, Rule};
use crate::common::fault_rates::{self, Planner};
use std::time::Duration;

/// How a request is to be handled after its delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Disposition {
    /// Process and answer.
    Normal,
    /// Answer this fault without processing.
    Fault(FaultKind),
    /// Neither process nor answer.
    Timeout,
    /// Process, then close without answering.
    DropAfterApply,
    /// Process, then hold without answering.
    HangAfterApply,
}

/// The plan for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Wait this long first.
    pub(crate) delay: Duration,
    /// Then do this.
    pub(crate) disposition: Disposition,
    /// True if a [`Action::Delay`] rule contributed to `delay`.
    pub(crate) delayed_by_rule: bool,
}

/// Fault configuration, pending rules and the PRNG.
pub(crate) type FaultPlanner = Planner<FaultConfig, Rule>;

impl FaultPlanner {
    /// Plans one request for `op` on `kind` (`None` for Login/Logout).
    pub(crate) fn plan(&mut self, op: Operation, kind: Option<MoKind>) -> Plan {
        let mut delay =
            self.config.latency + fault_rates::jitter(&mut self.rng, self.config.jitter);
        if let Some(action) = self.fire_rule(op, kind) {
            let disposition = match action {
                Action::Fault(k) => Disposition::Fault(k),
                Action::DropAfterApply => Disposition::DropAfterApply,
                Action::HangAfterApply => Disposition::HangAfterApply,
                Action::Timeout => Disposition::Timeout,
                Action::Delay(d) => {
                    delay += d;
                    return Plan {
                        delay,
                        disposition: Disposition::Normal,
                        delayed_by_rule: true,
                    };
                }
            };
            return Plan {
                delay,
                disposition,
                delayed_by_rule: false,
            };
        }
        let disposition = if kind.is_some() {
            self.draw()
        } else {
            Disposition::Normal
        };
        Plan {
            delay,
            disposition,
            delayed_by_rule: false,
        }
    }

    fn fire_rule(&mut self, op: Operation, kind: Option<MoKind>) -> Option<Action> {
        self.rules.fire(|r| r.matches(op, kind)).map(|r| r.action)
    }

    /// One uniform draw walked across the cumulative fractions.
    fn draw(&mut self) -> Disposition {
        let rates = self.config.fractions().map(|(_, f)| f);
        match fault_rates::pick(&mut self.rng, &rates) {
            None => Disposition::Normal,
            Some(0) => Disposition::Timeout,
            Some(1) => Disposition::Fault(FaultKind::Busy),
            Some(2) => Disposition::Fault(FaultKind::Session),
            Some(3) => Disposition::Fault(FaultKind::External),
            Some(4) => Disposition::Fault(FaultKind::Invalid),
            Some(5) => Disposition::DropAfterApply,
            Some(_) => Disposition::HangAfterApply,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planner(config: FaultConfig) -> FaultPlanner {
        FaultPlanner::new(config, 7)
    }

    #[test]
    fn no_faults_means_normal_and_no_delay() {
        let mut p = planner(FaultConfig::default());
        let plan = p.plan(Operation::Create, Some(MoKind::GsmAuc));
        assert_eq!(plan.disposition, Disposition::Normal);
        assert_eq!(plan.delay, Duration::ZERO);
    }

    #[test]
    fn rules_match_in_order_and_count_down() {
        let mut p = planner(FaultConfig::default());
        p.push_rule(Rule::once(
            Operation::Create,
            MoKind::GsmHlr,
            Action::Timeout,
        ));
        p.push_rule(Rule::any(Action::Fault(FaultKind::Busy), 2));
        // Login has no kind: the first rule does not match it, the second does.
        assert_eq!(
            p.plan(Operation::Login, None).disposition,
            Disposition::Fault(FaultKind::Busy)
        );
        assert_eq!(
            p.plan(Operation::Create, Some(MoKind::GsmHlr)).disposition,
            Disposition::Timeout
        );
        assert_eq!(
            p.plan(Operation::Create, Some(MoKind::GsmHlr)).disposition,
            Disposition::Fault(FaultKind::Busy)
        );
        assert!(p.rules().is_empty());
        assert_eq!(
            p.plan(Operation::Create, Some(MoKind::GsmHlr)).disposition,
            Disposition::Normal
        );
    }

    #[test]
    fn zero_times_rule_is_not_kept() {
        let mut p = planner(FaultConfig::default());
        p.push_rule(Rule::any(Action::Timeout, 0));
        assert!(p.rules().is_empty());
    }

    #[test]
    fn delay_rule_adds_to_latency() {
        let config = FaultConfig {
            latency: Duration::from_millis(5),
            ..FaultConfig::default()
        };
        let mut p = planner(config);
        p.push_rule(Rule::any(Action::Delay(Duration::from_millis(20)), 1));
        let plan = p.plan(Operation::Get, Some(MoKind::GsmAuc));
        assert_eq!(plan.delay, Duration::from_millis(25));
        assert!(plan.delayed_by_rule);
        assert_eq!(plan.disposition, Disposition::Normal);
    }

    #[test]
    fn jitter_stays_in_range() {
        let config = FaultConfig {
            latency: Duration::from_millis(10),
            jitter: Duration::from_millis(5),
            ..FaultConfig::default()
        };
        let mut p = planner(config);
        for _ in 0..1000 {
            let d = p.plan(Operation::Login, None).delay;
            assert!(d >= Duration::from_millis(10) && d <= Duration::from_millis(15));
        }
    }

    #[test]
    fn rates_are_roughly_honoured_and_reproducible() {
        let config = FaultConfig {
            busy: 0.25,
            drop_after_apply: 0.25,
            ..FaultConfig::default()
        };
        let run = || {
            let mut p = planner(config.clone());
            (0..4000)
                .map(|_| p.plan(Operation::Set, Some(MoKind::GsmHlr)).disposition)
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        let busy = a
            .iter()
            .filter(|d| **d == Disposition::Fault(FaultKind::Busy))
            .count();
        let dropped = a
            .iter()
            .filter(|d| **d == Disposition::DropAfterApply)
            .count();
        assert!((800..1200).contains(&busy), "busy {busy}");
        assert!((800..1200).contains(&dropped), "dropped {dropped}");
    }

    #[test]
    fn random_faults_spare_login() {
        let mut p = planner(FaultConfig {
            busy: 1.0,
            ..FaultConfig::default()
        });
        assert_eq!(
            p.plan(Operation::Login, None).disposition,
            Disposition::Normal
        );
        assert_eq!(
            p.plan(Operation::Delete, Some(MoKind::GsmAuc)).disposition,
            Disposition::Fault(FaultKind::Busy)
        );
    }

    #[test]
    fn validation_rejects_bad_fractions() {
        assert!(
            FaultConfig {
                busy: 1.5,
                ..FaultConfig::default()
            }
            .validate()
            .is_err()
        );
        assert!(
            FaultConfig {
                busy: -0.1,
                ..FaultConfig::default()
            }
            .validate()
            .is_err()
        );
        assert!(
            FaultConfig {
                busy: f64::NAN,
                ..FaultConfig::default()
            }
            .validate()
            .is_err()
        );
        assert!(
            FaultConfig {
                busy: 0.6,
                timeout: 0.6,
                ..FaultConfig::default()
            }
            .validate()
            .is_err()
        );
        assert!(
            FaultConfig {
                busy: 0.5,
                timeout: 0.5,
                ..FaultConfig::default()
            }
            .validate()
            .is_ok()
        );
    }
}

//! Decides, per ES2+ request, what to inject: scripted rules first, then the random rates.
//! Pure apart from the seeded PRNG, so a fault run replays from its seed.

use super::faults::{Action, FaultConfig, Function, Rule};
use crate::common::fault_rates::{self, Planner};
use std::time::Duration;

/// The plan for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Wait this long first.
    pub(crate) delay: Duration,
    /// Then misbehave this way (`None`: answer normally).
    pub(crate) action: Option<Action>,
}

/// Fault configuration, pending rules and the PRNG.
pub(crate) type FaultPlanner = Planner<FaultConfig, Rule>;

impl FaultPlanner {
    /// Plans one request for `function`.
    pub(crate) fn plan(&mut self, function: Function) -> Plan {
        let mut delay =
            self.config.latency + fault_rates::jitter(&mut self.rng, self.config.jitter);
        let action = match self.rules.fire(|r| r.matches(function)).map(|r| r.action) {
            Some(Action::Delay(d)) => {
                delay += d;
                None
            }
            Some(a) => Some(a),
            None => {
                let fractions = self.config.fractions();
                let rates = fractions.map(|(_, f, _)| f);
                fault_rates::pick(&mut self.rng, &rates)
                    .and_then(|i| fractions.get(i).map(|(_, _, a)| *a))
            }
        };
        Plan { delay, action }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_first_then_rates_and_reproducible() {
        let config = FaultConfig {
            expired: 0.5,
            latency: Duration::from_millis(3),
            ..FaultConfig::default()
        };
        let mut p = FaultPlanner::new(config.clone(), 5);
        p.push_rule(Rule::once(Function::ConfirmOrder, Action::DropAfterCommit));
        p.push_rule(Rule::any(Action::Delay(Duration::from_millis(10)), 1));
        let first = p.plan(Function::DownloadOrder);
        assert_eq!(first.delay, Duration::from_millis(13));
        assert_eq!(first.action, None);
        assert_eq!(
            p.plan(Function::ConfirmOrder).action,
            Some(Action::DropAfterCommit)
        );
        assert!(p.rules().is_empty());
        let run = |seed| {
            let mut p = FaultPlanner::new(config.clone(), seed);
            (0..2000)
                .map(|_| p.plan(Function::CancelOrder).action)
                .collect::<Vec<_>>()
        };
        let a = run(9);
        assert_eq!(a, run(9));
        let expired = a.iter().filter(|x| **x == Some(Action::Expired)).count();
        assert!((800..1200).contains(&expired), "{expired}");
    }

    #[test]
    fn validation() {
        assert!(
            FaultConfig {
                expired: 0.7,
                timeout: 0.7,
                ..FaultConfig::default()
            }
            .validate()
            .is_err()
        );
        assert!(FaultConfig::default().validate().is_ok());
    }
}

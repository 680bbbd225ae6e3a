//! The protocol-neutral half of fault planning: scripted rules that fire in order and
//! count down, random rates walked with one uniform draw, jitter, and rate validation.

use super::http_util::{self, Abort, HttpResponse, json, not_routed, read_json_list};
use super::rng::SplitMix64;
use http::{Method, Request, StatusCode};
use hyper::body::Incoming;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::MutexGuard;
use std::time::Duration;

/// A scripted rule with a remaining-uses counter.
pub(crate) trait CountedRule: Clone {
    /// The uses left; the rule is dropped when this reaches zero.
    fn remaining(&mut self) -> &mut u32;
}

/// Pending scripted rules in insertion order.
#[derive(Debug, Clone)]
pub(crate) struct Script<R> {
    rules: Vec<R>,
}

impl<R> Default for Script<R> {
    fn default() -> Self {
        Self { rules: Vec::new() }
    }
}

impl<R: CountedRule> Script<R> {
    /// Appends a rule; rules that can never fire are not kept.
    pub(crate) fn push(&mut self, mut rule: R) {
        if *rule.remaining() > 0 {
            self.rules.push(rule);
        }
    }

    /// Removes all rules.
    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    /// The rules still pending.
    pub(crate) fn rules(&self) -> &[R] {
        &self.rules
    }

    /// Fires the first rule `matches` accepts: counts it down and returns a copy of it.
    pub(crate) fn fire(&mut self, matches: impl Fn(&R) -> bool) -> Option<R> {
        let i = self.rules.iter().position(matches)?;
        let rule = self.rules.get_mut(i)?;
        let fired = rule.clone();
        let left = rule.remaining();
        *left = left.saturating_sub(1);
        if *left == 0 {
            self.rules.remove(i);
        }
        Some(fired)
    }
}

/// A random-fault configuration, the pending rules and the seeded PRNG: the state every
/// simulator's fault planner keeps. Each simulator adds its own `plan` in an inherent impl.
#[derive(Debug)]
pub(crate) struct Planner<C, R> {
    pub(crate) config: C,
    pub(crate) rules: Script<R>,
    pub(crate) rng: SplitMix64,
}

impl<C, R: CountedRule> Planner<C, R> {
    /// A planner with a validated `config` and PRNG `seed`.
    pub(crate) fn new(config: C, seed: u64) -> Self {
        Self {
            config,
            rules: Script::default(),
            rng: SplitMix64::new(seed),
        }
    }

    /// The current random-fault configuration.
    pub(crate) fn config(&self) -> &C {
        &self.config
    }

    /// Replaces the configuration (validated by the caller).
    pub(crate) fn set_config(&mut self, config: C) {
        self.config = config;
    }

    /// Appends a rule; rules that can never fire are not kept.
    pub(crate) fn push_rule(&mut self, rule: R) {
        self.rules.push(rule);
    }

    /// Removes all rules.
    pub(crate) fn clear_rules(&mut self) {
        self.rules.clear();
    }

    /// The rules still pending, with their remaining counts.
    pub(crate) fn rules(&self) -> &[R] {
        self.rules.rules()
    }
}

/// Serves an admin `/sim/rules` resource over `lock`'s planner, with `W` as the wire form
/// of a rule: GET lists the pending rules, POST appends one or an array, DELETE clears.
pub(crate) async fn serve_rules<'s, C: 's, R, W>(
    lock: impl Fn() -> MutexGuard<'s, Planner<C, R>>,
    method: &Method,
    req: Request<Incoming>,
) -> Result<HttpResponse, Abort>
where
    R: CountedRule + 's,
    W: Serialize + DeserializeOwned + for<'r> From<&'r R> + Into<R>,
{
    Ok(match *method {
        Method::GET => {
            let rules: Vec<W> = lock().rules().iter().map(W::from).collect();
            json(StatusCode::OK, &rules)
        }
        Method::POST => match read_json_list::<W>(req).await? {
            Ok(rules) => {
                let mut planner = lock();
                for rule in rules {
                    planner.push_rule(rule.into());
                }
                http_util::empty(StatusCode::NO_CONTENT)
            }
            Err(resp) => resp,
        },
        Method::DELETE => {
            lock().clear_rules();
            http_util::empty(StatusCode::NO_CONTENT)
        }
        _ => not_routed(Some("GET, POST, DELETE")),
    })
}

/// A uniform delay in `[0, max]`.
pub(crate) fn jitter(rng: &mut SplitMix64, max: Duration) -> Duration {
    let max = u64::try_from(max.as_micros()).unwrap_or(u64::MAX);
    if max == 0 {
        Duration::ZERO
    } else {
        Duration::from_micros(rng.up_to(max))
    }
}

/// Picks at most one of mutually exclusive outcomes with the given probabilities (one
/// uniform draw walked across the cumulative sums); `None` means "no fault". Draws
/// nothing when every rate is zero, so a fault-free run leaves the stream untouched.
pub(crate) fn pick(rng: &mut SplitMix64, rates: &[f64]) -> Option<usize> {
    if rates.iter().all(|f| *f <= 0.0) {
        return None;
    }
    let r = rng.next_f64();
    let mut edge = 0.0;
    for (i, f) in rates.iter().enumerate() {
        edge += f;
        if r < edge {
            return Some(i);
        }
    }
    None
}

/// Checks every named rate is in `0..=1` and that they sum to at most 1.
pub(crate) fn validate(rates: &[(&'static str, f64)]) -> Result<(), String> {
    let mut sum = 0.0;
    for (name, f) in rates {
        if !(0.0..=1.0).contains(f) {
            return Err(format!("{name} must be between 0 and 1"));
        }
        sum += f;
    }
    if sum > 1.0 + 1e-9 {
        return Err(format!("fractions sum to {sum}, more than 1"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    struct R(&'static str, u32);

    impl CountedRule for R {
        fn remaining(&mut self) -> &mut u32 {
            &mut self.1
        }
    }

    #[test]
    fn script_fires_in_order_and_counts_down() {
        let mut s = Script::default();
        s.push(R("a", 2));
        s.push(R("b", 0));
        s.push(R("c", 1));
        assert_eq!(s.rules().len(), 2);
        assert_eq!(s.fire(|r| r.0 == "c").map(|r| r.0), Some("c"));
        assert_eq!(s.fire(|_| true).map(|r| r.0), Some("a"));
        assert_eq!(s.fire(|_| true).map(|r| r.0), Some("a"));
        assert_eq!(s.fire(|_| true), None);
    }

    #[test]
    fn pick_honours_rates_and_zero_draws_nothing() {
        let mut rng = SplitMix64::new(3);
        let before = rng.clone().next_u64();
        assert_eq!(pick(&mut rng, &[0.0, 0.0]), None);
        assert_eq!(rng.next_u64(), before);
        let mut rng = SplitMix64::new(3);
        assert_eq!(pick(&mut rng, &[0.0, 1.0]), Some(1));
        let hits = (0..4000)
            .filter(|_| pick(&mut rng, &[0.25]).is_some())
            .count();
        assert!((800..1200).contains(&hits), "{hits}");
    }

    #[test]
    fn validate_rejects_out_of_range_and_oversum() {
        assert!(validate(&[("a", 1.5)]).is_err());
        assert!(validate(&[("a", f64::NAN)]).is_err());
        assert!(validate(&[("a", 0.6), ("b", 0.6)]).is_err());
        assert!(validate(&[("a", 0.5), ("b", 0.5)]).is_ok());
    }
}

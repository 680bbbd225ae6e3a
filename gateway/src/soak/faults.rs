//! Fault profiles: what each simulator injects during a soak, set through its admin API
//! (so the same profile applies to an in-process sandbox and to a restarted child), and
//! the injections each simulator counted.

use super::target::{Sim, Target};
use conformance::hlr_sim::admin::Faults as HlrFaults;
use conformance::porting_sim::{CallbackFaultConfig, FaultConfig as HubFaults};
use conformance::smdp_sim::{FaultConfig as SmdpFaults, Quirks};
use http::Method;
use serde_json::Value;
use std::collections::BTreeMap;

/// A named fault profile (`--faults`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultProfile {
    /// Nothing injected: the simulators answer every request.
    None,
    /// On every southbound request: 10% timeouts, 5% transient faults,
    /// 2% permanent faults, 5% answers lost after the change was applied; every ES2+
    /// notification sent twice and each download notification after its install one;
    /// hub messages duplicated (10%) and reordered (5%); 2% of port-ins rejected by the
    /// donor.
    Standard,
}

/// What one profile sets on the simulators.
#[derive(Debug, Clone, Default)]
pub(crate) struct Plan {
    hlr: HlrFaults,
    smdp: SmdpFaults,
    quirks: Quirks,
    hub: HubFaults,
    hub_callbacks: CallbackFaultConfig,
    /// Fraction of port-in numbers whose donor rejects the port (a permanent fault of the
    /// hub: its simulator has no random one).
    pub(crate) rejected_ports: f64,
}

impl FaultProfile {
    /// Its name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Standard => "standard",
        }
    }

    /// What it sets on each simulator.
    pub(crate) fn plan(self) -> Plan {
        match self {
            Self::None => Plan::default(),
            Self::Standard => Plan {
                hlr: HlrFaults {
                    jitter_ms: 3,
                    timeout: 0.10,
                    busy: 0.04,
                    session: 0.01,
                    external: 0.01,
                    invalid: 0.01,
                    drop_after_apply: 0.03,
                    hang_after_apply: 0.02,
                    ..HlrFaults::default()
                },
                smdp: SmdpFaults {
                    timeout: 0.10,
                    error_before_commit: 0.05,
                    expired: 0.02,
                    drop_after_commit: 0.03,
                    error_after_commit: 0.02,
                    ..SmdpFaults::default()
                },
                quirks: Quirks {
                    duplicate: true,
                    install_before_download: true,
                    ..Quirks::default()
                },
                hub: HubFaults {
                    timeout: 0.10,
                    unavailable: 0.04,
                    rate_limited: 0.01,
                    error_after_apply: 0.02,
                    drop_after_apply: 0.03,
                    ..HubFaults::default()
                },
                hub_callbacks: CallbackFaultConfig {
                    duplicate: 0.10,
                    reorder: 0.05,
                },
                rejected_ports: 0.02,
            },
        }
    }
}

impl Plan {
    /// Whether the SM-DP+ sends each notification twice (the soak waits for both copies).
    pub(crate) fn duplicates_notifications(&self) -> bool {
        self.quirks.duplicate
    }

    /// Sets the plan on every simulator `target` names (a real peer has no admin API and
    /// is left alone).
    pub(crate) async fn apply(&self, target: &Target) -> Result<(), String> {
        let put = |sim, path: &'static str, body: Value| async move {
            if target.has(sim) {
                target
                    .admin(sim, Method::PUT, path, Some(&body))
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Ok::<(), String>(())
        };
        put(Sim::Hlr, "faults", json(&self.hlr)?).await?;
        put(Sim::Smdp, "faults", json(&self.smdp)?).await?;
        put(Sim::Smdp, "quirks", json(&self.quirks)?).await?;
        put(Sim::Hub, "faults", json(&self.hub)?).await?;
        put(Sim::Hub, "callback-faults", json(&self.hub_callbacks)?).await?;
        Ok(())
    }
}

fn json(v: &impl serde::Serialize) -> Result<Value, String> {
    serde_json::to_value(v).map_err(|e| e.to_string())
}

/// Injections counted per simulator and fault (non-zero only), from each one's
/// `GET /sim/stats`.
pub(crate) type Injected = BTreeMap<String, BTreeMap<String, u64>>;

/// Reads every simulator's injection counters.
pub(crate) async fn injected(target: &Target) -> Result<Injected, String> {
    let mut out = Injected::new();
    for sim in Sim::ALL {
        if !target.has(sim) {
            continue;
        }
        let stats = target
            .admin(sim, Method::GET, "stats", None)
            .await
            .map_err(|e| e.to_string())?
            .json;
        let counts = out.entry(sim.name().to_owned()).or_default();
        if let Some(m) = stats["injected"].as_object() {
            for (fault, n) in m {
                if let Some(n) = n.as_u64().filter(|n| *n > 0) {
                    counts.insert(fault.clone(), n);
                }
            }
        }
    }
    Ok(out)
}

/// Adds `more` into `total` (the counters of one run of a restarted sandbox).
pub(crate) fn add(total: &mut Injected, more: &Injected) {
    for (sim, counts) in more {
        let t = total.entry(sim.clone()).or_default();
        for (fault, n) in counts {
            *t.entry(fault.clone()).or_default() += n;
        }
    }
}

/// The injections counted between `before` and `after` (a target's simulators count
/// from their start, which may be before earlier runs).
pub(crate) fn since(after: &Injected, before: &Injected) -> Injected {
    let mut out = Injected::new();
    for (sim, counts) in after {
        let earlier = before.get(sim);
        let mut now = BTreeMap::new();
        for (fault, n) in counts {
            let was = earlier.and_then(|e| e.get(fault)).copied().unwrap_or(0);
            if let Some(d) = n.checked_sub(was).filter(|d| *d > 0) {
                now.insert(fault.clone(), d);
            }
        }
        out.insert(sim.clone(), now);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_profile_has_the_issues_rates_and_validates() {
        let p = FaultProfile::Standard.plan();
        assert_eq!(p.hlr.timeout, 0.10);
        assert!((p.hlr.busy + p.hlr.session - 0.05).abs() < 1e-9);
        assert!((p.hlr.external + p.hlr.invalid - 0.02).abs() < 1e-9);
        assert!((p.hlr.drop_after_apply + p.hlr.hang_after_apply - 0.05).abs() < 1e-9);
        assert_eq!(p.smdp.timeout, 0.10);
        assert!(p.smdp.validate().is_ok());
        assert!(p.hub.validate().is_ok());
        assert!(p.hub_callbacks.validate().is_ok());
        assert!(p.quirks.duplicate && p.quirks.install_before_download);
        let none = FaultProfile::None.plan();
        assert_eq!(none.hlr, HlrFaults::default());
        assert!(!none.duplicates_notifications());
    }

    #[test]
    fn counters_of_several_runs_add_up() {
        let mut total = Injected::new();
        let one: Injected = BTreeMap::from([(
            "hlr".to_owned(),
            BTreeMap::from([("timeout".to_owned(), 2)]),
        )]);
        add(&mut total, &one);
        add(&mut total, &one);
        assert_eq!(total["hlr"]["timeout"], 4);
    }

    #[test]
    fn a_runs_injections_are_the_counters_less_what_they_were_before_it() {
        let counts = |pairs: &[(&str, u64)]| -> Injected {
            BTreeMap::from([(
                "hlr".to_owned(),
                pairs.iter().map(|(f, n)| ((*f).to_owned(), *n)).collect(),
            )])
        };
        let before = counts(&[("timeout", 5), ("busy", 2)]);
        let after = counts(&[("timeout", 9), ("busy", 2), ("external", 1)]);
        assert_eq!(
            since(&after, &before),
            counts(&[("timeout", 4), ("external", 1)])
        );
        assert_eq!(since(&after, &Injected::new()), after);
    }
}

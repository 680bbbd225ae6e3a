//! The black-box conformance suite: checks a running gateway against its public contract
//! (README, API section) over HTTPS only, using what `sandbox.json` describes.
//!
//! [`run`] executes the case table (`cases/`) in order and returns a [`Report`], which
//! renders as text (`Display`) or JUnit XML ([`Report::to_junit_xml`]). Cases share a
//! context (`ctx.rs`) holding the HTTPS client, the SIM allocator and request helpers;
//! `reply.rs` holds the problem+json checks and `simulator.rs` the HLR simulator's admin
//! client. The suite assumes it is the gateway's only client while it runs: it reads
//! order counters before and after refused requests.

mod cases;
mod config;
mod ctx;
mod junit;
mod porting_admin;
mod reply;
mod report;
mod sims;
mod simulator;

pub use config::{DEFAULT_ACTIVATION_TIMEOUT, SandboxFile, SimulatorInfo, SuiteConfig, SuiteError};
pub use junit::{CLASS_NAME, JunitCase, JunitSummary, SUITE_NAME, read_junit};
pub use report::{CaseResult, Outcome, Report};

use std::time::{Duration, Instant};

/// Why cases needing the HLR simulator are skipped.
pub const NO_SIMULATOR: &str = "no HLR simulator in sandbox.json";
/// Why the compliance cases are skipped against a sandbox without market tenants.
pub const NO_MARKET: &str = "no `markets.cn` tenant in sandbox.json";
/// Why a case needing the `uk` market tenant was skipped.
pub const NO_UK: &str = "no `markets.uk` tenant in sandbox.json";
/// Why a case that needs a porting hub was skipped.
pub const NO_PORTING: &str = "no `porting_simulator` (porting hub) in sandbox.json";
/// Why a case that scripts the identity verifier was skipped.
pub const NO_IDENTITY: &str = "no `identity_simulator` in sandbox.json";

/// The names of every case, in execution order.
pub fn case_names() -> Vec<&'static str> {
    cases::all().iter().map(|c| c.name).collect()
}

/// Runs the selected cases one after another (they share the gateway's SIM pool and
/// the simulator's fault settings, so they must not overlap).
pub async fn run(cfg: &SuiteConfig) -> Report {
    let selected: Vec<_> = cases::all()
        .into_iter()
        .filter(|c| cfg.selects(c.name))
        .collect();
    let ctx = ctx::Ctx::new(cfg);
    let mut report = Report::default();
    let mut sim_setup = Ok(());
    if let Ok(Some(sim)) = ctx.as_ref().map(|c| c.simulator.as_ref()) {
        match clear_random_faults(sim).await {
            Ok(Some(note)) => report.notes.push(note),
            Ok(None) => {}
            Err(e) => sim_setup = Err(format!("setup: {e}")),
        }
    }
    // Backstop against a case hanging past its own bounds: two activations, each within
    // the activation timeout, plus slack for the requests around them.
    let budget = cfg.timeout.saturating_mul(3) + Duration::from_secs(60);
    for case in selected {
        let started = Instant::now();
        let outcome = if case.needs_simulator && cfg.sandbox.hlr_simulator.is_none() {
            Outcome::Skip(NO_SIMULATOR.to_owned())
        } else if case.needs_market && !cfg.sandbox.markets.contains_key("cn") {
            Outcome::Skip(NO_MARKET.to_owned())
        } else if case.needs_uk && !cfg.sandbox.markets.contains_key("uk") {
            Outcome::Skip(NO_UK.to_owned())
        } else if case.needs_porting && cfg.sandbox.porting_simulator.is_none() {
            Outcome::Skip(NO_PORTING.to_owned())
        } else if case.needs_identity && cfg.sandbox.identity_simulator.is_none() {
            Outcome::Skip(NO_IDENTITY.to_owned())
        } else if let (true, Err(e)) = (case.needs_simulator, &sim_setup) {
            Outcome::Fail(e.clone())
        } else {
            match &ctx {
                Err(e) => Outcome::Fail(format!("setup: {e}")),
                Ok(ctx) => match tokio::time::timeout(budget, (case.run)(ctx)).await {
                    Ok(Ok(())) => Outcome::Pass,
                    Ok(Err(reason)) => Outcome::Fail(reason),
                    Err(_) => {
                        Outcome::Fail(format!("did not finish within {} s", budget.as_secs()))
                    }
                },
            }
        };
        tracing::debug!(case = case.name, ?outcome, "case finished");
        report.cases.push(CaseResult {
            name: case.name,
            outcome,
            duration: started.elapsed(),
        });
    }
    report
}

/// Random faults someone left on the simulator (the README's example, a stopped run) would
/// fail cases for reasons that are not the gateway's, so the suite turns them off and says
/// so. Scripted rules stay: a test rig sets them on purpose to see the suite fail.
async fn clear_random_faults(sim: &simulator::SimAdmin) -> Result<Option<String>, String> {
    let found = sim.faults().await?;
    if found == crate::hlr_sim::admin::Faults::default() {
        return Ok(None);
    }
    sim.put_faults(&crate::hlr_sim::admin::Faults::default())
        .await?;
    let found = serde_json::to_string(&found).unwrap_or_default();
    Ok(Some(format!(
        "the HLR simulator's random faults were on ({found}); the suite turned them off"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sandbox(with_simulator: bool) -> SandboxFile {
        SandboxFile {
            base_url: "https://127.0.0.1:9".into(),
            ca_cert: "/nonexistent/dev-ca.pem".into(),
            tenant: "sandbox".into(),
            plmn: "00101".into(),
            api_key: "sk_sandbox_x".into(),
            physical_iccids: vec!["89860099000000000001".into()],
            product: "sandbox-basic".into(),
            hlr_simulator: with_simulator.then(|| SimulatorInfo {
                url: "https://127.0.0.1:9/CAI3G1.2/services/CAI3G1.2".into(),
                admin: "https://127.0.0.1:9/sim/".into(),
            }),
            metrics_url: None,
            markets: Default::default(),
            porting_simulator: None,
            identity_simulator: None,
        }
    }

    #[tokio::test]
    async fn without_a_simulator_fault_cases_are_skipped() {
        let cfg = SuiteConfig::new(sandbox(false));
        let report = run(&cfg).await;
        for name in [
            "resilience.transient_faults",
            "compensation.permanent_fault",
        ] {
            assert_eq!(
                report.case(name).map(|c| &c.outcome),
                Some(&Outcome::Skip(NO_SIMULATOR.into()))
            );
        }
        // Without market tenants in sandbox.json, the compliance cases are skipped.
        let compliance: Vec<_> = report
            .cases
            .iter()
            .filter(|c| c.name.starts_with("compliance."))
            .collect();
        assert_eq!(compliance.len(), 9);
        assert!(
            compliance
                .iter()
                .all(|c| c.outcome == Outcome::Skip(NO_MARKET.into())),
            "{compliance:?}"
        );
    }

    #[tokio::test]
    async fn without_an_identity_simulator_its_case_is_skipped() {
        let mut sb = sandbox(false);
        sb.markets.insert(
            "cn".into(),
            config::MarketTenant {
                tenant: "sandbox-cn".into(),
                api_key: "sk_cn_x".into(),
                physical_iccids: vec!["89860099000000000001".into()],
                product: "cn-basic".into(),
            },
        );
        let mut cfg = SuiteConfig::new(sb);
        cfg.filter = Some("compliance.second_verification".into());
        let report = run(&cfg).await;
        assert_eq!(
            report
                .cases
                .iter()
                .map(|c| (c.name, &c.outcome))
                .collect::<Vec<_>>(),
            [(
                "compliance.second_verification_by_the_verifier",
                &Outcome::Skip(NO_IDENTITY.into())
            )]
        );
    }

    #[tokio::test]
    async fn setup_failure_fails_every_runnable_case_and_the_filter_selects() {
        let mut cfg = SuiteConfig::new(sandbox(true));
        cfg.filter = Some("ops.".into());
        let report = run(&cfg).await;
        let names: Vec<&str> = report.cases.iter().map(|c| c.name).collect();
        assert_eq!(
            names,
            ["ops.healthz", "ops.readyz", "ops.metrics", "ops.openapi"]
        );
        assert!(!report.passed());
        for c in &report.cases {
            assert!(
                matches!(&c.outcome, Outcome::Fail(r) if r.starts_with("setup:") && r.contains("dev-ca.pem")),
                "{c:?}"
            );
        }
    }

    #[test]
    fn every_case_is_listed() {
        assert_eq!(case_names().len(), 39);
        assert_eq!(case_names()[0], "ops.healthz");
    }
}

//! The black-box conformance suite against an in-process sandbox: it passes on a correct
//! gateway, its JUnit output is well-formed, and it fails when the HLR refuses everything.

use conformance::hlr_sim::{Action, FaultKind, Operation, Rule};
use conformance::suite::{self, Outcome, Report, SuiteConfig, read_junit};
use gateway::config::Config;
use gateway::sandbox::Sandbox;
use std::time::Duration;

fn config(dir: &std::path::Path) -> Config {
    let mut c = Config {
        data_dir: dir.to_owned(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..Config::default()
    };
    c.sandbox.physical_sims = 40;
    c.sandbox.numbers = 200;
    // Short retry delays keep the transient-fault case fast; the contract is unchanged.
    c.engine.backoff_base_ms = 20;
    c.engine.backoff_max_ms = 200;
    c
}

async fn start(dir: &std::path::Path) -> (Sandbox, SuiteConfig) {
    let sb = gateway::sandbox::start(config(dir)).await.expect("sandbox");
    // The suite reads sandbox.json from disk, as a carrier's pipeline would.
    let cfg = SuiteConfig::from_file(&sb.file).expect("sandbox.json");
    (sb, cfg)
}

fn outcome<'a>(report: &'a Report, name: &str) -> &'a Outcome {
    &report
        .case(name)
        .unwrap_or_else(|| panic!("{name} did not run:\n{report}"))
        .outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suite_passes_against_the_sandbox_and_writes_valid_junit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (sb, cfg) = start(dir.path()).await;
    let report = suite::run(&cfg).await;
    println!("{report}");
    assert!(report.passed(), "conformance failures:\n{report}");
    assert_eq!(
        report.cases.len(),
        suite::case_names().len(),
        "every case ran:\n{report}"
    );
    assert_eq!(
        report.skipped(),
        0,
        "the sandbox has a simulator:\n{report}"
    );

    let junit = read_junit(&report.to_junit_xml()).expect("well-formed JUnit");
    assert_eq!(
        (junit.tests, junit.failures, junit.skipped),
        (report.cases.len(), 0, 0)
    );
    let names: Vec<&str> = junit.cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, suite::case_names());

    // A second run on the same gateway passes too: SIMs the first run used are passed
    // over (sim_not_available) and idempotency keys do not collide.
    let mut again = cfg.clone();
    again.filter = Some("activation.".into());
    let report = suite::run(&again).await;
    assert!(report.passed(), "second run:\n{report}");
    sb.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suite_fails_when_the_hlr_refuses_every_create() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (sb, mut cfg) = start(dir.path()).await;
    // Only creates are refused: a refused Login is retried (it says nothing about the
    // subscriber), and compensation must still be able to log in and clean up.
    cfg.timeout = Duration::from_secs(5);
    sb.hlr_sim
        .as_ref()
        .expect("embedded simulator")
        .push_rule(Rule {
            op: Some(Operation::Create),
            ..Rule::any(Action::Fault(FaultKind::External), 1000)
        });
    let report = suite::run(&cfg).await;
    println!("{report}");
    assert!(!report.passed(), "the suite must fail:\n{report}");
    match outcome(&report, "activation.physical_reaches_active") {
        Outcome::Fail(r) => assert!(r.contains("hlr_rejected"), "reason: {r}"),
        other => panic!("expected a failure, got {other:?}:\n{report}"),
    }
    // Checks that never reach the HLR are unaffected.
    for name in ["ops.healthz", "auth.missing_key", "input.unknown_iccid"] {
        assert_eq!(outcome(&report, name), &Outcome::Pass, "{report}");
    }
    let junit = read_junit(&report.to_junit_xml()).expect("well-formed JUnit");
    assert_eq!(junit.failures, report.failed());
    assert!(junit.cases.iter().any(|c| {
        c.name == "activation.physical_reaches_active"
            && c.failure
                .as_deref()
                .is_some_and(|m| m.contains("hlr_rejected"))
    }));
    sb.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suite_turns_off_random_faults_it_finds_left_on_and_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (sb, mut cfg) = start(dir.path()).await;
    cfg.timeout = Duration::from_secs(20);
    cfg.filter = Some("activation.physical_reaches_active".into());
    // As the README's fault example leaves it: every provisioning request answered busy.
    let sim = sb.hlr_sim.as_ref().expect("embedded simulator");
    sim.set_faults(conformance::hlr_sim::FaultConfig {
        busy: 1.0,
        ..Default::default()
    })
    .expect("faults");
    let report = suite::run(&cfg).await;
    assert!(report.passed(), "{report}");
    assert_eq!(report.notes.len(), 1, "{report}");
    assert!(report.notes[0].contains("\"busy\":1.0"), "{report}");
    assert_eq!(sim.faults().busy, 0.0);
    sb.gateway.shutdown().await;
}

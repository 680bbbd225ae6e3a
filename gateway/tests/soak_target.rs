//! `simgw soak --target` (issue 14, the carrier kit): the soak against a deployment it did
//! not start. A `simgw serve --sandbox` child with stock for the run stands for a
//! carrier's staging gateway; the soak gets nothing but its `sandbox.json`. Mixed orders of
//! every kind under the standard faults (set through the simulators' admin APIs) all end,
//! every key sent again answers its own order, and the reconciliation of every tenant,
//! through `POST /v1/reconciliations` with each tenant's operator key, finds nothing.
//! The same soak runs against a sandbox on a private PostgreSQL (issue 11): every order
//! kind, under the same faults, on the second store backend.

mod common;

use common::postgres::PgServer;
use common::process::{Simgw, sandbox_json};
use common::soak::{SoakRun, soak_target, total};
use serde_json::Value;
use std::path::Path;

/// A sandbox config as the README gives it for a soak target: stock for the orders and
/// short southbound timeouts and retry pauses; `store`: a `[store]` section, if any.
fn target_config(dir: &Path, orders: u32, store: &str) -> std::path::PathBuf {
    let config = dir.join("target.toml");
    let toml = format!(
        "data_dir = {:?}\nlisten = \"127.0.0.1:0\"\n{store}\
         [engine]\nbackoff_base_ms = 20\nbackoff_max_ms = 250\n\
         [hlr]\ntimeout_ms = 1000\n[esim]\ntimeout_ms = 1000\n[porting_hub]\ntimeout_ms = 1000\n\
         [sandbox]\nphysical_sims = {}\nesim_profiles = {}\nnumbers = {}\n",
        dir.join("target"),
        orders + 20,
        orders + 20,
        2 * orders + 200,
    );
    std::fs::write(&config, toml).expect("config");
    config
}

/// Runs `simgw soak --target` with 150 orders of the default mix against the sandbox
/// serving from `dir/target`, and checks what every target run must show.
async fn soak_150(dir: &Path) -> (SoakRun, Value) {
    let sb = sandbox_json(&dir.join("target")).await;
    let file = dir.join("target").join("sandbox.json");
    let (d, f) = (dir.to_owned(), file.clone());
    let run = tokio::task::spawn_blocking(move || {
        let args = [
            "--orders",
            "150",
            "--faults",
            "standard",
            "--concurrency",
            "16",
            "--seed",
            "14",
        ];
        soak_target(&d, &f, &args)
    })
    .await
    .expect("soak");
    check_target_run(&run, &sb);
    (run, sb)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_soak_against_a_running_deployment_ends_every_order_and_reconciles_it_over_its_api() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _gateway = Simgw::serve_sandbox(&target_config(dir.path(), 150, ""), None);
    let (run, sb) = soak_150(dir.path()).await;
    let r = &run.report;
    // The reconciliation came from the API: one report per tenant the file names.
    let rec = &r["reconciliation"];
    let markets = sb["markets"].as_object().map_or(0, |m| m.len());
    let reports = rec["reports"].as_array().expect("reports");
    assert_eq!(reports.len(), 1 + markets, "{rec}");
    assert_eq!(reports[0]["tenant"], sb["tenant"]);
    assert!(
        reports
            .iter()
            .all(|p| p["id"].as_str().is_some_and(|i| i.starts_with("rec_")))
    );
    println!("{}", run.output);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_soak_against_a_sandbox_on_postgresql_ends_every_order_and_reconciles_clean() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pg = PgServer::start().unwrap_or_else(|e| panic!("{e}"));
    let url = pg.create_db("soak").await.expect("database");
    let store = format!("[store]\nbackend = \"postgres\"\nurl = {url:?}\npool_size = 8\n");
    let _gateway = Simgw::serve_sandbox(&target_config(dir.path(), 150, &store), None);
    let (run, _) = soak_150(dir.path()).await;
    assert!(
        !dir.path().join("target").join("simgw.redb").exists(),
        "the sandbox kept its orders in PostgreSQL, not in an embedded store"
    );
    println!("{}", run.output);
}

/// What every run against a target shows: passed; every kind of the mix sent, every
/// accepted order ended; faults injected; every key answered its own order; the
/// reconciliation of every tenant, through the API, clean.
fn check_target_run(run: &SoakRun, sb: &Value) {
    let r = &run.report;
    assert!(run.passed, "simgw soak --target failed:\n{}", run.output);
    assert_eq!(r["passed"], true, "{}", run.output);
    assert_eq!(
        (&r["mode"], &r["target"]),
        (&"target".into(), &sb["base_url"])
    );

    // Every kind of the default mix sent something, and every accepted order ended.
    let kinds = r["kinds"].as_object().expect("kinds");
    let mix = r["mix"].as_object().expect("mix");
    for kind in mix.keys() {
        let k = &kinds[kind];
        assert!(k["sent"].as_u64() > Some(0), "no {kind}:\n{}", run.output);
        assert_eq!(k["open"], 0, "{kind}");
        assert_eq!(total(&k["outcomes"]), k["accepted"].as_u64().unwrap_or(0));
    }
    assert_eq!(r["out_of_stock"], 0, "the target had stock for the run");
    let injected: u64 = r["injected"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(_, f)| total(f))
        .sum();
    assert!(
        injected > 0,
        "the faults were set through the admin APIs: {}",
        r["injected"]
    );

    // Every key was sent again and answered its own order; the store was not listed, and
    // the report says so.
    let keys = &r["keys"];
    assert!(keys["accepted"].as_u64() > Some(0));
    assert_eq!(keys["replayed_same"], keys["accepted"], "{keys}");
    assert_eq!(keys["replay_mismatches"], Value::Array(Vec::new()));
    assert_eq!(keys["store_orders"], Value::Null);
    let not_checked = r["not_checked"].as_array().expect("not_checked");
    assert_eq!(not_checked.len(), 1, "{not_checked:?}");
    assert!(
        not_checked[0]
            .as_str()
            .unwrap_or("")
            .contains("not checked against a target")
    );

    let rec = &r["reconciliation"];
    assert_eq!(rec["source"], "api", "{rec}");
    assert_eq!(
        (&rec["clean"], &rec["differences"]),
        (&true.into(), &0.into()),
        "{rec}"
    );
    assert!(rec["checked"]["lines"].as_u64() > Some(0), "{rec}");
}

#[test]
fn a_target_with_a_crash_loop_or_a_data_dir_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("sandbox.json");
    for (extra, says) in [
        (
            ["--crash-loop", "3"],
            "--target cannot go with --crash-loop",
        ),
        (["--data-dir", "d"], "--target cannot go with --data-dir"),
    ] {
        let run = soak_target(dir.path(), &file, &extra);
        assert!(!run.passed);
        assert!(run.output.contains(says), "{}", run.output);
        assert!(!dir.path().join("d").exists(), "no data dir made");
    }
}

//! The offline admin commands as a user runs them: tenant, API key and number block, then a
//! plain (non-sandbox) `simgw serve` that accepts the new key.

mod common;

use adapters::http::HttpClient;
use common::cli::simgw;
use conformance::hlr_sim::{self, HlrSimConfig};
use gateway::store::StoreAdmin;
use std::process::{Command, Stdio};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands_then_serve_with_the_issued_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let out = simgw(
        &[
            "tenant",
            "put",
            "--id",
            "mvno1",
            "--name",
            "MVNO One",
            "--plmn",
            "46011",
            "--product",
            "basic=12",
        ],
        &data,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = simgw(&["apikey", "create", "--tenant", "nobody"], &data);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not exist"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = simgw(
        &[
            "apikey",
            "create",
            "--tenant",
            "mvno1",
            "--label",
            "store-chain",
        ],
        &data,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(key.starts_with("sk_mvno1_"), "{key}");
    let out = simgw(
        &[
            "numbers",
            "add",
            "--tenant",
            "mvno1",
            "--first",
            "8617050000000",
            "--count",
            "100",
        ],
        &data,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = simgw(
        &[
            "numbers",
            "add",
            "--tenant",
            "mvno1",
            "--first",
            "8617050000050",
            "--count",
            "10",
        ],
        &data,
    );
    assert!(!out.status.success(), "overlapping block must be refused");

    let sim = hlr_sim::start({
        let mut c = HlrSimConfig::new("gw", "pw");
        c.listen = "127.0.0.1:0".parse().expect("addr");
        c
    })
    .await
    .expect("simulator");
    let port = common::free_port();
    let mut serve = Command::new(env!("CARGO_BIN_EXE_simgw"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--hlr",
            &sim.url(),
            "--data-dir",
        ])
        .arg(&data)
        .env("SIMGW_HLR_PASSWORD", "pw")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let ca = data.join("tls").join("dev-ca.pem");
    let mut answered = None;
    for _ in 0..500 {
        if let Ok(pem) = std::fs::read(&ca) {
            let http = HttpClient::builder()
                .add_root_pem(&pem)
                .request_timeout(Duration::from_secs(5))
                .build()
                .expect("client");
            if let Ok(r) = http
                .get(
                    &format!("https://127.0.0.1:{port}/v1/activations/act_none"),
                    &[("authorization", format!("Bearer {key}"))],
                )
                .await
            {
                answered = Some(r.status);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // While serve holds the store, offline commands refuse with a clear message.
    let busy = simgw(
        &[
            "numbers",
            "add",
            "--tenant",
            "mvno1",
            "--first",
            "8617060000000",
            "--count",
            "1",
        ],
        &data,
    );
    let _ = serve.kill();
    let _ = serve.wait();
    assert_eq!(
        answered,
        Some(404),
        "the issued key authenticates (404 for an unknown order, not 401)"
    );
    assert!(!busy.status.success());
    assert!(
        String::from_utf8_lossy(&busy.stderr).contains("in use by a running simgw"),
        "{}",
        String::from_utf8_lossy(&busy.stderr)
    );
}

#[test]
fn inventory_import_cli_is_whole_or_nothing_and_idempotent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let fixtures = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let out = simgw(
        &[
            "tenant",
            "put",
            "--id",
            "mvno2",
            "--name",
            "MVNO Two",
            "--plmn",
            "00101",
            "--product",
            "basic=12",
        ],
        &data,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let import = |file: &str| {
        Command::new(env!("CARGO_BIN_EXE_simgw"))
            .args([
                "inventory",
                "import",
                "--tenant",
                "mvno2",
                "--format",
                "vendor-out",
            ])
            .arg(fixtures.join(file))
            .arg("--data-dir")
            .arg(&data)
            .output()
            .expect("run simgw")
    };
    let bad = import("bad.out");
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("3 line(s) rejected; nothing was imported")
            && err.contains("line 6: IMSI is outside the tenant PLMN"),
        "{err}"
    );
    let ok = import("example.out");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("imported 3 cards into `mvno2`"));
    assert!(
        String::from_utf8_lossy(&ok.stderr).contains("import: 100% of the file read"),
        "plain progress lines off a terminal"
    );
    let stdout = String::from_utf8_lossy(&ok.stdout).to_string();
    let batch = stdout
        .split_whitespace()
        .find(|w| w.starts_with("bat_"))
        .expect("batch id")
        .to_owned();
    let run = |args: &[&str]| {
        let out = simgw(args, &data);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let status: serde_json::Value =
        serde_json::from_str(&run(&["inventory", "status", "--tenant", "mvno2"])).expect("json");
    assert_eq!(status["counts"]["sims_available"], 3);
    assert_eq!(status["batches"][&batch]["sims_available"], 3, "{status}");
    let sim: serde_json::Value =
        serde_json::from_str(&run(&["inventory", "lookup", "--imsi", "001010000000102"]))
            .expect("json");
    assert_eq!(
        (sim["iccid"].as_str(), sim["state"].as_str()),
        (Some("8986990999000001021"), Some("available"))
    );
    assert!(
        !sim.to_string().to_ascii_uppercase().contains("97A397BA"),
        "no key in a lookup"
    );
    let csv = run(&["inventory", "export", "--batch", &batch]);
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(run(&["numbers", "quarantine", "--tenant", "mvno2"]).is_empty());
    assert!(
        !simgw(
            &[
                "numbers",
                "release",
                "--tenant",
                "mvno2",
                "--msisdn",
                "8617000000001"
            ],
            &data
        )
        .status
        .success()
    );
    let again = import("example.out");
    assert!(again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("already imported"),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
}

#[test]
fn large_number_blocks_go_in_chunks_and_a_rerun_resumes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let out = simgw(
        &[
            "tenant", "put", "--id", "big", "--name", "Big", "--plmn", "00101",
        ],
        &data,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let add = |first: &str, count: &str, block: &str| {
        simgw(
            &[
                "numbers", "add", "--tenant", "big", "--first", first, "--count", count, "--block",
                block,
            ],
            &data,
        )
    };
    let out = add("8617000000000", "150000", "b1");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("150000 numbers added"));
    // The same command again resumes: both chunks are already in.
    let out = add("8617000000000", "150000", "b1");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("0 numbers added")
            && String::from_utf8_lossy(&out.stdout).contains("150000 were already in")
    );
    // The label with another range, or another label over these numbers, is refused.
    assert!(!add("8617000000000", "10", "b1").status.success());
    assert!(!add("8617000100000", "10", "b2").status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_an_import_between_chunks_leaves_the_batch_absent_or_complete() {
    use gateway::store::Store;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let out = simgw(
        &[
            "tenant", "put", "--id", "kill", "--name", "Kill", "--plmn", "00101",
        ],
        &data,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = 60_000u64;
    let file = dir.path().join("big.csv");
    let mut csv = String::from("iccid,imsi,ki,opc\n");
    for i in 0..rows {
        let iccid = sim_profiles::Iccid::from_payload(&format!("898699088{i:09}")).expect("iccid");
        csv.push_str(&format!(
            "{iccid},00101{:010},{:032x},{:032x}\n",
            7_000_000 + i,
            i * 13 + 5,
            i * 17 + 9
        ));
    }
    std::fs::write(&file, csv).expect("write");
    let db = data.join("simgw.redb");
    let initial = std::fs::metadata(&db).expect("db").len();
    let mut child = Command::new(env!("CARGO_BIN_EXE_simgw"))
        .args(["inventory", "import", "--tenant", "kill", "--format", "csv"])
        .arg(&file)
        .arg("--data-dir")
        .arg(&data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    // Kill once at least one chunk is on disk (the file has grown), or when it finished.
    let mut killed_mid_run = false;
    for _ in 0..6_000 {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0) > initial + (1 << 20) {
            child.kill().expect("SIGKILL");
            killed_mid_run = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _ = child.wait();
    // "Restart": open the store as the gateway does at start, which rolls back unfinished imports.
    let store = gateway::store::embedded::RedbStore::open(
        &data,
        16,
        64,
        std::sync::Arc::new(gateway::metrics::Metrics::default()),
    )
    .expect("open");
    let rolled_back = store.recover_imports().await.expect("recover");
    eprintln!("killed mid-run: {killed_mid_run}, batches rolled back: {rolled_back}");
    let available = store
        .inventory_counts("kill")
        .await
        .expect("counts")
        .sims_available;
    let on_disk = store
        .available_sims("kill", usize::MAX)
        .await
        .expect("sims")
        .len() as u64;
    assert!(
        available == 0 || available == rows,
        "partial batch visible: {available}"
    );
    assert_eq!(
        on_disk, available,
        "no staged SIM survives outside a complete batch"
    );
    if killed_mid_run && available == 0 {
        assert_eq!(rolled_back, 1, "the unfinished batch was found and removed");
    }
    store.close().await;
    // Importing the file again completes it (or reports it already in).
    let out = Command::new(env!("CARGO_BIN_EXE_simgw"))
        .args(["inventory", "import", "--tenant", "kill", "--format", "csv"])
        .arg(&file)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .expect("import");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = gateway::store::embedded::RedbStore::open(
        &data,
        16,
        64,
        std::sync::Arc::new(gateway::metrics::Metrics::default()),
    )
    .expect("open");
    assert_eq!(
        store
            .inventory_counts("kill")
            .await
            .expect("counts")
            .sims_available,
        rows
    );
    store.close().await;
}

//! Several `simgw` nodes on one PostgreSQL database, as processes: a private PostgreSQL
//! (`common::postgres`), a CAI3G HLR simulator in this test process (so its state outlives
//! any node), and two `simgw serve` nodes sharing the database and the data key, each
//! with its own listener and TLS. The database decides who gets a SIM, a number or an
//! idempotency key; the orders a killed node acknowledged are finished by the other
//! once their lease lapses.

mod common;

use adapters::http::HttpClient;
use bytes::Bytes;
use common::cli::simgw_config;
use common::free_port;
use common::postgres::PgServer;
use conformance::hlr_sim::{self, FaultConfig, HlrSimConfig, HlrSimHandle};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Lease of an order: how long after a node's death its orders wait for another node.
const LEASE_MS: u64 = 2_000;
const TENANT: &str = "mvno";

/// A child process, killed and reaped on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A `simgw serve` node, killed on drop.
struct Node {
    proc: Proc,
    http: HttpClient,
    base: String,
}

/// One database, one data key, the HLR simulator, the tenant's key and inventory.
struct Cluster {
    dir: tempfile::TempDir,
    _pg: PgServer,
    url: String,
    hlr: HlrSimHandle,
    key: String,
    iccids: Vec<String>,
}

impl Cluster {
    /// Seeds `sims` cards and `numbers` numbers through the CLI, as an operator would.
    async fn start(sims: usize, numbers: u64) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let pg = PgServer::start().unwrap_or_else(|e| panic!("{e}"));
        let url = pg.create_db("simgw").await.expect("database");
        let hlr = hlr_sim::start({
            let mut c = HlrSimConfig::new("gw", "pw");
            c.listen = "127.0.0.1:0".parse().expect("addr");
            c
        })
        .await
        .expect("HLR simulator");
        let mut cluster = Self {
            dir,
            _pg: pg,
            url,
            hlr,
            key: String::new(),
            iccids: Vec::new(),
        };
        let admin = cluster.config("admin", 0);
        let run = |args: &[&str]| {
            let out = simgw_config(args, &admin);
            assert!(
                out.status.success(),
                "simgw {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).trim().to_owned()
        };
        run(&["db", "migrate"]);
        run(&[
            "tenant",
            "put",
            "--id",
            TENANT,
            "--name",
            "MVNO",
            "--plmn",
            "00101",
            "--product",
            "basic=1",
        ]);
        cluster.key = run(&["apikey", "create", "--tenant", TENANT, "--role", "operator"]);
        let count = numbers.to_string();
        run(&[
            "numbers",
            "add",
            "--tenant",
            TENANT,
            "--first",
            "8613900000000",
            "--count",
            &count,
        ]);
        let file = cluster.dir.path().join("sims.csv");
        let mut csv = String::from("iccid,imsi,ki,opc\n");
        for i in 0..sims {
            let iccid =
                sim_profiles::Iccid::from_payload(&format!("898600101{i:09}")).expect("iccid");
            csv.push_str(&format!(
                "{iccid},00101{:010},{:032x},{:032x}\n",
                5_000_000 + i,
                i * 7 + 3,
                i * 11 + 1
            ));
            cluster.iccids.push(iccid.to_string());
        }
        std::fs::write(&file, csv).expect("csv");
        let path = file.to_string_lossy().into_owned();
        run(&[
            "inventory",
            "import",
            "--tenant",
            TENANT,
            "--format",
            "csv",
            &path,
        ]);
        cluster
    }

    /// The configuration file of node `name` (its own data dir and listener, the shared
    /// database and data key), with no metrics listener.
    fn config(&self, name: &str, port: u16) -> PathBuf {
        self.config_with_metrics(name, port, None)
    }

    /// [`Self::config`], with the metrics listener on `metrics` if given.
    fn config_with_metrics(&self, name: &str, port: u16, metrics: Option<u16>) -> PathBuf {
        let root = self.dir.path();
        let file = root.join(format!("{name}.toml"));
        let toml = format!(
            "data_dir = {data:?}\nlisten = \"127.0.0.1:{port}\"\n\
             [keys]\ndata_key_file = {key:?}\n\
             [store]\nbackend = \"postgres\"\nurl = {url:?}\nnode_id = {name:?}\nlease_ms = {LEASE_MS}\n\
             [hlr]\nuser = \"gw\"\ntimeout_ms = 10000\n\
             [engine]\nbackoff_base_ms = 20\nbackoff_max_ms = 200\n\
             [metrics]\nlisten = {metrics:?}\n",
            data = root.join(name).join("data"),
            key = root.join("data-key"),
            url = self.url,
            metrics = metrics.map_or(String::new(), |p| format!("127.0.0.1:{p}")),
        );
        std::fs::write(&file, toml).expect("config");
        file
    }

    /// Starts node `name` and waits until it answers.
    async fn node(&self, name: &str) -> Node {
        self.node_with_metrics(name, None).await
    }

    /// [`Self::node`], serving its metrics on port `metrics` if given.
    async fn node_with_metrics(&self, name: &str, metrics: Option<u16>) -> Node {
        let port = free_port();
        let config = self.config_with_metrics(name, port, metrics);
        let proc = Proc(
            Command::new(env!("CARGO_BIN_EXE_simgw"))
                .args(["serve", "--config"])
                .arg(&config)
                .args(["--hlr", &self.hlr.url()])
                .env("SIMGW_HLR_PASSWORD", "pw")
                .env("SIMGW_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("spawn simgw"),
        );
        let ca = self
            .dir
            .path()
            .join(name)
            .join("data")
            .join("tls")
            .join("dev-ca.pem");
        let base = format!("https://127.0.0.1:{port}");
        for _ in 0..2_000 {
            // Until the node has written its CA, the file is absent (or, from a node that
            // wrote it in place, possibly partial): keep polling.
            let http = std::fs::read(&ca).ok().and_then(|pem| {
                HttpClient::builder()
                    .add_root_pem(&pem)
                    .request_timeout(Duration::from_secs(30))
                    .build()
                    .ok()
            });
            if let Some(http) = http {
                if http.get(&format!("{base}/healthz"), &[]).await.is_ok() {
                    return Node { proc, http, base };
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("node {name} never answered");
    }

    fn auth(&self) -> (&'static str, String) {
        ("authorization", format!("Bearer {}", self.key))
    }

    /// POST /v1/activations; the status and body.
    async fn activate(&self, node: &Node, idem: &str, iccid: &str) -> (u16, Value) {
        let r = node
            .http
            .post(
                &format!("{}/v1/activations", node.base),
                &[
                    self.auth(),
                    ("idempotency-key", idem.to_owned()),
                    ("content-type", "application/json".to_owned()),
                ],
                Bytes::from(
                    json!({"sim": {"type": "physical", "iccid": iccid}, "product": "basic"})
                        .to_string(),
                ),
            )
            .await
            .expect("POST");
        (
            r.status,
            serde_json::from_slice(&r.body).unwrap_or(Value::Null),
        )
    }

    /// Polls `node` until order `id` is terminal, at most `within`.
    async fn terminal(&self, node: &Node, id: &str, within: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let r = node
                .http
                .get(&format!("{}/v1/orders/{id}", node.base), &[self.auth()])
                .await
                .expect("GET");
            let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
            if ["active", "failed"].contains(&v["status"].as_str().unwrap_or("")) {
                return v;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "order {id} not terminal within {within:?}: {v}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Every active order's (ICCID, MSISDN) appears once, and the HLR holds exactly the
    /// active lines: no SIM or number twice, no orphan subscriber.
    fn assert_one_owner(&self, finals: &[Value]) {
        let active: Vec<&Value> = finals.iter().filter(|v| v["status"] == "active").collect();
        let mut iccids = BTreeSet::new();
        let mut msisdns = BTreeSet::new();
        for v in &active {
            let iccid = v["iccid"].as_str().expect("iccid").to_owned();
            let msisdn = v["msisdn"].as_str().expect("msisdn").to_owned();
            assert!(iccids.insert(iccid.clone()), "SIM {iccid} active twice");
            assert!(
                msisdns.insert(msisdn.clone()),
                "number {msisdn} active twice"
            );
        }
        let on_hlr: BTreeMap<String, String> = self
            .hlr
            .subscribers()
            .into_iter()
            .map(|s| {
                (
                    s.imsi.to_string(),
                    s.msisdn.map(|m| m.to_string()).unwrap_or_default(),
                )
            })
            .collect();
        let hlr_numbers: BTreeSet<String> = on_hlr.values().cloned().collect();
        assert_eq!(
            on_hlr.len(),
            active.len(),
            "the HLR holds exactly the active lines (no orphan)"
        );
        assert_eq!(
            hlr_numbers, msisdns,
            "the HLR's numbers are the active ones"
        );
    }
}

/// The value of the sample named `series` (with its labels, if any) on a metrics page.
fn sample(page: &str, series: &str) -> Option<f64> {
    page.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_s_metrics_show_its_pool_waits_and_the_sequencer_catching_up() {
    let c = Cluster::start(12, 20).await;
    let port = free_port();
    let a = c.node_with_metrics("node-a", Some(port)).await;
    let url = format!("http://127.0.0.1:{port}/metrics");
    let scrape = async || {
        let r = a.http.get(&url, &[]).await.expect("GET /metrics");
        assert_eq!(r.status, 200);
        String::from_utf8_lossy(&r.body).into_owned()
    };
    let waits = "simgw_store_pool_wait_seconds_count";
    let page = scrape().await;
    let before = sample(&page, waits).unwrap_or_else(|| panic!("{waits} in {page}"));
    let mut ids = Vec::new();
    for (i, iccid) in c.iccids.iter().enumerate().take(10) {
        let (s, v) = c.activate(&a, &format!("m{i}"), iccid).await;
        assert_eq!(s, 202, "{v}");
        ids.push(v["id"].as_str().expect("id").to_owned());
    }
    for id in &ids {
        let v = c.terminal(&a, id, Duration::from_secs(60)).await;
        assert_eq!(v["status"], "active", "{v}");
    }
    // The sequencer numbers the orders' events after their commits: read the page until
    // nothing waits (the task passes every 500 ms, and on each commit of the node).
    let caught_up = [
        "simgw_store_events_unnumbered{log=\"public\"}",
        "simgw_store_events_unnumbered{log=\"audit\"}",
        "simgw_store_events_unnumbered{log=\"compliance_audit\"}",
        "simgw_store_sequencer_lag_seconds",
    ];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let page = loop {
        let page = scrape().await;
        if caught_up.iter().all(|s| sample(&page, s) == Some(0.0)) {
            break page;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the sequencer never caught up: {page}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let after = sample(&page, waits).expect("waits");
    assert!(
        after >= before + ids.len() as f64,
        "a checkout at least per create: {before} then {after}"
    );
    let got = |s: &str| sample(&page, s).unwrap_or_else(|| panic!("{s} in {page}"));
    assert_eq!(
        got("simgw_store_sequencer_lease_held"),
        1.0,
        "the only node"
    );
    assert!(got("simgw_store_sequencer_passes_total{result=\"ok\"}") >= 1.0);
    got("simgw_store_sequencer_passes_total{result=\"failed\"}");
    assert_eq!(got("simgw_store_pool_max_connections"), 16.0, "the default");
    let open = got("simgw_store_pool_connections{state=\"idle\"}")
        + got("simgw_store_pool_connections{state=\"in_use\"}");
    assert!((1.0..=16.0).contains(&open), "{open} open");
    got("simgw_store_pool_waiting");
    assert_eq!(got("simgw_store_pool_timeouts_total"), 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_never_give_a_sim_or_number_twice() {
    let c = Cluster::start(200, 300).await;
    let (a, b) = (c.node("node-a").await, c.node("node-b").await);
    // 500 activations over 200 cards, spread over both nodes: most cards are asked for
    // two or three times at once, through different nodes.
    let mut tasks = Vec::new();
    let c = std::sync::Arc::new(c);
    let nodes = std::sync::Arc::new([a, b]);
    for i in 0..500usize {
        let (c, nodes) = (c.clone(), nodes.clone());
        tasks.push(tokio::spawn(async move {
            let iccid = c.iccids[(i * 37) % c.iccids.len()].clone();
            // A 503 (the database busy past its retry budget) is retried with the same
            // key, as a channel does; the key makes the retry safe.
            let mut answer = (0, Value::Null);
            for _ in 0..20 {
                answer = c.activate(&nodes[i % 2], &format!("k{i}"), &iccid).await;
                if answer.0 != 503 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            answer
        }));
    }
    let mut accepted = Vec::new();
    for t in tasks {
        let (status, body) = t.await.expect("task");
        match status {
            202 => accepted.push(body["id"].as_str().expect("id").to_owned()),
            // The card is taken by another order: a business refusal, nothing changed.
            409 | 422 => {}
            s => panic!("unexpected {s}: {body}"),
        }
    }
    assert!(
        accepted.len() >= 150,
        "most cards activated: {}",
        accepted.len()
    );
    let mut finals = Vec::new();
    for id in &accepted {
        finals.push(c.terminal(&nodes[0], id, Duration::from_secs(60)).await);
    }
    c.assert_one_owner(&finals);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_idempotency_key_sent_to_both_nodes_at_once_is_one_order() {
    let c = std::sync::Arc::new(Cluster::start(20, 40).await);
    let nodes = std::sync::Arc::new([c.node("node-a").await, c.node("node-b").await]);
    for i in 0..20usize {
        let key = format!("same-{i}");
        let iccid = c.iccids[i].clone();
        let both: Vec<_> = (0..2)
            .map(|n| {
                let (c, nodes, key, iccid) = (c.clone(), nodes.clone(), key.clone(), iccid.clone());
                tokio::spawn(async move { c.activate(&nodes[n], &key, &iccid).await })
            })
            .collect();
        let mut ids = BTreeSet::new();
        for t in both {
            let (status, body) = t.await.expect("task");
            assert!(status == 202 || status == 200, "{status}: {body}");
            ids.insert(body["id"].as_str().expect("id").to_owned());
        }
        assert_eq!(
            ids.len(),
            1,
            "key {key}: one order, named by both nodes: {ids:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_node_s_orders_are_finished_by_the_other_within_the_lease() {
    let c = std::sync::Arc::new(Cluster::start(120, 200).await);
    // Slow HLR answers keep orders in flight when the node dies.
    c.hlr
        .set_faults(FaultConfig {
            latency: Duration::from_millis(300),
            ..FaultConfig::default()
        })
        .expect("faults");
    let a = c.node("node-a").await;
    let b = c.node("node-b").await;
    let mut on_a = Vec::new();
    for i in 0..60usize {
        let (s, v) = c.activate(&a, &format!("a{i}"), &c.iccids[i]).await;
        assert_eq!(s, 202, "{v}");
        on_a.push(v["id"].as_str().expect("id").to_owned());
    }
    let mut on_b = Vec::new();
    for i in 60..120usize {
        let (s, v) = c.activate(&b, &format!("b{i}"), &c.iccids[i]).await;
        assert_eq!(s, 202, "{v}");
        on_b.push(v["id"].as_str().expect("id").to_owned());
    }
    // SIGKILL node A with most of its acknowledged orders still in flight.
    let mut a = a;
    a.proc.0.kill().expect("SIGKILL");
    a.proc.0.wait().expect("reap");
    let within = Duration::from_millis(LEASE_MS) + Duration::from_secs(10);
    let mut finals = Vec::new();
    for id in on_a.iter().chain(&on_b) {
        finals.push(c.terminal(&b, id, within).await);
    }
    assert!(
        finals.iter().all(|v| v["status"] == "active"),
        "every acknowledged order completed"
    );
    c.assert_one_owner(&finals);
}

/// `simgw bench --store postgres --nodes 2`: the two-node phase runs a second node on the
/// same database beside the sandbox's, and every one of its orders ends `active` (the
/// bench fails a run that leaves one open); the JSON report has the phase with both
/// nodes' figures. `--nodes 2` without PostgreSQL is refused before anything starts.
/// The run also sets one of its server's settings with `--pg-set`.
#[test]
fn the_two_node_bench_ends_every_order_on_one_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("bench.json");
    let bench = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_simgw"))
            .args(["bench", "--activations", "40", "--concurrency", "8"])
            .args(["--baseline-requests", "50"])
            .args(extra)
            .env("SIMGW_LOG", "error")
            .output()
            .expect("simgw bench")
    };
    let refused = bench(&["--nodes", "2"]);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("--nodes 2 needs --store postgres"), "{said}");

    let data = dir.path().join("data");
    let out = bench(&[
        "--store",
        "postgres",
        "--nodes",
        "2",
        // A setting over the bench's own (its server would not start with a wrong one).
        "--pg-set",
        "shared_buffers=16MB",
        "--data-dir",
        data.to_str().expect("utf-8"),
        "--json",
        json.to_str().expect("utf-8"),
    ]);
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{printed}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(printed.contains("two nodes / one node:"), "{printed}");
    let report: Value =
        serde_json::from_slice(&std::fs::read(&json).expect("report")).expect("JSON report");
    let phases = report["phases"].as_array().expect("phases");
    let names: Vec<&str> = phases.iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["embedded", "postgres", "postgres_2_nodes"]);
    for p in phases {
        assert_eq!(
            (&p["accepted"], &p["succeeded"]),
            (&40.into(), &40.into()),
            "{p}"
        );
        assert_eq!(p["open"], 0, "{p}");
    }
}

//! Reconciliation end to end over real sockets: the gateway and the CAI3G HLR simulator.
//! Lines are activated, then changed behind the gateway's back through the simulator's
//! admin API (one subscriber deleted, an orphan added on an unassigned card, one number
//! changed); `POST /v1/reconciliations` and the offline `simgw reconcile` find exactly
//! those; `--repair --apply` fixes the two safe kinds; the wrong number is left to an
//! operator (never repaired).

mod common;

use bytes::Bytes;
use common::cli::simgw_config;
use common::{Harness, TENANT};
use conformance::hlr_sim::{Action, Operation, Rule};
use gateway::admin;
use gateway::store::Role;
use http::Method;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

async fn mint(h: &Harness, role: Role) -> String {
    let (key, change) =
        admin::new_api_key(&h.gw().keys, TENANT, role, "reconcile-test", 0).expect("key");
    admin::apply(h.gw().store.as_ref(), change)
        .await
        .expect("store key");
    key
}

/// `POST /v1/reconciliations` with `key` (none: no Authorization header).
async fn reconcile_online(h: &Harness, key: Option<&str>) -> (u16, String, Value) {
    let headers: Vec<(&str, String)> = key
        .map(|k| vec![("authorization", format!("Bearer {k}"))])
        .unwrap_or_default();
    let url = format!("{}/v1/reconciliations", h.base);
    let r = h.client.post(&url, &headers, Bytes::new()).await;
    common::parts(r.expect("request"))
}

/// A change behind the gateway's back, through the simulator's admin API.
async fn sim_admin(h: &Harness, method: Method, path: &str, body: Value) {
    let url = format!("http://{}/sim/subscribers/{path}", h.sim.addr());
    let body = if body.is_null() {
        Bytes::new()
    } else {
        Bytes::from(body.to_string())
    };
    let headers = [("content-type", "application/json".to_owned())];
    let r = h
        .client
        .request(method, &url, &headers, body)
        .await
        .expect("admin call");
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
}

/// Each difference as (kind, imsi), sorted.
fn found(report: &Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = report["details"]
        .as_array()
        .expect("details")
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().expect("kind").to_owned(),
                d["imsi"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

fn pair(kind: &str, imsi: &str) -> (String, String) {
    (kind.to_owned(), imsi.to_owned())
}

fn write_config(h: &Harness, dir: &Path) -> std::path::PathBuf {
    let path = dir.join("reconcile.toml");
    let text = format!(
        "data_dir = {:?}\n[hlr]\nurl = \"{}\"\nuser = \"gw\"\npassword = \"secret-pw\"\ntimeout_ms = 5000\n",
        h.dir.path(),
        h.sim.url()
    );
    std::fs::write(&path, text).expect("config");
    path
}

/// Runs `simgw reconcile <extra> --json FILE --config CONFIG`: exit status, stdout, report.
fn reconcile_offline(config: &Path, json: &Path, extra: &[&str]) -> (bool, String, Value) {
    let mut args = vec!["reconcile", "--json", json.to_str().expect("utf-8")];
    args.extend_from_slice(extra);
    let out = simgw_config(&args, config);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report: Value = serde_json::from_slice(&std::fs::read(json).expect("report written"))
        .unwrap_or_else(|e| panic!("report: {e}\n{stdout}\n{stderr}"));
    assert!(
        !stdout.contains(&hex(&common::card(4).ki)),
        "no key in the output"
    );
    (out.status.success(), stdout, report)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_finds_what_changed_behind_the_gateways_back_and_repairs_the_safe_kinds() {
    let mut h = Harness::start(6).await;
    let mut lines = Vec::new();
    for i in 0..3 {
        lines.push(h.activate(i).await);
    }
    let operator = h.api_key.clone();

    // Agreement first: clean, every line and unassigned card of the tenant checked.
    let (status, _, report) = reconcile_online(&h, Some(&operator)).await;
    assert_eq!(status, 201, "{report}");
    assert_eq!(report["differences"], 0, "{report}");
    assert_eq!(report["clean"], true, "{report}");
    assert_eq!(report["tenant"], TENANT);
    assert_eq!(report["hlr"], "cai3g");
    assert_eq!(report["profile_status"], Value::Null);
    assert_eq!(
        report["checked"],
        json!({"lines": 3, "esim_profiles": 0, "imsis_probed": 3})
    );
    assert!(report["id"].as_str().expect("id").starts_with("rec_"));

    // Roles: only operator keys; no key is 401.
    for role in [Role::Readonly, Role::Channel] {
        let key = mint(&h, role).await;
        let (status, ct, body) = reconcile_online(&h, Some(&key)).await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(ct, "application/problem+json");
        assert_eq!(body["code"], "forbidden_for_role");
    }
    let (status, _, body) = reconcile_online(&h, None).await;
    assert_eq!(status, 401, "{body}");

    // One at a time: while one waits on a slow HLR query, a second is refused.
    h.sim.push_rule(Rule {
        op: Some(Operation::Get),
        kind: None,
        action: Action::Delay(Duration::from_secs(2)),
        times: 1,
    });
    let delayed = h.sim.counts().injected.delay;
    let first = {
        let client = h.client.clone();
        let url = format!("{}/v1/reconciliations", h.base);
        let headers = vec![("authorization", format!("Bearer {operator}"))];
        tokio::spawn(async move { client.post(&url, &headers, Bytes::new()).await })
    };
    while h.sim.counts().injected.delay == delayed {
        tokio::task::yield_now().await;
    }
    let (status, _, body) = reconcile_online(&h, Some(&operator)).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "reconciliation_running");
    let first = first.await.expect("task").expect("first reconciliation");
    assert_eq!(first.status, 201);

    // Behind the gateway's back: line 0's subscriber deleted, an orphan on unassigned
    // card 4 (with its own keys, as a lost compensation would leave it), line 1's number
    // changed.
    let imsi = |i: usize| h.cards[i].imsi.clone();
    sim_admin(&h, Method::DELETE, &imsi(0), Value::Null).await;
    let orphan = json!({"msisdn": "8613899999999", "profile_id": common::PROFILE_ID,
                        "ki": hex(&h.cards[4].ki)});
    sim_admin(&h, Method::PUT, &imsi(4), orphan).await;
    sim_admin(
        &h,
        Method::PUT,
        &format!("{}/msisdn", imsi(1)),
        json!({"msisdn": "8613899999998"}),
    )
    .await;

    let expected = vec![
        pair("missing_on_hlr", &imsi(0)),
        pair("orphan_on_hlr", &imsi(4)),
        pair("wrong_msisdn", &imsi(1)),
    ];
    let (status, _, report) = reconcile_online(&h, Some(&operator)).await;
    assert_eq!(status, 201, "{report}");
    assert_eq!(report["differences"], 3, "{report}");
    assert_eq!(report["clean"], false);
    assert_eq!(found(&report), expected, "{report}");
    let wrong = report["details"]
        .as_array()
        .expect("details")
        .iter()
        .find(|d| d["kind"] == "wrong_msisdn")
        .expect("wrong_msisdn");
    assert_eq!(wrong["expected"], lines[1].as_str());
    assert_eq!(wrong["found"], "8613899999998");
    assert_eq!(wrong.get("repair"), None, "no safe fix for a wrong number");
    assert_eq!(report["by_kind"]["missing_on_hlr"], 1);
    assert_eq!(report["by_kind"]["double_assignment"], 0);

    // Offline: the same findings, exit 1.
    h.gw.take().expect("gateway").shutdown().await;
    let work = tempfile::tempdir().expect("tempdir");
    let config = write_config(&h, work.path());
    let json_path = work.path().join("report.json");
    let (ok, stdout, report) = reconcile_offline(&config, &json_path, &[]);
    assert!(!ok, "differences exit 1:\n{stdout}");
    assert_eq!(report["tenant"], Value::Null, "every tenant");
    assert_eq!(found(&report), expected, "{stdout}");
    assert!(stdout.contains("3 difference(s)"), "{stdout}");
    assert!(stdout.contains("orphan_on_hlr"), "{stdout}");

    // --repair proposes and changes nothing.
    let before = h.sim.subscribers().len();
    let (ok, stdout, _) = reconcile_offline(&config, &json_path, &["--repair"]);
    assert!(!ok);
    assert!(stdout.contains("would reprovision"), "{stdout}");
    assert!(stdout.contains("would remove_orphan"), "{stdout}");
    assert_eq!(h.sim.subscribers().len(), before, "nothing sent");
    assert!(h.sim.hlr(&imsi(0).parse().expect("imsi")).is_none());

    // --repair --apply: line 0 provisioned again, the orphan removed; the wrong number
    // stays for an operator.
    let (ok, stdout, report) = reconcile_offline(&config, &json_path, &["--repair", "--apply"]);
    assert!(!ok, "the wrong number remains:\n{stdout}");
    let repairs: Vec<(String, String)> = report["repairs"]
        .as_array()
        .expect("repairs")
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().expect("kind").to_owned(),
                r["status"].as_str().expect("status").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        repairs,
        vec![pair("reprovision", "done"), pair("remove_orphan", "done")],
        "{stdout}"
    );
    let restored = h
        .sim
        .hlr(&imsi(0).parse().expect("imsi"))
        .expect("line 0 again");
    assert_eq!(restored.msisdn.as_str(), lines[0]);
    assert!(
        h.sim.auc(&imsi(4).parse().expect("imsi")).is_none(),
        "orphan gone"
    );
    assert_eq!(found(&report), vec![pair("wrong_msisdn", &imsi(1))]);

    // Reconcile again: only the non-safe kind.
    let (ok, stdout, report) = reconcile_offline(&config, &json_path, &[]);
    assert!(!ok);
    assert_eq!(
        found(&report),
        vec![pair("wrong_msisdn", &imsi(1))],
        "{stdout}"
    );
    assert_eq!(report["unchecked"], json!([]));
}

/// The same view read from the PostgreSQL store: agreement is clean, a lost subscriber
/// is found (the view's reads are the backend-neutral dump, so both backends agree).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_reads_the_postgres_store_the_same() {
    use gateway::config::{DbUrl, StoreBackend, StoreConfig};
    let pg = common::postgres::PgServer::start().expect("postgres (apt-get install postgresql)");
    let url = pg.create_db("reconcile").await.expect("database");
    let h = Harness::start_with(3, |c| {
        c.store = StoreConfig {
            backend: StoreBackend::Postgres,
            url: Some(DbUrl::new(&url)),
            pool_size: 4,
            ..StoreConfig::default()
        };
    })
    .await;
    h.activate(0).await;
    h.activate(1).await;
    let (status, _, report) = reconcile_online(&h, Some(&h.api_key)).await;
    assert_eq!(status, 201, "{report}");
    assert_eq!(report["clean"], true, "{report}");
    assert_eq!(
        report["checked"],
        json!({"lines": 2, "esim_profiles": 0, "imsis_probed": 1})
    );
    sim_admin(&h, Method::DELETE, &h.cards[1].imsi, Value::Null).await;
    let (_, _, report) = reconcile_online(&h, Some(&h.api_key)).await;
    assert_eq!(
        found(&report),
        vec![pair("missing_on_hlr", &h.cards[1].imsi)],
        "{report}"
    );
}

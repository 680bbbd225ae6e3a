//! kill -9 of a real `simgw` during a physical→physical SIM swap. The gateway runs as its
//! own process (`serve --sandbox` on a data dir) against a CAI3G HLR simulator living in
//! this test process, so the HLR's state survives the gateway's death. A scripted fault
//! makes the HLR apply one chosen request and hold its answer: the swap is then stopped
//! deterministically in the window where the HLR changed but the gateway's record does
//! not say so yet, and the process is killed right there. A restart on the same data dir
//! must finish the order with exactly one subscriber holding the number, the one the
//! order's record names, and retire the old SIM only if the swap completed.
//!
//! The swap's four HLR steps, as CAI3G requests (see `engine/machine/sim_swap.rs` and
//! `adapters/src/cai3g/hlr.rs`): 1. Create GsmAuc (new IMSI); 2. Delete GsmHlr (old IMSI,
//! the number); 3. Create GsmHlr (new IMSI, the number); 4. Delete GsmAuc (old IMSI).

use adapters::http::HttpClient;
use bytes::Bytes;
use conformance::hlr_sim::{
    self, Action, FaultKind, HlrSimConfig, HlrSimHandle, MoKind, Operation, Rule,
};
use serde_json::{Value, json};
use sim_profiles::Imsi;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A `simgw` process, killed on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    /// SIGKILL, and reap it.
    fn kill9(&mut self) {
        self.0.kill().expect("SIGKILL");
        self.0.wait().expect("reap");
    }
}

/// Starts `simgw serve --sandbox` on `dir` against the HLR at `hlr_url`.
fn spawn_gateway(dir: &Path, hlr_url: &str) -> Proc {
    let config = dir.join("simgw.toml");
    // A long HLR timeout so a held answer is still awaited when the process is killed.
    let toml = format!(
        "data_dir = {:?}\nlisten = \"127.0.0.1:0\"\n[hlr]\nuser = \"gw\"\ntimeout_ms = 120000\n[engine]\nbackoff_base_ms = 20\nbackoff_max_ms = 200\n[sandbox]\nphysical_sims = 4\nnumbers = 20\nesim_profiles = 2\n",
        dir.join("data")
    );
    std::fs::write(&config, toml).expect("config");
    let child = Command::new(env!("CARGO_BIN_EXE_simgw"))
        .args(["serve", "--sandbox", "--config"])
        .arg(&config)
        .args(["--hlr", hlr_url])
        .env("SIMGW_HLR_PASSWORD", "pw")
        .env("SIMGW_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn simgw");
    Proc(child)
}

/// Polls (bounded) until `pred` holds; false if it never did.
async fn eventually(mut pred: impl FnMut() -> bool) -> bool {
    for _ in 0..3_000 {
        if pred() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    pred()
}

/// The sandbox's API as its operator key calls it.
struct Api {
    http: HttpClient,
    base: String,
    auth: String,
    sandbox: Value,
}

impl Api {
    /// Waits for the (re)started gateway's `sandbox.json`.
    async fn connect(dir: &Path) -> Self {
        let file = dir.join("data").join("sandbox.json");
        for _ in 0..3_000 {
            let read = std::fs::read(&file)
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
            if let Some(sandbox) = read {
                let ca = std::fs::read(sandbox["ca_cert"].as_str().expect("ca")).expect("ca");
                let http = HttpClient::builder()
                    .add_root_pem(&ca)
                    .request_timeout(Duration::from_secs(10))
                    .build()
                    .expect("client");
                return Self {
                    http,
                    base: sandbox["base_url"].as_str().expect("base").to_owned(),
                    auth: format!("Bearer {}", sandbox["api_key"].as_str().expect("key")),
                    sandbox,
                };
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("sandbox.json never appeared");
    }

    fn iccid(&self, i: usize) -> String {
        self.sandbox["physical_iccids"][i]
            .as_str()
            .expect("iccid")
            .to_owned()
    }

    async fn get(&self, path: &str) -> Value {
        let r = self
            .http
            .get(
                &format!("{}{path}", self.base),
                &[("authorization", self.auth.clone())],
            )
            .await
            .expect("GET");
        assert_eq!(
            r.status,
            200,
            "{path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        serde_json::from_slice(&r.body).expect("json")
    }

    async fn post(&self, path: &str, key: &str, body: &Value) -> Value {
        let r = self
            .http
            .post(
                &format!("{}{path}", self.base),
                &[
                    ("authorization", self.auth.clone()),
                    ("idempotency-key", key.to_owned()),
                    ("content-type", "application/json".to_owned()),
                ],
                Bytes::from(body.to_string()),
            )
            .await
            .expect("POST");
        assert_eq!(
            r.status,
            202,
            "{path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        serde_json::from_slice(&r.body).expect("json")
    }

    /// Polls (bounded) until the order is terminal.
    async fn wait_terminal(&self, id: &str) -> Value {
        let mut last = Value::Null;
        for _ in 0..3_000 {
            last = self.get(&format!("/v1/orders/{id}")).await;
            if ["active", "completed", "failed"].contains(&last["status"].as_str().unwrap_or("")) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("order {id} never finished: {last}");
    }

    /// The IMSI of a card, as the inventory has it.
    async fn imsi_of(&self, iccid: &str) -> Imsi {
        self.get(&format!("/v1/sims/{iccid}")).await["imsi"]
            .as_str()
            .expect("imsi")
            .parse()
            .expect("imsi")
    }
}

/// Where the swap is when the gateway is killed: the HLR applied this step's request and
/// holds the answer, so the order records the step as sent, not done.
#[derive(Clone, Copy, Debug)]
enum Kill {
    /// Step 1: the new IMSI's AUC entry exists; the number is still on the old IMSI.
    NewSubscriberProvisioned,
    /// Step 2: the number is on no IMSI.
    NumberDetached,
    /// Step 3: the number is on the new IMSI; the old one still has its AUC entry.
    NumberAttached,
    /// Step 4: the old IMSI's AUC entry is gone.
    OldSubscriberRemoved,
    /// Step 3 was refused for good, and the compensation's first step (the number back on
    /// the old IMSI) applied; the new IMSI's AUC entry is still there.
    NumberRestored,
}

impl Kill {
    /// The scripted faults, in the order they fire: the last is the request the HLR
    /// applies and never answers.
    fn rules(self) -> Vec<Rule> {
        let hang = |op, kind| Rule::once(op, kind, Action::HangAfterApply);
        match self {
            Self::NewSubscriberProvisioned => vec![hang(Operation::Create, MoKind::GsmAuc)],
            Self::NumberDetached => vec![hang(Operation::Delete, MoKind::GsmHlr)],
            Self::NumberAttached => vec![hang(Operation::Create, MoKind::GsmHlr)],
            Self::OldSubscriberRemoved => vec![hang(Operation::Delete, MoKind::GsmAuc)],
            // The attach is refused; the next GsmHlr create is the compensation's.
            Self::NumberRestored => vec![
                Rule::once(
                    Operation::Create,
                    MoKind::GsmHlr,
                    Action::Fault(FaultKind::Invalid),
                ),
                hang(Operation::Create, MoKind::GsmHlr),
            ],
        }
    }

    /// The order's status, and the list (`steps` or `compensation`) and index of the
    /// step in flight.
    fn in_flight(self) -> (&'static str, &'static str, usize) {
        match self {
            Self::NewSubscriberProvisioned => ("in_progress", "steps", 0),
            Self::NumberDetached => ("in_progress", "steps", 1),
            Self::NumberAttached => ("in_progress", "steps", 2),
            Self::OldSubscriberRemoved => ("in_progress", "steps", 3),
            Self::NumberRestored => ("compensating", "compensation", 0),
        }
    }
}

/// Who holds `msisdn` on the simulated HLR: every IMSI whose subscription has it.
fn holders(sim: &HlrSimHandle, msisdn: &str) -> Vec<Imsi> {
    sim.subscribers()
        .into_iter()
        .filter(|s| s.msisdn.as_ref().is_some_and(|m| m.as_str() == msisdn))
        .map(|s| s.imsi)
        .collect()
}

/// What happens after the restart.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Then {
    /// No further fault: the order runs to its end.
    Resume,
    /// The HLR refuses the next AUC create for good, so the swap fails and is compensated.
    RefuseNextCreate,
}

/// Activates a line, swaps it to another card, kills the gateway at `at`, restarts it
/// and checks the outcome from the HLR's state; returns the terminal order.
async fn swap_killed_at(at: Kill, then: Then) -> Value {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = HlrSimConfig::new("gw", "pw");
    cfg.listen = "127.0.0.1:0".parse().expect("addr");
    let sim = hlr_sim::start(cfg).await.expect("HLR simulator");
    let mut gw = spawn_gateway(dir.path(), &sim.url());
    let api = Api::connect(dir.path()).await;

    let (old_iccid, new_iccid) = (api.iccid(0), api.iccid(1));
    let act = api
        .post(
            "/v1/activations",
            "act",
            &json!({"sim": {"type": "physical", "iccid": old_iccid}, "product": api.sandbox["product"]}),
        )
        .await;
    let act = api.wait_terminal(act["id"].as_str().expect("id")).await;
    assert_eq!(act["status"], "active", "{act}");
    let msisdn = act["msisdn"].as_str().expect("msisdn").to_owned();
    let old_imsi: Imsi = act["imsi"].as_str().expect("imsi").parse().expect("imsi");
    let new_imsi = api.imsi_of(&new_iccid).await;
    assert_eq!(holders(&sim, &msisdn), vec![old_imsi.clone()]);

    for rule in at.rules() {
        sim.push_rule(rule);
    }
    let swap = api
        .post(
            &format!("/v1/subscriptions/{msisdn}/sim-swap"),
            "swap",
            &json!({"sim": {"type": "physical", "iccid": new_iccid}}),
        )
        .await;
    let id = swap["id"].as_str().expect("id").to_owned();

    // Wait until the HLR applied the chosen request (and holds its answer).
    let applied = || match at {
        Kill::NewSubscriberProvisioned => sim.auc(&new_imsi).is_some(),
        Kill::NumberDetached => sim.hlr(&old_imsi).is_none(),
        Kill::NumberAttached => sim.hlr(&new_imsi).is_some(),
        Kill::OldSubscriberRemoved => sim.auc(&old_imsi).is_none(),
        // Applied GsmHlr creates: the activation's, then the compensation's (the refused
        // attach applied nothing).
        Kill::NumberRestored => {
            sim.applied_creates()
                .iter()
                .filter(|c| c.kind == MoKind::GsmHlr)
                .count()
                == 2
        }
    };
    assert!(
        eventually(applied).await,
        "the HLR never applied the step at {at:?}: {:?}",
        sim.subscribers()
    );
    // The record lags the HLR: the step is still in flight, its answer unknown.
    let mid = api.get(&format!("/v1/orders/{id}")).await;
    let (status, list, index) = at.in_flight();
    assert_eq!(mid["status"], status, "{mid}");
    assert_eq!(
        mid[list][index]["state"], "in_progress",
        "killed between the HLR's change and its record: {mid}"
    );
    let on_hlr = holders(&sim, &msisdn);
    match at {
        Kill::NewSubscriberProvisioned | Kill::NumberRestored => {
            assert_eq!(on_hlr, vec![old_imsi.clone()]);
        }
        Kill::NumberDetached => assert!(on_hlr.is_empty(), "the number on no IMSI: {on_hlr:?}"),
        Kill::NumberAttached | Kill::OldSubscriberRemoved => {
            assert_eq!(on_hlr, vec![new_imsi.clone()]);
        }
    }
    gw.kill9();
    drop(gw);

    if then == Then::RefuseNextCreate {
        sim.push_rule(Rule::once(
            Operation::Create,
            MoKind::GsmAuc,
            Action::Fault(FaultKind::Invalid),
        ));
    }
    std::fs::remove_file(dir.path().join("data").join("sandbox.json")).expect("sandbox.json");
    let _gw = spawn_gateway(dir.path(), &sim.url());
    let api = Api::connect(dir.path()).await;
    let done = api.wait_terminal(&id).await;

    // Exactly one subscriber holds the number, and it is the one the record names.
    let holder_iccid = done["msisdn_holder"]
        .as_str()
        .unwrap_or_else(|| panic!("a terminal swap names the number's holder: {done}"))
        .to_owned();
    let holder_imsi = api.imsi_of(&holder_iccid).await;
    assert_eq!(
        holders(&sim, &msisdn),
        vec![holder_imsi.clone()],
        "exactly one subscriber holds {msisdn}: {:?}",
        sim.subscribers()
    );
    let sub = api.get(&format!("/v1/subscriptions/{msisdn}")).await;
    let (old_sim, new_sim) = (
        api.get(&format!("/v1/sims/{old_iccid}")).await,
        api.get(&format!("/v1/sims/{new_iccid}")).await,
    );
    match done["status"].as_str() {
        Some("completed") => {
            assert_eq!(holder_iccid, new_iccid, "{done}");
            assert!(
                sim.hlr(&old_imsi).is_none() && sim.auc(&old_imsi).is_none(),
                "the old IMSI is gone: {:?}",
                sim.subscribers()
            );
            assert!(sim.auc(&new_imsi).is_some());
            assert_eq!(old_sim["state"], "retired", "{old_sim}");
            assert_eq!(new_sim["state"], "active", "{new_sim}");
            assert_eq!(sub["iccid"], new_iccid, "{sub}");
            assert_eq!(sub["imsi"], new_imsi.as_str(), "{sub}");
        }
        Some("failed") => {
            assert_eq!(holder_iccid, old_iccid, "{done}");
            assert!(
                sim.hlr(&new_imsi).is_none() && sim.auc(&new_imsi).is_none(),
                "the new IMSI was removed: {:?}",
                sim.subscribers()
            );
            assert!(sim.auc(&old_imsi).is_some());
            assert_eq!(old_sim["state"], "active", "{old_sim}");
            assert_eq!(new_sim["state"], "available", "{new_sim}");
            assert_eq!(sub["iccid"], old_iccid, "{sub}");
            assert_eq!(done["error"]["code"], "hlr_rejected", "{done}");
        }
        other => panic!("not terminal: {other:?}"),
    }
    assert_eq!(sub["state"], "active", "{sub}");
    done
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_the_new_subscriber_is_provisioned_the_swap_completes() {
    let done = swap_killed_at(Kill::NewSubscriberProvisioned, Then::Resume).await;
    assert_eq!(done["status"], "completed", "{done}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_with_the_number_on_no_imsi_the_swap_completes() {
    let done = swap_killed_at(Kill::NumberDetached, Then::Resume).await;
    assert_eq!(done["status"], "completed", "{done}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_the_number_moved_the_swap_completes() {
    let done = swap_killed_at(Kill::NumberAttached, Then::Resume).await;
    assert_eq!(done["status"], "completed", "{done}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_the_old_subscriber_is_removed_the_swap_completes() {
    let done = swap_killed_at(Kill::OldSubscriberRemoved, Then::Resume).await;
    assert_eq!(done["status"], "completed", "{done}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_with_the_number_on_no_imsi_then_refused_the_number_goes_back() {
    let done = swap_killed_at(Kill::NumberDetached, Then::RefuseNextCreate).await;
    assert_eq!(done["status"], "failed", "{done}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_the_number_moved_then_refused_the_number_goes_back() {
    let done = swap_killed_at(Kill::NumberAttached, Then::RefuseNextCreate).await;
    assert_eq!(done["status"], "failed", "{done}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_the_new_subscriber_is_provisioned_then_refused_it_is_removed() {
    let done = swap_killed_at(Kill::NewSubscriberProvisioned, Then::RefuseNextCreate).await;
    assert_eq!(done["status"], "failed", "{done}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_compensating_with_the_number_back_on_the_old_imsi_the_swap_fails_cleanly() {
    let done = swap_killed_at(Kill::NumberRestored, Then::Resume).await;
    assert_eq!(done["status"], "failed", "{done}");
}

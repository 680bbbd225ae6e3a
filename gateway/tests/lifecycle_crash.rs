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

mod common;

use common::holders;
use common::process::{Api, Simgw, eventually, forget_sandbox_json, sandbox_json, terminal};
use conformance::hlr_sim::{self, Action, FaultKind, HlrSimConfig, MoKind, Operation, Rule};
use serde_json::{Value, json};
use sim_profiles::Imsi;
use std::path::Path;

/// Starts `simgw serve --sandbox` on `dir` against the HLR at `hlr_url`.
fn spawn_gateway(dir: &Path, hlr_url: &str) -> Simgw {
    let config = dir.join("simgw.toml");
    // A long HLR timeout so a held answer is still awaited when the process is killed.
    let toml = format!(
        "data_dir = {:?}\nlisten = \"127.0.0.1:0\"\n[hlr]\nuser = \"gw\"\ntimeout_ms = 120000\n[engine]\nbackoff_base_ms = 20\nbackoff_max_ms = 200\n[sandbox]\nphysical_sims = 4\nnumbers = 20\nesim_profiles = 2\n",
        dir.join("data")
    );
    std::fs::write(&config, toml).expect("config");
    Simgw::serve_sandbox(&config, Some((hlr_url, "pw")))
}

/// The (re)started sandbox's API with its operator key, and its sandbox.json.
async fn connect(dir: &Path) -> (Api, Value) {
    let sandbox = sandbox_json(&dir.join("data")).await;
    (Api::operator(&sandbox), sandbox)
}

/// Physical SIM `i` of the sandbox.
fn iccid(sandbox: &Value, i: usize) -> String {
    sandbox["physical_iccids"][i]
        .as_str()
        .expect("iccid")
        .to_owned()
}

/// Polls (bounded) until the order is terminal.
async fn wait_terminal(api: &Api, id: &str) -> Value {
    api.until(&format!("/v1/orders/{id}"), "terminal", terminal)
        .await
}

/// The IMSI of a card, as the inventory has it.
async fn imsi_of(api: &Api, iccid: &str) -> Imsi {
    api.get(&format!("/v1/sims/{iccid}")).await["imsi"]
        .as_str()
        .expect("imsi")
        .parse()
        .expect("imsi")
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
    /// Step 3 was refused for good; the compensation undid it (the refused provision may
    /// have written part of the new IMSI: its AUC entry is removed), then its second step
    /// (the number back on the old IMSI) applied.
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
            Self::NumberRestored => ("compensating", "compensation", 1),
        }
    }
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
    let gw = spawn_gateway(dir.path(), &sim.url());
    let (api, sandbox) = connect(dir.path()).await;

    let (old_iccid, new_iccid) = (iccid(&sandbox, 0), iccid(&sandbox, 1));
    let act = api
        .post(
            "/v1/activations",
            "act",
            &json!({"sim": {"type": "physical", "iccid": old_iccid}, "product": sandbox["product"]}),
        )
        .await;
    let act = wait_terminal(&api, act["id"].as_str().expect("id")).await;
    assert_eq!(act["status"], "active", "{act}");
    let msisdn = act["msisdn"].as_str().expect("msisdn").to_owned();
    let old_imsi: Imsi = act["imsi"].as_str().expect("imsi").parse().expect("imsi");
    let new_imsi = imsi_of(&api, &new_iccid).await;
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

    if then == Then::RefuseNextCreate {
        sim.push_rule(Rule::once(
            Operation::Create,
            MoKind::GsmAuc,
            Action::Fault(FaultKind::Invalid),
        ));
    }
    forget_sandbox_json(&dir.path().join("data"));
    let _gw = spawn_gateway(dir.path(), &sim.url());
    let (api, _) = connect(dir.path()).await;
    let done = wait_terminal(&api, &id).await;

    // Exactly one subscriber holds the number, and it is the one the record names.
    let holder_iccid = done["msisdn_holder"]
        .as_str()
        .unwrap_or_else(|| panic!("a terminal swap names the number's holder: {done}"))
        .to_owned();
    let holder_imsi = imsi_of(&api, &holder_iccid).await;
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

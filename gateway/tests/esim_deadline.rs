//! An eSIM line and its activation's download deadline, in-process sandbox over real
//! sockets (its SM-DP+ and HLR simulators): suspend, resume and terminate reach the HLR;
//! a line that a later order moved on (terminated, swapped to a physical SIM, renumbered)
//! is not undone when its never-downloaded profile's deadline passes; and while a line is
//! being undone at its deadline, no lifecycle order can start on it.

mod common;

use common::sandbox::{Api, esim_config, is_status, is_terminal, shutdown};
use conformance::hlr_sim::HlrSimHandle;
use conformance::smdp_sim::{Action as SmdpAction, Function, Rule as SmdpRule};
use gateway::sandbox::Sandbox;
use serde_json::{Value, json};
use sim_profiles::Imsi;

/// A sandbox with 5 eSIM profiles and 5 physical SIMs; the directory must outlive it.
async fn start() -> (tempfile::TempDir, Sandbox) {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = gateway::sandbox::start(esim_config(dir.path(), 5))
        .await
        .expect("sandbox");
    (dir, sb)
}

/// An active eSIM line (released, never downloaded): its activation order.
async fn esim_line(sb: &Sandbox, api: &Api) -> Value {
    let id = api.order_esim("e-act", &sb.info.product).await;
    let act = api.until(&id, "terminal", is_terminal).await;
    assert_eq!(act["status"], "active", "{act}");
    assert_eq!(act["esim"]["state"], "released", "{act}");
    act
}

/// Runs an operation to its end with the sandbox's operator key; returns the order.
async fn run(api: &Api, msisdn: &str, op: &str, key: &str, body: Value) -> Value {
    let headers = [
        ("idempotency-key", key),
        ("content-type", "application/json"),
    ];
    let path = format!("/v1/subscriptions/{msisdn}/{op}");
    let (s, b) = api.post(&path, &headers, body.to_string()).await;
    assert_eq!(s, 202, "{op}: {b}");
    let done = api
        .until(b["id"].as_str().expect("id"), "terminal", is_terminal)
        .await;
    assert_eq!(done["status"], "completed", "{op}: {done}");
    done
}

async fn get_json(api: &Api, path: &str) -> (u16, Value) {
    let r = api.get_raw(path).await;
    (
        r.status,
        serde_json::from_slice(&r.body).unwrap_or(Value::Null),
    )
}

fn imsi(v: &Value) -> Imsi {
    v["imsi"].as_str().expect("imsi").parse().expect("imsi")
}

fn barred(sim: &HlrSimHandle, imsi: &Imsi) -> (bool, bool) {
    let h = sim.hlr(imsi).expect("on the HLR");
    (h.obo, h.obi)
}

const MONTH_MS: u64 = 31 * 24 * 3_600_000;

/// Reopens what the engine's eSIM timer would, were it `later_ms` from now, without
/// driving it; returns the reopened orders' ids.
async fn reopen_due(sb: &Sandbox, later_ms: u64) -> Vec<String> {
    let at = gateway::clock::Clock::new().now_ms() + later_ms;
    let reopened = sb
        .gateway
        .store
        .expire_esim(at, gateway::engine::machine::expire)
        .await
        .expect("expiry");
    reopened
        .into_iter()
        .map(|o| {
            let id = o.id.clone();
            sb.gateway.engine.submit(o);
            id
        })
        .collect()
}

/// Makes every pending download deadline pass, as the engine's eSIM timer would a month
/// from now, and drives what it reopens to its end.
async fn deadline_passes(sb: &Sandbox, api: &Api) {
    for id in reopen_due(sb, MONTH_MS).await {
        api.until(&id, "terminal", is_terminal).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_esim_line_is_suspended_resumed_and_terminated() {
    let (_dir, sb) = start().await;
    let api = Api::new(&sb);
    let hlr = sb.hlr_sim.clone().expect("HLR simulator");
    let act = esim_line(&sb, &api).await;
    let msisdn = act["msisdn"].as_str().expect("msisdn").to_owned();
    let imsi = imsi(&act);
    let (_, sub) = get_json(&api, &format!("/v1/subscriptions/{msisdn}")).await;
    assert_eq!(sub["sim_type"], "esim", "{sub}");

    run(
        &api,
        &msisdn,
        "suspend",
        "s1",
        json!({"reason": "non_payment"}),
    )
    .await;
    assert_eq!(barred(&hlr, &imsi), (true, true));
    run(
        &api,
        &msisdn,
        "resume",
        "r1",
        json!({"reason": "non_payment"}),
    )
    .await;
    assert_eq!(barred(&hlr, &imsi), (false, false));

    run(&api, &msisdn, "terminate", "t1", json!({})).await;
    assert!(hlr.hlr(&imsi).is_none() && hlr.auc(&imsi).is_none());
    let (_, profile) = get_json(
        &api,
        &format!("/v1/sims/{}", act["iccid"].as_str().expect("iccid")),
    )
    .await;
    assert_eq!(profile["state"], "retired", "{profile}");
    let (s, _) = get_json(&api, &format!("/v1/subscriptions/{msisdn}")).await;
    assert_eq!(s, 404, "a terminated line no longer holds its number");
    shutdown(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminated_esim_line_stays_terminated_past_its_download_deadline() {
    let (_dir, sb) = start().await;
    let api = Api::new(&sb);
    let act = esim_line(&sb, &api).await;
    let msisdn = act["msisdn"].as_str().expect("msisdn").to_owned();
    let iccid = act["iccid"].as_str().expect("iccid").to_owned();
    run(&api, &msisdn, "terminate", "t1", json!({})).await;

    deadline_passes(&sb, &api).await;
    let (_, profile) = get_json(&api, &format!("/v1/sims/{iccid}")).await;
    assert_eq!(
        profile["state"], "retired",
        "a terminated line's profile is never reused: {profile}"
    );
    let (_, q) = get_json(&api, "/v1/numbers/quarantine").await;
    assert!(
        q.to_string().contains(&msisdn),
        "the number stays in quarantine: {q}"
    );
    shutdown(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_esim_line_swapped_to_a_physical_sim_keeps_its_number_past_the_deadline() {
    let (_dir, sb) = start().await;
    let api = Api::new(&sb);
    let hlr = sb.hlr_sim.clone().expect("HLR simulator");
    let act = esim_line(&sb, &api).await;
    let msisdn = act["msisdn"].as_str().expect("msisdn").to_owned();
    let card = sb.info.physical_iccids[0].clone();
    let swap = run(
        &api,
        &msisdn,
        "sim-swap",
        "w1",
        json!({"sim": {"type": "physical", "iccid": card}}),
    )
    .await;
    assert_eq!(swap["msisdn_holder"], card.as_str(), "{swap}");
    let (_, sim) = get_json(&api, &format!("/v1/sims/{card}")).await;
    let new_imsi = imsi(&sim);
    assert_eq!(
        hlr.hlr(&new_imsi).map(|h| h.msisdn.to_string()),
        Some(msisdn.clone())
    );

    deadline_passes(&sb, &api).await;
    // The line lives on, on its physical SIM, with its number.
    assert_eq!(
        hlr.hlr(&new_imsi).map(|h| h.msisdn.to_string()),
        Some(msisdn.clone()),
        "the line's subscriber is untouched"
    );
    let (s, sub) = get_json(&api, &format!("/v1/subscriptions/{msisdn}")).await;
    assert_eq!((s, sub["state"].as_str()), (200, Some("active")), "{sub}");
    assert_eq!(sub["iccid"], card.as_str(), "{sub}");
    // Its number is not back in the pool: another activation cannot take it.
    let body = json!({"sim": {"type": "physical", "iccid": sb.info.physical_iccids[1]},
        "product": sb.info.product, "msisdn": {"mode": "choose", "msisdn": msisdn}});
    let (s, v) = api.order("steal", body).await;
    assert_eq!(
        v["code"], "msisdn_not_available",
        "the line's number was given out again ({s}): {v}"
    );
    let (_, old) = get_json(
        &api,
        &format!("/v1/sims/{}", act["iccid"].as_str().expect("iccid")),
    )
    .await;
    assert_eq!(old["state"], "retired", "{old}");
    shutdown(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renumbered_esim_line_stays_active_past_the_deadline() {
    let (_dir, sb) = start().await;
    let api = Api::new(&sb);
    let hlr = sb.hlr_sim.clone().expect("HLR simulator");
    let act = esim_line(&sb, &api).await;
    let old = act["msisdn"].as_str().expect("msisdn").to_owned();
    let imsi = imsi(&act);
    let done = run(
        &api,
        &old,
        "number-change",
        "n1",
        json!({"msisdn": {"mode": "auto"}}),
    )
    .await;
    let new = done["new_msisdn"].as_str().expect("new").to_owned();

    deadline_passes(&sb, &api).await;
    assert_eq!(
        hlr.hlr(&imsi).map(|h| h.msisdn.to_string()),
        Some(new.clone()),
        "the line's subscriber is untouched"
    );
    let (s, sub) = get_json(&api, &format!("/v1/subscriptions/{new}")).await;
    assert_eq!((s, sub["state"].as_str()), (200, Some("active")), "{sub}");
    let (_, profile) = get_json(
        &api,
        &format!("/v1/sims/{}", act["iccid"].as_str().expect("iccid")),
    )
    .await;
    assert_eq!(profile["state"], "active", "{profile}");
    shutdown(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_being_undone_at_its_deadline_refuses_operations() {
    let (_dir, sb) = start().await;
    let api = Api::new(&sb);
    let smdp = sb.smdp_sim.clone().expect("SM-DP+ simulator");
    let act = esim_line(&sb, &api).await;
    let id = act["id"].as_str().expect("id").to_owned();
    let msisdn = act["msisdn"].as_str().expect("msisdn").to_owned();
    // The SM-DP+ keeps failing the CancelOrder: the undo stays in flight.
    smdp.push_rule(SmdpRule {
        function: Some(Function::CancelOrder),
        action: SmdpAction::ServerErrorBeforeCommit,
        times: 100_000,
    });
    assert_eq!(reopen_due(&sb, MONTH_MS).await, vec![id.clone()]);
    let headers = [
        ("idempotency-key", "s1"),
        ("content-type", "application/json"),
    ];
    let path = format!("/v1/subscriptions/{msisdn}/sim-swap");
    let body = json!({"sim": {"type": "physical", "iccid": sb.info.physical_iccids[0]}});
    let (s, v) = api.post(&path, &headers, body.to_string()).await;
    assert_eq!(
        (s, v["code"].as_str(), v["order_id"].as_str()),
        (409, Some("subscription_busy"), Some(id.as_str())),
        "{v}"
    );
    smdp.clear_rules();
    let ended = api.until(&id, "failed", is_status("failed")).await;
    assert_eq!(ended["error"]["code"], "esim_not_downloaded", "{ended}");
    let (_, card) = get_json(&api, &format!("/v1/sims/{}", sb.info.physical_iccids[0])).await;
    assert_eq!(card["state"], "available", "nothing was reserved: {card}");
    shutdown(sb).await;
}

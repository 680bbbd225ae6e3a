//! Lifecycle orders on eSIM lines in the sandbox (HLR and SM-DP+ simulators): a line whose
//! profile was released but never downloaded is terminated with a CancelOrder that takes
//! the profile out of use; a downloaded one is left to the device.

mod common;

use common::sandbox::{Api, esim_body, esim_config, is_status, is_terminal};
use conformance::smdp_sim::ProfileState;
use gateway::sandbox::Sandbox;
use serde_json::{Value, json};
use sim_profiles::Iccid;

async fn start() -> (tempfile::TempDir, Sandbox) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = esim_config(dir.path(), 4);
    // A refused step gives up quickly.
    c.engine.max_attempts = 2;
    let sb = gateway::sandbox::start(c).await.expect("sandbox");
    (dir, sb)
}

async fn operate(api: &Api, msisdn: &str, op: &str, key: &str, body: Value) -> Value {
    let headers = [
        ("idempotency-key", key),
        ("content-type", "application/json"),
    ];
    let (s, v) = api
        .post(
            &format!("/v1/subscriptions/{msisdn}/{op}"),
            &headers,
            body.to_string(),
        )
        .await;
    assert_eq!(s, 202, "{v}");
    api.until(v["id"].as_str().expect("id"), "terminal", is_terminal)
        .await
}

/// The new card of a SIM swap order.
fn new_card(o: &Value) -> Iccid {
    o["new_sim"]["iccid"]
        .as_str()
        .expect("iccid")
        .parse()
        .expect("iccid")
}

/// The JSON at `path`, which must answer 200.
async fn json_at(api: &Api, path: &str) -> Value {
    let r = api.get_raw(path).await;
    assert_eq!(r.status, 200, "{path}");
    serde_json::from_slice(&r.body).expect("json")
}

/// An active eSIM line: its number and ICCID.
async fn esim_line(api: &Api, sb: &Sandbox, key: &str) -> (String, Iccid) {
    let (status, created) = api.order(key, esim_body(&sb.info.product)).await;
    assert_eq!(status, 202, "{created}");
    let v = api
        .until(
            created["id"].as_str().expect("id"),
            "active",
            is_status("active"),
        )
        .await;
    let iccid = v["iccid"].as_str().expect("iccid").parse().expect("iccid");
    (v["msisdn"].as_str().expect("msisdn").to_owned(), iccid)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminating_an_undownloaded_esim_line_cancels_its_profile() {
    let (_dir, sb) = start().await;
    let smdp = sb.smdp_sim.clone().expect("SM-DP+ simulator");
    let api = Api::new(&sb);
    let (msisdn, iccid) = esim_line(&api, &sb, "e-1").await;
    assert_eq!(
        smdp.profile(&iccid).expect("profile").state,
        ProfileState::Released
    );
    let o = operate(
        &api,
        &msisdn,
        "suspend",
        "e-2",
        json!({"reason": "non_payment"}),
    )
    .await;
    assert_eq!(o["status"], "completed", "{o}");
    let o = operate(&api, &msisdn, "terminate", "e-3", json!({})).await;
    assert_eq!(o["status"], "completed", "{o}");
    let names: Vec<&str> = o["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["hlr_deprovision", "es2_cancel_order"]);
    assert_eq!(o["steps"][1]["outcome"], "cancelled");
    assert_eq!(
        smdp.profile(&iccid).expect("profile").state,
        ProfileState::Unavailable,
        "nobody can download the line's profile any more"
    );
    let sim = json_at(&api, &format!("/v1/sims/{iccid}")).await;
    assert_eq!(sim["state"], "retired", "{sim}");
    sb.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_downloaded_profile_is_left_to_the_device() {
    let (_dir, sb) = start().await;
    let smdp = sb.smdp_sim.clone().expect("SM-DP+ simulator");
    let api = Api::new(&sb);
    let (msisdn, iccid) = esim_line(&api, &sb, "d-1").await;
    smdp.download(&iccid).expect("download");
    // The notification is recorded before the terminate reads the line's progress.
    for _ in 0..1_000 {
        let v = json_at(&api, &format!("/v1/subscriptions/{msisdn}")).await;
        let act = api.get(v["activation_id"].as_str().expect("id")).await;
        if act["esim"]["state"] == "downloaded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let o = operate(&api, &msisdn, "terminate", "d-2", json!({})).await;
    assert_eq!(o["status"], "completed", "{o}");
    assert_eq!(o["steps"].as_array().map(Vec::len), Some(1), "{o}");
    assert_eq!(
        smdp.profile(&iccid).expect("profile").state,
        ProfileState::Downloaded
    );
    sb.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_esim_line_swapped_to_a_physical_card_cancels_the_old_profile() {
    let (_dir, sb) = start().await;
    let smdp = sb.smdp_sim.clone().expect("SM-DP+ simulator");
    let hlr = sb.hlr_sim.clone().expect("HLR simulator");
    let api = Api::new(&sb);
    let (msisdn, iccid) = esim_line(&api, &sb, "s-1").await;
    let card = sb.info.physical_iccids[0].clone();
    let o = operate(
        &api,
        &msisdn,
        "sim-swap",
        "s-2",
        json!({"sim": {"type": "physical", "iccid": card}}),
    )
    .await;
    assert_eq!(o["status"], "completed", "{o}");
    assert_eq!(o["msisdn_holder"], card);
    assert_eq!(
        smdp.profile(&iccid).expect("profile").state,
        ProfileState::Unavailable
    );
    let subs = hlr.subscribers();
    assert_eq!(subs.len(), 1, "{subs:?}");
    assert_eq!(
        subs[0].msisdn.as_ref().map(|m| m.as_str()),
        Some(msisdn.as_str())
    );
    let v = json_at(&api, &format!("/v1/subscriptions/{msisdn}")).await;
    assert_eq!(
        (v["iccid"].as_str(), v["sim_type"].as_str()),
        (Some(card.as_str()), Some("physical"))
    );
    sb.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_physical_line_swapped_to_an_esim_gets_an_activation_code_and_its_number_moves() {
    let (_dir, sb) = start().await;
    let smdp = sb.smdp_sim.clone().expect("SM-DP+ simulator");
    let hlr = sb.hlr_sim.clone().expect("HLR simulator");
    let api = Api::new(&sb);
    let card = sb.info.physical_iccids[0].clone();
    let body = json!({"sim": {"type": "physical", "iccid": card}, "product": sb.info.product});
    let (s, v) = api.order("p-1", body).await;
    assert_eq!(s, 202, "{v}");
    let act = api
        .until(v["id"].as_str().expect("id"), "active", is_status("active"))
        .await;
    let msisdn = act["msisdn"].as_str().expect("msisdn").to_owned();
    let o = operate(
        &api,
        &msisdn,
        "sim-swap",
        "p-2",
        json!({"sim": {"type": "esim"}}),
    )
    .await;
    assert_eq!(o["status"], "completed", "{o}");
    assert_eq!(o["new_sim"]["type"], "esim");
    let new_iccid = new_card(&o);
    assert_eq!(o["msisdn_holder"], new_iccid.to_string());
    let ac = o["activation_code"].as_str().expect("activation code");
    let profile = smdp.profile(&new_iccid).expect("profile");
    assert_eq!(profile.state, ProfileState::Released);
    assert_eq!(
        profile.matching_id.as_ref().map(|m| m.as_str()),
        ac.rsplit('$').next()
    );
    let png = api
        .get_raw(&format!(
            "/v1/orders/{}/qr.png",
            o["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(png.status, 200);
    let subs = hlr.subscribers();
    assert_eq!(subs.len(), 1, "{subs:?}");
    assert_eq!(
        subs[0].msisdn.as_ref().map(|m| m.as_str()),
        Some(msisdn.as_str())
    );
    let line = json_at(&api, &format!("/v1/subscriptions/{msisdn}")).await;
    assert_eq!(
        (line["sim_type"].as_str(), line["iccid"].as_str()),
        (Some("esim"), Some(new_iccid.to_string().as_str()))
    );
    let old = json_at(&api, &format!("/v1/sims/{card}")).await;
    assert_eq!(old["state"], "retired");
    sb.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_esim_swap_refused_by_the_smdp_leaves_the_line_and_the_stock_as_they_were() {
    let (_dir, sb) = start().await;
    let smdp = sb.smdp_sim.clone().expect("SM-DP+ simulator");
    let hlr = sb.hlr_sim.clone().expect("HLR simulator");
    let api = Api::new(&sb);
    let (msisdn, iccid) = esim_line(&api, &sb, "r-1").await;
    let before = hlr.subscribers();
    smdp.push_rule(conformance::smdp_sim::Rule {
        function: Some(conformance::smdp_sim::Function::DownloadOrder),
        action: conformance::smdp_sim::Action::ServerErrorBeforeCommit,
        times: 100,
    });
    let o = operate(
        &api,
        &msisdn,
        "sim-swap",
        "r-2",
        json!({"sim": {"type": "esim"}}),
    )
    .await;
    assert_eq!(o["status"], "failed", "{o}");
    assert_eq!(hlr.subscribers(), before, "the HLR was never touched");
    let line = json_at(&api, &format!("/v1/subscriptions/{msisdn}")).await;
    assert_eq!(line["iccid"], iccid.to_string());
    assert_eq!(line["order_in_flight"], Value::Null);
    let new = o["new_sim"]["iccid"].as_str().expect("iccid");
    let sim = json_at(&api, &format!("/v1/sims/{new}")).await;
    assert_eq!(sim["state"], "available", "never released: back in stock");
    sb.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_esim_line_swapped_to_another_esim_releases_the_new_and_cancels_the_old() {
    let (_dir, sb) = start().await;
    let smdp = sb.smdp_sim.clone().expect("SM-DP+ simulator");
    let api = Api::new(&sb);
    let (msisdn, old) = esim_line(&api, &sb, "ee-1").await;
    let o = operate(
        &api,
        &msisdn,
        "sim-swap",
        "ee-2",
        json!({"sim": {"type": "esim"}}),
    )
    .await;
    assert_eq!(o["status"], "completed", "{o}");
    let new = new_card(&o);
    assert_ne!(new, old);
    assert_eq!(
        smdp.profile(&new).expect("new").state,
        ProfileState::Released
    );
    assert_eq!(
        smdp.profile(&old).expect("old").state,
        ProfileState::Unavailable
    );
    assert!(o["activation_code"].as_str().is_some(), "{o}");
    sb.gateway.shutdown().await;
}

/// A scripted SM-DP+ answer to the next `times` calls of `function`.
fn smdp_rule(
    smdp: &conformance::smdp_sim::SmdpSimHandle,
    function: conformance::smdp_sim::Function,
    action: conformance::smdp_sim::Action,
) {
    smdp.push_rule(conformance::smdp_sim::Rule {
        function: Some(function),
        action,
        times: 1,
    });
}

/// The outcome of each of the order's compensation steps.
fn compensation(o: &Value) -> Vec<(&str, &str)> {
    o["compensation"]
        .as_array()
        .map(|steps| {
            steps
                .iter()
                .map(|s| {
                    (
                        s["name"].as_str().unwrap_or(""),
                        s["outcome"].as_str().unwrap_or(""),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swap_whose_reservation_answer_was_lost_takes_in_use_on_the_repeat_as_its_own() {
    use conformance::smdp_sim::{Action, Function};
    let (_dir, sb) = start().await;
    let smdp = sb.smdp_sim.clone().expect("SM-DP+ simulator");
    let api = Api::new(&sb);
    let (msisdn, _) = esim_line(&api, &sb, "l-1").await;
    // DownloadOrder reserves, and its answer is lost: the repeat is refused 8.2.1/3.3.
    smdp_rule(&smdp, Function::DownloadOrder, Action::DropAfterCommit);
    let o = operate(
        &api,
        &msisdn,
        "sim-swap",
        "l-2",
        json!({"sim": {"type": "esim"}}),
    )
    .await;
    assert_eq!(o["status"], "completed", "{o}");
    assert_eq!(
        o["steps"][0]["outcome"], "reserved_by_earlier_attempt",
        "{o}"
    );
    let new = new_card(&o);
    assert_eq!(
        smdp.profile(&new).expect("new").state,
        ProfileState::Released
    );
    sb.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_answered_expired_is_repeated_before_the_profile_goes_back_to_stock() {
    use conformance::smdp_sim::{Action, Function};
    let (_dir, sb) = start().await;
    let smdp = sb.smdp_sim.clone().expect("SM-DP+ simulator");
    let api = Api::new(&sb);
    let (msisdn, old) = esim_line(&api, &sb, "x-1").await;
    // The release is refused (nothing ran), so the reservation is cancelled; that
    // CancelOrder is answered `Expired` (8.8.5/4.10: nothing ran either) once.
    smdp_rule(&smdp, Function::ConfirmOrder, Action::Expired);
    smdp_rule(&smdp, Function::CancelOrder, Action::Expired);
    let o = operate(
        &api,
        &msisdn,
        "sim-swap",
        "x-2",
        json!({"sim": {"type": "esim"}}),
    )
    .await;
    assert_eq!(o["status"], "failed", "{o}");
    assert_eq!(o["error"]["code"], "smdp_rejected", "{o}");
    assert_eq!(
        compensation(&o),
        [("es2_cancel_order", "cancelled")],
        "the cancel ran again until it settled: {o}"
    );
    let new = new_card(&o);
    // Back in our stock only because it is Available at the SM-DP+, so the next order
    // given it can reserve it.
    assert_eq!(
        smdp.profile(&new).expect("new").state,
        ProfileState::Available
    );
    let sim = json_at(&api, &format!("/v1/sims/{new}")).await;
    assert_eq!(sim["state"], "available", "{sim}");
    assert_ne!(o["needs_attention"], true, "{o}");

    // Terminating the line: its released profile's cancel is answered `Expired` once,
    // and repeated, so the profile's activation code cannot bring the line back.
    smdp_rule(&smdp, Function::CancelOrder, Action::Expired);
    let o = operate(&api, &msisdn, "terminate", "x-3", json!({})).await;
    assert_eq!(o["status"], "completed", "{o}");
    assert_eq!(o["steps"][1]["outcome"], "cancelled", "{o}");
    assert_eq!(
        smdp.profile(&old).expect("old").state,
        ProfileState::Unavailable
    );
    sb.gateway.shutdown().await;
}

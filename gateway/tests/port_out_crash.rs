//! kill -9 of a real `simgw` during a UK port-out's cutover (we are the donor; the rig,
//! `common/port_rig.rs`: the gateway as its own process against HLR and porting hub
//! simulators living in this test process, which keep their state across its death). A
//! scripted fault stops our side of the cutover at one of three points, and the process
//! is killed right there:
//!
//! 1. the removal was sent to the HLR and nothing is applied (its read of the subscriber
//!    hangs);
//! 2. the HLR removed the subscription and its answer is lost;
//! 3. the line is off the network and the hub's acknowledgement is in flight (the hub
//!    never answers it).
//!
//! A restart on the same data dir must finish the order: no subscriber left on the HLR
//! for the line's card (neither HLR nor AUC data), the card retired, the line terminated,
//! the number never quarantined as ours, the port completed at the hub.

mod common;

use common::port_rig::{next_acknowledgement_times_out, port_step, rig, until};
use common::process::{eventually, forget_sandbox_json};
use conformance::hlr_sim::{Action, MoKind, Operation, Rule};
use conformance::porting_sim::{PortOutCommand, PortState};
use serde_json::json;
use sim_profiles::Imsi;
use std::time::Duration;

#[derive(Clone, Copy, Debug)]
enum Kill {
    BeforeTheRemoval,
    RemovedAnswerLost,
    AcknowledgementInFlight,
}

async fn cutover_killed_at(at: Kill) {
    let rig = rig().await;
    let gw = rig.spawn();
    let (api, iccid) = rig.connect().await;
    let body = json!({
        "sim": {"type": "physical", "iccid": iccid},
        "product": "sandbox-basic",
        "channel": {"kind": "store", "store_id": "SZ-0042", "terminal_id": "T7", "staff_id": "C1"},
        "msisdn": {"mode": "auto"}
    });
    let o = api.post("/v1/activations", "line-1", &body).await;
    let id = o["id"].as_str().expect("id").to_owned();
    let line = until(&api, &id, "active", |v| v["status"] == "active").await;
    let msisdn = line["msisdn"].as_str().expect("msisdn").to_owned();
    let imsi: Imsi = line["imsi"].as_str().expect("imsi").parse().expect("imsi");
    let (status, issued) = api
        .post_raw(
            &format!("/v1/subscriptions/{msisdn}/port-out-credential"),
            "pac-1",
            &json!({"authentication": {"method": "sms_otp"}}),
        )
        .await;
    assert_eq!(status, 201, "{issued}");
    let pac = issued["credential"].as_str().expect("credential");
    let port_ref = rig
        .hub
        .port_out_request(PortOutCommand {
            market: adapters::porting::Market::Uk,
            number: msisdn.parse().expect("number"),
            recipient: None,
            donor: None,
            credential: Some(adapters::porting::Credential::parse(pac, "c").expect("pac")),
            account: None,
            requested_at: None,
            respond_by: None,
        })
        .expect("port-out request");
    let order = gateway::api::port_out::port_out_order_id(port_ref.as_str());
    // The order exists once the hub's request has been delivered and taken in.
    for _ in 0..3_000 {
        if api.get_raw(&format!("/v1/orders/{order}")).await.0 == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    until(&api, &order, "port_out_accepted", |v| {
        v["status"] == "port_out_accepted"
    })
    .await;
    assert!(
        eventually(|| rig
            .hub
            .port(port_ref.as_str())
            .is_some_and(|p| p.state == PortState::Scheduled))
        .await,
        "the hub never scheduled the port"
    );

    let hang = |op, kind| Rule::once(op, kind, Action::HangAfterApply);
    match at {
        Kill::BeforeTheRemoval => rig.hlr.push_rule(hang(Operation::Get, MoKind::GsmHlr)),
        Kill::RemovedAnswerLost => rig.hlr.push_rule(hang(Operation::Delete, MoKind::GsmHlr)),
        Kill::AcknowledgementInFlight => next_acknowledgement_times_out(&rig.hub),
    }
    // The hub's clock reaches the lock and the cutover.
    rig.hub.advance(Duration::from_secs(5 * 24 * 3600));
    let on_hlr = || rig.hlr.hlr(&imsi).is_some();
    match at {
        Kill::BeforeTheRemoval => {
            let v = until(&api, &order, "the removal sent", |v| {
                v["steps"]
                    .as_array()
                    .is_some_and(|s| s.iter().any(|s| s["state"] == "in_progress"))
            })
            .await;
            assert!(on_hlr(), "applied too early: {v}");
            // Recorded as sent before it is made: kill only once the HLR holds its read, or
            // the held one would be the restarted gateway's (it waits out its timeout).
            assert!(
                eventually(|| rig.hlr.counts().injected.hang_after_apply >= 1).await,
                "the removal's first request never reached the HLR: {v}"
            );
        }
        Kill::RemovedAnswerLost => {
            assert!(
                eventually(|| !on_hlr()).await,
                "the HLR never removed the subscription"
            );
        }
        Kill::AcknowledgementInFlight => {
            let v = until(&api, &order, "the acknowledgement sent", |v| {
                port_step(v, "acknowledge").as_deref() == Some("in_progress")
            })
            .await;
            assert!(!on_hlr(), "{v}");
            // The step is recorded sent before the call goes out: kill only once the hub
            // holds it, or the held answer would wait for the restarted gateway's attempt.
            assert!(
                eventually(|| rig.hub.counts().injected.timeout >= 1).await,
                "the acknowledgement never reached the hub"
            );
        }
    }
    gw.kill9();

    forget_sandbox_json(&rig.data());
    let _gw = rig.spawn();
    let (api, _) = rig.connect().await;
    let done = until(&api, &order, "completed", |v| v["status"] == "completed").await;
    assert_eq!(done["port"]["state"], "completed", "{done}");
    assert!(!on_hlr(), "the HLR still has the line");
    assert!(rig.hlr.auc(&imsi).is_none(), "the AUC still has the card");
    let sim = api.get(&format!("/v1/sims/{iccid}")).await;
    assert_eq!(sim["state"], "retired", "{sim}");
    let q = api.get("/v1/numbers/quarantine").await;
    assert!(!q.to_string().contains(&msisdn), "{q}");
    assert!(
        eventually(|| rig
            .hub
            .port(port_ref.as_str())
            .is_some_and(|p| p.state == PortState::Completed))
        .await,
        "the port never completed at the hub"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_before_the_removal_the_port_out_resumes() {
    cutover_killed_at(Kill::BeforeTheRemoval).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_the_removal_the_port_out_completes_with_nothing_left() {
    cutover_killed_at(Kill::RemovedAnswerLost).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_with_the_acknowledgement_in_flight_the_port_out_completes() {
    cutover_killed_at(Kill::AcknowledgementInFlight).await;
}

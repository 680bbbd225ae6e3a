//! The sandbox's in-memory HLR simulator is rebuilt at start-up from every order that has
//! provisioned the HLR, whatever its status: an eSIM order stopped after its HLR step
//! but before ConfirmOrder answered must end `active` with its subscriber on the HLR, and
//! a line suspended, swapped and renumbered comes back as it ended.

mod common;

use common::sandbox::{Api, esim_body, esim_config, is_terminal, shutdown};
use conformance::smdp_sim::{Action, Function, Rule};
use gateway::config::Config;
use gateway::order::{OrderStatus, Step};
use gateway::sandbox::{Sandbox, TENANT};
use std::time::Duration;

fn config(dir: &std::path::Path) -> Config {
    let mut c = esim_config(dir, 5);
    // A held ConfirmOrder gives up quickly, so the gateway can stop while it waits.
    c.esim.timeout_ms = 1_000;
    c
}

fn subscriber_imsis(sb: &Sandbox) -> Vec<String> {
    sb.hlr_sim
        .as_ref()
        .expect("HLR simulator")
        .subscribers()
        .iter()
        .map(|s| s.imsi.to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_stopped_after_its_hlr_step_finds_its_subscriber_after_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = gateway::sandbox::start(config(dir.path()))
        .await
        .expect("sandbox");
    // ConfirmOrder never answers in this run.
    sb.smdp_sim
        .as_ref()
        .expect("SM-DP+ simulator")
        .push_rule(Rule {
            function: Some(Function::ConfirmOrder),
            action: Action::Timeout,
            times: 1_000,
        });
    let api = Api::new(&sb);
    let (status, v) = api.order("rebuild-1", esim_body(&sb.info.product)).await;
    assert_eq!(status, 202, "{v}");
    let id = v["id"].as_str().expect("id").to_owned();
    let imsi = v["imsi"].as_str().expect("imsi").to_owned();

    // Wait (bounded) until ConfirmOrder is durably under way: the HLR step is done.
    let mut parked = false;
    for _ in 0..1_000 {
        let o = sb
            .gateway
            .store
            .get_order(TENANT, &id)
            .await
            .expect("read")
            .expect("order");
        let confirming = o
            .esim
            .as_ref()
            .is_some_and(|e| matches!(e.confirm, Step::Sent { .. } | Step::RetryWait { .. }));
        if o.status == OrderStatus::EsimReleasing && confirming {
            assert!(matches!(o.hlr, Step::Done { .. }), "{:?}", o.hlr);
            parked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(parked, "the order never reached ConfirmOrder");
    assert_eq!(subscriber_imsis(&sb), vec![imsi.clone()]);
    shutdown(sb).await;

    // A fresh process state: new, empty simulators on the same data dir.
    let sb = gateway::sandbox::start(config(dir.path()))
        .await
        .expect("sandbox restart");
    assert_eq!(
        subscriber_imsis(&sb),
        vec![imsi.clone()],
        "the simulator is rebuilt before the order goes on"
    );
    let v = Api::new(&sb)
        .until(&id, "a terminal status", is_terminal)
        .await;
    assert_eq!(v["status"], "active", "{v}");
    assert_eq!(subscriber_imsis(&sb), vec![imsi]);
    sb.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_changed_after_day_one_comes_back_as_it_ended() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = gateway::sandbox::start(config(dir.path()))
        .await
        .expect("sandbox");
    let api = Api::new(&sb);
    let cards = sb.info.physical_iccids.clone();
    let body = serde_json::json!({"sim": {"type": "physical", "iccid": cards[0]}, "product": sb.info.product});
    let (status, v) = api.order("line-1", body).await;
    assert_eq!(status, 202, "{v}");
    let act = api
        .until(v["id"].as_str().expect("id"), "active", is_terminal)
        .await;
    let msisdn = act["msisdn"].as_str().expect("msisdn").to_owned();
    let json = [("content-type", "application/json")];
    let run = |op: &'static str, key: &'static str, body: serde_json::Value, on: String| {
        let api = &api;
        async move {
            let mut h = json.to_vec();
            h.push(("idempotency-key", key));
            let (s, v) = api
                .post(
                    &format!("/v1/subscriptions/{on}/{op}"),
                    &h,
                    body.to_string(),
                )
                .await;
            assert_eq!(s, 202, "{v}");
            api.until(v["id"].as_str().expect("id"), "terminal", is_terminal)
                .await
        }
    };
    run(
        "suspend",
        "l-1",
        serde_json::json!({"reason": "non_payment"}),
        msisdn.clone(),
    )
    .await;
    let swap = serde_json::json!({"sim": {"type": "physical", "iccid": cards[1]}});
    let o = run("sim-swap", "l-2", swap, msisdn.clone()).await;
    assert_eq!(o["status"], "completed", "{o}");
    let o = run(
        "number-change",
        "l-3",
        serde_json::json!({"msisdn": {"mode": "auto"}}),
        msisdn,
    )
    .await;
    assert_eq!(o["status"], "completed", "{o}");
    let number = o["new_msisdn"].as_str().expect("number").to_owned();
    let before = sb.hlr_sim.as_ref().expect("sim").subscribers();
    assert_eq!(before.len(), 1, "{before:?}");
    shutdown(sb).await;

    let sb = gateway::sandbox::start(config(dir.path()))
        .await
        .expect("sandbox restart");
    let after = sb.hlr_sim.as_ref().expect("sim").subscribers();
    assert_eq!(
        after, before,
        "the simulator is rebuilt to the line as it ended"
    );
    let hlr = sb
        .hlr_sim
        .as_ref()
        .expect("sim")
        .hlr(&after[0].imsi)
        .expect("subscription");
    assert_eq!(
        (hlr.msisdn.as_str(), hlr.obo, hlr.obi),
        (number.as_str(), true, true)
    );
    sb.gateway.shutdown().await;
}

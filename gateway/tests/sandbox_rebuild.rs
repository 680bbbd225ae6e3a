//! The sandbox's in-memory HLR simulator is rebuilt at start-up from every order that has
//! provisioned the HLR, whatever its status: an eSIM order stopped after its HLR step
//! but before ConfirmOrder answered must end `active` with its subscriber on the HLR.

mod common;

use common::sandbox::{Api, esim_body, esim_config, is_terminal, shutdown};
use conformance::smdp_sim::{Action, Function, Rule};
use gateway::config::Config;
use gateway::order::{OrderStatus, Step};
use gateway::sandbox::{Sandbox, TENANT};
use gateway::store::Store;
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

//! The sandbox's in-memory HLR simulator is rebuilt at start-up from every order that has
//! provisioned the HLR, whatever its status: an eSIM order stopped after its HLR step
//! but before ConfirmOrder answered must end `active` with its subscriber on the HLR.

use adapters::http::HttpClient;
use bytes::Bytes;
use conformance::smdp_sim::{Action, Function, Rule};
use gateway::config::Config;
use gateway::order::{OrderStatus, Step};
use gateway::sandbox::{Sandbox, TENANT};
use gateway::store::Store;
use serde_json::{Value, json};
use std::time::Duration;

fn config(dir: &std::path::Path) -> Config {
    let mut c = Config {
        data_dir: dir.to_owned(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..Config::default()
    };
    c.esim.callback_listen = Some("127.0.0.1:0".parse().expect("addr"));
    // A held ConfirmOrder gives up quickly, so the gateway can stop while it waits.
    c.esim.timeout_ms = 1_000;
    c.sandbox.physical_sims = 5;
    c.sandbox.esim_profiles = 5;
    c.sandbox.numbers = 100;
    c.engine.backoff_base_ms = 10;
    c.engine.backoff_max_ms = 50;
    c
}

fn client(sb: &Sandbox) -> HttpClient {
    let ca = std::fs::read(&sb.info.ca_cert).expect("ca");
    HttpClient::builder()
        .add_root_pem(&ca)
        .request_timeout(Duration::from_secs(10))
        .build()
        .expect("client")
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
    let http = client(&sb);
    let r = http
        .post(
            &format!("{}/v1/activations", sb.info.base_url),
            &[
                ("authorization", format!("Bearer {}", sb.info.api_key)),
                ("idempotency-key", "rebuild-1".into()),
                ("content-type", "application/json".into()),
            ],
            Bytes::from(json!({"sim": {"type": "esim"}, "product": sb.info.product}).to_string()),
        )
        .await
        .expect("POST");
    assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
    let v: Value = serde_json::from_slice(&r.body).expect("json");
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
    let Sandbox {
        gateway,
        hlr_sim,
        smdp_sim,
        ..
    } = sb;
    gateway.shutdown().await;
    if let Some(s) = smdp_sim {
        s.shutdown().await;
    }
    drop(hlr_sim);

    // A fresh process state: new, empty simulators on the same data dir.
    let sb = gateway::sandbox::start(config(dir.path()))
        .await
        .expect("sandbox restart");
    assert_eq!(
        subscriber_imsis(&sb),
        vec![imsi.clone()],
        "the simulator is rebuilt before the order goes on"
    );
    let http = client(&sb);
    let mut status = Value::Null;
    for _ in 0..1_000 {
        let r = http
            .get(
                &format!("{}/v1/activations/{id}", sb.info.base_url),
                &[("authorization", format!("Bearer {}", sb.info.api_key))],
            )
            .await
            .expect("GET");
        let v: Value = serde_json::from_slice(&r.body).expect("json");
        status = v["status"].clone();
        if status == "active" || status == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(status, "active");
    assert_eq!(subscriber_imsis(&sb), vec![imsi]);
    sb.gateway.shutdown().await;
}

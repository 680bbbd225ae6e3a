//! The hub-message listener takes batches (`docs/porting-hub.md`, Delivery): posted
//! over mutual TLS with a certificate of the sandbox's dev CA, as the hub's shim would.
//! A batch with one unreadable message is refused whole (400 naming it) and changes
//! nothing; a readable one is recorded and applied, each message to its own port; the
//! same batch again is all redeliveries.

mod common;

use adapters::http::HttpClient;
use bytes::Bytes;
use common::market::{Client, sandbox, uk, uk_port};
use common::sandbox::shutdown;
use serde_json::{Value, json};
use std::time::Duration;

/// Polls order `id` until `done` holds (bounded; not a timing assertion).
async fn until(c: &Client, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..3_000 {
        let v = c.get(&format!("/v1/orders/{id}")).await;
        if done(&v) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{id}: {}", c.get(&format!("/v1/orders/{id}")).await)
}

/// A `cancelled` message from the hub about `order`'s port.
fn cancelled(id: &str, order: &Value) -> Value {
    json!({
        "message_id": id,
        "port_ref": order["port"]["external_ref"],
        "sequence": 50,
        "kind": "cancelled",
        "at": "2026-03-02T11:00:00.000Z",
        "actor": "hub",
        "reference": order["id"],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_recorded_whole_or_refused_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = sandbox(dir.path()).await;
    let (c, iccids) = uk(&sb);
    let mut orders = Vec::new();
    for (i, number) in ["447911000101", "447911000102"].into_iter().enumerate() {
        let (s, o) = c.order(&uk_port(&iccids[i], number)).await;
        assert_eq!(s, 202, "{o}");
        let id = o["id"].as_str().expect("id").to_owned();
        orders.push(until(&c, &id, |v| v["status"] == "port_scheduled").await);
    }

    let ca = gateway::tls::DevCa::load_or_create(&dir.path().join("tls")).expect("dev CA");
    let shim = ca.issue("hub shim", &["localhost"]).expect("certificate");
    let hub = HttpClient::builder()
        .add_root_pem(&std::fs::read(&sb.info.ca_cert).expect("ca"))
        .identity_pem(shim.cert_pem.as_bytes(), shim.key_pem.as_bytes())
        .build()
        .expect("client");
    let addr = sb.gateway.hub_callback_addr.expect("the hub listener");
    let url = format!(
        "https://localhost:{}{}",
        addr.port(),
        adapters::porting::path::HUB_MESSAGES
    );
    let post = |body: Value| {
        let hub = &hub;
        let url = &url;
        async move {
            let headers = [("Content-Type", "application/json".to_owned())];
            hub.post(url, &headers, Bytes::from(body.to_string()))
                .await
                .expect("POST")
        }
    };

    let mut unreadable = cancelled("m-batch-2", &orders[1]);
    unreadable["sequence"] = json!(0);
    let r = post(json!({"messages": [cancelled("m-batch-1", &orders[0]), unreadable]})).await;
    assert_eq!(r.status, 400);
    let problem: Value = serde_json::from_slice(&r.body).expect("problem");
    let detail = problem["detail"].as_str().expect("detail");
    assert!(detail.contains("messages[1]: sequence"), "{problem}");
    for o in &orders {
        let id = o["id"].as_str().expect("id");
        let now = c.get(&format!("/v1/orders/{id}")).await;
        assert_eq!(now["status"], "port_scheduled", "nothing recorded: {now}");
    }

    let batch = json!({"messages": [
        cancelled("m-batch-1", &orders[0]),
        cancelled("m-batch-2", &orders[1]),
    ]});
    assert_eq!(post(batch.clone()).await.status, 204);
    for o in &orders {
        let id = o["id"].as_str().expect("id");
        let gone = until(&c, id, |v| v["status"] == "port_cancelled").await;
        assert_eq!(gone["error"]["code"], "port_cancelled", "{gone}");
    }
    let before: Vec<Value> = {
        let mut v = Vec::new();
        for o in &orders {
            v.push(
                c.get(&format!("/v1/orders/{}", o["id"].as_str().expect("id")))
                    .await,
            );
        }
        v
    };
    assert_eq!(post(batch).await.status, 204, "a redelivery");
    for (o, was) in orders.iter().zip(before) {
        let now = c
            .get(&format!("/v1/orders/{}", o["id"].as_str().expect("id")))
            .await;
        assert_eq!(now, was, "a redelivered batch changes nothing");
    }
    shutdown(sb).await;
}

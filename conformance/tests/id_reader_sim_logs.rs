//! The ID reader simulator's logs: every kind of exchange at trace level, and no name,
//! ID number or address in a log line, a refusal or a `Debug`. Its own test binary: the
//! subscriber is the process's global one, so no other test's thread can keep a log
//! callsite from it.

#[path = "support/reader_client.rs"]
mod reader_client;

#[path = "support/captured.rs"]
mod captured;

use captured::Captured;
use conformance::id_reader_sim::TEST_ID_NUMBER;
use http::Method;
use reader_client::{call, get, sim};
use serde_json::json;

/// Every kind of exchange at trace level: no name, ID number or address in the logs, in
/// a refusal, or in a `Debug`.
#[tokio::test]
async fn names_and_id_numbers_reach_no_log_line() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
    let sim = sim().await;
    const OTHER: &str = "440304199003074510";
    let mut shown = vec![format!("{:?} {:?}", sim, sim.card())];
    get(&sim, "/v1/card").await;
    let placed = json!({"name": "李四", "id_number": OTHER, "address": "深圳市南山区"});
    call(&sim, Method::PUT, "/control/card", &[], placed.to_string()).await;
    shown.push(format!("{:?}", sim.card()));
    let bad = json!({"name": "李四", "id_number": [OTHER]});
    let resp = call(&sim, Method::PUT, "/control/card", &[], bad.to_string()).await;
    shown.push(String::from_utf8_lossy(resp.body()).into_owned());
    get(&sim, &format!("/v1/card/{OTHER}")).await;
    call(&sim, Method::POST, "/v1/face-match", &[], "{}").await;
    sim.shutdown().await;
    let logs = captured.text();
    assert!(logs.contains("id reader"), "logs were captured: {logs}");
    let all = format!("{logs}\n{}", shown.join("\n"));
    for secret in [
        TEST_ID_NUMBER,
        OTHER,
        "张三",
        "李四",
        "深圳市南山区",
        "测试路",
    ] {
        assert!(!all.contains(secret), "{secret} leaked:\n{all}");
    }
}

//! Port-in orders over HTTPS against the sandbox's market tenants and its porting hub
//! simulator (mutual TLS both ways), with the hub's clock driven from the test: local
//! checks refuse before anything is reserved or reaches the hub (a China MVNO-block
//! number `number_not_portable`, a malformed credential `credential_invalid`); China
//! ports at the next full hour with the line waiting for its number; the UK runs the
//! line on a temporary number until the cutover the next working day, then quarantines
//! it; a cancel before the lock point gives everything back.

mod common;

use common::market::{Client, cn, resident_id, sale, sandbox, sim_state};
use common::sandbox::shutdown;
use gateway::sandbox::Sandbox;
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_in_checks_refuse_before_anything_is_reserved() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = sandbox(dir.path()).await;
    let (c, iccids) = cn(&sb);
    let with = |number: &str, credential: &str| {
        let mut body = sale(&iccids[0], &resident_id(7), "C1");
        body["msisdn"] =
            json!({"mode": "port_in", "number": number, "donor": "CMCC", "credential": credential});
        body
    };
    // China's MVNO blocks are never portable (contract: 422 number_not_portable).
    let (s, p) = c.order(&with("8617012345678", "AB12CD")).await;
    assert_eq!(
        (s, p["code"].as_str()),
        (422, Some("number_not_portable")),
        "{p}"
    );
    assert_eq!(p["field"], "msisdn.number");
    // A 授权码 of the wrong shape names the field and never echoes the value.
    let (s, p) = c.order(&with("8613812345678", "!")).await;
    assert_eq!(
        (s, p["code"].as_str()),
        (422, Some("credential_invalid")),
        "{p}"
    );
    assert_eq!(p["field"], "msisdn.credential");
    assert!(
        p["detail"].as_str().is_some_and(|d| d.contains("授权码")),
        "{p}"
    );
    assert_eq!(sim_state(&c, &iccids[0]).await, "available");
    // Nothing reached the hub.
    assert!(sb.porting.sim.requests().is_empty());
    shutdown(sb).await;
}

/// Polls order `id` until `pred` holds (bounded; not a timing assertion); on failure
/// shows the hub's deliveries too.
async fn until(
    sb: &Sandbox,
    c: &Client,
    id: &str,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..3_000 {
        let v = c.get(&format!("/v1/orders/{id}")).await;
        if pred(&v) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "{id} never reached {what}: {}\nhub deliveries: {:?}\nhub ports: {:?}",
        c.get(&format!("/v1/orders/{id}")).await,
        sb.porting.sim.callbacks(),
        sb.porting.sim.ports()
    );
}

fn status(s: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["status"] == s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn china_ports_at_the_next_full_hour_and_the_line_waits_for_its_number() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = sandbox(dir.path()).await;
    let (c, iccids) = cn(&sb);
    let mut body = sale(&iccids[1], &resident_id(11), "C1");
    body["msisdn"] = json!({"mode": "port_in", "number": "8613812345678", "donor": "CMCC", "credential": "AB12CD"});
    let (s, o) = c.order(&body).await;
    assert_eq!(s, 202, "{o}");
    assert_eq!(o["status"], "port_validating", "{o}");
    assert_eq!(o["msisdn_mode"], "port_in");
    assert_eq!(o["port"]["number"], "8613812345678");
    assert!(o["port"]["temporary_number"].is_null(), "{o}");
    assert!(
        !o.to_string().contains("AB12CD"),
        "the credential never shows: {o}"
    );
    let id = o["id"].as_str().expect("id").to_owned();
    let scheduled = until(&sb, &c, &id, "port_scheduled", status("port_scheduled")).await;
    assert!(scheduled["port"]["promised_at"].is_string(), "{scheduled}");
    // China: no HLR subscriber until cutover (the line waits for its number).
    assert_eq!(scheduled["steps"]["hlr_provision"]["state"], "pending");
    // Open ports are listed; the state filter keeps only their status (China locks at
    // once, so the port may be locked by now: the hub never waits for us to look).
    let listed = c.get("/v1/ports").await;
    let mine = listed["data"]
        .as_array()
        .expect("data")
        .iter()
        .find(|p| p["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} not listed: {listed}"));
    let st = mine["status"].as_str().expect("status");
    assert!(matches!(st, "port_scheduled" | "port_locked"), "{mine}");
    let other = if st == "port_locked" {
        "port_scheduled"
    } else {
        "port_locked"
    };
    let filtered = c.get(&format!("/v1/ports?state={other}")).await;
    assert!(
        !filtered["data"]
            .as_array()
            .expect("data")
            .iter()
            .any(|p| p["id"] == id),
        "{filtered}"
    );
    // The hub's clock reaches the next full hour: lock, cutover, completion.
    sb.porting.sim.advance(Duration::from_secs(2 * 3600));
    let done = until(&sb, &c, &id, "active", status("active")).await;
    assert_eq!(done["msisdn"], "8613812345678", "{done}");
    assert_eq!(done["port"]["state"], "completed");
    assert!(done["port"]["completed_at"].is_string());
    let line = c.get("/v1/subscriptions/8613812345678").await;
    assert_eq!(line["state"], "active", "{line}");
    let hlr = sb.hlr_sim.as_ref().expect("hlr sim");
    let imsi = done["imsi"].as_str().expect("imsi").parse().expect("imsi");
    assert_eq!(
        hlr.hlr(&imsi).map(|h| h.msisdn.to_string()).as_deref(),
        Some("8613812345678")
    );
    // Every transition is an event.
    let events = c.get("/v1/events?limit=200").await;
    let kinds: Vec<&str> = events["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter(|e| e["data"]["order_id"] == id)
        .filter_map(|e| e["type"].as_str())
        .collect();
    for k in [
        "port.submitted",
        "port.scheduled",
        "port.locked",
        "port.completed",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    shutdown(sb).await;
}

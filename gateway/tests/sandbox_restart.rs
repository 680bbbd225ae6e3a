//! A real `simgw serve --sandbox` process killed with SIGKILL and restarted on the same
//! data dir: its simulators keep their state. The HLR simulator still holds every
//! subscriber (read through its admin API), the SM-DP+ simulator still has the released
//! profile, whose download and installation then complete and reach the order through the
//! restarted gateway's callback listener. And the HLR's state is its own, not rebuilt from
//! the gateway's orders: an HLR emptied before a kill is empty after the restart. The
//! porting hub simulator keeps its ports and its clock: a port-in it had scheduled
//! completes after the restart when its clock (driven through `/sim/`) reaches the cutover.

mod common;

use adapters::http::HttpClient;
use bytes::Bytes;
use common::process::{Api, Simgw, forget_sandbox_json, sandbox_client, sandbox_json};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Starts `serve --sandbox` on `dir/data` (its simulators inside) and waits for the
/// sandbox.json it writes (removed first, so an earlier run's is not read).
async fn start(dir: &Path) -> (Simgw, Value) {
    let data = dir.join("data");
    forget_sandbox_json(&data);
    let config = dir.join("simgw.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\nlisten = \"127.0.0.1:0\"\n[sandbox]\nphysical_sims = 10\nesim_profiles = 5\nnumbers = 100\n",
            data
        ),
    )
    .expect("config");
    let serve = Simgw::serve_sandbox(&config, None);
    (serve, sandbox_json(&data).await)
}

/// A client trusting the sandbox's dev CA with the SM-DP+ admin identity.
fn smdp_client(sb: &Value) -> HttpClient {
    let ca = std::fs::read(sb["ca_cert"].as_str().expect("ca")).expect("read CA");
    let read =
        |k: &str| std::fs::read(PathBuf::from(sb["smdp_client"][k].as_str().expect(k))).expect(k);
    HttpClient::builder()
        .add_root_pem(&ca)
        .request_timeout(Duration::from_secs(10))
        .identity_pem(&read("cert"), &read("key"))
        .build()
        .expect("client")
}

/// Places an activation that must be accepted.
async fn order(api: &Api, key: &str, body: Value) -> Value {
    api.post("/v1/activations", key, &body).await
}

/// Polls activation `id` (bounded) until `done` holds; returns its last JSON.
async fn until(api: &Api, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    api.until(&format!("/v1/activations/{id}"), what, done)
        .await
}

/// The porting hub simulator's admin API: `method` on `path` (under `/sim/`) with a JSON
/// `body`; the status and the JSON answer.
async fn hub_admin(sb: &Value, method: http::Method, path: &str, body: Value) -> (u16, Value) {
    let admin = sb["porting_simulator"]["admin"]
        .as_str()
        .expect("hub admin");
    let r = sandbox_client(sb)
        .request(
            method,
            &format!("{admin}{path}"),
            &[("content-type", "application/json".to_owned())],
            Bytes::from(body.to_string()),
        )
        .await
        .expect("hub admin");
    (
        r.status,
        serde_json::from_slice(&r.body).unwrap_or(Value::Null),
    )
}

/// The hub's view of the port of `number`.
async fn hub_port(sb: &Value, number: &str) -> Value {
    let (status, ports) = hub_admin(sb, http::Method::GET, "ports", Value::Null).await;
    assert_eq!(status, 200, "{ports}");
    ports
        .as_array()
        .expect("ports")
        .iter()
        .find(|p| p["number"] == number)
        .cloned()
        .unwrap_or_else(|| panic!("no port of {number} at the hub: {ports}"))
}

/// `(IMSI, MSISDN)` of every subscriber, from the HLR simulator's admin API.
async fn hlr_subscribers(sb: &Value) -> Vec<(String, Option<String>)> {
    let admin = sb["hlr_simulator"]["admin"].as_str().expect("HLR admin");
    let r = sandbox_client(sb)
        .get(&format!("{admin}state"), &[])
        .await
        .expect("GET /sim/state");
    assert_eq!(r.status, 200);
    let v: Value = serde_json::from_slice(&r.body).expect("json");
    v["subscribers"]
        .as_array()
        .expect("subscribers")
        .iter()
        .map(|s| {
            (
                s["imsi"].as_str().expect("imsi").to_owned(),
                s["msisdn"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

/// A customer action through the SM-DP+ simulator's admin API; the state it left.
async fn smdp_action(sb: &Value, iccid: &str, action: &str, body: Value) -> Value {
    let admin = sb["smdp_simulator"]["admin"]
        .as_str()
        .expect("SM-DP+ admin");
    let r = smdp_client(sb)
        .post(
            &format!("{admin}profiles/{iccid}/{action}"),
            &[("content-type", "application/json".into())],
            Bytes::from(body.to_string()),
        )
        .await
        .expect("POST action");
    let v: Value = serde_json::from_slice(&r.body).expect("json");
    assert_eq!(r.status, 200, "{action}: {v}");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulators_keep_their_state_across_a_kill_9() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (serve, sb) = start(dir.path()).await;
    let api = Api::operator(&sb);
    let mut lines = Vec::new();
    for (i, iccid) in sb["physical_iccids"]
        .as_array()
        .expect("ICCIDs")
        .iter()
        .take(3)
        .enumerate()
    {
        let body = json!({"sim": {"type": "physical", "iccid": iccid}, "product": sb["product"]});
        let v = order(&api, &format!("line-{i}"), body).await;
        lines.push(v["id"].as_str().expect("id").to_owned());
    }
    let body = json!({"sim": {"type": "esim"}, "product": sb["product"]});
    let esim = order(&api, "esim-1", body).await;
    let esim_id = esim["id"].as_str().expect("id").to_owned();
    for id in &lines {
        let v = until(&api, id, "active", |v| v["status"] == "active").await;
        assert!(v["msisdn"].is_string(), "{v}");
    }
    // Released, not downloaded: the customer has not scanned the code yet.
    let v = until(&api, &esim_id, "active", |v| v["status"] == "active").await;
    assert_eq!(v["esim"]["state"], "released", "{v}");
    let iccid = v["iccid"].as_str().expect("iccid").to_owned();
    let mut before = hlr_subscribers(&sb).await;
    before.sort();
    assert_eq!(before.len(), 4, "three lines and the eSIM: {before:?}");

    serve.kill9();
    let (serve, sb) = start(dir.path()).await;
    let mut after = hlr_subscribers(&sb).await;
    after.sort();
    assert_eq!(after, before, "the HLR simulator kept every subscriber");

    // The download the customer had not done yet completes against the kept profile,
    // and its notifications reach the order through the restarted gateway.
    let api = Api::operator(&sb);
    let s = smdp_action(&sb, &iccid, "download", Value::Null).await;
    assert_eq!(s["state"], "Downloaded", "{s}");
    until(&api, &esim_id, "downloaded", |v| {
        v["esim"]["state"] == "downloaded"
    })
    .await;
    smdp_action(&sb, &iccid, "install", json!("success")).await;
    let v = until(&api, &esim_id, "installed", |v| {
        v["esim"]["state"] == "installed"
    })
    .await;
    assert_eq!(v["status"], "active", "{v}");

    // The HLR simulator's state is its own: emptied, then killed, it stays empty (it is
    // not rebuilt from the gateway's orders, so a check of the two can find it).
    let admin = sb["hlr_simulator"]["admin"].as_str().expect("HLR admin");
    let r = sandbox_client(&sb)
        .request(
            http::Method::DELETE,
            &format!("{admin}state"),
            &[],
            Bytes::new(),
        )
        .await
        .expect("DELETE /sim/state");
    assert_eq!(r.status, 204);
    serve.kill9();
    let (_serve, sb) = start(dir.path()).await;
    assert_eq!(hlr_subscribers(&sb).await, Vec::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_in_scheduled_at_the_hub_completes_after_a_kill_9() {
    const PORTED: &str = "447911000042";
    let dir = tempfile::tempdir().expect("tempdir");
    let (serve, sb) = start(dir.path()).await;
    // The hub's time stands still from now on, so nothing locks before the test moves it.
    let (status, clock) =
        hub_admin(&sb, http::Method::PUT, "clock", json!({"mode": "driven"})).await;
    assert_eq!(status, 200, "{clock}");
    let uk = &sb["markets"]["uk"];
    let key = uk["api_key"].as_str().expect("UK key").to_owned();
    let api = Api::new(&sb, &key);
    let body = json!({
        "sim": {"type": "physical", "iccid": uk["physical_iccids"][0]},
        "product": sb["product"],
        "channel": {"kind": "store", "store_id": "SZ-0042", "terminal_id": "T7", "staff_id": "C1"},
        "msisdn": {"mode": "port_in", "number": PORTED, "donor": "EE", "credential": "ABC123456"}
    });
    let o = api.post("/v1/activations", "port-1", &body).await;
    let order = format!("/v1/orders/{}", o["id"].as_str().expect("id"));
    api.until(&order, "port_scheduled", |v| {
        v["status"] == "port_scheduled"
    })
    .await;
    let before = hub_port(&sb, PORTED).await;
    assert_eq!(before["state"], "scheduled", "{before}");

    serve.kill9();
    let (_serve, sb) = start(dir.path()).await;
    // The port is there as it was (timetable, pending timer, timeline), and so is the
    // hub's time.
    assert_eq!(hub_port(&sb, PORTED).await, before);
    let (_, after) = hub_admin(&sb, http::Method::GET, "clock", Value::Null).await;
    assert_eq!(
        (&after["now"], &after["mode"]),
        (&clock["now"], &clock["mode"])
    );
    // The hub's clock reaches the cutover (locked at 17:00 the working day before): the
    // lock and the cutover reach the restarted gateway, which moves the number and
    // acknowledges, and the hub completes the port.
    let five_days = json!({"ms": 5 * 24 * 3_600_000u64});
    let (status, moved) = hub_admin(&sb, http::Method::POST, "clock/advance", five_days).await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["emitted"], 2, "locked and cutover: {moved}");
    let api = Api::new(&sb, &key);
    let done = api
        .until(&order, "active", |v| v["status"] == "active")
        .await;
    assert_eq!(done["msisdn"], PORTED, "{done}");
    assert_eq!(done["port"]["state"], "completed", "{done}");
    let port = hub_port(&sb, PORTED).await;
    assert_eq!(port["state"], "completed", "{port}");
    let kinds: Vec<_> = port["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        kinds,
        ["accepted", "scheduled", "locked", "cutover", "completed"]
    );
}

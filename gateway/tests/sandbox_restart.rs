//! A real `simgw serve --sandbox` process killed with SIGKILL and restarted on the same
//! data dir: its simulators keep their state. The HLR simulator still holds every
//! subscriber (read through its admin API), the SM-DP+ simulator still has the released
//! profile, whose download and installation then complete and reach the order through the
//! restarted gateway's callback listener. And the HLR's state is its own, not rebuilt from
//! the gateway's orders: an HLR emptied before a kill is empty after the restart.

use adapters::http::HttpClient;
use bytes::Bytes;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The serving process, killed when the test ends however it ends.
struct Serve(Child);

impl Serve {
    /// SIGKILL, and reap.
    fn kill9(mut self) {
        self.0.kill().expect("SIGKILL");
        self.0.wait().expect("reap");
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `serve --sandbox` on `dir/data` (its simulators inside) and waits for the
/// sandbox.json it writes (removed first, so an earlier run's is not read).
async fn start(dir: &Path) -> (Serve, Value) {
    let data = dir.join("data");
    let file = data.join("sandbox.json");
    let _ = std::fs::remove_file(&file);
    let config = dir.join("simgw.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\nlisten = \"127.0.0.1:0\"\n[sandbox]\nphysical_sims = 10\nesim_profiles = 5\nnumbers = 100\n",
            data
        ),
    )
    .expect("config");
    let child = Command::new(env!("CARGO_BIN_EXE_simgw"))
        .args(["serve", "--sandbox", "--config"])
        .arg(&config)
        .env("SIMGW_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn simgw");
    let serve = Serve(child);
    for _ in 0..3_000 {
        if let Ok(bytes) = std::fs::read(&file) {
            if let Ok(v) = serde_json::from_slice::<Value>(&bytes) {
                return (serve, v);
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("sandbox.json never appeared");
}

/// A client trusting the sandbox's dev CA, with the SM-DP+ admin identity when asked.
fn client(sb: &Value, smdp_identity: bool) -> HttpClient {
    let ca = std::fs::read(sb["ca_cert"].as_str().expect("ca")).expect("read CA");
    let mut b = HttpClient::builder()
        .add_root_pem(&ca)
        .request_timeout(Duration::from_secs(10));
    if smdp_identity {
        let read = |k: &str| {
            std::fs::read(PathBuf::from(sb["smdp_client"][k].as_str().expect(k))).expect(k)
        };
        b = b.identity_pem(&read("cert"), &read("key"));
    }
    b.build().expect("client")
}

/// The gateway's API with the sandbox's operator key.
struct Api {
    http: HttpClient,
    base: String,
    auth: String,
}

impl Api {
    fn new(sb: &Value) -> Self {
        Self {
            http: client(sb, false),
            base: sb["base_url"].as_str().expect("base_url").to_owned(),
            auth: format!("Bearer {}", sb["api_key"].as_str().expect("api_key")),
        }
    }

    async fn order(&self, key: &str, body: Value) -> Value {
        let r = self
            .http
            .post(
                &format!("{}/v1/activations", self.base),
                &[
                    ("authorization", self.auth.clone()),
                    ("idempotency-key", key.to_owned()),
                    ("content-type", "application/json".into()),
                ],
                Bytes::from(body.to_string()),
            )
            .await
            .expect("POST");
        let v: Value = serde_json::from_slice(&r.body).expect("json");
        assert_eq!(r.status, 202, "{v}");
        v
    }

    /// Polls order `id` (bounded) until `done` holds; returns its last JSON.
    async fn until(&self, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let mut last = Value::Null;
        for _ in 0..2_000 {
            let r = self
                .http
                .get(
                    &format!("{}/v1/activations/{id}", self.base),
                    &[("authorization", self.auth.clone())],
                )
                .await
                .expect("GET");
            last = serde_json::from_slice(&r.body).expect("json");
            if done(&last) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("order {id} never became {what}: {last}");
    }
}

/// `(IMSI, MSISDN)` of every subscriber, from the HLR simulator's admin API.
async fn hlr_subscribers(sb: &Value) -> Vec<(String, Option<String>)> {
    let admin = sb["hlr_simulator"]["admin"].as_str().expect("HLR admin");
    let r = client(sb, false)
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
    let r = client(sb, true)
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
    let api = Api::new(&sb);
    let mut lines = Vec::new();
    for (i, iccid) in sb["physical_iccids"]
        .as_array()
        .expect("ICCIDs")
        .iter()
        .take(3)
        .enumerate()
    {
        let body = json!({"sim": {"type": "physical", "iccid": iccid}, "product": sb["product"]});
        let v = api.order(&format!("line-{i}"), body).await;
        lines.push(v["id"].as_str().expect("id").to_owned());
    }
    let body = json!({"sim": {"type": "esim"}, "product": sb["product"]});
    let esim = api.order("esim-1", body).await;
    let esim_id = esim["id"].as_str().expect("id").to_owned();
    for id in &lines {
        let v = api.until(id, "active", |v| v["status"] == "active").await;
        assert!(v["msisdn"].is_string(), "{v}");
    }
    // Released, not downloaded: the customer has not scanned the code yet.
    let v = api
        .until(&esim_id, "active", |v| v["status"] == "active")
        .await;
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
    let api = Api::new(&sb);
    let s = smdp_action(&sb, &iccid, "download", Value::Null).await;
    assert_eq!(s["state"], "Downloaded", "{s}");
    api.until(&esim_id, "downloaded", |v| {
        v["esim"]["state"] == "downloaded"
    })
    .await;
    smdp_action(&sb, &iccid, "install", json!("success")).await;
    let v = api
        .until(&esim_id, "installed", |v| v["esim"]["state"] == "installed")
        .await;
    assert_eq!(v["status"], "active", "{v}");

    // The HLR simulator's state is its own: emptied, then killed, it stays empty (it is
    // not rebuilt from the gateway's orders, so a check of the two can find it).
    let admin = sb["hlr_simulator"]["admin"].as_str().expect("HLR admin");
    let r = client(&sb, false)
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

//! Crash tests with a real process: `simgw serve --sandbox` spawned on a config file and
//! killed with SIGKILL, the `sandbox.json` it writes when it is up, its API as a tenant
//! key calls it, and a bounded poll for conditions outside the gateway (a simulator's
//! state).

use adapters::http::HttpClient;
use bytes::Bytes;
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `simgw` process, killed (and reaped) when dropped, however the test ends.
pub struct Simgw(Child);

impl Simgw {
    /// Starts `simgw serve --sandbox --config <config>`, quiet; with `hlr` (its URL and
    /// password), against that HLR instead of the sandbox's own simulator.
    pub fn serve_sandbox(config: &Path, hlr: Option<(&str, &str)>) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_simgw"));
        cmd.args(["serve", "--sandbox", "--config"]).arg(config);
        if let Some((url, password)) = hlr {
            cmd.args(["--hlr", url]).env("SIMGW_HLR_PASSWORD", password);
        }
        let child = cmd
            .env("SIMGW_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn simgw");
        Self(child)
    }

    /// SIGKILL, and reap.
    pub fn kill9(mut self) {
        self.0.kill().expect("SIGKILL");
        self.0.wait().expect("reap");
    }
}

impl Drop for Simgw {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The `sandbox.json` of the data dir `data`.
fn sandbox_file(data: &Path) -> std::path::PathBuf {
    data.join("sandbox.json")
}

/// Waits (bounded) until the sandbox on data dir `data` has written its `sandbox.json`,
/// and reads it.
pub async fn sandbox_json(data: &Path) -> Value {
    let file = sandbox_file(data);
    for _ in 0..3_000 {
        let read = std::fs::read(&file)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
        if let Some(v) = read {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("sandbox.json never appeared");
}

/// Removes the `sandbox.json` of data dir `data`, if any, so [`sandbox_json`] reads the
/// one the next start writes.
pub fn forget_sandbox_json(data: &Path) {
    let _ = std::fs::remove_file(sandbox_file(data));
}

/// An HTTPS client trusting the sandbox's development CA (`ca_cert` of its sandbox.json).
pub fn sandbox_client(sb: &Value) -> HttpClient {
    let ca = std::fs::read(sb["ca_cert"].as_str().expect("ca_cert")).expect("read CA");
    HttpClient::builder()
        .add_root_pem(&ca)
        .request_timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// Polls (bounded) until `pred` holds; false if it never did.
pub async fn eventually(mut pred: impl FnMut() -> bool) -> bool {
    for _ in 0..3_000 {
        if pred() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    pred()
}

/// Whether an order is `active`, `completed` or `failed`.
pub fn terminal(v: &Value) -> bool {
    ["active", "completed", "failed"].contains(&v["status"].as_str().unwrap_or(""))
}

/// A sandbox's API as one tenant key calls it.
pub struct Api {
    http: HttpClient,
    base: String,
    auth: String,
}

impl Api {
    /// The API of the sandbox `sb` describes, called with `key`.
    pub fn new(sb: &Value, key: &str) -> Self {
        Self {
            http: sandbox_client(sb),
            base: sb["base_url"].as_str().expect("base_url").to_owned(),
            auth: format!("Bearer {key}"),
        }
    }

    /// The API with the sandbox tenant's operator key (`api_key`).
    pub fn operator(sb: &Value) -> Self {
        Self::new(sb, sb["api_key"].as_str().expect("api_key"))
    }

    /// `GET path`, which must answer 200: its JSON.
    pub async fn get(&self, path: &str) -> Value {
        let (status, v) = self.get_raw(path).await;
        assert_eq!(status, 200, "{path}: {v}");
        v
    }

    /// `GET path`: the status and the JSON answer (`Null` if it is not JSON).
    pub async fn get_raw(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(
                &format!("{}{path}", self.base),
                &[("authorization", self.auth.clone())],
            )
            .await
            .expect("GET");
        (
            r.status,
            serde_json::from_slice(&r.body).unwrap_or(Value::Null),
        )
    }

    /// `POST path` with JSON `body` and Idempotency-Key `key`: the status and the JSON
    /// answer (`Null` if it is not JSON).
    pub async fn post_raw(&self, path: &str, key: &str, body: &Value) -> (u16, Value) {
        let r = self
            .http
            .post(
                &format!("{}{path}", self.base),
                &[
                    ("authorization", self.auth.clone()),
                    ("idempotency-key", key.to_owned()),
                    ("content-type", "application/json".to_owned()),
                ],
                Bytes::from(body.to_string()),
            )
            .await
            .expect("POST");
        (
            r.status,
            serde_json::from_slice(&r.body).unwrap_or(Value::Null),
        )
    }

    /// `POST path`, which must be accepted (202): its JSON.
    pub async fn post(&self, path: &str, key: &str, body: &Value) -> Value {
        let (status, v) = self.post_raw(path, key, body).await;
        assert_eq!(status, 202, "{path}: {v}");
        v
    }

    /// Polls `GET path` (bounded) until `pred` holds; returns the last JSON, or panics
    /// saying it never became `what`.
    pub async fn until(&self, path: &str, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let mut last = Value::Null;
        for _ in 0..3_000 {
            last = self.get(path).await;
            if pred(&last) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{path} never became {what}: {last}");
    }
}

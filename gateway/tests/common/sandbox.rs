//! Sandbox harness: the in-process sandbox with its SM-DP+ simulator and callback listener
//! on ephemeral ports, and the tenant's API client trusting the sandbox's dev CA.

use adapters::http::{HttpClient, HttpResponse};
use bytes::Bytes;
use gateway::config::Config;
use gateway::sandbox::Sandbox;
use serde_json::{Value, json};
use std::time::Duration;

/// A sandbox with eSIM: `esim_profiles` seeded profiles, 5 physical SIMs, 100 numbers, and
/// retries quick enough for tests.
pub fn esim_config(dir: &std::path::Path, esim_profiles: u32) -> Config {
    let mut c = Config {
        data_dir: dir.to_owned(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..Config::default()
    };
    c.esim.callback_listen = Some("127.0.0.1:0".parse().expect("addr"));
    c.sandbox.physical_sims = 5;
    c.sandbox.esim_profiles = esim_profiles;
    c.sandbox.numbers = 100;
    c.engine.backoff_base_ms = 10;
    c.engine.backoff_max_ms = 50;
    c
}

/// Stops the gateway, then the simulators.
pub async fn shutdown(sb: Sandbox) {
    sb.shutdown().await;
}

/// An activation request for an eSIM of `product`.
pub fn esim_body(product: &str) -> Value {
    json!({"sim": {"type": "esim"}, "product": product})
}

/// Whether an order is in status `s`.
pub fn is_status(s: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["status"] == s
}

/// Whether an order is `active`, `completed` or `failed`.
pub fn is_terminal(v: &Value) -> bool {
    v["status"] == "active" || v["status"] == "completed" || v["status"] == "failed"
}

/// The sandbox API as its tenant calls it.
pub struct Api {
    http: HttpClient,
    base: String,
    auth: String,
}

impl Api {
    pub fn new(sb: &Sandbox) -> Self {
        let ca = std::fs::read(&sb.info.ca_cert).expect("ca");
        Self {
            http: HttpClient::builder()
                .add_root_pem(&ca)
                .request_timeout(Duration::from_secs(10))
                .build()
                .expect("client"),
            base: sb.info.base_url.clone(),
            auth: format!("Bearer {}", sb.info.api_key),
        }
    }

    /// POSTs `body` to `path` with `headers` besides authorization: the status and the
    /// JSON answer (`Null` if it is not JSON).
    pub async fn post(&self, path: &str, headers: &[(&str, &str)], body: String) -> (u16, Value) {
        let mut h = vec![("authorization", self.auth.clone())];
        h.extend(headers.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let r = self
            .http
            .post(&format!("{}{path}", self.base), &h, Bytes::from(body))
            .await
            .expect("POST");
        (
            r.status,
            serde_json::from_slice(&r.body).unwrap_or(Value::Null),
        )
    }

    /// Places an activation with idempotency key `key`.
    pub async fn order(&self, key: &str, body: Value) -> (u16, Value) {
        let headers = [
            ("idempotency-key", key),
            ("content-type", "application/json"),
        ];
        self.post("/v1/activations", &headers, body.to_string())
            .await
    }

    /// Places an eSIM activation of `product` that must be accepted; returns its id.
    pub async fn order_esim(&self, key: &str, product: &str) -> String {
        let (status, created) = self.order(key, esim_body(product)).await;
        assert_eq!(status, 202, "{created}");
        created["id"].as_str().expect("id").to_owned()
    }

    pub async fn get_raw(&self, path: &str) -> HttpResponse {
        self.http
            .get(
                &format!("{}{path}", self.base),
                &[("authorization", self.auth.clone())],
            )
            .await
            .expect("GET")
    }

    /// The order `id` (of any kind), which must exist.
    pub async fn get(&self, id: &str) -> Value {
        let r = self.get_raw(&format!("/v1/orders/{id}")).await;
        assert_eq!(r.status, 200);
        serde_json::from_slice(&r.body).expect("json")
    }

    /// Polls until `pred` holds for the order (bounded; not a timing assertion).
    pub async fn until(&self, id: &str, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..1_000 {
            let v = self.get(id).await;
            if pred(&v) {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("order {id} never reached {what}: {}", self.get(id).await);
    }
}

//! What every case gets: the HTTPS client trusting the sandbox CA, the gateway's address
//! and key, the SIM allocator, and the request/polling helpers cases share.

use super::config::{SuiteConfig, SuiteError, read_ca};
use super::reply::Reply;
use super::sims::SimAllocator;
use super::simulator::SimAdmin;
use adapters::http::HttpClient;
use bytes::Bytes;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Bound on one HTTP exchange: a gateway that needs longer than this for a single
/// request is failing the contract anyway, and the bound keeps a hung gateway from
/// stalling a pipeline.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause between two polls of an order: short enough to time fast activations well,
/// long enough not to load the gateway.
const POLL_INTERVAL: Duration = Duration::from_millis(25);

/// Which credentials a request carries.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Auth<'a> {
    /// The sandbox tenant's key.
    Tenant,
    /// No `Authorization` header.
    Missing,
    /// This bearer key.
    Key(&'a str),
}

/// An order the gateway accepted with `202`.
#[derive(Debug, Clone)]
pub(crate) struct Created {
    /// The ICCID requested.
    pub iccid: String,
    /// The Idempotency-Key used.
    pub key: String,
    /// The exact body sent.
    pub body: String,
    /// The `202` answer.
    pub reply: Reply,
    /// Its JSON.
    pub order: Value,
    /// The order id.
    pub id: String,
}

/// A market tenant of the sandbox: its key, product and SIMs.
pub(crate) struct MarketCtx {
    /// Its operator key.
    pub api_key: String,
    /// Its product.
    pub product: String,
    /// Its SIMs not yet handed out in this run.
    pub sims: SimAllocator,
}

/// The shared state of one run.
pub(crate) struct Ctx {
    http: HttpClient,
    base: String,
    metrics_url: String,
    api_key: String,
    /// MCC+MNC of the tenant's IMSIs.
    pub plmn: String,
    /// The product to activate.
    pub product: String,
    /// Every ICCID listed in sandbox.json (also those already handed out).
    pub iccids: Vec<String>,
    sims: SimAllocator,
    /// The simulator's admin API, when the sandbox has one.
    pub simulator: Option<SimAdmin>,
    /// How long an activation may take to reach a terminal state.
    pub timeout: Duration,
    /// The `cn` market tenant, when the sandbox has one.
    pub cn: Option<MarketCtx>,
    /// The `uk` market tenant, when the sandbox has one.
    pub uk: Option<MarketCtx>,
    /// The porting hub simulator's admin API, when the sandbox has one.
    pub porting: Option<super::porting_admin::PortingAdmin>,
    /// The identity verifier simulator's admin API, when the sandbox has one.
    pub identity: Option<SimAdmin>,
    run_id: String,
    seq: AtomicU64,
}

impl Ctx {
    /// Builds the client from the sandbox's CA certificate.
    pub fn new(cfg: &SuiteConfig) -> Result<Self, SuiteError> {
        let sb = &cfg.sandbox;
        let ca = read_ca(&sb.ca_cert)?;
        let http = HttpClient::builder()
            .add_root_pem(&ca)
            .request_timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| SuiteError::Client(e.to_string()))?;
        let porting = sb
            .porting_simulator
            .as_ref()
            .and_then(|p| p["admin"].as_str())
            .map(|admin| super::porting_admin::PortingAdmin::new(http.clone(), admin));
        let identity = sb
            .identity_simulator
            .as_ref()
            .and_then(|p| p["admin"].as_str())
            .map(|admin| SimAdmin::new(http.clone(), admin));
        Ok(Self {
            identity,
            simulator: sb
                .hlr_simulator
                .as_ref()
                .map(|s| SimAdmin::new(http.clone(), &s.admin)),
            http,
            base: sb.base_url.trim_end_matches('/').to_owned(),
            metrics_url: sb
                .metrics_url
                .clone()
                .unwrap_or_else(|| format!("{}/metrics", sb.base_url.trim_end_matches('/'))),
            api_key: sb.api_key.clone(),
            plmn: sb.plmn.clone(),
            product: sb.product.clone(),
            iccids: sb.physical_iccids.clone(),
            sims: SimAllocator::new(&sb.physical_iccids),
            timeout: cfg.timeout,
            cn: sb.markets.get("cn").map(market_ctx),
            uk: sb.markets.get("uk").map(market_ctx),
            porting,
            // Idempotency keys live 24 h on the gateway: a per-run prefix keeps a second
            // run from replaying the first run's orders.
            run_id: random_hex(6),
            seq: AtomicU64::new(0),
        })
    }

    /// The simulator, or a failure reason (cases needing it are skipped before this).
    pub fn sim(&self) -> Result<&SimAdmin, String> {
        self.simulator
            .as_ref()
            .ok_or_else(|| "no HLR simulator in sandbox.json".to_owned())
    }

    /// A fresh Idempotency-Key, unique across runs.
    pub fn idempotency_key(&self) -> String {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        format!("conformance-{}-{n}", self.run_id)
    }

    /// The minimal valid activation body for `iccid`.
    pub fn body(&self, iccid: &str) -> Value {
        json!({"sim": {"type": "physical", "iccid": iccid}, "product": self.product})
    }

    /// An ICCID that requests may name but must be refused (the next unallocated one).
    pub fn spare_iccid(&self) -> Result<String, String> {
        self.sims
            .peek()
            .ok_or_else(|| "no SIM left in sandbox.json".to_owned())
    }

    fn auth_header(&self, auth: Auth<'_>) -> Option<(&'static str, String)> {
        match auth {
            Auth::Tenant => Some(("authorization", format!("Bearer {}", self.api_key))),
            Auth::Missing => None,
            Auth::Key(k) => Some(("authorization", format!("Bearer {k}"))),
        }
    }

    /// `GET path` on the gateway.
    pub async fn get(&self, path: &str, auth: Auth<'_>) -> Result<Reply, String> {
        let what = format!("GET {path}");
        let headers: Vec<_> = self.auth_header(auth).into_iter().collect();
        let response = self
            .http
            .get(&format!("{}{path}", self.base), &headers)
            .await
            .map_err(|e| format!("{what}: {e}"))?;
        Ok(Reply { what, response })
    }

    /// `GET /metrics`, on the metrics listener when sandbox.json names one.
    pub async fn get_metrics(&self) -> Result<Reply, String> {
        let what = format!("GET {}", self.metrics_url);
        let response = self
            .http
            .get(&self.metrics_url, &[])
            .await
            .map_err(|e| format!("{what}: {e}"))?;
        Ok(Reply { what, response })
    }

    /// `POST /v1/activations` with a JSON content type.
    pub async fn post_activation(
        &self,
        auth: Auth<'_>,
        idempotency_key: Option<&str>,
        body: impl Into<Bytes>,
    ) -> Result<Reply, String> {
        self.post_json("/v1/activations", auth, idempotency_key, body)
            .await
    }

    /// `POST path` with a JSON content type.
    pub async fn post_json(
        &self,
        path: &str,
        auth: Auth<'_>,
        idempotency_key: Option<&str>,
        body: impl Into<Bytes>,
    ) -> Result<Reply, String> {
        let what = format!("POST {path}");
        let mut headers: Vec<_> = self.auth_header(auth).into_iter().collect();
        if let Some(k) = idempotency_key {
            headers.push(("idempotency-key", k.to_owned()));
        }
        headers.push(("content-type", "application/json".to_owned()));
        let response = self
            .http
            .post(&format!("{}{path}", self.base), &headers, body.into())
            .await
            .map_err(|e| format!("{what}: {e}"))?;
        Ok(Reply { what, response })
    }

    /// `method path` with an optional JSON body.
    pub async fn send(
        &self,
        method: http::Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<&Value>,
    ) -> Result<Reply, String> {
        let what = format!("{method} {path}");
        let mut headers: Vec<_> = self.auth_header(auth).into_iter().collect();
        let bytes = match body {
            Some(b) => {
                headers.push(("content-type", "application/json".to_owned()));
                Bytes::from(b.to_string())
            }
            None => Bytes::new(),
        };
        let response = self
            .http
            .request(method, &format!("{}{path}", self.base), &headers, bytes)
            .await
            .map_err(|e| format!("{what}: {e}"))?;
        Ok(Reply { what, response })
    }

    /// `method path` with exactly `headers` (no API key added: the store terminal's
    /// cookie sessions) and an optional JSON body.
    pub async fn send_raw(
        &self,
        method: http::Method,
        path: &str,
        headers: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Reply, String> {
        let what = format!("{method} {path}");
        let mut h: Vec<(&str, String)> = headers.to_vec();
        let bytes = match body {
            Some(b) => {
                h.push(("content-type", "application/json".to_owned()));
                Bytes::from(b.to_string())
            }
            None => Bytes::new(),
        };
        let response = self
            .http
            .request(method, &format!("{}{path}", self.base), &h, bytes)
            .await
            .map_err(|e| format!("{what}: {e}"))?;
        Ok(Reply { what, response })
    }

    /// Polls a lifecycle order (`GET /v1/orders/{id}`) until `completed` or `failed`.
    pub async fn wait_order(&self, id: &str) -> Result<Value, String> {
        self.poll(&format!("/v1/orders/{id}"), id, &["completed", "failed"])
            .await
    }

    /// Activates the next free SIM: takes SIMs from the allocator, passing over those an
    /// earlier run left reserved or active (`409 sim_not_available`), until one is
    /// accepted with `202`.
    pub async fn activate_next(&self) -> Result<Created, String> {
        loop {
            let iccid = self.sims.take()?;
            match self.activate(&iccid).await {
                Err(Refusal::SimNotAvailable) => continue,
                Err(Refusal::Other(reason)) => return Err(reason),
                Ok(created) => return Ok(created),
            }
        }
    }

    /// Activates `iccid` with a fresh Idempotency-Key, expecting `202`.
    pub async fn activate_iccid(&self, iccid: &str) -> Result<Created, String> {
        self.activate(iccid).await.map_err(|r| match r {
            Refusal::SimNotAvailable => {
                format!("POST /v1/activations of {iccid}: refused as sim_not_available")
            }
            Refusal::Other(reason) => reason,
        })
    }

    async fn activate(&self, iccid: &str) -> Result<Created, Refusal> {
        let key = self.idempotency_key();
        let body = self.body(iccid).to_string();
        let reply = self
            .post_activation(Auth::Tenant, Some(&key), body.clone())
            .await
            .map_err(Refusal::Other)?;
        if reply.status() == 409 && reply.json().is_ok_and(|p| p["code"] == "sim_not_available") {
            return Err(Refusal::SimNotAvailable);
        }
        let order = reply.expect_json(202).map_err(Refusal::Other)?;
        let id = order["id"]
            .as_str()
            .filter(|id| !id.is_empty())
            .ok_or_else(|| {
                Refusal::Other(format!("202 without an order `id`: {}", reply.excerpt()))
            })?
            .to_owned();
        Ok(Created {
            iccid: iccid.to_owned(),
            key,
            body,
            reply,
            order,
            id,
        })
    }

    /// Polls the order until `active` or `failed`, within the activation timeout.
    pub async fn wait_terminal(&self, id: &str) -> Result<Value, String> {
        self.wait_until(id, &["active", "failed"]).await
    }

    /// Polls the order until `active`. An order that fails, or starts compensating
    /// (which only ever leads to `failed`), is reported at once with its error.
    pub async fn wait_active(&self, id: &str) -> Result<Value, String> {
        let order = self
            .wait_until(id, &["active", "failed", "compensating"])
            .await?;
        if order["status"] != "active" {
            return Err(format!(
                "order {id} ended `{}` instead of `active`, with error.code `{}`: {}",
                order["status"].as_str().unwrap_or("?"),
                order["error"]["code"].as_str().unwrap_or("?"),
                order["error"]["detail"].as_str().unwrap_or("")
            ));
        }
        Ok(order)
    }

    /// Lets an order a case created stop provisioning before the next case runs (so
    /// fault settings of later cases never hit it), and returns its status. Its outcome
    /// is another case's business, so a timeout is only logged.
    pub async fn settle(&self, id: &str) -> Option<String> {
        match self
            .wait_until(id, &["active", "failed", "compensating"])
            .await
        {
            Ok(order) => order["status"].as_str().map(str::to_owned),
            Err(e) => {
                tracing::warn!(order = id, "order did not settle: {e}");
                None
            }
        }
    }

    /// Polls `GET /v1/activations/{id}` until its status is one of `stop`.
    async fn wait_until(&self, id: &str, stop: &[&str]) -> Result<Value, String> {
        self.poll(&format!("/v1/activations/{id}"), id, stop).await
    }

    /// Polls the order at `path` until its status is one of `stop`.
    async fn poll(&self, path: &str, id: &str, stop: &[&str]) -> Result<Value, String> {
        self.poll_with(Auth::Tenant, path, id, stop).await
    }

    /// Polls `path` (an order) with another tenant's key until its status is in `stop`.
    pub async fn poll_as(&self, key: &str, path: &str, stop: &[&str]) -> Result<Value, String> {
        self.poll_with(Auth::Key(key), path, path, stop).await
    }

    async fn poll_with(
        &self,
        auth: Auth<'_>,
        path: &str,
        id: &str,
        stop: &[&str],
    ) -> Result<Value, String> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            let order = self.get(path, auth).await?.expect_json(200)?;
            let status = order["status"].as_str().unwrap_or_default();
            if stop.contains(&status) {
                return Ok(order);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(format!(
                    "order {id} still `{status}` after {} s (error: {}, steps: {})",
                    self.timeout.as_secs(),
                    order["error"],
                    order["steps"]
                ));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// The value of one Prometheus series of `GET /metrics`, e.g.
    /// `simgw_orders_total{event="created"}`.
    pub async fn metric(&self, series: &str) -> Result<u64, String> {
        let r = self.get_metrics().await?;
        r.expect_status(200)?;
        parse_metric(&r.text(), series)
            .ok_or_else(|| format!("GET /metrics: no numeric series `{series}`"))
    }
}

fn market_ctx(m: &super::config::MarketTenant) -> MarketCtx {
    MarketCtx {
        api_key: m.api_key.clone(),
        product: m.product.clone(),
        sims: SimAllocator::new(&m.physical_iccids),
    }
}

/// Why an activation was not accepted.
enum Refusal {
    /// `409 sim_not_available`: the card is taken (by an earlier run, typically).
    SimNotAvailable,
    /// Anything else, as a failure reason.
    Other(String),
}

/// Reads a series value from Prometheus text format (integer counters; a float is
/// truncated, which is exact for counters).
pub(crate) fn parse_metric(text: &str, series: &str) -> Option<u64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(|v| v as u64)
}

/// `n` random bytes. Falls back to the clock if the OS random source fails: the values
/// only have to differ between runs, not be secret.
pub(crate) fn random_bytes(n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        for (i, byte) in b.iter_mut().enumerate() {
            *byte = (nanos >> ((i % 16) * 8)) as u8;
        }
    }
    b
}

/// `n` random bytes as lower-case hex.
pub(crate) fn random_hex(n: usize) -> String {
    random_bytes(n).iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_prometheus_series() {
        let text = "# HELP simgw_orders_total x\n# TYPE simgw_orders_total counter\n\
                    simgw_orders_total{event=\"created\"} 7\n\
                    simgw_orders_total{event=\"created_late\"} 9\n\
                    simgw_up 1.0 1700000000\n";
        assert_eq!(
            parse_metric(text, "simgw_orders_total{event=\"created\"}"),
            Some(7)
        );
        assert_eq!(parse_metric(text, "simgw_up"), Some(1));
        assert_eq!(
            parse_metric(text, "simgw_orders_total{event=\"failed\"}"),
            None
        );
    }

    #[test]
    fn random_hex_has_the_requested_length_and_varies() {
        assert_eq!(random_hex(6).len(), 12);
        assert_ne!(random_hex(16), random_hex(16));
    }
}

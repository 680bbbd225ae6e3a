//! A client for the HLR simulator's admin API (`GET state`, `PUT faults`, `POST rules`),
//! used to observe the southbound side and to inject faults. The JSON shapes are the
//! simulator's published ones ([`crate::hlr_sim::admin`]).

use super::reply::Reply;
use crate::hlr_sim::admin::{Faults, State, Subscriber, WireRule};
use adapters::http::HttpClient;
use bytes::Bytes;
use http::Method;

/// The admin API of the sandbox's simulator.
#[derive(Debug, Clone)]
pub(crate) struct SimAdmin {
    http: HttpClient,
    /// Base URL, always ending in `/`.
    base: String,
}

impl SimAdmin {
    /// Talks to the admin API at `base` (e.g. `https://127.0.0.1:1234/sim/`).
    pub fn new(http: HttpClient, base: &str) -> Self {
        let base = if base.ends_with('/') {
            base.to_owned()
        } else {
            format!("{base}/")
        };
        Self { http, base }
    }

    /// One request to `path` (relative to the admin base) with an optional JSON body.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Reply, String> {
        let what = format!("simulator {method} {path}");
        let url = format!("{}{path}", self.base);
        let headers = match body {
            Some(_) => vec![("content-type", "application/json".to_owned())],
            None => Vec::new(),
        };
        let response = self
            .http
            .request(
                method,
                &url,
                &headers,
                body.map(Bytes::from).unwrap_or_default(),
            )
            .await
            .map_err(|e| format!("{what}: {e}"))?;
        Ok(Reply { what, response })
    }

    /// The simulator's subscribers (keys masked).
    pub async fn state(&self) -> Result<State, String> {
        let r = self.call(Method::GET, "state", None).await?;
        r.expect_status(200)?;
        serde_json::from_slice(&r.response.body)
            .map_err(|e| format!("{}: unexpected JSON ({e}): {}", r.what, r.excerpt()))
    }

    /// The subscriber with this IMSI, if the simulator holds one.
    pub async fn subscriber(&self, imsi: &str) -> Result<Option<Subscriber>, String> {
        Ok(self
            .state()
            .await?
            .subscribers
            .into_iter()
            .find(|s| s.imsi == imsi))
    }

    /// The random fault configuration in force.
    pub async fn faults(&self) -> Result<Faults, String> {
        let r = self.call(Method::GET, "faults", None).await?;
        r.expect_status(200)?;
        serde_json::from_slice(&r.response.body)
            .map_err(|e| format!("{}: unexpected JSON ({e}): {}", r.what, r.excerpt()))
    }

    /// Replaces the random fault configuration.
    pub async fn put_faults(&self, faults: &Faults) -> Result<(), String> {
        let body = serde_json::to_vec(faults).map_err(|e| e.to_string())?;
        self.call(Method::PUT, "faults", Some(body))
            .await?
            .expect_status(204)
    }

    /// Appends one scripted rule.
    pub async fn push_rule(&self, rule: &WireRule) -> Result<(), String> {
        let body = serde_json::to_vec(rule).map_err(|e| e.to_string())?;
        self.call(Method::POST, "rules", Some(body))
            .await?
            .expect_status(204)
    }

    /// Removes every pending scripted rule.
    pub async fn clear_rules(&self) -> Result<(), String> {
        self.call(Method::DELETE, "rules", None)
            .await?
            .expect_status(204)
    }
}

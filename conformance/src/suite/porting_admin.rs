//! A client for the porting hub simulator's admin API (`sandbox.json`
//! `porting_simulator.admin`): ask the gateway for one of its numbers as another
//! provider would, move the hub's clock, read a port back. The JSON shapes are the
//! simulator's published ones ([`crate::porting_sim::admin`]).

use super::reply::Reply;
use adapters::http::HttpClient;
use bytes::Bytes;
use http::Method;
use serde_json::{Value, json};

/// The admin API of the sandbox's porting hub simulator.
#[derive(Debug, Clone)]
pub(crate) struct PortingAdmin {
    http: HttpClient,
    /// Base URL, always ending in `/`.
    base: String,
}

impl PortingAdmin {
    /// Talks to the admin API at `base` (e.g. `https://127.0.0.1:1234/sim/`).
    pub fn new(http: HttpClient, base: &str) -> Self {
        let base = if base.ends_with('/') {
            base.to_owned()
        } else {
            format!("{base}/")
        };
        Self { http, base }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Result<Reply, String> {
        let what = format!("porting simulator {method} {path}");
        let url = format!("{}{path}", self.base);
        let headers = match body {
            Some(_) => vec![("content-type", "application/json".to_owned())],
            None => Vec::new(),
        };
        let bytes = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        let response = self
            .http
            .request(method, &url, &headers, bytes)
            .await
            .map_err(|e| format!("{what}: {e}"))?;
        Ok(Reply { what, response })
    }

    fn json(r: &Reply) -> Result<Value, String> {
        serde_json::from_slice(&r.response.body)
            .map_err(|e| format!("{}: unexpected JSON ({e}): {}", r.what, r.excerpt()))
    }

    /// The hub asks the gateway for `number` (`market`), presenting `credential`;
    /// returns the hub's port reference.
    pub async fn port_out(
        &self,
        market: &str,
        number: &str,
        credential: &str,
    ) -> Result<String, String> {
        let body = json!({"market": market, "number": number, "credential": credential});
        let r = self.call(Method::POST, "port-outs", Some(body)).await?;
        r.expect_status(201)?;
        Self::json(&r)?["port_ref"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("{}: no `port_ref`", r.what))
    }

    /// Moves the hub's clock forward by `ms`.
    pub async fn advance(&self, ms: u64) -> Result<(), String> {
        let r = self
            .call(Method::POST, "clock/advance", Some(json!({"ms": ms})))
            .await?;
        r.expect_status(200)
    }

    /// The hub's view of port `port_ref`.
    pub async fn port(&self, port_ref: &str) -> Result<Value, String> {
        let r = self
            .call(Method::GET, &format!("ports/{port_ref}"), None)
            .await?;
        r.expect_status(200)?;
        Self::json(&r)
    }
}

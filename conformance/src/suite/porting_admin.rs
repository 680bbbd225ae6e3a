//! A client for the porting hub simulator's admin API (`sandbox.json`
//! `porting_simulator.admin`): ask the gateway for one of its numbers as another
//! provider would, move the hub's clock, read a port back. The JSON shapes are the
//! simulator's published ones ([`crate::porting_sim::admin`]).

use super::reply::Reply;
use super::simulator::SimAdmin;
use adapters::http::HttpClient;
use http::Method;
use serde_json::{Value, json};

/// The admin API of the sandbox's porting hub simulator (the same plumbing as the HLR
/// simulator's).
#[derive(Debug, Clone)]
pub(crate) struct PortingAdmin {
    admin: SimAdmin,
}

impl PortingAdmin {
    /// Talks to the admin API at `base` (e.g. `https://127.0.0.1:1234/sim/`).
    pub fn new(http: HttpClient, base: &str) -> Self {
        Self {
            admin: SimAdmin::new(http, base),
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Result<Reply, String> {
        let body = body.map(|b| b.to_string().into_bytes());
        self.admin.call(method, path, body).await
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

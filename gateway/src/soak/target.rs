//! The soak's view of a sandbox, from its `sandbox.json` only: the gateway's API with the
//! tenants' keys, and each simulator's admin API. Everything the soak does goes over these
//! wires, so the same driver runs against an in-process sandbox and against a `simgw serve
//! --sandbox` child whose address changes at every restart ([`Target::reload`]).

use crate::sandbox::SandboxFile;
use adapters::http::{HttpClient, HttpError};
use bytes::Bytes;
use http::Method;
use serde::Serialize;
use serde_json::Value;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Which tenant's operator key sends a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Tenant {
    /// The permissive `sandbox` tenant (`api_key`).
    Sandbox,
    /// The UK market tenant (`markets.uk`), for port-ins.
    Uk,
    /// The China market tenant (`markets.cn`), for store sales.
    Cn,
}

/// A simulator with an admin API named in `sandbox.json`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Sim {
    /// The HLR simulator (`hlr_simulator`).
    Hlr,
    /// The SM-DP+ simulator (`smdp_simulator`, mutual TLS with `smdp_client`).
    Smdp,
    /// The porting hub simulator (`porting_simulator`).
    Hub,
}

impl Sim {
    /// Every simulator, in report order.
    pub(crate) const ALL: [Sim; 3] = [Sim::Hlr, Sim::Smdp, Sim::Hub];

    /// Its name in the report.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Sim::Hlr => "hlr",
            Sim::Smdp => "smdp",
            Sim::Hub => "porting_hub",
        }
    }
}

/// One answer: the status and the JSON body (`Null` when it is not JSON).
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    /// HTTP status.
    pub(crate) status: u16,
    /// The body as JSON.
    pub(crate) json: Value,
}

/// The wires to one sandbox.
pub(crate) struct Target {
    api: HttpClient,
    /// For reconciliations: one compares every line with the peers, which takes longer
    /// than an order's request may.
    slow: HttpClient,
    admin: HttpClient,
    smdp_admin: Option<HttpClient>,
    info: RwLock<Arc<SandboxFile>>,
}

/// The simulators' logs can be long (every notification with its body).
const ADMIN_BODY_LIMIT: usize = 256 << 20;
/// Longest a reconciliation through the API may take.
const RECONCILIATION_WITHIN: Duration = Duration::from_secs(900);

impl Target {
    /// The wires `info` describes: clients trusting its CA (and, for the SM-DP+ admin API,
    /// presenting its client identity).
    pub(crate) fn new(info: SandboxFile, concurrency: usize) -> Result<Self, String> {
        let read = |p: &str| std::fs::read(p).map_err(|e| format!("{p}: {e}"));
        let ca = read(&info.ca_cert)?;
        let api = HttpClient::builder()
            .add_root_pem(&ca)
            .pool_max_idle_per_host(concurrency.max(1))
            .connect_timeout(Duration::from_secs(2))
            .request_timeout(Duration::from_secs(20))
            .build()
            .map_err(|e| e.to_string())?;
        let slow = HttpClient::builder()
            .add_root_pem(&ca)
            .body_limit(ADMIN_BODY_LIMIT)
            .connect_timeout(Duration::from_secs(2))
            .request_timeout(RECONCILIATION_WITHIN)
            .build()
            .map_err(|e| e.to_string())?;
        let admin = HttpClient::builder()
            .add_root_pem(&ca)
            .body_limit(ADMIN_BODY_LIMIT)
            .connect_timeout(Duration::from_secs(2))
            .request_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?;
        let smdp_admin = match &info.smdp_client {
            Some(c) => Some(
                HttpClient::builder()
                    .add_root_pem(&ca)
                    .identity_pem(&read(&c.cert)?, &read(&c.key)?)
                    .body_limit(ADMIN_BODY_LIMIT)
                    .connect_timeout(Duration::from_secs(2))
                    .request_timeout(Duration::from_secs(30))
                    .build()
                    .map_err(|e| e.to_string())?,
            ),
            None => None,
        };
        Ok(Self {
            api,
            slow,
            admin,
            smdp_admin,
            info: RwLock::new(Arc::new(info)),
        })
    }

    /// The `sandbox.json` in force.
    pub(crate) fn info(&self) -> Arc<SandboxFile> {
        match self.info.read() {
            Ok(i) => i.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Points every wire at a restarted sandbox (same data dir, so the same CA and keys,
    /// new ports).
    pub(crate) fn reload(&self, info: SandboxFile) {
        match self.info.write() {
            Ok(mut i) => *i = Arc::new(info),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(info),
        }
    }

    /// `tenant`'s operator key.
    pub(crate) fn key(&self, tenant: Tenant) -> Option<String> {
        let info = self.info();
        match tenant {
            Tenant::Sandbox => Some(info.api_key.clone()),
            Tenant::Uk => info.markets.get("uk").map(|m| m.api_key.clone()),
            Tenant::Cn => info.markets.get("cn").map(|m| m.api_key.clone()),
        }
    }

    /// Every tenant `sandbox.json` names with its operator key: the sandbox tenant, then
    /// each market's (tenant id, key).
    pub(crate) fn operators(&self) -> Vec<(String, String)> {
        let info = self.info();
        let markets = info.markets.values();
        std::iter::once((info.tenant.clone(), info.api_key.clone()))
            .chain(markets.map(|m| (m.tenant.clone(), m.api_key.clone())))
            .collect()
    }

    /// Calls the gateway's API as `tenant` (with an Idempotency-Key when `key` is given).
    pub(crate) async fn call(
        &self,
        tenant: Tenant,
        method: Method,
        path: &str,
        idempotency_key: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Answer, HttpError> {
        let api_key = self.key(tenant).ok_or(HttpError::InvalidUrl)?;
        self.send(&self.api, &api_key, method, path, idempotency_key, body)
            .await
    }

    /// `POST /v1/reconciliations` with `api_key` (an operator key): the gateway compares
    /// that key's tenant with its peers and answers the report.
    pub(crate) async fn reconcile(&self, api_key: &str) -> Result<Answer, HttpError> {
        let path = "/v1/reconciliations";
        self.send(&self.slow, api_key, Method::POST, path, None, None)
            .await
    }

    async fn send(
        &self,
        client: &HttpClient,
        api_key: &str,
        method: Method,
        path: &str,
        idempotency_key: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Answer, HttpError> {
        let info = self.info();
        let mut headers = vec![("authorization", format!("Bearer {api_key}"))];
        if let Some(k) = idempotency_key {
            headers.push(("idempotency-key", k.to_owned()));
        }
        let bytes = match body {
            Some(b) => {
                headers.push(("content-type", "application/json".to_owned()));
                Bytes::from(b.to_string())
            }
            None => Bytes::new(),
        };
        let url = format!("{}{path}", info.base_url);
        let r = client.request(method, &url, &headers, bytes).await?;
        Ok(Answer {
            status: r.status,
            json: serde_json::from_slice(&r.body).unwrap_or(Value::Null),
        })
    }

    /// Whether `sim` is named in `sandbox.json`.
    pub(crate) fn has(&self, sim: Sim) -> bool {
        self.admin_base(sim).is_some()
    }

    fn admin_base(&self, sim: Sim) -> Option<String> {
        let info = self.info();
        let named = match sim {
            Sim::Hlr => info.hlr_simulator.as_ref(),
            Sim::Smdp => info.smdp_simulator.as_ref(),
            Sim::Hub => info.porting_simulator.as_ref(),
        };
        named.map(|s| s.admin.trim_end_matches('/').to_owned())
    }

    /// Calls `sim`'s admin API at `path` (under `/sim/`), which must answer 2xx.
    pub(crate) async fn admin(
        &self,
        sim: Sim,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, AdminError> {
        let base = self.admin_base(sim).ok_or(AdminError::Unnamed(sim))?;
        let client = match sim {
            Sim::Smdp => self.smdp_admin.as_ref().ok_or(AdminError::Unnamed(sim))?,
            Sim::Hlr | Sim::Hub => &self.admin,
        };
        let (headers, bytes) = match body {
            Some(b) => (
                vec![("content-type", "application/json".to_owned())],
                Bytes::from(b.to_string()),
            ),
            None => (Vec::new(), Bytes::new()),
        };
        let url = format!("{base}/{}", path.trim_start_matches('/'));
        let what = || format!("{} {method} /sim/{path}", sim.name());
        let r = client
            .request(method.clone(), &url, &headers, bytes)
            .await
            .map_err(|e| AdminError::Transport(format!("{}: {e}", what())))?;
        let json = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        if !(200..300).contains(&r.status) {
            return Err(AdminError::Refused(format!(
                "{} answered {}: {json}",
                what(),
                r.status
            )));
        }
        Ok(Answer {
            status: r.status,
            json,
        })
    }
}

/// Why a simulator's admin API did not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AdminError {
    /// `sandbox.json` names no such simulator (or, for the SM-DP+, no client identity).
    #[error("sandbox.json names no {} simulator", .0.name())]
    Unnamed(Sim),
    /// No answer (the sandbox restarting, a connection cut): worth another try.
    #[error("{0}")]
    Transport(String),
    /// An answer other than 2xx.
    #[error("{0}")]
    Refused(String),
}

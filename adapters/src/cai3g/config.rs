//! Per-host CAI3G settings: endpoints, credentials, timeouts and the fault-code table.

use super::codec::Password;
use crate::hlr::FaultClass;
use std::time::Duration;

/// How to reach and talk to one host's CAI3G provisioning service.
#[derive(Clone, Debug)]
pub struct Cai3gConfig {
    /// The provisioning endpoint, e.g. `https://host:8080/CAI3G1.2/services/CAI3G1.2`.
    pub base_url: String,
    /// A separate GsmAuc endpoint, if the host serves AUC on its own path.
    pub auc_url: Option<String>,
    /// A separate session-control (Login/Logout) endpoint, if the host has one.
    pub session_url: Option<String>,
    /// The provisioning user.
    pub user_id: String,
    /// Its password (masked in `Debug`).
    pub password: Password,
    /// Bound on each HTTP exchange, answer included.
    pub request_timeout: Duration,
    /// Re-login proactively once the session is this old (hosts rarely publish lifetimes).
    pub session_refresh: Option<Duration>,
    /// Which host codes mean what.
    pub codes: CodeTable,
    /// The CA certificate(s) to trust for `https` endpoints (PEM). Without it no HTTPS
    /// peer is trusted.
    pub ca_pem: Option<Vec<u8>>,
    /// Idle connections kept per host: at least the calls the engine runs at once, or
    /// every call beyond it pays a new TLS handshake (it was 14% of a suspend's CPU).
    pub max_idle_connections: usize,
}

impl Cai3gConfig {
    /// A config with the default timeout (30 s), no proactive refresh and default codes.
    pub fn new(
        base_url: impl Into<String>,
        user_id: impl Into<String>,
        password: Password,
    ) -> Self {
        Self {
            base_url: base_url.into(),
            auc_url: None,
            session_url: None,
            user_id: user_id.into(),
            password,
            request_timeout: Duration::from_secs(30),
            session_refresh: None,
            codes: CodeTable::default(),
            ca_pem: None,
            max_idle_connections: 64,
        }
    }
}

/// Host fault codes by class. Any level of the code chain (PG, respCode, CAI3G, SOAP) may
/// match; the host's "Subordinate Error Codes" tables are authoritative.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeTable {
    /// Session unknown or expired: re-login once and replay.
    pub session: Vec<String>,
    /// The object already exists.
    pub already_exists: Vec<String>,
    /// The object does not exist.
    pub not_found: Vec<String>,
    /// A temporary condition (busy, overload).
    pub transient: Vec<String>,
    /// The request was invalid.
    pub validation: Vec<String>,
    /// Stored, but a network-side update failed.
    pub partial_success: Vec<String>,
}

impl Default for CodeTable {
    fn default() -> Self {
        let v = |codes: &[&str]| codes.iter().map(|c| (*c).to_owned()).collect();
        Self {
            session: v(&["1001", "1005", "1010", "3014"]),
            already_exists: v(&["2", "301"]),
            not_found: v(&["13020"]),
            transient: v(&["4005"]),
            validation: v(&["4001"]),
            partial_success: v(&[]),
        }
    }
}

impl CodeTable {
    /// The class a single code is listed under, if any.
    pub fn class_of(&self, code: &str) -> Option<FaultClass> {
        let tables = [
            (&self.session, FaultClass::Session),
            (&self.already_exists, FaultClass::AlreadyExists),
            (&self.not_found, FaultClass::NotFound),
            (&self.transient, FaultClass::Transient),
            (&self.validation, FaultClass::Validation),
            (&self.partial_success, FaultClass::PartialSuccess),
        ];
        tables
            .into_iter()
            .find(|(codes, _)| codes.iter().any(|c| c == code))
            .map(|(_, class)| class)
    }
}

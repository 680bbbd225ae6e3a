//! `[porting_hub]`: the national porting hub (clearinghouse) port-ins go to, and the
//! mutual-TLS listener its messages arrive on (`docs/porting-hub.md`). Without `url`,
//! port-in orders are refused at creation (`msisdn_mode_unsupported`, saying so).

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// `[porting_hub]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PortingHubConfig {
    /// The hub's base URL (`https://…`).
    pub url: Option<String>,
    /// Our operator id at the hub: the recipient of our port-ins.
    pub recipient: String,
    /// CA certificate(s) (PEM) that issue the hub's TLS certificate (required with `url`).
    pub ca_file: Option<PathBuf>,
    /// Our TLS client certificate chain (PEM) at the hub (required with `url`).
    pub client_cert_file: Option<PathBuf>,
    /// Its private key (PEM).
    pub client_key_file: Option<PathBuf>,
    /// Bound on one hub call, ms.
    pub timeout_ms: u64,
    /// Hub calls (submit, cancel, answer, acknowledge) in flight at once: a hub is a
    /// shared national service with its own rate limits.
    pub concurrency: usize,
    /// Where the hub posts its messages (`POST /v1/hub-messages`, mutual TLS); default
    /// `127.0.0.1:8445`.
    pub callback_listen: Option<SocketAddr>,
    /// CA certificate(s) that issue the hub's client certificate for its messages (PEM;
    /// required with `url`).
    pub callback_client_ca_file: Option<PathBuf>,
    /// SHA-256 (hex) of the hub's client certificate: only that certificate is accepted.
    /// Empty: any certificate from `callback_client_ca_file`.
    pub callback_client_sha256: Vec<String>,
}

impl Default for PortingHubConfig {
    fn default() -> Self {
        Self {
            url: None,
            recipient: "SIMGW".into(),
            ca_file: None,
            client_cert_file: None,
            client_key_file: None,
            timeout_ms: 10_000,
            concurrency: 16,
            callback_listen: None,
            callback_client_ca_file: None,
            callback_client_sha256: Vec::new(),
        }
    }
}

/// The hub-message listener's address when `callback_listen` is unset.
pub const DEFAULT_HUB_CALLBACK_LISTEN: SocketAddr = SocketAddr::V4(std::net::SocketAddrV4::new(
    std::net::Ipv4Addr::LOCALHOST,
    8445,
));

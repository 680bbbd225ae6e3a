//! The one typed configuration struct, loaded once (TOML file, then CLI overrides) and
//! passed down. Every field has a default so `simgw serve` runs with no file at all.

use serde::Deserialize;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::time::Duration;

mod api;
mod identity;
mod porting;
mod porting_hub;
mod store;
mod terminal;
pub use api::{
    AdmissionConfig, ApiConfig, DEFAULT_CALLBACK_LISTEN, DEFAULT_METRICS_LISTEN, Listen,
    MetricsConfig,
};
pub use identity::IdentityConfig;
pub use porting::{MarketPortingConfig, NonPortableConfig, PortingConfig};
pub use porting_hub::{DEFAULT_HUB_CALLBACK_LISTEN, PortingHubConfig};
pub use store::{DbUrl, SslMode, StoreBackend, StoreConfig};
pub use terminal::{TerminalConfig, reader_origin};

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The path given.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("invalid config file {path}: {message}")]
    Parse {
        /// The path given.
        path: PathBuf,
        /// What is wrong, with line and column.
        message: String,
    },
    /// A value is out of range.
    #[error("invalid config value `{field}`: {message}")]
    Invalid {
        /// The offending key.
        field: &'static str,
        /// What to fix.
        message: String,
    },
}

/// The whole gateway configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Directory holding the store, keys and generated certificates.
    pub data_dir: PathBuf,
    /// Northbound HTTPS listen address.
    pub listen: SocketAddr,
    /// Northbound TLS.
    pub tls: TlsConfig,
    /// Data-key (encryption at rest) settings.
    pub keys: KeyConfig,
    /// The store backend (`[store]`): embedded, or PostgreSQL.
    pub store: StoreConfig,
    /// Order engine tuning.
    pub engine: EngineConfig,
    /// Bounds on the backlog of accepted orders.
    pub admission: AdmissionConfig,
    /// Northbound API limits.
    pub api: ApiConfig,
    /// The host operator's HLR.
    pub hlr: HlrConfig,
    /// Sandbox settings (used with `--sandbox`).
    pub sandbox: SandboxConfig,
    /// SIM vendors' transport keys, by the index batch-file headers name.
    pub transport_keys: Vec<TransportKeyConfig>,
    /// The SM-DP+ for eSIM orders (ES2+); without `smdp_url`, eSIM orders are refused.
    pub esim: EsimConfig,
    /// The Prometheus metrics listener.
    pub metrics: MetricsConfig,
    /// Webhook delivery (`[webhooks]`).
    pub webhooks: WebhooksConfig,
    /// The identity verification service (`[identity]`).
    pub identity: IdentityConfig,
    /// Number porting data per market (`[porting]`): holidays, non-portable blocks, times.
    pub porting: PortingConfig,
    /// The porting hub and its message listener (`[porting_hub]`).
    pub porting_hub: PortingHubConfig,
    /// The store terminal page (`[terminal]`).
    pub terminal: TerminalConfig,
}

/// Webhook delivery (`[webhooks]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhooksConfig {
    /// Allow endpoints on private, loopback, link-local and other internal addresses
    /// (receivers on an internal network). Off: public addresses only (server-side
    /// request forgery).
    pub allow_private: bool,
    /// Most deliveries in flight at once (over all endpoints and subjects).
    pub concurrency: usize,
    /// A delivery must be answered (2xx) within this, ms.
    pub timeout_ms: u64,
    /// `inventory.low_stock` is published when a tenant's available SIMs or free numbers
    /// fall to this count (once per crossing).
    pub low_stock_threshold: u64,
    /// PEM bundle of the CAs trusted for `https` endpoints. Unset: the system bundle
    /// (`/etc/ssl/certs/ca-certificates.crt` or `/etc/pki/tls/certs/ca-bundle.crt`).
    pub ca_file: Option<PathBuf>,
    /// Set by `serve --sandbox` (not by the file): plain `http://` to loopback allowed.
    #[serde(skip)]
    pub sandbox: bool,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        Self {
            allow_private: false,
            concurrency: 32,
            timeout_ms: 15_000,
            low_stock_threshold: 100,
            ca_file: None,
            sandbox: false,
        }
    }
}

/// The SM-DP+ and the ES2+ callback listener (`[esim]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EsimConfig {
    /// The SM-DP+'s ES2+ base URL (`https://…`); unset disables eSIM.
    pub smdp_url: Option<String>,
    /// The SM-DP+ address (FQDN) put in activation codes when ConfirmOrder names none.
    pub smdp_address: Option<String>,
    /// Our `functionRequesterIdentifier`, as agreed with the SM-DP+.
    pub requester_id: String,
    /// Our TLS client certificate chain (PEM) towards the SM-DP+.
    pub client_cert_file: Option<PathBuf>,
    /// Its private key (PEM).
    pub client_key_file: Option<PathBuf>,
    /// CA certificate(s) of the SM-DP+'s TLS server certificate (PEM).
    pub smdp_ca_file: Option<PathBuf>,
    /// Send 19-digit ICCIDs with a trailing `F` (older SM-DP+s).
    pub pad_iccid: bool,
    /// ES2+ call timeout, ms.
    pub timeout_ms: u64,
    /// Most ES2+ calls in flight.
    pub concurrency: usize,
    /// Hours a released profile may wait for download before it is cancelled (0: never).
    pub expiry_hours: u64,
    /// Where the SM-DP+ posts HandleDownloadProgressInfo (mutual TLS listener). Unset:
    /// `DEFAULT_CALLBACK_LISTEN`, or an ephemeral loopback port in the sandbox.
    pub callback_listen: Option<SocketAddr>,
    /// CA certificate(s) that issue the SM-DP+'s TLS client certificate (PEM).
    pub callback_client_ca_file: Option<PathBuf>,
    /// SHA-256 (hex) of the SM-DP+'s client certificate: only that certificate is accepted.
    /// Empty: any certificate from `callback_client_ca_file`.
    pub callback_client_sha256: Vec<String>,
    /// Tenants this SM-DP+ serves; notifications for other tenants' profiles change
    /// nothing. Empty: all.
    pub tenants: Vec<String>,
}

impl Default for EsimConfig {
    fn default() -> Self {
        Self {
            smdp_url: None,
            smdp_address: None,
            requester_id: "simgw".into(),
            client_cert_file: None,
            client_key_file: None,
            smdp_ca_file: None,
            pad_iccid: false,
            timeout_ms: 30_000,
            concurrency: 32,
            expiry_hours: 30 * 24,
            callback_listen: None,
            callback_client_ca_file: None,
            callback_client_sha256: Vec::new(),
            tenants: Vec::new(),
        }
    }
}

/// One SIM-vendor transport key (`[[transport_keys]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransportKeyConfig {
    /// The index batch headers use (`Transport_key : 11`).
    pub index: u16,
    /// `aes128-ecb` (one AES block per key) or `fs-cbc` (FS.28-style AES-CBC, fixed IV).
    pub cipher: String,
    /// File holding the key in hex (keep it 0600).
    pub key_file: PathBuf,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            tls: TlsConfig::default(),
            keys: KeyConfig::default(),
            store: StoreConfig::default(),
            engine: EngineConfig::default(),
            admission: AdmissionConfig::default(),
            api: ApiConfig::default(),
            hlr: HlrConfig::default(),
            sandbox: SandboxConfig::default(),
            transport_keys: Vec::new(),
            esim: EsimConfig::default(),
            metrics: MetricsConfig::default(),
            webhooks: WebhooksConfig::default(),
            identity: IdentityConfig::default(),
            porting: PortingConfig::default(),
            porting_hub: PortingHubConfig::default(),
            terminal: TerminalConfig::default(),
        }
    }
}

/// Northbound TLS: a configured certificate, or a development CA created in the data dir.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain. If unset, `DATA_DIR/tls/server.pem` signed by a generated dev CA.
    pub cert_file: Option<PathBuf>,
    /// PEM private key matching `cert_file`.
    pub key_file: Option<PathBuf>,
}

/// Where the data key (AES-256-GCM, encrypts Ki/OPc and personal data at rest) comes from.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeyConfig {
    /// Path to the data-key file. Default `DATA_DIR/keys/data-key`, created 0600 on first start.
    pub data_key_file: Option<PathBuf>,
    /// Path to the ID pepper file (HMAC keys of the ID hash, one per line, current
    /// last). Default `DATA_DIR/keys/id-pepper`, created 0600 on first start.
    pub id_pepper_file: Option<PathBuf>,
}

/// Order engine tuning: retries and back-pressure towards the host operator.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// Most HLR operations in flight at once (per host operator).
    pub hlr_concurrency: usize,
    /// Attempts of a retryable southbound step before the order fails and is compensated.
    pub max_attempts: u32,
    /// First retry delay in milliseconds; doubles per attempt, with full jitter.
    pub backoff_base_ms: u64,
    /// Upper bound of one retry delay in milliseconds.
    pub backoff_max_ms: u64,
    /// How long idempotency records are kept, in hours.
    pub idempotency_ttl_hours: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            hlr_concurrency: 64,
            max_attempts: 8,
            backoff_base_ms: 200,
            backoff_max_ms: 30_000,
            idempotency_ttl_hours: 24,
        }
    }
}

impl EngineConfig {
    /// Idempotency record lifetime.
    pub fn idempotency_ttl(&self) -> Duration {
        Duration::from_secs(self.idempotency_ttl_hours * 3600)
    }
}

/// The host operator's HLR endpoint (CAI3G 1.2 over HTTP(S)).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HlrConfig {
    /// Dialect: `"cai3g"` (Ericsson CAI3G 1.2 SOAP) or `"osmo-ctrl"` (OsmoHLR control
    /// interface). An `osmo-ctrl://` URL selects the latter whatever this says.
    pub dialect: String,
    /// Provisioning endpoint, e.g. `https://hlr.example:8080/CAI3G1.2/services/CAI3G1.2`, or
    /// `osmo-ctrl://127.0.0.2:4259` for OsmoHLR.
    /// Unset: no HLR (only valid with `--sandbox`, which starts the simulator).
    pub url: Option<String>,
    /// Separate AUC endpoint, if the host has one.
    pub auc_url: Option<String>,
    /// Separate session-control endpoint, if the host has one.
    pub session_url: Option<String>,
    /// CAI3G Login user.
    pub user: String,
    /// CAI3G Login password (prefer `password_file` or the `SIMGW_HLR_PASSWORD` variable).
    pub password: Option<String>,
    /// File holding the password.
    pub password_file: Option<PathBuf>,
    /// Extra CA certificate (PEM) to trust for the HLR's HTTPS.
    pub ca_file: Option<PathBuf>,
    /// Per-request timeout in milliseconds.
    pub timeout_ms: u64,
    /// Proactive re-login interval in seconds (0 = only re-login on a session fault).
    pub session_refresh_secs: u64,
    /// AUC function-set indicator sent with each Ki.
    pub fsetind: u8,
    /// Host-specific fault codes; defaults match the built-in simulator.
    pub codes: Option<HlrCodes>,
    /// Send Ki encrypted under the HLR's transport key (A4) instead of in clear.
    pub transport_key: Option<HlrTransportKey>,
}

/// The HLR's own transport key: Ki goes out as `E_TK(Ki)` with its A4 selector and index.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HlrTransportKey {
    /// CAI3G `a4ind`: the AUC's decryption algorithm selector for this key.
    pub a4ind: u8,
    /// CAI3G `adkey`: the index of the transport key in the AUC.
    pub adkey: u16,
    /// `aes128-ecb` or `fs-cbc`.
    pub cipher: String,
    /// File holding the key in hex (keep it 0600).
    pub key_file: PathBuf,
}

impl Default for HlrConfig {
    fn default() -> Self {
        Self {
            dialect: "cai3g".into(),
            url: None,
            auc_url: None,
            session_url: None,
            user: "simgw".into(),
            password: None,
            password_file: None,
            ca_file: None,
            timeout_ms: 5_000,
            session_refresh_secs: 0,
            fsetind: 0,
            codes: None,
            transport_key: None,
        }
    }
}

/// Fault-code tables from the host's "Subordinate Error Codes" documents.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HlrCodes {
    /// Session unknown/expired: re-login once and replay.
    pub session: Vec<String>,
    /// Object already exists: Get and compare.
    pub already_exists: Vec<String>,
    /// Object not found.
    pub not_found: Vec<String>,
    /// Temporary: retry with backoff.
    pub transient: Vec<String>,
    /// Invalid request: permanent.
    pub validation: Vec<String>,
    /// Stored but network update failed: no compensation by delete.
    pub partial_success: Vec<String>,
}

/// Sandbox seeding.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxConfig {
    /// Physical SIMs seeded for the sandbox tenant on first start.
    pub physical_sims: u32,
    /// MSISDNs in the sandbox number block.
    pub numbers: u32,
    /// eSIM profiles seeded for the sandbox tenant (and loaded into the SM-DP+ simulator).
    pub esim_profiles: u32,
    /// Whether the simulators keep what they were told across restarts (a journal each
    /// under `simulators/` in the data dir); false: in memory only, as `simgw bench` runs
    /// them (a sandbox it never restarts).
    pub simulator_state: bool,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            physical_sims: 200,
            numbers: 10_000,
            esim_profiles: 200,
            simulator_state: true,
        }
    }
}

impl Config {
    /// Gives every side listener left unset (`[metrics] listen`, `[esim] callback_listen`)
    /// an ephemeral loopback port, so several gateways (sandboxes, tests) run side by side.
    pub fn ephemeral_side_listeners(&mut self) {
        let any = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0));
        self.metrics.listen.get_or_insert(Listen::At(any));
        self.esim.callback_listen.get_or_insert(any);
        self.porting_hub.callback_listen.get_or_insert(any);
    }

    /// The metrics listen address in force; `None`: no metrics listener.
    pub fn metrics_listen(&self) -> Option<SocketAddr> {
        match self.metrics.listen {
            None => Some(DEFAULT_METRICS_LISTEN),
            Some(Listen::Off) => None,
            Some(Listen::At(a)) => Some(a),
        }
    }

    /// The ES2+ callback listen address in force.
    pub fn callback_listen(&self) -> SocketAddr {
        self.esim.callback_listen.unwrap_or(DEFAULT_CALLBACK_LISTEN)
    }

    /// Loads a TOML file; a missing `--config` means all defaults.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let cfg: Self = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks ranges that serde cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.engine.hlr_concurrency == 0 {
            return Err(ConfigError::Invalid {
                field: "engine.hlr_concurrency",
                message: "must be at least 1".into(),
            });
        }
        if self.engine.max_attempts == 0 {
            return Err(ConfigError::Invalid {
                field: "engine.max_attempts",
                message: "must be at least 1".into(),
            });
        }
        if self.admission.max_backlog == 0 {
            return Err(ConfigError::Invalid {
                field: "admission.max_backlog",
                message: "must be at least 1".into(),
            });
        }
        if self.admission.max_backlog_per_tenant == 0 {
            return Err(ConfigError::Invalid {
                field: "admission.max_backlog_per_tenant",
                message: "must be at least 1".into(),
            });
        }
        if self.webhooks.concurrency == 0 {
            return Err(ConfigError::Invalid {
                field: "webhooks.concurrency",
                message: "must be at least 1".into(),
            });
        }
        if !(1_000..=60_000).contains(&self.webhooks.timeout_ms) {
            return Err(ConfigError::Invalid {
                field: "webhooks.timeout_ms",
                message: "must be from 1000 to 60000".into(),
            });
        }
        if self.esim.concurrency == 0 {
            return Err(ConfigError::Invalid {
                field: "esim.concurrency",
                message: "must be at least 1".into(),
            });
        }
        self.api.validate()?;
        self.store.validate()?;
        self.identity.validate()?;
        self.terminal.validate()?;
        self.porting.validate()?;
        for t in &self.transport_keys {
            if t.cipher != "aes128-ecb" && t.cipher != "fs-cbc" {
                return Err(ConfigError::Invalid {
                    field: "transport_keys.cipher",
                    message: format!("index {}: use \"aes128-ecb\" or \"fs-cbc\"", t.index),
                });
            }
        }
        if self.hlr.dialect != "cai3g" && self.hlr.dialect != "osmo-ctrl" {
            return Err(ConfigError::Invalid {
                field: "hlr.dialect",
                message: "supported: \"cai3g\", \"osmo-ctrl\"".into(),
            });
        }
        Ok(())
    }
}

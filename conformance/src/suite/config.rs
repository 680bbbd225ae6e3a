//! What the suite runs against: the gateway's `sandbox.json` and the run's own settings.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long one activation may take to reach a terminal state, unless told otherwise.
pub const DEFAULT_ACTIVATION_TIMEOUT: Duration = Duration::from_secs(30);

/// The fields of the gateway's `sandbox.json` the suite uses; unknown fields are ignored
/// so that newer gateways (e.g. with `esim_profile_type`) stay readable.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SandboxFile {
    /// `https://host:port` of the gateway.
    pub base_url: String,
    /// Path of the PEM CA certificate that signed the gateway's (and simulator's) TLS cert.
    pub ca_cert: String,
    /// The sandbox tenant id.
    pub tenant: String,
    /// MCC+MNC every IMSI of the tenant starts with.
    pub plmn: String,
    /// The tenant's bearer API key.
    pub api_key: String,
    /// Physical SIMs that were available when the file was written.
    pub physical_iccids: Vec<String>,
    /// A product code configured for the tenant.
    pub product: String,
    /// The embedded HLR simulator; absent when the gateway talks to a real HLR.
    #[serde(default)]
    pub hlr_simulator: Option<SimulatorInfo>,
    /// `http://host:port/metrics` when metrics are served apart from the API; absent,
    /// the suite reads `GET /metrics` on `base_url`.
    #[serde(default)]
    pub metrics_url: Option<String>,
    /// The market tenants (`cn`, `uk`, …), each with its market's strict rules.
    #[serde(default)]
    pub markets: std::collections::BTreeMap<String, MarketTenant>,
    /// The porting hub the gateway submits port-ins to (the sandbox's simulator; a
    /// deployment on a real hub names it here to run the `porting.*` cases that need one).
    #[serde(default)]
    pub porting_simulator: Option<serde_json::Value>,
    /// The identity verifier simulator the gateway asks (its admin API scripts a decision:
    /// the `compliance.*` case of a second verification needs it to flag a sale).
    #[serde(default)]
    pub identity_simulator: Option<serde_json::Value>,
}

/// One market tenant of `sandbox.json` (contract: `markets`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MarketTenant {
    /// Tenant id.
    pub tenant: String,
    /// Its operator key.
    pub api_key: String,
    /// Its physical SIMs available when the file was written.
    pub physical_iccids: Vec<String>,
    /// A product of the tenant.
    pub product: String,
}

/// Where the sandbox's HLR simulator listens.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SimulatorInfo {
    /// The CAI3G provisioning endpoint.
    pub url: String,
    /// Base URL of the admin API (`…/sim/`): `state`, `faults` and `rules` live under it.
    pub admin: String,
}

impl SandboxFile {
    /// Parses `sandbox.json`. A relative `ca_cert` is resolved against `base_dir` (the
    /// file's directory), since the suite usually runs from another working directory.
    pub fn from_json(bytes: &[u8], base_dir: &Path) -> Result<Self, SuiteError> {
        let mut file: Self =
            serde_json::from_slice(bytes).map_err(|e| SuiteError::Parse(e.to_string()))?;
        if file.physical_iccids.is_empty() {
            return Err(SuiteError::Parse(
                "`physical_iccids` is empty: the suite needs SIMs to activate".into(),
            ));
        }
        let ca = Path::new(&file.ca_cert);
        if ca.is_relative() {
            file.ca_cert = base_dir.join(ca).display().to_string();
        }
        Ok(file)
    }
}

/// Why the suite could not start (the CLI exits 2 on these, as on usage errors).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SuiteError {
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        message: String,
    },
    /// `sandbox.json` is not what the gateway writes.
    #[error("sandbox file: {0}")]
    Parse(String),
    /// The HTTPS client could not be built from the CA certificate.
    #[error("HTTPS client: {0}")]
    Client(String),
}

/// One run of the suite.
#[derive(Debug, Clone)]
pub struct SuiteConfig {
    /// The gateway under test.
    pub sandbox: SandboxFile,
    /// How long each activation may take to reach a terminal state.
    pub timeout: Duration,
    /// Run only cases whose name contains this.
    pub filter: Option<String>,
}

impl SuiteConfig {
    /// A run of every case with the default activation timeout.
    pub fn new(sandbox: SandboxFile) -> Self {
        Self {
            sandbox,
            timeout: DEFAULT_ACTIVATION_TIMEOUT,
            filter: None,
        }
    }

    /// Reads `sandbox.json` and checks its CA certificate is readable, so that IO
    /// problems surface as a usage error before any case runs.
    pub fn from_file(path: &Path) -> Result<Self, SuiteError> {
        let bytes = std::fs::read(path).map_err(|e| SuiteError::Io {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let dir = path.parent().unwrap_or_else(|| Path::new("."));
        let sandbox = SandboxFile::from_json(&bytes, dir)?;
        read_ca(&sandbox.ca_cert)?;
        Ok(Self::new(sandbox))
    }

    /// True if the case `name` is selected by the filter.
    pub fn selects(&self, name: &str) -> bool {
        self.filter.as_deref().is_none_or(|f| name.contains(f))
    }
}

/// Reads the CA certificate PEM named in `sandbox.json`.
pub(crate) fn read_ca(path: &str) -> Result<Vec<u8>, SuiteError> {
    std::fs::read(path).map_err(|e| SuiteError::Io {
        path: PathBuf::from(path),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"{
        "base_url": "https://127.0.0.1:8443", "ca_cert": "tls/dev-ca.pem", "tenant": "sandbox",
        "plmn": "00101", "api_key": "sk_sandbox_x", "physical_iccids": ["89860099000000000001"],
        "product": "sandbox-basic", "esim_profile_type": "later",
        "hlr_simulator": {"url": "https://127.0.0.1:1/CAI3G1.2/services/CAI3G1.2",
                          "admin": "https://127.0.0.1:1/sim/"}
    }"#;

    #[test]
    fn parses_ignoring_unknown_fields_and_resolves_a_relative_ca() {
        let f = SandboxFile::from_json(FILE.as_bytes(), Path::new("/data")).expect("valid");
        assert_eq!(f.ca_cert, "/data/tls/dev-ca.pem");
        assert_eq!(f.physical_iccids.len(), 1);
        assert_eq!(
            f.hlr_simulator.map(|s| s.admin).as_deref(),
            Some("https://127.0.0.1:1/sim/")
        );
    }

    #[test]
    fn simulator_is_optional_and_required_fields_are_not() {
        let mut v: serde_json::Value = serde_json::from_str(FILE).expect("json");
        if let Some(m) = v.as_object_mut() {
            m.remove("hlr_simulator");
        }
        let f = SandboxFile::from_json(v.to_string().as_bytes(), Path::new("/")).expect("valid");
        assert!(f.hlr_simulator.is_none());
        if let Some(m) = v.as_object_mut() {
            m.remove("api_key");
        }
        assert!(SandboxFile::from_json(v.to_string().as_bytes(), Path::new("/")).is_err());
    }

    #[test]
    fn unreadable_file_is_an_io_error() {
        let err = SuiteConfig::from_file(Path::new("/nonexistent/sandbox.json"));
        assert!(matches!(err, Err(SuiteError::Io { .. })), "{err:?}");
    }

    #[test]
    fn filter_is_a_substring_match() {
        let f = SandboxFile::from_json(FILE.as_bytes(), Path::new("/")).expect("valid");
        let mut cfg = SuiteConfig::new(f);
        assert!(cfg.selects("ops.healthz"));
        cfg.filter = Some("auth.".into());
        assert!(cfg.selects("auth.missing_key"));
        assert!(!cfg.selects("ops.healthz"));
    }
}

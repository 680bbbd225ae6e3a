//! The simulator's configuration: one typed struct passed to [`super::start`], and the
//! helpers that build its TLS server configuration and certificate fingerprints.

use super::clock::ClockMode;
use super::error::PortingSimError;
use super::faults::{CallbackFaultConfig, FaultConfig};
use super::notify::RetryPolicy;
use adapters::porting::{Ref, UtcTime};
use ring::digest::{SHA256, digest};
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

/// SHA-256 of a certificate's DER: how a client certificate names its operator.
pub type CertFingerprint = [u8; 32];

/// The fingerprint of the first certificate in a PEM text.
pub fn cert_fingerprint_pem(pem: &[u8]) -> Result<CertFingerprint, PortingSimError> {
    let cert = CertificateDer::pem_slice_iter(pem)
        .next()
        .ok_or_else(|| PortingSimError::Tls("certificate PEM holds no certificate".into()))?
        .map_err(|e| PortingSimError::Tls(format!("certificate PEM: {e}")))?;
    Ok(fingerprint(&cert))
}

/// The fingerprint of one DER certificate.
pub(crate) fn fingerprint(der: &[u8]) -> CertFingerprint {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, der).as_ref());
    out
}

/// A provider the hub knows, by its client certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// Its operator id at the hub (the `recipient` of its port-ins, the `donor` of its
    /// port-outs).
    pub id: Ref,
    /// SHA-256 of its client certificate's DER.
    pub cert_sha256: CertFingerprint,
}

/// The hub's client identity for callbacks, and the CA(s) the receiver's server chains
/// to. The key never prints.
#[derive(Clone)]
pub struct NotifierIdentity {
    /// The hub's client certificate chain (PEM).
    pub cert_pem: Vec<u8>,
    /// Its private key (PEM).
    pub key_pem: Vec<u8>,
    /// The CA(s) the receiver's certificate chains to (PEM).
    pub root_ca_pem: Vec<u8>,
}

impl std::fmt::Debug for NotifierIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotifierIdentity")
            .field("cert_pem", &self.cert_pem.len())
            .field("key_pem", &"***")
            .field("root_ca_pem", &self.root_ca_pem.len())
            .finish()
    }
}

/// Everything [`super::start`] needs.
#[derive(Debug, Clone)]
pub struct PortingSimConfig {
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The TLS server configuration (see [`server_tls_config`]).
    pub tls: Arc<rustls::ServerConfig>,
    /// The providers, by certificate. Empty: any client certificate the TLS layer
    /// accepts acts for any provider.
    pub operators: Vec<Operator>,
    /// The donor id of hub-initiated port-outs when the command names none and there is
    /// not exactly one operator.
    pub default_operator: Ref,
    /// The receiver's callback base URL (`https://…`; `/v1/hub-messages` is appended).
    /// Unset: messages are logged, not sent. Settable at runtime.
    pub receiver_url: Option<String>,
    /// The hub's client identity for callbacks; none disables sending.
    pub notifier: Option<NotifierIdentity>,
    /// How the clock moves at start.
    pub clock: ClockMode,
    /// The hub's time at start; `None`: the wall clock's.
    pub start_at: Option<UtcTime>,
    /// Request faults at start.
    pub faults: FaultConfig,
    /// Callback faults at start.
    pub callback_faults: CallbackFaultConfig,
    /// Callback delivery retries.
    pub delivery: RetryPolicy,
    /// Messages (of as many ports) in flight at once; 1: one at a time, in queue order.
    pub delivery_lanes: usize,
    /// Messages one POST carries at most (a batch, `{"messages": […]}`); 1: each alone.
    pub delivery_batch: usize,
    /// Request ids kept for idempotent answers.
    pub replay_capacity: usize,
    /// Seed of the fault PRNGs.
    pub seed: u64,
    /// Where the hub keeps its state (created if missing; see `persist`): a simulator
    /// started again on it resumes its ports, timers, counters, donors, clock, answers and
    /// undelivered messages. `None`: memory only.
    pub state_file: Option<std::path::PathBuf>,
}

impl PortingSimConfig {
    /// `127.0.0.1:0`, any operator, no receiver, a real-time clock from now, no faults,
    /// seed 1, no state file.
    pub fn new(tls: Arc<rustls::ServerConfig>) -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            tls,
            operators: Vec::new(),
            default_operator: Ref::parse("SIMGW", "default_operator")
                .expect("a valid reference literal"),
            receiver_url: None,
            notifier: None,
            clock: ClockMode::RealTime,
            start_at: None,
            faults: FaultConfig::default(),
            callback_faults: CallbackFaultConfig::default(),
            delivery: RetryPolicy::default(),
            delivery_lanes: 1,
            delivery_batch: 1,
            replay_capacity: 100_000,
            seed: 1,
            state_file: None,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), PortingSimError> {
        self.faults.validate()?;
        self.callback_faults.validate()?;
        if let Some(url) = &self.receiver_url {
            receiver_base(url)?;
        }
        let mut prints = std::collections::HashSet::new();
        if let Some(op) = self
            .operators
            .iter()
            .find(|o| !prints.insert(o.cert_sha256))
        {
            return Err(PortingSimError::Config(format!(
                "operator {} shares a certificate with another",
                op.id
            )));
        }
        Ok(())
    }
}

/// Checks a receiver base URL (absolute `https`, no query); returns it without a
/// trailing `/`.
pub(crate) fn receiver_base(url: &str) -> Result<String, PortingSimError> {
    adapters::http::https_base_url(url)
        .ok_or_else(|| PortingSimError::Config("receiver URL must be an absolute https URL".into()))
}

/// A TLS server configuration: the server's chain and key, TLS 1.2 and 1.3, ALPN
/// `http/1.1`, client certificates verified against `client_ca_pem` when presented. A
/// certificate is optional at the TLS layer so the admin API needs none; the hub's
/// request paths refuse a peer without one (`403 forbidden`).
pub fn server_tls_config(
    cert_chain_pem: &[u8],
    key_pem: &[u8],
    client_ca_pem: &[u8],
) -> Result<Arc<rustls::ServerConfig>, PortingSimError> {
    let chain = certs(cert_chain_pem, "server certificate")?;
    // The key parser's own error could quote PEM content, so it is not passed on.
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|_| PortingSimError::Tls("server key: no usable PEM private key".into()))?;
    let mut roots = rustls::RootCertStore::empty();
    for ca in certs(client_ca_pem, "client CA")? {
        roots
            .add(ca)
            .map_err(|e| PortingSimError::Tls(format!("client CA: {e}")))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
            .allow_unauthenticated()
            .build()
            .map_err(|e| PortingSimError::Tls(format!("client verifier: {e}")))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| PortingSimError::Tls(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| PortingSimError::Tls(format!("server identity: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn certs(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, PortingSimError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PortingSimError::Tls(format!("{what}: {e}")))?;
    if certs.is_empty() {
        return Err(PortingSimError::Tls(format!("{what}: no certificate")));
    }
    Ok(certs)
}

//! The simulator's configuration: one typed struct passed to [`super::start`], plus the
//! helpers that build its mutual-TLS server configuration and certificate fingerprints.

use super::error::SmdpSimError;
use super::faults::FaultConfig;
use super::inventory::ReplayRule;
use super::notify::{Quirks, RetryPolicy};
use adapters::es2plus::{ADMIN_PROTOCOL_VERSION, Fqdn};
use ring::digest::{SHA256, digest};
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};
use sim_profiles::{Iccid, Imsi, Key128};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// SHA-256 of a certificate's DER: how a client certificate is mapped to an operator.
pub type CertFingerprint = [u8; 32];

/// The fingerprint of one DER certificate.
pub fn cert_fingerprint(der: &[u8]) -> CertFingerprint {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, der).as_ref());
    out
}

/// The fingerprint of the first certificate in a PEM file's contents.
pub fn cert_fingerprint_pem(pem: &[u8]) -> Result<CertFingerprint, SmdpSimError> {
    let cert = CertificateDer::pem_slice_iter(pem)
        .next()
        .ok_or_else(|| SmdpSimError::Tls("certificate PEM holds no certificate".into()))?
        .map_err(|e| SmdpSimError::Tls(format!("certificate PEM: {e}")))?;
    Ok(cert_fingerprint(&cert))
}

fn certs(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, SmdpSimError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| SmdpSimError::Tls(format!("{what}: {e}")))?;
    if certs.is_empty() {
        return Err(SmdpSimError::Tls(format!("{what}: no certificate")));
    }
    Ok(certs)
}

/// A mutual-TLS server configuration: the server's chain and key, client certificates
/// required and verified against `client_ca_pem`, TLS 1.2 and 1.3, ALPN `http/1.1` only.
pub fn server_tls_config(
    cert_chain_pem: &[u8],
    key_pem: &[u8],
    client_ca_pem: &[u8],
) -> Result<Arc<rustls::ServerConfig>, SmdpSimError> {
    let chain = certs(cert_chain_pem, "server certificate")?;
    // The key parser's own error could quote PEM content, so it is not passed on.
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|_| SmdpSimError::Tls("server key: no usable PEM private key".into()))?;
    let mut roots = rustls::RootCertStore::empty();
    for ca in certs(client_ca_pem, "client CA")? {
        roots
            .add(ca)
            .map_err(|e| SmdpSimError::Tls(format!("client CA: {e}")))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
            .build()
            .map_err(|e| SmdpSimError::Tls(format!("client verifier: {e}")))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| SmdpSimError::Tls(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| SmdpSimError::Tls(format!("server identity: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// One operator the SM-DP+ serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorAccount {
    /// Its `functionRequesterIdentifier`, also the owner name of its profiles.
    pub name: String,
    /// SHA-256 of its client certificate's DER.
    pub cert_sha256: CertFingerprint,
    /// Where its HandleDownloadProgressInfo notifications go (`https://…/gsma/rsp2/es2plus/handleDownloadProgressInfo`).
    pub notification_url: Option<String>,
}

/// One profile in the initial inventory. Ki and OPc print as `***`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileSeed {
    /// The ICCID (a trailing `F` is stripped when parsed).
    pub iccid: Iccid,
    /// The agreed profile type.
    pub profile_type: String,
    /// The owning operator's name.
    pub owner: String,
    /// IMSI for the personalised package.
    pub imsi: Option<Imsi>,
    /// Ki for the personalised package.
    pub ki: Option<Key128>,
    /// OPc for the personalised package.
    pub opc: Option<Key128>,
}

impl ProfileSeed {
    /// A seed without personalisation data.
    pub fn new(iccid: Iccid, profile_type: impl Into<String>, owner: impl Into<String>) -> Self {
        Self {
            iccid,
            profile_type: profile_type.into(),
            owner: owner.into(),
            imsi: None,
            ki: None,
            opc: None,
        }
    }
}

/// What ConfirmOrder answers in `smdpAddress`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SmdpAddressEcho {
    /// Nothing (the operator uses its configured default).
    #[default]
    Absent,
    /// The configured SM-DP+ address.
    Same,
    /// Another host.
    Other(Fqdn),
}

/// How a client certificate that passes TLS but maps to no operator is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnmappedCertPolicy {
    /// Serve HTTP, answering every ES2+ call with 200 + Failed 1.1/1.2.
    #[default]
    Failed,
    /// Close the connection right after the handshake.
    Reject,
}

/// How unparseable JSON or a missing request header is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MalformedAnswer {
    /// 200 + Failed 1.3.1/2.1 (bad JSON) or 1.3.1/2.2 (no header).
    #[default]
    Failed,
    /// HTTP 400, plain text.
    Http400,
    /// HTTP 500, an HTML page (as one open-source server does).
    Http500,
}

/// The client identity and trust the SM-DP+ uses to reach operators. The key never prints.
#[derive(Clone)]
pub struct NotifierIdentity {
    /// The SM-DP+'s client certificate chain (PEM).
    pub cert_pem: Vec<u8>,
    /// Its private key (PEM).
    pub key_pem: Vec<u8>,
    /// The CA(s) the operators' servers chain to (PEM).
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
pub struct SmdpSimConfig {
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The mutual-TLS server configuration (see [`server_tls_config`]).
    pub tls: Arc<rustls::ServerConfig>,
    /// The operators served.
    pub operators: Vec<OperatorAccount>,
    /// The identity for notifications; none disables sending (they are still logged).
    pub notifier: Option<NotifierIdentity>,
    /// The initial inventory.
    pub profiles: Vec<ProfileSeed>,
    /// The SM-DP+'s own address.
    pub smdp_address: Fqdn,
    /// The `functionRequesterIdentifier` the SM-DP+ puts in its notifications.
    pub requester_id: String,
    /// The `X-Admin-Protocol` value answered.
    pub admin_protocol: String,
    /// ConfirmOrder repeat behaviour.
    pub replay: ReplayRule,
    /// `smdpAddress` in ConfirmOrder responses.
    pub smdp_address_echo: SmdpAddressEcho,
    /// Accept known misspelt member names and a missing `X-Admin-Protocol`.
    pub lenient: bool,
    /// Treatment of authenticated but unmapped client certificates.
    pub unmapped_cert: UnmappedCertPolicy,
    /// Answer to unparseable JSON or a missing header.
    pub malformed: MalformedAnswer,
    /// ReleaseProfile on Downloaded/Installed answers success (else 8.2.1/3.5).
    pub release_after_download_ok: bool,
    /// Move Error profiles back to Available after this delay (tokio clock).
    pub error_recovery: Option<Duration>,
    /// Failed Confirmation Code attempts allowed per order.
    pub cc_attempt_limit: u32,
    /// Download attempts allowed per order.
    pub download_attempt_limit: u32,
    /// Fault injection at start; changeable at runtime.
    pub faults: FaultConfig,
    /// Notification quirks at start; changeable at runtime.
    pub quirks: Quirks,
    /// Notification retries.
    pub notification_retry: RetryPolicy,
    /// Seed of the PRNG (faults, MatchingIDs, transaction ids).
    pub seed: u64,
    /// Keep the profiles' states and the notifications still to deliver in this file
    /// (created if missing) and resume from it; in memory only when `None`. Ki and OPc are
    /// never written there: `profiles` gives them at each start.
    pub state_file: Option<std::path::PathBuf>,
}

impl SmdpSimConfig {
    /// `127.0.0.1:0`, no operators or profiles, strict parsing, idempotent replay, no
    /// `smdpAddress` echo, unmapped certificates answered 1.1/1.2, limits 3 CC and 5
    /// download attempts, no faults or quirks, seed 1.
    pub fn new(tls: Arc<rustls::ServerConfig>, smdp_address: Fqdn) -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            tls,
            operators: Vec::new(),
            notifier: None,
            profiles: Vec::new(),
            smdp_address,
            requester_id: "smdp-sim".to_owned(),
            admin_protocol: ADMIN_PROTOCOL_VERSION.to_owned(),
            replay: ReplayRule::Idempotent,
            smdp_address_echo: SmdpAddressEcho::Absent,
            lenient: false,
            unmapped_cert: UnmappedCertPolicy::Failed,
            malformed: MalformedAnswer::Failed,
            release_after_download_ok: true,
            error_recovery: None,
            cc_attempt_limit: 3,
            download_attempt_limit: 5,
            faults: FaultConfig::default(),
            quirks: Quirks::default(),
            notification_retry: RetryPolicy::default(),
            seed: 1,
            state_file: None,
        }
    }

    /// Checks names are unique and every profile's owner is an operator.
    pub(crate) fn validate(&self) -> Result<(), SmdpSimError> {
        self.faults.validate()?;
        let mut names = std::collections::HashSet::new();
        let mut prints = std::collections::HashSet::new();
        for op in &self.operators {
            if !names.insert(op.name.as_str()) {
                return Err(SmdpSimError::Config(format!("operator {} twice", op.name)));
            }
            if !prints.insert(op.cert_sha256) {
                return Err(SmdpSimError::Config(format!(
                    "operator {} shares a certificate with another",
                    op.name
                )));
            }
            if let Some(url) = &op.notification_url {
                adapters::http::validate_url(url).map_err(|_| {
                    SmdpSimError::Config(format!("operator {}: bad notification URL", op.name))
                })?;
            }
        }
        if let Some(seed) = self
            .profiles
            .iter()
            .find(|p| !names.contains(p.owner.as_str()))
        {
            return Err(SmdpSimError::Config(format!(
                "profile {} is owned by unknown operator {}",
                seed.iccid, seed.owner
            )));
        }
        Ok(())
    }
}

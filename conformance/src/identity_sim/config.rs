//! The simulator's configuration: one typed struct passed to [`super::start`], and the
//! helper that builds its TLS server configuration (client certificates optional).

use super::checks::DEFAULT_FACE_THRESHOLD;
use super::error::IdentitySimError;
use adapters::identity::{CivilDate, ClientAuth};
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

/// Decisions kept for idempotent replays, by default.
pub const DEFAULT_REPLAY_CAPACITY: usize = 100_000;

/// Everything [`super::start`] needs.
#[derive(Clone)]
pub struct IdentitySimConfig {
    /// Where to listen; port 0 picks a free port (see [`super::IdentitySimHandle::addr`]).
    pub listen: SocketAddr,
    /// The TLS server configuration (see [`server_tls_config`]); the simulator speaks
    /// HTTPS only, like the services it stands for.
    pub tls: Arc<rustls::ServerConfig>,
    /// The credential a request must carry (the client's [`ClientAuth`], seen from the
    /// other side); `None` accepts any request.
    pub auth: ClientAuth,
    /// Face-match scores below this fail (`face_check_failed`).
    pub face_threshold: f64,
    /// The date ID expiry and birth dates are compared with; `None` is today (UTC).
    pub today: Option<CivilDate>,
    /// How many decisions are kept for replays by request id.
    pub replay_capacity: usize,
}

impl IdentitySimConfig {
    /// `127.0.0.1:0`, no credential, the default threshold and replay capacity, today's date.
    pub fn new(tls: Arc<rustls::ServerConfig>) -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            tls,
            auth: ClientAuth::None,
            face_threshold: DEFAULT_FACE_THRESHOLD,
            today: None,
            replay_capacity: DEFAULT_REPLAY_CAPACITY,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), IdentitySimError> {
        if !(0.0..=1.0).contains(&self.face_threshold) {
            return Err(IdentitySimError::Config(
                "face_threshold must be within 0.0..=1.0".into(),
            ));
        }
        Ok(())
    }
}

impl std::fmt::Debug for IdentitySimConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentitySimConfig")
            .field("listen", &self.listen)
            .field("auth", &self.auth)
            .field("face_threshold", &self.face_threshold)
            .field("today", &self.today)
            .field("replay_capacity", &self.replay_capacity)
            .finish_non_exhaustive()
    }
}

/// A TLS server configuration: the server's chain and key, TLS 1.2 and 1.3, ALPN
/// `http/1.1`; with `client_ca_pem`, client certificates are required and verified
/// against it (mutual TLS).
pub fn server_tls_config(
    cert_chain_pem: &[u8],
    key_pem: &[u8],
    client_ca_pem: Option<&[u8]>,
) -> Result<Arc<rustls::ServerConfig>, IdentitySimError> {
    let chain = certs(cert_chain_pem, "server certificate")?;
    // The key parser's own error could quote PEM content, so it is not passed on.
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|_| IdentitySimError::Tls("server key: no usable PEM private key".into()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| IdentitySimError::Tls(e.to_string()))?;
    let builder = match client_ca_pem {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in certs(ca, "client CA")? {
                roots
                    .add(c)
                    .map_err(|e| IdentitySimError::Tls(format!("client CA: {e}")))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| IdentitySimError::Tls(format!("client verifier: {e}")))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| IdentitySimError::Tls(format!("server identity: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn certs(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, IdentitySimError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| IdentitySimError::Tls(format!("{what}: {e}")))?;
    if certs.is_empty() {
        return Err(IdentitySimError::Tls(format!("{what}: no certificate")));
    }
    Ok(certs)
}

//! Northbound TLS: a configured certificate, or a development CA plus server certificate
//! generated on first start in `DATA_DIR/tls/` (private keys 0600). The same CA signs the
//! sandbox simulators' certificates, so one `dev-ca.pem` is all a client needs to trust.

use crate::config::TlsConfig;
use crate::crypto::write_private;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why TLS material could not be loaded or generated.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// IO on a certificate or key file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// A PEM file has no usable certificate or key.
    #[error("{0}: no usable PEM certificate or private key")]
    Pem(PathBuf),
    /// Certificate generation failed.
    #[error("certificate generation failed: {0}")]
    Generate(String),
    /// rustls rejected the configuration.
    #[error("TLS configuration: {0}")]
    Rustls(String),
}

/// The development CA: its certificate path and an issuer to sign more leaf certificates.
pub struct DevCa {
    /// Path of the CA certificate (what clients trust).
    pub cert_path: PathBuf,
    issuer: Issuer<'static, KeyPair>,
}

/// A PEM certificate chain and key.
pub struct Identity {
    /// PEM certificate (leaf first).
    pub cert_pem: String,
    /// PEM private key.
    pub key_pem: String,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TlsError + '_ {
    move |source| TlsError::Io {
        path: path.to_owned(),
        source,
    }
}

fn gen_err(e: rcgen::Error) -> TlsError {
    TlsError::Generate(e.to_string())
}

impl DevCa {
    /// Loads the dev CA from `dir`, creating it on first use.
    pub fn load_or_create(dir: &Path) -> Result<Self, TlsError> {
        crate::crypto::create_private_dir(dir).map_err(io(dir))?;
        let cert_path = dir.join("dev-ca.pem");
        let key_path = dir.join("dev-ca.key");
        if !cert_path.exists() || !key_path.exists() {
            let key = KeyPair::generate().map_err(gen_err)?;
            let cert = ca_params()?.self_signed(&key).map_err(gen_err)?;
            replace(&key_path, key.serialize_pem().as_bytes()).map_err(io(&key_path))?;
            replace(&cert_path, cert.pem().as_bytes()).map_err(io(&cert_path))?;
        }
        let key_pem = std::fs::read_to_string(&key_path).map_err(io(&key_path))?;
        let key = KeyPair::from_pem(&key_pem).map_err(gen_err)?;
        // The issuer needs only the CA's subject name and key, which `ca_params` fixes.
        let issuer = Issuer::new(ca_params()?, key);
        Ok(Self { cert_path, issuer })
    }

    /// Issues a leaf certificate for `names` (DNS names or IP literals).
    pub fn issue(&self, common_name: &str, names: &[&str]) -> Result<Identity, TlsError> {
        let key = KeyPair::generate().map_err(gen_err)?;
        let names: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
        let mut params = CertificateParams::new(names).map_err(gen_err)?;
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        let cert = params.signed_by(&key, &self.issuer).map_err(gen_err)?;
        Ok(Identity {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// Writes `path` whole or not at all (owner-only, synced, then renamed into place): a
/// reader, or a start after a crash, never sees a half-written PEM file.
fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    write_private(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// Parameters of the dev CA certificate; rebuilt identically to sign with a stored key.
fn ca_params() -> Result<CertificateParams, TlsError> {
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(gen_err)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "simgw development CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok(params)
}

impl DevCa {
    /// Returns the server identity stored in `dir`, issuing it on first use.
    pub fn server_identity(&self, dir: &Path) -> Result<(PathBuf, PathBuf), TlsError> {
        let cert = dir.join("server.pem");
        let key = dir.join("server.key");
        if !cert.exists() || !key.exists() {
            let id = self.issue("simgw", &["localhost", "127.0.0.1", "::1"])?;
            replace(&key, id.key_pem.as_bytes()).map_err(io(&key))?;
            replace(&cert, id.cert_pem.as_bytes()).map_err(io(&cert))?;
        }
        Ok((cert, key))
    }
}

/// The ring crypto provider, explicitly (no aws-lc-rs anywhere in the tree).
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A certificate chain and its private key from PEM text (`origin` names them in errors).
type ServerIdentity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

fn server_identity_from_pem(
    cert_pem: &[u8],
    key_pem: &[u8],
    origin: &Path,
) -> Result<ServerIdentity, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|_| TlsError::Pem(origin.to_owned()))?;
    if certs.is_empty() {
        return Err(TlsError::Pem(origin.to_owned()));
    }
    let key =
        PrivateKeyDer::from_pem_slice(key_pem).map_err(|_| TlsError::Pem(origin.to_owned()))?;
    Ok((certs, key))
}

/// A server config builder on the ring provider, TLS 1.3 and 1.2.
fn server_builder() -> Result<rustls::ConfigBuilder<ServerConfig, rustls::WantsVerifier>, TlsError>
{
    ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsError::Rustls(e.to_string()))
}

/// Builds a TLS 1.2+ server config from PEM text, offering h2 and http/1.1.
pub fn server_config_from_pem(
    cert_pem: &[u8],
    key_pem: &[u8],
    origin: &Path,
) -> Result<ServerConfig, TlsError> {
    let (certs, key) = server_identity_from_pem(cert_pem, key_pem, origin)?;
    let mut cfg = server_builder()?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Rustls(e.to_string()))?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(cfg)
}

/// Northbound TLS material: the configured files, or the dev CA's server certificate.
pub struct Northbound {
    /// The rustls server config.
    pub config: Arc<ServerConfig>,
    /// The dev CA, when the certificate was generated (sandbox and tests use it).
    pub dev_ca: Option<DevCa>,
    /// The certificate and key files (PEM) the config was built from.
    pub files: (PathBuf, PathBuf),
}

/// Loads or generates the northbound TLS configuration.
pub fn northbound(cfg: &TlsConfig, data_dir: &Path) -> Result<Northbound, TlsError> {
    let (cert_path, key_path, dev_ca) = match (&cfg.cert_file, &cfg.key_file) {
        (Some(c), Some(k)) => (c.clone(), k.clone(), None),
        _ => {
            let dir = data_dir.join("tls");
            let ca = DevCa::load_or_create(&dir)?;
            let (c, k) = ca.server_identity(&dir)?;
            (c, k, Some(ca))
        }
    };
    let cert = std::fs::read(&cert_path).map_err(io(&cert_path))?;
    let key = zeroize::Zeroizing::new(std::fs::read(&key_path).map_err(io(&key_path))?);
    let config = server_config_from_pem(&cert, &key, &cert_path)?;
    Ok(Northbound {
        config: Arc::new(config),
        dev_ca,
        files: (cert_path, key_path),
    })
}

/// A client-certificate verifier that accepts only certificates chaining to the given
/// roots and, when pins are configured, only those whose SHA-256 (of the DER) is pinned:
/// the ES2+ callback listener admits exactly the configured SM-DP+.
#[derive(Debug)]
struct PinnedClientVerifier {
    inner: Arc<dyn rustls::server::danger::ClientCertVerifier>,
    pins: Vec<[u8; 32]>,
}

impl rustls::server::danger::ClientCertVerifier for PinnedClientVerifier {
    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: rustls_pki_types::UnixTime,
    ) -> Result<rustls::server::danger::ClientCertVerified, rustls::Error> {
        let verified = self
            .inner
            .verify_client_cert(end_entity, intermediates, now)?;
        if self.pins.is_empty() {
            return Ok(verified);
        }
        let digest = ring::digest::digest(&ring::digest::SHA256, end_entity.as_ref());
        if self.pins.iter().any(|p| p.as_slice() == digest.as_ref()) {
            Ok(verified)
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Parses hex SHA-256 pins (64 hex digits each, `:` separators allowed).
pub fn parse_pins(pins: &[String]) -> Result<Vec<[u8; 32]>, TlsError> {
    pins.iter()
        .map(|p| {
            let hex: String = p.chars().filter(|c| *c != ':').collect();
            let mut out = [0u8; 32];
            if hex.len() != 64 {
                return Err(TlsError::Rustls(
                    "a certificate pin must be 64 hex digits (SHA-256)".into(),
                ));
            }
            for (i, byte) in out.iter_mut().enumerate() {
                *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| {
                    TlsError::Rustls("a certificate pin must be 64 hex digits (SHA-256)".into())
                })?;
            }
            Ok(out)
        })
        .collect()
}

/// SHA-256 (hex) of the first certificate in `cert_pem`: the pin of that identity.
pub fn cert_pin(cert_pem: &[u8]) -> Option<String> {
    let cert = CertificateDer::pem_slice_iter(cert_pem).next()?.ok()?;
    let d = ring::digest::digest(&ring::digest::SHA256, cert.as_ref());
    Some(d.as_ref().iter().map(|b| format!("{b:02x}")).collect())
}

/// A TLS 1.2+ server config that requires a client certificate from `client_ca_pem`
/// (and one of `pins`, if any), offering HTTP/1.1 only (ES2+ is HTTP/1.1).
pub fn mutual_server_config(
    cert_pem: &[u8],
    key_pem: &[u8],
    client_ca_pem: &[u8],
    pins: Vec<[u8; 32]>,
    origin: &Path,
) -> Result<ServerConfig, TlsError> {
    let (certs, key) = server_identity_from_pem(cert_pem, key_pem, origin)?;
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(client_ca_pem) {
        let ca = ca.map_err(|_| TlsError::Pem(origin.to_owned()))?;
        roots.add(ca).map_err(|e| TlsError::Rustls(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(TlsError::Pem(origin.to_owned()));
    }
    let inner =
        rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .map_err(|e| TlsError::Rustls(e.to_string()))?;
    let verifier = Arc::new(PinnedClientVerifier { inner, pins });
    let mut cfg = server_builder()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Rustls(e.to_string()))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(cfg)
}

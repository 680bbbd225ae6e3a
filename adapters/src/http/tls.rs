//! The rustls client configuration: ring provider, TLS 1.2+, only the roots we are given.

use super::HttpError;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};
use std::sync::Arc;

/// Builds the client config. With no roots, every HTTPS peer is refused: host operators
/// use private CAs, so the public web roots would only widen what we trust.
pub(super) fn client_config(
    roots_pem: &[Vec<u8>],
    identity: Option<(&[u8], &[u8])>,
) -> Result<ClientConfig, HttpError> {
    let mut roots = RootCertStore::empty();
    for pem in roots_pem {
        for cert in certs(pem)? {
            roots
                .add(cert)
                .map_err(|e| HttpError::Config(format!("root certificate: {e}")))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| HttpError::Config(e.to_string()))?
        .with_root_certificates(roots);
    match identity {
        None => Ok(builder.with_no_client_auth()),
        Some((chain_pem, key_pem)) => {
            let chain = certs(chain_pem)?;
            // The key's own parse error could quote PEM content, so it is not passed on.
            let key = PrivateKeyDer::from_pem_slice(key_pem)
                .map_err(|_| HttpError::Config("client key: no usable PEM private key".into()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| HttpError::Config(format!("client identity: {e}")))
        }
    }
}

fn certs(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, HttpError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| HttpError::Config(format!("certificate PEM: {e}")))?;
    if certs.is_empty() {
        return Err(HttpError::Config(
            "certificate PEM holds no certificate".into(),
        ));
    }
    Ok(certs)
}

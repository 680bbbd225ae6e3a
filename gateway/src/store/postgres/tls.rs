//! TLS to the database: a small `MakeTlsConnect` over tokio-rustls on the ring provider
//! (no OpenSSL, no aws-lc-rs, and none of a TLS glue crate's extra dependencies). A
//! certificate is always verified against `[store] ca_file` or the system bundle, with
//! the host name (see `config::SslMode`). SCRAM channel binding is not offered
//! (`ChannelBinding::none()`): the server must not require it.

use crate::config::SslMode;
use rustls::ClientConfig;
use rustls_pki_types::{CertificateDer, ServerName, pem::PemObject};
use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect};

/// Makes a verified rustls connection per database host; without trusted roots (no CA
/// file and no system bundle) every TLS attempt fails with a message saying so.
#[derive(Clone)]
pub struct RustlsConnect {
    config: Option<Arc<ClientConfig>>,
}

impl RustlsConnect {
    /// A connector for `mode`, trusting `ca_file` (else the system bundle). With
    /// `SslMode::Disable` no roots are loaded, since no TLS will be attempted.
    pub fn new(mode: SslMode, ca_file: Option<&Path>) -> Result<Self, String> {
        if mode == SslMode::Disable {
            return Ok(Self { config: None });
        }
        let pem = match ca_file {
            Some(p) => Some(std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?),
            None => crate::webhooks::transport::SYSTEM_BUNDLES
                .iter()
                .find_map(|p| std::fs::read(p).ok()),
        };
        let config = match pem {
            Some(pem) => Some(Arc::new(client_config(&pem)?)),
            None => None,
        };
        Ok(Self { config })
    }
}

fn client_config(pem: &[u8]) -> Result<ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| format!("database CA bundle: {e}"))?;
        // A system bundle may hold certificates rustls cannot use; the others still count.
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        return Err("the database CA bundle holds no usable certificate".into());
    }
    Ok(ClientConfig::builder_with_provider(crate::tls::provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

impl<S> MakeTlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsHost;
    type Error = io::Error;

    // tokio-postgres asks for a connector for every host before it knows whether TLS
    // will be used (never on a Unix socket, nor with `sslmode=disable`), so problems are
    // reported only when a handshake is actually attempted.
    fn make_tls_connect(&mut self, domain: &str) -> io::Result<RustlsHost> {
        Ok(RustlsHost {
            config: self.config.clone(),
            name: ServerName::try_from(domain.to_owned()).ok(),
        })
    }
}

/// One connection attempt's TLS parameters.
pub struct RustlsHost {
    config: Option<Arc<ClientConfig>>,
    name: Option<ServerName<'static>>,
}

impl<S> TlsConnect<S> for RustlsHost
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<RustlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let config = self.config.ok_or_else(|| {
                io::Error::other(
                    "TLS to the database needs trusted roots: set [store] ca_file (no system CA bundle found)",
                )
            })?;
            let name = self.name.ok_or_else(|| {
                io::Error::other("the database host is not a valid TLS server name")
            })?;
            let tls = tokio_rustls::TlsConnector::from(config)
                .connect(name, stream)
                .await?;
            Ok(RustlsStream(tls))
        })
    }
}

/// The TLS stream handed to tokio-postgres.
pub struct RustlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S> tokio_postgres::tls::TlsStream for RustlsStream<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disable_needs_no_roots_and_a_bad_bundle_is_refused() {
        assert!(
            RustlsConnect::new(SslMode::Disable, Some(Path::new("/nonexistent")))
                .expect("no roots read")
                .config
                .is_none()
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("ca.pem");
        std::fs::write(&p, "not a certificate").expect("write");
        let e = RustlsConnect::new(SslMode::VerifyFull, Some(&p))
            .err()
            .expect("refused");
        assert!(e.contains("no usable certificate"), "{e}");
    }

    #[test]
    fn a_dev_ca_is_accepted_as_roots() {
        let dir = tempfile::tempdir().expect("tempdir");
        crate::tls::DevCa::load_or_create(dir.path()).expect("dev CA");
        let mut c = RustlsConnect::new(SslMode::VerifyFull, Some(&dir.path().join("dev-ca.pem")))
            .expect("roots from the dev CA");
        let host = <RustlsConnect as MakeTlsConnect<tokio::net::TcpStream>>::make_tls_connect(
            &mut c,
            "db.example",
        )
        .expect("connector");
        assert!(host.config.is_some() && host.name.is_some());
    }
}

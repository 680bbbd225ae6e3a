//! Sockets for every simulator: the listener, optional TLS (with the client certificate
//! handed to the service), one hyper HTTP/1.1 connection per task, a cap on concurrent
//! connections, and graceful shutdown.

use super::control::wait_shutdown;
use super::http_util::{Abort, HttpResponse};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rustls_pki_types::CertificateDer;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

/// Connections served at once; further clients wait in the listen backlog.
const MAX_CONNECTIONS: usize = 1024;

/// How long shutdown waits for in-flight exchanges before cutting connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What the server learnt about the peer of one connection.
#[derive(Debug, Clone, Default)]
pub(crate) struct Peer {
    /// The end-entity certificate the client presented (mutual TLS only).
    pub(crate) certificate: Option<CertificateDer<'static>>,
}

/// The protocol side of a simulator: answers requests of accepted connections.
pub(crate) trait Service: Send + Sync + 'static {
    /// Answers one request; `Err(Abort)` closes the connection without an answer.
    fn call(
        self: Arc<Self>,
        req: http::Request<Incoming>,
        peer: Arc<Peer>,
    ) -> impl Future<Output = Result<HttpResponse, Abort>> + Send;

    /// Decides, after the TLS handshake, whether to serve this peer at all.
    fn admit(&self, _peer: &Peer) -> bool {
        true
    }
}

/// Binds `listen`, returning the listener and its real address.
pub(crate) async fn bind(listen: SocketAddr) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

/// Spawns the accept loop; it ends (after a grace period for open exchanges) once `stop`
/// turns true. `name` labels log lines.
pub(crate) fn spawn<S: Service>(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    service: Arc<S>,
    stop: watch::Receiver<bool>,
    name: &'static str,
) -> JoinHandle<()> {
    let tls = tls.map(TlsAcceptor::from);
    tokio::spawn(accept_loop(listener, tls, service, stop, name))
}

async fn accept_loop<S: Service>(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    service: Arc<S>,
    stop: watch::Receiver<bool>,
    name: &'static str,
) {
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            () = wait_shutdown(stop.clone()) => break,
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => tokio::select! {
                    () = wait_shutdown(stop.clone()) => break,
                    accepted = listener.accept() => accepted.map(|(stream, _)| (stream, permit)),
                },
                Err(_) => break, // the semaphore is never closed
            },
        };
        match accepted {
            Ok((stream, permit)) => {
                connections.spawn(serve(
                    stream,
                    tls.clone(),
                    Arc::clone(&service),
                    stop.clone(),
                    permit,
                ));
            }
            Err(e) => {
                // Typically EMFILE: back off instead of spinning.
                tracing::warn!(error = %e, simulator = name, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        connections.shutdown().await;
    }
    tracing::info!(simulator = name, "simulator stopped");
}

/// Serves one TCP connection, through TLS if configured.
async fn serve<S: Service>(
    stream: TcpStream,
    tls: Option<TlsAcceptor>,
    service: Arc<S>,
    stop: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    // Small request/response exchanges: do not let Nagle delay them.
    let _ = stream.set_nodelay(true);
    match tls {
        None => serve_http(stream, service, Peer::default(), stop).await,
        Some(acceptor) => {
            let handshake = tokio::select! {
                () = wait_shutdown(stop.clone()) => return,
                handshake = acceptor.accept(stream) => handshake,
            };
            match handshake {
                Ok(stream) => {
                    let peer = Peer {
                        certificate: stream
                            .get_ref()
                            .1
                            .peer_certificates()
                            .and_then(|chain| chain.first())
                            .map(|c| c.clone().into_owned()),
                    };
                    if service.admit(&peer) {
                        serve_http(stream, service, peer, stop).await;
                    } else {
                        tracing::debug!(
                            client_certificate = peer.certificate.is_some(),
                            "peer refused after the TLS handshake"
                        );
                    }
                }
                Err(e) => tracing::debug!(error = %e, "TLS handshake failed"),
            }
        }
    }
}

async fn serve_http<I, S>(io: I, service: Arc<S>, peer: Peer, stop: watch::Receiver<bool>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Service,
{
    let peer = Arc::new(peer);
    let svc = service_fn(move |req: http::Request<Incoming>| {
        Arc::clone(&service).call(req, Arc::clone(&peer))
    });
    let conn = http1::Builder::new().serve_connection(TokioIo::new(io), svc);
    tokio::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = wait_shutdown(stop) => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        // Includes deliberate `Abort`s (dropped and held exchanges).
        tracing::debug!(error = %e, "connection ended");
    }
}

//! Sockets: the listener, optional TLS, one hyper HTTP/1.1 connection per task, a cap on
//! concurrent connections, and graceful shutdown.

use super::config::HlrSimConfig;
use super::error::SimError;
use super::handle::HlrSimHandle;
use super::http_util::{Abort, HttpResponse};
use super::router;
use super::simulator::{Simulator, wait_shutdown};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

/// Connections served at once; further clients wait in the listen backlog.
const MAX_CONNECTIONS: usize = 1024;

/// How long shutdown waits for in-flight exchanges before cutting connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Binds, spawns the accept loop and returns the handle.
pub(crate) async fn start(config: HlrSimConfig) -> Result<HlrSimHandle, SimError> {
    if !config.path.starts_with('/') || config.path.starts_with(super::admin::PREFIX) {
        return Err(SimError::Path(config.path));
    }
    config.faults.validate()?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| SimError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SimError::Bind {
        addr: config.listen,
        source,
    })?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let sim = Arc::new(Simulator::new(&config, stop_rx.clone()));
    let tls = config.tls.clone().map(TlsAcceptor::from);
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(%addr, scheme, path = %config.path, "HLR simulator listening");
    let task = tokio::spawn(accept_loop(listener, tls, Arc::clone(&sim), stop_rx));
    Ok(HlrSimHandle::new(sim, addr, scheme, stop_tx, task))
}

async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    sim: Arc<Simulator>,
    stop: watch::Receiver<bool>,
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
                    Arc::clone(&sim),
                    stop.clone(),
                    permit,
                ));
            }
            Err(e) => {
                // Typically EMFILE: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
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
    tracing::info!("HLR simulator stopped");
}

/// Serves one TCP connection, through TLS if configured.
async fn serve(
    stream: TcpStream,
    tls: Option<TlsAcceptor>,
    sim: Arc<Simulator>,
    stop: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    // Small SOAP exchanges: do not let Nagle delay them.
    let _ = stream.set_nodelay(true);
    match tls {
        None => serve_http(stream, sim, stop).await,
        Some(acceptor) => {
            let handshake = tokio::select! {
                () = wait_shutdown(stop.clone()) => return,
                handshake = acceptor.accept(stream) => handshake,
            };
            match handshake {
                Ok(stream) => serve_http(stream, sim, stop).await,
                Err(e) => tracing::debug!(error = %e, "TLS handshake failed"),
            }
        }
    }
}

async fn serve_http<S>(io: S, sim: Arc<Simulator>, stop: watch::Receiver<bool>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req: http::Request<Incoming>| {
        let sim = Arc::clone(&sim);
        async move { router::route(sim, req).await as Result<HttpResponse, Abort> }
    });
    let conn = http1::Builder::new().serve_connection(TokioIo::new(io), service);
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

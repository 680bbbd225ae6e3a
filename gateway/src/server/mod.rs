//! The listeners: TLS 1.2+ via rustls (or plain HTTP, for the loopback metrics listener),
//! HTTP/1.1 and HTTP/2 via hyper-util, and graceful shutdown that stops accepting and lets
//! open requests finish.
//!
//! No client, authenticated or not, may hold a connection without using it: the TLS
//! handshake, the first request and every idle gap have deadlines in both protocols,
//! HTTP/2 peers must answer pings, streams per connection are capped, and so are
//! connections per client address (`per_ip`). Refusals sent before a request body was
//! read drain a bounded remainder of it so the client sees the answer (`body`).

mod activity;
mod conn;
mod per_ip;
mod service;

use crate::config::ApiConfig;
use axum::Router;
use per_ip::PerIp;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;

/// Connection limits and deadlines of one listener.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Most open connections; further ones wait in the kernel's accept queue.
    pub max_connections: usize,
    /// Most open connections from one client address (IPv6: one /64).
    pub max_connections_per_ip: usize,
    /// Longest a TLS handshake may take.
    pub tls_handshake_timeout: Duration,
    /// Longest until the first request (both protocols) and each HTTP/1.1 request's headers.
    pub header_read_timeout: Duration,
    /// Longest a connection may stay open with no request in flight.
    pub idle_timeout: Duration,
    /// HTTP/2: silence after which the server pings the client.
    pub keep_alive_interval: Duration,
    /// HTTP/2: how long a ping may go unanswered; also the grace of an idle close.
    pub keep_alive_timeout: Duration,
    /// HTTP/2: most concurrent streams per connection.
    pub max_concurrent_streams: u32,
}

impl Limits {
    /// The `[api]` settings.
    pub fn from_api(api: &ApiConfig) -> Self {
        Self {
            max_connections: api.max_connections,
            max_connections_per_ip: api.max_connections_per_ip,
            tls_handshake_timeout: Duration::from_millis(api.tls_handshake_timeout_ms),
            header_read_timeout: Duration::from_millis(api.header_read_timeout_ms),
            idle_timeout: Duration::from_millis(api.idle_timeout_ms),
            keep_alive_interval: Duration::from_millis(api.keep_alive_interval_ms),
            keep_alive_timeout: Duration::from_millis(api.keep_alive_timeout_ms),
            max_concurrent_streams: api.max_concurrent_streams,
        }
    }

    /// The same deadlines with another connection cap (side listeners need fewer).
    pub fn with_max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self.max_connections_per_ip = self.max_connections_per_ip.min(self.max_connections);
        self
    }
}

/// Connections the kernel queues before they are accepted. std's and tokio's 128
/// overflows under a burst of connections (a flood, or many clients reconnecting at once),
/// and an overflowing queue drops handshakes that clients retry only seconds later.
const ACCEPT_BACKLOG: u32 = 1024;

/// Binds a listener with a deep accept queue (the kernel caps it at `somaxconn`).
pub fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    // As std and tokio do on Unix: a restart may bind while old connections linger.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(ACCEPT_BACKLOG)
}

/// Resolves once `stop` is true (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns must not live across an await (it is not `Send`).
    let _ = stop.wait_for(|s| *s).await.map(|_| ());
}

/// Serves `router` on `listener` (over TLS when `tls` is given) until `stop` turns true,
/// then lets each connection finish its requests for at most `grace`.
pub async fn serve(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
    grace: Duration,
) {
    let acceptor = tls.map(TlsAcceptor::from);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let per_ip = PerIp::new(limits.max_connections_per_ip);
    let limits = Arc::new(limits);
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = stopped(&mut stop) => break,
        };
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Usually EMFILE: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopped(&mut stop) => break,
        };
        let Some(ip_slot) = per_ip.try_acquire(peer.ip()) else {
            // Closing at once (not queueing) keeps the cap from costing anything to hold.
            tracing::debug!(%peer, "connection cap for this client address reached; closed");
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let router = router.clone();
        let limits = limits.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let _held = (permit, ip_slot);
            let Some(acceptor) = acceptor else {
                return conn::run(tcp, peer, router, &limits, stop, grace).await;
            };
            match tokio::time::timeout(limits.tls_handshake_timeout, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => conn::run(tls, peer, router, &limits, stop, grace).await,
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
    drop(listener);
    // Every connection heard `stop` and closes within `grace` (a handshake still running
    // within its own deadline first); all permits back means all connections are gone.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let bound = grace + limits.tls_handshake_timeout;
    if tokio::time::timeout(bound, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown grace period; closing them");
    }
}

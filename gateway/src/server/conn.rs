//! One connection's life: hyper serves it (HTTP/1.1 or HTTP/2, by the client's preface)
//! while this driver closes it when it has carried no request for too long, or when the
//! server stops. hyper's own HTTP/1.1 header timeout does not cover HTTP/2, nor the bytes
//! before the protocol is known, nor the gaps between requests: the driver does.

use super::Limits;
use super::activity::Activity;
use super::service::ConnService;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio::time::Instant;

/// Serves one accepted (and, for TLS, handshaken) connection until it ends, idles out,
/// or `stop` asks it to finish within `grace`.
pub(super) async fn run<IO>(
    io: IO,
    peer: SocketAddr,
    router: Router,
    limits: &Limits,
    mut stop: watch::Receiver<bool>,
    grace: Duration,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::new(Instant::now()));
    let service = ConnService::new(router, activity.clone());
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(limits.keep_alive_interval)
        .keep_alive_timeout(limits.keep_alive_timeout)
        .max_concurrent_streams(limits.max_concurrent_streams);
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
    tokio::pin!(conn);
    // Once a graceful close has begun: the instant it must be done by.
    let mut closing_by: Option<Instant> = None;
    loop {
        let wake = closing_by.unwrap_or_else(|| activity.deadline(limits, Instant::now()));
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            _ = super::stopped(&mut stop), if closing_by.is_none() => {
                conn.as_mut().graceful_shutdown();
                closing_by = Some(Instant::now() + grace);
            }
            _ = activity.changed(), if closing_by.is_none() => {}
            _ = tokio::time::sleep_until(wake) => {
                let now = Instant::now();
                if closing_by.is_some() {
                    // A peer that never acknowledges the GOAWAY (or never reads) is cut.
                    tracing::debug!(%peer, "connection did not close in time; dropped");
                    return;
                }
                if activity.deadline(limits, now) <= now {
                    tracing::debug!(%peer, "idle connection closed");
                    conn.as_mut().graceful_shutdown();
                    closing_by = Some(now + limits.keep_alive_timeout);
                }
            }
        }
    }
}

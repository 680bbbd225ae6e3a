//! Start-up: validates the configuration, binds, and hands the simulator to the shared
//! accept loop (`crate::common::server`).

use super::config::HlrSimConfig;
use super::error::SimError;
use super::handle::HlrSimHandle;
use super::router;
use super::simulator::Simulator;
use crate::common::http_util::{Abort, HttpResponse};
use crate::common::server::{self, Peer, Service};
use hyper::body::Incoming;
use std::sync::Arc;
use tokio::sync::watch;

impl Service for Simulator {
    async fn call(
        self: Arc<Self>,
        req: http::Request<Incoming>,
        _peer: Arc<Peer>,
    ) -> Result<HttpResponse, Abort> {
        router::route(self, req).await
    }
}

/// Binds, spawns the accept loop and returns the handle.
pub(crate) async fn start(config: HlrSimConfig) -> Result<HlrSimHandle, SimError> {
    if !config.path.starts_with('/') || config.path.starts_with(super::admin::PREFIX) {
        return Err(SimError::Path(config.path));
    }
    config.faults.validate()?;
    // Opened before binding: a state file that cannot be read stops the start.
    let (stop_tx, stop_rx) = watch::channel(false);
    let sim = Arc::new(Simulator::new(&config, stop_rx.clone())?);
    let (listener, addr) = server::bind(config.listen)
        .await
        .map_err(|source| SimError::Bind {
            addr: config.listen,
            source,
        })?;
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    tracing::info!(%addr, scheme, path = %config.path, "HLR simulator listening");
    let task = server::spawn(
        listener,
        config.tls.clone(),
        Arc::clone(&sim),
        stop_rx,
        "hlr",
    );
    Ok(HlrSimHandle::new(sim, addr, scheme, stop_tx, task))
}

//! Start-up: validates the configuration, binds, and hands the simulator to the shared
//! accept loop (`crate::common::server`) with TLS.

use super::config::IdentitySimConfig;
use super::error::IdentitySimError;
use super::handle::IdentitySimHandle;
use super::simulator::Simulator;
use crate::common::server;
use std::sync::Arc;
use tokio::sync::watch;

/// Binds, spawns the accept loop and returns the handle.
pub(crate) async fn start(
    config: IdentitySimConfig,
) -> Result<IdentitySimHandle, IdentitySimError> {
    config.validate()?;
    let (listener, addr) =
        server::bind(config.listen)
            .await
            .map_err(|source| IdentitySimError::Bind {
                addr: config.listen,
                source,
            })?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let sim = Arc::new(Simulator::new(&config, stop_rx.clone()));
    tracing::info!(%addr, "identity verification simulator listening");
    let task = server::spawn(
        listener,
        Some(Arc::clone(&config.tls)),
        Arc::clone(&sim),
        stop_rx,
        "identity",
    );
    Ok(IdentitySimHandle::new(sim, addr, stop_tx, task))
}

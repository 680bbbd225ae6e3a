//! Start-up: validates the configuration, builds the notification client, binds, and hands
//! the simulator to the shared accept loop (`crate::common::server`) with mutual TLS.

use super::config::SmdpSimConfig;
use super::error::SmdpSimError;
use super::handle::SmdpSimHandle;
use super::notify::Notifier;
use super::persist;
use super::simulator::Simulator;
use crate::common::server;
use crate::common::state_writer::StateWriter;
use adapters::http::HttpClient;
use std::sync::Arc;
use tokio::sync::watch;

/// Binds, spawns the accept loop and the notification task, and returns the handle.
pub(crate) async fn start(config: SmdpSimConfig) -> Result<SmdpSimHandle, SmdpSimError> {
    config.validate()?;
    let client = match &config.notifier {
        None => None,
        Some(id) => Some(
            HttpClient::builder()
                .identity_pem(&id.cert_pem, &id.key_pem)
                .add_root_pem(&id.root_ca_pem)
                .request_timeout(config.notification_retry.timeout)
                .build()
                .map_err(|e| SmdpSimError::Notifier(e.to_string()))?,
        ),
    };
    let (listener, addr) =
        server::bind(config.listen)
            .await
            .map_err(|source| SmdpSimError::Bind {
                addr: config.listen,
                source,
            })?;
    let resumed = config
        .state_file
        .as_deref()
        .map(persist::open)
        .transpose()?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let urls = config
        .operators
        .iter()
        .map(|o| (o.name.clone(), o.notification_url.clone()))
        .collect();
    let (notifier_state, sim_state) = match resumed {
        None => (None, None),
        Some(r) => {
            let file = Arc::new(
                StateWriter::start(Some(r.file))
                    .map_err(|e| SmdpSimError::Config(format!("state file writer: {e}")))?,
            );
            (Some((file.clone(), r.pending)), Some((file, r.inventory)))
        }
    };
    let notifier = Notifier::start(
        config.requester_id.clone(),
        urls,
        client,
        config.admin_protocol.clone(),
        config.quirks.clone(),
        config.notification_retry,
        stop_rx.clone(),
        notifier_state,
    );
    let sim = Arc::new(Simulator::new(
        &config,
        notifier,
        stop_rx.clone(),
        sim_state,
    ));
    if !sim.resume().written().await {
        tracing::warn!("SM-DP+ simulator: the start's profiles are not yet in the state file");
    }
    tracing::info!(%addr, profiles = config.profiles.len(), operators = config.operators.len(), "SM-DP+ simulator listening");
    let task = server::spawn(
        listener,
        Some(Arc::clone(&config.tls)),
        Arc::clone(&sim),
        stop_rx,
        "smdp",
    );
    Ok(SmdpSimHandle::new(sim, addr, stop_tx, task))
}

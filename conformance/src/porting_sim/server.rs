//! Start-up: validates the configuration, builds the callback client and the delivery
//! task, binds, starts the real-time ticker and hands the simulator to the shared accept
//! loop (`crate::common::server`) with TLS.

use super::clock::ClockMode;
use super::config::{PortingSimConfig, receiver_base};
use super::error::PortingSimError;
use super::faults::CallbackPlanner;
use super::handle::PortingSimHandle;
use super::notify::Notifier;
use super::persist;
use super::simulator::Simulator;
use super::stats::PortingCounts;
use crate::common::control::wait_shutdown;
use crate::common::server;
use crate::common::state_writer::StateWriter;
use adapters::http::HttpClient;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// How often the real-time clock fires due timers.
const TICK: Duration = Duration::from_secs(1);

/// Binds, spawns the accept loop, the delivery task and the ticker; returns the handle.
pub(crate) async fn start(config: PortingSimConfig) -> Result<PortingSimHandle, PortingSimError> {
    config.validate()?;
    let client = match &config.notifier {
        None => None,
        Some(id) => Some(
            HttpClient::builder()
                .identity_pem(&id.cert_pem, &id.key_pem)
                .add_root_pem(&id.root_ca_pem)
                .request_timeout(config.delivery.timeout)
                .build()
                .map_err(|e| PortingSimError::Tls(format!("callback client: {e}")))?,
        ),
    };
    let (listener, addr) =
        server::bind(config.listen)
            .await
            .map_err(|source| PortingSimError::Bind {
                addr: config.listen,
                source,
            })?;
    let resumed = config
        .state_file
        .as_deref()
        .map(persist::open)
        .transpose()?;
    let (notifier_kept, sim_kept) = match resumed {
        None => (None, None),
        Some(r) => {
            let file = Arc::new(
                StateWriter::start(Some(r.file))
                    .map_err(|e| PortingSimError::Config(format!("state file writer: {e}")))?,
            );
            (Some((file.clone(), r.pending)), Some((file, r.kept)))
        }
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let counts = Arc::new(Mutex::new(PortingCounts::default()));
    let url = config
        .receiver_url
        .as_deref()
        .map(receiver_base)
        .transpose()?;
    let notifier = Notifier::start(
        url,
        client,
        CallbackPlanner::new(config.callback_faults.clone(), config.seed ^ 0x6362),
        config.delivery,
        Arc::clone(&counts),
        stop_rx.clone(),
        notifier_kept,
    );
    notifier.set_lanes(config.delivery_lanes);
    notifier.set_batch(config.delivery_batch);
    let sim = Arc::new(Simulator::new(
        &config,
        notifier,
        counts,
        stop_rx.clone(),
        sim_kept,
    ));
    if !sim.keep_start().written().await {
        tracing::warn!("porting hub simulator: the start is not yet in the state file");
    }
    tokio::spawn(tick(Arc::clone(&sim), stop_rx.clone()));
    tracing::info!(%addr, "porting hub simulator listening");
    let task = server::spawn(
        listener,
        Some(Arc::clone(&config.tls)),
        Arc::clone(&sim),
        stop_rx,
        "porting",
    );
    Ok(PortingSimHandle::new(sim, addr, stop_tx, task))
}

/// In real-time mode, fires due timers every [`TICK`]; idle in driven mode.
async fn tick(sim: Arc<Simulator>, stop: watch::Receiver<bool>) {
    let mut every = tokio::time::interval(TICK);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = wait_shutdown(stop.clone()) => return,
            _ = every.tick() => {
                if sim.state().clock.mode() == ClockMode::RealTime {
                    sim.tick();
                }
            }
        }
    }
}

//! The sandbox's number-porting hub: the conformance crate's simulator on loopback, its
//! server certificate and its callback identity issued by the dev CA, on a real-time
//! clock, keeping its state in `DATA_DIR/simulators/porting.redb` (a restarted sandbox
//! finds its open ports, their timers and the clock's offset, and the messages the hub
//! had not delivered yet are redelivered). Any client certificate of the dev CA may act
//! for the sandbox at the hub; the gateway's client is one ([`client`]), and the
//! simulator posts its messages to the gateway's hub-message listener
//! ([`bind_receiver`], bound before the simulator starts so it knows where to redeliver).

use crate::app::StartError;
use crate::tls::DevCa;
use conformance::porting_sim::{
    self, ClockMode, NotifierIdentity, PortingSimConfig, PortingSimHandle, server_tls_config,
};

/// The running hub simulator.
pub struct SandboxPorting {
    /// The simulator (clock, donors, faults, commands, shutdown).
    pub sim: PortingSimHandle,
    /// The certificate (PEM) the hub presents on its callbacks: the one a hub-message
    /// receiver should admit.
    pub notifier_cert_pem: String,
}

impl std::fmt::Debug for SandboxPorting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxPorting")
            .field("url", &self.sim.url())
            .finish_non_exhaustive()
    }
}

fn sim_err(e: impl std::fmt::Display) -> StartError {
    StartError::Southbound(format!("porting hub simulator: {e}"))
}

/// Starts the simulator on `127.0.0.1` (a free port), trusting the dev CA both ways, on
/// its state file in the gateway's data dir (unless `[sandbox] simulator_state` is off),
/// posting its messages to `receiver` (none: logged only).
pub async fn start(
    ca: &DevCa,
    gateway: &crate::config::Config,
    receiver: Option<&tokio::net::TcpListener>,
) -> Result<SandboxPorting, StartError> {
    let ca_pem = std::fs::read(&ca.cert_path)
        .map_err(|e| StartError::Io(format!("{}: {e}", ca.cert_path.display())))?;
    let server = ca.issue("simgw sandbox porting hub", &["localhost", "127.0.0.1"])?;
    let notifier = ca.issue("simgw sandbox porting hub notifier", &["localhost"])?;
    let tls = server_tls_config(
        server.cert_pem.as_bytes(),
        server.key_pem.as_bytes(),
        &ca_pem,
    )
    .map_err(sim_err)?;
    let mut config = PortingSimConfig::new(tls);
    config.clock = ClockMode::RealTime;
    config.notifier = Some(NotifierIdentity {
        cert_pem: notifier.cert_pem.clone().into_bytes(),
        key_pem: notifier.key_pem.clone().into_bytes(),
        root_ca_pem: ca_pem,
    });
    config.state_file = crate::sandbox::simulator_state_file(gateway, "porting");
    // As a national hub does when many ports move at one hour: the messages waiting when
    // a delivery starts go in one POST.
    config.delivery_batch = adapters::porting::MAX_BATCH;
    if let Some(listener) = receiver {
        let at = listener
            .local_addr()
            .map_err(|e| StartError::Io(e.to_string()))?;
        // The simulator appends the hub-messages path itself.
        config.receiver_url = Some(format!("https://{at}"));
    }
    let sim = porting_sim::start(config).await.map_err(sim_err)?;
    Ok(SandboxPorting {
        sim,
        notifier_cert_pem: notifier.cert_pem,
    })
}

/// Binds the gateway's hub-message listener (`[porting_hub] callback_listen`), which
/// admits the dev CA's certificates (the simulator's notifier among them).
pub fn bind_receiver(
    ca: &DevCa,
    config: &mut crate::config::Config,
) -> Result<tokio::net::TcpListener, StartError> {
    let wanted = config
        .porting_hub
        .callback_listen
        .unwrap_or(crate::config::DEFAULT_HUB_CALLBACK_LISTEN);
    let listener = crate::server::bind(wanted).map_err(|e| {
        StartError::Io(format!(
            "cannot listen on {wanted} (porting_hub.callback_listen): {e}"
        ))
    })?;
    config.porting_hub.callback_client_ca_file = Some(ca.cert_path.clone());
    Ok(listener)
}

/// The gateway's client of the sandbox hub, with its own dev-CA client certificate.
pub fn client(
    porting: &SandboxPorting,
    ca: &DevCa,
    config: &crate::config::Config,
) -> Result<std::sync::Arc<dyn adapters::porting::PortingHub>, StartError> {
    use adapters::porting::{ClientIdentity, PortingHubClient, PortingHubClientConfig};
    let ca_pem = std::fs::read(&ca.cert_path)
        .map_err(|e| StartError::Io(format!("{}: {e}", ca.cert_path.display())))?;
    let client = ca.issue("simgw porting hub client", &["localhost"])?;
    let hub = PortingHubClient::new(PortingHubClientConfig {
        base_url: porting.sim.url(),
        roots_pem: ca_pem,
        identity: ClientIdentity {
            cert_pem: client.cert_pem.into_bytes(),
            key_pem: zeroize::Zeroizing::new(client.key_pem.into_bytes()),
        },
        timeout: std::time::Duration::from_millis(config.porting_hub.timeout_ms),
    })
    .map_err(sim_err)?;
    Ok(std::sync::Arc::new(hub))
}

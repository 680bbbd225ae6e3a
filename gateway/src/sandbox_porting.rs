//! The sandbox's number-porting hub: the conformance crate's simulator on loopback, its
//! server certificate and its callback identity issued by the dev CA, on a real-time
//! clock. Any client certificate of the dev CA may act for the sandbox at the hub. The
//! gateway has no hub client or hub-message receiver yet, so the simulator's receiver
//! URL is left unset: messages are logged under `/sim/callbacks` until one is set
//! (`PUT /sim/receiver`, or [`SandboxPorting::sim`]).

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

/// Starts the simulator on `127.0.0.1` (a free port), trusting the dev CA both ways.
pub async fn start(ca: &DevCa) -> Result<SandboxPorting, StartError> {
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
    let sim = porting_sim::start(config).await.map_err(sim_err)?;
    Ok(SandboxPorting {
        sim,
        notifier_cert_pem: notifier.cert_pem,
    })
}

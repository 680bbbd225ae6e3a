//! The sandbox's SM-DP+: the conformance crate's simulator on loopback, wired to the
//! gateway in both directions with mutual TLS, all certificates issued by the dev CA:
//! the simulator's server identity, the gateway's ES2+ client identity (which the
//! simulator maps to the sandbox operator), and the simulator's notifier identity (the
//! only certificate the gateway's callback listener admits, pinned by SHA-256).

use crate::app::StartError;
use crate::config::Config;
use crate::crypto::write_private;
use crate::sandbox::TENANT;
use crate::tls::DevCa;
use adapters::es2plus::{Fqdn, path};
use conformance::smdp_sim::{
    self, NotifierIdentity, OperatorAccount, ProfileSeed, SmdpSimConfig, SmdpSimHandle,
    cert_fingerprint_pem, server_tls_config,
};
use std::path::{Path, PathBuf};
use tokio::net::TcpListener;

/// The SM-DP+ address in sandbox activation codes (`.invalid`: never a real host).
pub const SMDP_ADDRESS: &str = "SMDP.SANDBOX.INVALID";

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StartError + '_ {
    move |e| StartError::Io(format!("{}: {e}", path.display()))
}

fn sim_err(e: impl std::fmt::Display) -> StartError {
    StartError::Southbound(format!("SM-DP+ simulator: {e}"))
}

/// Where the gateway's ES2+ client certificate and key are (in `DATA_DIR/tls`).
pub fn gateway_client_files(config: &Config) -> (PathBuf, PathBuf) {
    let dir = config.data_dir.join("tls");
    (dir.join("es2-client.pem"), dir.join("es2-client.key"))
}

/// Where the simulator's notifier certificate and key are: the one identity the callback
/// listener admits (for trying notifications by hand).
pub fn notifier_files(config: &Config) -> (PathBuf, PathBuf) {
    let dir = config.data_dir.join("tls");
    (dir.join("smdp-notifier.pem"), dir.join("smdp-notifier.key"))
}

/// The running simulator and the gateway's callback listener it posts to, bound once
/// here (so the simulator could be told its address) and served by
/// `Gateway::start_with` through `Listeners::callback`.
pub struct SandboxSmdp {
    /// The simulator.
    pub sim: SmdpSimHandle,
    /// The bound callback listener.
    pub callback: TcpListener,
}

/// Starts the simulator with `profiles` and points `config.esim` at it.
pub async fn start(
    config: &mut Config,
    ca: &DevCa,
    profiles: Vec<ProfileSeed>,
) -> Result<SandboxSmdp, StartError> {
    let ca_pem = std::fs::read(&ca.cert_path).map_err(io(&ca.cert_path))?;
    let server = ca.issue("simgw sandbox SM-DP+", &["localhost", "127.0.0.1"])?;
    let notifier = ca.issue("simgw sandbox SM-DP+ notifier", &["localhost"])?;
    let client = ca.issue("simgw ES2+ client", &["localhost"])?;
    let (client_cert, client_key) = gateway_client_files(config);
    std::fs::write(&client_cert, &client.cert_pem).map_err(io(&client_cert))?;
    write_private(&client_key, client.key_pem.as_bytes()).map_err(io(&client_key))?;
    let (notifier_cert, notifier_key) = notifier_files(config);
    std::fs::write(&notifier_cert, &notifier.cert_pem).map_err(io(&notifier_cert))?;
    write_private(&notifier_key, notifier.key_pem.as_bytes()).map_err(io(&notifier_key))?;

    // Unset, the sandbox's callback port is ephemeral (`Config::ephemeral_side_listeners`),
    // so sandboxes run side by side. The socket bound here is the one the gateway serves.
    let wanted = config.callback_listen();
    let listener = crate::server::bind(wanted).map_err(|e| {
        StartError::Io(format!(
            "cannot listen on {wanted} (esim.callback_listen): {e}"
        ))
    })?;
    let callback = listener
        .local_addr()
        .map_err(|e| StartError::Io(e.to_string()))?;
    let tls = server_tls_config(
        server.cert_pem.as_bytes(),
        server.key_pem.as_bytes(),
        &ca_pem,
    )
    .map_err(sim_err)?;
    let address = Fqdn::new(SMDP_ADDRESS).map_err(sim_err)?;
    let mut sim_cfg = SmdpSimConfig::new(tls, address);
    sim_cfg.operators = vec![OperatorAccount {
        name: TENANT.into(),
        cert_sha256: cert_fingerprint_pem(client.cert_pem.as_bytes()).map_err(sim_err)?,
        notification_url: Some(format!(
            "https://{callback}{}",
            path::HANDLE_DOWNLOAD_PROGRESS_INFO
        )),
    }];
    sim_cfg.notifier = Some(NotifierIdentity {
        cert_pem: notifier.cert_pem.clone().into_bytes(),
        key_pem: notifier.key_pem.clone().into_bytes(),
        root_ca_pem: ca_pem.clone(),
    });
    sim_cfg.profiles = profiles;
    // Profiles released, downloaded or cancelled, and notifications not yet delivered,
    // outlive a restart (a kill -9 included): the gateway's orders still agree with them.
    sim_cfg.state_file = crate::sandbox::simulator_state_file(config, "smdp");
    let sim = smdp_sim::start(sim_cfg).await.map_err(sim_err)?;

    let e = &mut config.esim;
    e.smdp_url = Some(sim.url());
    e.smdp_address = Some(SMDP_ADDRESS.into());
    e.requester_id = TENANT.into();
    e.client_cert_file = Some(client_cert);
    e.client_key_file = Some(client_key);
    e.smdp_ca_file = Some(ca.cert_path.clone());
    e.callback_listen = Some(callback);
    e.callback_client_ca_file = Some(ca.cert_path.clone());
    e.callback_client_sha256 = crate::tls::cert_pin(notifier.cert_pem.as_bytes())
        .into_iter()
        .collect();
    e.tenants = vec![TENANT.into()];
    Ok(SandboxSmdp {
        sim,
        callback: listener,
    })
}

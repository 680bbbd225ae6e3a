//! `simgw serve`: the gateway (HTTPS API, order engine), optionally with the sandbox's
//! simulated host operator, until SIGINT or SIGTERM.

use super::CliError;
use crate::app::Gateway;
use crate::config::Config;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(clap::Args)]
pub(super) struct ServeArgs {
    /// TOML configuration file (defaults apply without one).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data directory (store, keys, certificates); overrides the config file.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// HTTPS listen address; overrides the config file.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Also run the host-operator simulators on loopback and seed a sandbox tenant.
    // A production build keeps the flag (contract.md names it) and refuses it clearly.
    #[cfg_attr(
        not(feature = "sandbox"),
        arg(help = "Not in this build (built without the `sandbox` feature): refused")
    )]
    #[arg(long)]
    sandbox: bool,
    /// Use this HLR instead of the simulator: a CAI3G `http(s)://…` endpoint or an
    /// OsmoHLR `osmo-ctrl://HOST:PORT`.
    #[arg(long)]
    hlr: Option<String>,
}

pub(super) async fn run(args: ServeArgs) -> Result<(), CliError> {
    #[cfg(not(feature = "sandbox"))]
    if args.sandbox {
        return Err(CliError::SandboxNotBuilt);
    }
    let mut cfg = Config::load(args.config.as_deref())?;
    if let Some(d) = args.data_dir {
        cfg.data_dir = d;
    }
    if let Some(l) = args.listen {
        cfg.listen = l;
    }
    if let Some(url) = args.hlr {
        if !(url.starts_with("http://")
            || url.starts_with("https://")
            || url.starts_with("osmo-ctrl://"))
        {
            return Err(CliError::arg(
                format!("--hlr {url}"),
                "use a CAI3G http(s):// endpoint or osmo-ctrl://HOST:PORT",
            ));
        }
        cfg.hlr.url = Some(url);
    }
    #[cfg(feature = "sandbox")]
    if args.sandbox {
        return serve_sandbox(cfg).await;
    }
    let hlr = crate::southbound::hlr_from_config(&cfg.hlr, cfg.engine.hlr_concurrency)?;
    let gateway = Gateway::start(cfg, hlr).await?;
    wait_for_signal().await;
    eprintln!("shutting down: finishing in-flight HLR calls");
    gateway.shutdown().await;
    Ok(())
}

/// The gateway wired to the simulators (or to `[hlr] url`), after seeding the sandbox.
#[cfg(feature = "sandbox")]
async fn serve_sandbox(cfg: Config) -> Result<(), CliError> {
    let sb = crate::sandbox::start(cfg).await?;
    eprintln!(
        "sandbox ready: {} (tenant `{}`, {} SIMs available); details in {}",
        sb.info.base_url,
        sb.info.tenant,
        sb.info.physical_iccids.len(),
        sb.file.display()
    );
    if sb.gateway.config.terminal.enabled {
        eprintln!(
            "store terminal: {}/terminal/ (pair it: simgw terminal pair --tenant sandbox-cn --store SZ-0042 --terminal T7 --sandbox-file {}; clerk C1, PIN {})",
            sb.info.base_url,
            sb.file.display(),
            crate::sandbox_terminal::PINS[0].1
        );
    }
    wait_for_signal().await;
    eprintln!("shutting down: finishing in-flight HLR calls");
    sb.shutdown().await;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

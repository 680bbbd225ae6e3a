//! `simgw`: the SIM provisioning and eSIM activation gateway binary.

use clap::{Parser, Subcommand};
use gateway::app::Gateway;
use gateway::config::Config;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "simgw",
    version,
    about = "SIM provisioning and eSIM activation gateway for MVNOs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway (HTTPS API, order engine).
    Serve {
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
        #[arg(long)]
        sandbox: bool,
        /// Use this HLR instead of the simulator (CAI3G `http(s)://...`).
        #[arg(long)]
        hlr: Option<String>,
    },
    /// Load test: activations against an in-process sandbox; prints throughput and latency.
    Bench(gateway::bench::BenchArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SIMGW_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve {
                config,
                data_dir,
                listen,
                sandbox,
                hlr,
            } => serve(config, data_dir, listen, sandbox, hlr).await,
            Command::Bench(args) => gateway::bench::run(args).await.map_err(|e| e.to_string()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(
    config: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    listen: Option<SocketAddr>,
    sandbox: bool,
    hlr: Option<String>,
) -> Result<(), String> {
    let mut cfg = Config::load(config.as_deref()).map_err(|e| e.to_string())?;
    if let Some(d) = data_dir {
        cfg.data_dir = d;
    }
    if let Some(l) = listen {
        cfg.listen = l;
    }
    if let Some(url) = hlr {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "--hlr {url}: supported HLR URLs are CAI3G http:// or https:// endpoints"
            ));
        }
        cfg.hlr.url = Some(url);
    }
    let mut sim = None;
    let gateway = if sandbox {
        let sb = gateway::sandbox::start(cfg)
            .await
            .map_err(|e| e.to_string())?;
        eprintln!(
            "sandbox ready: {} (tenant `{}`, {} SIMs available); details in {}",
            sb.info.base_url,
            sb.info.tenant,
            sb.info.physical_iccids.len(),
            sb.file.display()
        );
        sim = sb.hlr_sim;
        sb.gateway
    } else {
        let hlr = gateway::southbound::hlr_from_config(&cfg.hlr).map_err(|e| e.to_string())?;
        Gateway::start(cfg, hlr).await.map_err(|e| e.to_string())?
    };
    wait_for_signal().await;
    eprintln!("shutting down: finishing in-flight HLR calls");
    gateway.shutdown().await;
    if let Some(sim) = sim {
        sim.shutdown().await;
    }
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

//! `simgw-conformance`: runs the host-operator simulators standalone (for carriers' own
//! integration rigs) and the black-box conformance suite against a running gateway.

use clap::{Args, Parser, Subcommand};
use conformance::hlr_sim::{self, DEFAULT_PATH, FaultConfig, HlrSimConfig};
use conformance::suite::{self, SuiteConfig, case_names};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(name = "simgw-conformance", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the CAI3G 1.2 HLR/AUC simulator until Ctrl-C.
    HlrSim(HlrSimArgs),
    /// Runs the conformance suite against a running gateway; exits 0 if no case failed,
    /// 1 if one did, 2 on usage or IO errors.
    Run(RunArgs),
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The gateway's sandbox.json.
    #[arg(long)]
    sandbox_file: PathBuf,
    /// Also write JUnit XML here.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Run only the cases whose name contains this.
    #[arg(long)]
    filter: Option<String>,
    /// Seconds each activation may take to reach a terminal state.
    #[arg(long, default_value_t = conformance::suite::DEFAULT_ACTIVATION_TIMEOUT.as_secs())]
    timeout_secs: u64,
}

#[derive(Debug, Args)]
struct HlrSimArgs {
    /// Address to listen on (port 0 picks a free one; the bound URL is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// CAI3G endpoint path.
    #[arg(long, default_value = DEFAULT_PATH)]
    path: String,
    /// The userId Login accepts.
    #[arg(long, env = "SIMGW_HLR_SIM_USER")]
    user: String,
    /// The pwd Login accepts (prefer the environment variable).
    #[arg(long, env = "SIMGW_HLR_SIM_PASSWORD", hide_env_values = true)]
    password: String,
    /// Idle session lifetime in seconds.
    #[arg(long, default_value_t = 600)]
    session_lifetime_secs: u64,
    /// Seed of the fault-injection PRNG.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Serve HTTPS with this PEM certificate chain (needs --tls-key).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    #[command(flatten)]
    faults: FaultArgs,
}

/// Random fault injection; rates are fractions of provisioning requests (0..=1, sum <= 1).
#[derive(Debug, Args)]
struct FaultArgs {
    /// Fixed delay before every answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Extra random delay up to this many milliseconds.
    #[arg(long, default_value_t = 0)]
    jitter_ms: u64,
    /// Rate of requests never answered nor applied.
    #[arg(long, default_value_t = 0.0)]
    fault_timeout: f64,
    /// Rate of 4005 "Temporarily overloaded" faults.
    #[arg(long, default_value_t = 0.0)]
    fault_busy: f64,
    /// Rate of 1001/1010 session faults.
    #[arg(long, default_value_t = 0.0)]
    fault_session: f64,
    /// Rate of 4006/13001 external faults.
    #[arg(long, default_value_t = 0.0)]
    fault_external: f64,
    /// Rate of SOAP Client 4001 faults.
    #[arg(long, default_value_t = 0.0)]
    fault_invalid: f64,
    /// Rate of requests applied, then closed without a response.
    #[arg(long, default_value_t = 0.0)]
    fault_drop_after_apply: f64,
    /// Rate of requests applied, then held without a response.
    #[arg(long, default_value_t = 0.0)]
    fault_hang_after_apply: f64,
}

impl From<&FaultArgs> for FaultConfig {
    fn from(a: &FaultArgs) -> Self {
        Self {
            latency: Duration::from_millis(a.latency_ms),
            jitter: Duration::from_millis(a.jitter_ms),
            timeout: a.fault_timeout,
            busy: a.fault_busy,
            session: a.fault_session,
            external: a.fault_external,
            invalid: a.fault_invalid,
            drop_after_apply: a.fault_drop_after_apply,
            hang_after_apply: a.fault_hang_after_apply,
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::HlrSim(args) => match run_hlr_sim(args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("simgw-conformance hlr-sim: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Run(args) => run_suite(args).await,
    }
}

/// Exit code of a run that could not start or whose JUnit file could not be written.
const USAGE_ERROR: u8 = 2;

async fn run_suite(args: RunArgs) -> ExitCode {
    let mut cfg = match SuiteConfig::from_file(&args.sandbox_file) {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("simgw-conformance run: {e}");
            return ExitCode::from(USAGE_ERROR);
        }
    };
    cfg.timeout = Duration::from_secs(args.timeout_secs);
    cfg.filter = args.filter;
    if !case_names().iter().any(|n| cfg.selects(n)) {
        eprintln!(
            "simgw-conformance run: no case matches --filter; cases: {}",
            case_names().join(", ")
        );
        return ExitCode::from(USAGE_ERROR);
    }
    let report = suite::run(&cfg).await;
    println!("{report}");
    if let Some(path) = &args.junit {
        if let Err(e) = std::fs::write(path, report.to_junit_xml()) {
            eprintln!("simgw-conformance run: {}: {e}", path.display());
            return ExitCode::from(USAGE_ERROR);
        }
    }
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn run_hlr_sim(args: HlrSimArgs) -> Result<(), String> {
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(load_tls(cert, key)?),
        _ => None,
    };
    let config = HlrSimConfig {
        listen: args.listen,
        path: args.path.clone(),
        tls,
        session_lifetime: Duration::from_secs(args.session_lifetime_secs),
        faults: FaultConfig::from(&args.faults),
        seed: args.seed,
        ..HlrSimConfig::new(args.user, args.password)
    };
    let sim = hlr_sim::start(config).await.map_err(|e| e.to_string())?;
    println!("HLR simulator: {}  (admin API under /sim/)", sim.url());
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| format!("cannot wait for Ctrl-C: {e}"))?;
    sim.shutdown().await;
    Ok(())
}

fn load_tls(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, String> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
        .map_err(|e| format!("TLS configuration: {e}"))?;
    Ok(Arc::new(config))
}

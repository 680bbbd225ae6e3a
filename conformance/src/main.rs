//! `simgw-conformance`: runs the host-operator simulators standalone (for carriers' own
//! integration rigs) and the black-box conformance suite against a running gateway.

use clap::{Args, Parser, Subcommand};
use conformance::hlr_sim::{self, DEFAULT_PATH, FaultConfig, HlrSimConfig};
use conformance::id_reader_sim::{self, IdReaderSimConfig};
use conformance::smdp_sim::{self, SmdpSimConfig};
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
    /// Runs the ES2+ SM-DP+ simulator (mutual TLS) until Ctrl-C.
    SmdpSim(SmdpSimArgs),
    /// Runs the store terminal's ID card reader service simulator (HTTP, CORS) until Ctrl-C.
    IdReaderSim(IdReaderSimArgs),
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
    /// Keep the subscribers in this state file (created if missing; 0600, Ki as received)
    /// and resume from it: they survive a kill, not a power loss. In memory without it.
    #[arg(long)]
    state_file: Option<PathBuf>,
    #[command(flatten)]
    faults: FaultArgs,
}

#[derive(Debug, Args)]
struct IdReaderSimArgs {
    /// Address to listen on (port 0 picks a free one; the bound URL is printed). Keep it
    /// on loopback: the service stands for one on the terminal machine.
    #[arg(long, default_value = "127.0.0.1:17480")]
    listen: SocketAddr,
    /// The reader's serial, in every card it reads.
    #[arg(long, default_value = id_reader_sim::DEFAULT_READER_SERIAL)]
    reader_serial: String,
}

#[derive(Debug, Args)]
struct SmdpSimArgs {
    /// Address to listen on (port 0 picks a free one; the bound URL is printed).
    #[arg(long, default_value = "127.0.0.1:8444")]
    listen: SocketAddr,
    /// PEM certificate chain of the SM-DP+ server.
    #[arg(long)]
    tls_cert: PathBuf,
    /// PEM private key of the SM-DP+ server.
    #[arg(long)]
    tls_key: PathBuf,
    /// PEM CA certificate(s) that operators' client certificates chain to.
    #[arg(long)]
    client_ca: PathBuf,
    /// An operator, `NAME,CLIENT_CERT_PEM[,NOTIFICATION_URL]` (repeatable).
    #[arg(long = "operator", required = true)]
    operators: Vec<String>,
    /// PEM client certificate for sending notifications (needs --notifier-key and --notifier-ca).
    #[arg(long, requires_all = ["notifier_key", "notifier_ca"])]
    notifier_cert: Option<PathBuf>,
    /// PEM private key for --notifier-cert.
    #[arg(long, requires = "notifier_cert")]
    notifier_key: Option<PathBuf>,
    /// PEM CA certificate(s) of the operators' notification servers.
    #[arg(long, requires = "notifier_cert")]
    notifier_ca: Option<PathBuf>,
    /// Profile seed file: `iccid,profileType,owner[,imsi[,ki,opc]]` per line.
    #[arg(long, conflicts_with = "generate")]
    profiles: Option<PathBuf>,
    /// Generate this many profiles for the first operator instead of reading a file.
    #[arg(long, default_value_t = 100)]
    generate: u32,
    /// Profile type of generated profiles.
    #[arg(long, default_value = "CONSUMER_V1")]
    profile_type: String,
    /// 18-digit payload of the first generated ICCID.
    #[arg(long, default_value_t = 898_699_099_900_000_000)]
    first_iccid_payload: u64,
    /// The SM-DP+ address (FQDN).
    #[arg(long, default_value = "smdp.example.com")]
    smdp_address: String,
    /// ConfirmOrder repeat rule: idempotent, matching_id_in_use or invalid_transition.
    #[arg(long, default_value = "idempotent")]
    replay: String,
    /// Accept misspelt member names and a missing X-Admin-Protocol.
    #[arg(long)]
    lenient: bool,
    /// Close connections from certificates that map to no operator (default: 1.1/1.2).
    #[arg(long)]
    reject_unmapped: bool,
    /// Seed of the PRNG (faults, MatchingIDs).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Keep profile states and undelivered notifications in this state file (created if
    /// missing; no Ki or OPc) and resume from it: they survive a kill, not a power loss.
    #[arg(long)]
    state_file: Option<PathBuf>,
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
        Command::SmdpSim(args) => match run_smdp_sim(args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("simgw-conformance smdp-sim: {e}");
                ExitCode::FAILURE
            }
        },
        Command::IdReaderSim(args) => match run_id_reader_sim(args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("simgw-conformance id-reader-sim: {e}");
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
        state_file: args.state_file.clone(),
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

async fn run_id_reader_sim(args: IdReaderSimArgs) -> Result<(), String> {
    let mut config = IdReaderSimConfig::with_serial(&args.reader_serial);
    config.listen = args.listen;
    let sim = id_reader_sim::start(config)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "ID card reader simulator: {}  (GET /v1/card, POST /v1/face-match, control API under /control/)",
        sim.url()
    );
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| format!("cannot wait for Ctrl-C: {e}"))?;
    sim.shutdown().await;
    Ok(())
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn operator(spec: &str) -> Result<smdp_sim::OperatorAccount, String> {
    let mut parts = spec.splitn(3, ',');
    let (Some(name), Some(cert)) = (parts.next(), parts.next()) else {
        return Err(format!(
            "--operator {spec}: expected NAME,CLIENT_CERT_PEM[,URL]"
        ));
    };
    let cert_sha256 =
        smdp_sim::cert_fingerprint_pem(&read(Path::new(cert))?).map_err(|e| e.to_string())?;
    Ok(smdp_sim::OperatorAccount {
        name: name.to_owned(),
        cert_sha256,
        notification_url: parts.next().map(str::to_owned),
    })
}

async fn run_smdp_sim(args: SmdpSimArgs) -> Result<(), String> {
    let tls = smdp_sim::server_tls_config(
        &read(&args.tls_cert)?,
        &read(&args.tls_key)?,
        &read(&args.client_ca)?,
    )
    .map_err(|e| e.to_string())?;
    let address = args
        .smdp_address
        .parse()
        .map_err(|_| "--smdp-address is not an FQDN".to_owned())?;
    let mut config = SmdpSimConfig::new(tls, address);
    config.listen = args.listen;
    config.operators = args
        .operators
        .iter()
        .map(|s| operator(s))
        .collect::<Result<_, _>>()?;
    if let (Some(cert), Some(key), Some(ca)) =
        (&args.notifier_cert, &args.notifier_key, &args.notifier_ca)
    {
        config.notifier = Some(smdp_sim::NotifierIdentity {
            cert_pem: read(cert)?,
            key_pem: read(key)?,
            root_ca_pem: read(ca)?,
        });
    }
    config.profiles = match &args.profiles {
        Some(path) => {
            let text = String::from_utf8(read(path)?)
                .map_err(|_| format!("{}: not UTF-8", path.display()))?;
            smdp_sim::parse_profile_seeds(&text).map_err(|e| e.to_string())?
        }
        None => {
            let owner = config
                .operators
                .first()
                .map(|o| o.name.clone())
                .unwrap_or_default();
            smdp_sim::generate_profile_seeds(
                args.generate,
                args.first_iccid_payload,
                &args.profile_type,
                &owner,
            )
            .map_err(|e| e.to_string())?
        }
    };
    config.replay = serde_json::from_value(serde_json::Value::String(args.replay.clone()))
        .map_err(|_| format!("--replay {}: unknown rule", args.replay))?;
    config.lenient = args.lenient;
    if args.reject_unmapped {
        config.unmapped_cert = smdp_sim::UnmappedCertPolicy::Reject;
    }
    config.seed = args.seed;
    config.state_file = args.state_file.clone();
    let sim = smdp_sim::start(config).await.map_err(|e| e.to_string())?;
    println!(
        "SM-DP+ simulator: {}  (ES2+ under /gsma/rsp2/es2plus/, admin API under /sim/)",
        sim.url()
    );
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

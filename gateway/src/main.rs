//! `simgw`: the SIM provisioning and eSIM activation gateway binary.

use clap::{Parser, Subcommand};
use gateway::app::Gateway;
use gateway::cli_admin;
use gateway::config::Config;
use gateway::numbers::NumberPolicy;
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
        /// Use this HLR instead of the simulator: a CAI3G `http(s)://…` endpoint or an
        /// OsmoHLR `osmo-ctrl://HOST:PORT`.
        #[arg(long)]
        hlr: Option<String>,
    },
    /// Load test: activations against an in-process sandbox; prints throughput and latency.
    Bench(gateway::bench::BenchArgs),
    /// Tenants (offline: stop `simgw serve` first).
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// API keys (offline).
    Apikey {
        #[command(subcommand)]
        command: ApikeyCommand,
    },
    /// Number pools (offline).
    Numbers {
        #[command(subcommand)]
        command: NumbersCommand,
    },
    /// Data keys that encrypt secrets at rest (offline).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// SIM inventory (offline).
    Inventory {
        #[command(subcommand)]
        command: InventoryCommand,
    },
    /// eSIM profile packages (TCA interoperable format, DER).
    Profile {
        #[command(subcommand)]
        command: ProfileCommand,
    },
    /// Activations on a running gateway (over its API).
    Activation {
        #[command(subcommand)]
        command: ActivationCommand,
    },
}

#[derive(Subcommand)]
enum ActivationCommand {
    /// Print an eSIM order's activation code and its QR in the terminal.
    Qr {
        /// The activation id (`act_…`).
        id: String,
        /// Take the API address, key and CA from this sandbox.json.
        #[arg(long, default_value = "data/sandbox.json")]
        sandbox_file: PathBuf,
        /// The gateway's base URL (instead of the sandbox file's).
        #[arg(long, env = "SIMGW_BASE_URL")]
        base_url: Option<String>,
        /// The API key (instead of the sandbox file's).
        #[arg(long, env = "SIMGW_API_KEY", hide_env_values = true)]
        api_key: Option<String>,
        /// A CA certificate to trust (instead of the sandbox file's).
        #[arg(long)]
        ca_cert: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ProfileCommand {
    /// Print the element tree with readable field names (keys and PINs masked).
    Inspect {
        /// The package (DER).
        file: PathBuf,
        /// Show keys and PINs in clear.
        #[arg(long)]
        show_secrets: bool,
    },
    /// Check structure: header first, End last, ICCID consistent, IMSI digits, key lengths,
    /// ordering, mandatory services and files. Exit 0 only if clean.
    Validate {
        /// The package (DER).
        file: PathBuf,
    },
    /// Personalise a template (a DER file, or `builtin`); with only --template and --out it
    /// re-encodes the template byte-identically.
    Build {
        /// Template package (DER file path, or `builtin`).
        #[arg(long)]
        template: String,
        /// ICCID for the header and EF.ICCID.
        #[arg(long)]
        iccid: Option<String>,
        /// IMSI for EF.IMSI; also sets EF.ACC to the access class of its last digit.
        #[arg(long)]
        imsi: Option<String>,
        /// EF.ACC as 4 hex digits (e.g. 0080 for access class 7), instead of the IMSI's.
        #[arg(long, value_name = "HEX")]
        acc: Option<String>,
        /// K (32 hex).
        #[arg(long)]
        ki: Option<String>,
        /// OPc (32 hex).
        #[arg(long)]
        opc: Option<String>,
        /// Switch every AKA parameter to this algorithm (K and OPc are written whatever
        /// the algorithm).
        #[arg(long, value_enum)]
        algorithm: Option<gateway::cli_profile::AlgorithmArg>,
        /// PIN1.
        #[arg(long)]
        pin1: Option<String>,
        /// PUK1.
        #[arg(long)]
        puk1: Option<String>,
        /// Write the package even if an AKA parameter keeps a well-known test K (all zeros,
        /// 000102…0f, 3GPP test sets): for lab profiles only.
        #[arg(long)]
        allow_test_keys: bool,
        /// Output file (written 0600).
        #[arg(long)]
        out: PathBuf,
    },
    /// Personalise one package per card, `<ICCID>.der` in --out-dir, streamed: from a vendor
    /// batch file (--file, --format) or from a batch in the store (--tenant, --batch).
    BuildBatch {
        #[command(flatten)]
        store: StoreArgs,
        /// Template package (DER file path, or `builtin`).
        #[arg(long)]
        template: String,
        /// A vendor batch file.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Its format: `vendor-out` or `csv`.
        #[arg(long, default_value = "vendor-out")]
        format: String,
        /// Tenant of a stored batch.
        #[arg(long)]
        tenant: Option<String>,
        /// Stored batch id (`bat_…`); keys are opened only as each profile is encoded.
        #[arg(long)]
        batch: Option<String>,
        /// Write packages even if an AKA parameter keeps a well-known test K.
        #[arg(long)]
        allow_test_keys: bool,
        /// Switch every AKA parameter to this algorithm.
        #[arg(long, value_enum)]
        algorithm: Option<gateway::cli_profile::AlgorithmArg>,
        /// Output directory.
        #[arg(long)]
        out_dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum InventoryCommand {
    /// Counts overall, per number pool and per batch (JSON).
    Status {
        #[command(flatten)]
        store: StoreArgs,
        /// The tenant.
        #[arg(long)]
        tenant: String,
    },
    /// One SIM by ICCID or IMSI, without keys (JSON).
    Lookup {
        #[command(flatten)]
        store: StoreArgs,
        /// The ICCID.
        #[arg(long)]
        iccid: Option<String>,
        /// The IMSI.
        #[arg(long)]
        imsi: Option<String>,
    },
    /// The state of each card of a batch as CSV, without keys.
    Export {
        #[command(flatten)]
        store: StoreArgs,
        /// The batch id (`bat_…`).
        #[arg(long)]
        batch: String,
    },
    /// Import a SIM vendor batch file whole or not at all (exit 0 only if imported whole).
    Import {
        #[command(flatten)]
        store: StoreArgs,
        /// The tenant whose stock the SIMs join.
        #[arg(long)]
        tenant: String,
        /// `vendor-out` (Gemalto/IDEMIA-style .out) or `csv` (named columns).
        #[arg(long)]
        format: String,
        /// The batch file.
        file: PathBuf,
        /// The cards are eSIM profiles held at the SM-DP+ under this profile type.
        #[arg(long)]
        esim_profile_type: Option<String>,
        /// The issuer's ICCID length. Without it the file's own form decides: complete
        /// ICCIDs must pass Luhn as written; with 20, 19-digit values are payloads.
        #[arg(long, value_parser = clap::value_parser!(u8).range(19..=20))]
        iccid_length: Option<u8>,
        /// Write every rejected line to this file (`line,code,reason` CSV for a `.csv`
        /// name, JSON lines otherwise); the terminal shows the first 20 and a count per reason.
        #[arg(long, value_name = "FILE")]
        rejects: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add a new data key and re-seal every secret under it (resumable).
    Rotate {
        #[command(flatten)]
        store: StoreArgs,
        /// Finish an interrupted rotation without adding another key.
        #[arg(long)]
        resume: bool,
    },
    /// Show how many sealed values each data key protects.
    Status {
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Where the store is: the config file and/or `--data-dir`.
#[derive(clap::Args)]
struct StoreArgs {
    /// TOML configuration file.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data directory; overrides the config file.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

impl StoreArgs {
    fn load(&self) -> Result<Config, String> {
        let mut cfg = Config::load(self.config.as_deref()).map_err(|e| e.to_string())?;
        if let Some(d) = &self.data_dir {
            cfg.data_dir.clone_from(d);
        }
        Ok(cfg)
    }
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Create or replace a tenant (an MVNO brand).
    Put {
        #[command(flatten)]
        store: StoreArgs,
        /// Tenant id (letters, digits, `-`, `_`).
        #[arg(long)]
        id: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Home PLMN of the tenant's IMSIs, e.g. 46011.
        #[arg(long)]
        plmn: String,
        /// A product and its HLR profile id, `CODE=PROFILE_ID`, plus `:ESIM_PROFILE_TYPE`
        /// if it is also sold as an eSIM; repeatable.
        #[arg(long = "product")]
        products: Vec<String>,
        /// eSIM orders carry a confirmation code the customer types on the device.
        #[arg(long)]
        esim_confirmation_code: bool,
        /// Automatic number assignment: `random` (default) or `sequential`.
        #[arg(long, default_value = "random", value_parser = ["random", "sequential"])]
        number_policy: String,
        /// A golden-number rule (`repeat:4`, `sequence:4`, `pairs:2`, `tail:888`); repeatable.
        /// Given rules replace the defaults (repeat:4, sequence:4, pairs:2).
        #[arg(long = "golden")]
        golden: Vec<String>,
        /// Days a released number ages before reuse (default 90).
        #[arg(long)]
        quarantine_days: Option<u32>,
        /// Flag low stock in /metrics when available SIMs or numbers fall below this.
        #[arg(long)]
        low_stock: Option<u64>,
        /// A per-pool low-stock threshold `BLOCK=N` (overrides --low-stock for that pool); repeatable.
        #[arg(long = "pool-low-stock")]
        pool_low_stock: Vec<String>,
    },
}

#[derive(Subcommand)]
enum ApikeyCommand {
    /// Issue an API key; it is printed once and stored only as a hash.
    Create {
        #[command(flatten)]
        store: StoreArgs,
        /// The tenant the key acts for.
        #[arg(long)]
        tenant: String,
        /// Free-text label (which channel holds the key).
        #[arg(long, default_value = "")]
        label: String,
    },
}

#[derive(Subcommand)]
enum NumbersCommand {
    /// List quarantined numbers and when each returns to the pool.
    Quarantine {
        #[command(flatten)]
        store: StoreArgs,
        /// The tenant.
        #[arg(long)]
        tenant: String,
    },
    /// End a number's quarantine early.
    Release {
        #[command(flatten)]
        store: StoreArgs,
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// The number.
        #[arg(long)]
        msisdn: String,
    },
    /// Add a block of consecutive MSISDNs to a tenant's pool.
    Add {
        #[command(flatten)]
        store: StoreArgs,
        /// Owning tenant.
        #[arg(long)]
        tenant: String,
        /// First number, E.164 (e.g. 8617000000000).
        #[arg(long)]
        first: String,
        /// How many consecutive numbers.
        #[arg(long)]
        count: u64,
        /// Block label.
        #[arg(long, default_value = "default")]
        block: String,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SIMGW_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        // Colour codes are noise in a file or a pipe (journald, `2> log`).
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
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
            Command::Activation {
                command:
                    ActivationCommand::Qr {
                        id,
                        sandbox_file,
                        base_url,
                        api_key,
                        ca_cert,
                    },
            } => {
                let target = gateway::cli_profile::ApiTarget::resolve(
                    &sandbox_file,
                    base_url,
                    api_key,
                    ca_cert,
                )?;
                print!(
                    "{}",
                    gateway::cli_profile::activation_qr(&target, &id).await?
                );
                Ok(())
            }
            Command::Profile {
                command: ProfileCommand::Inspect { file, show_secrets },
            } => {
                print!("{}", gateway::cli_profile::inspect(&file, show_secrets)?);
                Ok(())
            }
            Command::Profile {
                command: ProfileCommand::Validate { file },
            } => {
                println!("{}", gateway::cli_profile::validate(&file)?);
                Ok(())
            }
            Command::Profile {
                command:
                    ProfileCommand::Build {
                        template,
                        iccid,
                        imsi,
                        acc,
                        ki,
                        opc,
                        algorithm,
                        pin1,
                        puk1,
                        allow_test_keys,
                        out,
                    },
            } => {
                let args = gateway::cli_profile::BuildArgs {
                    iccid,
                    imsi,
                    acc,
                    ki,
                    opc,
                    algorithm,
                    pin1,
                    puk1,
                    allow_test_keys,
                };
                println!("{}", gateway::cli_profile::build(&template, &args, &out)?);
                Ok(())
            }
            Command::Profile {
                command:
                    ProfileCommand::BuildBatch {
                        store,
                        template,
                        file,
                        format,
                        tenant,
                        batch,
                        allow_test_keys,
                        algorithm,
                        out_dir,
                    },
            } => {
                let cfg = store.load()?;
                let source = match (&file, &tenant, &batch) {
                    (Some(path), None, None) => gateway::cli_profile::BatchSource::File {
                        path,
                        format: gateway::import::Format::parse(&format)
                            .ok_or("--format must be vendor-out or csv")?,
                    },
                    (None, Some(tenant), Some(batch)) => {
                        gateway::cli_profile::BatchSource::Store { tenant, batch }
                    }
                    _ => {
                        return Err(
                            "give either --file (with --format) or --tenant and --batch".into()
                        );
                    }
                };
                let opts = gateway::cli_profile::BatchOptions {
                    allow_test_keys,
                    algorithm: algorithm.map(Into::into),
                };
                let n = gateway::cli_profile::build_batch(&cfg, &template, source, opts, &out_dir)?;
                println!("wrote {n} profile packages to {}", out_dir.display());
                Ok(())
            }
            Command::Bench(args) => gateway::bench::run(args).await.map_err(|e| e.to_string()),
            Command::Tenant {
                command:
                    TenantCommand::Put {
                        store,
                        id,
                        name,
                        plmn,
                        products,
                        number_policy,
                        golden,
                        quarantine_days,
                        low_stock,
                        pool_low_stock,
                        esim_confirmation_code,
                    },
            } => {
                let cfg = store.load()?;
                cli_admin::tenant_put(
                    &cfg,
                    &id,
                    &name,
                    &plmn,
                    &products,
                    &cli_admin::PoolArgs {
                        policy: if number_policy == "sequential" {
                            NumberPolicy::Sequential
                        } else {
                            NumberPolicy::Random
                        },
                        golden,
                        quarantine_days,
                        low_stock,
                        pool_low_stock,
                        esim_confirmation_code,
                    },
                )
                .await
                .map_err(|e| e.to_string())?;
                println!("tenant `{id}` saved");
                Ok(())
            }
            Command::Apikey {
                command:
                    ApikeyCommand::Create {
                        store,
                        tenant,
                        label,
                    },
            } => {
                let cfg = store.load()?;
                let key = cli_admin::apikey_create(&cfg, &tenant, &label)
                    .await
                    .map_err(|e| e.to_string())?;
                println!("{key}");
                eprintln!("this key is shown once; only its hash is stored");
                Ok(())
            }
            Command::Keys {
                command: KeysCommand::Rotate { store, resume },
            } => {
                let cfg = store.load()?;
                println!(
                    "{}",
                    cli_admin::keys_rotate(&cfg, resume).map_err(|e| e.to_string())?
                );
                Ok(())
            }
            Command::Keys {
                command: KeysCommand::Status { store },
            } => {
                let cfg = store.load()?;
                print!(
                    "{}",
                    cli_admin::keys_status(&cfg).map_err(|e| e.to_string())?
                );
                Ok(())
            }
            Command::Inventory {
                command: InventoryCommand::Status { store, tenant },
            } => {
                println!(
                    "{}",
                    cli_admin::inventory_status(&store.load()?, &tenant)
                        .map_err(|e| e.to_string())?
                );
                Ok(())
            }
            Command::Inventory {
                command: InventoryCommand::Lookup { store, iccid, imsi },
            } => {
                println!(
                    "{}",
                    cli_admin::inventory_lookup(&store.load()?, iccid.as_deref(), imsi.as_deref())
                        .map_err(|e| e.to_string())?
                );
                Ok(())
            }
            Command::Inventory {
                command: InventoryCommand::Export { store, batch },
            } => {
                print!(
                    "{}",
                    cli_admin::inventory_export(&store.load()?, &batch)
                        .map_err(|e| e.to_string())?
                );
                Ok(())
            }
            Command::Numbers {
                command: NumbersCommand::Quarantine { store, tenant },
            } => {
                print!(
                    "{}",
                    cli_admin::numbers_quarantine(&store.load()?, &tenant)
                        .map_err(|e| e.to_string())?
                );
                Ok(())
            }
            Command::Numbers {
                command:
                    NumbersCommand::Release {
                        store,
                        tenant,
                        msisdn,
                    },
            } => {
                println!(
                    "{}",
                    cli_admin::numbers_release(&store.load()?, &tenant, &msisdn)
                        .await
                        .map_err(|e| e.to_string())?
                );
                Ok(())
            }
            Command::Inventory {
                command:
                    InventoryCommand::Import {
                        store,
                        tenant,
                        format,
                        file,
                        esim_profile_type,
                        iccid_length,
                        rejects,
                    },
            } => {
                let cfg = store.load()?;
                println!(
                    "{}",
                    cli_admin::inventory_import(
                        &cfg,
                        &tenant,
                        &format,
                        &file,
                        &cli_admin::ImportOptions {
                            esim_profile_type: esim_profile_type.as_deref(),
                            iccid_length: iccid_length.map(usize::from),
                            rejects: rejects.as_deref(),
                        }
                    )
                    .map_err(|e| e.to_string())?
                );
                Ok(())
            }
            Command::Numbers {
                command:
                    NumbersCommand::Add {
                        store,
                        tenant,
                        first,
                        count,
                        block,
                    },
            } => {
                let cfg = store.load()?;
                let msg = cli_admin::numbers_add(&cfg, &tenant, &block, &first, count)
                    .await
                    .map_err(|e| e.to_string())?;
                println!("{msg}");
                Ok(())
            }
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
        if !(url.starts_with("http://")
            || url.starts_with("https://")
            || url.starts_with("osmo-ctrl://"))
        {
            return Err(format!(
                "--hlr {url}: use a CAI3G http(s):// endpoint or osmo-ctrl://HOST:PORT"
            ));
        }
        cfg.hlr.url = Some(url);
    }
    let mut sim = None;
    let mut smdp = None;
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
        smdp = sb.smdp_sim;
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
    if let Some(smdp) = smdp {
        smdp.shutdown().await;
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

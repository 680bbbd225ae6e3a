//! `simgw inventory status|lookup|export|import`: SIM stock, offline. Lookups and exports
//! never show keys; an import is whole or nothing.

use super::CliError;
use super::offline::{self, StoreArgs};
use super::progress::Progress;
use crate::admin;
use crate::app;
use crate::config::Config;
use crate::import::{self, Format, ImportError, Imported};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub(super) enum InventoryCommand {
    /// Counts overall, per number pool and per batch (JSON).
    Status(StatusArgs),
    /// One SIM by ICCID or IMSI, without keys (JSON).
    Lookup(LookupArgs),
    /// The state of each card of a batch as CSV, without keys.
    Export(ExportArgs),
    /// Import a SIM vendor batch file whole or not at all (exit 0 only if imported whole).
    Import(ImportArgs),
}

#[derive(clap::Args)]
pub(super) struct StatusArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The tenant.
    #[arg(long)]
    tenant: String,
}

#[derive(clap::Args)]
pub(super) struct LookupArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The ICCID.
    #[arg(long)]
    iccid: Option<String>,
    /// The IMSI.
    #[arg(long)]
    imsi: Option<String>,
}

#[derive(clap::Args)]
pub(super) struct ExportArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The batch id (`bat_…`).
    #[arg(long)]
    batch: String,
}

#[derive(clap::Args)]
pub(super) struct ImportArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The tenant whose stock the SIMs join.
    #[arg(long)]
    tenant: String,
    /// `vendor-out` (Gemalto/IDEMIA-style .out) or `csv` (named columns).
    #[arg(long, value_enum)]
    format: Format,
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
}

pub(super) async fn run(command: InventoryCommand) -> Result<(), CliError> {
    match command {
        InventoryCommand::Status(args) => {
            println!("{}", status(&args.store.load()?, &args.tenant).await?);
        }
        InventoryCommand::Lookup(args) => {
            let config = args.store.load()?;
            println!(
                "{}",
                lookup(&config, args.iccid.as_deref(), args.imsi.as_deref()).await?
            );
        }
        InventoryCommand::Export(args) => {
            print!("{}", export(&args.store.load()?, &args.batch).await?);
        }
        InventoryCommand::Import(args) => {
            println!("{}", import(&args.store.load()?, &args).await?);
        }
    }
    Ok(())
}

/// Imports a vendor file whole or not at all, streaming it from disk. Returns the summary
/// line; a refusal shows the first rejected lines and the count per reason, and
/// `--rejects FILE` gets all of them.
async fn import(config: &Config, args: &ImportArgs) -> Result<String, CliError> {
    use std::io::IsTerminal;
    let (tenant, file) = (args.tenant.as_str(), args.file.as_path());
    if !file.is_file() {
        return Err(CliError::NotFound(format!(
            "{}: no such file",
            file.display()
        )));
    }
    // Created before anything changes, so an unwritable path fails first; left empty
    // unless lines are rejected, so it never shows an earlier run's list.
    let mut rejects_out = args
        .rejects
        .as_deref()
        .map(|path| {
            std::fs::File::create(path)
                .map(|f| (path, std::io::BufWriter::new(f)))
                .map_err(|e| CliError::arg(format!("--rejects {}", path.display()), e))
        })
        .transpose()?;
    let keys = app::keyring(config)?;
    let store = offline::open(config).await?;
    let mut progress = Progress::new(std::io::stderr().is_terminal());
    let result = match store.recover_imports().await {
        Ok(_) => {
            import::import_file(
                &*store,
                &keys,
                config,
                &import::FileJob {
                    tenant,
                    format: args.format,
                    path: file,
                    esim_profile_type: args.esim_profile_type.as_deref(),
                    iccid_length: args.iccid_length.map(usize::from),
                },
                |done, total| progress.update(done, total),
            )
            .await
        }
        Err(e) => Err(ImportError::from(e)),
    };
    store.close().await;
    match result {
        Ok(Imported::Loaded(b)) => Ok(format!(
            "imported {} cards into `{tenant}` as batch {} (sha256 {})",
            b.cards, b.id, b.file_sha256
        )),
        Ok(Imported::AlreadyImported(b)) => Ok(format!(
            "already imported as batch {} ({} cards); nothing changed",
            b.id, b.cards
        )),
        Err(ImportError::Rejected(rejects)) => {
            let mut written = None;
            if let Some((path, out)) = &mut rejects_out {
                let format = import::report::ListFormat::for_path(path);
                import::report::write_list(out, format, &rejects).map_err(|e| {
                    CliError::Refused(format!(
                        "nothing was imported: {} line(s) rejected, and writing them to {} failed: {e}",
                        rejects.len(),
                        path.display()
                    ))
                })?;
                written = Some(*path);
            }
            Err(CliError::Refused(import::report::summary(
                &rejects, written,
            )))
        }
        Err(e) => Err(CliError::NotImported(e)),
    }
}

/// Counts overall, per pool and per batch, as JSON.
async fn status(config: &Config, tenant: &str) -> Result<String, CliError> {
    let store = offline::open(config).await?;
    let result = async {
        let counts = store.inventory_counts(tenant).await?;
        let breakdown = store.inventory_breakdown(tenant).await?;
        Ok::<_, crate::store::StoreError>(
            serde_json::json!({"tenant": tenant, "counts": counts, "pools": breakdown.pools, "batches": breakdown.batches}),
        )
    }
    .await;
    store.close().await;
    Ok(serde_json::to_string_pretty(&result?).unwrap_or_default())
}

/// One SIM without keys, as JSON.
async fn lookup(
    config: &Config,
    iccid: Option<&str>,
    imsi: Option<&str>,
) -> Result<String, CliError> {
    let store = offline::open(config).await?;
    let result: Result<Option<crate::store::SimRecord>, CliError> = match (iccid, imsi) {
        (Some(i), None) => match i.parse() {
            Ok(i) => store.get_sim(&i).await.map_err(CliError::from),
            Err(e) => Err(CliError::arg("--iccid", e)),
        },
        (None, Some(m)) => match m.parse() {
            Ok(m) => store.sim_by_imsi(&m).await.map_err(CliError::from),
            Err(e) => Err(CliError::arg("--imsi", e)),
        },
        _ => Err(CliError::Usage(
            "give exactly one of --iccid or --imsi".into(),
        )),
    };
    store.close().await;
    let sim = result?.ok_or_else(|| CliError::NotFound("no such SIM in inventory".into()))?;
    let (state, order) = sim.state.label();
    let v = serde_json::json!({"iccid": sim.iccid, "imsi": sim.imsi, "tenant": sim.tenant, "state": state, "activation_id": order, "batch": sim.batch, "key_id": sim.ki.kid});
    Ok(serde_json::to_string_pretty(&v).unwrap_or_default())
}

/// The state of each card of a batch as CSV (no keys).
async fn export(config: &Config, batch: &str) -> Result<String, CliError> {
    let store = offline::open(config).await?;
    let result = admin::batch_csv(&*store, batch).await;
    let known = store.batch(batch).await;
    store.close().await;
    if known?.is_none() {
        return Err(CliError::NotFound(format!("no batch `{batch}`")));
    }
    Ok(result?)
}

//! `simgw db migrate`: brings the configured PostgreSQL database's schema to this
//! binary's version (the gateway also does it at start) and prints the version.
//! `simgw db copy`: moves a stopped embedded deployment into an empty PostgreSQL
//! database (`store::copy`), printing each table's rows and checksum once both stores
//! read back the same.

use super::CliError;
use crate::config::{Config, DbUrl, StoreBackend, StoreConfig};
use crate::store::StoreError;
use crate::store::copy::CopyError;
use crate::store::embedded::RedbStore;
use crate::store::postgres::PgStore;
use clap::Subcommand;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Subcommand)]
pub(super) enum DbCommand {
    /// Apply the schema migrations the database lacks; print the schema version.
    Migrate(MigrateArgs),
    /// Copy a stopped embedded store into an empty PostgreSQL database and verify it
    /// (rows and checksum per table, inventory counts per tenant); exit 0 only if both agree.
    Copy(CopyArgs),
}

#[derive(clap::Args)]
pub(super) struct CopyArgs {
    /// The source: `embedded:DIR`, the data dir of a gateway that is not running.
    #[arg(long, value_name = "embedded:DIR")]
    from: String,
    /// The target database URL, `postgres://user:password@host:port/db?sslmode=…`.
    #[arg(long, value_name = "URL", conflicts_with_all = ["to_url_file", "to_config"])]
    to: Option<String>,
    /// A file (0600) whose first line is the target URL, to keep the password off the
    /// command line.
    #[arg(long, value_name = "FILE", conflicts_with = "to_config")]
    to_url_file: Option<PathBuf>,
    /// A config file whose `[store]` is the target (`backend = "postgres"`, `url` or
    /// `url_file`, `ca_file`).
    #[arg(long, value_name = "FILE")]
    to_config: Option<PathBuf>,
}

#[derive(clap::Args)]
pub(super) struct MigrateArgs {
    /// Config file whose `[store]` names the database (`backend = "postgres"`).
    #[arg(long, env = "SIMGW_CONFIG")]
    config: Option<PathBuf>,
}

pub(super) async fn run(command: DbCommand) -> Result<(), CliError> {
    match command {
        DbCommand::Migrate(args) => {
            println!("{}", migrate(&Config::load(args.config.as_deref())?).await?)
        }
        DbCommand::Copy(args) => copy(args).await?,
    }
    Ok(())
}

async fn migrate(config: &Config) -> Result<String, CliError> {
    if config.store.backend != StoreBackend::Postgres {
        return Err(CliError::Usage(
            "`simgw db migrate` needs a config file (--config) with [store] backend = \"postgres\" and its url".into(),
        ));
    }
    let url = config.store.database_url()?;
    let store = PgStore::connect_unmigrated(&config.store).await?;
    let (before, after) = store.migrate().await?;
    Ok(if before == after {
        format!("{url}: schema at version {after}, nothing to apply")
    } else {
        format!("{url}: schema migrated from version {before} to {after}")
    })
}

/// The target's `[store]`: from `--to-config`, or a PostgreSQL section around `--to` or
/// `--to-url-file`.
fn target(args: &CopyArgs) -> Result<StoreConfig, CliError> {
    let store = match (&args.to, &args.to_url_file, &args.to_config) {
        (_, _, Some(file)) => Config::load(Some(file))?.store,
        (Some(url), None, None) => StoreConfig {
            backend: StoreBackend::Postgres,
            url: Some(DbUrl::new(url)),
            ..StoreConfig::default()
        },
        (None, Some(file), None) => StoreConfig {
            backend: StoreBackend::Postgres,
            url_file: Some(file.clone()),
            ..StoreConfig::default()
        },
        (None, None, None) => {
            return Err(CliError::Usage(
                "`simgw db copy` needs a target: --to URL, --to-url-file FILE or --to-config FILE"
                    .into(),
            ));
        }
        _ => {
            return Err(CliError::Usage(
                "give one of --to, --to-url-file, --to-config".into(),
            ));
        }
    };
    if store.backend != StoreBackend::Postgres {
        return Err(CliError::Usage(
            "--to-config: the target's [store] must have backend = \"postgres\"".into(),
        ));
    }
    store.validate()?;
    Ok(store)
}

async fn copy(args: CopyArgs) -> Result<(), CliError> {
    let Some(dir) = args.from.strip_prefix("embedded:") else {
        return Err(CliError::arg(
            format!("--from {}", args.from),
            "must be embedded:DIR (the data dir of a stopped gateway)",
        ));
    };
    let dir = PathBuf::from(dir);
    if !dir.join(crate::store::embedded::STORE_FILE).is_file() {
        return Err(CliError::NotFound(format!(
            "{}: no embedded store here (give the gateway's data dir)",
            dir.display()
        )));
    }
    let target = target(&args)?;
    let url = target.database_url()?;
    let defaults = StoreConfig::default();
    let from = RedbStore::open(
        &dir,
        defaults.cache_mib,
        defaults.max_batch,
        Arc::new(crate::metrics::Metrics::default()),
    )
    .map_err(|e| match e {
        StoreError::Locked => CliError::InUse(dir.clone()),
        other => other.into(),
    })?;
    // No sequencer task on the target: nothing but the copy writes to it.
    let to = PgStore::connect(&target).await?;
    eprintln!("copying {} into {url}", dir.display());
    let result = crate::store::copy::copy(&from, &to, |_, _| {}).await;
    from.close_now();
    to.close().await;
    match result {
        Ok(report) => {
            for (name, sum) in &report.tables {
                println!("{name:<20} rows {:>10}  sha256-sum {}", sum.rows, sum.hex());
            }
            println!(
                "copied and verified: {} tables, inventory counts of {} tenants agree",
                report.tables.len(),
                report.tenants
            );
            Ok(())
        }
        Err(CopyError::Store(e)) => Err(e.into()),
        Err(e) => Err(CliError::Refused(format!("{url}: {e}"))),
    }
}

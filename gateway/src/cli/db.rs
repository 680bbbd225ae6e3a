//! `simgw db migrate`: brings the configured PostgreSQL database's schema to this
//! binary's version (the gateway also does it at start) and prints the version.

use super::CliError;
use crate::config::{Config, StoreBackend};
use crate::store::postgres::PgStore;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub(super) enum DbCommand {
    /// Apply the schema migrations the database lacks; print the schema version.
    Migrate(MigrateArgs),
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

//! What offline commands share: where the data dir is (`--config`, `--data-dir`) and
//! opening its store, refused while a `simgw serve` holds it.

use super::CliError;
use crate::app::{self, StartError};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::embedded::RedbStore;
use std::path::PathBuf;
use std::sync::Arc;

/// Where the store is: the config file and/or `--data-dir`.
#[derive(clap::Args)]
pub(super) struct StoreArgs {
    /// TOML configuration file.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data directory; overrides the config file.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

impl StoreArgs {
    /// The configuration in force: the file's (or the defaults), with `--data-dir` applied.
    pub(super) fn load(&self) -> Result<Config, String> {
        let mut cfg = Config::load(self.config.as_deref()).map_err(|e| e.to_string())?;
        if let Some(d) = &self.data_dir {
            cfg.data_dir.clone_from(d);
        }
        Ok(cfg)
    }
}

/// Opens the store for an offline command; a running server holding it is a clear refusal.
pub(super) fn open(config: &Config) -> Result<RedbStore, CliError> {
    app::open_store(config, Arc::new(Metrics::default())).map_err(|e| match e {
        StartError::Store(s) if s.to_string().contains("already open") => CliError::Usage(format!(
            "the data dir {} is in use by a running simgw; stop it first (admin commands work offline)",
            config.data_dir.display()
        )),
        other => CliError::Start(other),
    })
}

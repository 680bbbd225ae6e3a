//! What offline commands share: where the data dir is (`--config`, `--data-dir`) and
//! opening its store, refused while a `simgw serve` holds it.

use super::CliError;
use crate::app::{self, StartError};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::StoreAdmin;
use crate::store::StoreError;
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
    pub(super) fn load(&self) -> Result<Config, CliError> {
        let mut cfg = Config::load(self.config.as_deref())?;
        if let Some(d) = &self.data_dir {
            cfg.data_dir.clone_from(d);
        }
        Ok(cfg)
    }
}

/// Opens the store for an offline command; a running server holding it is a clear refusal.
pub(super) fn open(config: &Config) -> Result<Arc<dyn StoreAdmin>, CliError> {
    app::open_store(config, Arc::new(Metrics::default())).map_err(|e| match e {
        StartError::Store(StoreError::Locked) => CliError::InUse(config.data_dir.clone()),
        other => CliError::Start(other),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_store_held_by_another_opener_is_refused_as_in_use() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = Config {
            data_dir: dir.path().to_owned(),
            ..Config::default()
        };
        let held = open(&config).expect("first open");
        match open(&config) {
            Err(CliError::InUse(d)) => assert_eq!(d, dir.path()),
            Err(e) => panic!("expected InUse, got {e}"),
            Ok(_) => panic!("a second open of a held store succeeded"),
        }
        held.close().await;
        open(&config).expect("open after close").close().await;
    }
}

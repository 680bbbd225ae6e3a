//! `simgw keys rotate|status`: the data keys that seal secrets at rest, offline.

use super::CliError;
use super::offline::{self, StoreArgs};
use crate::app;
use clap::Subcommand;

#[derive(Subcommand)]
pub(super) enum KeysCommand {
    /// Add a new data key and re-seal every secret under it (resumable).
    Rotate(RotateArgs),
    /// Show how many sealed values each data key protects.
    Status(StatusArgs),
    /// Add a new ID pepper key: new ID hashes use it; the older keys stay, so lines and
    /// blocklist entries hashed under them keep matching.
    RotatePepper(StatusArgs),
}

#[derive(clap::Args)]
pub(super) struct RotateArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Finish an interrupted rotation without adding another key.
    #[arg(long)]
    resume: bool,
}

#[derive(clap::Args)]
pub(super) struct StatusArgs {
    #[command(flatten)]
    store: StoreArgs,
}

pub(super) async fn run(command: KeysCommand) -> Result<(), CliError> {
    match command {
        KeysCommand::Rotate(args) => {
            println!("{}", rotate(&args.store.load()?, args.resume).await?);
        }
        KeysCommand::Status(args) => print!("{}", status(&args.store.load()?).await?),
        KeysCommand::RotatePepper(args) => {
            println!("{}", rotate_pepper(&args.store.load()?).await?);
        }
    }
    Ok(())
}

/// Adds a new data key (unless `resume`) and re-seals every secret under it, committing
/// chunk by chunk; an interrupted run is finished with `--resume`.
async fn rotate(config: &crate::config::Config, resume: bool) -> Result<String, CliError> {
    let path = app::key_path(config);
    // Open the store first so a running server (which holds it) is refused before any change.
    let store = offline::open(config).await?;
    let result = async {
        if !resume {
            crate::crypto::Keyring::add_key(&path).map_err(|e| CliError::Start(e.into()))?;
        }
        let keys = app::keyring(config)?;
        let report = store.rewrap(&keys, 1_000, None).await?;
        audit_key_change(&*store, "keys.rotate", keys.current_id()).await?;
        Ok(format!(
            "{} secrets re-sealed under data key {} in {} commits",
            report.resealed,
            keys.current_id(),
            report.chunks
        ))
    }
    .await;
    store.close().await;
    result
}

/// Appends the audit record of a key change (the key's id, never the key).
async fn audit_key_change(
    store: &dyn crate::store::Store,
    action: &str,
    key_id: &str,
) -> Result<(), CliError> {
    use crate::compliance::audit::{Actor, AuditRecord, Outcome};
    let record = AuditRecord {
        at_ms: crate::clock::Clock::new().now_ms(),
        actor: Actor {
            key_id: "cli".to_owned(),
            channel: "cli".to_owned(),
            ..Actor::default()
        },
        action: action.to_owned(),
        outcome: Outcome::Record,
        attrs: vec![("key_id".to_owned(), key_id.to_owned())],
        ..AuditRecord::default()
    };
    store
        .compliance_change(crate::store::ComplianceChange::AuditOnly, record)
        .await?;
    Ok(())
}

/// Adds an ID pepper key and audits it.
async fn rotate_pepper(config: &crate::config::Config) -> Result<String, CliError> {
    let store = offline::open(config).await?;
    let result = async {
        let id = crate::compliance::IdHasher::add_key(&app::pepper_path(config))
            .map_err(|e| CliError::Refused(e.to_string()))?;
        audit_key_change(&*store, "keys.pepper_rotate", &id).await?;
        Ok(format!(
            "ID pepper key {id} added; new ID hashes use it, and hashes under the older keys keep matching"
        ))
    }
    .await;
    store.close().await;
    result
}

/// Sealed values per data-key id.
async fn status(config: &crate::config::Config) -> Result<String, CliError> {
    let keys = app::keyring(config)?;
    let store = offline::open(config).await?;
    let usage = store.sealed_key_usage().await;
    store.close().await;
    let mut out = format!("current data key: {}\n", keys.current_id());
    for (kid, n) in usage? {
        out.push_str(&format!("{kid}: {n} sealed values\n"));
    }
    Ok(out)
}

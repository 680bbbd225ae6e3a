//! `simgw sandbox reset`: starts a sandbox over, offline. It deletes the store, the
//! simulators' state files and `sandbox.json` only in a data dir that has a `sandbox.json`
//! (never a production store), and keeps `tls/` (the development CA clients may already
//! trust) and the data key.

use super::CliError;
use super::offline::StoreArgs;
use crate::store::StoreError;
use crate::store::embedded::RedbStore;
use clap::Subcommand;
use std::fmt::Write;
use std::path::Path;

#[derive(Subcommand)]
pub(super) enum SandboxCommand {
    /// Delete a stopped sandbox's store, its simulators' state and sandbox.json, so the next
    /// `serve --sandbox` seeds a fresh tenant (new API keys, every SIM available, an empty
    /// HLR); tls/ and keys/ are kept.
    Reset(ResetArgs),
}

#[derive(clap::Args)]
pub(super) struct ResetArgs {
    #[command(flatten)]
    store: StoreArgs,
}

pub(super) fn run(command: SandboxCommand) -> Result<(), CliError> {
    match command {
        SandboxCommand::Reset(args) => print!("{}", reset(&args.store.load()?.data_dir)?),
    }
    Ok(())
}

/// Deletes the store first (its lock says no sandbox runs), then the simulators' state, and
/// `sandbox.json` last, so an interrupted reset is finished by running it again, and a
/// refused one has deleted nothing.
fn reset(data_dir: &Path) -> Result<String, CliError> {
    let file = data_dir.join(crate::sandbox::FILE);
    if !file.is_file() {
        return Err(CliError::NotASandbox(data_dir.to_owned()));
    }
    let store = RedbStore::remove(data_dir).map_err(|e| match e {
        StoreError::Locked => CliError::InUse(data_dir.to_owned()),
        e => e.into(),
    })?;
    let sims = data_dir.join(crate::sandbox::SIMULATORS_DIR);
    let sims_removed = match std::fs::remove_dir_all(&sims) {
        Ok(()) => Some(sims),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(CliError::io(&sims)(e)),
    };
    std::fs::remove_file(&file).map_err(CliError::io(&file))?;
    let mut out = String::new();
    for removed in store.iter().chain(&sims_removed).chain([&file]) {
        let _ = writeln!(out, "removed {}", removed.display());
    }
    let _ = writeln!(
        out,
        "kept {} (the development CA clients may already trust) and the data key",
        data_dir.join("tls").display()
    );
    out.push_str(
        "the next `simgw serve --sandbox` seeds a fresh sandbox tenant with new API keys (one per role)\n",
    );
    Ok(out)
}

//! `simgw numbers add|quarantine|release`: a tenant's number pool, offline.

use super::CliError;
use super::offline::{self, StoreArgs};
use crate::admin;
use crate::store::AdminChange;
use clap::Subcommand;

#[derive(Subcommand)]
pub(super) enum NumbersCommand {
    /// List quarantined numbers and when each returns to the pool.
    Quarantine(QuarantineArgs),
    /// End a number's quarantine early.
    Release(ReleaseArgs),
    /// Add a block of consecutive MSISDNs to a tenant's pool.
    Add(AddArgs),
}

#[derive(clap::Args)]
pub(super) struct QuarantineArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The tenant.
    #[arg(long)]
    tenant: String,
}

#[derive(clap::Args)]
pub(super) struct ReleaseArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The tenant.
    #[arg(long)]
    tenant: String,
    /// The number.
    #[arg(long)]
    msisdn: String,
}

#[derive(clap::Args)]
pub(super) struct AddArgs {
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
}

pub(super) async fn run(command: NumbersCommand) -> Result<(), CliError> {
    match command {
        NumbersCommand::Quarantine(args) => print!("{}", quarantine(&args).await?),
        NumbersCommand::Release(args) => println!("{}", release(&args).await?),
        NumbersCommand::Add(args) => println!("{}", add(&args).await?),
    }
    Ok(())
}

/// Numbers per committed chunk when adding a block.
const NUMBER_CHUNK: u64 = 100_000;

/// Adds a block of consecutive numbers to a tenant's pool, in atomic chunks. A chunk is
/// all in or absent, so re-running after an interruption skips the chunks already in
/// (same block label) and adds the rest.
async fn add(args: &AddArgs) -> Result<String, CliError> {
    let config = args.store.load()?;
    let (tenant, block, count) = (&args.tenant, &args.block, args.count);
    let first: sim_profiles::Msisdn = args
        .first
        .parse()
        .map_err(|e| CliError::arg("--first", e))?;
    if count == 0 || count > 100_000_000 {
        return Err(CliError::Usage(
            "--count must be between 1 and 100000000".into(),
        ));
    }
    let start: u64 = first
        .as_str()
        .parse()
        .map_err(|_| CliError::arg("--first", "must be digits"))?;
    let width = first.as_str().len();
    let store = offline::open(&config)?;
    let result = async {
        // The block's identity (label → first number and size) makes a re-run a resume and
        // any other use of the label an error.
        let marker_key = format!("block:{tenant}:{block}");
        let marker = format!("{}:{count}", first.as_str()).into_bytes();
        match store.meta(&marker_key).await? {
            Some(m) if m == marker => {}
            Some(_) => {
                return Err(CliError::Refused(format!(
                    "block `{block}` of `{tenant}` was added with another range; choose another --block label"
                )));
            }
            None => {
                if let Some(b) = store.number_block(first.as_str()).await? {
                    return Err(CliError::Refused(format!(
                        "number {} is already in block `{b}`",
                        first.as_str()
                    )));
                }
                admin::apply(&*store, AdminChange::PutMeta { key: marker_key, value: marker }).await?;
            }
        }
        let (mut added, mut skipped) = (0u64, 0u64);
        let mut offset = 0u64;
        while offset < count {
            let n = NUMBER_CHUNK.min(count - offset);
            let chunk_first = format!("{:0width$}", start + offset);
            match store.number_block(&chunk_first).await? {
                Some(b) if &b == block => skipped += n,
                _ => {
                    let first = chunk_first
                        .parse()
                        .map_err(|e| CliError::arg("--first", e))?;
                    let change = AdminChange::AddNumbers {
                        tenant: tenant.to_owned(),
                        block: block.to_owned(),
                        first,
                        count: n,
                    };
                    admin::apply(&*store, change).await?;
                    added += n;
                }
            }
            offset += n;
        }
        Ok::<_, CliError>((added, skipped))
    }
    .await;
    store.close().await;
    let (added, skipped) = result?;
    Ok(if skipped == 0 {
        format!("{added} numbers added to `{tenant}` (block `{block}`)")
    } else {
        format!(
            "{added} numbers added to `{tenant}` (block `{block}`); {skipped} were already in from an earlier run"
        )
    })
}

/// Quarantined numbers and when they return, one per line.
async fn quarantine(args: &QuarantineArgs) -> Result<String, CliError> {
    let config = args.store.load()?;
    let store = offline::open(&config)?;
    let list = store.quarantined(&args.tenant, usize::MAX).await;
    store.close().await;
    let mut out = String::new();
    for (m, until) in list? {
        out.push_str(&format!("{m} {}\n", crate::clock::rfc3339(until)));
    }
    Ok(out)
}

/// Ends a quarantine early.
async fn release(args: &ReleaseArgs) -> Result<String, CliError> {
    let config = args.store.load()?;
    let (tenant, msisdn) = (&args.tenant, &args.msisdn);
    let m = msisdn.parse().map_err(|e| CliError::arg("--msisdn", e))?;
    let store = offline::open(&config)?;
    let released = store.release_quarantine(tenant, &m).await;
    store.close().await;
    if released? {
        Ok(format!("{msisdn} is available again"))
    } else {
        Err(CliError::NotFound(format!(
            "{msisdn} is not in `{tenant}`'s quarantine"
        )))
    }
}

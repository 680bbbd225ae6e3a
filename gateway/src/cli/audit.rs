//! `simgw audit verify|anchor`: recomputes the tamper-evident audit chain from the store
//! and names the first bad or missing record; prints the head to publish as an anchor.
//! Offline for the embedded store (stop `simgw serve` first); against PostgreSQL it may
//! run beside the nodes.

use super::CliError;
use super::offline::{self, StoreArgs};
use crate::compliance::audit::{Anchor, Head, Start, VerifyError, Why, verify};
use crate::store::Store;

/// Rows read per page.
const PAGE: usize = 10_000;

/// `simgw audit …`.
#[derive(clap::Subcommand)]
pub enum AuditCommand {
    /// Recomputes the chain; exits 0 only if it is intact (and matches `--anchor`).
    Verify(VerifyArgs),
    /// Prints the chain's head (`simgw-audit-v1:<seq>:<hash>`) to publish or hand over.
    Anchor(AnchorArgs),
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Start at this record, trusting the stored hash of the one before it (default 1).
    #[arg(long)]
    from: Option<u64>,
    /// A head printed earlier by `simgw audit anchor`: the chain must reach it unchanged.
    #[arg(long)]
    anchor: Option<String>,
}

#[derive(clap::Args)]
pub struct AnchorArgs {
    #[command(flatten)]
    store: StoreArgs,
}

pub(super) async fn run(command: AuditCommand) -> Result<(), CliError> {
    match command {
        AuditCommand::Verify(args) => {
            let anchor = match &args.anchor {
                None => None,
                Some(a) => Some(Anchor::parse(a).ok_or_else(|| {
                    CliError::arg("--anchor", "expected `simgw-audit-v1:<seq>:<64 hex>` as `simgw audit anchor` prints it")
                })?),
            };
            let from = args.from.unwrap_or(1).max(1);
            if anchor.is_some_and(|a| a.seq.saturating_add(1) < from) {
                return Err(CliError::Usage(
                    "--anchor names a record before --from; verify from at most one record after the anchor".into(),
                ));
            }
            let store = offline::open(&args.store.load()?).await?;
            let result = verify_store(&*store, from, anchor).await;
            store.close().await;
            match result? {
                Ok(head) => {
                    println!(
                        "audit chain intact: {} records verified, head {}{}",
                        head.records,
                        Anchor {
                            seq: head.seq,
                            hash: head.hash
                        }
                        .to_text(),
                        if head.anchored {
                            ", anchor matched"
                        } else {
                            ""
                        }
                    );
                    Ok(())
                }
                Err(e) => Err(CliError::Refused(format!(
                    "audit chain broken at record {}: {}; records from there on cannot be trusted (restore them from a backup and compare)",
                    e.seq, e.why
                ))),
            }
        }
        AuditCommand::Anchor(args) => {
            let store = offline::open(&args.store.load()?).await?;
            let result = verify_store(&*store, 1, None).await;
            store.close().await;
            match result? {
                Ok(head) => {
                    println!(
                        "{}",
                        Anchor {
                            seq: head.seq,
                            hash: head.hash
                        }
                        .to_text()
                    );
                    Ok(())
                }
                Err(e) => Err(CliError::Refused(format!(
                    "no anchor: the audit chain is broken at record {}: {}",
                    e.seq, e.why
                ))),
            }
        }
    }
}

/// Verifies the stored chain from record `from` page by page; the outer error is the
/// store's, the inner one the chain's first bad record.
pub async fn verify_store(
    store: &dyn Store,
    from: u64,
    anchor: Option<Anchor>,
) -> Result<Result<Head, VerifyError>, CliError> {
    let mut start = if from <= 1 {
        Start::genesis()
    } else {
        let before = store
            .audit_rows(from - 1, 1)
            .await
            .map_err(|e| CliError::Start(e.into()))?;
        match before.first() {
            Some(r) if r.seq == from - 1 => Start {
                seq: from,
                prev: r.hash,
            },
            _ => {
                return Ok(Err(VerifyError {
                    seq: from - 1,
                    why: Why::Missing,
                }));
            }
        }
    };
    let mut total = 0u64;
    let mut anchored = false;
    loop {
        let rows = store
            .audit_rows(start.seq, PAGE)
            .await
            .map_err(|e| CliError::Start(e.into()))?;
        let Some(last) = rows.last().map(|r| r.seq) else {
            break;
        };
        // The anchor is checked by the page that holds it (or that starts right after it).
        let here = anchor.filter(|a| a.seq.saturating_add(1) >= start.seq && a.seq <= last);
        let head = match verify(
            rows.into_iter().map(|r| (r.seq, r.bytes, r.hash)),
            start,
            here,
        ) {
            Ok(h) => h,
            Err(e) => return Ok(Err(e)),
        };
        anchored |= head.anchored;
        total += head.records;
        start = Start {
            seq: head.seq.saturating_add(1),
            prev: head.hash,
        };
    }
    if let Some(a) = anchor {
        if !anchored {
            let why = if a.seq >= start.seq {
                Why::AnchorNotReached
            } else {
                Why::AnchorMismatch
            };
            return Ok(Err(VerifyError { seq: a.seq, why }));
        }
    }
    Ok(Ok(Head {
        seq: start.seq.saturating_sub(1),
        hash: start.prev,
        records: total,
        anchored,
    }))
}

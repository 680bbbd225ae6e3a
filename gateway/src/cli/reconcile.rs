//! `simgw reconcile`: does the HLR agree with the gateway? Offline (the store held as the
//! other offline commands hold it), with the southbound peers built from the config as
//! `serve` builds them. Prints a summary and every difference, writes the JSON report with
//! `--json`, and succeeds only when nothing differs and everything could be checked.
//! `--repair` proposes the safe fixes; `--repair --apply` performs them (recorded in the
//! store before they are sent) and compares again.

use super::CliError;
use super::offline::{self, StoreArgs};
use crate::clock::Clock;
use crate::engine::Engine;
use crate::metrics::Metrics;
use crate::reconcile::{Reconciler, Report};
use std::path::PathBuf;
use std::sync::Arc;

/// `simgw reconcile`.
#[derive(clap::Args)]
pub(super) struct ReconcileArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Writes the JSON report to FILE (after `--apply`: the comparison after the fixes).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Compares this tenant only (default: every tenant).
    #[arg(long)]
    tenant: Option<String>,
    /// Proposes the safe fixes: re-provision missing subscribers, remove orphans we created.
    #[arg(long)]
    repair: bool,
    /// With `--repair`: performs them, then compares again.
    #[arg(long, requires = "repair")]
    apply: bool,
    /// HLR queries in flight.
    #[arg(long, default_value_t = crate::reconcile::DEFAULT_CONCURRENCY)]
    concurrency: usize,
}

/// Runs `simgw reconcile`.
pub(super) async fn run(args: ReconcileArgs) -> Result<(), CliError> {
    let config = args.store.load()?;
    let settings = crate::app::engine_settings(&config)?;
    let hlr = crate::southbound::hlr_from_config(&config.hlr, config.engine.hlr_concurrency)?;
    let keys = Arc::new(crate::app::keyring(&config)?);
    let store = offline::open(&config).await?;
    let clock = Clock::new();
    let dyn_store: Arc<dyn crate::store::Store> = store.clone();
    let engine = Engine::new(
        dyn_store,
        hlr.clone(),
        keys,
        settings,
        clock,
        Arc::new(Metrics::default()),
    );
    let reconciler = Reconciler::new(store.clone(), hlr.clone(), engine, args.concurrency);
    let result = reconcile(&reconciler, &args, clock).await;
    hlr.shutdown().await;
    store.close().await;
    let report = result?;
    if let Some(path) = &args.json {
        let json = serde_json::to_vec_pretty(&report).map_err(|e| CliError::Io {
            path: path.clone(),
            source: std::io::Error::other(e),
        })?;
        std::fs::write(path, json).map_err(|source| CliError::Io {
            path: path.clone(),
            source,
        })?;
    }
    if report.clean {
        return Ok(());
    }
    Err(CliError::Refused(format!(
        "{} difference(s), {} unchecked: the gateway and its peers do not agree",
        report.differences,
        report.unchecked.len()
    )))
}

async fn reconcile(
    reconciler: &Reconciler,
    args: &ReconcileArgs,
    clock: Clock,
) -> Result<Report, CliError> {
    let tenant = args.tenant.as_deref();
    let mut run = reconciler
        .run(tenant, clock.now_ms())
        .await
        .map_err(refused)?;
    print!("{}", run.report.text());
    if !args.repair {
        return Ok(run.report);
    }
    if !args.apply {
        reconciler.propose(&mut run);
        for r in &run.report.repairs {
            println!(
                "would {} {} imsi {}: {}",
                r.kind.as_str(),
                r.tenant,
                r.imsi,
                r.detail
            );
        }
        println!(
            "{} safe fix(es) proposed; run again with --repair --apply to make them",
            run.fixes()
        );
        return Ok(run.report);
    }
    reconciler.apply(&mut run).await.map_err(refused)?;
    for r in &run.report.repairs {
        println!(
            "{} {} {} imsi {}: {}",
            r.status,
            r.kind.as_str(),
            r.tenant,
            r.imsi,
            r.detail
        );
    }
    println!("after the fixes:");
    let mut after = reconciler
        .run(tenant, clock.now_ms())
        .await
        .map_err(refused)?;
    print!("{}", after.report.text());
    after.report.repairs = run.report.repairs;
    Ok(after.report)
}

fn refused(e: crate::reconcile::ReconcileError) -> CliError {
    match e {
        crate::reconcile::ReconcileError::Store(e) => CliError::Admin(e.into()),
        other => CliError::Refused(other.to_string()),
    }
}

//! Reconciliation: does the HLR (and, where a status query exists, the SM-DP+) agree with
//! the gateway? `simgw reconcile` and `POST /v1/reconciliations` both run a
//! [`Reconciler`]: read the gateway's view (`view`), read the southbound truth for it
//! (`probe`), compare (`compare`, pure), report (`report`), and on request make the safe
//! fixes (`repair`). Nothing but `repair::apply` writes anywhere.

pub mod compare;
pub mod model;
pub mod probe;
pub mod repair;
pub mod report;
pub mod view;

pub use model::{Difference, DifferenceKind, RepairKind};
pub use report::{RepairOutcome, Report};

use crate::engine::Engine;
use crate::store::{StoreAdmin, StoreError};
use adapters::es2plus::ProfileStatus;
use adapters::hlr::HlrProvisioner;
use std::sync::{Arc, OnceLock};

/// HLR queries in flight during a reconciliation, unless configured otherwise.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// Why a reconciliation did not run.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// Another reconciliation is running in this process.
    #[error("a reconciliation is running already")]
    Busy,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No identifier could be drawn.
    #[error("no random identifier")]
    Random,
}

/// Runs reconciliations, one at a time per process.
pub struct Reconciler {
    store: Arc<dyn StoreAdmin>,
    hlr: Arc<dyn HlrProvisioner>,
    engine: Engine,
    profiles: OnceLock<Arc<dyn ProfileStatus>>,
    concurrency: usize,
    running: tokio::sync::Mutex<()>,
}

/// A finished comparison, kept for `--repair`: the view and truth the fixes come from.
pub struct Run {
    /// The report.
    pub report: Report,
    fixes: Vec<repair::Fix>,
}

impl Run {
    /// How many safe fixes the differences allow.
    pub fn fixes(&self) -> usize {
        self.fixes.len()
    }
}

impl Reconciler {
    /// A reconciler over `store` and `hlr`, opening keys through `engine`.
    pub fn new(
        store: Arc<dyn StoreAdmin>,
        hlr: Arc<dyn HlrProvisioner>,
        engine: Engine,
        concurrency: usize,
    ) -> Self {
        Self {
            store,
            hlr,
            engine,
            profiles: OnceLock::new(),
            concurrency: concurrency.max(1),
            running: tokio::sync::Mutex::new(()),
        }
    }

    /// Installs the SM-DP+'s status query; `false` if one is installed already.
    pub fn set_profile_status(&self, hook: Arc<dyn ProfileStatus>) -> bool {
        self.profiles.set(hook).is_ok()
    }

    /// Compares `tenant`'s data (every tenant's when `None`) with the peers; refused with
    /// [`ReconcileError::Busy`] while another reconciliation runs.
    pub async fn run(&self, tenant: Option<&str>, now_ms: u64) -> Result<Run, ReconcileError> {
        let _one = self.running.try_lock().map_err(|_| ReconcileError::Busy)?;
        let id = crate::crypto::random_id(&ring::rand::SystemRandom::new(), "rec_")
            .map_err(|_| ReconcileError::Random)?;
        let view = view::load(self.store.as_ref(), tenant).await?;
        let peers = probe::Peers {
            hlr: self.hlr.clone(),
            engine: self.engine.clone(),
            profiles: self.profiles.get().cloned(),
            concurrency: self.concurrency,
        };
        let truth = probe::read(&peers, &view).await;
        let comparison = compare::compare(&view, &truth);
        let fixes = repair::plan(&view, &truth, &comparison.differences);
        let report = Report::new(
            id,
            now_ms,
            tenant.map(str::to_owned),
            self.hlr.dialect(),
            peers.profiles.as_ref().map(|p| p.source()),
            comparison,
        );
        tracing::info!(id = %report.id, differences = report.differences,
            unchecked = report.unchecked.len(), "reconciliation finished");
        Ok(Run { report, fixes })
    }

    /// The safe fixes of `run` as proposals, nothing sent.
    pub fn propose(&self, run: &mut Run) {
        run.report.repairs = repair::proposed(&run.fixes);
    }

    /// Performs the safe fixes of `run` (recorded in the store before they are sent).
    pub async fn apply(&self, run: &mut Run) -> Result<(), ReconcileError> {
        let _one = self.running.try_lock().map_err(|_| ReconcileError::Busy)?;
        let store: &dyn crate::store::Store = self.store.as_ref();
        run.report.repairs = repair::apply(
            store,
            &self.engine,
            self.hlr.as_ref(),
            &run.report.id,
            &run.fixes,
        )
        .await?;
        Ok(())
    }
}

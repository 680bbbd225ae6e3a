//! `simgw soak`: many mixed orders over HTTPS against a sandbox whose simulators inject
//! faults, then proof that nothing was lost: every order ended, the HLR and SM-DP+ agree
//! with the gateway (reconciliation), and no Idempotency-Key made two orders. With
//! `--crash-loop K`, the gateway runs as a child process that is SIGKILLed K times under
//! the load and restarted on the same data dir. With `--target FILE`, the same load and
//! checks run against a deployment of your own, over the wire only.
//!
//! The parts, one job each: `target` (the wires to a sandbox, from its `sandbox.json`),
//! `faults` (profiles set through the simulators' admin APIs), `kinds` (one
//! [`kinds::SoakKind`] per kind of order: the extension point), `mix` (the seeded draw of
//! kinds), `lines` (the lines follow-ups work on), `drive` (the load), `verify` (the
//! checks), `source` (where the reconciliation comes from), `reconciled` (its reports
//! added up), `report`, `crash` (the child process and its kills), and `remote`
//! (`--target`: its refusals and its run).

mod crash;
mod drive;
mod faults;
mod kinds;
mod lines;
mod mix;
mod reconciled;
mod remote;
mod report;
mod source;
mod target;
mod verify;

pub use faults::FaultProfile;
pub use reconciled::{Part, Reconciliation};
pub use report::{Crashes, KindCounts, Meta, Report, Totals};
pub use verify::{Keys, Notifications};

use crate::config::Config;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Most orders to send.
    pub orders: u64,
    /// What the simulators inject.
    pub faults: FaultProfile,
    /// Seeds the mix, the lines picked, the customers' choices and the kill moments.
    pub seed: u64,
    /// Orders in flight at once (one per HTTPS client).
    pub concurrency: usize,
    /// The data dir (default: a fresh one under the system temp dir).
    pub data_dir: Option<PathBuf>,
    /// `KIND=WEIGHT,…` instead of the default mix.
    pub mix: Option<String>,
    /// How long the load may take (sending and waiting for the orders to end).
    pub deadline: Duration,
    /// Run the gateway as a child process and SIGKILL it this many times under load.
    pub crash_loop: Option<u32>,
    /// Run against the deployment this `sandbox.json` names instead of a sandbox of its
    /// own (no data dir; no crash loop).
    pub target: Option<PathBuf>,
}

/// Why the soak could not run (a run that found faults is a [`Report`] that did not pass).
#[derive(Debug, thiserror::Error)]
#[error("soak: {0}")]
pub struct SoakError(pub String);

fn err(e: impl std::fmt::Display) -> SoakError {
    SoakError(e.to_string())
}

/// Fraction of new eSIM lines whose customer downloads and installs the profile (in a
/// crash loop too: what its notifications reported is checked on the activations, which
/// the store keeps, rather than in the SM-DP+'s delivery log, which restarts with it).
const DOWNLOADS: f64 = 0.5;

/// Runs the soak (or, with `crash_loop`, the crash loop) and answers its report.
pub async fn run(opts: &Options) -> Result<Report, SoakError> {
    let kinds = kinds::registry();
    let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
    let weights = match &opts.mix {
        Some(spec) => mix::parse(spec, &names).map_err(SoakError)?,
        None => kinds.iter().map(|k| k.weight()).collect(),
    };
    let the_mix =
        mix::Mix::new(weights.clone()).ok_or_else(|| SoakError("every kind weighs 0".into()))?;
    let target = match &opts.target {
        Some(file) => Some(remote::prepare(file, opts, &kinds, &weights)?),
        None => None,
    };
    let plan = opts.faults.plan();
    let load = drive::Load {
        orders: opts.orders,
        seed: opts.seed,
        serial: if target.is_some() {
            remote::serial()
        } else {
            0
        },
        concurrency: opts.concurrency.max(1),
        deadline: opts.deadline,
        kinds: kinds.clone(),
        mix: the_mix,
        rejected_ports: plan.rejected_ports,
        downloads: DOWNLOADS,
    };
    let base_url = target.as_ref().map(|t| t.base_url.clone());
    let meta = |[start_s, load_s, checks_s]: [f64; 3]| Meta {
        mode: match (&base_url, opts.crash_loop) {
            (Some(_), _) => "target",
            (None, Some(_)) => "crash_loop",
            (None, None) => "soak",
        },
        target: base_url.clone(),
        orders: opts.orders,
        seed: opts.seed,
        concurrency: opts.concurrency,
        faults: opts.faults.name(),
        mix: names
            .iter()
            .zip(&weights)
            .map(|(n, w)| ((*n).to_owned(), *w))
            .collect::<BTreeMap<_, _>>(),
        seconds: start_s + load_s + checks_s,
        start_s,
        load_s,
        checks_s,
    };
    if let Some(info) = target {
        return remote::run(info, opts, &plan, load, meta).await;
    }
    let (dir, temporary) = data_dir(opts)?;
    let config_file = write_config(opts, &dir)?;
    let report = match opts.crash_loop {
        Some(k) => crash::run(&config_file, k, opts, &plan, load, meta).await?,
        None => soak(&config_file, opts, &plan, load, meta).await?,
    };
    if temporary && report.passed {
        let _ = std::fs::remove_dir_all(&dir);
    } else if !report.passed {
        eprintln!("soak: data dir kept for inspection: {}", dir.display());
    }
    Ok(report)
}

/// The in-process soak: a sandbox on the data dir, the load, the checks.
async fn soak(
    config_file: &Path,
    opts: &Options,
    plan: &faults::Plan,
    load: drive::Load,
    meta: impl Fn([f64; 3]) -> Meta,
) -> Result<Report, SoakError> {
    let clock = Phases::default();
    let config = Config::load(Some(config_file)).map_err(err)?;
    let sb = crate::sandbox::start(config).await.map_err(err)?;
    let report = match target::Target::new(sb.info.clone(), opts.concurrency) {
        Ok(t) => {
            let source = source::Source::InProcess(&sb);
            load_and_check(Arc::new(t), source, opts, plan, load, clock, meta).await
        }
        Err(e) => Err(SoakError(e)),
    };
    sb.shutdown().await;
    report
}

/// Sets the faults, runs the load and the checks through `target`, whose gateway side is
/// `source` (`clock` has timed the start). The simulators' counters are read before and
/// after the load: a target's may count earlier runs.
async fn load_and_check(
    target: Arc<target::Target>,
    source: source::Source<'_>,
    opts: &Options,
    plan: &faults::Plan,
    load: drive::Load,
    mut clock: Phases,
    meta: impl Fn([f64; 3]) -> Meta,
) -> Result<Report, SoakError> {
    if let Err(e) = plan.apply(&target).await {
        // Leave no simulator half-set (a target outlives the run).
        let _ = FaultProfile::None.plan().apply(&target).await;
        return Err(SoakError(format!("setting the faults: {e}")));
    }
    let injected_before = faults::injected(&target).await.unwrap_or_default();
    let notices_before = verify::notifications_so_far(&target)
        .await
        .unwrap_or_default();
    let kinds = load.kinds.clone();
    clock.next();
    let driven = drive::drive(target.clone(), Arc::new(load), Arc::default()).await;
    let injected = faults::injected(&target)
        .await
        .map(|after| faults::since(&after, &injected_before))
        .unwrap_or_default();
    clock.next();
    let verified = verify::verify(
        &source,
        &target,
        &driven,
        &kinds,
        plan.duplicates_notifications(),
        opts.concurrency,
        Some(notices_before),
    )
    .await;
    Ok(Report::new(
        meta(clock.done()),
        &driven,
        verified,
        injected,
        None,
    ))
}

/// Times the run's three phases: start, load, checks.
struct Phases {
    at: Instant,
    done: Vec<f64>,
}

impl Default for Phases {
    fn default() -> Self {
        Self {
            at: Instant::now(),
            done: Vec::new(),
        }
    }
}

impl Phases {
    /// Ends the current phase.
    fn next(&mut self) {
        self.done.push(self.at.elapsed().as_secs_f64());
        self.at = Instant::now();
    }

    /// Ends the last phase: the seconds of each.
    fn done(mut self) -> [f64; 3] {
        self.next();
        let d = |i: usize| self.done.get(i).copied().unwrap_or(0.0);
        [d(0), d(1), d(2)]
    }
}

/// The data dir and whether the soak made it (removed after a run that passed).
fn data_dir(opts: &Options) -> Result<(PathBuf, bool), SoakError> {
    let (dir, temporary) = match &opts.data_dir {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("simgw-soak-{}", std::process::id())),
            true,
        ),
    };
    if dir.exists() && std::fs::read_dir(&dir).map_err(err)?.next().is_some() {
        return Err(SoakError(format!(
            "{} is not empty; a soak needs a fresh data dir (its keys must be new)",
            dir.display()
        )));
    }
    crate::crypto::create_private_dir(&dir).map_err(err)?;
    Ok((dir, temporary))
}

/// Writes the run's configuration to `DATA_DIR/soak.toml` (the crash loop's child reads
/// it too): stock for every order, and southbound timeouts and retry pauses short enough
/// that injected timeouts do not make the run slow.
fn write_config(opts: &Options, dir: &Path) -> Result<PathBuf, SoakError> {
    let n = opts.orders;
    let conns = (opts.concurrency + 16).max(256);
    let text = format!(
        "# Written by `simgw soak` for this run.\n\
         data_dir = {dir:?}\n\
         listen = \"127.0.0.1:0\"\n\
         [engine]\n\
         backoff_base_ms = 20\n\
         backoff_max_ms = 250\n\
         [hlr]\n\
         timeout_ms = 1000\n\
         [esim]\n\
         timeout_ms = 1000\n\
         [porting_hub]\n\
         timeout_ms = 1000\n\
         [api]\n\
         max_connections_per_ip = {conns}\n\
         [sandbox]\n\
         physical_sims = {}\n\
         esim_profiles = {}\n\
         numbers = {}\n",
        n + 16,
        n + 16,
        2 * n + 200,
    );
    let file = dir.join("soak.toml");
    std::fs::write(&file, text).map_err(|e| SoakError(format!("{}: {e}", file.display())))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_configuration_loads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let opts = Options {
            orders: 100,
            faults: FaultProfile::Standard,
            seed: 1,
            concurrency: 8,
            data_dir: None,
            mix: None,
            deadline: Duration::from_secs(60),
            crash_loop: None,
            target: None,
        };
        let file = write_config(&opts, dir.path()).expect("written");
        let c = Config::load(Some(&file)).expect("loads");
        assert_eq!(c.data_dir, dir.path());
        assert_eq!(c.sandbox.physical_sims, 116);
        assert_eq!(c.hlr.timeout_ms, 1000);
        assert_eq!(c.engine.backoff_max_ms, 250);
    }
}

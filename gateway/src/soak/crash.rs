//! The crash loop: `simgw serve --sandbox` as a child process on the run's data dir (its
//! stderr appended to `DATA_DIR/gateway.log`), SIGKILLed at seeded random moments while
//! the load runs and started again on the same data dir each time; the load follows it
//! to its new address (`sandbox.json`) and sends again what got no answer, with the same
//! key. After the last kill the load finishes its orders; the gateway is killed once more
//! and started in process on the same data dir for the checks. Customers download and
//! install eSIM profiles as in the soak; the SM-DP+'s notifications about them, kept in
//! its state file until delivered, reach the gateway after whichever restart, and the
//! checks find them on the activations (its delivery log, which restarts, is not counted).

use super::drive::{self, Control, Load};
use super::faults::{self, Injected, Plan};
use super::mix::{fraction, salt};
use super::report::{Crashes, Meta, Report};
use super::target::Target;
use super::{Options, Phases, SoakError, err, verify};
use crate::config::Config;
use crate::sandbox::SandboxFile;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::time::Instant;

/// Shortest time the gateway runs between two kills (from its `sandbox.json`).
const MIN_UP: Duration = Duration::from_millis(500);
/// Longest.
const MAX_UP: Duration = Duration::from_millis(3000);
/// A start that has not written `sandbox.json` by then failed.
const START_WITHIN: Duration = Duration::from_secs(120);

/// The gateway process, killed and reaped when dropped however the run ends.
struct Gateway(std::process::Child);

impl Gateway {
    /// SIGKILL, and reap.
    fn kill9(mut self) -> Result<(), SoakError> {
        self.0.kill().map_err(err)?;
        self.0.wait().map_err(err)?;
        Ok(())
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the crash loop with `kills` kills.
pub(super) async fn run(
    config_file: &Path,
    kills: u32,
    opts: &Options,
    plan: &Plan,
    load: Load,
    meta: impl Fn([f64; 3]) -> Meta,
) -> Result<Report, SoakError> {
    let mut clock = Phases::default();
    let config = Config::load(Some(config_file)).map_err(err)?;
    let dir = config.data_dir.clone();
    let log = dir.join("gateway.log");
    let mut starts = Vec::new();
    let (mut gateway, info) = start(config_file, &dir, &log, &mut starts).await?;
    let target = Arc::new(Target::new(info, opts.concurrency).map_err(SoakError)?);
    plan.apply(&target).await.map_err(SoakError)?;
    let control = Arc::new(Control::default());
    let kinds = load.kinds.clone();
    clock.next();
    let driving = tokio::spawn(drive::drive(
        target.clone(),
        Arc::new(load),
        control.clone(),
    ));
    let mut injected = Injected::new();
    let mut in_flight_at_kills = Vec::new();
    for k in 0..kills {
        let up = MIN_UP + (MAX_UP - MIN_UP).mul_f64(fraction(opts.seed, u64::from(k), salt::KILL));
        tokio::time::sleep(up).await;
        // The simulators' counters restart with the process: read them first.
        if let Ok(i) = faults::injected(&target).await {
            faults::add(&mut injected, &i);
        }
        in_flight_at_kills.push(control.in_flight.load(Relaxed));
        gateway.kill9()?;
        let (g, info) = start(config_file, &dir, &log, &mut starts).await?;
        gateway = g;
        target.reload(info);
        // Fault rules belong to one run of a simulator: set them again.
        plan.apply(&target).await.map_err(SoakError)?;
    }
    control.stop.store(true, Relaxed);
    let driven = driving.await.map_err(err)?;
    if let Ok(i) = faults::injected(&target).await {
        faults::add(&mut injected, &i);
    }
    gateway.kill9()?;
    clock.next();
    // The checks read the store and the simulators' state files the child left.
    let sb = crate::sandbox::start(Config::load(Some(config_file)).map_err(err)?)
        .await
        .map_err(err)?;
    target.reload(sb.info.clone());
    // The SM-DP+'s delivery log restarted with every start: the notifications are checked
    // on the activations they updated (the store keeps them) and by the reconciliation.
    let verified = verify::verify(
        &super::source::Source::InProcess(&sb),
        &target,
        &driven,
        &kinds,
        plan.duplicates_notifications(),
        opts.concurrency,
        None,
    )
    .await;
    sb.shutdown().await;
    let mean_start_s = if starts.is_empty() {
        0.0
    } else {
        starts.iter().map(Duration::as_secs_f64).sum::<f64>() / starts.len() as f64
    };
    let crashes = Crashes {
        kills,
        starts: u32::try_from(starts.len()).unwrap_or(u32::MAX),
        mean_start_s,
        kills_under_load: in_flight_at_kills.iter().filter(|n| **n > 0).count() as u32,
        in_flight_at_kills,
        log: log.display().to_string(),
    };
    Ok(Report::new(
        meta(clock.done()),
        &driven,
        verified,
        injected,
        Some(crashes),
    ))
}

/// Starts `simgw serve --sandbox --config <config_file>` and waits (bounded) for the
/// `sandbox.json` it writes when it is up; records how long that took.
async fn start(
    config_file: &Path,
    dir: &Path,
    log: &PathBuf,
    starts: &mut Vec<Duration>,
) -> Result<(Gateway, SandboxFile), SoakError> {
    let file = dir.join(crate::sandbox::FILE);
    // The previous start's file names its ports: wait for the new one.
    let _ = std::fs::remove_file(&file);
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| SoakError(format!("{}: {e}", log.display())))?;
    let _ = writeln!(out, "=== simgw soak: start {}", starts.len() + 1);
    let exe = std::env::current_exe().map_err(err)?;
    let child = Command::new(exe)
        .args(["serve", "--sandbox", "--config"])
        .arg(config_file)
        .env(
            "SIMGW_LOG",
            std::env::var("SIMGW_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(out)
        .spawn()
        .map_err(|e| SoakError(format!("starting the gateway: {e}")))?;
    let mut gateway = Gateway(child);
    let t = Instant::now();
    loop {
        let read = std::fs::read(&file)
            .ok()
            .and_then(|b| serde_json::from_slice::<SandboxFile>(&b).ok());
        if let Some(info) = read {
            starts.push(t.elapsed());
            return Ok((gateway, info));
        }
        if let Ok(Some(status)) = gateway.0.try_wait() {
            return Err(SoakError(format!(
                "the gateway exited ({status}) before it was ready: {}",
                tail(log)
            )));
        }
        if t.elapsed() > START_WITHIN {
            return Err(SoakError(format!(
                "the gateway was not ready within {} s: {}",
                START_WITHIN.as_secs(),
                tail(log)
            )));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The last lines of the gateway's log, to say why it did not start.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(20);
    format!(
        "{} (last lines:\n{})",
        log.display(),
        lines.get(from..).unwrap_or_default().join("\n")
    )
}

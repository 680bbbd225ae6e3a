//! `simgw bench --parked-ports N`: what port-ins cost while they wait for their date. It
//! measures the sandbox process's CPU time over an idle window (`--idle-s`) twice: with
//! no port open (the reference: the gateway, its timers and the in-process simulators
//! at rest), then with N French port-ins scheduled and parked on the store's one
//! port-deadline index, and prints CPU-seconds per second, wakeups and resident memory.
//!
//! The ports are seeded at store level: through the API each would need the hub
//! simulator and several durable commits, minutes for 100,000 on two cores. Each order
//! is still a real one, written as the engine writes it, step by step, each step through
//! the engine's own pure functions and one store write: the create commit (its SIM
//! reserved), the hub submit `sent` and answered, the hub's `accepted` and `scheduled`
//! messages applied, and the park at the deadline `next_action` gives (the lock point,
//! 17:00 on the working day before the cutover). Cutover days are spread over the
//! working days of the next six weeks, so no deadline falls in the window.

use super::report::{peak_rss_mib, status_kib};
use super::{BenchArgs, BenchError, err, start_sandbox, stop_sandbox};
use crate::compliance::Market;
use crate::engine::SealedCredential;
use crate::engine::machine::port_order::{self, PortAnswer, PortOp};
use crate::engine::machine::{Action, Attempt, RetryPolicy};
use crate::order::{Effect, Order, PortIn, port_credential_context};
use crate::porting::{Day, MarketPorting, schedule};
use crate::sandbox::{Sandbox, TENANT};
use crate::store::{AdminChange, CreateOutcome, EventKind, NewActivation, NumberChoice, SimChoice};
use adapters::porting::{Actor, HubEvent, HubMessage, Ref, UtcTime};
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::time::Instant;

/// Seeding tasks at once: enough to fill the store writer's group commits.
const SEEDERS: usize = 256;
/// The first ported number (French mobile, outside every sandbox block).
const FIRST_NUMBER: u64 = 33_698_000_000;
/// Cutover days are drawn from this many days ahead.
const DAYS_AHEAD: u64 = 42;

/// One idle window's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub(super) struct Idle {
    /// Length of the window, seconds.
    pub(super) seconds: f64,
    /// CPU time (user + system) of the whole process in the window, in clock ticks of
    /// 10 ms (`/proc/self/stat`): the measurement's resolution.
    pub(super) cpu_ticks: u64,
    /// The same in seconds.
    pub(super) cpu_s: f64,
    /// `cpu_s / seconds`.
    pub(super) cpu_s_per_s: f64,
    /// Context switches of the process's threads in the window (wakeups).
    pub(super) context_switches: u64,
    /// Durable store commits in the window.
    pub(super) store_commits: u64,
    /// Resident memory at the end of the window, MiB.
    pub(super) rss_mib: f64,
}

/// The report of `--parked-ports` (`--json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(super) struct ParkedReport {
    /// `parked_ports`.
    pub(super) mode: String,
    /// Ports parked.
    pub(super) parked_ports: u64,
    /// Seconds the seeding took (not part of any window).
    pub(super) seeded_s: f64,
    /// The earliest deadline on the index, RFC 3339.
    pub(super) next_deadline: String,
    /// The window with no port open.
    pub(super) empty: Idle,
    /// The window with every port parked.
    pub(super) parked: Idle,
    /// Peak resident memory of the run, MiB.
    pub(super) peak_rss_mib: f64,
}

/// Runs the mode on a fresh sandbox in `data_dir`.
pub(super) async fn run(
    args: &BenchArgs,
    ports: u64,
    data_dir: &std::path::Path,
) -> Result<(), BenchError> {
    let (sb, _client, seeded_in, _) = start_sandbox(args, data_dir, None).await?;
    let r = measure(args, &sb, ports, seeded_in).await;
    stop_sandbox(sb).await;
    let report = r?;
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&report).map_err(err)?;
        std::fs::write(path, json).map_err(|e| BenchError(format!("{}: {e}", path.display())))?;
    }
    Ok(())
}

async fn measure(
    args: &BenchArgs,
    sb: &Sandbox,
    ports: u64,
    seeded_in: Duration,
) -> Result<ParkedReport, BenchError> {
    let window = Duration::from_secs(args.idle_s.max(1));
    println!(
        "simgw bench --parked-ports {ports}: idle windows of {} s, sandbox seeded in {:.1} s",
        window.as_secs(),
        seeded_in.as_secs_f64()
    );
    super::inventory::fill(sb, ports, 0).await?;
    let mut tenant = sb
        .gateway
        .store
        .tenant(TENANT)
        .await
        .map_err(err)?
        .ok_or_else(|| BenchError("the sandbox tenant is missing".into()))?;
    tenant.market = Some(Market::EuFr);
    crate::admin::apply(&*sb.gateway.store, AdminChange::PutTenant(tenant))
        .await
        .map_err(err)?;
    settle(sb).await;
    println!("-- idle, no port open");
    let empty = idle(sb, window).await?;
    print_idle(&empty);

    let started = Instant::now();
    seed(sb, ports).await?;
    let seeded_s = started.elapsed().as_secs_f64();
    // The port timer reads the index again (as after a park through the engine).
    sb.gateway.engine.port_deadline_added();
    let next = sb
        .gateway
        .store
        .next_port_deadline()
        .await
        .map_err(err)?
        .ok_or_else(|| BenchError("no deadline on the port index after seeding".into()))?;
    let open = sb
        .gateway
        .store
        .open_ports(TENANT, usize::MAX)
        .await
        .map_err(err)?;
    let parked = open.iter().filter(|o| o.port_parked().is_some()).count();
    println!(
        "seeded {ports} port-ins in {seeded_s:.1} s: {} open, {parked} parked, earliest deadline {}",
        open.len(),
        crate::clock::rfc3339(next)
    );
    if parked as u64 != ports {
        return Err(BenchError(format!("{parked} of {ports} ports parked")));
    }
    drop(open);
    settle(sb).await;
    println!("-- idle, {ports} ports parked");
    let with = idle(sb, window).await?;
    print_idle(&with);
    // Still parked: nothing was woken during the window.
    let still = sb.gateway.store.next_port_deadline().await.map_err(err)?;
    if still != Some(next) {
        return Err(BenchError(format!(
            "the earliest deadline moved during the idle window ({} → {still:?})",
            crate::clock::rfc3339(next)
        )));
    }
    println!(
        "{ports} parked ports: {:.4} CPU-s/s against {:.4} with none; {} against {} context switches; RSS {:.1} against {:.1} MiB",
        with.cpu_s_per_s,
        empty.cpu_s_per_s,
        with.context_switches,
        empty.context_switches,
        with.rss_mib,
        empty.rss_mib
    );
    Ok(ParkedReport {
        mode: "parked_ports".into(),
        parked_ports: ports,
        seeded_s,
        next_deadline: crate::clock::rfc3339(next),
        empty,
        parked: with,
        peak_rss_mib: peak_rss_mib(),
    })
}

fn print_idle(i: &Idle) {
    println!(
        "CPU {} ticks = {:.2} s in {:.1} s = {:.4} CPU-s/s (one tick = {:.4}); {} context switches; {} store commits; RSS {:.1} MiB",
        i.cpu_ticks,
        i.cpu_s,
        i.seconds,
        i.cpu_s_per_s,
        1.0 / CLOCK_TICKS_PER_S / i.seconds,
        i.context_switches,
        i.store_commits,
        i.rss_mib
    );
}

/// Waits until the store writer has had nothing to do for a second (at most 30 s).
async fn settle(sb: &Sandbox) {
    let commits = || sb.gateway.metrics.store_commits.load(Relaxed);
    let mut last = commits();
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = commits();
        if now == last {
            return;
        }
        last = now;
    }
}

/// Sleeps through `window` and reads what the process spent meanwhile.
async fn idle(sb: &Sandbox, window: Duration) -> Result<Idle, BenchError> {
    let commits0 = sb.gateway.metrics.store_commits.load(Relaxed);
    let (cpu0, switches0) = (cpu_ticks()?, context_switches());
    let started = Instant::now();
    tokio::time::sleep(window).await;
    let seconds = started.elapsed().as_secs_f64();
    let (cpu1, switches1) = (cpu_ticks()?, context_switches());
    let cpu_ticks = cpu1.saturating_sub(cpu0);
    let cpu_s = cpu_ticks as f64 / CLOCK_TICKS_PER_S;
    let rss_mib = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| status_kib(&s, "VmRSS"))
        .map_or(0.0, |kib| kib as f64 / 1024.0);
    Ok(Idle {
        seconds,
        cpu_ticks,
        cpu_s,
        cpu_s_per_s: cpu_s / seconds,
        context_switches: switches1.saturating_sub(switches0),
        store_commits: sb.gateway.metrics.store_commits.load(Relaxed) - commits0,
        rss_mib,
    })
}

/// `USER_HZ`: the unit of `/proc/*/stat` times, 100 on Linux.
const CLOCK_TICKS_PER_S: f64 = 100.0;

/// The process's user + system time so far, in clock ticks (threads that ended
/// included).
fn cpu_ticks() -> Result<u64, BenchError> {
    let stat = std::fs::read_to_string("/proc/self/stat").map_err(err)?;
    stat_cpu_ticks(&stat).ok_or_else(|| BenchError("/proc/self/stat is unreadable".into()))
}

/// `utime + stime` of a `/proc/PID/stat` line (fields 14 and 15; the command name, in
/// parentheses, may hold spaces).
pub(super) fn stat_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (the state).
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Voluntary and involuntary context switches of the process's live threads.
fn context_switches() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("status")).ok())
        .map(|s| {
            status_kib(&s, "voluntary_ctxt_switches").unwrap_or(0)
                + status_kib(&s, "nonvoluntary_ctxt_switches").unwrap_or(0)
        })
        .sum()
}

/// Creates and parks `ports` port-ins, [`SEEDERS`] at a time.
async fn seed(sb: &Sandbox, ports: u64) -> Result<(), BenchError> {
    let rules = Arc::new(sb.gateway.config.porting.market(Market::EuFr));
    let now = crate::clock::Clock::new().now_ms();
    let days = cutover_days(&rules, now);
    if days.is_empty() {
        return Err(BenchError("no French cutover day in the next weeks".into()));
    }
    let days = Arc::new(days);
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..SEEDERS {
        let (store, keys) = (sb.gateway.store.clone(), sb.gateway.keys.clone());
        let (rules, days, next) = (rules.clone(), days.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Relaxed);
                if i >= ports {
                    return Ok(());
                }
                let day = days[(i % days.len() as u64) as usize];
                park_one(&*store, &keys, &rules, i, day).await?;
            }
        }));
    }
    for t in tasks {
        t.await.map_err(err)??;
    }
    Ok(())
}

/// The working days a French port could be scheduled on, from tomorrow on.
fn cutover_days(rules: &MarketPorting, now: u64) -> Vec<Day> {
    let first = rules.calendar().local_day(now);
    (2..DAYS_AHEAD)
        .map(|d| first.plus(d as i64))
        .filter(|day| schedule::schedule(rules, now, Some(*day)).is_ok())
        .collect()
}

/// One port-in, from its create commit to its park, as the engine would write it.
async fn park_one(
    store: &dyn crate::store::StoreAdmin,
    keys: &crate::crypto::Keyring,
    rules: &MarketPorting,
    i: u64,
    day: Day,
) -> Result<(), BenchError> {
    let now = crate::clock::Clock::new().now_ms();
    let number: sim_profiles::Msisdn = (FIRST_NUMBER + i).to_string().parse().map_err(err)?;
    let order_id = format!("act_parked{i:07}");
    let plan = schedule::schedule(rules, now, Some(day)).map_err(err)?;
    let credential = SealedCredential {
        code: Some(rio(number.as_str())?),
        account_number: None,
        pin: None,
    };
    let plain = zeroize::Zeroizing::new(serde_json::to_vec(&credential).map_err(err)?);
    let sealed = keys
        .seal(&port_credential_context(&order_id), &plain)
        .map_err(err)?;
    let port = PortIn::new(
        Market::EuFr,
        number.clone(),
        "SFR".into(),
        sealed,
        schedule::credential_expires_at(rules, now),
        Some(plan.cutover_at),
    );
    let created = store
        .create_activation(NewActivation {
            tenant: TENANT.into(),
            idempotency_key: format!("bench-parked-{i}"),
            body_hash: format!("bench-parked-{i}"),
            order_id: order_id.clone(),
            sim: SimChoice::Physical(super::inventory::iccid(i)?),
            number: NumberChoice::Ported(number),
            product: crate::sandbox::PRODUCT.into(),
            channel: None,
            subscriber: None,
            now_ms: now,
            random: i,
            idempotency_cutoff_ms: 0,
            compliance: None,
            port: Some(port),
            send_ahead: None,
        })
        .await
        .map_err(err)?;
    let CreateOutcome::Created(order) = created else {
        return Err(BenchError(format!("port {i} not created: {created:?}")));
    };
    // The hub submit, recorded before and after as `run_port_step` does.
    let order = port_order::mark_port_sent(order, PortOp::Submit, 1, now);
    let event = EventKind::StepSent {
        step: PortOp::Submit.name().into(),
        attempt: 1,
    };
    write(store, &order, event).await?;
    let port_ref = format!("EGP-FR-B{i:07}");
    let policy = RetryPolicy {
        max_attempts: 1,
        base_ms: 1,
        max_ms: 1,
    };
    let answered = Attempt::new(1, &policy, 0, now);
    let order = port_order::on_port_answer(
        order,
        PortOp::Submit,
        answered,
        PortAnswer::Done(port_ref.clone()),
    );
    let event = EventKind::StepAnswered {
        step: PortOp::Submit.name().into(),
        attempt: 1,
        result: format!("ok: {port_ref}"),
    };
    write(store, &order, event).await?;
    // The hub's two messages, each applied in its own commit.
    let mut order = order;
    for (sequence, event, actor) in [
        (1, HubEvent::Accepted, Actor::Donor),
        (2, HubEvent::Scheduled, Actor::Hub),
    ] {
        let m = HubMessage {
            message_id: hub_ref(&format!("m-b{i:07}-{sequence}"))?,
            port_ref: hub_ref(&port_ref)?,
            sequence,
            at: utc(now)?,
            actor,
            reference: Some(hub_ref(&order_id)?),
            due_at: Some(utc(plan.cutover_at)?),
            lock_at: Some(utc(plan.lock_at)?),
            range_holder: None,
            event,
        };
        order = port_order::apply_hub(order, &m, now);
        let what = format!("applied hub/{}", m.message_id.as_str());
        write(store, &order, EventKind::Port { what }).await?;
    }
    let Action::Park(due) = crate::engine::machine::next_action(&order, now) else {
        return Err(BenchError(format!(
            "port {i} would not park: {:?}",
            crate::engine::machine::next_action(&order, now)
        )));
    };
    let parked = port_order::park(order, due, now);
    if !store.park_port(parked).await.map_err(err)? {
        return Err(BenchError(format!("port {i} not parked")));
    }
    Ok(())
}

async fn write(
    store: &dyn crate::store::StoreAdmin,
    order: &Order,
    event: EventKind,
) -> Result<(), BenchError> {
    store
        .advance_order(order.clone(), Effect::None, event)
        .await
        .map_err(err)
}

fn hub_ref(s: &str) -> Result<Ref, BenchError> {
    Ref::parse(s, "ref").map_err(err)
}

fn utc(ms: u64) -> Result<UtcTime, BenchError> {
    UtcTime::from_unix_ms(ms).ok_or_else(|| BenchError(format!("{ms} is out of range")))
}

/// A RIO with its control key for French mobile `number` (E.164).
fn rio(number: &str) -> Result<String, BenchError> {
    let head = b"01P123456";
    let national = crate::porting::rio::national_number(number)
        .ok_or_else(|| BenchError(format!("{number} is not a French mobile number")))?;
    let key = crate::porting::rio::control_key(head, &national)
        .ok_or_else(|| BenchError("no RIO control key".into()))?;
    let mut out = head.to_vec();
    out.extend_from_slice(&key);
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_read_past_a_command_name_with_spaces() {
        let line =
            "4242 (tokio (rt) w) S 1 4242 4242 0 -1 4194304 100 0 0 0 731 52 0 0 20 0 9 0 1 2 3";
        assert_eq!(stat_cpu_ticks(line), Some(783));
        assert_eq!(stat_cpu_ticks("4242 (x) S 1"), None);
        assert_eq!(stat_cpu_ticks("garbage"), None);
    }
}

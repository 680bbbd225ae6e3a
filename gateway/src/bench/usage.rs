//! What a phase cost the machine: the process's CPU time and the embedded store writer's
//! (its one thread, which every durable write goes through), read from `/proc` at the
//! phase's edges, with the writer's commits and the time it spent in them (apply, commit
//! and fsync) from the metrics. It tells a phase bound by the writer (busy committing most
//! of the phase) from one bound by the two cores (the process near two CPU-seconds per
//! second) or by neither (the clients' round trips). Linux only; elsewhere the CPU figures
//! read 0.

use crate::metrics::Metrics;
use serde::Serialize;
use std::ops::AddAssign;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

/// The kernel's clock tick for `/proc/PID/stat` times (USER_HZ, 100 on every Linux ABI).
const USER_HZ: u64 = 100;

/// The counters at one instant (`used.wall` unused).
#[derive(Clone, Copy)]
pub(super) struct Sample {
    at: Instant,
    used: Usage,
}

impl Sample {
    /// Reads the counters now.
    pub(super) fn take(m: &Metrics) -> Self {
        let (writer_cpu, writer_waiting) = writer_sched().unwrap_or_default();
        let used = Usage {
            wall: Duration::ZERO,
            cpu: process_cpu().unwrap_or_default(),
            writer_cpu,
            writer_waiting,
            commits: m.store_commits.load(Relaxed),
            ops: m.store_ops.load(Relaxed),
            committing: m.store_commit_latency.sum(),
        };
        Self {
            at: Instant::now(),
            used,
        }
    }

    /// What was used from `self` until `later`.
    pub(super) fn until(&self, later: &Sample) -> Usage {
        let mut u = later
            .used
            .zip(self.used, Duration::saturating_sub, u64::saturating_sub);
        u.wall = later.at.saturating_duration_since(self.at);
        u
    }
}

/// Use over one stretch, or the sum of several (a phase's rounds).
#[derive(Clone, Copy, Default, Debug, PartialEq)]
pub(super) struct Usage {
    wall: Duration,
    cpu: Duration,
    writer_cpu: Duration,
    writer_waiting: Duration,
    commits: u64,
    ops: u64,
    committing: Duration,
}

impl AddAssign for Usage {
    fn add_assign(&mut self, o: Usage) {
        *self = self.zip(o, |a, b| a + b, |a, b| a + b);
    }
}

/// A phase's use, per order, as the report keeps it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub(super) struct UsageFigures {
    /// The process's CPU time (every thread: API, engine, simulators, bench clients) per
    /// succeeded order, ms.
    pub(super) cpu_ms_per_order: f64,
    /// CPU-seconds per second over the phase (2 means both cores of this machine busy).
    pub(super) cores_busy: f64,
    /// The store writer thread's CPU time per succeeded order, ms.
    pub(super) writer_cpu_ms_per_order: f64,
    /// The writer's time ready to run but waiting for a core, per succeeded order, ms.
    pub(super) writer_waiting_ms_per_order: f64,
    /// The share of the phase the writer spent committing groups (apply, commit, fsync).
    pub(super) writer_busy: f64,
    /// Durable commits in the phase.
    pub(super) commits: u64,
    /// Store operations folded into them.
    pub(super) ops: u64,
    /// `--store postgres`: the database server's CPU time (its postmaster and backends)
    /// per succeeded order, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) database_cpu_ms_per_order: Option<f64>,
    /// Its CPU-seconds per second over the phase.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) database_cores_busy: Option<f64>,
}

impl Usage {
    /// Every field of `self` and `o` combined by `d` (durations) or `n` (counts).
    fn zip(
        self,
        o: Usage,
        d: impl Fn(Duration, Duration) -> Duration,
        n: impl Fn(u64, u64) -> u64,
    ) -> Usage {
        Usage {
            wall: d(self.wall, o.wall),
            cpu: d(self.cpu, o.cpu),
            writer_cpu: d(self.writer_cpu, o.writer_cpu),
            writer_waiting: d(self.writer_waiting, o.writer_waiting),
            commits: n(self.commits, o.commits),
            ops: n(self.ops, o.ops),
            committing: d(self.committing, o.committing),
        }
    }

    /// Per order of `orders`.
    pub(super) fn figures(&self, orders: usize) -> UsageFigures {
        let per = |d| ms_per(d, orders);
        let share = |d| per_second(d, self.wall);
        UsageFigures {
            cpu_ms_per_order: per(self.cpu),
            cores_busy: share(self.cpu),
            writer_cpu_ms_per_order: per(self.writer_cpu),
            writer_waiting_ms_per_order: per(self.writer_waiting),
            writer_busy: share(self.committing),
            commits: self.commits,
            ops: self.ops,
            database_cpu_ms_per_order: None,
            database_cores_busy: None,
        }
    }
}

impl UsageFigures {
    /// Adds the database server's CPU time `cpu` over `wall`, for `orders` orders.
    pub(super) fn database(&mut self, cpu: Duration, wall: Duration, orders: usize) {
        self.database_cpu_ms_per_order = Some(ms_per(cpu, orders));
        self.database_cores_busy = Some(per_second(cpu, wall));
    }

    /// The database server's report line.
    pub(super) fn database_line(&self) -> String {
        format!(
            "database           {:.3} ms of the PostgreSQL server's CPU per order ({:.2} cores busy)",
            self.database_cpu_ms_per_order.unwrap_or_default(),
            self.database_cores_busy.unwrap_or_default()
        )
    }

    /// The report line; the writer's part only where the embedded store's writer committed
    /// in the phase (not on PostgreSQL, whose server's CPU is not this process's).
    pub(super) fn line(&self) -> String {
        let process = format!(
            "{:.3} ms of this process's CPU per order ({:.2} cores busy)",
            self.cpu_ms_per_order, self.cores_busy
        );
        if self.commits == 0 || self.writer_cpu_ms_per_order == 0.0 {
            return process;
        }
        format!(
            "{process}; store writer per order {:.3} ms on the CPU and {:.3} waiting for it, committing {:.0} % of the time, {} commits of {:.1} operations",
            self.writer_cpu_ms_per_order,
            self.writer_waiting_ms_per_order,
            self.writer_busy * 100.0,
            self.commits,
            self.ops as f64 / self.commits.max(1) as f64
        )
    }
}

/// `d` per order of `orders`, in ms.
fn ms_per(d: Duration, orders: usize) -> f64 {
    d.as_secs_f64() * 1000.0 / orders.max(1) as f64
}

/// Seconds of `d` per second of `wall` (0 over no time).
fn per_second(d: Duration, wall: Duration) -> f64 {
    let wall = wall.as_secs_f64();
    if wall > 0.0 {
        d.as_secs_f64() / wall
    } else {
        0.0
    }
}

/// User plus system time of `/proc/self/stat` (every thread of the process).
fn process_cpu() -> Option<Duration> {
    stat_cpu(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// utime + stime of a `stat` line; the command name in parentheses may hold spaces.
fn stat_cpu(stat: &str) -> Option<Duration> {
    ticks_sum(&stat_fields(stat)?, &[UTIME, STIME])
}

/// Indexes into [`stat_fields`]: utime, stime, cutime and cstime (fields 14 to 17), the
/// parent's pid (field 4).
const UTIME: usize = 11;
const STIME: usize = 12;
const CUTIME: usize = 13;
const CSTIME: usize = 14;
const PPID: usize = 1;

/// The sum of the tick counts at `at` in `fields`.
fn ticks_sum(fields: &[&str], at: &[usize]) -> Option<Duration> {
    at.iter().map(|&i| ticks(fields.get(i)?)).sum()
}

/// The fields of a `stat` line after the command name: state (field 3) first.
fn stat_fields(stat: &str) -> Option<Vec<&str>> {
    Some(stat.rsplit_once(')')?.1.split_whitespace().collect())
}

fn ticks(field: &str) -> Option<Duration> {
    Some(Duration::from_millis(
        field.parse::<u64>().ok()? * 1000 / USER_HZ,
    ))
}

/// The CPU time of a server process and its children (PostgreSQL's postmaster and its
/// backends): their user and system time, and the postmaster's children that have
/// exited (its cutime and cstime). 0 where `/proc` is missing.
pub(super) fn tree_cpu(root: u32) -> Duration {
    let read = |pid: &str| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok();
    let Some(own) = read(&root.to_string()) else {
        return Duration::ZERO;
    };
    let mut total = stat_fields(&own)
        .and_then(|f| ticks_sum(&f, &[UTIME, STIME, CUTIME, CSTIME]))
        .unwrap_or_default();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return total;
    };
    let parent = root.to_string();
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Some(stat) = read(pid) else { continue };
        if stat_fields(&stat).and_then(|f| f.get(PPID).copied()) == Some(parent.as_str()) {
            total += stat_cpu(&stat).unwrap_or_default();
        }
    }
    total
}

/// The store writer thread's time on the CPU and waiting for one (`schedstat`:
/// nanoseconds run, nanoseconds runnable on a run queue), if it runs here.
fn writer_sched() -> Option<(Duration, Duration)> {
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        // Thread names are cut to 15 bytes (`simgw-store-wri`).
        if comm.starts_with("simgw-store-w") {
            let s = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
            let mut f = s.split_whitespace().map(|n| n.parse().ok());
            let (run, wait) = (f.next()??, f.next()??);
            return Some((Duration::from_nanos(run), Duration::from_nanos(wait)));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_times_are_read_after_the_name() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
        // utime stime …; a name with spaces and a parenthesis must not shift the fields.
        let stat = "42 (simgw (x) y) S 1 42 42 0 -1 4194560 100 0 0 0 250 37 0 0 20 0 9";
        assert_eq!(stat_cpu(stat), Some(Duration::from_millis(2_870)));
        assert_eq!(stat_cpu("42 (simgw) S 1"), None);
        // cutime and cstime (fields 16 and 17) are what `tree_cpu` adds for exited children.
        let f = stat_fields(stat).expect("fields");
        assert_eq!((f[PPID], f[CUTIME], f[CSTIME]), ("1", "0", "0"));
        assert_eq!(
            ticks_sum(&f, &[UTIME, STIME, CUTIME]),
            Some(Duration::from_millis(2_870))
        );
        assert_eq!(ticks_sum(&f, &[UTIME, 99]), None);
    }

    #[test]
    fn a_process_tree_counts_its_root() {
        // This test's process as the root: the tree holds at least the CPU time the
        // process had used when read before it.
        if let Some(before) = process_cpu() {
            let mut x = 0u64;
            // Burn until the kernel has counted some of it (ticks are 10 ms).
            while process_cpu().is_some_and(|now| now < before + Duration::from_millis(20)) {
                x = x.wrapping_add(std::hint::black_box(1));
            }
            assert!(x > 0);
            assert!(tree_cpu(std::process::id()) >= before + Duration::from_millis(20));
        }
        assert_eq!(tree_cpu(u32::MAX), Duration::ZERO);
    }

    #[test]
    fn a_stretch_is_the_later_sample_less_the_earlier() {
        let used = |cpu_ms, commits| Usage {
            cpu: Duration::from_millis(cpu_ms),
            commits,
            ..Usage::default()
        };
        let at = Instant::now();
        let a = Sample {
            at,
            used: used(500, 7),
        };
        let b = Sample {
            at: at + Duration::from_secs(3),
            used: used(2_000, 10),
        };
        let u = a.until(&b);
        assert_eq!(
            (u.wall, u.cpu, u.commits),
            (Duration::from_secs(3), Duration::from_millis(1_500), 3)
        );
        // Counters never run backwards into a negative stretch.
        assert_eq!(b.until(&a).cpu, Duration::ZERO);
    }

    #[test]
    fn figures_are_per_order_and_per_second_of_the_phase() {
        let u = Usage {
            wall: Duration::from_secs(2),
            cpu: Duration::from_secs(3),
            writer_cpu: Duration::from_millis(500),
            writer_waiting: Duration::from_millis(100),
            commits: 10,
            ops: 250,
            committing: Duration::from_millis(1_800),
        };
        let mut sum = Usage::default();
        sum += u;
        sum += u;
        let f = sum.figures(2_000);
        assert_eq!(f.cpu_ms_per_order, 3.0);
        assert_eq!(f.cores_busy, 1.5);
        assert_eq!(f.writer_cpu_ms_per_order, 0.5);
        assert_eq!(f.writer_waiting_ms_per_order, 0.1);
        assert!((f.writer_busy - 0.9).abs() < 1e-12);
        assert_eq!((f.commits, f.ops), (20, 500));
        assert!(f.line().contains("25.0 operations"), "{}", f.line());
        let mut with_db = f;
        with_db.database(Duration::from_secs(4), Duration::from_secs(2), 2_000);
        assert_eq!(with_db.database_cpu_ms_per_order, Some(2.0));
        assert_eq!(with_db.database_cores_busy, Some(2.0));
        assert!(
            with_db.database_line().contains("2.000 ms"),
            "{}",
            with_db.database_line()
        );
        let idle = Usage::default().figures(0);
        assert_eq!(idle.cores_busy, 0.0);
        // No writer commits (PostgreSQL): the process's part only.
        assert!(!idle.line().contains("writer"), "{}", idle.line());
    }
}

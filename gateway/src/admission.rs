//! Admission control: the backlog of orders the engine has accepted and not yet finished,
//! bounded per tenant and overall, and the projected wait from the recent completion rate.
//!
//! The backlog counts every order the engine drives (new, resumed at start-up, reopened
//! for cancellation) plus the admissions whose store transaction is still running, so a
//! restart starts from the store's non-terminal orders and concurrent requests can never
//! overshoot a bound. Time comes from tokio's clock (a paused test clock pauses the rate).

use crate::clock::Clock;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

/// The bounds in force (`[admission]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most orders in the backlog over all tenants.
    pub overall: u64,
    /// Most orders in the backlog of one tenant.
    pub per_tenant: u64,
}

/// Which bound refused an admission.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Full {
    /// The gateway's overall bound.
    Overall,
    /// The tenant's own bound.
    Tenant,
}

impl Full {
    /// The label used in problem documents and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Overall => "overall",
            Self::Tenant => "tenant",
        }
    }
}

/// The backlog and its completion rate; shared by the API (admission) and the engine.
#[derive(Debug, Default)]
pub struct Backlog {
    clock: Clock,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    overall: u64,
    tenants: BTreeMap<String, u64>,
    rate: CompletionRate,
    refused_overall: u64,
    refused_tenant: u64,
}

impl State {
    fn add(&mut self, tenant: &str, now_ms: u64) {
        self.overall += 1;
        *self.tenants.entry(tenant.to_owned()).or_default() += 1;
        self.rate.set_busy(now_ms, true);
    }

    fn remove(&mut self, tenant: &str, now_ms: u64) {
        self.overall = self.overall.saturating_sub(1);
        if let Some(n) = self.tenants.get_mut(tenant) {
            *n = n.saturating_sub(1);
        }
        self.rate.set_busy(now_ms, self.overall > 0);
    }
}

/// A place in the backlog held while an admitted request is being stored. Dropping it
/// gives the place back; the engine takes its own place when it starts driving the order.
#[derive(Debug)]
pub struct Slot<'a> {
    backlog: &'a Backlog,
    tenant: String,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let now_ms = self.backlog.clock.now_ms();
        self.backlog.lock().remove(&self.tenant, now_ms);
    }
}

/// The backlog at one instant.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// Orders in the backlog over all tenants.
    pub overall: u64,
    /// Orders in the backlog by tenant (tenants seen since start, zeros included).
    pub tenants: Vec<(String, u64)>,
    /// Orders finished per second, averaged over about the last minute of busy time.
    pub completion_rate: f64,
    /// Admissions refused so far because the overall bound was reached.
    pub refused_overall: u64,
    /// Admissions refused so far because a tenant's bound was reached.
    pub refused_tenant: u64,
}

impl Snapshot {
    /// Seconds the current backlog needs to drain at the recent completion rate; `None`
    /// while orders wait and none has finished recently (no rate to project from).
    pub fn projected_wait_s(&self) -> Option<f64> {
        if self.overall == 0 {
            Some(0.0)
        } else if self.completion_rate > 0.0 {
            Some(self.overall as f64 / self.completion_rate)
        } else {
            None
        }
    }

    /// What `Retry-After` advises when the backlog is full: the time for a tenth of the
    /// backlog to finish (when a tenth has turned over, places are free again), between 1
    /// and 60 seconds; 60 when nothing finishes at all.
    pub fn retry_after_s(&self) -> u32 {
        match self.projected_wait_s() {
            Some(w) => (w / 10.0).ceil().clamp(1.0, 60.0) as u32,
            None => 60,
        }
    }
}

impl Backlog {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the counters half-updated (each
        // update is a few integer operations), so a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a place for a new order of `tenant`, or says which bound is reached.
    pub fn try_reserve(&self, tenant: &str, limits: Limits) -> Result<Slot<'_>, Full> {
        let now_ms = self.clock.now_ms();
        let mut s = self.lock();
        if s.overall >= limits.overall {
            return Err(Full::Overall);
        }
        if s.tenants.get(tenant).copied().unwrap_or(0) >= limits.per_tenant {
            return Err(Full::Tenant);
        }
        s.add(tenant, now_ms);
        Ok(Slot {
            backlog: self,
            tenant: tenant.to_owned(),
        })
    }

    /// Counts a request refused because `bound` was reached.
    pub fn refused(&self, bound: Full) {
        let mut s = self.lock();
        match bound {
            Full::Overall => s.refused_overall += 1,
            Full::Tenant => s.refused_tenant += 1,
        }
    }

    /// The engine starts driving an order of `tenant`.
    pub fn enter(&self, tenant: &str) {
        let now_ms = self.clock.now_ms();
        self.lock().add(tenant, now_ms);
    }

    /// The engine stops driving an order of `tenant`: `finished` when the order reached
    /// a terminal state (counted in the completion rate), not when the engine stopped.
    pub fn leave(&self, tenant: &str, finished: bool) {
        let now_ms = self.clock.now_ms();
        let mut s = self.lock();
        if finished {
            s.rate.complete(now_ms);
        }
        s.remove(tenant, now_ms);
    }

    /// The backlog now.
    pub fn snapshot(&self) -> Snapshot {
        let now_ms = self.clock.now_ms();
        let s = self.lock();
        Snapshot {
            overall: s.overall,
            tenants: s.tenants.iter().map(|(t, n)| (t.clone(), *n)).collect(),
            completion_rate: s.rate.per_second(now_ms),
            refused_overall: s.refused_overall,
            refused_tenant: s.refused_tenant,
        }
    }
}

/// Time constant of the completion-rate average, in seconds.
const TAU_S: f64 = 60.0;

/// Completions per second as an exponentially weighted average over busy time (time with a
/// non-empty backlog), time constant one minute. Idle time is not observed: nothing can
/// finish while nothing waits, so an idle hour neither dilutes the rate nor forgets it.
/// The average is bias-corrected for the busy time seen so far, so it is unbiased from
/// the first completions after start-up rather than creeping up over a minute.
#[derive(Clone, Debug, Default)]
pub struct CompletionRate {
    /// Completions, each weighted e^(-busy time since it / τ).
    weight: f64,
    /// Busy time observed, in ms.
    busy_ms: u64,
    /// When `weight` and `busy_ms` were last brought forward.
    last_ms: Option<u64>,
    /// Whether the backlog is non-empty since `last_ms`.
    busy: bool,
}

impl CompletionRate {
    /// `(weight, busy_ms)` brought forward to `now_ms`.
    fn at(&self, now_ms: u64) -> (f64, u64) {
        match self.last_ms {
            Some(last) if self.busy => {
                let dt = now_ms.saturating_sub(last);
                (
                    self.weight * (-(dt as f64) / 1000.0 / TAU_S).exp(),
                    self.busy_ms.saturating_add(dt),
                )
            }
            _ => (self.weight, self.busy_ms),
        }
    }

    fn advance(&mut self, now_ms: u64) {
        (self.weight, self.busy_ms) = self.at(now_ms);
        self.last_ms = Some(now_ms.max(self.last_ms.unwrap_or(0)));
    }

    /// The backlog became (or stays) empty or non-empty at `now_ms`.
    pub fn set_busy(&mut self, now_ms: u64, busy: bool) {
        self.advance(now_ms);
        self.busy = busy;
    }

    /// One order finished at `now_ms`.
    pub fn complete(&mut self, now_ms: u64) {
        self.advance(now_ms);
        self.weight += 1.0;
    }

    /// The average rate at `now_ms`, completions per second.
    pub fn per_second(&self, now_ms: u64) -> f64 {
        let (weight, busy_ms) = self.at(now_ms);
        if weight <= 0.0 {
            return 0.0;
        }
        // A constant rate λ over busy time B gives weight λτ(1 − e^(−B/τ)). B is taken as
        // at least a second so a first completion right after start is not read as a burst.
        let b = (busy_ms.max(1_000) as f64) / 1000.0;
        weight / (TAU_S * (1.0 - (-b / TAU_S).exp()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        overall: 3,
        per_tenant: 2,
    };

    #[test]
    fn bounds_per_tenant_then_overall_and_slots_give_back() {
        let b = Backlog::default();
        let a1 = b.try_reserve("a", LIMITS).expect("a1");
        let _a2 = b.try_reserve("a", LIMITS).expect("a2");
        assert_eq!(b.try_reserve("a", LIMITS).err(), Some(Full::Tenant));
        let _b1 = b.try_reserve("b", LIMITS).expect("b1");
        assert_eq!(b.try_reserve("b", LIMITS).err(), Some(Full::Overall));
        drop(a1);
        b.refused(Full::Tenant);
        let snap = b.snapshot();
        assert_eq!(snap.overall, 2);
        assert_eq!(snap.tenants, vec![("a".into(), 1), ("b".into(), 1)]);
        assert_eq!((snap.refused_overall, snap.refused_tenant), (0, 1));
        assert!(
            b.try_reserve("b", LIMITS).is_ok(),
            "a's place is free again"
        );
    }

    #[test]
    fn engine_places_count_against_the_bound() {
        let b = Backlog::default();
        b.enter("a");
        b.enter("a");
        assert_eq!(b.try_reserve("a", LIMITS).err(), Some(Full::Tenant));
        b.leave("a", true);
        let held = b.try_reserve("a", LIMITS).expect("a place is free");
        assert_eq!(b.snapshot().overall, 2);
        drop(held);
        assert_eq!(b.snapshot().overall, 1);
    }

    #[test]
    fn a_steady_rate_is_measured_from_the_first_seconds() {
        let mut r = CompletionRate::default();
        r.set_busy(0, true);
        // 50 completions a second for 5 s.
        for i in 1..=250u64 {
            r.complete(i * 20);
        }
        let rate = r.per_second(5_000);
        assert!((rate - 50.0).abs() < 1.0, "{rate}");
        // And after ten minutes of the same.
        for i in 251..=30_000u64 {
            r.complete(i * 20);
        }
        let rate = r.per_second(600_000);
        assert!((rate - 50.0).abs() < 1.0, "{rate}");
    }

    #[test]
    fn idle_time_neither_dilutes_nor_forgets_the_rate() {
        let mut r = CompletionRate::default();
        r.set_busy(0, true);
        for i in 1..=100u64 {
            r.complete(i * 100);
        }
        r.set_busy(10_000, false);
        let before = r.per_second(10_000);
        assert!((before - 10.0).abs() < 0.5, "{before}");
        assert_eq!(
            r.per_second(3_600_000),
            before,
            "an idle hour changes nothing"
        );
        // Busy again with nothing finishing: the rate decays with busy time.
        r.set_busy(3_600_000, true);
        let later = r.per_second(3_660_000);
        assert!(later < before * 0.5, "{later} vs {before}");
    }

    #[test]
    fn projected_wait_and_retry_after() {
        let snap = |overall, completion_rate| Snapshot {
            overall,
            tenants: Vec::new(),
            completion_rate,
            refused_overall: 0,
            refused_tenant: 0,
        };
        assert_eq!(snap(0, 0.0).projected_wait_s(), Some(0.0));
        assert_eq!(snap(5, 0.0).projected_wait_s(), None);
        assert_eq!(snap(5, 0.0).retry_after_s(), 60);
        assert_eq!(snap(1_000, 100.0).projected_wait_s(), Some(10.0));
        assert_eq!(snap(1_000, 100.0).retry_after_s(), 1);
        assert_eq!(snap(20_000, 100.0).retry_after_s(), 20);
        assert_eq!(snap(20_000, 1.0).retry_after_s(), 60);
    }
}

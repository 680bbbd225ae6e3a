//! The soak's report: counts per kind and outcome, the faults each simulator injected,
//! the notifications, the keys, the reconciliation and (for a crash loop) the kills;
//! what failed, if anything (a want of stock apart from the gateway's defects), and what
//! was not checked where the gateway runs. One shape for the terminal and `--json`; built by pure
//! functions from the ledger and the checks.

use super::drive::{Answered, Driven, Entry};
use super::faults::Injected;
use super::reconciled::Reconciliation;
use super::verify::{Final, Keys, Notifications, Verified};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Counts of one kind of order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KindCounts {
    /// Requests sent (one Idempotency-Key each).
    pub sent: u64,
    /// Of those, sent because no line fitted the kind drawn (or its stock was out).
    pub instead_of_another: u64,
    /// Answered `202`.
    pub accepted: u64,
    /// Answered otherwise, by `status code`.
    pub refused: BTreeMap<String, u64>,
    /// Never answered before the deadline.
    pub unanswered: u64,
    /// Accepted orders by final status.
    pub outcomes: BTreeMap<String, u64>,
    /// Failed orders by error code.
    pub failed: BTreeMap<String, u64>,
    /// Accepted orders not in one of the kind's terminal statuses.
    pub open: u64,
    /// Seconds from the first POST until the order was seen ended: median.
    pub p50_s: f64,
    /// 90th percentile.
    pub p90_s: f64,
    /// Longest.
    pub max_s: f64,
    /// Orders that need an operator, by reason (the gateway could not settle something
    /// itself: under faults it is built to survive, a defect).
    pub attention: BTreeMap<String, u64>,
}

/// Orders over every kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Requests sent (one Idempotency-Key each).
    pub sent: u64,
    /// Answered `202`.
    pub accepted: u64,
    /// Ended `active` or `completed`.
    pub succeeded: u64,
    /// Ended `failed` or in a port's own failure (`port_rejected`, …).
    pub failed: u64,
    /// Not ended.
    pub open: u64,
}

impl Totals {
    fn of(kinds: &BTreeMap<String, KindCounts>) -> Self {
        let mut t = Self::default();
        for c in kinds.values() {
            t.sent += c.sent;
            t.accepted += c.accepted;
            t.open += c.open;
            for (status, n) in &c.outcomes {
                match status.as_str() {
                    "active" | "completed" => t.succeeded += n,
                    _ => t.failed += n,
                }
            }
        }
        // An order not ended is in `outcomes` too, under its current status.
        t.failed = t.failed.saturating_sub(t.open);
        t
    }
}

/// The crash loop's own counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Crashes {
    /// SIGKILLs while the load ran.
    pub kills: u32,
    /// Of those, kills with at least one of the soak's orders in flight.
    pub kills_under_load: u32,
    /// The soak's orders in flight at each kill.
    pub in_flight_at_kills: Vec<usize>,
    /// Starts of the gateway process (the first included).
    pub starts: u32,
    /// Mean seconds from a start until its `sandbox.json` was written.
    pub mean_start_s: f64,
    /// Where the gateway's stderr went.
    pub log: String,
}

/// Refusals that mean the deployment's stock ran out (or an earlier run used it): no card,
/// eSIM profile or number left. Not a gateway defect.
pub(crate) const OUT_OF_STOCK: [&str; 3] = [
    "sim_not_available",
    "esim_stock_out",
    "number_pool_exhausted",
];

/// What the run was.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Meta {
    /// `soak`, `crash_loop` or `target`.
    pub mode: &'static str,
    /// With `--target`: the base URL of the gateway the soak ran against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Order indexes the load could send (`--orders`).
    pub orders: u64,
    /// `--seed`.
    pub seed: u64,
    /// `--concurrency`.
    pub concurrency: usize,
    /// `--faults`.
    pub faults: &'static str,
    /// The weight of each kind.
    pub mix: BTreeMap<String, u32>,
    /// Wall time of the whole run, seconds.
    pub seconds: f64,
    /// Of which: starting the sandbox (seeding its stock), seconds.
    pub start_s: f64,
    /// Sending the orders and following them to their end (with the kills), seconds.
    pub load_s: f64,
    /// The checks after the load, seconds.
    pub checks_s: f64,
}

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// What was run.
    #[serde(flatten)]
    pub meta: Meta,
    /// True when nothing in `failures`.
    pub passed: bool,
    /// Why the run failed (empty when it passed).
    pub failures: Vec<String>,
    /// Counts per kind.
    pub kinds: BTreeMap<String, KindCounts>,
    /// Over every kind.
    pub totals: Totals,
    /// Injections each simulator counted, by fault.
    pub injected: Injected,
    /// POSTs answered 503/429, and POSTs that got no answer (each sent again, same key).
    pub post_retries: BTreeMap<&'static str, u64>,
    /// Reads of the soak's orders until each ended (`GET /v1/orders/{id}`).
    pub order_reads: u64,
    /// The SM-DP+'s notifications.
    pub notifications: Notifications,
    /// Times the porting hub's clock was moved forward (12 hours each).
    pub hub_clock_moves: u64,
    /// Order indexes not sent: no card left.
    pub exhausted: u64,
    /// Requests refused for want of stock (codes in `OUT_OF_STOCK`: `sim_not_available`,
    /// `esim_stock_out`, `number_pool_exhausted`): the deployment's stock, not a defect.
    pub out_of_stock: u64,
    /// Lines the soak opened and had not terminated at the end.
    pub lines: usize,
    /// The Idempotency-Keys.
    pub keys: Keys,
    /// The reconciliation of every tenant.
    pub reconciliation: Option<Reconciliation>,
    /// Checks not made where the gateway runs, each with why (against a target).
    pub not_checked: Vec<String>,
    /// Orders not ended (at most 50): id, kind and status.
    pub open: Vec<String>,
    /// Orders that need an operator (at most 50): id, kind and reasons.
    pub attention: Vec<String>,
    /// The crash loop's counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crashes: Option<Crashes>,
}

impl Report {
    /// The report of a run: `driven` is the load's ledger, `verified` the checks (its
    /// `finals` parallel to `driven.entries`).
    pub(crate) fn new(
        meta: Meta,
        driven: &Driven,
        verified: Verified,
        injected: Injected,
        crashes: Option<Crashes>,
    ) -> Self {
        let (kinds, named) = count(&driven.entries, &verified.finals);
        let mut r = Self {
            meta,
            passed: false,
            failures: Vec::new(),
            totals: Totals::of(&kinds),
            kinds,
            injected,
            post_retries: BTreeMap::from([
                ("unavailable", driven.unavailable),
                ("unreachable", driven.unreachable),
            ]),
            order_reads: driven.reads,
            notifications: verified.notifications,
            hub_clock_moves: driven.hub_ticks,
            exhausted: driven.exhausted,
            out_of_stock: out_of_stock(&driven.entries),
            lines: driven.lines,
            keys: verified.keys,
            reconciliation: verified.reconciliation,
            not_checked: verified.not_checked,
            open: named.open.iter().take(50).cloned().collect(),
            attention: named.attention.iter().take(50).cloned().collect(),
            crashes,
        };
        r.failures = failures(&r, &named, &driven.problems, &verified.problems);
        r.passed = r.failures.is_empty();
        r
    }

    /// The JSON form (`--json`).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The text form, for a terminal.
    pub fn text(&self) -> String {
        let mut s = String::new();
        let m = &self.meta;
        let mode = match &m.target {
            Some(url) => format!("{} {url}", m.mode),
            None => m.mode.to_owned(),
        };
        let _ = writeln!(
            s,
            "simgw soak ({mode}): {} orders, faults {}, seed {}, {} clients, {:.1} s (start {:.1} s, load {:.1} s, checks {:.1} s)",
            m.orders, m.faults, m.seed, m.concurrency, m.seconds, m.start_s, m.load_s, m.checks_s
        );
        let _ = writeln!(
            s,
            "{:<14} {:>6} {:>8} {:>8} {:>8} {:>6} {:>17}  outcomes",
            "kind", "sent", "instead", "accepted", "refused", "open", "p50/p90/max s"
        );
        for (kind, c) in &self.kinds {
            let outcomes: Vec<String> =
                c.outcomes.iter().map(|(k, n)| format!("{k} {n}")).collect();
            let _ = writeln!(
                s,
                "{kind:<14} {:>6} {:>8} {:>8} {:>8} {:>6} {:>17}  {}",
                c.sent,
                c.instead_of_another,
                c.accepted,
                c.refused.values().sum::<u64>() + c.unanswered,
                c.open,
                format!("{:.1}/{:.1}/{:.1}", c.p50_s, c.p90_s, c.max_s),
                outcomes.join(", ")
            );
            if !c.failed.is_empty() {
                let codes: Vec<String> = c.failed.iter().map(|(k, n)| format!("{k} {n}")).collect();
                let _ = writeln!(s, "{:<14} failed: {}", "", codes.join(", "));
            }
            if !c.attention.is_empty() {
                let codes: Vec<String> = c
                    .attention
                    .iter()
                    .map(|(k, n)| format!("{k} {n}"))
                    .collect();
                let _ = writeln!(s, "{:<14} need an operator: {}", "", codes.join(", "));
            }
            if !c.refused.is_empty() {
                let codes: Vec<String> =
                    c.refused.iter().map(|(k, n)| format!("{k} {n}")).collect();
                let _ = writeln!(s, "{:<14} refused: {}", "", codes.join(", "));
            }
        }
        let t = &self.totals;
        let _ = writeln!(
            s,
            "orders: {} sent, {} accepted, {} active or completed, {} failed, {} not ended",
            t.sent, t.accepted, t.succeeded, t.failed, t.open
        );
        for (sim, faults) in &self.injected {
            let f: Vec<String> = faults.iter().map(|(k, n)| format!("{k} {n}")).collect();
            let total: u64 = faults.values().sum();
            let _ = writeln!(s, "injected {sim:<12} {total:>6}: {}", f.join(", "));
        }
        let _ = writeln!(
            s,
            "POSTs sent again with their key: {} answered 503/429, {} unanswered; {} reads of orders until they ended",
            self.post_retries.get("unavailable").unwrap_or(&0),
            self.post_retries.get("unreachable").unwrap_or(&0),
            self.order_reads
        );
        let n = &self.notifications;
        let _ = match (n.expected, n.handled, n.delivered) {
            (Some(e), Some(h), Some(d)) => writeln!(
                s,
                "ES2+ notifications: {e} expected, {h} handled, {d} delivered"
            ),
            _ => writeln!(
                s,
                "ES2+ notifications: not counted (the SM-DP+'s delivery log restarts with the process)"
            ),
        };
        let _ = writeln!(
            s,
            "eSIM profiles downloaded and installed by their customer: {}, {} shown installed by their activation (points 3 and 4)",
            n.installed, n.shown
        );
        if self.hub_clock_moves > 0 {
            let _ = writeln!(
                s,
                "porting hub clock moved {} times by {} h",
                self.hub_clock_moves,
                super::drive::HUB_TICK.as_secs() / 3600
            );
        }
        if self.out_of_stock > 0 || self.exhausted > 0 {
            let _ = writeln!(
                s,
                "stock: {} requests refused for want of a card, eSIM profile or number, {} orders not sent for want of a card (not gateway defects)",
                self.out_of_stock, self.exhausted
            );
        }
        let k = &self.keys;
        let store = match k.store_orders {
            Some(n) => format!(
                "{n} orders in the store, {} unanswered, {} missing",
                k.unanswered_orders.len(),
                k.missing_orders.len()
            ),
            None => "the store's orders not listed".to_owned(),
        };
        let _ = writeln!(
            s,
            "keys: {} accepted, {} retried before their answer, {} replayed to the same order; {store}",
            k.accepted, k.retried, k.replayed_same,
        );
        match &self.reconciliation {
            Some(r) => {
                let _ = write!(s, "{}", r.text());
            }
            None => {
                let _ = writeln!(s, "reconciliation: did not run");
            }
        }
        if let Some(c) = &self.crashes {
            let _ = writeln!(
                s,
                "crash loop: {} kills (SIGKILL), {} with orders in flight {:?}; {} starts, {:.1} s mean start; gateway log {}",
                c.kills, c.kills_under_load, c.in_flight_at_kills, c.starts, c.mean_start_s, c.log
            );
        }
        for o in &self.open {
            let _ = writeln!(s, "open {o}");
        }
        for o in &self.attention {
            let _ = writeln!(s, "needs an operator {o}");
        }
        for n in &self.not_checked {
            let _ = writeln!(s, "not checked: {n}");
        }
        if self.passed {
            let _ = writeln!(s, "PASSED");
        } else {
            let _ = writeln!(s, "FAILED:");
            for f in &self.failures {
                let _ = writeln!(s, "  {f}");
            }
        }
        s
    }
}

/// What the counts name one by one: orders not ended (`id kind status`) and orders that
/// need an operator (`id kind reasons`).
#[derive(Default)]
struct Named {
    open: Vec<String>,
    attention: Vec<String>,
}

/// Counts per kind, and the orders named one by one.
fn count(entries: &[Entry], finals: &[Option<Final>]) -> (BTreeMap<String, KindCounts>, Named) {
    let mut kinds: BTreeMap<String, KindCounts> = BTreeMap::new();
    let mut open = Vec::new();
    let mut attention = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let c = kinds.entry(e.kind.to_owned()).or_default();
        c.sent += 1;
        if e.instead_of.is_some() {
            c.instead_of_another += 1;
        }
        match &e.answer {
            Answered::Accepted(id) => {
                c.accepted += 1;
                match finals.get(i).cloned().flatten() {
                    Some(f) => {
                        *c.outcomes.entry(f.status.clone()).or_default() += 1;
                        if let Some(code) = &f.error {
                            *c.failed.entry(code.clone()).or_default() += 1;
                        }
                        for a in &f.attention {
                            *c.attention.entry(a.clone()).or_default() += 1;
                        }
                        if !f.attention.is_empty() {
                            attention.push(format!("{id} {} {}", e.kind, f.attention.join(",")));
                        }
                        if !f.ended {
                            c.open += 1;
                            open.push(format!("{id} {} {}", e.kind, f.status));
                        }
                    }
                    None => {
                        c.open += 1;
                        open.push(format!("{id} {} unread", e.kind));
                    }
                }
            }
            Answered::Refused { status, code } => {
                *c.refused.entry(format!("{status} {code}")).or_default() += 1;
            }
            Answered::Unanswered => c.unanswered += 1,
        }
    }
    let mut took: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for e in entries.iter().filter(|e| e.ended) {
        took.entry(e.kind).or_default().push(e.took.as_secs_f64());
    }
    for (kind, mut t) in took {
        t.sort_by(f64::total_cmp);
        if let Some(c) = kinds.get_mut(kind) {
            let at = |q: f64| {
                t.get(((t.len() - 1) as f64 * q) as usize)
                    .copied()
                    .unwrap_or(0.0)
            };
            (c.p50_s, c.p90_s, c.max_s) = (at(0.5), at(0.9), at(1.0));
        }
    }
    (kinds, Named { open, attention })
}

/// Why the run failed.
fn failures(r: &Report, named: &Named, load: &[String], checks: &[String]) -> Vec<String> {
    let mut f = Vec::new();
    if !named.open.is_empty() {
        f.push(format!("{} accepted orders did not end", named.open.len()));
    }
    if !named.attention.is_empty() {
        f.push(format!(
            "{} orders need an operator: {}",
            named.attention.len(),
            first(&named.attention)
        ));
    }
    let refused: u64 = r.kinds.values().flat_map(|c| c.refused.values()).sum();
    if r.out_of_stock > 0 {
        f.push(format!(
            "{} requests were refused for want of stock ({}): the deployment's cards, eSIM \
             profiles or numbers ran out (or an earlier run used them); not a gateway defect: \
             give it more stock or send fewer --orders",
            r.out_of_stock,
            OUT_OF_STOCK.join(", ")
        ));
    }
    if refused > r.out_of_stock {
        f.push(format!(
            "{} requests were refused",
            refused - r.out_of_stock
        ));
    }
    let unanswered: u64 = r.kinds.values().map(|c| c.unanswered).sum();
    if unanswered > 0 {
        f.push(format!("{unanswered} requests were never answered"));
    }
    match &r.reconciliation {
        Some(rec) if !rec.clean => f.push(format!(
            "reconciliation: {} difference(s), {} unchecked",
            rec.differences,
            rec.unchecked.len()
        )),
        Some(_) => {}
        None => f.push("reconciliation did not run".into()),
    }
    let k = &r.keys;
    if !k.replay_mismatches.is_empty() {
        f.push(format!(
            "{} keys answered another order when sent again: {}",
            k.replay_mismatches.len(),
            first(&k.replay_mismatches)
        ));
    }
    if !k.unanswered_orders.is_empty() {
        f.push(format!(
            "{} orders in the store no key was answered (a key with two orders): {}",
            k.unanswered_orders.len(),
            first(&k.unanswered_orders)
        ));
    }
    if !k.missing_orders.is_empty() {
        f.push(format!(
            "{} accepted orders are not in the store: {}",
            k.missing_orders.len(),
            first(&k.missing_orders)
        ));
    }
    let n = &r.notifications;
    if let (Some(e), Some(h), Some(d)) = (n.expected, n.handled, n.delivered) {
        if h < e || d < h {
            f.push(format!(
                "ES2+ notifications: {e} expected, {h} handled, {d} delivered"
            ));
        }
    }
    if n.shown < n.installed {
        f.push(format!(
            "ES2+ notifications: {} of {} eSIM profiles their customer installed are not shown installed by their activation: {}",
            n.installed - n.shown,
            n.installed,
            first(&n.not_shown)
        ));
    }
    if r.meta.faults != "none" && r.injected.values().flat_map(|m| m.values()).sum::<u64>() == 0 {
        f.push("faults were asked for, but no simulator injected any".into());
    }
    if let Some(c) = &r.crashes {
        if c.kills_under_load < c.kills {
            f.push(format!(
                "only {} of {} kills came with orders in flight: the load ended too early (raise --orders)",
                c.kills_under_load, c.kills
            ));
        }
    }
    f.extend(load.iter().chain(checks).cloned());
    f
}

/// Requests refused with one of the [`OUT_OF_STOCK`] codes.
fn out_of_stock(entries: &[Entry]) -> u64 {
    let stock = |e: &&Entry| matches!(&e.answer, Answered::Refused { code, .. } if OUT_OF_STOCK.contains(&code.as_str()));
    entries.iter().filter(stock).count() as u64
}

fn first(items: &[String]) -> String {
    let shown: Vec<&str> = items.iter().take(5).map(String::as_str).collect();
    let more = if items.len() > shown.len() {
        ", …"
    } else {
        ""
    };
    format!("{}{more}", shown.join(", "))
}

#[cfg(test)]
mod tests;

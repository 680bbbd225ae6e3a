//! `simgw bench --port-in`: a port-in's own cost next to a physical activation's, in one
//! run and one tenant. The sandbox tenant takes the market of `--port-market` (`uk` by
//! default, or `eu-generic`; a permissive policy either way, identity optional as in the
//! UK, so both phases make the same compliance checks), then:
//!
//! 1. **baseline**: `--activations` physical activations on a new number, timed until
//!    each is `active`;
//! 2. **measured**: as many port-ins, each on its own SIM and number, through the
//!    porting-hub simulator at zero latency (donor answers at once, no faults), timed
//!    until each is `active` on its ported number. UK (a PAC, donor `EE`): the create
//!    commit with a temporary number, the HLR subscriber on it, the submit to the hub,
//!    its `accepted` and `scheduled` messages, the park, `locked` and `cutover`, the HLR
//!    number change, the acknowledgement, `completed`, and the temporary number
//!    quarantined. EU generic (a national code): no temporary number, so the HLR
//!    subscriber is created on the ported number at `cutover` (one HLR call, as an
//!    activation's) and the rest is the port's own: the submit, the hub's messages and
//!    the acknowledgement.
//!
//! The two phases are interleaved in `--rounds` rounds (4 by default): each round times a
//! share of the physical activations, then as many port-ins, and each phase's rate is its
//! orders over the sum of its rounds' times. On a machine whose speed drifts during a
//! run (a shared VM), one block of each put the drift between the phases into their
//! ratio, and the port-ins ran on a store the whole baseline had grown first; interleaved,
//! both phases see the same drift and a store of about the same size. `--rounds 1` runs
//! one block of each, as before.
//!
//! Calendar time is what a port waits for, not work: the hub's clock is driven by the
//! bench, which moves it [`HUB_STEP`] (4 days: past any lock, 17:00 on D-1, and cutover,
//! 09:00 on the next working day D, in either market) every `--hub-tick-ms`, so a
//! scheduled port is cut over at the next tick, and the latencies include that wait (at
//! most one tick).
//! The gateway's own clock runs in real time: its port deadlines (the lock point, the
//! cutover plus 2 h) lie days ahead and never fire during the run; hub messages move
//! every order, as they would in production.

use super::load::{Post, Posted, Settled, await_terminal, phase, post_all, print_phase};
use super::report::{PortInFigures, Report, ratio};
use super::usage::{Sample, Usage};
use super::{BenchArgs, BenchError, err, record};
use crate::compliance::Market;
use crate::order::{Order, OrderStatus};
use crate::sandbox::Sandbox;
use crate::store::AdminChange;
use adapters::http::HttpClient;
use conformance::porting_sim::{ClockMode, PortState, PortingSimHandle};
use std::time::Duration;
use tokio::time::Instant;

/// How far the hub's clock moves at each tick: from any instant, past the next lock and
/// cutover (a Friday evening's port is due on Tuesday at 09:00).
pub(super) const HUB_STEP: Duration = Duration::from_secs(4 * 86_400);

/// What a port-in of the measured market sends.
struct PortMarket {
    market: Market,
    /// The run ports `first_number + i`, outside the sandbox tenant's own block.
    first_number: u64,
    donor: &'static str,
    credential: &'static str,
    /// What one port-in does, for the phase's heading.
    steps: &'static str,
}

impl PortMarket {
    fn of(market: Market) -> Self {
        match market {
            Market::EuGeneric => Self {
                market,
                // A German mobile range.
                first_number: 4_915_110_000_000,
                donor: "DE-DONOR",
                credential: "X1Y2Z3",
                steps: "hub submit, accepted, scheduled, locked, cutover, HLR create, acknowledgement, completed",
            },
            _ => Self {
                market: Market::Uk,
                // UK mobile range.
                first_number: 447_911_000_000,
                donor: "EE",
                credential: "ABC123456",
                steps: "temporary number, HLR create, hub submit, accepted, scheduled, locked, cutover, HLR number change, acknowledgement, completed",
            },
        }
    }

    fn name(&self) -> &'static str {
        match self.market {
            Market::EuGeneric => "EU generic",
            _ => "UK",
        }
    }
}

/// Runs both phases against a started sandbox and prints the report.
pub(super) async fn run(
    args: &BenchArgs,
    sb: &Sandbox,
    client: &HttpClient,
    seeded_in: Duration,
    report: &mut Report,
) -> Result<(), BenchError> {
    let n = args.activations as usize;
    let iccids = &sb.info.physical_iccids;
    if iccids.len() < 2 * n {
        return Err(BenchError(format!(
            "the sandbox has {} SIMs for 2 × {n}",
            iccids.len()
        )));
    }
    let pm = PortMarket::of(args.port_market);
    set_market(sb, pm.market).await?;
    let hub = &sb.porting.sim;
    let tick = Duration::from_millis(args.hub_tick_ms.max(1));
    hub.set_delivery_lanes(args.hub_lanes);
    hub.set_delivery_batch(args.hub_batch);
    println!(
        "simgw bench --port-in: {n} physical activations and {n} {} port-ins, {} clients, HLR and hub latency {} / 0 ms, seeded in {:.1} s",
        pm.name(),
        args.concurrency,
        args.hlr_latency_ms,
        seeded_in.as_secs_f64()
    );
    println!(
        "the hub's clock is driven: {} days every {} ms (each scheduled port is locked and cut over at the next tick); the gateway's runs in real time; the hub has up to {} deliveries in flight, each of up to {} messages of as many ports, each port's in order",
        HUB_STEP.as_secs() / 86_400,
        tick.as_millis(),
        args.hub_lanes.max(1),
        args.hub_batch.clamp(1, adapters::porting::MAX_BATCH)
    );
    let auth = format!("Bearer {}", sb.info.api_key);
    let deadline = Duration::from_secs(args.deadline_s);
    let m = &sb.gateway.metrics;
    let rounds = shares(n, args.rounds);
    println!(
        "-- {} round(s), each a share of the {n} physical activations on a new number (same tenant and policy), each until `active`, then as many {} port-ins, each until `active` on its ported number ({})",
        rounds.len(),
        pm.name(),
        pm.steps
    );
    let (mut base, mut ports) = (Tally::default(), Tally::default());
    let (mut base_use, mut ports_use) = (Usage::default(), Usage::default());
    let (mut ticks, mut events0) = (0, 0);
    // The hub hears only from port-ins; the HLR from both phases, so it is read per round.
    let hub0 = hub.counts();
    let hlr = || {
        sb.hlr_sim
            .as_ref()
            .map(|s| hlr_creates_and_sets(&s.counts()))
    };
    let mut hlr_calls = (0, 0);
    for (r, share) in rounds.iter().cloned().enumerate() {
        let started = Instant::now();
        let at = Sample::take(m);
        let posts = physical(sb, &iccids[share.clone()], share.start);
        let posted = post_all(client, &auth, posts, args.concurrency).await?;
        let settled =
            await_terminal(sb, &posted.ids, OrderStatus::Active, started, deadline).await?;
        base_use += at.until(&Sample::take(m));
        let physical_s = settled.done_in.as_secs_f64();
        base.absorb(posted, settled);

        events0 = sb.gateway.store.event_count().await.map_err(err)?;
        let hlr0 = hlr();
        let driver = HubClock::start(hub.clone(), tick);
        let started = Instant::now();
        let at = Sample::take(m);
        let posts = port_ins(sb, &pm, &iccids[n..2 * n][share.clone()], share.start);
        let posted = post_all(client, &auth, posts, args.concurrency).await;
        let settled = match posted {
            Ok(p) => await_terminal(sb, &p.ids, OrderStatus::Active, started, deadline)
                .await
                .map(|s| (p, s)),
            Err(e) => Err(e),
        };
        ports_use += at.until(&Sample::take(m));
        ticks += driver.stop().await;
        let (posted, settled) = settled?;
        if let (Some((c0, s0)), Some((c1, s1))) = (hlr0, hlr()) {
            hlr_calls = (hlr_calls.0 + c1 - c0, hlr_calls.1 + s1 - s0);
        }
        println!(
            "round {}/{}: {} physical activations in {physical_s:.2} s, {} port-ins in {:.2} s",
            r + 1,
            rounds.len(),
            share.len(),
            share.len(),
            settled.done_in.as_secs_f64()
        );
        ports.absorb(posted, settled);
    }

    println!("-- baseline: physical activations on a new number (same tenant and policy)");
    let mut phys = phase("physical", &base.posted, &base.settled);
    phys.usage = Some(base_use.figures(phys.succeeded));
    print_phase(
        &phys,
        &base.posted,
        &base.settled,
        "active",
        "activations/s",
    );
    let physical_rate = phys.per_s;
    record(report, phys, base.settled);

    println!(
        "-- timed: {} port-ins, each until `active` on its ported number",
        pm.name()
    );
    let (posted, mut settled) = (ports.posted, ports.settled);
    let mut ports = phase("port_in", &posted, &settled);
    let used = ports_use.figures(ports.succeeded);
    let (commits, ops) = (used.commits, used.ops);
    (ports.store_commits, ports.store_ops) = (commits, ops);
    ports.usage = Some(used);
    print_phase(&ports, &posted, &settled, "active", "port-ins/s");
    let done = ports.succeeded;
    let port_rate = ports.per_s;
    let orders = std::mem::take(&mut settled.orders);
    let open: Vec<String> = settled.open.iter().map(|(id, _)| id.clone()).collect();
    record(report, ports, settled);

    let per = |x: u64| x as f64 / done.max(1) as f64;
    let hub1 = hub.counts();
    let messages = hub1.delivered.saturating_sub(hub0.delivered);
    let posts = hub1.delivered_posts.saturating_sub(hub0.delivered_posts);
    let figures = PortInFigures {
        physical_per_s: physical_rate,
        port_ins_per_s: port_rate,
        ratio_to_physical: ratio(port_rate, physical_rate),
        hub_tick_ms: tick.as_millis() as u64,
        hub_lanes: args.hub_lanes.max(1),
        hub_batch: args.hub_batch.clamp(1, adapters::porting::MAX_BATCH),
        rounds: rounds.len(),
        hub_ticks: ticks,
        hub_messages_per_port: per(messages),
        hub_posts_per_port: per(posts),
        store_ops_per_port: per(ops),
    };
    println!(
        "durable commits {commits} for {ops} store operations ({:.1} per fsync; {:.1} store operations per port-in)",
        ops as f64 / commits.max(1) as f64,
        figures.store_ops_per_port
    );
    println!(
        "porting hub: {:.2} messages delivered per port-in in {:.2} POSTs, {} clock ticks",
        figures.hub_messages_per_port, figures.hub_posts_per_port, ticks
    );
    hub_view_of_open(sb, &open).await?;
    let undelivered = hub1.undelivered.saturating_sub(hub0.undelivered);
    if undelivered > 0 {
        println!(
            "porting hub: {undelivered} messages given up undelivered after their retries (the gateway refused them or did not answer; their ports wait for their deadlines)"
        );
    }
    if sb.hlr_sim.is_some() {
        let (creates, sets) = hlr_calls;
        println!(
            "HLR simulator: {:.2} Create and {:.2} Set per port-in",
            per(creates),
            per(sets)
        );
    }
    // One of the last round's, whose history starts at `events0`.
    if let Some(o) = orders
        .iter()
        .rev()
        .find(|o| o.status == OrderStatus::Active)
    {
        let writes = history_of(sb, events0, &o.id).await?;
        println!(
            "one port-in's {} order writes, its history: {}; its {:.0} hub messages recorded as they arrived (a delivery's in one store operation), each applied in that operation when the port was parked (`applied on arrival`; a delivery's consecutive messages for one parked port move it in one order write), else by the engine with any others waiting (`applied`)",
            o.version,
            writes.join(", "),
            figures.hub_messages_per_port
        );
    }
    read_back(sb, hub, &orders)?;
    println!(
        "port-in / physical: {port_rate:.0} / {physical_rate:.0} per s = {:.2} (target at least 0.5)",
        figures.ratio_to_physical
    );
    report.port_in = Some(figures);
    if done < posted.ids.len() || posted.failures > 0 {
        return Err(err(format!(
            "{} port-ins refused, {} orders not active",
            posted.failures,
            posted.ids.len() - done
        )));
    }
    Ok(())
}

/// Puts the sandbox tenant in `market` (its default policy; port-ins follow the market's
/// porting rules).
async fn set_market(sb: &Sandbox, market: Market) -> Result<(), BenchError> {
    let store = &sb.gateway.store;
    let mut tenant = store
        .tenant(&sb.info.tenant)
        .await
        .map_err(err)?
        .ok_or_else(|| BenchError("the sandbox tenant is missing".into()))?;
    tenant.market = Some(market);
    // Identity is optional in the UK; a generic EU market requires it (EECC). Off here as
    // in the UK, so that both phases make the same compliance checks.
    if market != Market::Uk {
        tenant.compliance = Some(Box::new(crate::compliance::PolicyOverride {
            identity_required: Some(false),
            ..Default::default()
        }));
    }
    crate::admin::apply(&**store, AdminChange::PutTenant(tenant))
        .await
        .map_err(err)
}

/// The shares of `n` orders that `rounds` rounds take, in order, together `0..n` (at most
/// `n` rounds, at least one).
fn shares(n: usize, rounds: usize) -> Vec<std::ops::Range<usize>> {
    let rounds = rounds.clamp(1, n.max(1));
    (0..rounds)
        .map(|r| r * n / rounds..(r + 1) * n / rounds)
        .collect()
}

/// The HLR simulator's Create and Set operations so far (subscriber and AuC).
fn hlr_creates_and_sets(c: &conformance::hlr_sim::SimCounts) -> (u64, u64) {
    (
        c.create.gsm_hlr + c.create.gsm_auc,
        c.set.gsm_hlr + c.set.gsm_auc,
    )
}

/// What one phase of the rounds sent and got back.
#[derive(Default)]
struct Tally {
    posted: Posted,
    settled: Settled,
}

impl Tally {
    fn absorb(&mut self, posted: Posted, settled: Settled) {
        self.posted.absorb(posted);
        self.settled.absorb(settled);
    }
}

/// One activation per SIM; `first`: the index of the first in the whole phase.
fn physical(sb: &Sandbox, iccids: &[String], first: usize) -> Vec<Post> {
    let url = format!("{}/v1/activations", sb.info.base_url);
    iccids
        .iter()
        .zip(first..)
        .map(|(iccid, i)| Post {
            url: url.clone(),
            idempotency_key: format!("bench-{i}"),
            body: serde_json::json!({
                "sim": {"type": "physical", "iccid": iccid},
                "product": sb.info.product,
            })
            .to_string(),
        })
        .collect()
}

/// One port-in per SIM, each of its own number; `first`: the index of the first in the
/// whole phase.
fn port_ins(sb: &Sandbox, pm: &PortMarket, iccids: &[String], first: usize) -> Vec<Post> {
    let url = format!("{}/v1/activations", sb.info.base_url);
    iccids
        .iter()
        .zip(first..)
        .map(|(iccid, i)| Post {
            url: url.clone(),
            idempotency_key: format!("bench-port-{i}"),
            body: serde_json::json!({
                "sim": {"type": "physical", "iccid": iccid},
                "product": sb.info.product,
                "msisdn": {
                    "mode": "port_in",
                    "number": (pm.first_number + i as u64).to_string(),
                    "donor": pm.donor,
                    "credential": pm.credential,
                },
            })
            .to_string(),
        })
        .collect()
}

/// The history of order `id` since event `from`, in order, as the internal event log
/// names its steps (each written by one store operation, several of them by one write).
async fn history_of(sb: &Sandbox, from: u64, id: &str) -> Result<Vec<String>, BenchError> {
    use crate::store::EventKind as K;
    let mut out = Vec::new();
    let mut at = from;
    loop {
        let page = sb.gateway.store.events(at, 10_000).await.map_err(err)?;
        let Some(last) = page.last() else {
            return Ok(out);
        };
        at = last.seq + 1;
        for e in page.iter().filter(|e| e.order_id.as_deref() == Some(id)) {
            out.push(match &e.kind {
                K::OrderCreated => "created".into(),
                K::StepSent { step, .. } => format!("{step} sent"),
                K::StepAnswered { step, .. } => format!("{step} answered"),
                K::OrderActive => "active".into(),
                // `applied hub/m-…`, `applied on arrival hub/m-…`, `woken by hub/m-…`: the
                // message ids say nothing here.
                K::Port { what } => what
                    .split(" hub/")
                    .next()
                    .unwrap_or(what)
                    .trim_end_matches(" by")
                    .to_owned(),
                other => format!("{other:?}"),
            });
        }
    }
}

/// Checks what the orders claim against the simulators: every active port-in runs on
/// its ported number at the HLR, and the hub has its port completed.
fn read_back(sb: &Sandbox, hub: &PortingSimHandle, orders: &[Order]) -> Result<(), BenchError> {
    let mut wrong = Vec::new();
    for o in orders.iter().filter(|o| o.status == OrderStatus::Active) {
        let Some(p) = &o.port else {
            wrong.push(format!("{}: no port part", o.id));
            continue;
        };
        let on_hlr = sb
            .hlr_sim
            .as_ref()
            .and_then(|s| s.hlr(&o.imsi))
            .map(|h| h.msisdn.to_string());
        if o.msisdn != p.number || on_hlr.as_deref() != Some(p.number.as_str()) {
            wrong.push(format!("{}: HLR has {on_hlr:?}", o.id));
        }
        let at_hub = p.port_ref.as_deref().and_then(|r| hub.port(r));
        if at_hub.map(|v| v.state) != Some(PortState::Completed) {
            wrong.push(format!("{}: hub port not completed", o.id));
        }
    }
    if wrong.is_empty() {
        println!(
            "read back: every active port-in is on its ported number at the HLR, and completed at the hub"
        );
        return Ok(());
    }
    Err(BenchError(format!(
        "{} active port-ins disagree with the simulators: {}",
        wrong.len(),
        wrong.iter().take(5).cloned().collect::<Vec<_>>().join("; ")
    )))
}

/// The task that drives the hub's clock during the measured phase.
struct HubClock {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<u64>,
}

impl HubClock {
    /// Switches the hub's clock to driven and moves it [`HUB_STEP`] every `tick`.
    fn start(hub: PortingSimHandle, tick: Duration) -> Self {
        hub.set_clock_mode(ClockMode::Driven);
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            let mut ticks = 0;
            let mut every = tokio::time::interval(tick);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = every.tick() => {
                        hub.advance(HUB_STEP);
                        ticks += 1;
                    }
                    _ = stopped.changed() => return ticks,
                }
            }
        });
        Self { stop, task }
    }

    /// Stops the ticks; how many there were.
    async fn stop(self) -> u64 {
        let _ = self.stop.send(true);
        self.task.await.unwrap_or(0)
    }
}

/// For up to five port-ins still open at the deadline (`open`, as `await_terminal` found
/// them): the hub's state of the port (its reference read from the order), to tell a port
/// the hub never moved from a message the gateway never applied.
async fn hub_view_of_open(sb: &Sandbox, open: &[String]) -> Result<(), BenchError> {
    for id in open.iter().take(5) {
        let order = sb
            .gateway
            .store
            .get_order(crate::sandbox::TENANT, id)
            .await
            .map_err(err)?;
        let port_ref = order.and_then(|o| o.port.and_then(|p| p.port_ref));
        let view = port_ref.as_deref().and_then(|r| sb.porting.sim.port(r));
        match view {
            Some(v) => println!(
                "hub's view of {id}: {} {:?}, lock {:?}, due {:?}",
                v.port_ref, v.state, v.lock_at, v.due_at
            ),
            None => println!("hub's view of {id}: no port ({port_ref:?})"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::shares;

    /// Every order in exactly one round, in order, the rounds' sizes a unit apart at most.
    #[test]
    fn the_rounds_share_the_orders_between_them() {
        for n in [0, 1, 3, 7, 8, 6000, 8001] {
            for rounds in [0, 1, 2, 4, 5, 9] {
                let got = shares(n, rounds);
                assert_eq!(got.len(), rounds.clamp(1, n.max(1)), "{n} in {rounds}");
                assert_eq!(got.first().map(|r| r.start), Some(0));
                assert_eq!(got.last().map(|r| r.end), Some(n));
                assert!(got.windows(2).all(|w| w[0].end == w[1].start));
                let sizes = got.iter().map(|r| r.len());
                let (lo, hi) = (sizes.clone().min(), sizes.max());
                assert!(
                    hi.zip(lo).is_some_and(|(h, l)| h - l <= 1),
                    "{n} in {rounds}"
                );
            }
        }
    }
}

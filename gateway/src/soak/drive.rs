//! The load: `concurrency` workers over HTTPS, each taking the next order index, drawing
//! its kind from the mix, sending it (again with the same Idempotency-Key while the
//! gateway answers 503/429 or cannot be reached), following it until it ends, and
//! handing what it left to the line pool. Every key used is in the ledger, with what
//! the gateway answered and where the order ended. While port-ins are open, a pump moves
//! the porting hub's clock forward (and releases messages it held back).

use super::kinds::{AdminCall, Ctx, Line, Request, SoakKind, Stock, shows_installed, status};
use super::lines::Lines;
use super::mix::{Mix, draw, salt};
use super::target::{AdminError, Answer, Sim, Target, Tenant};
use http::Method;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// What to send.
pub(crate) struct Load {
    /// Most orders (order indexes `0..orders`).
    pub(crate) orders: u64,
    /// The run's seed.
    pub(crate) seed: u64,
    /// The run's serial (0 in process; drawn against a target): in every key, and offsets
    /// the values that must be new on the deployment ([`super::kinds::Ctx::serial`]).
    pub(crate) serial: u64,
    /// Workers, each with one order in flight.
    pub(crate) concurrency: usize,
    /// From the start: no order is sent, and none waited for, after this.
    pub(crate) deadline: Duration,
    /// The kinds, in registry order.
    pub(crate) kinds: Vec<Arc<dyn SoakKind>>,
    /// Their weights.
    pub(crate) mix: Mix,
    /// Fraction of port-in numbers the donor rejects.
    pub(crate) rejected_ports: f64,
    /// Fraction of new eSIM lines the customer downloads.
    pub(crate) downloads: f64,
}

/// Shared with the caller while the load runs.
#[derive(Debug, Default)]
pub(crate) struct Control {
    /// Set: workers take no new order (each finishes the one it has).
    pub(crate) stop: AtomicBool,
    /// Orders being sent or followed right now.
    pub(crate) in_flight: AtomicUsize,
}

/// What the gateway answered to one Idempotency-Key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answered {
    /// `202` with this order id.
    Accepted(String),
    /// Another status (not 503/429), with the problem's code.
    Refused {
        /// The status.
        status: u16,
        /// `code` of the problem body (empty if none).
        code: String,
    },
    /// No answer but 503/429 or a failed connection until the deadline.
    Unanswered,
}

/// One Idempotency-Key the soak used, and what became of its order.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The kind sent.
    pub(crate) kind: &'static str,
    /// The kind drawn, when no line fitted it (or its stock was out) and an activation
    /// went instead.
    pub(crate) instead_of: Option<&'static str>,
    /// Whose key.
    pub(crate) tenant: Tenant,
    /// The Idempotency-Key.
    pub(crate) key: String,
    /// The request, to send it again with the same key.
    pub(crate) request: Request,
    /// POSTs with this key.
    pub(crate) attempts: u32,
    /// The answer.
    pub(crate) answer: Answered,
    /// The order's last public status seen.
    pub(crate) status: Option<String>,
    /// Its error code, if it failed.
    pub(crate) error: Option<String>,
    /// Whether it reached one of its kind's terminal statuses.
    pub(crate) ended: bool,
    /// Whether the customer downloaded and installed the eSIM profile it opened (every
    /// call answered): the order must come to show it ([`shows_installed`]).
    pub(crate) installed: bool,
    /// From its first POST until it was seen ended (or given up on).
    pub(crate) took: Duration,
}

/// What the load did.
#[derive(Debug, Default)]
pub(crate) struct Driven {
    /// Every key used.
    pub(crate) entries: Vec<Entry>,
    /// Notices the customers' downloads and installs made the SM-DP+ queue.
    pub(crate) notices: u64,
    /// Order indexes skipped: no card left for any kind that could go.
    pub(crate) exhausted: u64,
    /// 503/429 answers to POSTs (each retried with the same key).
    pub(crate) unavailable: u64,
    /// POSTs that got no answer (each retried with the same key).
    pub(crate) unreachable: u64,
    /// Reads of orders not ended yet (`GET /v1/orders/{id}`).
    pub(crate) reads: u64,
    /// Times the hub's clock was moved.
    pub(crate) hub_ticks: u64,
    /// Lines free at the end.
    pub(crate) lines: usize,
    /// Simulator calls that failed (a refused download, a donor not set).
    pub(crate) problems: Vec<String>,
}

/// How far each pump tick moves the hub's clock: a UK port (locked 17:00 the working day
/// before, cut over at 09:00) completes within half a dozen ticks even over a weekend.
pub(crate) const HUB_TICK: Duration = Duration::from_secs(12 * 3600);
/// Pause between pump ticks.
const HUB_PAUSE: Duration = Duration::from_millis(150);
/// First pause between two reads of an order that has not ended; it grows by half each
/// read, up to [`MAX_POLL`] (reads cost the gateway too).
const FIRST_POLL: Duration = Duration::from_millis(40);
/// Longest pause between two reads.
const MAX_POLL: Duration = Duration::from_millis(500);
/// Longest wait for an activation to show the install its customer made (the SM-DP+'s
/// notifications go out after the answer; a restart delays them by its start).
const INSTALL_WITHIN: Duration = Duration::from_secs(60);

struct Shared {
    target: Arc<Target>,
    load: Arc<Load>,
    stock: Stock,
    lines: Lines,
    next: AtomicU64,
    control: Arc<Control>,
    started: Instant,
    entries: Mutex<Vec<Entry>>,
    problems: Mutex<Vec<String>>,
    notices: AtomicU64,
    exhausted: AtomicU64,
    unavailable: AtomicU64,
    unreachable: AtomicU64,
    reads: AtomicU64,
    hub_waiting: AtomicUsize,
}

/// Runs the load until every index was sent (or `control.stop` is set), and every order
/// sent ended or the deadline passed.
pub(crate) async fn drive(target: Arc<Target>, load: Arc<Load>, control: Arc<Control>) -> Driven {
    let stock = Stock::new(&target.info());
    let shared = Arc::new(Shared {
        target,
        load: load.clone(),
        stock,
        lines: Lines::default(),
        next: AtomicU64::new(0),
        control,
        started: Instant::now(),
        entries: Mutex::new(Vec::new()),
        problems: Mutex::new(Vec::new()),
        notices: AtomicU64::new(0),
        exhausted: AtomicU64::new(0),
        unavailable: AtomicU64::new(0),
        unreachable: AtomicU64::new(0),
        reads: AtomicU64::new(0),
        hub_waiting: AtomicUsize::new(0),
    });
    let hub = load
        .kinds
        .iter()
        .zip(load.mix.weights())
        .any(|(k, w)| *w > 0 && k.waits_for_hub());
    let pumping = Arc::new(AtomicBool::new(true));
    let pump = hub.then(|| tokio::spawn(pump_hub(shared.clone(), pumping.clone())));
    let workers: Vec<_> = (0..load.concurrency.max(1))
        .map(|_| {
            let s = shared.clone();
            tokio::spawn(async move {
                while !s.control.stop.load(Relaxed) {
                    let index = s.next.fetch_add(1, Relaxed);
                    if index >= s.load.orders {
                        break;
                    }
                    s.control.in_flight.fetch_add(1, Relaxed);
                    s.one(index).await;
                    s.control.in_flight.fetch_sub(1, Relaxed);
                }
            })
        })
        .collect();
    for w in workers {
        if let Err(e) = w.await {
            shared.problem(format!("a load worker ended abnormally: {e}"));
        }
    }
    pumping.store(false, Relaxed);
    let hub_ticks = match pump {
        Some(p) => p.await.unwrap_or(0),
        None => 0,
    };
    Driven {
        entries: take(&shared.entries),
        notices: shared.notices.load(Relaxed),
        exhausted: shared.exhausted.load(Relaxed),
        unavailable: shared.unavailable.load(Relaxed),
        unreachable: shared.unreachable.load(Relaxed),
        reads: shared.reads.load(Relaxed),
        hub_ticks,
        lines: shared.lines.len(),
        problems: take(&shared.problems),
    }
}

/// Empties a shared list.
fn take<T>(m: &Mutex<Vec<T>>) -> Vec<T> {
    match m.lock() {
        Ok(mut v) => std::mem::take(&mut *v),
        Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
    }
}

/// Moves the hub's clock while port-ins are open; answers how many times it did.
async fn pump_hub(s: Arc<Shared>, running: Arc<AtomicBool>) -> u64 {
    let mut ticks = 0;
    let advance = json!({ "ms": HUB_TICK.as_millis() as u64 });
    while running.load(Relaxed) {
        tokio::time::sleep(HUB_PAUSE).await;
        if s.hub_waiting.load(Relaxed) == 0 {
            continue;
        }
        // Messages held back behind a port's next message that never came go now; the
        // ones held this tick still arrive after their successor.
        let _ = s
            .target
            .admin(Sim::Hub, Method::POST, "callbacks/flush", None)
            .await;
        let moved = s
            .target
            .admin(Sim::Hub, Method::POST, "clock/advance", Some(&advance))
            .await;
        if moved.is_ok() {
            ticks += 1;
        }
    }
    ticks
}

impl Shared {
    fn past_deadline(&self) -> bool {
        self.started.elapsed() > self.load.deadline
    }

    fn problem(&self, p: String) {
        match self.problems.lock() {
            Ok(mut v) => v.push(p),
            Err(poisoned) => poisoned.into_inner().push(p),
        }
    }

    /// Sends order `index` and follows it to its end.
    async fn one(&self, index: u64) {
        let info = self.target.info();
        let load = &self.load;
        let ctx = Ctx {
            seed: load.seed,
            index,
            serial: load.serial,
            stock: &self.stock,
            info: &info,
            rejected_ports: load.rejected_ports,
            downloads: load.downloads,
        };
        let Some((kind, line, request, instead_of)) = self.choose(&ctx) else {
            self.exhausted.fetch_add(1, Relaxed);
            return;
        };
        for call in &request.setup {
            if let Err(e) = self.admin(call).await {
                self.problem(format!("order {index}: {e}"));
            }
        }
        let key = match load.serial {
            0 => format!("soak-{}-{index}", load.seed),
            run => format!("soak-{}-{run:016x}-{index}", load.seed),
        };
        let sent = Instant::now();
        let (answer, attempts) = self.submit(&request, &key).await;
        let mut entry = Entry {
            kind: kind.name(),
            instead_of,
            tenant: request.tenant,
            key,
            request,
            attempts,
            answer,
            status: None,
            error: None,
            ended: false,
            installed: false,
            took: Duration::ZERO,
        };
        match &entry.answer {
            Answered::Accepted(id) => {
                let hub = kind.waits_for_hub();
                if hub {
                    self.hub_waiting.fetch_add(1, Relaxed);
                }
                let (order, ended) = self.await_end(entry.tenant, id, kind.terminal()).await;
                if hub {
                    self.hub_waiting.fetch_sub(1, Relaxed);
                }
                entry.status = order["status"].as_str().map(str::to_owned);
                entry.error = order["error"]["code"].as_str().map(str::to_owned);
                entry.ended = ended;
                if ended {
                    let settled = kind.settle(&ctx, line, &order);
                    // The customer's actions come first: the line is back in the pool
                    // (for follow-ups) once the order shows what they did.
                    let done = self.after(index, &settled.after).await;
                    if settled.installs && done {
                        entry.installed = true;
                        self.await_installed(entry.tenant, id).await;
                    }
                    if let Some(l) = settled.line {
                        self.lines.put(l);
                    }
                }
            }
            // Nothing was created: the line is as it was.
            Answered::Refused { .. } => {
                if let Some(l) = line {
                    self.lines.put(l);
                }
            }
            // Unknown: the line is left out of the pool.
            Answered::Unanswered => {}
        }
        entry.took = sent.elapsed();
        match self.entries.lock() {
            Ok(mut v) => v.push(entry),
            Err(poisoned) => poisoned.into_inner().push(entry),
        }
    }

    /// The kind of order `index`, its line and request; an activation instead when no
    /// line fits the kind drawn or its stock is out; `None` when nothing can go.
    #[allow(clippy::type_complexity)]
    fn choose(
        &self,
        ctx: &Ctx<'_>,
    ) -> Option<(
        Arc<dyn SoakKind>,
        Option<Line>,
        Request,
        Option<&'static str>,
    )> {
        let kinds = &self.load.kinds;
        let drawn = kinds.get(self.load.mix.pick(ctx.seed, ctx.index))?.clone();
        match drawn.takes() {
            Some(fits) => {
                let pick = draw(ctx.seed, ctx.index, salt::LINE);
                if let Some(line) = self.lines.take(fits, pick) {
                    match drawn.request(ctx, Some(&line)) {
                        Some(r) => return Some((drawn, Some(line), r, None)),
                        None => self.lines.put(line),
                    }
                }
            }
            None => {
                if let Some(r) = drawn.request(ctx, None) {
                    return Some((drawn, None, r, None));
                }
            }
        }
        kinds
            .iter()
            .filter(|k| k.takes().is_none() && !k.waits_for_hub())
            .find_map(|k| k.request(ctx, None).map(|r| (k.clone(), r)))
            .map(|(k, r)| (k, None, r, Some(drawn.name())))
    }

    /// POSTs `request` under `key` until the gateway answers other than 503/429, or the
    /// deadline; answers what it said and how many POSTs it took.
    async fn submit(&self, request: &Request, key: &str) -> (Answered, u32) {
        let mut pause = Duration::from_millis(50);
        let mut attempts = 0;
        loop {
            attempts += 1;
            let sent = self
                .target
                .call(
                    request.tenant,
                    Method::POST,
                    &request.path,
                    Some(key),
                    Some(&request.body),
                )
                .await;
            match sent {
                Ok(a) if a.status == 202 => {
                    let answer = match a.json["id"].as_str() {
                        Some(id) => Answered::Accepted(id.to_owned()),
                        None => Answered::Refused {
                            status: 202,
                            code: "no_order_id".into(),
                        },
                    };
                    return (answer, attempts);
                }
                Ok(a) if a.status == 503 || a.status == 429 => {
                    self.unavailable.fetch_add(1, Relaxed);
                }
                Ok(a) => {
                    let code = a.json["code"].as_str().unwrap_or("").to_owned();
                    let status = a.status;
                    return (Answered::Refused { status, code }, attempts);
                }
                Err(_) => {
                    self.unreachable.fetch_add(1, Relaxed);
                }
            }
            if self.past_deadline() {
                return (Answered::Unanswered, attempts);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(1));
        }
    }

    /// Reads order `id` until its status is one of `ends` or the deadline passes; its
    /// last JSON and whether it ended.
    async fn await_end(&self, tenant: Tenant, id: &str, ends: &[&str]) -> (Value, bool) {
        let path = format!("/v1/orders/{id}");
        let mut pause = FIRST_POLL;
        let mut last = Value::Null;
        loop {
            self.reads.fetch_add(1, Relaxed);
            if let Ok(a) = self
                .target
                .call(tenant, Method::GET, &path, None, None)
                .await
            {
                if a.status == 200 {
                    if ends.contains(&status(&a.json)) {
                        return (a.json, true);
                    }
                    last = a.json;
                }
            }
            if self.past_deadline() {
                return (last, false);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 3 / 2).min(MAX_POLL);
        }
    }

    /// Reads activation `id` until it shows the install its customer made, for at most
    /// [`INSTALL_WITHIN`] (and not past the deadline); the checks say whether it did.
    async fn await_installed(&self, tenant: Tenant, id: &str) {
        let path = format!("/v1/orders/{id}");
        let until = Instant::now() + INSTALL_WITHIN;
        let mut pause = FIRST_POLL;
        loop {
            if let Ok(a) = self
                .target
                .call(tenant, Method::GET, &path, None, None)
                .await
            {
                if a.status == 200 && shows_installed(&a.json) {
                    return;
                }
            }
            if self.past_deadline() || Instant::now() > until {
                return;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 3 / 2).min(MAX_POLL);
        }
    }

    /// Makes the simulator calls an ended order asked for, counting the notices queued;
    /// whether every one was answered.
    async fn after(&self, index: u64, calls: &[AdminCall]) -> bool {
        for call in calls {
            match self.admin(call).await {
                Ok(a) => {
                    if call.sim == Sim::Smdp {
                        let queued = a.json["notifications"].as_u64().unwrap_or(0);
                        self.notices.fetch_add(queued, Relaxed);
                    }
                }
                Err(e) => {
                    self.problem(format!("order {index}: {e}"));
                    return false;
                }
            }
        }
        true
    }

    /// One admin call, again while the simulator cannot be reached (a restart). A repeat
    /// the simulator refuses is answered (as queuing nothing) when the call's
    /// [`AdminCall::effect`] shows the first try took effect.
    async fn admin(&self, call: &AdminCall) -> Result<Answer, AdminError> {
        let mut pause = Duration::from_millis(50);
        let mut repeated = false;
        loop {
            let r = self
                .target
                .admin(
                    call.sim,
                    call.method.clone(),
                    &call.path,
                    call.body.as_ref(),
                )
                .await;
            match r {
                Err(AdminError::Transport(_)) if !self.past_deadline() => {
                    repeated = true;
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
                Err(AdminError::Refused(_)) if repeated && self.took_effect(call).await => {
                    return Ok(Answer {
                        status: 200,
                        json: Value::Null,
                    });
                }
                other => return other,
            }
        }
    }

    /// Whether the SM-DP+ profile `call` acted on is in a state that shows it took effect.
    async fn took_effect(&self, call: &AdminCall) -> bool {
        let Some(effect) = &call.effect else {
            return false;
        };
        let Ok(state) = self
            .target
            .admin(call.sim, Method::GET, "state", None)
            .await
        else {
            return false;
        };
        let profiles = state.json["profiles"].as_array().map(Vec::as_slice);
        profiles
            .unwrap_or_default()
            .iter()
            .find(|p| p["iccid"] == effect.iccid.as_str())
            .and_then(|p| p["state"].as_str())
            .is_some_and(|s| effect.states.contains(&s))
    }
}

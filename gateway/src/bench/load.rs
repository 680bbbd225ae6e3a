//! The timed HTTP phases of `simgw bench`: many POSTs from concurrent clients, the wait
//! until the engine has finished every order, and the report of both.

use super::report::{FailedOrder, Latency, Phase, rate};
use super::{BenchError, err};
use crate::order::{Order, OrderStatus};
use adapters::http::HttpClient;
use bytes::Bytes;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Duration;
use tokio::time::Instant;

/// One request of a load phase.
pub(super) struct Post {
    /// Where to.
    pub(super) url: String,
    /// Unique per request: every POST is a new order.
    pub(super) idempotency_key: String,
    /// The JSON body.
    pub(super) body: String,
}

/// What a load phase got back.
#[derive(Default)]
pub(super) struct Posted {
    /// Latency of every request, answered or not.
    pub(super) latency: Vec<Duration>,
    /// Ids of the orders answered `202`.
    pub(super) ids: Vec<String>,
    /// Requests not answered `202`.
    pub(super) failures: usize,
    /// How long until the last request was answered.
    pub(super) took: Duration,
    /// Size of the first `202` answer's body.
    pub(super) body_bytes: Option<usize>,
    /// The first refusal: its status and problem code (or the transport error).
    pub(super) first_refusal: Option<String>,
}

/// Sends every POST from `concurrency` clients, each taking the next request when its
/// previous one is answered.
pub(super) async fn post_all(
    client: &HttpClient,
    auth: &str,
    posts: Vec<Post>,
    concurrency: usize,
) -> Result<Posted, BenchError> {
    let posts = Arc::new(posts);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, posts, next, auth) =
            (client.clone(), posts.clone(), next.clone(), auth.to_owned());
        workers.push(tokio::spawn(async move {
            let mut out = Posted::default();
            loop {
                let i = next.fetch_add(1, Relaxed);
                let Some(p) = posts.get(i) else {
                    break;
                };
                let t = Instant::now();
                let r = client
                    .post(
                        &p.url,
                        &[
                            ("authorization", auth.clone()),
                            ("idempotency-key", p.idempotency_key.clone()),
                            ("content-type", "application/json".into()),
                        ],
                        Bytes::from(p.body.clone()),
                    )
                    .await;
                out.latency.push(t.elapsed());
                match r {
                    Ok(resp) if resp.status == 202 => {
                        out.body_bytes.get_or_insert(resp.body.len());
                        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&resp.body) {
                            if let Some(id) = v["id"].as_str() {
                                out.ids.push(id.to_owned());
                            }
                        }
                    }
                    other => {
                        out.failures += 1;
                        out.first_refusal.get_or_insert_with(|| match other {
                            Ok(resp) => {
                                let problem =
                                    serde_json::from_slice::<serde_json::Value>(&resp.body)
                                        .ok()
                                        .and_then(|v| v["code"].as_str().map(str::to_owned));
                                format!("{} {}", resp.status, problem.unwrap_or_default())
                            }
                            Err(e) => e.to_string(),
                        });
                    }
                }
            }
            out
        }));
    }
    let mut all = Posted::default();
    for w in workers {
        let p = w.await.map_err(err)?;
        all.latency.extend(p.latency);
        all.ids.extend(p.ids);
        all.failures += p.failures;
        all.body_bytes = all.body_bytes.or(p.body_bytes);
        all.first_refusal = all.first_refusal.or(p.first_refusal);
    }
    all.took = started.elapsed();
    all.latency.sort();
    Ok(all)
}

impl Posted {
    /// Adds a later round of the same phase: its requests, and its time to the total.
    pub(super) fn absorb(&mut self, later: Posted) {
        self.latency.extend(later.latency);
        self.latency.sort();
        self.ids.extend(later.ids);
        self.failures += later.failures;
        self.took += later.took;
        self.body_bytes = self.body_bytes.or(later.body_bytes);
        self.first_refusal = self.first_refusal.take().or(later.first_refusal);
    }
}

/// Where the bench's own orders stand once each is terminal (or the deadline passed).
#[derive(Default)]
pub(super) struct Settled {
    /// Every order read, in the order of the `202` answers.
    pub(super) orders: Vec<Order>,
    /// How many ended in the success state.
    pub(super) succeeded: usize,
    /// The ones that ended `failed`, with their codes.
    pub(super) failed: Vec<FailedOrder>,
    /// The ones still not terminal at the deadline (or missing), with their status.
    pub(super) open: Vec<(String, String)>,
    /// From the first POST until the last order was seen terminal.
    pub(super) done_in: Duration,
    /// Server-side time from creation to the last change of each terminal order, sorted.
    pub(super) e2e: Vec<Duration>,
}

impl Settled {
    /// Adds a later round of the same phase: its orders, and its time to the total.
    pub(super) fn absorb(&mut self, later: Settled) {
        self.orders.extend(later.orders);
        self.succeeded += later.succeeded;
        self.failed.extend(later.failed);
        self.open.extend(later.open);
        self.done_in += later.done_in;
        self.e2e.extend(later.e2e);
        self.e2e.sort();
    }
}

/// One line on an order still open at the deadline: its status, and for a port its state,
/// its last transition, whether it is parked and how far each hub and HLR step got, so a
/// run that hangs says where.
fn where_it_stands(o: &Order) -> String {
    let mut s = format!("{:?}; hlr {:?}", o.status, o.hlr);
    if let Some(p) = &o.port {
        let last = p.timeline.last().map_or_else(
            || "none".to_owned(),
            |t| format!("{:?} by {:?} at {}", t.state, t.actor, t.at_ms),
        );
        s.push_str(&format!(
            "; port {:?}, last transition {last}, sequence {:?}, parked {:?}, submit {:?}, activate {:?}, ack {:?}",
            p.state, p.last_sequence, p.parked, p.submit, p.activate, p.ack
        ));
    }
    s
}

/// Pause between two reads of an order that is not terminal yet.
const POLL: Duration = Duration::from_millis(2);

/// Waits until every order of `ids` is terminal, reading each from the store (in the order
/// the `202`s came, which is roughly the order they finish in, so each is read about once),
/// for at most `deadline` after `started`. Counts from the bench's own orders, never from
/// the gateway's global counters.
pub(super) async fn await_terminal(
    sb: &crate::sandbox::Sandbox,
    ids: &[String],
    success: OrderStatus,
    started: Instant,
    deadline: Duration,
) -> Result<Settled, BenchError> {
    let store = &sb.gateway.store;
    let mut orders = Vec::with_capacity(ids.len());
    let mut next = 0;
    while let Some(id) = ids.get(next) {
        let order = store
            .get_order(crate::sandbox::TENANT, id)
            .await
            .map_err(err)?;
        match order {
            Some(o) if o.status.is_terminal() => {
                orders.push(o);
                next += 1;
            }
            _ if started.elapsed() > deadline => break,
            _ => tokio::time::sleep(POLL).await,
        }
    }
    let done_in = started.elapsed();
    let mut open = Vec::new();
    // Past the deadline: read the rest once, and name what is still open.
    for id in &ids[next..] {
        match store
            .get_order(crate::sandbox::TENANT, id)
            .await
            .map_err(err)?
        {
            Some(o) if o.status.is_terminal() => orders.push(o),
            Some(o) => open.push((id.clone(), where_it_stands(&o))),
            None => open.push((id.clone(), "missing".into())),
        }
    }
    let mut settled = Settled {
        succeeded: 0,
        failed: Vec::new(),
        open,
        done_in,
        e2e: Vec::with_capacity(orders.len()),
        orders: Vec::new(),
    };
    for o in &orders {
        if o.status == success {
            settled.succeeded += 1;
        } else if o.status == OrderStatus::Failed {
            settled.failed.push(FailedOrder {
                id: o.id.clone(),
                code: o
                    .error
                    .as_ref()
                    .map_or_else(|| "unknown".to_owned(), |e| e.code.clone()),
            });
        }
        settled.e2e.push(Duration::from_millis(
            o.updated_at_ms.saturating_sub(o.created_at_ms),
        ));
    }
    settled.e2e.sort();
    settled.orders = orders;
    Ok(settled)
}

/// The figures of one timed phase.
pub(super) fn phase(name: &str, posted: &Posted, settled: &Settled) -> Phase {
    Phase {
        name: name.into(),
        requests: posted.latency.len(),
        accepted: posted.ids.len(),
        refused: posted.failures,
        succeeded: settled.succeeded,
        failed: settled.failed.len(),
        open: settled.open.len(),
        seconds: settled.done_in.as_secs_f64(),
        per_s: rate(settled.succeeded, settled.done_in),
        post: Latency::of(&posted.latency),
        created_to_terminal: Latency::of(&settled.e2e),
        ..Phase::default()
    }
}

/// Prints a phase: throughput, latency, and every failed or open order by code.
pub(super) fn print_phase(p: &Phase, posted: &Posted, settled: &Settled, state: &str, unit: &str) {
    println!(
        "accepted   {:>7} in {:>6.2} s  = {:>8.0} POST/s   (refused requests: {}{})",
        p.accepted,
        posted.took.as_secs_f64(),
        rate(p.accepted, posted.took),
        p.refused,
        posted
            .first_refusal
            .as_ref()
            .map(|r| format!("; the first: {r}"))
            .unwrap_or_default()
    );
    println!(
        "{state:<10} {:>7} in {:>6.2} s  = {:>8.0} {unit} end to end  (failed {}, still open {})",
        p.succeeded, p.seconds, p.per_s, p.failed, p.open
    );
    println!("POST latency       {}", p.post.line());
    println!(
        "{:<18} {}",
        format!("created->{state}"),
        p.created_to_terminal.line()
    );
    if let Some(u) = &p.usage {
        println!("use                {}", u.line());
    }
    let mut by_code = std::collections::BTreeMap::<&str, Vec<&str>>::new();
    for f in &settled.failed {
        by_code.entry(&f.code).or_default().push(&f.id);
    }
    for (code, ids) in by_code {
        let shown: Vec<&str> = ids.iter().take(5).copied().collect();
        println!(
            "failed     {:>7} with {code}: {}{}",
            ids.len(),
            shown.join(", "),
            if ids.len() > shown.len() { ", …" } else { "" }
        );
    }
    for (id, status) in settled.open.iter().take(20) {
        println!("still open {id} ({status})");
    }
}

//! The timed HTTP phases of `simgw bench`: many POSTs from concurrent clients, the wait
//! until the engine has finished every order, and the report of both.

use super::{BenchError, err};
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
                        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&resp.body) {
                            if let Some(id) = v["id"].as_str() {
                                out.ids.push(id.to_owned());
                            }
                        }
                    }
                    _ => out.failures += 1,
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
    }
    all.took = started.elapsed();
    all.latency.sort();
    Ok(all)
}

/// Waits until `finished()` reaches `target` (the engine's terminal-order counters), for
/// at most 10 minutes after `started`.
pub(super) async fn wait_until(
    started: Instant,
    target: u64,
    finished: impl Fn() -> u64,
) -> Result<Duration, BenchError> {
    while finished() < target {
        if started.elapsed() > Duration::from_secs(600) {
            return Err(BenchError("orders did not finish within 10 minutes".into()));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(started.elapsed())
}

/// The orders `ids` as stored: how many ended `success`, and their server-side times from
/// creation to the last change, sorted.
pub(super) async fn settled(
    sb: &crate::sandbox::Sandbox,
    ids: &[String],
    success: crate::order::OrderStatus,
) -> Result<(Vec<crate::order::Order>, usize, Vec<Duration>), BenchError> {
    let mut orders = Vec::with_capacity(ids.len());
    let mut ok = 0;
    let mut e2e = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(o) = sb
            .gateway
            .store
            .get_order(crate::sandbox::TENANT, id)
            .await
            .map_err(err)?
        {
            if o.status == success {
                ok += 1;
            }
            e2e.push(Duration::from_millis(
                o.updated_at_ms.saturating_sub(o.created_at_ms),
            ));
            orders.push(o);
        }
    }
    e2e.sort();
    Ok((orders, ok, e2e))
}

/// Prints the throughput and latency lines of one timed phase.
pub(super) fn report(
    posted: &Posted,
    state: &str,
    reached: usize,
    done_in: Duration,
    unit: &str,
    e2e: &[Duration],
) {
    println!(
        "accepted   {:>7} in {:>6.2} s  = {:>8.0} POST/s   (failed requests: {})",
        posted.ids.len(),
        posted.took.as_secs_f64(),
        posted.ids.len() as f64 / posted.took.as_secs_f64(),
        posted.failures
    );
    println!(
        "{state:<10} {reached:>7} in {:>6.2} s  = {:>8.0} {unit} end to end",
        done_in.as_secs_f64(),
        reached as f64 / done_in.as_secs_f64()
    );
    let lat = &posted.latency;
    println!(
        "POST latency        p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
        pct(lat, 50.0),
        pct(lat, 99.0),
        pct(lat, 100.0)
    );
    println!(
        "{:<19} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
        format!("created->{state}"),
        pct(e2e, 50.0),
        pct(e2e, 99.0),
        pct(e2e, 100.0)
    );
}

/// The `p`th percentile of `sorted`, in milliseconds.
pub(super) fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = (((p / 100.0) * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[idx].as_secs_f64() * 1000.0
}

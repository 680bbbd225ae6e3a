//! The delivery driver: reads due deliveries from the store, a batch in one read, posts
//! each signed event through the `Transport`, and commits every attempt's outcome
//! before the next one of its queue can start (a recorder task commits the outcomes
//! that end together as one batch). Like the engine's timers, the next due time lives
//! in the store; the loop sleeps until it on tokio's clock (paused in tests), or until a
//! commit wakes it. A queue's head is its only due delivery, so one subject is delivered
//! in order while `concurrency` deliveries of other subjects run beside it.

use super::schedule;
use super::signing;
use super::transport::{SendError, Transport};
use crate::clock::Clock;
use crate::crypto::Keyring;
use crate::store::{
    AttemptOutcome, AttemptRecord, DeliveryJob, DeliveryKey, DeliveryStatus, Store, secret_context,
};
use bytes::Bytes;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore, oneshot, watch};

/// Header name and value pairs of a delivery.
type Headers = Vec<(&'static str, String)>;

/// Longest sleep with nothing due (a missed wake-up costs at most this).
const IDLE: Duration = Duration::from_secs(60);

/// Longest a due delivery waits for a batch refill while a slot is free.
const REFILL_WAIT: Duration = Duration::from_millis(20);

/// The delivery driver's parts.
pub struct Dispatcher {
    /// The outbox.
    pub store: Arc<dyn Store>,
    /// Opens the endpoints' signing secrets.
    pub keys: Arc<Keyring>,
    /// Posts deliveries.
    pub transport: Arc<dyn Transport>,
    /// Time source (tokio's clock).
    pub clock: Clock,
    /// Most deliveries in flight.
    pub concurrency: usize,
}

struct Shared {
    d: Dispatcher,
    inflight: Mutex<HashSet<DeliveryKey>>,
    done: Notify,
    permits: Arc<Semaphore>,
    rng: ring::rand::SystemRandom,
    /// Outcomes waiting to be recorded, each with its attempt's answer.
    to_record: Mutex<Vec<(AttemptOutcome, oneshot::Sender<bool>)>>,
    /// Wakes the recorder.
    record: Notify,
}

impl Dispatcher {
    /// Runs the loop until `stop` turns true.
    pub fn spawn(self, stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        let permits = Arc::new(Semaphore::new(self.concurrency.max(1)));
        let shared = Arc::new(Shared {
            d: self,
            inflight: Mutex::default(),
            done: Notify::new(),
            permits,
            rng: ring::rand::SystemRandom::new(),
            to_record: Mutex::default(),
            record: Notify::new(),
        });
        tokio::spawn(recorder(shared.clone(), stop.clone()));
        tokio::spawn(run(shared, stop))
    }
}

async fn run(s: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let wake = s.d.store.deliveries_waker();
    // Under load the due list is read once per `refill` ended attempts, not once per
    // attempt; with fewer in flight, every end starts the next at once.
    let refill = (s.d.concurrency / 4).max(1);
    loop {
        let free = s.permits.available_permits();
        if free < refill {
            // Too few can start before more attempts end: no store reads until then, or
            // until `REFILL_WAIT` has passed with a slot free (slow attempts of one
            // endpoint must not hold another's deliveries back for long).
            let wait = async {
                if free == 0 {
                    std::future::pending().await
                } else {
                    tokio::time::sleep(REFILL_WAIT).await;
                }
            };
            tokio::select! {
                () = s.done.notified() => continue,
                () = wait => {}
                _ = stop.changed() => return,
            }
        }
        let now = s.d.clock.now_ms();
        start_due(&s, now).await;
        let next = match s.d.store.next_delivery_due(now).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read webhook due times");
                Some(now + 1_000)
            }
        };
        let busy = s.inflight.lock().map(|g| !g.is_empty()).unwrap_or(false);
        // With attempts in flight and nothing else scheduled, their completion wakes the
        // loop; no idle timer then, so a paused test clock does not run on while an
        // attempt's outcome is being committed.
        let wake_at = match next {
            Some(at) => Some(
                s.d.clock
                    .instant_at(at)
                    .min(tokio::time::Instant::now() + IDLE),
            ),
            None if busy => None,
            None => Some(tokio::time::Instant::now() + IDLE),
        };
        let sleep = async {
            match wake_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = sleep => {}
            () = wake.notified() => {}
            () = s.done.notified() => {}
            _ = stop.changed() => return,
        }
    }
}

/// Starts every due delivery not already in flight, while permits last.
async fn start_due(s: &Arc<Shared>, now: u64) {
    let free = s.permits.available_permits();
    if free == 0 {
        return;
    }
    let inflight = s.inflight.lock().map(|g| g.len()).unwrap_or(0);
    let due = match s.d.store.due_deliveries(now, inflight + free).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read due webhook deliveries");
            return;
        }
    };
    // Claim the new keys and their permits (only this loop takes permits, so `free`
    // cannot shrink meanwhile), then read their jobs in one go.
    let mut started = Vec::new();
    {
        let Ok(mut set) = s.inflight.lock() else {
            return;
        };
        for key in due {
            if started.len() == free {
                break;
            }
            if set.insert(key.clone()) {
                started.push(key);
            }
        }
    }
    let jobs = match s.d.store.delivery_jobs(&started).await {
        Ok(j) if j.len() == started.len() => j,
        r => {
            let e = r.map_or_else(|e| e.to_string(), |_| "one job per key expected".into());
            tracing::warn!(error = %e, "cannot read webhook deliveries");
            if let Ok(mut set) = s.inflight.lock() {
                for key in &started {
                    set.remove(key);
                }
            }
            return;
        }
    };
    for (key, job) in started.into_iter().zip(jobs) {
        let Ok(permit) = s.permits.clone().try_acquire_owned() else {
            if let Ok(mut set) = s.inflight.lock() {
                set.remove(&key);
            }
            continue;
        };
        let s2 = s.clone();
        tokio::spawn(async move {
            let stalled = attempt(&s2, &key, job).await.is_err();
            if stalled {
                // The store failed: the delivery stays due; do not spin on it.
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            if let Ok(mut set) = s2.inflight.lock() {
                set.remove(&key);
            }
            drop(permit);
            s2.done.notify_one();
        });
    }
}

/// Records the attempts' outcomes: all that ended while the previous ones were being
/// committed go to the store together (one writer command in the embedded store), so
/// under load a commit carries many outcomes instead of one command each.
async fn recorder(s: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        let batch = s
            .to_record
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        if batch.is_empty() {
            tokio::select! {
                () = s.record.notified() => continue,
                _ = stop.changed() => return,
            }
        }
        let (outcomes, answers): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        let results = s.d.store.record_delivery_attempts(outcomes).await;
        let mut results = results.into_iter();
        for answer in answers {
            let ok = match results.next() {
                Some(Ok(_)) => true,
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "cannot record a webhook attempt; it will be retried");
                    false
                }
                None => false,
            };
            let _ = answer.send(ok);
        }
    }
}

/// One attempt: sign, post, commit the outcome. `Err` if the store failed.
async fn attempt(s: &Shared, key: &DeliveryKey, job: Option<DeliveryJob>) -> Result<(), ()> {
    let Some(job) = job.filter(|j| j.delivery.status == DeliveryStatus::Pending) else {
        return Ok(());
    };
    let started = s.d.clock.now_ms();
    let clock_start = tokio::time::Instant::now();
    let result = match signed(s, &job, started) {
        Ok((headers, body)) => s.d.transport.post(&job.endpoint.url, headers, body).await,
        Err(e) => Err(e),
    };
    let latency_ms = u64::try_from(clock_start.elapsed().as_millis()).unwrap_or(u64::MAX);
    let now = s.d.clock.now_ms();
    let (delivered, record) = judge(started, latency_ms, result);
    let retry_at_ms = if delivered {
        None
    } else {
        let u = schedule::unit(crate::crypto::random_u64(&s.rng));
        schedule::retry_at(now, job.delivery.schedule_attempts + 1, u)
    };
    if !delivered {
        tracing::info!(endpoint = %key.endpoint, event = %job.event.id,
            error = record.error.as_deref().unwrap_or(""), "webhook delivery failed");
    }
    let outcome = AttemptOutcome {
        key: key.clone(),
        record,
        delivered,
        retry_at_ms,
        now_ms: now,
    };
    let (answer, recorded) = oneshot::channel();
    match s.to_record.lock() {
        Ok(mut v) => v.push((outcome, answer)),
        Err(_) => return Err(()),
    }
    s.record.notify_one();
    // A recorder gone (the dispatcher stopping) leaves the delivery due.
    match recorded.await {
        Ok(true) => Ok(()),
        _ => Err(()),
    }
}

/// The Standard Webhooks headers and the body, signed with every live secret.
fn signed(s: &Shared, job: &DeliveryJob, now_ms: u64) -> Result<(Headers, Bytes), SendError> {
    let body = &job.event.body;
    let ctx = secret_context(&job.endpoint.id);
    let mut keys = Vec::new();
    for secret in job.endpoint.live_secrets(now_ms) {
        let key = s.d.keys.open(&ctx, &secret.sealed).map_err(|_| {
            SendError::Http(
                "the endpoint's signing secret cannot be opened with the data keys".into(),
            )
        })?;
        keys.push(key);
    }
    let ts = now_ms / 1000;
    let signature = signing::signature_header(&keys, &job.event.id, ts, body);
    let headers = vec![
        ("webhook-id", job.event.id.clone()),
        ("webhook-timestamp", ts.to_string()),
        ("webhook-signature", signature),
    ];
    Ok((headers, body.clone()))
}

/// Success is a 2xx answer; a redirect is a failure and is not followed.
fn judge(
    at_ms: u64,
    latency_ms: u64,
    result: Result<super::transport::Answer, SendError>,
) -> (bool, AttemptRecord) {
    match result {
        Ok(a) => {
            let ok = (200..300).contains(&a.status);
            let error = match a.status {
                200..=299 => None,
                300..=399 => Some(format!("redirect (HTTP {}) not followed", a.status)),
                s => Some(format!("HTTP {s}")),
            };
            let response = (!a.body_head.is_empty())
                .then(|| String::from_utf8_lossy(&a.body_head).into_owned());
            (
                ok,
                AttemptRecord {
                    at_ms,
                    http_status: Some(a.status),
                    latency_ms,
                    error,
                    response,
                },
            )
        }
        Err(e) => (
            false,
            AttemptRecord {
                at_ms,
                http_status: None,
                latency_ms,
                error: Some(e.to_string()),
                response: None,
            },
        ),
    }
}

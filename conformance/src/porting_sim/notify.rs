//! Hub messages to the receiver (`POST {receiver}/v1/hub-messages`): each message is
//! encoded with the adapters' codec, bent by the callback faults (sent twice, or held
//! back behind the port's next message), and delivered in queue order by one task with
//! the hub's client certificate, retried with back-off until a `2xx`. A `400` means the
//! receiver cannot read it: the hub gives up on that message, as the protocol says.
//! The receiver URL is read at delivery time, so it can be set while running.

use super::faults::{CallbackAction, CallbackPlanner};
use super::stats::PortingCounts;
use crate::common::control::{lock, wait_shutdown};
use adapters::http::HttpClient;
use adapters::porting::{HubMessage, Ref, encode_callback, path};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// How deliveries are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per message, the first included.
    pub attempts: u32,
    /// Wait before the second attempt; doubles each time.
    pub initial_backoff: Duration,
    /// Longest wait between attempts.
    pub max_backoff: Duration,
    /// Timeout of one attempt.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 10,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
        }
    }
}

/// One delivery (a message, or an injected copy of one), as the admin API lists it. The
/// body is not kept: a port-out request's body holds the subscriber's credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// Delivery order, from 0.
    pub seq: u64,
    /// The message's id.
    pub message_id: String,
    /// Its port.
    pub port_ref: String,
    /// Its sequence in the port.
    pub sequence: u64,
    /// Its kind.
    pub kind: String,
    /// Where it went; `None` when no receiver URL was set.
    pub url: Option<String>,
    /// The status of each attempt; `None` where the exchange failed.
    pub statuses: Vec<Option<u16>>,
    /// Whether the receiver answered 2xx.
    pub delivered: bool,
    /// An injected second copy.
    pub duplicate: bool,
    /// Held back behind a later message of its port.
    pub reordered: bool,
}

/// A message waiting for delivery.
#[derive(Debug, Clone)]
struct Outgoing {
    message_id: String,
    port_ref: String,
    sequence: u64,
    kind: String,
    body: Bytes,
    duplicate: bool,
    reordered: bool,
}

/// The delivery log, with a counter tests can wait on.
#[derive(Debug)]
pub(crate) struct DeliveryLog {
    entries: Mutex<Vec<Delivery>>,
    count: watch::Sender<usize>,
}

impl DeliveryLog {
    fn push(&self, entry: Delivery) {
        let n = {
            let mut entries = lock(&self.entries);
            entries.push(entry);
            entries.len()
        };
        self.count.send_replace(n);
    }

    /// Every delivery finished so far.
    pub(crate) fn entries(&self) -> Vec<Delivery> {
        lock(&self.entries).clone()
    }

    /// Waits until at least `n` deliveries have finished, or `within` passes.
    pub(crate) async fn wait_for(&self, n: usize, within: Duration) -> Vec<Delivery> {
        let mut rx = self.count.subscribe();
        let _ = tokio::time::timeout(within, rx.wait_for(|c| *c >= n)).await;
        self.entries()
    }

    fn clear(&self) {
        lock(&self.entries).clear();
        self.count.send_replace(0);
    }
}

/// Plans callback faults and queues messages for the delivery task.
#[derive(Debug)]
pub(crate) struct Notifier {
    url: Arc<Mutex<Option<String>>>,
    planner: Mutex<CallbackPlanner>,
    held: Mutex<HashMap<Ref, Vec<Outgoing>>>,
    queue: mpsc::UnboundedSender<Outgoing>,
    log: Arc<DeliveryLog>,
    counts: Arc<Mutex<PortingCounts>>,
}

impl Notifier {
    /// A notifier sending with `client` (`None`: log only) to `url`'s hub-messages path;
    /// spawns the delivery task, which ends on `stop`.
    pub(crate) fn start(
        url: Option<String>,
        client: Option<HttpClient>,
        planner: CallbackPlanner,
        retry: RetryPolicy,
        counts: Arc<Mutex<PortingCounts>>,
        stop: watch::Receiver<bool>,
    ) -> Self {
        let (queue, rx) = mpsc::unbounded_channel();
        let log = Arc::new(DeliveryLog {
            entries: Mutex::new(Vec::new()),
            count: watch::channel(0).0,
        });
        let url = Arc::new(Mutex::new(url));
        let task = Task {
            client,
            url: Arc::clone(&url),
            retry,
            log: Arc::clone(&log),
            counts: Arc::clone(&counts),
        };
        tokio::spawn(task.run(rx, stop));
        Self {
            url,
            planner: Mutex::new(planner),
            held: Mutex::new(HashMap::new()),
            queue,
            log,
            counts,
        }
    }

    /// The delivery log.
    pub(crate) fn log(&self) -> &DeliveryLog {
        &self.log
    }

    /// The callback fault planner.
    pub(crate) fn planner(&self) -> std::sync::MutexGuard<'_, CallbackPlanner> {
        lock(&self.planner)
    }

    /// The receiver's base URL.
    pub(crate) fn url(&self) -> Option<String> {
        lock(&self.url).clone()
    }

    /// Sets the receiver's base URL (checked by the caller).
    pub(crate) fn set_url(&self, url: Option<String>) {
        *lock(&self.url) = url;
    }

    /// Queues `messages` in order, applying the callback faults.
    pub(crate) fn emit(&self, messages: Vec<HubMessage>) {
        for m in messages {
            let action = self.planner().plan(m.event.kind());
            let mut out = Outgoing {
                message_id: m.message_id.to_string(),
                port_ref: m.port_ref.to_string(),
                sequence: m.sequence,
                kind: m.event.kind().to_owned(),
                body: Bytes::from(encode_callback(&m)),
                duplicate: false,
                reordered: false,
            };
            if let Some(a) = action {
                lock(&self.counts).injected.callback(a);
            }
            let mut held = lock(&self.held);
            if action == Some(CallbackAction::Reorder) {
                out.reordered = true;
                held.entry(m.port_ref.clone()).or_default().push(out);
                continue;
            }
            let mut batch = vec![out.clone()];
            if action == Some(CallbackAction::Duplicate) {
                batch.push(Outgoing {
                    duplicate: true,
                    ..out
                });
            }
            // Whatever was held back for this port goes right after this message.
            batch.extend(held.remove(&m.port_ref).unwrap_or_default());
            drop(held);
            for o in batch {
                // The task lives until shutdown; after it nothing is delivered anyway.
                let _ = self.queue.send(o);
            }
        }
    }

    /// Releases every held-back message (in the order they were held).
    pub(crate) fn flush(&self) -> usize {
        let held: Vec<Outgoing> = lock(&self.held).drain().flat_map(|(_, v)| v).collect();
        let n = held.len();
        for o in held {
            let _ = self.queue.send(o);
        }
        n
    }

    /// Forgets held messages and the delivery log (messages already queued still go).
    pub(crate) fn reset(&self) {
        lock(&self.held).clear();
        self.log.clear();
    }
}

/// The delivery task's state.
struct Task {
    client: Option<HttpClient>,
    url: Arc<Mutex<Option<String>>>,
    retry: RetryPolicy,
    log: Arc<DeliveryLog>,
    counts: Arc<Mutex<PortingCounts>>,
}

impl Task {
    /// One message at a time, in queue order.
    async fn run(self, mut rx: mpsc::UnboundedReceiver<Outgoing>, stop: watch::Receiver<bool>) {
        let mut seq = 0u64;
        loop {
            let out = tokio::select! {
                () = wait_shutdown(stop.clone()) => return,
                out = rx.recv() => match out {
                    Some(out) => out,
                    None => return,
                },
            };
            let url = lock(&self.url)
                .clone()
                .map(|base| format!("{base}{}", path::HUB_MESSAGES));
            let mut statuses = Vec::new();
            let mut delivered = false;
            if let (Some(client), Some(url)) = (&self.client, &url) {
                tokio::select! {
                    () = wait_shutdown(stop.clone()) => return,
                    ok = deliver(client, url, &out.body, self.retry, &mut statuses) => delivered = ok,
                }
            }
            {
                let mut c = lock(&self.counts);
                if delivered {
                    c.delivered += 1;
                } else {
                    c.undelivered += 1;
                }
            }
            if !delivered {
                tracing::info!(message_id = %out.message_id, port_ref = %out.port_ref, "hub message not delivered");
            }
            self.log.push(Delivery {
                seq,
                message_id: out.message_id,
                port_ref: out.port_ref,
                sequence: out.sequence,
                kind: out.kind,
                url,
                statuses,
                delivered,
                duplicate: out.duplicate,
                reordered: out.reordered,
            });
            seq += 1;
        }
    }
}

/// POSTs until a 2xx, a 400 or the attempts run out; records each attempt's status.
async fn deliver(
    client: &HttpClient,
    url: &str,
    body: &Bytes,
    retry: RetryPolicy,
    statuses: &mut Vec<Option<u16>>,
) -> bool {
    let headers = [
        ("Content-Type", "application/json".to_owned()),
        ("Accept", "application/json".to_owned()),
    ];
    let mut backoff = retry.initial_backoff;
    for attempt in 0..retry.attempts.max(1) {
        if attempt > 0 {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(retry.max_backoff);
        }
        let sent = tokio::time::timeout(retry.timeout, client.post(url, &headers, body.clone()));
        match sent.await {
            Ok(Ok(resp)) => {
                statuses.push(Some(resp.status));
                match resp.status {
                    200..=299 => return true,
                    400 => return false,
                    status => tracing::info!(status, attempt, "hub message not accepted"),
                }
            }
            Ok(Err(e)) => {
                statuses.push(None);
                tracing::info!(error = %e, attempt, "hub message not delivered");
            }
            Err(_) => {
                statuses.push(None);
                tracing::info!(attempt, "hub message delivery timed out");
            }
        }
    }
    false
}

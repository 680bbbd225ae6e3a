//! Hub messages to the receiver (`POST {receiver}/v1/hub-messages`): each message is
//! encoded with the adapters' codec, bent by the callback faults (sent twice, or held
//! back behind the port's next message), and delivered by one task with the hub's
//! client certificate, retried with back-off until a `2xx`. A `400` means the receiver
//! cannot read it: the hub gives up on that message, as the protocol says. The receiver
//! URL is read at delivery time, so it can be set while running.
//!
//! By default one message is in flight at a time, in queue order. With more delivery
//! lanes ([`Notifier::set_lanes`]) messages of different ports are in flight at once, as
//! a national hub delivers them; a port's own messages still go one after another, in
//! queue order, so what one lane shows is what the protocol promises. With batches
//! ([`Notifier::set_batch`]) one POST carries up to that many of the messages waiting
//! when a lane is free (`{"messages": […]}`, within the body limit), each port's in its
//! order (its messages queued behind one another go together); each message is still
//! logged, retried and forgotten as its own delivery.
//!
//! With a state file, every message (and injected copy) is kept there from the moment it
//! is planned, in the same hand-over as the hub change that made it, until its delivery
//! ends (delivered, or given up); a restarted simulator delivers what is left first.

use super::faults::{CallbackAction, CallbackPlanner};
use super::lanes::{Lanes, Queued};
use super::persist::{self, Pending};
use super::stats::PortingCounts;
use crate::common::control::{lock, wait_shutdown};
use crate::common::state_writer::StateWriter;
use adapters::http::HttpClient;
use adapters::porting::{HubMessage, MAX_BATCH, encode_batch, encode_callback, path};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
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
    /// How many messages the POST that carried it held (1: sent alone).
    #[serde(default = "one")]
    pub batch: usize,
}

fn one() -> usize {
    1
}

/// A message waiting for delivery. No `Debug`: a port-out request's body holds the
/// subscriber's credential.
#[derive(Clone)]
struct Outgoing {
    /// Its key among the state file's pending messages, if kept there.
    key: Option<u64>,
    message_id: String,
    port_ref: String,
    sequence: u64,
    kind: String,
    body: Bytes,
    duplicate: bool,
    reordered: bool,
}

impl Outgoing {
    /// The state file's record of it, if it is kept there.
    fn pending(&self) -> Option<(u64, Pending)> {
        self.key.map(|k| {
            (
                k,
                Pending {
                    message_id: self.message_id.clone(),
                    port_ref: self.port_ref.clone(),
                    sequence: self.sequence,
                    kind: self.kind.clone(),
                    body: String::from_utf8_lossy(&self.body).into_owned(),
                    duplicate: self.duplicate,
                    reordered: self.reordered,
                },
            )
        })
    }

    /// A kept message, as the state file gave it back.
    fn kept(key: u64, p: Pending) -> Self {
        Self {
            key: Some(key),
            message_id: p.message_id,
            port_ref: p.port_ref,
            sequence: p.sequence,
            kind: p.kind,
            body: Bytes::from(p.body.into_bytes()),
            duplicate: p.duplicate,
            reordered: p.reordered,
        }
    }
}

impl Queued for Outgoing {
    fn port(&self) -> &str {
        &self.port_ref
    }

    fn encoded_len(&self) -> usize {
        self.body.len()
    }
}

/// One message planned for delivery under the simulator's lock, with its injected copy;
/// held back behind its port's next message when `reordered`.
pub(crate) struct Planned {
    out: Outgoing,
    copy: Option<Outgoing>,
}

impl Planned {
    /// The state file's records of the message and its copy (none without a file).
    pub(crate) fn pending(&self) -> impl Iterator<Item = (u64, Pending)> + '_ {
        std::iter::once(&self.out)
            .chain(&self.copy)
            .filter_map(Outgoing::pending)
    }
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

/// The state file and the messages it still holds, with their keys, in order.
pub(crate) type KeptMessages = (Arc<StateWriter>, Vec<(u64, Pending)>);

/// Plans callback faults and queues messages for the delivery task.
pub(crate) struct Notifier {
    url: Arc<Mutex<Option<String>>>,
    planner: Mutex<CallbackPlanner>,
    held: Mutex<HashMap<String, Vec<Outgoing>>>,
    queue: mpsc::UnboundedSender<Outgoing>,
    log: Arc<DeliveryLog>,
    counts: Arc<Mutex<PortingCounts>>,
    /// Where messages are kept until handled, if anywhere.
    file: Option<Arc<StateWriter>>,
    /// The next pending-message key, when a state file keeps them.
    next_key: Option<AtomicU64>,
    /// Deliveries in flight at most (ports at once).
    lanes: Arc<AtomicUsize>,
    /// Messages one POST carries at most.
    batch: Arc<AtomicUsize>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("url", &self.url)
            .field("kept", &self.file.is_some())
            .finish_non_exhaustive()
    }
}

impl Notifier {
    /// A notifier sending with `client` (`None`: log only) to `url`'s hub-messages path;
    /// spawns the delivery task, which ends on `stop`. With `kept` (the state file and
    /// the messages it still holds), those go first and every later message is kept there
    /// until handled.
    pub(crate) fn start(
        url: Option<String>,
        client: Option<HttpClient>,
        planner: CallbackPlanner,
        retry: RetryPolicy,
        counts: Arc<Mutex<PortingCounts>>,
        stop: watch::Receiver<bool>,
        kept: Option<KeptMessages>,
    ) -> Self {
        let (queue, rx) = mpsc::unbounded_channel();
        let (file, pending) = kept.unzip();
        let pending = pending.unwrap_or_default();
        let next_key = file
            .as_ref()
            .map(|_| AtomicU64::new(pending.iter().map(|(k, _)| k + 1).max().unwrap_or(0)));
        for (key, p) in pending {
            // The task lives until shutdown; before it starts, the queue holds them.
            let _ = queue.send(Outgoing::kept(key, p));
        }
        let log = Arc::new(DeliveryLog {
            entries: Mutex::new(Vec::new()),
            count: watch::channel(0).0,
        });
        let url = Arc::new(Mutex::new(url));
        let lanes = Arc::new(AtomicUsize::new(1));
        let batch = Arc::new(AtomicUsize::new(1));
        let task = Task {
            client,
            url: Arc::clone(&url),
            retry,
            log: Arc::clone(&log),
            counts: Arc::clone(&counts),
            file: file.clone(),
            lanes: Arc::clone(&lanes),
            batch: Arc::clone(&batch),
        };
        tokio::spawn(task.run(rx, stop));
        Self {
            url,
            planner: Mutex::new(planner),
            held: Mutex::new(HashMap::new()),
            queue,
            log,
            counts,
            file,
            next_key,
            lanes,
            batch,
        }
    }

    /// Lets up to `lanes` messages (of as many ports) be in flight at once; 1 delivers
    /// in queue order. Takes effect from the next message queued or delivered.
    pub(crate) fn set_lanes(&self, lanes: usize) {
        self.lanes.store(lanes.max(1), Ordering::Relaxed);
    }

    /// Lets one POST carry up to `batch` messages (at most [`MAX_BATCH`]); 1 sends each
    /// alone. Takes effect from the next delivery.
    pub(crate) fn set_batch(&self, batch: usize) {
        self.batch
            .store(batch.clamp(1, MAX_BATCH), Ordering::Relaxed);
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

    /// Plans `messages` (in order) for delivery: the callback faults are drawn and each
    /// message (and copy) gets its key in the state file. Call it under the lock that
    /// ordered them, hand [`Planned::pending`] to the state file with the change that
    /// made them, then [`Notifier::enqueue`] them.
    pub(crate) fn prepare(&self, messages: Vec<HubMessage>) -> Vec<Planned> {
        messages
            .into_iter()
            .map(|m| {
                let action = self.planner().plan(m.event.kind());
                if let Some(a) = action {
                    lock(&self.counts).injected.callback(a);
                }
                let out = Outgoing {
                    key: self.next_key(),
                    message_id: m.message_id.to_string(),
                    port_ref: m.port_ref.to_string(),
                    sequence: m.sequence,
                    kind: m.event.kind().to_owned(),
                    body: Bytes::from(encode_callback(&m)),
                    duplicate: false,
                    reordered: action == Some(CallbackAction::Reorder),
                };
                let copy = (action == Some(CallbackAction::Duplicate)).then(|| Outgoing {
                    key: self.next_key(),
                    duplicate: true,
                    ..out.clone()
                });
                Planned { out, copy }
            })
            .collect()
    }

    /// Queues planned messages in order: a held-back one waits for its port's next
    /// message, which takes it along.
    pub(crate) fn enqueue(&self, planned: Vec<Planned>) {
        for Planned { out, copy } in planned {
            let mut held = lock(&self.held);
            if out.reordered {
                held.entry(out.port_ref.clone()).or_default().push(out);
                continue;
            }
            let behind = held.remove(&out.port_ref).unwrap_or_default();
            drop(held);
            for o in std::iter::once(out).chain(copy).chain(behind) {
                // The task lives until shutdown; after it nothing is delivered anyway.
                let _ = self.queue.send(o);
            }
        }
    }

    fn next_key(&self) -> Option<u64> {
        self.next_key
            .as_ref()
            .map(|n| n.fetch_add(1, Ordering::Relaxed))
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

    /// Forgets held messages (in the state file too) and the delivery log (messages
    /// already queued still go).
    pub(crate) fn reset(&self) {
        let forgotten: Vec<Outgoing> = lock(&self.held).drain().flat_map(|(_, v)| v).collect();
        if let Some(file) = &self.file {
            let keys = forgotten.iter().filter_map(|o| o.key);
            drop(file.submit(keys.map(persist::delivered).collect()));
        }
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
    file: Option<Arc<StateWriter>>,
    lanes: Arc<AtomicUsize>,
    batch: Arc<AtomicUsize>,
}

/// What one delivery did: where it went, and for each of its messages each attempt's
/// status, whether the receiver took it and how many messages the POST that did held.
type Attempted = (Option<String>, Vec<Handled>);

/// One message of a delivery, handled.
struct Handled {
    out: Outgoing,
    statuses: Vec<Option<u16>>,
    delivered: bool,
    batch: usize,
}

impl Task {
    /// Up to `lanes` messages in flight, each port's one after another, the earliest
    /// arrived first (with one lane: one at a time, in queue order).
    async fn run(self, mut rx: mpsc::UnboundedReceiver<Outgoing>, stop: watch::Receiver<bool>) {
        let task = Arc::new(self);
        let mut seq = 0u64;
        let mut lanes = Lanes::<Outgoing>::default();
        let mut flying = tokio::task::JoinSet::new();
        let mut ports: HashMap<_, Vec<String>> = HashMap::new();
        loop {
            // Whatever is queued already may share a POST.
            while let Ok(out) = rx.try_recv() {
                lanes.arrive(out);
            }
            while flying.len() < task.lanes.load(Ordering::Relaxed).max(1) {
                let (outs, of) = lanes.take(task.batch.load(Ordering::Relaxed));
                if outs.is_empty() {
                    break;
                }
                let id = flying.spawn(Arc::clone(&task).attempt(outs)).id();
                ports.insert(id, of);
            }
            tokio::select! {
                () = wait_shutdown(stop.clone()) => return,
                out = rx.recv() => match out {
                    Some(out) => lanes.arrive(out),
                    None => return,
                },
                Some(done) = flying.join_next_with_id() => {
                    let id = match &done {
                        Ok((id, _)) => *id,
                        Err(e) => e.id(),
                    };
                    for port in ports.remove(&id).unwrap_or_default() {
                        lanes.done(&port);
                    }
                    // A delivery cannot panic; one that did is dropped with its port freed.
                    if let Ok((_, attempted)) = done {
                        seq = task.finish(attempted, seq);
                    }
                }
            }
        }
    }

    /// Delivers one message, or a batch in one POST (retried as configured), if there is
    /// a client and a URL.
    /// A batch the receiver cannot read (400) is sent again message by message, so only
    /// the unreadable one is refused.
    async fn attempt(self: Arc<Self>, outs: Vec<Outgoing>) -> Attempted {
        let url = lock(&self.url)
            .clone()
            .map(|base| format!("{base}{}", path::HUB_MESSAGES));
        let (Some(client), Some(to)) = (&self.client, &url) else {
            let handled = outs.into_iter().map(|out| Handled {
                out,
                statuses: Vec::new(),
                delivered: false,
                batch: 1,
            });
            return (url, handled.collect());
        };
        let batch = outs.len();
        let mut statuses = Vec::new();
        let body = match outs.as_slice() {
            [one] => one.body.clone(),
            many => Bytes::from(encode_batch(
                &many.iter().map(|o| &o.body[..]).collect::<Vec<_>>(),
            )),
        };
        let delivered = deliver(client, to, &body, self.retry, &mut statuses).await;
        let mut handled = Vec::with_capacity(batch);
        if batch > 1 && statuses.last() == Some(&Some(400)) {
            for out in outs {
                let mut own = statuses.clone();
                let delivered = deliver(client, to, &out.body, self.retry, &mut own).await;
                handled.push(Handled {
                    out,
                    statuses: own,
                    delivered,
                    batch: 1,
                });
            }
        } else {
            handled.extend(outs.into_iter().map(|out| Handled {
                out,
                statuses: statuses.clone(),
                delivered,
                batch,
            }));
        }
        (url, handled)
    }

    /// Counts, forgets (in the state file) and logs each message of a handled delivery;
    /// the next delivery number.
    fn finish(&self, (url, handled): Attempted, mut seq: u64) -> u64 {
        {
            let mut c = lock(&self.counts);
            for (i, h) in handled.iter().enumerate() {
                if h.delivered {
                    c.delivered += 1;
                    // A batch's POST counts once, with its first message.
                    c.delivered_posts += u64::from(h.batch == 1 || i == 0);
                } else {
                    c.undelivered += 1;
                }
            }
        }
        // Handled (delivered, or given up as the protocol allows): no longer kept.
        if let Some(file) = &self.file {
            let keys = handled.iter().filter_map(|h| h.out.key);
            drop(file.submit(keys.map(persist::delivered).collect()));
        }
        for Handled {
            out,
            statuses,
            delivered,
            batch,
        } in handled
        {
            if !delivered {
                tracing::info!(message_id = %out.message_id, port_ref = %out.port_ref, "hub message not delivered");
            }
            self.log.push(Delivery {
                seq,
                message_id: out.message_id,
                port_ref: out.port_ref,
                sequence: out.sequence,
                kind: out.kind,
                url: url.clone(),
                statuses,
                delivered,
                duplicate: out.duplicate,
                reordered: out.reordered,
                batch,
            });
            seq += 1;
        }
        seq
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

//! The webhook dispatcher on tokio's paused clock against a scripted receiver: the retry
//! schedule, per-subject ordering, disabling after the schedule, secret rotation, and
//! deliveries that survive a store reopen. No sockets and no sleeps: the test waits on the
//! receiver's channel, and the paused clock jumps to the next durable due time.

use adapters::hlr::BoxFuture;
use bytes::Bytes;
use gateway::clock::Clock;
use gateway::crypto::Keyring;
use gateway::metrics::Metrics;
use gateway::store::embedded::RedbStore;
use gateway::store::{DeliveryStatus, EndpointSecret, EventType, WebhookEndpoint, secret_context};
use gateway::store::{OutboxStore, StoreAdmin};
use gateway::webhooks::schedule::{ATTEMPTS, DELAYS_MS, JITTER};
use gateway::webhooks::signing;
use gateway::webhooks::{Answer, Dispatcher, SendError, Transport};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

const TENANT: &str = "t";

/// One post the scripted receiver saw.
#[derive(Debug, Clone)]
struct Seen {
    at: Instant,
    id: String,
    signature: String,
    timestamp: String,
    body: Value,
    raw: Bytes,
    answered: Result<u16, ()>,
}

/// A receiver that answers from a script per event id (default: 204), and reports each
/// post on a channel.
struct Scripted {
    script: Mutex<std::collections::HashMap<String, VecDeque<Result<u16, ()>>>>,
    always_fail: bool,
    /// Event ids whose posts are seen and then never answered (a receiver that hangs).
    hang: Mutex<std::collections::HashSet<String>>,
    seen: mpsc::UnboundedSender<Seen>,
}

impl Transport for Scripted {
    fn post<'a>(
        &'a self,
        _url: &'a str,
        headers: Vec<(&'static str, String)>,
        body: Bytes,
    ) -> BoxFuture<'a, Result<Answer, SendError>> {
        Box::pin(async move {
            let h = |n: &str| {
                headers
                    .iter()
                    .find(|(k, _)| *k == n)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            let id = h("webhook-id");
            let answer = if self.always_fail {
                Err(())
            } else {
                self.script
                    .lock()
                    .expect("lock")
                    .get_mut(&id)
                    .and_then(VecDeque::pop_front)
                    .unwrap_or(Ok(204))
            };
            let hangs = self.hang.lock().expect("lock").contains(&id);
            let _ = self.seen.send(Seen {
                at: Instant::now(),
                id,
                signature: h("webhook-signature"),
                timestamp: h("webhook-timestamp"),
                body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                raw: body,
                answered: answer,
            });
            if hangs {
                std::future::pending::<()>().await;
            }
            match answer {
                Ok(status) => Ok(Answer {
                    status,
                    body_head: Vec::new(),
                }),
                Err(()) => Err(SendError::Connect("connection refused".into())),
            }
        })
    }
}

struct Rig {
    store: Arc<RedbStore>,
    keys: Arc<Keyring>,
    clock: Clock,
    rx: mpsc::UnboundedReceiver<Seen>,
    transport: Arc<Scripted>,
    stop: watch::Sender<bool>,
    dispatcher: Option<tokio::task::JoinHandle<()>>,
    dir: tempfile::TempDir,
}

fn open(dir: &std::path::Path) -> Arc<RedbStore> {
    Arc::new(RedbStore::open(dir, 16, 64, Arc::new(Metrics::default())).expect("store"))
}

impl Rig {
    async fn new(always_fail: bool) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = open(dir.path());
        let (tx, rx) = mpsc::unbounded_channel();
        let transport = Arc::new(Scripted {
            script: Mutex::default(),
            always_fail,
            hang: Mutex::default(),
            seen: tx,
        });
        let (stop, _) = watch::channel(false);
        let mut rig = Self {
            store,
            keys: Arc::new(Keyring::ephemeral().expect("keys")),
            clock: Clock::new(),
            rx,
            transport,
            stop,
            dispatcher: None,
            dir,
        };
        rig.start();
        rig
    }

    fn start(&mut self) {
        let d = Dispatcher {
            store: self.store.clone(),
            keys: self.keys.clone(),
            transport: self.transport.clone(),
            clock: self.clock,
            concurrency: 8,
        };
        self.dispatcher = Some(d.spawn(self.stop.subscribe()));
    }

    async fn stop_dispatcher(&mut self) {
        let _ = self.stop.send(true);
        if let Some(d) = self.dispatcher.take() {
            d.await.expect("dispatcher");
        }
        self.stop = watch::channel(false).0;
    }

    fn script(&self, event_id: &str, answers: &[Result<u16, ()>]) {
        self.transport
            .script
            .lock()
            .expect("lock")
            .insert(event_id.to_owned(), answers.iter().copied().collect());
    }

    /// Creates an endpoint and returns its id and key.
    async fn endpoint(&self, types: &[EventType]) -> (String, Vec<u8>) {
        let id = format!(
            "we_test{}",
            self.store
                .webhook_endpoints(TENANT)
                .await
                .expect("list")
                .len()
        );
        let key = vec![0x42; 32];
        let sealed = self.keys.seal(&secret_context(&id), &key).expect("seal");
        let e = WebhookEndpoint {
            id: id.clone(),
            tenant: TENANT.into(),
            url: "https://hooks.example.com/in".into(),
            event_types: types.to_vec(),
            secrets: vec![EndpointSecret {
                sealed,
                created_at_ms: self.clock.now_ms(),
                expires_at_ms: None,
            }],
            disabled: None,
            created_at_ms: self.clock.now_ms(),
        };
        assert!(self.store.create_webhook_endpoint(e).await.expect("create"));
        (id, key)
    }

    async fn publish(&self, t: EventType, subject: Option<&str>, n: u32) {
        self.store
            .publish_for_test(self.clock.now_ms(), TENANT, t, subject, json!({"n": n}))
            .await
            .expect("publish");
    }

    /// The next post. No timeout: on the paused clock any timer, a timeout's too, would be
    /// jumped to while the store's writer thread commits.
    async fn next(&mut self) -> Seen {
        self.rx.recv().await.expect("receiver open")
    }
}

/// Waits (yielding, so the paused clock stands still) until the store's writer thread has
/// committed what `cond` looks for; bounded in real time.
async fn settle(mut cond: impl AsyncFnMut() -> bool) {
    let limit = std::time::Instant::now() + Duration::from_secs(10);
    while !cond().await {
        assert!(
            std::time::Instant::now() < limit,
            "the store never committed it"
        );
        tokio::task::yield_now().await;
    }
}

fn ev(n: u64) -> String {
    gateway::store::event_id(n)
}

#[tokio::test(start_paused = true)]
async fn a_receiver_down_for_a_while_gets_redeliveries_with_growing_delays() {
    let mut rig = Rig::new(false).await;
    let (_, key) = rig.endpoint(&[]).await;
    rig.script(&ev(1), &[Err(()), Err(()), Ok(500), Err(()), Ok(204)]);
    rig.publish(EventType::OrderActive, Some("8613800000001"), 1)
        .await;
    let mut seen = Vec::new();
    loop {
        let s = rig.next().await;
        let ok = s.answered == Ok(204);
        seen.push(s);
        if ok {
            break;
        }
    }
    assert_eq!(
        seen.len(),
        5,
        "four failures, then the acknowledged attempt"
    );
    for s in &seen {
        assert_eq!(s.id, ev(1), "every retry carries the same event id");
        assert_eq!(s.body["id"], json!(ev(1)));
        assert_eq!(s.body["type"], "order.active");
        assert_eq!(
            signing::verify(
                &key,
                &s.id,
                &s.timestamp,
                &s.signature,
                &s.raw,
                s.timestamp.parse().expect("ts")
            ),
            Ok(())
        );
    }
    let mut last = Duration::ZERO;
    for (i, pair) in seen.windows(2).enumerate() {
        let gap = pair[1].at - pair[0].at;
        let base = Duration::from_millis(DELAYS_MS[i]);
        assert!(
            gap >= base.mul_f64(1.0 - JITTER),
            "gap {i}: {gap:?} < {base:?} - jitter"
        );
        assert!(gap <= base.mul_f64(1.0 + JITTER), "gap {i}: {gap:?}");
        assert!(gap > last, "delays grow: {gap:?} after {last:?}");
        last = gap;
    }
    let read = async || {
        rig.store
            .webhook_deliveries(TENANT, "we_test0", None, 10)
            .await
            .expect("read")
            .expect("endpoint")
    };
    settle(async || read().await[0].status == DeliveryStatus::Delivered).await;
    let d = read().await;
    assert_eq!(d[0].attempts, 5);
    assert_eq!(d[0].log[2].http_status, Some(500));
    assert!(
        d[0].log[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("refused"))
    );
}

#[tokio::test(start_paused = true)]
async fn one_subject_is_delivered_in_order_while_another_proceeds() {
    let mut rig = Rig::new(false).await;
    rig.endpoint(&[]).await;
    // Subject A: its first event fails twice; subject B must not wait for it.
    rig.script(&ev(1), &[Err(()), Err(())]);
    rig.publish(EventType::OrderCreated, Some("A"), 1).await;
    rig.publish(EventType::OrderActive, Some("A"), 2).await;
    rig.publish(EventType::OrderCreated, Some("B"), 3).await;
    rig.publish(EventType::EsimDownloaded, Some("A"), 4).await;
    rig.publish(EventType::OrderActive, Some("B"), 5).await;
    let mut acked = Vec::new();
    let mut attempts_of_a = Vec::new();
    while acked.len() < 5 {
        let s = rig.next().await;
        if s.body["subject"] == "A" {
            attempts_of_a.push(s.id.clone());
        }
        if s.answered == Ok(204) {
            acked.push(s.id.clone());
        }
    }
    let pos = |id: &str| acked.iter().position(|x| x == id).expect("acked");
    // B went through while A's head was failing.
    assert!(pos(&ev(3)) < pos(&ev(1)));
    assert!(pos(&ev(5)) < pos(&ev(1)));
    // A in order, and nothing of A was attempted before its predecessor was acknowledged.
    assert!(pos(&ev(1)) < pos(&ev(2)) && pos(&ev(2)) < pos(&ev(4)));
    assert_eq!(attempts_of_a, [ev(1), ev(1), ev(1), ev(2), ev(4)]);
    assert!(pos(&ev(3)) < pos(&ev(5)));
}

#[tokio::test(start_paused = true)]
async fn an_endpoint_is_disabled_after_the_schedule_and_that_is_an_event() {
    let mut rig = Rig::new(true).await;
    let (id, _) = rig.endpoint(&[]).await;
    let (other, _) = rig.endpoint(&[EventType::EndpointDisabled]).await;
    rig.publish(EventType::OrderActive, Some("A"), 1).await;
    rig.publish(EventType::OrderActive, Some("A"), 2).await;
    let started = Instant::now();
    let mut attempts = 0;
    while attempts < ATTEMPTS {
        let s = rig.next().await;
        if s.id == ev(1) {
            attempts += 1;
        }
        assert_ne!(s.id, ev(2), "the second event waits behind the first");
    }
    let total: u64 = DELAYS_MS.iter().sum();
    assert!(Instant::now() - started >= Duration::from_millis(total).mul_f64(1.0 - JITTER));
    // The ninth failure is committed with the disabling; wait for the event it publishes.
    let disabled = loop {
        let s = rig.next().await;
        if s.body["type"] == "endpoint.disabled" {
            break s;
        }
    };
    assert_eq!(disabled.body["data"]["id"], json!(id));
    let e = rig
        .store
        .webhook_endpoint(TENANT, &id)
        .await
        .expect("read")
        .expect("endpoint");
    assert!(e.disabled.is_some());
    let log = rig
        .store
        .public_events(TENANT, 0, Some(EventType::EndpointDisabled), 10)
        .await
        .expect("events");
    assert_eq!(log.len(), 1, "endpoint.disabled is in the event log");
    let d = rig
        .store
        .webhook_deliveries(TENANT, &id, None, 10)
        .await
        .expect("read")
        .expect("endpoint");
    assert!(
        d.iter().all(|d| d.status == DeliveryStatus::Failed),
        "{d:?}"
    );
    assert_eq!(
        d.iter().find(|d| d.event_seq == 1).map(|d| d.attempts),
        Some(ATTEMPTS)
    );
    // Nothing more is attempted for the disabled endpoint; the other one still tries to
    // deliver `endpoint.disabled`.
    let due = rig.store.due_deliveries(u64::MAX, 10).await.expect("due");
    assert!(due.iter().all(|k| k.endpoint == other), "{due:?}");
    assert_eq!(due.len(), 1);
    // Enabled again, it is attempted for a new event (seq 4, after `endpoint.disabled`)
    // and never again for the two it gave up.
    let now = rig.clock.now_ms();
    let e = rig.store.enable_webhook_endpoint(TENANT, &id, now).await;
    assert!(e.expect("enable").expect("endpoint").disabled.is_none());
    rig.publish(EventType::OrderActive, Some("B"), 4).await;
    let read = async || {
        rig.store
            .webhook_deliveries(TENANT, &id, None, 10)
            .await
            .expect("read")
            .expect("endpoint")
    };
    settle(async || {
        read()
            .await
            .iter()
            .any(|d| d.event_seq == 4 && d.attempts > 0)
    })
    .await;
    let attempts: Vec<(u64, u32)> = read()
        .await
        .iter()
        .map(|d| (d.event_seq, d.attempts))
        .collect();
    assert_eq!(attempts, [(4, 1), (2, 0), (1, ATTEMPTS)]);
}

#[tokio::test(start_paused = true)]
async fn a_rotated_secret_signs_beside_the_new_one_for_24_hours() {
    let mut rig = Rig::new(false).await;
    let (id, old_key) = rig.endpoint(&[]).await;
    let new_key = vec![0x17; 32];
    let now = rig.clock.now_ms();
    let sealed = rig.keys.seal(&secret_context(&id), &new_key).expect("seal");
    rig.store
        .rotate_webhook_secret(
            TENANT,
            &id,
            EndpointSecret {
                sealed,
                created_at_ms: now,
                expires_at_ms: None,
            },
            now + 24 * 3_600_000,
        )
        .await
        .expect("rotate")
        .expect("endpoint");
    rig.publish(EventType::OrderActive, Some("A"), 1).await;
    let s = rig.next().await;
    let sigs: Vec<&str> = s.signature.split(' ').collect();
    assert_eq!(sigs.len(), 2, "{}", s.signature);
    let ts: u64 = s.timestamp.parse().expect("ts");
    for key in [&old_key, &new_key] {
        let one = signing::sign(key, &s.id, ts, &s.raw);
        assert!(
            sigs.contains(&one.as_str()),
            "a signature under each secret"
        );
    }
    tokio::time::advance(Duration::from_secs(24 * 3600 + 1)).await;
    rig.publish(EventType::OrderActive, Some("A"), 2).await;
    let s = rig.next().await;
    let ts: u64 = s.timestamp.parse().expect("ts");
    assert_eq!(s.signature, signing::sign(&new_key, &s.id, ts, &s.raw));
}

#[tokio::test(start_paused = true)]
async fn pending_deliveries_survive_a_store_reopen() {
    let mut rig = Rig::new(false).await;
    rig.endpoint(&[]).await;
    rig.stop_dispatcher().await;
    rig.publish(EventType::OrderCreated, Some("A"), 1).await;
    rig.publish(EventType::OrderActive, Some("A"), 2).await;
    // Close the store as a crash would leave it: only what was committed remains.
    let store = std::mem::replace(&mut rig.store, open(tempfile::tempdir().expect("d").path()));
    store.close().await;
    rig.store = open(rig.dir.path());
    assert_eq!(
        rig.store
            .due_deliveries(u64::MAX, 10)
            .await
            .expect("due")
            .len(),
        1
    );
    rig.start();
    let first = rig.next().await;
    let second = rig.next().await;
    assert_eq!((first.id, second.id), (ev(1), ev(2)));
}

/// Under load the dispatcher reads due deliveries once per few ended attempts; a slot that
/// is free still takes a new delivery within `REFILL_WAIT` (20 ms), so a receiver that
/// hangs on most of the slots does not hold another subject's events back until one of
/// its attempts times out.
#[tokio::test(start_paused = true)]
async fn a_free_slot_takes_a_new_delivery_while_the_others_hang() {
    let mut rig = Rig::new(false).await;
    rig.endpoint(&[]).await;
    // Concurrency 8 refills per 2 ended attempts: 7 hanging posts leave one slot free.
    for n in 1..=7u32 {
        rig.transport
            .hang
            .lock()
            .expect("lock")
            .insert(ev(u64::from(n)));
        rig.publish(EventType::OrderCreated, Some(&format!("H{n}")), n)
            .await;
    }
    let mut hanging = Vec::new();
    for _ in 0..7 {
        hanging.push(rig.next().await.id);
    }
    hanging.sort();
    assert_eq!(hanging, (1..=7).map(ev).collect::<Vec<_>>());
    rig.publish(EventType::OrderCreated, Some("F"), 8).await;
    // Nothing ends; only the refill wait can start it. Yield (the paused clock stands
    // still), then move the clock past that wait.
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    tokio::time::advance(Duration::from_millis(25)).await;
    let limit = std::time::Instant::now() + Duration::from_secs(10);
    let seen = loop {
        if let Ok(s) = rig.rx.try_recv() {
            break s;
        }
        assert!(
            std::time::Instant::now() < limit,
            "the free slot never took event 8"
        );
        tokio::task::yield_now().await;
    };
    assert_eq!(seen.id, ev(8));
    assert_eq!(seen.answered, Ok(204));
    rig.stop_dispatcher().await;
}

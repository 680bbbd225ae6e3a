//! The PostgreSQL backend's public event log and webhook outbox against a real PostgreSQL
//! (`common/postgres.rs`), with several nodes as several `PgStore`s on one database:
//! gap-free tenant numbering under concurrent publishers, readers that never skip a late
//! commit, type filters and paging, endpoints (limit, rotation, delete), deliveries
//! claimed per node, ordering per subject queue, redelivery, disabling, and low stock.
//! The meanings checked are those `webhook_delivery.rs` and `webhooks.rs` expect of the
//! embedded backend.

#[path = "common/mod.rs"]
mod common;

use common::postgres::PgServer;
use gateway::clock::Clock;
use gateway::config::{DbUrl, StoreBackend, StoreConfig};
use gateway::crypto::Sealed;
use gateway::store::postgres::delivery_attempts::DELIVERY_LEASE_MS;
use gateway::store::postgres::{PgStore, events};
use gateway::store::{
    AttemptOutcome, AttemptRecord, DeliveryKey, DeliveryStatus, EndpointSecret, EventKind,
    EventType, MAX_ENDPOINTS_PER_TENANT, Redelivery, WebhookEndpoint,
};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

const ACME: &str = "acme";
const GLOBEX: &str = "globex";

fn server() -> PgServer {
    PgServer::start().unwrap_or_else(|e| panic!("{e}"))
}

fn config(url: &str) -> StoreConfig {
    StoreConfig {
        backend: StoreBackend::Postgres,
        url: Some(DbUrl::new(url)),
        pool_size: 8,
        ..StoreConfig::default()
    }
}

/// Two nodes (two stores with their own pools and node ids) on one new database.
async fn nodes(pg: &PgServer, db: &str) -> (PgStore, PgStore) {
    let url = pg.create_db(db).await.expect("create database");
    let a = PgStore::connect(&config(&url)).await.expect("connect");
    let b = PgStore::connect(&config(&url)).await.expect("connect");
    (a.with_node_id("node-a"), b.with_node_id("node-b"))
}

fn now() -> u64 {
    Clock::new().now_ms()
}

fn endpoint(id: &str, tenant: &str, types: &[EventType]) -> WebhookEndpoint {
    WebhookEndpoint {
        id: id.into(),
        tenant: tenant.into(),
        url: "https://hooks.example.com/in".into(),
        event_types: types.to_vec(),
        secrets: vec![secret(1, None)],
        disabled: None,
        created_at_ms: 1,
    }
}

fn secret(at: u64, expires: Option<u64>) -> EndpointSecret {
    EndpointSecret {
        sealed: Sealed {
            kid: "k1".into(),
            nonce: format!("{at:024x}"),
            ct: "00".repeat(48),
        },
        created_at_ms: at,
        expires_at_ms: expires,
    }
}

async fn publish(s: &PgStore, tenant: &str, t: EventType, subject: Option<&str>, n: u64) {
    s.publish_for_test(now(), tenant, t, subject, json!({"n": n}))
        .await
        .expect("publish");
}

fn key(endpoint: &str, seq: u64) -> DeliveryKey {
    DeliveryKey {
        endpoint: endpoint.into(),
        event_seq: seq,
    }
}

fn outcome(k: &DeliveryKey, at: u64, delivered: bool, retry_at_ms: Option<u64>) -> AttemptOutcome {
    AttemptOutcome {
        key: k.clone(),
        record: AttemptRecord {
            at_ms: at,
            http_status: Some(if delivered { 204 } else { 503 }),
            latency_ms: 3,
            error: (!delivered).then(|| "HTTP 503".to_owned()),
            response: None,
        },
        delivered,
        retry_at_ms,
        now_ms: at,
    }
}

fn seqs(keys: &[DeliveryKey]) -> Vec<u64> {
    keys.iter().map(|k| k.event_seq).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_numbers_are_gap_free_and_readers_see_every_event_under_two_nodes_of_publishers() {
    const WORKERS: u64 = 6;
    const EACH: u64 = 20;
    let pg = server();
    let (a, b) = nodes(&pg, "gapfree").await;
    let (a, b) = (Arc::new(a), Arc::new(b));
    // Both nodes run the sequencer; one at a time holds its lease and numbers every
    // node's events.
    let seq_a = a.spawn_sequencer(Duration::from_millis(20));
    let seq_b = b.spawn_sequencer(Duration::from_millis(20));
    let expected = WORKERS / 2 * EACH;
    // A reader pages acme's log by cursor while the writers run.
    let reader = {
        let a = a.clone();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            while (seen.len() as u64) < expected {
                assert!(
                    std::time::Instant::now() < deadline,
                    "events never all became visible: {} seen",
                    seen.len()
                );
                let after = seen
                    .last()
                    .map_or(0, |e: &gateway::store::PublicEvent| e.tenant_seq);
                let page = a.public_events(ACME, after, None, 7).await.expect("read");
                if page.is_empty() {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                seen.extend(page);
            }
            seen
        })
    };
    let mut writers = Vec::new();
    for w in 0..WORKERS {
        let node = if w % 3 == 0 { a.clone() } else { b.clone() };
        let tenant = if w % 2 == 0 { ACME } else { GLOBEX };
        writers.push(tokio::spawn(async move {
            for i in 0..EACH {
                node.publish_for_test(
                    now(),
                    tenant,
                    EventType::OrderCreated,
                    Some("line"),
                    json!({"w": w, "i": i}),
                )
                .await
                .expect("publish");
            }
        }));
    }
    for w in writers {
        w.await.expect("writer");
    }
    let seen = reader.await.expect("reader");
    seq_a.abort();
    seq_b.abort();
    a.flush_events().await.expect("flush");

    assert_eq!(
        seen.iter().map(|e| e.tenant_seq).collect::<Vec<_>>(),
        (1..=expected).collect::<Vec<_>>(),
        "the reader saw every number once, in order, with no gap"
    );
    let globex = a.public_events(GLOBEX, 0, None, 1_000).await.expect("read");
    assert_eq!(
        globex.iter().map(|e| e.tenant_seq).collect::<Vec<_>>(),
        (1..=expected).collect::<Vec<_>>()
    );
    for log in [&seen, &globex] {
        let mut by_worker: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        for e in log.iter() {
            assert_eq!(e.id, gateway::store::event_id(e.tenant_seq));
            by_worker
                .entry(e.data["w"].as_u64().expect("w"))
                .or_default()
                .push(e.data["i"].as_u64().expect("i"));
        }
        for (w, is) in by_worker {
            assert_eq!(
                is,
                (0..EACH).collect::<Vec<_>>(),
                "worker {w}'s events in its commit order"
            );
        }
    }
    let globals: BTreeSet<u64> = seen.iter().chain(&globex).map(|e| e.seq).collect();
    assert_eq!(
        globals.len() as u64,
        2 * expected,
        "global numbers are unique"
    );
    assert_eq!(globals.last().copied(), Some(2 * expected), "and gap-free");
}

#[tokio::test]
async fn a_reader_never_skips_an_event_whose_transaction_commits_late() {
    let pg = server();
    let (s, _) = nodes(&pg, "late").await;
    let published = Notify::new();
    let go_on = Notify::new();
    // The late writer starts first, publishes, and waits before committing.
    let gates = (&published, &go_on);
    let late = s.transaction(&gates, |tx, (published, go_on)| {
        Box::pin(async move {
            events::publish(
                tx,
                1,
                ACME,
                EventType::OrderCreated,
                Some("x"),
                json!({"w": "late"}),
            )
            .await?;
            published.notify_one();
            go_on.notified().await;
            Ok(())
        })
    });
    let rest = async {
        published.notified().await;
        publish(&s, ACME, EventType::OrderActive, Some("y"), 1).await;
        s.flush_events().await.expect("flush");
        let first = s.public_events(ACME, 0, None, 10).await.expect("read");
        assert_eq!(first.len(), 1, "only the committed event is visible");
        assert_eq!(first[0].tenant_seq, 1);
        assert_eq!(first[0].data, json!({"n": 1}));
        go_on.notify_one();
        first[0].tenant_seq
    };
    let (done, cursor) = tokio::join!(late, rest);
    done.expect("late commit");
    s.flush_events().await.expect("flush");
    let next = s.public_events(ACME, cursor, None, 10).await.expect("read");
    assert_eq!(
        next.len(),
        1,
        "the late commit comes after the reader's cursor"
    );
    assert_eq!(
        (next[0].tenant_seq, &next[0].data),
        (2, &json!({"w": "late"}))
    );
}

#[tokio::test]
async fn the_log_filters_by_type_pages_by_cursor_and_keeps_tenants_apart() {
    let pg = server();
    let (s, _) = nodes(&pg, "filter").await;
    let types = [
        EventType::OrderCreated,
        EventType::OrderActive,
        EventType::OrderCreated,
        EventType::EsimDownloaded,
        EventType::OrderCreated,
        EventType::OrderActive,
    ];
    for (i, t) in types.iter().enumerate() {
        publish(&s, ACME, *t, Some("line"), i as u64).await;
    }
    publish(&s, GLOBEX, EventType::OrderCreated, None, 99).await;
    assert!(
        s.public_events(ACME, 0, None, 10)
            .await
            .expect("read")
            .is_empty(),
        "not numbered yet"
    );
    s.flush_events().await.expect("flush");

    let created = s
        .public_events(ACME, 0, Some(EventType::OrderCreated), 10)
        .await
        .expect("read");
    assert_eq!(
        created.iter().map(|e| e.tenant_seq).collect::<Vec<_>>(),
        vec![1, 3, 5]
    );
    let page = s
        .public_events(ACME, 1, Some(EventType::OrderCreated), 1)
        .await
        .expect("read");
    assert_eq!(
        page.iter().map(|e| e.tenant_seq).collect::<Vec<_>>(),
        vec![3]
    );
    let all = s.public_events(ACME, 2, None, 3).await.expect("read");
    assert_eq!(
        all.iter().map(|e| e.tenant_seq).collect::<Vec<_>>(),
        vec![3, 4, 5]
    );
    assert!(
        s.public_events(ACME, 6, None, 10)
            .await
            .expect("read")
            .is_empty()
    );
    let globex = s.public_events(GLOBEX, 0, None, 10).await.expect("read");
    assert_eq!(
        (
            globex.len(),
            globex[0].tenant_seq,
            globex[0].subject.clone()
        ),
        (1, 1, None)
    );

    let one = s.public_event(ACME, 4).await.expect("read").expect("event");
    assert_eq!(
        (one.event_type, one.id.as_str()),
        (EventType::EsimDownloaded, "evt_0000000000000004")
    );
    assert_eq!(one.data, json!({"n": 3}));
    assert_eq!(
        s.public_event(GLOBEX, 4).await.expect("read"),
        None,
        "another tenant's number"
    );
    assert_eq!(s.public_event(ACME, 7).await.expect("read"), None);

    // The internal log: endpoint changes are audit events, numbered from 1.
    s.create_webhook_endpoint(endpoint("we_1", ACME, &[]))
        .await
        .expect("create");
    s.delete_webhook_endpoint(ACME, "we_1", 5)
        .await
        .expect("delete");
    s.flush_events().await.expect("flush");
    let audit = s.events(1, 10).await.expect("audit");
    let whats: Vec<(u64, String)> = audit
        .iter()
        .map(|e| match &e.kind {
            EventKind::Admin { what } => (e.seq, what.clone()),
            k => panic!("unexpected {k:?}"),
        })
        .collect();
    assert_eq!(
        whats,
        vec![
            (1, "webhook_endpoint_created we_1".to_owned()),
            (2, "webhook_endpoint_deleted we_1".to_owned())
        ]
    );
    assert_eq!(s.events(2, 10).await.expect("audit").len(), 1);
    assert_eq!(s.events(1, 1).await.expect("audit").len(), 1);
}

#[tokio::test]
async fn endpoints_are_limited_per_tenant_even_when_two_nodes_create_at_once() {
    let pg = server();
    let (a, b) = nodes(&pg, "limit").await;
    let (a, b) = (Arc::new(a), Arc::new(b));
    let mut tasks = Vec::new();
    for i in 0..MAX_ENDPOINTS_PER_TENANT + 6 {
        let node = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            node.create_webhook_endpoint(endpoint(&format!("we_{i:02}"), ACME, &[]))
                .await
                .expect("create")
        }));
    }
    let mut created = 0;
    for t in tasks {
        created += usize::from(t.await.expect("task"));
    }
    assert_eq!(created, MAX_ENDPOINTS_PER_TENANT);
    let list = a.webhook_endpoints(ACME).await.expect("list");
    assert_eq!(list.len(), MAX_ENDPOINTS_PER_TENANT);
    let ids: Vec<&str> = list.iter().map(|e| e.id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "listed in id order");
    assert!(
        !a.create_webhook_endpoint(endpoint("we_more", ACME, &[]))
            .await
            .expect("create")
    );
    assert!(
        a.create_webhook_endpoint(endpoint("we_g", GLOBEX, &[]))
            .await
            .expect("create"),
        "the limit is per tenant"
    );
    assert_eq!(a.webhook_endpoints(GLOBEX).await.expect("list").len(), 1);
}

#[tokio::test]
async fn rotation_keeps_the_old_secret_until_its_expiry_and_drops_expired_ones() {
    let pg = server();
    let (s, _) = nodes(&pg, "rotate").await;
    let mut e = endpoint("we_r", ACME, &[EventType::OrderActive]);
    e.secrets = vec![secret(1, Some(50)), secret(10, None)];
    assert!(s.create_webhook_endpoint(e).await.expect("create"));
    let after = s
        .rotate_webhook_secret(ACME, "we_r", secret(100, None), 1_000)
        .await
        .expect("rotate")
        .expect("endpoint");
    let got: Vec<(u64, Option<u64>)> = after
        .secrets
        .iter()
        .map(|s| (s.created_at_ms, s.expires_at_ms))
        .collect();
    assert_eq!(
        got,
        vec![(10, Some(1_000)), (100, None)],
        "expired dropped, current capped, new added"
    );
    assert_eq!(
        s.webhook_endpoint(ACME, "we_r").await.expect("read"),
        Some(after.clone())
    );
    assert_eq!(after.event_types, vec![EventType::OrderActive]);
    assert_eq!(
        s.rotate_webhook_secret(GLOBEX, "we_r", secret(200, None), 2_000)
            .await
            .expect("rotate"),
        None,
        "another tenant's endpoint"
    );
    assert_eq!(
        s.webhook_endpoint(GLOBEX, "we_r").await.expect("read"),
        None
    );
    assert_eq!(
        s.rotate_webhook_secret(ACME, "we_none", secret(200, None), 2_000)
            .await
            .expect("rotate"),
        None
    );
}

#[tokio::test]
async fn deleting_an_endpoint_removes_its_deliveries_and_only_the_owner_may() {
    let pg = server();
    let (s, _) = nodes(&pg, "delete").await;
    s.create_webhook_endpoint(endpoint("we_d", ACME, &[]))
        .await
        .expect("create");
    s.create_webhook_endpoint(endpoint("we_k", ACME, &[]))
        .await
        .expect("create");
    for n in 0..3 {
        publish(&s, ACME, EventType::OrderCreated, Some("line"), n).await;
    }
    s.flush_events().await.expect("flush");
    let before = s
        .webhook_deliveries(ACME, "we_d", None, 10)
        .await
        .expect("read")
        .expect("endpoint");
    assert_eq!(
        before.iter().map(|d| d.event_seq).collect::<Vec<_>>(),
        vec![3, 2, 1],
        "newest first"
    );
    assert!(
        !s.delete_webhook_endpoint(GLOBEX, "we_d", 5)
            .await
            .expect("delete")
    );
    assert!(
        s.delete_webhook_endpoint(ACME, "we_d", 5)
            .await
            .expect("delete")
    );
    assert!(
        !s.delete_webhook_endpoint(ACME, "we_d", 6)
            .await
            .expect("delete again")
    );
    assert_eq!(
        s.webhook_deliveries(ACME, "we_d", None, 10)
            .await
            .expect("read"),
        None
    );
    assert_eq!(s.webhook_endpoint(ACME, "we_d").await.expect("read"), None);
    let due = s.due_deliveries(now(), 10).await.expect("due");
    assert_eq!(
        due,
        vec![key("we_k", 1)],
        "only the other endpoint's queue head is left"
    );
    assert_eq!(
        s.delivery_job(&key("we_d", 1))
            .await
            .expect("job")
            .map(|j| j.event.id),
        None
    );
    let job = s
        .delivery_job(&key("we_k", 1))
        .await
        .expect("job")
        .expect("job");
    assert_eq!(
        (
            job.event.id.as_str(),
            job.event.tenant_seq,
            job.endpoint.id.as_str()
        ),
        ("evt_0000000000000001", 1, "we_k")
    );
    assert_eq!(job.delivery.status, DeliveryStatus::Pending);
    let rows: i64 = s
        .client()
        .await
        .expect("client")
        .query_one(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint = 'we_d'",
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(rows, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claimed_delivery_goes_to_no_other_node_until_recorded_or_lapsed() {
    let pg = server();
    let (a, b) = nodes(&pg, "claims").await;
    a.create_webhook_endpoint(endpoint("we_c", ACME, &[]))
        .await
        .expect("create");
    publish(&a, ACME, EventType::OrderCreated, Some("s1"), 1).await;
    publish(&a, ACME, EventType::OrderCreated, Some("s2"), 2).await;
    a.flush_events().await.expect("flush");
    let t = now();
    let mine = a.due_deliveries(t, 10).await.expect("due");
    assert_eq!(seqs(&mine), vec![1, 2]);
    assert!(
        b.due_deliveries(t, 10).await.expect("due").is_empty(),
        "claimed by a"
    );
    assert!(
        a.due_deliveries(t, 10).await.expect("due").is_empty(),
        "claimed already"
    );
    assert_eq!(
        b.next_delivery_due(t).await.expect("next"),
        Some(t + DELIVERY_LEASE_MS),
        "another node sees them due when the claim lapses"
    );
    assert!(
        !b.record_delivery_attempt(outcome(&mine[0], t, true, None))
            .await
            .expect("record"),
        "not b's claim"
    );
    assert!(
        a.record_delivery_attempt(outcome(&mine[0], t, true, None))
            .await
            .expect("record")
    );
    assert!(
        !a.record_delivery_attempt(outcome(&mine[0], t, true, None))
            .await
            .expect("record"),
        "no longer pending"
    );
    assert!(
        b.due_deliveries(t + DELIVERY_LEASE_MS - 1, 10)
            .await
            .expect("due")
            .is_empty()
    );
    // a stopped before recording the second: its claim lapses and b takes it.
    let lapsed = t + DELIVERY_LEASE_MS;
    let taken = b.due_deliveries(lapsed, 10).await.expect("due");
    assert_eq!(seqs(&taken), vec![2]);
    assert!(
        !a.record_delivery_attempt(outcome(&taken[0], lapsed, true, None))
            .await
            .expect("record"),
        "b holds it now"
    );
    let retry = lapsed + 30_000;
    assert!(
        b.record_delivery_attempt(outcome(&taken[0], lapsed, false, Some(retry)))
            .await
            .expect("record")
    );
    assert_eq!(
        a.next_delivery_due(lapsed).await.expect("next"),
        Some(retry)
    );
    assert!(
        a.due_deliveries(retry - 1, 10)
            .await
            .expect("due")
            .is_empty()
    );
    assert_eq!(
        seqs(&a.due_deliveries(retry, 10).await.expect("due")),
        vec![2],
        "the retry is anyone's"
    );
    let d = a
        .webhook_deliveries(ACME, "we_c", None, 10)
        .await
        .expect("read")
        .expect("endpoint");
    assert_eq!(
        d.iter()
            .map(|d| (d.event_seq, d.status, d.attempts))
            .collect::<Vec<_>>(),
        vec![
            (2, DeliveryStatus::Pending, 1),
            (1, DeliveryStatus::Delivered, 1)
        ]
    );
    assert_eq!(d[0].next_attempt_at_ms, Some(retry));

    // Many due at once, both nodes claiming concurrently: each is handed out once.
    for i in 0..30 {
        publish(&a, ACME, EventType::OrderActive, Some(&format!("m{i}")), i).await;
    }
    a.flush_events().await.expect("flush");
    let t = now() + 3 * DELIVERY_LEASE_MS;
    let (a, b) = (Arc::new(a), Arc::new(b));
    let claimer = |s: Arc<PgStore>| {
        tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let batch = s.due_deliveries(t, 4).await.expect("due");
                if batch.is_empty() {
                    return got;
                }
                got.extend(batch);
            }
        })
    };
    let (ga, gb) = (claimer(a.clone()), claimer(b.clone()));
    let (ga, gb) = (ga.await.expect("a"), gb.await.expect("b"));
    let mut all: Vec<u64> = seqs(&ga).into_iter().chain(seqs(&gb)).collect();
    all.sort();
    let mut expected: Vec<u64> = (3..=32).collect();
    expected.insert(0, 2);
    assert_eq!(
        all, expected,
        "every due delivery claimed by exactly one node"
    );
}

#[tokio::test]
async fn one_subject_is_delivered_in_order_while_another_proceeds() {
    let pg = server();
    let (s, _) = nodes(&pg, "queues").await;
    s.create_webhook_endpoint(endpoint("we_q", ACME, &[]))
        .await
        .expect("create");
    publish(&s, ACME, EventType::OrderCreated, Some("A"), 1).await;
    publish(&s, ACME, EventType::OrderActive, Some("A"), 2).await;
    publish(&s, ACME, EventType::OrderCreated, Some("B"), 3).await;
    publish(&s, ACME, EventType::EsimDownloaded, Some("A"), 4).await;
    publish(&s, ACME, EventType::OrderCreated, None, 5).await;
    s.flush_events().await.expect("flush");
    let t = now();
    let due = s.due_deliveries(t, 10).await.expect("due");
    assert_eq!(
        seqs(&due),
        vec![1, 3, 5],
        "queue heads only; no subject: a queue of its own"
    );
    let retry = t + 5_000;
    assert!(
        s.record_delivery_attempt(outcome(&key("we_q", 1), t, false, Some(retry)))
            .await
            .expect("record")
    );
    assert!(
        s.record_delivery_attempt(outcome(&key("we_q", 3), t, true, None))
            .await
            .expect("record")
    );
    assert!(
        s.due_deliveries(retry - 1, 10)
            .await
            .expect("due")
            .is_empty(),
        "A waits for its head's retry"
    );
    assert_eq!(
        seqs(&s.due_deliveries(retry, 10).await.expect("due")),
        vec![1]
    );
    assert!(
        s.record_delivery_attempt(outcome(&key("we_q", 1), retry, true, None))
            .await
            .expect("record")
    );
    assert_eq!(
        seqs(&s.due_deliveries(retry, 10).await.expect("due")),
        vec![2],
        "the next of A"
    );
    assert!(
        s.record_delivery_attempt(outcome(&key("we_q", 2), retry, true, None))
            .await
            .expect("record")
    );
    assert_eq!(
        seqs(&s.due_deliveries(retry, 10).await.expect("due")),
        vec![4]
    );
    assert!(
        s.record_delivery_attempt(outcome(&key("we_q", 4), retry, true, None))
            .await
            .expect("record")
    );
    assert!(
        s.due_deliveries(u64::MAX / 2, 10)
            .await
            .expect("due")
            .iter()
            .all(|k| k.event_seq == 5)
    );
    let page = s
        .webhook_deliveries(ACME, "we_q", Some(4), 2)
        .await
        .expect("read")
        .expect("endpoint");
    assert_eq!(
        page.iter().map(|d| d.event_seq).collect::<Vec<_>>(),
        vec![3, 2],
        "before the cursor, newest first"
    );
    let first = s
        .webhook_deliveries(ACME, "we_q", Some(2), 10)
        .await
        .expect("read")
        .expect("endpoint");
    assert_eq!(
        (first[0].attempts, first[0].log.len(), first[0].status),
        (2, 2, DeliveryStatus::Delivered)
    );
    assert_eq!(first[0].log[0].http_status, Some(503));
    assert_eq!(
        s.webhook_deliveries(GLOBEX, "we_q", None, 10)
            .await
            .expect("read"),
        None,
        "another tenant's endpoint"
    );
    assert_eq!(
        s.webhook_deliveries(ACME, "we_q", Some(1), 10)
            .await
            .expect("read"),
        Some(vec![])
    );
}

#[tokio::test]
async fn redelivery_requeues_an_event_and_a_failed_schedule_disables_the_endpoint() {
    let pg = server();
    let (s, _) = nodes(&pg, "redeliver").await;
    s.create_webhook_endpoint(endpoint("we_1", ACME, &[]))
        .await
        .expect("create");
    s.create_webhook_endpoint(endpoint("we_2", ACME, &[EventType::EndpointDisabled]))
        .await
        .expect("create");
    publish(&s, ACME, EventType::OrderActive, Some("A"), 1).await;
    publish(&s, ACME, EventType::OrderActive, Some("A"), 2).await;
    s.flush_events().await.expect("flush");
    let t = now();
    assert_eq!(seqs(&s.due_deliveries(t, 10).await.expect("due")), vec![1]);
    assert!(
        s.record_delivery_attempt(outcome(&key("we_1", 1), t, true, None))
            .await
            .expect("record")
    );
    assert_eq!(
        s.redeliver_event(ACME, 1, t).await.expect("redeliver"),
        Redelivery::Queued(vec!["we_1".into()])
    );
    // Event 2 heads queue A now: the redelivered event 1 waits behind it.
    assert_eq!(seqs(&s.due_deliveries(t, 10).await.expect("due")), vec![2]);
    assert_eq!(
        s.redeliver_event(ACME, 2, t).await.expect("redeliver"),
        Redelivery::Queued(vec!["we_1".into()]),
        "a pending delivery stays as it is"
    );
    assert_eq!(
        s.redeliver_event(ACME, 9, t).await.expect("redeliver"),
        Redelivery::NoEvent
    );
    assert_eq!(
        s.redeliver_event(GLOBEX, 1, t).await.expect("redeliver"),
        Redelivery::NoEvent
    );
    assert!(
        s.record_delivery_attempt(outcome(&key("we_1", 2), t, true, None))
            .await
            .expect("record")
    );
    let again = s.due_deliveries(t, 10).await.expect("due");
    assert_eq!(
        seqs(&again),
        vec![1],
        "the redelivery is due once its queue is free"
    );
    let d = s
        .delivery_job(&again[0])
        .await
        .expect("job")
        .expect("job")
        .delivery;
    assert_eq!(
        (d.attempts, d.schedule_attempts, d.status),
        (1, 0, DeliveryStatus::Pending)
    );

    // The schedule runs out on event 1: the endpoint is disabled, that is an event for
    // the other endpoint, and redelivery finds no endpoint.
    assert!(
        s.record_delivery_attempt(outcome(&key("we_1", 1), t, false, None))
            .await
            .expect("record")
    );
    let e = s
        .webhook_endpoint(ACME, "we_1")
        .await
        .expect("read")
        .expect("endpoint");
    let reason = e.disabled.expect("disabled").reason;
    assert!(
        reason.contains("evt_0000000000000001") && reason.contains("HTTP 503"),
        "{reason}"
    );
    s.flush_events().await.expect("flush");
    let disabled = s
        .public_events(ACME, 0, Some(EventType::EndpointDisabled), 10)
        .await
        .expect("read");
    assert_eq!(disabled.len(), 1);
    assert_eq!(
        (disabled[0].data["id"].clone(), disabled[0].subject.clone()),
        (json!("we_1"), Some("we_1".into()))
    );
    let due = s.due_deliveries(now(), 10).await.expect("due");
    assert_eq!(due, vec![key("we_2", disabled[0].tenant_seq)]);
    assert_eq!(
        s.redeliver_event(ACME, 2, t).await.expect("redeliver"),
        Redelivery::NoEndpoint
    );
    let d = s
        .webhook_deliveries(ACME, "we_1", None, 10)
        .await
        .expect("read")
        .expect("endpoint");
    assert!(
        d.iter().all(|d| d.status != DeliveryStatus::Pending),
        "{d:?}"
    );
}

#[tokio::test]
async fn low_stock_is_published_once_per_crossing() {
    let pg = server();
    let (s, _) = nodes(&pg, "lowstock").await;
    let set = async |n: i64| {
        s.client()
            .await
            .expect("client")
            .execute(
                "INSERT INTO counters (tenant, name, scope, shard, n) VALUES ('acme', 'sims_available', 'b1', 3, $1)
                 ON CONFLICT (tenant, name, scope, shard) DO UPDATE SET n = excluded.n",
                &[&n],
            )
            .await
            .expect("counter");
    };
    let low = async || {
        s.flush_events().await.expect("flush");
        s.public_events(ACME, 0, Some(EventType::InventoryLowStock), 10)
            .await
            .expect("read")
    };
    s.set_low_stock_threshold(Some(5)).await.expect("threshold");
    set(3).await;
    assert_eq!(
        s.watch_low_stock().await.expect("watch"),
        0,
        "already below when first seen: no crossing"
    );
    set(8).await;
    assert_eq!(s.watch_low_stock().await.expect("watch"), 0);
    set(5).await;
    assert_eq!(s.watch_low_stock().await.expect("watch"), 1);
    set(2).await;
    assert_eq!(
        s.watch_low_stock().await.expect("watch"),
        0,
        "once per crossing"
    );
    let events = low().await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].data,
        json!({"counter": "sims_available", "available": 5, "threshold": 5})
    );
    assert_eq!(events[0].subject, None);
    set(6).await;
    assert_eq!(s.watch_low_stock().await.expect("watch"), 0);
    set(4).await;
    assert_eq!(
        s.watch_low_stock().await.expect("watch"),
        1,
        "rose above, fell again"
    );
    s.set_low_stock_threshold(None).await.expect("off");
    set(9).await;
    s.watch_low_stock().await.expect("watch");
    set(0).await;
    assert_eq!(s.watch_low_stock().await.expect("watch"), 0, "off");
    assert_eq!(low().await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sequencer_task_of_open_numbers_events_and_wakes_the_dispatcher() {
    let pg = server();
    let url = pg.create_db("open").await.expect("create database");
    let a = PgStore::open(&config(&url)).await.expect("open");
    let wake = a.deliveries_waker();
    a.create_webhook_endpoint(endpoint("we_o", ACME, &[]))
        .await
        .expect("create");
    publish(&a, ACME, EventType::OrderActive, Some("x"), 1).await;
    // No flush: the task started by `open` numbers it and queues its delivery.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        assert!(std::time::Instant::now() < deadline, "never numbered");
        tokio::time::timeout(Duration::from_secs(5), wake.notified())
            .await
            .expect("the dispatcher is woken at least every poll interval");
        if !a.due_deliveries(now(), 10).await.expect("due").is_empty() {
            break;
        }
    }
    assert_eq!(
        a.public_events(ACME, 0, None, 10)
            .await
            .expect("read")
            .len(),
        1
    );
}

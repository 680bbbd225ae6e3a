//! The logs' batch rows (migration 10): a transaction's entries are one row per log (per
//! run of one tenant and type for public events), numbered at once; every reader finds
//! each entry, wherever in its batch it sits.

use super::event_log::acme_endpoint;
use super::*;
use gateway::store::dump::DumpTable;
use gateway::store::{DeliveryKey, PublicEvent, Redelivery};

/// (tenant, type, payload index) of each public event the two transactions publish, in
/// their order; acme's runs are created ×3, active, created ×2 (after globex's), created.
const PUBLISHED: [(&str, EventType, u32); 8] = [
    ("acme", EventType::OrderCreated, 0),
    ("acme", EventType::OrderCreated, 1),
    ("acme", EventType::OrderCreated, 2),
    ("acme", EventType::OrderActive, 3),
    ("globex", EventType::OrderCreated, 4),
    ("acme", EventType::OrderCreated, 5),
    ("acme", EventType::OrderCreated, 6),
    ("acme", EventType::OrderCreated, 7),
];

/// Writes `PUBLISHED` (the last in a second transaction) and six audit log entries (four,
/// then two), numbers them, and returns acme's public events as read in one page.
async fn written(s: &PgStore) -> Vec<PublicEvent> {
    for (range, audit) in [(0..7, 0..4u32), (7..8, 4..6)] {
        s.transaction(&(range, audit), |tx, (range, audit)| {
            let (range, audit) = (range.clone(), audit.clone());
            Box::pin(async move {
                for (tenant, t, i) in &PUBLISHED[range] {
                    let subject = format!("line-{i}");
                    events::publish(tx, 1_000, tenant, *t, Some(&subject), json!({"i": i})).await?;
                }
                for i in audit {
                    let what = format!("entry-{i}");
                    events::log_event(tx, 1_000, "acme", None, EventKind::Admin { what }).await?;
                }
                Ok(())
            })
        })
        .await
        .expect("publish");
    }
    s.flush_events().await.expect("flush");
    let c = s.client().await.expect("client");
    let sizes = |sql: &'static str| {
        let c = &c;
        async move {
            let rows = c.query(sql, &[]).await.expect("sizes");
            rows.iter().map(|r| r.get::<_, i32>(0)).collect::<Vec<_>>()
        }
    };
    assert_eq!(
        sizes("SELECT n FROM public_batches ORDER BY txn, ord").await,
        [3, 1, 1, 2, 1],
        "a row per run of one tenant and type"
    );
    assert_eq!(
        sizes("SELECT n FROM event_batches ORDER BY txn, ord").await,
        [4, 2],
        "a row per transaction"
    );
    s.public_events("acme", 0, None, 100).await.expect("read")
}

fn payload(e: &PublicEvent) -> u64 {
    e.data["i"].as_u64().expect("i")
}

#[tokio::test]
async fn pages_of_public_events_start_and_end_anywhere_in_a_batch() {
    let pg = server();
    let s = store(&pg, "pages").await;
    let all = written(&s).await;
    assert_eq!(
        all.iter().map(payload).collect::<Vec<_>>(),
        [0, 1, 2, 3, 5, 6, 7],
        "acme's events in order"
    );
    assert_eq!(
        all.iter().map(|e| e.tenant_seq).collect::<Vec<_>>(),
        (1..=7).collect::<Vec<_>>()
    );
    let globals: Vec<u64> = all.iter().map(|e| e.seq).collect();
    assert!(globals.windows(2).all(|w| w[0] < w[1]), "{globals:?}");
    let globex = s.public_events("globex", 0, None, 10).await.expect("read");
    assert_eq!(globex.iter().map(payload).collect::<Vec<_>>(), [4]);
    assert!(!globals.contains(&globex[0].seq));

    for of_type in [
        None,
        Some(EventType::OrderCreated),
        Some(EventType::OrderActive),
    ] {
        let wanted: Vec<&PublicEvent> = all
            .iter()
            .filter(|e| of_type.is_none_or(|t| e.event_type == t))
            .collect();
        for after in 0..=8u64 {
            for limit in 1..=8usize {
                let page = s
                    .public_events("acme", after, of_type, limit)
                    .await
                    .expect("page");
                let expected: Vec<&PublicEvent> = wanted
                    .iter()
                    .copied()
                    .filter(|e| e.tenant_seq > after)
                    .take(limit)
                    .collect();
                assert_eq!(
                    page.iter().collect::<Vec<_>>(),
                    expected,
                    "after {after}, limit {limit}, type {of_type:?}"
                );
            }
        }
    }
    for seq in 0..=8u64 {
        let one = s.public_event("acme", seq).await.expect("one");
        assert_eq!(
            one.as_ref(),
            all.iter().find(|e| e.tenant_seq == seq),
            "{seq}"
        );
    }
}

#[tokio::test]
async fn audit_log_reads_and_dumps_page_through_batches() {
    let pg = server();
    let s = store(&pg, "dumps").await;
    let all = written(&s).await;
    let entries = s.events(0, 100).await.expect("events");
    let whats: Vec<String> = entries
        .iter()
        .map(|e| match &e.kind {
            EventKind::Admin { what } => what.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        whats,
        (0..6).map(|i| format!("entry-{i}")).collect::<Vec<_>>()
    );
    assert_eq!(
        entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=6).collect::<Vec<_>>()
    );
    for from in 0..=7u64 {
        for limit in 1..=7usize {
            let page = s.events(from, limit).await.expect("page");
            let expected: Vec<&Event> = entries
                .iter()
                .filter(|e| e.seq >= from)
                .take(limit)
                .collect();
            assert_eq!(
                page.iter().collect::<Vec<_>>(),
                expected,
                "from {from}, limit {limit}"
            );
        }
    }

    for (table, keys) in [
        (
            DumpTable::PublicEvents,
            (1..=7)
                .map(|i| format!("acme/{i}"))
                .chain(["globex/1".to_owned()])
                .collect::<Vec<_>>(),
        ),
        (
            DumpTable::AuditEvents,
            (1..=6).map(|i| i.to_string()).collect(),
        ),
    ] {
        for size in 1..=3 {
            let (mut cursor, mut seen) = (None, Vec::new());
            loop {
                let page = s
                    .dump_page(table, cursor.as_deref(), size)
                    .await
                    .expect("dump");
                seen.extend(page.rows.iter().map(|r| r.key.clone()));
                match page.next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            assert_eq!(seen, keys, "{table:?} in pages of {size}");
        }
    }
    let dumped = s
        .dump_page(DumpTable::PublicEvents, Some("acme/4"), 1)
        .await
        .expect("dump");
    assert_eq!(
        dumped.rows[0].doc,
        serde_json::to_value(&all[4]).expect("json")
    );
}

#[tokio::test]
async fn webhook_jobs_and_redeliveries_find_an_entry_inside_its_batch() {
    let pg = server();
    let s = store(&pg, "jobs").await;
    acme_endpoint(&s).await;
    let all = written(&s).await;
    let keys: Vec<DeliveryKey> = (1..=8)
        .map(|event_seq| DeliveryKey {
            endpoint: "we_1".into(),
            event_seq,
        })
        .collect();
    let jobs = s.delivery_jobs(&keys).await.expect("jobs");
    for (i, job) in jobs.iter().enumerate() {
        match (job, all.get(i)) {
            (Some(job), Some(e)) => {
                assert_eq!(job.event.id, e.id);
                assert_eq!(job.event.event_type, e.event_type);
                let body: serde_json::Value =
                    serde_json::from_slice(&job.event.body).expect("body");
                assert_eq!(body["data"]["i"], json!(payload(e)), "{body}");
            }
            (None, None) => {}
            other => panic!("delivery {}: {other:?}", i + 1),
        }
    }
    assert_eq!(
        s.redeliver_event("acme", 6, 2_000)
            .await
            .expect("redeliver"),
        Redelivery::Queued(vec!["we_1".into()])
    );
    assert_eq!(
        s.redeliver_event("acme", 8, 2_000)
            .await
            .expect("redeliver"),
        Redelivery::NoEvent
    );
}

/// Transactions, each a list of entries (tenant 0 or 1, `order.active` or not), published
/// in that order with one audit log entry per public event.
type Layout = Vec<Vec<(usize, bool)>>;

/// Publishes `layout` (payload `i` counting entries across the layout) and numbers it.
async fn write_layout(s: &PgStore, layout: &Layout) {
    let mut i = 0u32;
    for entries in layout {
        let numbered: Vec<(usize, bool, u32)> = entries
            .iter()
            .map(|&(t, active)| {
                i += 1;
                (t, active, i - 1)
            })
            .collect();
        s.transaction(&numbered, |tx, numbered| {
            Box::pin(async move {
                for &(t, active, i) in numbered {
                    let (tenant, kind) = (["t0", "t1"][t], event_kind(active));
                    let subject = format!("line-{i}");
                    events::publish(tx, 1_000, tenant, kind, Some(&subject), json!({"i": i}))
                        .await?;
                    let what = format!("entry-{i}");
                    events::log_event(tx, 1_000, tenant, None, EventKind::Admin { what }).await?;
                }
                Ok(())
            })
        })
        .await
        .expect("publish");
    }
    s.flush_events().await.expect("flush");
}

fn event_kind(active: bool) -> EventType {
    if active {
        EventType::OrderActive
    } else {
        EventType::OrderCreated
    }
}

#[test]
fn any_layout_of_batches_reads_back_as_its_entries_in_order() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let pg = server();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let layouts = prop::collection::vec(
        prop::collection::vec((0..2usize, any::<bool>()), 0..6),
        1..6,
    );
    let queries = prop::collection::vec((0..2usize, 0..3usize, 0..20u64, 1..8usize), 12);
    let case = AtomicU32::new(0);
    let mut runner = TestRunner::new(Config {
        cases: 12,
        ..Config::default()
    });
    runner
        .run(&(layouts, queries), |(layout, queries)| {
            let db = format!("layout{}", case.fetch_add(1, Ordering::Relaxed));
            rt.block_on(async {
                let s = store(&pg, &db).await;
                write_layout(&s, &layout).await;
                // The model: each tenant's (payload, type) in publication order.
                let entries: Vec<(usize, u64, EventType)> = layout
                    .iter()
                    .flatten()
                    .zip(0u64..)
                    .map(|(&(t, active), i)| (t, i, event_kind(active)))
                    .collect();
                for (t, tenant) in ["t0", "t1"].into_iter().enumerate() {
                    let mine: Vec<(u64, u64, EventType)> = entries
                        .iter()
                        .filter(|e| e.0 == t)
                        .zip(1u64..)
                        .map(|(e, seq)| (seq, e.1, e.2))
                        .collect();
                    let read = |page: Vec<PublicEvent>| -> Vec<(u64, u64, EventType)> {
                        page.iter()
                            .map(|e| (e.tenant_seq, payload(e), e.event_type))
                            .collect()
                    };
                    let all = s.public_events(tenant, 0, None, 100).await.expect("all");
                    prop_assert_eq!(read(all), mine.clone());
                    for &(qt, of_type, after, limit) in &queries {
                        if qt != t {
                            continue;
                        }
                        let of_type = [
                            None,
                            Some(EventType::OrderCreated),
                            Some(EventType::OrderActive),
                        ][of_type];
                        let page = s
                            .public_events(tenant, after, of_type, limit)
                            .await
                            .expect("page");
                        let want: Vec<(u64, u64, EventType)> = mine
                            .iter()
                            .filter(|e| e.0 > after && of_type.is_none_or(|k| e.2 == k))
                            .take(limit)
                            .cloned()
                            .collect();
                        prop_assert_eq!(
                            read(page),
                            want,
                            "after {} limit {} {:?}",
                            after,
                            limit,
                            of_type
                        );
                    }
                    for seq in 0..=mine.len() as u64 + 1 {
                        let one = s.public_event(tenant, seq).await.expect("one");
                        let want = mine.iter().find(|e| e.0 == seq).cloned();
                        prop_assert_eq!(
                            one.map(|e| (e.tenant_seq, payload(&e), e.event_type)),
                            want
                        );
                    }
                }
                // One public batch row per run of a transaction's entries of one tenant
                // and type, one audit log batch per transaction that appended.
                let runs: usize = layout
                    .iter()
                    .map(|entries| entries.chunk_by(|a, b| a == b).count())
                    .sum();
                let c = s.client().await.expect("client");
                let count = |sql: &'static str| {
                    let c = &c;
                    async move { c.query_one(sql, &[]).await.expect("count").get::<_, i64>(0) }
                };
                prop_assert_eq!(
                    count("SELECT COUNT(*) FROM public_batches").await,
                    runs as i64
                );
                let appended = layout.iter().filter(|e| !e.is_empty()).count();
                prop_assert_eq!(
                    count("SELECT COUNT(*) FROM event_batches").await,
                    appended as i64
                );
                let audit = s.events(0, 1_000).await.expect("events");
                let whats: Vec<(u64, String)> = audit
                    .iter()
                    .map(|e| match &e.kind {
                        EventKind::Admin { what } => (e.seq, what.clone()),
                        other => panic!("{other:?}"),
                    })
                    .collect();
                let want: Vec<(u64, String)> = (0..entries.len())
                    .map(|i| (i as u64 + 1, format!("entry-{i}")))
                    .collect();
                prop_assert_eq!(&whats, &want);
                for from in 0..=entries.len() as u64 + 1 {
                    let page = s.events(from, 3).await.expect("page");
                    let seqs: Vec<u64> = page.iter().map(|e| e.seq).collect();
                    let want: Vec<u64> = (from.max(1)..=entries.len() as u64).take(3).collect();
                    prop_assert_eq!(seqs, want, "from {}", from);
                }
                Ok(())
            })
        })
        .unwrap_or_else(|e| panic!("{e}"));
}

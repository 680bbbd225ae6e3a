//! The public and internal event logs: gap-free numbering under concurrent publishers on
//! two nodes, late commits, type filters and paging.

use super::*;
use std::sync::atomic::Ordering::Relaxed;

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
    // Whichever node holds the sequencer lease numbers what is still pending (an aborted
    // sequencer keeps its lease until it lapses, and the other node cannot number then).
    for node in [&a, &b] {
        node.flush_events().await.expect("flush");
    }

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

/// One node's sequencer passes run one at a time: readers that catch up at once (the
/// events API, the webhook dispatcher) and the sequencer task would otherwise write the
/// same rows (the lease, the unnumbered events) and abort one another, and under load a
/// pass gave up after its retries, failing the read behind it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_nodes_passes_run_one_at_a_time() {
    let pg = server();
    let (s, _) = nodes(&pg, "onepass").await;
    let s = Arc::new(s);
    for i in 0..40 {
        publish(&s, ACME, EventType::OrderCreated, Some("line"), i).await;
    }
    let retried = || s.retry_stats().retried.load(Relaxed);
    let before = retried();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..3 {
                s.flush_events().await.expect("flush");
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    assert_eq!(
        retried() - before,
        0,
        "passes of one node aborted one another"
    );
    let all = s.public_events(ACME, 0, None, 100).await.expect("read");
    assert_eq!(
        all.iter().map(|e| e.tenant_seq).collect::<Vec<_>>(),
        (1..=40).collect::<Vec<_>>()
    );
}

/// Readers that catch up at once share one pass: each reads back this node's commits,
/// and once a pass numbered them no reader runs another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_catching_up_at_once_share_one_pass() {
    let pg = server();
    let (s, _) = nodes(&pg, "sharedpass").await;
    let s = Arc::new(s);
    for i in 0..3 {
        publish(&s, ACME, EventType::OrderCreated, Some("line"), i).await;
    }
    let passes = || s.retry_stats().passes.ok.load(Relaxed);
    let before = passes();
    let mut readers = Vec::new();
    for _ in 0..8 {
        let s = s.clone();
        readers.push(tokio::spawn(async move {
            // The port's read, which catches up first (the inherent one does not).
            let read = gateway::store::OutboxStore::public_events(&*s, ACME, 0, None, 10);
            read.await.expect("read").len()
        }));
    }
    for r in readers {
        assert_eq!(
            r.await.expect("reader"),
            3,
            "a reader missed its node's commits"
        );
    }
    assert_eq!(passes() - before, 1, "one pass for all the readers");
    // Nothing of this node's pending: a read runs no pass.
    let read = gateway::store::OutboxStore::public_events(&*s, ACME, 0, None, 10);
    assert_eq!(read.await.expect("read").len(), 3);
    assert_eq!(passes() - before, 1);
}

/// A read whose catch-up pass fails (here another session holds the sequencer's lease
/// row past the statement timeout) still answers, with what is numbered: numbers follow
/// commits, so nothing is skipped, and the commit shows once a pass runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_whose_catch_up_fails_answers_what_is_numbered() {
    let pg = server();
    let url = pg.create_db("stuckpass").await.expect("create database");
    let mut cfg = config(&url);
    cfg.statement_timeout_ms = 300;
    let s = PgStore::connect(&cfg)
        .await
        .expect("connect")
        .with_node_id("node-a");
    let read = || gateway::store::OutboxStore::public_events(&s, ACME, 0, None, 10);
    publish(&s, ACME, EventType::OrderCreated, Some("line"), 1).await;
    assert_eq!(read().await.expect("read").len(), 1);
    publish(&s, ACME, EventType::OrderActive, Some("line"), 2).await;
    let blocker = s.client().await.expect("connection");
    blocker
        .batch_execute("BEGIN; SELECT 1 FROM leases WHERE name = 'sequencer' FOR UPDATE")
        .await
        .expect("lock the lease row");
    let stale = read().await.expect("the read answers");
    assert_eq!(stale.len(), 1, "what is numbered: {stale:?}");
    blocker.batch_execute("ROLLBACK").await.expect("unlock");
    let all = read().await.expect("read");
    assert_eq!(all.iter().map(|e| e.tenant_seq).collect::<Vec<_>>(), [1, 2]);
}

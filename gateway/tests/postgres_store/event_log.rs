//! The event sequencer: gap-free numbering per tenant, its lease, webhook queueing.

use super::*;

/// Webhook endpoint `we_1` of acme, taking every event type.
pub(super) async fn acme_endpoint(s: &PgStore) {
    let endpoint = gateway::store::WebhookEndpoint {
        id: "we_1".into(),
        tenant: "acme".into(),
        url: "https://example.com/h".into(),
        event_types: vec![],
        secrets: vec![],
        disabled: None,
        created_at_ms: 1,
    };
    s.client()
        .await
        .expect("client")
        .execute(
            "INSERT INTO webhook_endpoints (id, tenant, doc) VALUES ('we_1', 'acme', $1)",
            &[&serde_json::to_value(&endpoint).expect("json")],
        )
        .await
        .expect("endpoint");
}

#[tokio::test]
async fn the_sequencer_numbers_events_gap_free_per_tenant_under_its_lease() {
    let pg = server();
    let s = store(&pg, "seq").await;
    let publish = |tenant: &'static str, subject: &'static str, n: u32| {
        let s = &s;
        async move {
            s.transaction(&(tenant, subject, n), |tx, (tenant, subject, n)| {
                Box::pin(async move {
                    for i in 0..*n {
                        events::publish(
                            tx,
                            1_000,
                            tenant,
                            EventType::OrderCreated,
                            Some(*subject),
                            json!({"i": i}),
                        )
                        .await?;
                    }
                    events::log_event(tx, 1_000, tenant, None, EventKind::OrderCreated).await?;
                    Ok(())
                })
            })
            .await
            .expect("publish")
        }
    };
    acme_endpoint(&s).await;
    publish("acme", "line-1", 2).await;
    publish("globex", "line-9", 1).await;
    publish("acme", "line-2", 1).await;
    assert!(
        s.public_events("acme", 0, None, 10)
            .await
            .expect("read")
            .is_empty(),
        "unnumbered events are not visible"
    );
    // Another node cannot number while this one holds the lease.
    let url = pg.url("seq");
    let other = PgStore::connect(&config(&url))
        .await
        .expect("connect")
        .with_node_id("node-other");
    s.flush_events().await.expect("flush");
    publish("acme", "line-1", 1).await;
    assert_eq!(other.sequence_events().await.expect("pass"), None);
    s.flush_events().await.expect("flush");

    let acme = s.public_events("acme", 0, None, 10).await.expect("read");
    let seqs: Vec<u64> = acme.iter().map(|e| e.tenant_seq).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4]);
    assert_eq!(acme[0].id, "evt_0000000000000001");
    assert_eq!(
        acme[1].data,
        json!({"i": 1}),
        "a transaction's events keep their order"
    );
    let globex = s.public_events("globex", 0, None, 10).await.expect("read");
    assert_eq!(
        globex.iter().map(|e| e.tenant_seq).collect::<Vec<_>>(),
        vec![1]
    );
    let mut globals: Vec<u64> = acme.iter().chain(&globex).map(|e| e.seq).collect();
    globals.sort();
    assert_eq!(globals, vec![1, 2, 3, 4, 5]);
    assert_eq!(
        s.public_event("acme", 3)
            .await
            .expect("read")
            .map(|e| e.subject),
        Some(Some("line-2".into()))
    );
    assert!(
        s.public_events("acme", 0, Some(EventType::OrderActive), 10)
            .await
            .expect("read")
            .is_empty()
    );
    let audit = s.events(1, 100).await.expect("audit");
    assert_eq!(
        audit.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );

    // acme's endpoint got one delivery per event; per subject, only the head is due.
    let rows = s
        .client()
        .await
        .expect("client")
        .query(
            "SELECT event_seq, queue, due_at_ms IS NOT NULL FROM webhook_deliveries ORDER BY event_seq",
            &[],
        )
        .await
        .expect("deliveries");
    let got: Vec<(i64, String, bool)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, "line-1".into(), true),
            (2, "line-1".into(), false),
            (3, "line-2".into(), true),
            (4, "line-1".into(), false),
        ]
    );
    // Once the lease lapses or is released, the other node takes over.
    s.transaction(&s.node_id().to_owned(), |tx, node| {
        Box::pin(gateway::store::postgres::leases::release(
            tx,
            sequencer::LEASE,
            node,
        ))
    })
    .await
    .expect("release");
    assert!(other.sequence_events().await.expect("pass").is_some());
}

#[tokio::test]
async fn the_background_sequencer_numbers_what_a_local_commit_woke_it_for() {
    let pg = server();
    let s = std::sync::Arc::new(store(&pg, "background").await);
    // An interval far beyond the test: only the wake can make it number in time.
    let task = s.spawn_sequencer(std::time::Duration::from_secs(3_600));
    // Its first pass (which finds nothing) has committed once it holds the lease.
    tokio::time::timeout(std::time::Duration::from_secs(20), async {
        let c = s.client().await.expect("client");
        while c
            .query_opt("SELECT 1 FROM leases WHERE name = 'sequencer'", &[])
            .await
            .expect("lease")
            .is_none()
        {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await; // poll interval
        }
    })
    .await
    .expect("first pass");
    admin(&s, AdminChange::PutTenant(tenant("acme"))).await;
    let numbered = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        loop {
            let got = s.events(1, 10).await.expect("read");
            if !got.is_empty() {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await; // poll interval
        }
    })
    .await
    .expect("numbered after the wake");
    task.abort();
    assert_eq!(numbered.len(), 1);
    assert_eq!(numbered[0].seq, 1);
    assert_eq!(
        numbered[0].kind,
        EventKind::Admin {
            what: "tenant_put".into()
        }
    );
}

/// The SIRead (predicate) locks held on the logs writers insert into.
async fn predicate_locks_on_the_logs(s: &PgStore) -> i64 {
    s.client()
        .await
        .expect("client")
        .query_one(
            "SELECT COUNT(*) FROM pg_locks WHERE mode = 'SIReadLock' AND relation IN (
                 'public_batches'::regclass, 'public_batches_unnumbered'::regclass,
                 'event_batches'::regclass, 'event_batches_unnumbered'::regclass,
                 'audit_batches'::regclass)",
            &[],
        )
        .await
        .expect("pg_locks")
        .get(0)
}

#[tokio::test]
async fn numbering_takes_no_predicate_locks_that_writers_would_meet() {
    let pg = server();
    let s = store(&pg, "fenced").await;
    for i in 0..3 {
        s.transaction(&i, |tx, i| {
            Box::pin(async move {
                let data = json!({ "i": i });
                events::publish(tx, 1_000, "acme", EventType::OrderCreated, None, data).await?;
                events::log_event(tx, 1_000, "acme", None, EventKind::OrderCreated).await
            })
        })
        .await
        .expect("publish");
    }
    // A SERIALIZABLE transaction that overlaps the pass: PostgreSQL keeps a committed
    // transaction's predicate locks while one that overlapped it runs.
    let mut open = s.client().await.expect("client");
    let overlapping = open
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::Serializable)
        .start()
        .await
        .expect("begin");
    overlapping
        .query_one("SELECT COUNT(*) FROM tenants", &[])
        .await
        .expect("snapshot");
    let pass = s.sequence_events().await.expect("pass").expect("lease");
    assert_eq!((pass.public, pass.audit, pass.fanned_out), (3, 3, 3));
    assert_eq!(
        predicate_locks_on_the_logs(&s).await,
        0,
        "the numbering scanned the unnumbered logs without predicate locks"
    );
    overlapping.rollback().await.expect("rollback");
    assert_eq!(
        s.public_events("acme", 0, None, 10)
            .await
            .expect("read")
            .iter()
            .map(|e| e.tenant_seq)
            .collect::<Vec<_>>(),
        [1, 2, 3]
    );
}

#[tokio::test]
async fn deliveries_are_queued_from_a_cursor_in_batches_once_each() {
    let pg = server();
    let s = store(&pg, "cursor").await;
    // acme has an endpoint, globex none.
    acme_endpoint(&s).await;
    let c = s.client().await.expect("client");
    // More events than one pass takes, of a tenant with an endpoint and one without.
    let n = usize::try_from(gateway::store::postgres::SEQUENCER_BATCH).expect("batch") + 20;
    s.transaction(&n, |tx, n| {
        Box::pin(async move {
            for i in 0..*n {
                let tenant = if i % 2 == 0 { "acme" } else { "globex" };
                let subject = format!("line-{i}");
                let data = json!({ "i": i });
                events::publish(
                    tx,
                    1_000,
                    tenant,
                    EventType::OrderCreated,
                    Some(&subject),
                    data,
                )
                .await?;
            }
            Ok(())
        })
    })
    .await
    .expect("publish");
    let first = s.sequence_events().await.expect("pass").expect("lease");
    assert_eq!(first.public, n - 20, "one batch numbered");
    assert_eq!(first.fanned_out, n - 20, "and its deliveries queued");
    s.flush_events().await.expect("flush");
    let c = &c;
    let deliveries = || async move {
        c.query_one(
            "SELECT COUNT(*), COUNT(DISTINCT event_seq) FROM webhook_deliveries",
            &[],
        )
        .await
        .map(|r| (r.get::<_, i64>(0), r.get::<_, i64>(1)))
        .expect("deliveries")
    };
    let half = i64::try_from(n / 2).expect("n");
    assert_eq!(deliveries().await, (half, half), "acme's, each once");
    let cursor: i64 = c
        .query_one(
            "SELECT last FROM event_seq WHERE name = $1",
            &[&sequencer::FANNED_OUT],
        )
        .await
        .expect("cursor")
        .get(0);
    assert_eq!(
        cursor,
        i64::try_from(n).expect("n"),
        "past every number given"
    );
    // A later pass with nothing new queues nothing again.
    assert_eq!(
        s.sequence_events()
            .await
            .expect("pass")
            .map(|p| p.fanned_out),
        Some(0)
    );
    assert_eq!(deliveries().await, (half, half));
}

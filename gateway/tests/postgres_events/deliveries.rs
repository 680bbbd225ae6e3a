//! Deliveries: claims per node, ordering per subject queue, redelivery and disabling.

use super::*;

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
    assert_eq!(
        seqs(&a.due_deliveries(t, 10).await.expect("due")),
        vec![1, 2],
        "a's claims stay a's: handed to a again (its dispatcher skips those in flight)"
    );
    assert!(b.due_deliveries(t, 10).await.expect("due").is_empty());
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
            // As the dispatcher does: room for what it holds plus a few more.
            let mut got = BTreeSet::new();
            loop {
                let batch = s.due_deliveries(t, got.len() + 4).await.expect("due");
                let before = got.len();
                got.extend(seqs(&batch));
                if got.len() == before {
                    return got;
                }
            }
        })
    };
    let (ga, gb) = (claimer(a.clone()), claimer(b.clone()));
    let (ga, gb) = (ga.await.expect("a"), gb.await.expect("b"));
    assert!(ga.is_disjoint(&gb), "{ga:?} {gb:?}");
    let all: Vec<u64> = ga.union(&gb).copied().collect();
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
    assert!(
        s.record_delivery_attempt(outcome(&key("we_q", 5), t, true, None))
            .await
            .expect("record")
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
            .is_empty(),
        "every queue is empty"
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

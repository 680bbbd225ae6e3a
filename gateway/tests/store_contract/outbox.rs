//! The webhook outbox: one delivery per endpoint and event, queued per subject, due
//! times, attempts, giving up (the endpoint is disabled), redelivery and deletion.

use crate::fixture::*;
use crate::webhooks::{create, endpoint, publish};
use gateway::store::{
    AttemptOutcome, AttemptRecord, DeliveryKey, DeliveryStatus, EventType, Redelivery, StoreAdmin,
};
use serde_json::json;

fn key(endpoint: &str, seq: u64) -> DeliveryKey {
    DeliveryKey {
        endpoint: endpoint.into(),
        event_seq: seq,
    }
}

fn attempt(k: DeliveryKey, at: u64, delivered: bool, retry_at: Option<u64>) -> AttemptOutcome {
    AttemptOutcome {
        key: k,
        record: AttemptRecord {
            at_ms: at,
            http_status: Some(if delivered { 204 } else { 500 }),
            latency_ms: 12,
            error: (!delivered).then(|| "HTTP 500".to_owned()),
            response: None,
        },
        delivered,
        retry_at_ms: retry_at,
        now_ms: at,
    }
}

async fn due(s: &dyn StoreAdmin, now: u64) -> Vec<(String, u64)> {
    s.due_deliveries(now, 100)
        .await
        .expect("due")
        .into_iter()
        .map(|k| (k.endpoint, k.event_seq))
        .collect()
}

fn d(endpoint: &str, seq: u64) -> (String, u64) {
    (endpoint.to_owned(), seq)
}

pub async fn deliveries_queue_per_subject_and_record_attempts(s: &dyn StoreAdmin) {
    create(s, endpoint(T, "we_all", vec![])).await;
    create(s, endpoint(T, "we_active", vec![EventType::OrderActive])).await;
    assert_eq!(s.next_delivery_due(0).await.expect("next"), None);
    publish(s, 1_000, EventType::OrderCreated, Some("sub_1")).await; // 1
    publish(s, 1_001, EventType::OrderActive, Some("sub_1")).await; // 2, behind 1
    publish(s, 1_002, EventType::OrderCreated, Some("sub_2")).await; // 3
    // A queue's head only; the filtered endpoint got only its type.
    assert_eq!(
        due(s, 5_000).await,
        vec![d("we_all", 1), d("we_active", 2), d("we_all", 3)]
    );
    assert!(due(s, 999).await.is_empty());
    assert_eq!(due(s, 1_000).await, vec![d("we_all", 1)]);
    assert_eq!(s.due_deliveries(5_000, 2).await.expect("due").len(), 2);
    assert_eq!(s.next_delivery_due(999).await.expect("next"), Some(1_000));
    assert_eq!(s.next_delivery_due(1_000).await.expect("next"), Some(1_001));
    assert_eq!(s.next_delivery_due(1_002).await.expect("next"), None);
    // What an attempt needs, from one read.
    let job = s
        .delivery_job(&key("we_all", 1))
        .await
        .expect("job")
        .expect("some");
    assert_eq!(
        (job.delivery.status, job.delivery.attempts),
        (DeliveryStatus::Pending, 0)
    );
    assert_eq!(
        (job.delivery.queue.as_str(), job.delivery.event_id.as_str()),
        ("sub_1", job.event.id.as_str())
    );
    assert_eq!(
        (job.delivery.event_seq, job.event.event_type),
        (1, EventType::OrderCreated)
    );
    assert_eq!(job.endpoint.id, "we_all");
    // The body to sign and post is the event's wire JSON.
    let body: serde_json::Value = serde_json::from_slice(&job.event.body).expect("json body");
    assert_eq!(
        (&body["id"], &body["type"], &body["subject"]),
        (
            &json!(job.event.id),
            &json!("order.created"),
            &json!("sub_1")
        )
    );
    assert!(body["created_at"].is_string() && body["data"].is_object());
    assert!(
        s.delivery_job(&key("we_active", 1))
            .await
            .expect("job")
            .is_none()
    );
    // Several at once, in the keys' order; `None` where there is no such delivery.
    let keys = [key("we_all", 3), key("we_active", 1), key("we_active", 2)];
    let jobs = s.delivery_jobs(&keys).await.expect("jobs");
    let got: Vec<_> = jobs
        .iter()
        .map(|j| {
            j.as_ref().map(|j| {
                (
                    j.endpoint.id.as_str(),
                    j.delivery.event_seq,
                    j.delivery.queue.as_str(),
                )
            })
        })
        .collect();
    assert_eq!(
        got,
        vec![
            Some(("we_all", 3, "sub_2")),
            None,
            Some(("we_active", 2, "sub_1"))
        ]
    );
    assert!(s.delivery_jobs(&[]).await.expect("none").is_empty());
    // A failed attempt waits for its retry, and holds its queue.
    assert!(
        s.record_delivery_attempt(attempt(key("we_all", 1), 2_000, false, Some(9_000)))
            .await
            .expect("attempt")
    );
    assert_eq!(due(s, 5_000).await, vec![d("we_active", 2), d("we_all", 3)]);
    assert_eq!(s.next_delivery_due(5_000).await.expect("next"), Some(9_000));
    // Delivered: the queue's next event is due at once.
    assert!(
        s.record_delivery_attempt(attempt(key("we_all", 1), 9_000, true, None))
            .await
            .expect("attempt")
    );
    assert_eq!(
        due(s, 9_000).await,
        vec![d("we_active", 2), d("we_all", 3), d("we_all", 2)]
    );
    let job = s
        .delivery_job(&key("we_all", 1))
        .await
        .expect("job")
        .expect("some");
    assert_eq!(
        (
            job.delivery.status,
            job.delivery.attempts,
            job.delivery.schedule_attempts
        ),
        (DeliveryStatus::Delivered, 2, 2)
    );
    assert_eq!(
        job.delivery
            .log
            .iter()
            .map(|a| a.http_status)
            .collect::<Vec<_>>(),
        vec![Some(500), Some(204)]
    );
    assert_eq!(job.delivery.next_attempt_at_ms, None);
    // No longer pending: another outcome changes nothing.
    assert!(
        !s.record_delivery_attempt(attempt(key("we_all", 1), 9_500, true, None))
            .await
            .expect("attempt")
    );
    assert!(
        !s.record_delivery_attempt(attempt(key("we_all", 77), 9_500, true, None))
            .await
            .expect("attempt")
    );
    // The endpoint's deliveries, newest event first, before a sequence number.
    let listed = |before, limit| async move {
        s.webhook_deliveries(T, "we_all", before, limit)
            .await
            .expect("list")
            .expect("endpoint")
            .into_iter()
            .map(|d| d.event_seq)
            .collect::<Vec<_>>()
    };
    assert_eq!(listed(None, 10).await, vec![3, 2, 1]);
    assert_eq!(listed(Some(3), 10).await, vec![2, 1]);
    assert_eq!(listed(None, 1).await, vec![3]);
    assert_eq!(
        s.webhook_deliveries(OTHER, "we_all", None, 10)
            .await
            .expect("list"),
        None
    );
    assert_eq!(
        s.webhook_deliveries(T, "we_none", None, 10)
            .await
            .expect("list"),
        None
    );
    // Several outcomes at once, one answer each, in order: a delivery, one no longer
    // pending, a failure with its retry time.
    let answers: Vec<_> = s
        .record_delivery_attempts(vec![
            attempt(key("we_all", 2), 9_600, true, None),
            attempt(key("we_all", 1), 9_600, true, None),
            attempt(key("we_active", 2), 9_600, false, Some(20_000)),
        ])
        .await
        .into_iter()
        .map(|r| r.expect("recorded"))
        .collect();
    assert_eq!(answers, vec![true, false, true]);
    assert_eq!(due(s, 10_000).await, vec![d("we_all", 3)]);
    assert_eq!(
        s.next_delivery_due(10_000).await.expect("next"),
        Some(20_000)
    );
    assert!(s.record_delivery_attempts(Vec::new()).await.is_empty());
}

pub async fn giving_up_disables_the_endpoint(s: &dyn StoreAdmin) {
    create(s, endpoint(T, "we_a", vec![])).await;
    create(s, endpoint(T, "we_b", vec![EventType::OrderCreated])).await;
    publish(s, 1_000, EventType::OrderCreated, Some("sub_1")).await; // 1
    publish(s, 1_001, EventType::OrderCreated, Some("sub_1")).await; // 2
    assert!(
        s.record_delivery_attempt(attempt(key("we_a", 1), 2_000, false, None))
            .await
            .expect("attempt")
    );
    let e = s
        .webhook_endpoint(T, "we_a")
        .await
        .expect("get")
        .expect("endpoint");
    let disabled = e.disabled.expect("disabled");
    assert_eq!(disabled.at_ms, 2_000);
    // Its pending deliveries are given up; it gets no new ones; the other goes on.
    assert_eq!(due(s, 10_000).await, vec![d("we_b", 1)]);
    let listed = s
        .webhook_deliveries(T, "we_a", None, 10)
        .await
        .expect("list")
        .expect("endpoint");
    assert!(
        listed.iter().all(|d| d.status == DeliveryStatus::Failed),
        "{listed:?}"
    );
    assert_eq!(listed.len(), 2);
    let events = all_events(s, T).await;
    let last = events.last().expect("event");
    assert_eq!(
        (last.event_type, last.subject.as_deref()),
        (EventType::EndpointDisabled, Some("we_a"))
    );
    publish(s, 3_000, EventType::OrderActive, Some("sub_3")).await;
    assert_eq!(
        s.webhook_deliveries(T, "we_a", None, 10)
            .await
            .expect("list")
            .map(|l| l.len()),
        Some(2)
    );
    // `endpoint.disabled` went to the other endpoint only if it takes that type: it does not.
    assert_eq!(due(s, 10_000).await, vec![d("we_b", 1)]);
}

pub async fn an_endpoint_enabled_again_takes_new_events_only(s: &dyn StoreAdmin) {
    create(s, endpoint(T, "we_a", vec![])).await;
    publish(s, 1_000, EventType::OrderCreated, Some("sub_1")).await; // 1
    s.record_delivery_attempt(attempt(key("we_a", 1), 2_000, false, None))
        .await
        .expect("attempt");
    publish(s, 2_500, EventType::OrderActive, Some("sub_1")).await; // while disabled
    assert!(due(s, 10_000).await.is_empty());
    // Another tenant cannot enable it; an unknown id is `None`.
    assert_eq!(
        s.enable_webhook_endpoint("other", "we_a", 3_000)
            .await
            .expect("enable"),
        None
    );
    assert_eq!(
        s.enable_webhook_endpoint(T, "we_zz", 3_000)
            .await
            .expect("enable"),
        None
    );
    let e = s
        .enable_webhook_endpoint(T, "we_a", 3_000)
        .await
        .expect("enable")
        .expect("endpoint");
    assert!(e.disabled.is_none());
    let read = s.webhook_endpoint(T, "we_a").await.expect("get");
    assert!(read.expect("endpoint").disabled.is_none());
    // Enabling an enabled endpoint changes nothing.
    let again = s.enable_webhook_endpoint(T, "we_a", 3_500).await;
    assert!(again.expect("enable").expect("endpoint").disabled.is_none());
    // What was given up stays failed, what came while disabled is not queued; new
    // events are.
    assert!(due(s, 10_000).await.is_empty());
    publish(s, 4_000, EventType::OrderActive, Some("sub_2")).await;
    let seq_of = |events: &[gateway::store::PublicEvent], subject: &str| {
        events
            .iter()
            .find(|e| {
                e.subject.as_deref() == Some(subject) && e.event_type == EventType::OrderActive
            })
            .map(|e| e.tenant_seq)
            .expect("event")
    };
    let events = all_events(s, T).await;
    let (missed, new) = (seq_of(&events, "sub_1"), seq_of(&events, "sub_2"));
    assert_eq!(due(s, 10_000).await, vec![d("we_a", new)]);
    let listed = s
        .webhook_deliveries(T, "we_a", None, 10)
        .await
        .expect("list")
        .expect("endpoint");
    let states: Vec<(u64, DeliveryStatus)> =
        listed.iter().map(|d| (d.event_seq, d.status)).collect();
    assert_eq!(
        states,
        vec![(new, DeliveryStatus::Pending), (1, DeliveryStatus::Failed)]
    );
    // Redelivery reaches it again.
    assert_eq!(
        s.redeliver_event(T, missed, 5_000)
            .await
            .expect("redeliver"),
        Redelivery::Queued(vec!["we_a".into()])
    );
}

pub async fn redelivery_queues_an_event_again(s: &dyn StoreAdmin) {
    create(s, endpoint(T, "we_a", vec![])).await;
    publish(s, 1_000, EventType::OrderCreated, Some("sub_1")).await;
    s.record_delivery_attempt(attempt(key("we_a", 1), 1_500, false, Some(2_000)))
        .await
        .expect("attempt");
    s.record_delivery_attempt(attempt(key("we_a", 1), 2_000, true, None))
        .await
        .expect("attempt");
    assert!(due(s, 10_000).await.is_empty());
    assert_eq!(
        s.redeliver_event(T, 1, 5_000).await.expect("redeliver"),
        Redelivery::Queued(vec!["we_a".into()])
    );
    assert_eq!(due(s, 5_000).await, vec![d("we_a", 1)]);
    let job = s
        .delivery_job(&key("we_a", 1))
        .await
        .expect("job")
        .expect("some");
    assert_eq!(job.delivery.status, DeliveryStatus::Pending);
    assert_eq!(
        (job.delivery.attempts, job.delivery.schedule_attempts),
        (2, 0),
        "the schedule starts over"
    );
    // Already pending: it stays as it is.
    assert_eq!(
        s.redeliver_event(T, 1, 6_000).await.expect("redeliver"),
        Redelivery::Queued(vec!["we_a".into()])
    );
    assert_eq!(due(s, 10_000).await, vec![d("we_a", 1)]);
    assert_eq!(
        s.redeliver_event(T, 9, 6_000).await.expect("redeliver"),
        Redelivery::NoEvent
    );
    assert_eq!(
        s.redeliver_event(OTHER, 1, 6_000).await.expect("redeliver"),
        Redelivery::NoEvent
    );
    // An endpoint added later takes the event on redelivery; one filtering it out does not.
    create(s, endpoint(T, "we_late", vec![EventType::OrderCreated])).await;
    create(s, endpoint(T, "we_other", vec![EventType::OrderActive])).await;
    let Redelivery::Queued(mut to) = s.redeliver_event(T, 1, 7_000).await.expect("redeliver")
    else {
        panic!("expected queued");
    };
    to.sort();
    assert_eq!(to, vec!["we_a".to_owned(), "we_late".to_owned()]);
    publish(s, 8_000, EventType::EsimError, None).await;
    s.delete_webhook_endpoint(T, "we_a", 8_000)
        .await
        .expect("delete");
    assert_eq!(
        s.redeliver_event(T, 2, 9_000).await.expect("redeliver"),
        Redelivery::NoEndpoint
    );
}

pub async fn deleting_an_endpoint_drops_its_deliveries(s: &dyn StoreAdmin) {
    create(s, endpoint(T, "we_a", vec![])).await;
    create(s, endpoint(T, "we_b", vec![])).await;
    publish(s, 1_000, EventType::OrderCreated, Some("sub_1")).await;
    publish(s, 1_001, EventType::OrderCreated, Some("sub_1")).await;
    assert!(
        s.delete_webhook_endpoint(T, "we_a", 2_000)
            .await
            .expect("delete")
    );
    assert_eq!(due(s, 10_000).await, vec![d("we_b", 1)]);
    assert!(
        s.delivery_job(&key("we_a", 1))
            .await
            .expect("job")
            .is_none()
    );
    assert!(
        !s.record_delivery_attempt(attempt(key("we_a", 1), 3_000, true, None))
            .await
            .expect("attempt")
    );
    assert_eq!(
        s.webhook_deliveries(T, "we_a", None, 10)
            .await
            .expect("list"),
        None
    );
    // The events stay in the log.
    assert_eq!(all_events(s, T).await.len(), 2);
}

pub async fn a_commit_with_deliveries_wakes_the_dispatcher(s: &dyn StoreAdmin) {
    let waker = s.deliveries_waker();
    create(s, endpoint(T, "we_a", vec![])).await;
    publish(s, 1_000, EventType::OrderCreated, Some("sub_1")).await;
    // A bound on a wake-up that must come, not a pause standing in for one.
    tokio::time::timeout(std::time::Duration::from_secs(10), waker.notified())
        .await
        .expect("the dispatcher is woken");
    assert_eq!(due(s, 1_000).await, vec![d("we_a", 1)]);
}

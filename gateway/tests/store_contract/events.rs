//! The public event log: per-tenant sequence numbers in commit order, paging and type
//! filters, events published by write paths in their own commit, and low stock.

use crate::fixture::*;
use gateway::order::{Effect, OrderStatus};
use gateway::store::{EventType, NewReservation, PublicEvent, StoreAdmin, event_id};
use serde_json::json;

async fn publish(s: &dyn StoreAdmin, at: u64, tenant: &str, t: EventType, subject: Option<&str>) {
    s.publish_for_test(at, tenant, t, subject, json!({"at": at}))
        .await
        .expect("publish");
}

fn seqs(events: &[PublicEvent]) -> Vec<u64> {
    events.iter().map(|e| e.tenant_seq).collect()
}

pub async fn public_events_page_by_tenant_sequence(s: &dyn StoreAdmin) {
    let plan = [
        (T, EventType::OrderCreated, Some("sub_1")),
        (OTHER, EventType::OrderCreated, None),
        (T, EventType::OrderActive, Some("sub_1")),
        (T, EventType::OrderCreated, Some("sub_2")),
        (OTHER, EventType::InventoryLowStock, None),
        (T, EventType::InventoryLowStock, None),
    ];
    for (i, (tenant, t, subject)) in plan.into_iter().enumerate() {
        publish(s, NOW + i as u64, tenant, t, subject).await;
    }
    let mine = all_events(s, T).await;
    // Gap-free from 1 within the tenant, whatever other tenants did.
    assert_eq!(seqs(&mine), vec![1, 2, 3, 4]);
    let e = &mine[1];
    assert_eq!(
        (
            e.id.as_str(),
            e.tenant.as_str(),
            e.event_type,
            e.created_at_ms
        ),
        (event_id(2).as_str(), T, EventType::OrderActive, NOW + 2)
    );
    assert_eq!(
        (e.subject.as_deref(), &e.data),
        (Some("sub_1"), &json!({"at": NOW + 2}))
    );
    // Commit order across tenants is the internal `seq`, increasing.
    assert!(mine.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(seqs(&all_events(s, OTHER).await), vec![1, 2]);
    // After, limit and type.
    let page = |after, t, limit| async move {
        seqs(&s.public_events(T, after, t, limit).await.expect("events"))
    };
    assert_eq!(page(1, None, 2).await, vec![2, 3]);
    assert_eq!(page(3, None, 10).await, vec![4]);
    assert!(page(4, None, 10).await.is_empty());
    assert_eq!(page(0, Some(EventType::OrderCreated), 10).await, vec![1, 3]);
    assert_eq!(page(1, Some(EventType::OrderCreated), 10).await, vec![3]);
    assert_eq!(page(0, Some(EventType::OrderCreated), 1).await, vec![1]);
    assert!(page(0, Some(EventType::EsimError), 10).await.is_empty());
    // One event by its tenant sequence, only the tenant's own.
    assert_eq!(
        s.public_event(T, 3).await.expect("event"),
        Some(mine[2].clone())
    );
    assert_eq!(
        s.public_event(OTHER, 2)
            .await
            .expect("event")
            .map(|e| e.event_type),
        Some(EventType::InventoryLowStock)
    );
    assert_eq!(s.public_event(OTHER, 3).await.expect("event"), None);
    assert_eq!(s.public_event(T, 0).await.expect("event"), None);
    assert_eq!(s.public_event("nobody", 1).await.expect("event"), None);
}

pub async fn write_paths_publish_in_their_commit(s: &dyn StoreAdmin) {
    seed(s, T, 0..2, 2).await;
    let o = created(s, activation("k", 0)).await;
    let events = all_events(s, T).await;
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(
        (e.event_type, e.subject.as_deref(), e.created_at_ms),
        (EventType::OrderCreated, Some("sub_k"), NOW)
    );
    assert_eq!(e.data["id"], json!(o.id));
    assert_eq!(e.data["status"], json!("reserved"));
    // No secret reaches the event: no keys, no subscriber details.
    let text = e.data.to_string();
    assert!(
        !text.contains("\"ki\"") && !text.contains("subscriber"),
        "{text}"
    );
    let active = advance(s, &o, OrderStatus::Active, Effect::Activate).await;
    let events = all_events(s, T).await;
    let e = events.last().expect("event");
    assert_eq!(
        (e.event_type, e.created_at_ms),
        (EventType::OrderActive, active.updated_at_ms)
    );
    assert_eq!(e.data["previous"], json!("reserved"));
    assert_eq!(e.data["status"], json!("active"));
}

pub async fn low_stock_is_published_once_per_crossing(s: &dyn StoreAdmin) {
    seed(s, T, 0..0, 5).await;
    s.set_low_stock_threshold(Some(3)).await.expect("threshold");
    let reserve = |i: u32| NewReservation {
        tenant: T.into(),
        idempotency_key: format!("k{i}"),
        body_hash: format!("h{i}"),
        id: format!("nres_{i}"),
        msisdn: None,
        ttl_ms: 1_000,
        now_ms: NOW,
        random: 0,
    };
    let low = |events: Vec<PublicEvent>| -> Vec<serde_json::Value> {
        events
            .into_iter()
            .filter(|e| e.event_type == EventType::InventoryLowStock)
            .map(|e| e.data)
            .collect()
    };
    s.create_reservation(reserve(1)).await.expect("reserve");
    assert!(low(all_events(s, T).await).is_empty(), "5 → 4: above");
    s.create_reservation(reserve(2)).await.expect("reserve");
    assert_eq!(
        low(all_events(s, T).await),
        vec![json!({"counter": "numbers_available", "available": 3, "threshold": 3})]
    );
    s.create_reservation(reserve(3)).await.expect("reserve");
    assert_eq!(
        low(all_events(s, T).await).len(),
        1,
        "3 → 2: still below, once"
    );
    // Back above the threshold, then down to it again: a second crossing.
    assert_eq!(
        s.expire_due(NOW + 1_000).await.expect("sweep").reservations,
        3
    );
    assert_eq!(counts(s, T).await.numbers_available, 5);
    // Rising above the threshold publishes nothing. (A backend may watch levels between
    // commits rather than in each, as PostgreSQL does: it sees this level at this read.)
    assert_eq!(low(all_events(s, T).await).len(), 1);
    s.create_reservation(reserve(4)).await.expect("reserve");
    s.create_reservation(reserve(5)).await.expect("reserve");
    assert_eq!(low(all_events(s, T).await).len(), 2);
    // Off: no more.
    s.set_low_stock_threshold(None).await.expect("threshold");
    assert_eq!(
        s.expire_due(NOW + 1_000).await.expect("sweep").reservations,
        2
    );
    s.create_reservation(reserve(6)).await.expect("reserve");
    s.create_reservation(reserve(7)).await.expect("reserve");
    assert_eq!(low(all_events(s, T).await).len(), 2);
}

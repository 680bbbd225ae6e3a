//! Closing: a closed store refuses every call, and what it acknowledged before is there
//! when its data is opened again (for a backend whose data outlives the store).

use crate::Backend;
use crate::esim::{note, released};
use crate::fixture::*;
use gateway::order::{Effect, OrderStatus};
use gateway::store::{
    AdminChange, BatchRecord, BatchStatus, EventType, NewReservation, NotificationOutcome,
    StoreAdmin, SubscriptionQuery,
};
use serde_json::json;

pub async fn a_closed_store_refuses_calls(s: &dyn StoreAdmin) {
    seed(s, T, 0..2, 2).await;
    s.close().await;
    let closed = |what: &str, e: gateway::store::StoreError| {
        assert!(is_closed(&e), "{what}: {e:?}");
    };
    closed("tenant", s.tenant(T).await.expect_err("closed"));
    closed("counts", s.inventory_counts(T).await.expect_err("closed"));
    closed(
        "create",
        s.create_activation(activation("k", 0))
            .await
            .expect_err("closed"),
    );
    closed(
        "admin",
        s.admin(AdminChange::PutTenant(tenant(OTHER)))
            .await
            .expect_err("closed"),
    );
    closed(
        "events",
        s.public_events(T, 0, None, 10).await.expect_err("closed"),
    );
    closed("expire", s.expire_due(NOW).await.expect_err("closed"));
    closed(
        "publish",
        s.publish_for_test(NOW, T, EventType::OrderCreated, None, json!({}))
            .await
            .expect_err("closed"),
    );
    closed("recover", s.recover_imports().await.expect_err("closed"));
    // Closing again is harmless.
    s.close().await;
}

pub async fn acknowledged_writes_survive_a_reopen(b: &mut Backend) {
    let s = b.store();
    seed_with(s, tenant(T), 0..3, 20..21, 5).await;
    apply(
        s,
        AdminChange::PutMeta {
            key: "m".into(),
            value: b"v".to_vec(),
        },
    )
    .await;
    let line = active_line(s, "a", 0).await;
    let pending = created(s, activation("p", 1)).await;
    let pending = advance(s, &pending, OrderStatus::HlrProvisioning, Effect::None).await;
    let esim = released(s, "e", NOW + DAY_MS).await;
    let reservation = NewReservation {
        tenant: T.into(),
        idempotency_key: "r".into(),
        body_hash: "h-r".into(),
        id: "nres_r".into(),
        msisdn: None,
        ttl_ms: 60_000,
        now_ms: NOW,
        random: 0,
    };
    s.create_reservation(reservation).await.expect("reserve");
    let batch = BatchRecord {
        id: "bat_000000000000000000000042".into(),
        tenant: T.into(),
        file_sha256: "cd".repeat(32),
        source: "f.csv".into(),
        format: "csv".into(),
        vendor_batch: None,
        transport_key_index: None,
        cards: 0,
        status: BatchStatus::Importing,
        started_at_ms: NOW,
        esim_profile_type: None,
    };
    s.import_begin(&batch).await.expect("begin");
    s.import_chunk(&batch.id, &[(sim_in(T, &batch.id, 30), 2)])
        .await
        .expect("chunk");
    s.import_finish(&batch.id, 1, NOW).await.expect("finish");
    s.publish_for_test(NOW, T, EventType::InventoryLowStock, None, json!({"n": 1}))
        .await
        .expect("publish");
    let before = (
        counts(s, T).await,
        all_events(s, T).await,
        s.events(0, 100_000).await.expect("events"),
        s.inflight_orders().await.expect("inflight"),
    );

    if !b.reopen().await {
        // Nothing outlives this backend; it is closed, as `close` says.
        let e = b.store().tenant(T).await.expect_err("closed");
        assert!(is_closed(&e), "{e:?}");
        return;
    }
    let s = b.store();
    assert_eq!(s.tenant(T).await.expect("tenant"), Some(tenant(T)));
    assert_eq!(s.meta("m").await.expect("meta"), Some(b"v".to_vec()));
    assert_eq!(counts(s, T).await, before.0);
    assert_eq!(all_events(s, T).await, before.1);
    assert_eq!(s.events(0, 100_000).await.expect("events"), before.2);
    assert_eq!(s.inflight_orders().await.expect("inflight"), before.3);
    assert_eq!(
        s.get_order(T, &pending.id).await.expect("get"),
        Some(pending)
    );
    assert!(
        s.subscription(T, line.msisdn.as_str())
            .await
            .expect("sub")
            .is_some()
    );
    let page = s
        .subscriptions(
            T,
            &SubscriptionQuery {
                limit: 10,
                ..SubscriptionQuery::default()
            },
        )
        .await
        .expect("page");
    assert_eq!(page.data.len(), 2, "the physical and the eSIM line");
    assert_eq!(
        s.next_esim_deadline().await.expect("deadline"),
        Some(NOW + DAY_MS)
    );
    assert_eq!(
        s.next_pool_deadline().await.expect("deadline"),
        Some(NOW + 60_000)
    );
    assert!(s.get_reservation(T, "nres_r").await.expect("get").is_some());
    assert_eq!(
        s.batch(&batch.id).await.expect("batch").map(|b| b.status),
        Some(BatchStatus::Complete)
    );
    assert!(
        s.activation_idempotency(T, "a")
            .await
            .expect("idem")
            .is_some()
    );
    assert_eq!(s.get_order(T, &esim.id).await.expect("get"), Some(esim));
    // It goes on where it was: the next order takes the next card and number.
    let next = created(s, activation("q", 2)).await;
    assert_eq!(next.iccid, iccid(2));
    let seqs: Vec<u64> = all_events(s, T)
        .await
        .iter()
        .map(|e| e.tenant_seq)
        .collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "no gap over the reopen"
    );
}

pub async fn a_notification_stays_a_duplicate_after_a_reopen(b: &mut Backend) {
    let s = b.store();
    seed_with(s, tenant(T), 0..0, 20..21, 1).await;
    let o = released(s, "e", NOW + DAY_MS).await;
    let n = note(&o.iccid, 3, Some(true), "2026-01-01T10:00:00Z");
    assert_eq!(
        s.record_notification(n.clone()).await.expect("record"),
        NotificationOutcome::Applied {
            order: o.id.clone()
        }
    );
    if !b.reopen().await {
        return;
    }
    let s = b.store();
    assert_eq!(
        s.record_notification(n).await.expect("record"),
        NotificationOutcome::Duplicate
    );
    assert_eq!(
        s.esim_progress(&o.id)
            .await
            .expect("progress")
            .map(|p| p.points.len()),
        Some(1)
    );
    assert_eq!(s.next_esim_deadline().await.expect("deadline"), None);
}

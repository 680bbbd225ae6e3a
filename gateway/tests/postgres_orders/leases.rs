//! Order leases between two nodes on one database: an order is its creator's until the
//! lease lapses; then another node claims it, and the first learns from renewing that
//! it lost it. Concurrent claims share the lapsed orders without overlap.

use super::*;
use std::collections::HashSet;

const LEASE_MS: u64 = LEASE.as_millis() as u64;

#[tokio::test]
async fn a_lapsed_lease_is_claimed_by_another_node_and_renewing_reports_the_loss() {
    let pg = server();
    let (a, url) = store(&pg, "leases").await;
    let b = node(&url, "b").await;
    assert_eq!(a.lease(), Some(LEASE));
    // What the engine asks (through the trait) before it runs its lease keeper: without
    // it no node ever claims a dead node's orders.
    let shared: &dyn gateway::store::Store = &a;
    assert_eq!(shared.lease(), Some(LEASE));
    let o = create(&a, "k1", "act_1", Some(1)).await;
    // Live: no one else may take it; its creator renews it.
    assert!(
        b.claim_orders(T0 + LEASE_MS - 1, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    assert!(
        a.claim_orders(T0 + LEASE_MS - 1, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    let ids = vec![o.id.clone(), "act_unknown".to_owned()];
    let lost = a.renew_leases(&ids, T0 + 1_000).await.expect("renew");
    assert_eq!(
        lost,
        ["act_unknown"],
        "an order that does not exist is not held"
    );
    let until: Option<i64> = order_column(&a, &o.id, "lease_until_ms").await;
    assert_eq!(until, Some((T0 + 1_000 + LEASE_MS) as i64));
    // Node a stops renewing; once the lease lapses, b takes the order over as it is.
    let at = T0 + 1_000 + LEASE_MS + 1;
    let claimed = b.claim_orders(at, 10).await.expect("claim");
    assert_eq!(claimed, std::slice::from_ref(&o));
    let owner: Option<String> = order_column(&a, &o.id, "lease_owner").await;
    assert_eq!(owner.as_deref(), Some("b"));
    assert!(
        b.claim_orders(at, 10).await.expect("claim").is_empty(),
        "b's now"
    );
    let lost = a
        .renew_leases(std::slice::from_ref(&o.id), at + 1)
        .await
        .expect("renew");
    assert_eq!(
        lost,
        std::slice::from_ref(&o.id),
        "a learns it lost the order"
    );
    assert!(
        b.renew_leases(std::slice::from_ref(&o.id), at + 1)
            .await
            .expect("renew")
            .is_empty()
    );
    // The version check stops a from recording anything after b did.
    let by_b = advance(&b, &o, OrderStatus::HlrProvisioning, Effect::None).await;
    let e = a
        .advance_order(
            next(&o, OrderStatus::Active, 2),
            Effect::Activate,
            EventKind::OrderActive,
        )
        .await
        .expect_err("a is behind");
    assert!(matches!(e, gateway::store::StoreError::Conflict(_)), "{e}");
    // Renewing changed no version: b advances on from its own.
    advance(&b, &by_b, OrderStatus::Active, Effect::Activate).await;
    // A finished order is no one's to claim.
    assert!(
        a.claim_orders(u64::MAX / 2, 10)
            .await
            .expect("claim")
            .is_empty()
    );
}

#[tokio::test]
async fn nodes_claiming_at_once_share_the_lapsed_orders() {
    let pg = server();
    let (a, url) = store(&pg, "claims").await;
    for i in 1..=12 {
        create(&a, &format!("k{i}"), &format!("act_{i:02}"), Some(i)).await;
    }
    let b = std::sync::Arc::new(node(&url, "b").await);
    let c = std::sync::Arc::new(node(&url, "c").await);
    let later = T0 + LEASE_MS + 1;
    let tasks: Vec<_> = [b.clone(), c.clone(), b.clone(), c.clone()]
        .into_iter()
        .map(|st| tokio::spawn(async move { st.claim_orders(later, 4).await }))
        .collect();
    let mut seen = HashSet::new();
    let mut total = 0;
    for t in tasks {
        let got = t.await.expect("task").expect("claim");
        assert!(got.len() <= 4, "limit");
        total += got.len();
        seen.extend(got.into_iter().map(|o| o.id));
    }
    assert_eq!(total, seen.len(), "no order claimed twice");
    // Whatever one round left over, the next claim takes; then all are b's or c's.
    let rest = b.claim_orders(later, 100).await.expect("claim");
    seen.extend(rest.into_iter().map(|o| o.id));
    assert_eq!(seen.len(), 12);
    let by_a = count(
        &a,
        "SELECT COUNT(*) FROM orders_inflight WHERE lease_owner = 'a'",
    )
    .await;
    assert_eq!(by_a, 0);
    assert!(a.claim_orders(later, 100).await.expect("claim").is_empty());
}

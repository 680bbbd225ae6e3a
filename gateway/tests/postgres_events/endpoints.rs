//! Webhook endpoints: the per-tenant limit across nodes, secret rotation, deletion.

use super::*;

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
            job.delivery.event_seq,
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

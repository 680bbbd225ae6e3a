//! Webhook endpoints: per tenant, bounded in number, their signing secrets rotated.

use crate::fixture::*;
use gateway::store::{
    EndpointSecret, EventType, MAX_ENDPOINTS_PER_TENANT, StoreAdmin, WebhookEndpoint,
    secret_context,
};
use serde_json::json;

pub fn secret(id: &str, at: u64) -> EndpointSecret {
    EndpointSecret {
        sealed: keys()
            .seal(&secret_context(id), format!("whsec-{at}").as_bytes())
            .expect("seal"),
        created_at_ms: at,
        expires_at_ms: None,
    }
}

pub fn endpoint(tenant: &str, id: &str, types: Vec<EventType>) -> WebhookEndpoint {
    WebhookEndpoint {
        id: id.into(),
        tenant: tenant.into(),
        url: format!("https://hooks.example/{id}"),
        event_types: types,
        secrets: vec![secret(id, NOW)],
        disabled: None,
        created_at_ms: NOW,
    }
}

pub async fn create(s: &dyn StoreAdmin, e: WebhookEndpoint) {
    assert!(s.create_webhook_endpoint(e).await.expect("create"));
}

pub async fn publish(s: &dyn StoreAdmin, at: u64, t: EventType, subject: Option<&str>) {
    s.publish_for_test(at, T, t, subject, json!({}))
        .await
        .expect("publish");
}

pub async fn endpoints_are_created_listed_and_deleted_per_tenant(s: &dyn StoreAdmin) {
    let e = endpoint(T, "we_a", vec![EventType::OrderActive]);
    create(s, e.clone()).await;
    assert_eq!(s.webhook_endpoints(T).await.expect("list"), vec![e.clone()]);
    assert_eq!(
        s.webhook_endpoint(T, "we_a").await.expect("get"),
        Some(e.clone())
    );
    assert_eq!(s.webhook_endpoint(OTHER, "we_a").await.expect("get"), None);
    assert!(s.webhook_endpoints(OTHER).await.expect("list").is_empty());
    assert!(
        !s.delete_webhook_endpoint(OTHER, "we_a", NOW)
            .await
            .expect("delete")
    );
    // At most MAX_ENDPOINTS_PER_TENANT per tenant; other tenants are not affected.
    for i in 1..MAX_ENDPOINTS_PER_TENANT {
        create(s, endpoint(T, &format!("we_{i:02}"), vec![])).await;
    }
    assert!(
        !s.create_webhook_endpoint(endpoint(T, "we_extra", vec![]))
            .await
            .expect("create")
    );
    assert_eq!(s.webhook_endpoint(T, "we_extra").await.expect("get"), None);
    assert_eq!(
        s.webhook_endpoints(T).await.expect("list").len(),
        MAX_ENDPOINTS_PER_TENANT
    );
    create(s, endpoint(OTHER, "we_theirs", vec![])).await;
    assert!(
        s.delete_webhook_endpoint(T, "we_a", NOW)
            .await
            .expect("delete")
    );
    assert!(
        !s.delete_webhook_endpoint(T, "we_a", NOW)
            .await
            .expect("again")
    );
    assert_eq!(s.webhook_endpoint(T, "we_a").await.expect("get"), None);
    create(s, endpoint(T, "we_extra", vec![])).await;
    let mut ids: Vec<String> = s
        .webhook_endpoints(T)
        .await
        .expect("list")
        .into_iter()
        .map(|e| e.id)
        .collect();
    ids.sort();
    assert_eq!(ids.len(), MAX_ENDPOINTS_PER_TENANT);
    assert!(ids.contains(&"we_extra".to_owned()) && !ids.contains(&"we_a".to_owned()));
}

pub async fn rotating_a_secret_keeps_the_old_one_until_it_expires(s: &dyn StoreAdmin) {
    let e = endpoint(T, "we_a", vec![]);
    create(s, e.clone()).await;
    let second = secret("we_a", NOW + 1_000);
    let rotated = s
        .rotate_webhook_secret(T, "we_a", second.clone(), NOW + 5_000)
        .await
        .expect("rotate")
        .expect("the endpoint");
    let mut old = e.secrets[0].clone();
    old.expires_at_ms = Some(NOW + 5_000);
    assert_eq!(rotated.secrets, vec![old.clone(), second.clone()]);
    assert_eq!(
        s.webhook_endpoint(T, "we_a").await.expect("get"),
        Some(rotated)
    );
    // Rotating again after the first expired drops it; the second signs on until its own
    // expiry, never later than it already had.
    let third = secret("we_a", NOW + 6_000);
    let again = s
        .rotate_webhook_secret(T, "we_a", third.clone(), NOW + 9_000)
        .await
        .expect("rotate")
        .expect("the endpoint");
    let mut second_expiring = second;
    second_expiring.expires_at_ms = Some(NOW + 9_000);
    assert_eq!(again.secrets, vec![second_expiring, third]);
    assert_eq!(
        s.rotate_webhook_secret(OTHER, "we_a", secret("we_a", NOW), NOW)
            .await
            .expect("rotate"),
        None
    );
    assert_eq!(
        s.rotate_webhook_secret(T, "we_none", secret("we_none", NOW), NOW)
            .await
            .expect("rotate"),
        None
    );
}

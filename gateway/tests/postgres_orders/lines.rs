//! Subscription pages: id order, the embedded backend's cursor (the last line looked at
//! when more remain), stability under inserts, and the state and card filters.

use super::*;
use gateway::store::{SubscriptionQuery, SubscriptionState};

fn query(limit: usize, after: Option<&str>) -> SubscriptionQuery {
    SubscriptionQuery {
        limit,
        after: after.map(str::to_owned),
        ..SubscriptionQuery::default()
    }
}

fn ids(p: &gateway::store::SubscriptionPage) -> Vec<&str> {
    p.data.iter().map(|s| s.id.as_str()).collect()
}

#[tokio::test]
async fn pages_follow_the_cursor_and_filters() {
    let pg = server();
    let (s, _) = store(&pg, "pages").await;
    // Lines sub_b, sub_d, sub_f (ids from their activations), and another tenant's none.
    let mut numbers = BTreeMap::new();
    for (key, card) in [("d", 2), ("b", 1), ("f", 3)] {
        let (_, m) = line(&s, key, card).await;
        numbers.insert(key, m);
    }
    let p1 = s
        .subscriptions("acme", &query(2, None))
        .await
        .expect("page");
    assert_eq!(ids(&p1), ["sub_b", "sub_d"]);
    assert_eq!(p1.next.as_deref(), Some("sub_d"));
    // A line opened meanwhile before the cursor shifts nothing; one after it shows.
    line(&s, "a", 4).await;
    line(&s, "e", 5).await;
    let p2 = s
        .subscriptions("acme", &query(2, p1.next.as_deref()))
        .await
        .expect("page");
    assert_eq!(ids(&p2), ["sub_e", "sub_f"]);
    assert_eq!(p2.next, None, "nothing after the last line");
    let all = s
        .subscriptions("acme", &query(10, None))
        .await
        .expect("page");
    assert_eq!(ids(&all), ["sub_a", "sub_b", "sub_d", "sub_e", "sub_f"]);
    assert_eq!(all.next, None);
    assert!(
        s.subscriptions("other", &query(10, None))
            .await
            .expect("p")
            .data
            .is_empty()
    );
    // State filter: the page ends at `limit` matches with the last line looked at.
    let sus = create_lifecycle(
        &s,
        suspend("s1", &numbers["b"], SuspensionReason::NonPayment),
    )
    .await;
    advance(&s, &sus, OrderStatus::Completed, Effect::Complete).await;
    let q = SubscriptionQuery {
        state: Some(SubscriptionState::Suspended),
        ..query(1, None)
    };
    let p = s.subscriptions("acme", &q).await.expect("page");
    assert_eq!(ids(&p), ["sub_b"]);
    assert_eq!(
        p.next.as_deref(),
        Some("sub_b"),
        "more lines remain, unlooked at"
    );
    let q = SubscriptionQuery {
        after: p.next.clone(),
        ..q
    };
    let p = s.subscriptions("acme", &q).await.expect("page");
    assert!(p.data.is_empty());
    assert_eq!(p.next, None);
    // Card filter: the one line on the card, if it is the tenant's and after the cursor.
    let by_card = |after: Option<&str>, tenant: &'static str| {
        let q = SubscriptionQuery {
            iccid: Some(iccid(3)),
            ..query(10, after)
        };
        let s = &s;
        async move { s.subscriptions(tenant, &q).await.expect("page") }
    };
    assert_eq!(ids(&by_card(None, "acme").await), ["sub_f"]);
    assert!(by_card(Some("sub_f"), "acme").await.data.is_empty());
    assert!(by_card(None, "other").await.data.is_empty());
}

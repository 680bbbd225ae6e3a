//! Reading lines: by number within the tenant, and pages in subscription-id order that
//! stay stable while lines are added, with state and card filters.

use crate::fixture::*;
use gateway::order::{Effect, OrderKind, OrderStatus, SuspensionReason};
use gateway::store::{StoreAdmin, SubscriptionQuery, SubscriptionState};

/// Completes a lifecycle order of `kind` on the line of `msisdn` (key `key`).
pub async fn complete(
    s: &dyn StoreAdmin,
    kind: OrderKind,
    msisdn: &sim_profiles::Msisdn,
    key: &str,
) {
    let mut new = lifecycle(kind, msisdn, key);
    if matches!(kind, OrderKind::Suspend | OrderKind::Resume) {
        new.reason = Some(SuspensionReason::NonPayment);
    }
    let o = lifecycle_created(s, new).await;
    advance(s, &o, OrderStatus::Completed, Effect::Complete).await;
}

async fn ids(s: &dyn StoreAdmin, q: &SubscriptionQuery) -> (Vec<String>, Option<String>) {
    let page = s.subscriptions(T, q).await.expect("page");
    (page.data.into_iter().map(|l| l.id).collect(), page.next)
}

fn query(after: Option<&str>, limit: usize) -> SubscriptionQuery {
    SubscriptionQuery {
        after: after.map(str::to_owned),
        limit,
        ..SubscriptionQuery::default()
    }
}

fn v(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

pub async fn a_line_is_found_by_its_number_within_its_tenant(s: &dyn StoreAdmin) {
    seed(s, T, 0..3, 3).await;
    seed(s, OTHER, 10..11, 1).await;
    let o = active_line(s, "a", 0).await;
    let pending = created(s, activation("p", 1)).await;
    let line = s.subscription(T, o.msisdn.as_str()).await.expect("sub");
    assert_eq!(line.map(|l| l.activation_id), Some(o.id.clone()));
    assert_eq!(
        s.subscription(OTHER, o.msisdn.as_str()).await.expect("sub"),
        None
    );
    assert_eq!(
        s.subscription(T, pending.msisdn.as_str())
            .await
            .expect("sub"),
        None,
        "a line opens when its activation is active"
    );
    assert_eq!(s.subscription(T, "8610000000000").await.expect("sub"), None);
}

pub async fn pages_follow_subscription_ids_and_stay_stable_under_inserts(s: &dyn StoreAdmin) {
    seed(s, T, 0..10, 10).await;
    seed(s, OTHER, 20..22, 2).await;
    for (i, key) in ["b", "d", "f", "h", "j"].into_iter().enumerate() {
        active_line(s, key, i as u32).await;
    }
    let mut theirs = activation("c", 20);
    theirs.tenant = OTHER.into();
    let o = created(s, theirs).await;
    advance(s, &o, OrderStatus::Active, Effect::Activate).await;

    let (first, next) = ids(s, &query(None, 2)).await;
    assert_eq!(first, v(&["sub_b", "sub_d"]));
    assert_eq!(next.as_deref(), Some("sub_d"));
    // Lines added before and inside the rest of the listing.
    active_line(s, "a", 5).await;
    active_line(s, "g", 6).await;
    let (second, next) = ids(s, &query(next.as_deref(), 2)).await;
    assert_eq!(second, v(&["sub_f", "sub_g"]));
    let (third, next) = ids(s, &query(next.as_deref(), 2)).await;
    assert_eq!(third, v(&["sub_h", "sub_j"]));
    assert_eq!(next, None, "a page that reaches the end has no cursor");
    // From the start, everything of the tenant in id order.
    let (all, next) = ids(s, &query(None, 100)).await;
    assert_eq!(
        all,
        v(&[
            "sub_a", "sub_b", "sub_d", "sub_f", "sub_g", "sub_h", "sub_j"
        ])
    );
    assert_eq!(next, None);
    // A cursor that names no line starts after where it would be.
    let (from_e, _) = ids(s, &query(Some("sub_e"), 2)).await;
    assert_eq!(from_e, v(&["sub_f", "sub_g"]));
    let (past, next) = ids(s, &query(Some("sub_z"), 2)).await;
    assert!(past.is_empty() && next.is_none());
}

pub async fn pages_filter_by_state_and_card(s: &dyn StoreAdmin) {
    seed(s, T, 0..5, 5).await;
    seed(s, OTHER, 20..21, 1).await;
    let mut lines = Vec::new();
    for (i, key) in ["a", "b", "c", "d"].into_iter().enumerate() {
        lines.push(active_line(s, key, i as u32).await);
    }
    complete(s, OrderKind::Suspend, &lines[1].msisdn, "s").await;
    complete(s, OrderKind::Terminate, &lines[2].msisdn, "t").await;
    let by_state = |state, after: Option<&str>, limit| SubscriptionQuery {
        state: Some(state),
        ..query(after, limit)
    };
    assert_eq!(
        ids(s, &by_state(SubscriptionState::Suspended, None, 10)).await,
        (v(&["sub_b"]), None)
    );
    assert_eq!(
        ids(s, &by_state(SubscriptionState::Terminated, None, 10)).await,
        (v(&["sub_c"]), None)
    );
    // A filtered page's cursor is the last line it looked at.
    let (page, next) = ids(s, &by_state(SubscriptionState::Active, None, 1)).await;
    assert_eq!(page, v(&["sub_a"]));
    let next = next.expect("more lines to look at");
    assert!(
        next.as_str() >= "sub_a" && next.as_str() < "sub_d",
        "{next}"
    );
    let (page, next) = ids(s, &by_state(SubscriptionState::Active, Some(&next), 1)).await;
    assert_eq!((page, next), (v(&["sub_d"]), None));
    // By card: that line only, within the tenant.
    let by_card = |i: u32, after: Option<&str>| SubscriptionQuery {
        iccid: Some(iccid(i)),
        ..query(after, 10)
    };
    assert_eq!(ids(s, &by_card(3, None)).await, (v(&["sub_d"]), None));
    assert_eq!(ids(s, &by_card(3, Some("sub_d"))).await, (v(&[]), None));
    assert_eq!(ids(s, &by_card(4, None)).await, (v(&[]), None));
    let mut theirs = activation("z", 20);
    theirs.tenant = OTHER.into();
    let o = created(s, theirs).await;
    advance(s, &o, OrderStatus::Active, Effect::Activate).await;
    assert_eq!(ids(s, &by_card(20, None)).await, (v(&[]), None));
    let combined = SubscriptionQuery {
        state: Some(SubscriptionState::Suspended),
        ..by_card(1, None)
    };
    assert_eq!(ids(s, &combined).await, (v(&["sub_b"]), None));
    let mismatch = SubscriptionQuery {
        state: Some(SubscriptionState::Active),
        ..by_card(1, None)
    };
    assert_eq!(ids(s, &mismatch).await, (v(&[]), None));
}

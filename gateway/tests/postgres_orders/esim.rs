//! eSIM progress and expiry: notifications deduplicated and recorded whatever they are
//! for, progress applied only to an order of a served tenant, a download taking the
//! order off the expiry list, and expiry reopening undownloaded orders (leased to the
//! node that reopened them, their line busy) and passing over changed lines.

use super::*;
use gateway::order::EsimState;
use gateway::store::{LifecycleRejection, NotificationIn, NotificationOutcome};

const DEADLINE: u64 = T0 + 60_000;

/// An eSIM activation made active with a download deadline.
async fn released(s: &PgStore, key: &str) -> Order {
    let o = create(s, key, &format!("act_{key}"), None).await;
    let mut n = next(&o, OrderStatus::Active, 1_000);
    n.esim.as_mut().expect("esim part").expires_at_ms = Some(DEADLINE);
    s.advance_order(n.clone(), Effect::Activate, EventKind::OrderActive)
        .await
        .expect("active");
    n
}

fn note(card: u32, point: u32, success: bool) -> NotificationIn {
    NotificationIn {
        iccid: iccid(card),
        point,
        status: if success {
            "Executed-Success"
        } else {
            "Failed"
        }
        .into(),
        success: Some(success),
        code: None,
        timestamp: format!("2026-12-02T10:00:0{point}Z"),
        tenants: Vec::new(),
        raw: format!("{{\"point\":{point}}}"),
        now_ms: T0 + 5_000,
    }
}

#[tokio::test]
async fn notifications_are_deduplicated_recorded_and_applied() {
    let pg = server();
    let (s, _) = store(&pg, "notes").await;
    let o = released(&s, "e1").await;
    assert_eq!(o.iccid, iccid(100), "the first profile in stock");
    assert_eq!(s.next_esim_deadline().await.expect("r"), Some(DEADLINE));
    assert_eq!(s.esim_progress(&o.id).await.expect("r"), None);
    let out = s
        .record_notification(note(100, 3, true))
        .await
        .expect("rec");
    assert_eq!(
        out,
        NotificationOutcome::Applied {
            order: o.id.clone()
        }
    );
    let p = s.esim_progress(&o.id).await.expect("r").expect("progress");
    assert_eq!((p.state, p.points.len()), (Some(EsimState::Downloaded), 1));
    assert_eq!(s.next_esim_deadline().await.expect("r"), None, "downloaded");
    let dup = s
        .record_notification(note(100, 3, true))
        .await
        .expect("rec");
    assert_eq!(dup, NotificationOutcome::Duplicate);
    // Recorded, changing nothing: a physical card, an unknown card, a tenant the SM-DP+
    // does not serve, a profile in stock.
    let out = s.record_notification(note(1, 3, true)).await.expect("rec");
    assert_eq!(out, NotificationOutcome::UnknownIccid);
    let out = s.record_notification(note(98, 3, true)).await.expect("rec");
    assert_eq!(out, NotificationOutcome::UnknownIccid);
    let mut foreign = note(100, 4, true);
    foreign.tenants = vec!["other".into()];
    let out = s.record_notification(foreign).await.expect("rec");
    assert_eq!(out, NotificationOutcome::ForeignTenant);
    let out = s
        .record_notification(note(105, 3, true))
        .await
        .expect("rec");
    assert_eq!(out, NotificationOutcome::NoOrder);
    assert_eq!(count(&s, "SELECT COUNT(*) FROM notifications").await, 5);
    let p = s.esim_progress(&o.id).await.expect("r").expect("progress");
    assert_eq!(p.points.len(), 1, "only the applied one");
    s.flush_events().await.expect("flush");
    let public = s.public_events("acme", 0, None, 100).await.expect("events");
    let downloaded = public
        .iter()
        .filter(|e| e.event_type.as_str() == "esim.downloaded")
        .count();
    assert_eq!(downloaded, 1);
}

#[tokio::test]
async fn expiry_reopens_undownloaded_orders_for_the_node_that_reopens_them() {
    let pg = server();
    let (s, url) = store(&pg, "expiry").await;
    let gone = released(&s, "e1").await;
    let changed = released(&s, "e2").await;
    // A lifecycle order on the second line since: its own undo no longer applies.
    let sus = create_lifecycle(
        &s,
        suspend("s1", &changed.msisdn, SuspensionReason::NonPayment),
    )
    .await;
    advance(&s, &sus, OrderStatus::Completed, Effect::Complete).await;
    let reopen = gateway::engine::machine::esim::expire;
    assert!(
        s.expire_esim(DEADLINE - 1, reopen)
            .await
            .expect("x")
            .is_empty()
    );
    let b = node(&url, "b").await;
    let reopened = b.expire_esim(DEADLINE, reopen).await.expect("expire");
    assert_eq!(reopened.len(), 1);
    let r = &reopened[0];
    assert_eq!(
        (r.id.as_str(), r.status),
        (gone.id.as_str(), OrderStatus::Compensating)
    );
    assert_eq!(
        s.get_order("acme", &gone.id).await.expect("r").as_ref(),
        Some(r)
    );
    assert!(
        order_column::<String>(&s, &gone.id, "id").await.is_some(),
        "in flight"
    );
    let owner: Option<String> = order_column(&s, &gone.id, "lease_owner").await;
    assert_eq!(owner.as_deref(), Some("b"));
    assert_eq!(
        s.next_esim_deadline().await.expect("r"),
        None,
        "both off the list"
    );
    // The reopened activation is its line's order in flight.
    let refused = s
        .create_lifecycle(lifecycle("l1", &gone.msisdn, OrderKind::Terminate))
        .await
        .expect("r");
    assert!(
        matches!(refused, LifecycleOutcome::Rejected(LifecycleRejection::Busy(ref id)) if *id == gone.id),
        "{refused:?}"
    );
    // Undone: the line ends, the profile returns to stock, the number to the pool.
    advance(&b, r, OrderStatus::Failed, Effect::Release).await;
    assert_eq!(
        s.subscription("acme", gone.msisdn.as_str())
            .await
            .expect("r"),
        None
    );
    let profile = s.get_sim(&gone.iccid).await.expect("r").expect("sim");
    assert_eq!(profile.state, SimState::Available);
    assert!(s.inflight_orders().await.expect("r").is_empty());
    let again = create(&s, "e3", "act_e3", None).await;
    assert_eq!(again.iccid, gone.iccid, "the lowest profile in stock again");
}

//! eSIM progress: notifications (recorded, deduplicated, tenant-checked, applied), and the
//! download deadline of released orders (`next_esim_deadline`, `expire_esim`).

use crate::fixture::*;
use gateway::engine::machine::expire;
use gateway::order::{Effect, EsimState, Order, OrderKind, OrderStatus, SuspensionReason};
use gateway::store::{
    EventKind, EventType, LifecycleOutcome, LifecycleRejection, NotificationIn,
    NotificationOutcome, ProgressPoint, SimState, StoreAdmin,
};
use sim_profiles::Iccid;

/// Makes a new eSIM order active (released) with download deadline `deadline`.
pub async fn released(s: &dyn StoreAdmin, key: &str, deadline: u64) -> Order {
    let o = created(s, esim_activation(key)).await;
    let mut n = next(&o, OrderStatus::Active, 1_000);
    let e = n.esim.as_mut().expect("eSIM");
    e.expires_at_ms = Some(deadline);
    e.activation_code = Some(format!("1$SMDP.EXAMPLE${}", e.matching_id));
    s.advance_order(n.clone(), Effect::Activate, EventKind::OrderActive)
        .await
        .expect("active");
    n
}

/// A notification for `iccid`: point `point`, success, failure or neither (`Expired`).
pub fn note(iccid: &Iccid, point: u32, success: Option<bool>, timestamp: &str) -> NotificationIn {
    NotificationIn {
        iccid: iccid.clone(),
        point,
        status: match success {
            Some(true) => "Executed-Success",
            Some(false) => "Failed",
            None => "Expired",
        }
        .into(),
        success,
        code: (success == Some(false)).then(|| "8.1/3.8".to_owned()),
        timestamp: timestamp.into(),
        tenants: Vec::new(),
        raw: format!("{{\"point\":{point},\"ts\":\"{timestamp}\"}}"),
        now_ms: NOW + 5_000,
    }
}

async fn record(s: &dyn StoreAdmin, n: NotificationIn) -> NotificationOutcome {
    s.record_notification(n).await.expect("record")
}

pub async fn notifications_apply_once_and_say_what_they_did(s: &dyn StoreAdmin) {
    seed_with(s, tenant(T), 0..1, 20..23, 5).await;
    let o = released(s, "e", NOW + DAY_MS).await;
    let applied = NotificationOutcome::Applied {
        order: o.id.clone(),
    };
    assert_eq!(s.esim_progress(&o.id).await.expect("progress"), None);
    let events_before = all_events(s, T).await.len();

    let t1 = "2026-01-01T10:00:00Z";
    assert_eq!(record(s, note(&o.iccid, 1, Some(true), t1)).await, applied);
    let p = s
        .esim_progress(&o.id)
        .await
        .expect("progress")
        .expect("some");
    assert_eq!(p.state, Some(EsimState::Released));
    assert_eq!(
        p.points,
        vec![ProgressPoint {
            point: 1,
            status: "Executed-Success".into(),
            code: None,
            timestamp: t1.into(),
            received_at_ms: NOW + 5_000,
        }]
    );
    let t3 = "2026-01-01T10:05:00Z";
    assert_eq!(record(s, note(&o.iccid, 3, Some(true), t3)).await, applied);
    // The same ICCID, point, status and timestamp again: a duplicate, applied once.
    let mut dup = note(&o.iccid, 3, Some(true), t3);
    dup.raw = "a different body".into();
    dup.now_ms = NOW + 9_000;
    assert_eq!(record(s, dup).await, NotificationOutcome::Duplicate);
    let p = s
        .esim_progress(&o.id)
        .await
        .expect("progress")
        .expect("some");
    assert_eq!(p.state, Some(EsimState::Downloaded));
    assert_eq!(p.points.len(), 2);
    // Another timestamp is another notification; the state does not change again.
    let t3b = "2026-01-01T10:06:00Z";
    assert_eq!(record(s, note(&o.iccid, 3, Some(true), t3b)).await, applied);
    // A failure after the download.
    let t4 = "2026-01-01T10:07:00Z";
    assert_eq!(record(s, note(&o.iccid, 4, Some(false), t4)).await, applied);
    let p = s
        .esim_progress(&o.id)
        .await
        .expect("progress")
        .expect("some");
    assert_eq!(p.state, Some(EsimState::Error));
    assert_eq!(p.points.len(), 4);
    assert_eq!(p.points[3].code.as_deref(), Some("8.1/3.8"));
    // An unknown status is stored and changes no state.
    assert_eq!(record(s, note(&o.iccid, 2, None, t4)).await, applied);
    assert_eq!(
        s.esim_progress(&o.id)
            .await
            .expect("progress")
            .and_then(|p| p.state),
        Some(EsimState::Error)
    );
    let published: Vec<EventType> = all_events(s, T).await[events_before..]
        .iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(
        published,
        vec![EventType::EsimDownloaded, EventType::EsimError],
        "only changes of state and failures are published"
    );
    let logged = s.events(0, 10_000).await.expect("events");
    let progress_events = logged
        .iter()
        .filter(|e| {
            e.order_id.as_deref() == Some(o.id.as_str())
                && matches!(e.kind, EventKind::EsimProgress { .. })
        })
        .count();
    assert_eq!(progress_events, 5, "one per applied notification");

    // Recorded only: an unknown card, a physical card, a profile in stock, a profile of a
    // tenant the sending SM-DP+ does not serve.
    let stock: Iccid = [iccid(20), iccid(21), iccid(22)]
        .into_iter()
        .find(|c| *c != o.iccid)
        .expect("a profile in stock");
    assert_eq!(
        record(s, note(&iccid(99), 3, Some(true), t3)).await,
        NotificationOutcome::UnknownIccid
    );
    assert_eq!(
        record(s, note(&iccid(0), 3, Some(true), t3)).await,
        NotificationOutcome::UnknownIccid
    );
    assert_eq!(
        record(s, note(&stock, 3, Some(true), t3)).await,
        NotificationOutcome::NoOrder
    );
    let mut foreign = note(&o.iccid, 4, Some(true), t4);
    foreign.tenants = vec![OTHER.into()];
    assert_eq!(record(s, foreign).await, NotificationOutcome::ForeignTenant);
    let mut served = note(&o.iccid, 4, Some(true), "2026-01-01T10:08:00Z");
    served.tenants = vec![OTHER.into(), T.into()];
    assert_eq!(record(s, served).await, applied);
    // Recorded, so a repeat of one of those is a duplicate too.
    assert_eq!(
        record(s, note(&iccid(99), 3, Some(true), t3)).await,
        NotificationOutcome::Duplicate
    );
    let p = s
        .esim_progress(&o.id)
        .await
        .expect("progress")
        .expect("some");
    assert_eq!(
        p.state,
        Some(EsimState::Installed),
        "an install success after an error"
    );
    assert_eq!(p.points.len(), 6);
}

pub async fn a_released_order_expires_at_its_deadline(s: &dyn StoreAdmin) {
    seed_with(s, tenant(T), 0..0, 20..21, 2).await;
    let deadline = NOW + DAY_MS;
    assert_eq!(s.next_esim_deadline().await.expect("deadline"), None);
    let o = released(s, "e", deadline).await;
    assert_eq!(
        s.next_esim_deadline().await.expect("deadline"),
        Some(deadline)
    );
    assert!(
        s.expire_esim(deadline - 1, expire)
            .await
            .expect("expire")
            .is_empty()
    );
    assert_eq!(s.get_order(T, &o.id).await.expect("get"), Some(o.clone()));
    // At the deadline: reopened with the engine's transition, in the store's commit.
    let reopened = s.expire_esim(deadline, expire).await.expect("expire");
    let want = expire(o.clone(), deadline);
    assert_eq!(reopened, vec![want.clone()]);
    assert_eq!(want.status, OrderStatus::Compensating);
    assert_eq!(want.version, o.version + 1);
    assert_eq!(
        s.get_order(T, &o.id).await.expect("get"),
        Some(want.clone())
    );
    assert_eq!(
        s.inflight_orders().await.expect("inflight"),
        vec![want.clone()]
    );
    assert_eq!(s.next_esim_deadline().await.expect("deadline"), None);
    assert!(
        s.expire_esim(deadline + 1, expire)
            .await
            .expect("expire")
            .is_empty()
    );
    let logged = s.events(0, 10_000).await.expect("events");
    assert_eq!(
        logged.last().map(|e| &e.kind),
        Some(&EventKind::EsimExpired)
    );
    // Its line is busy with the undo: no lifecycle order can start.
    let line = s
        .subscription(T, o.msisdn.as_str())
        .await
        .expect("sub")
        .expect("line");
    assert_eq!(line.inflight.as_deref(), Some(o.id.as_str()));
    let mut suspend = lifecycle(OrderKind::Suspend, &o.msisdn, "s");
    suspend.reason = Some(SuspensionReason::NonPayment);
    match s.create_lifecycle(suspend).await.expect("lifecycle") {
        LifecycleOutcome::Rejected(LifecycleRejection::Busy(id)) => assert_eq!(id, o.id),
        other => panic!("expected busy, got {other:?}"),
    }
    // Undone: the profile is back in stock, the number free, the line ended.
    let failed = crate::fixture::advance(s, &want, OrderStatus::Failed, Effect::Release).await;
    assert_eq!(
        s.get_sim(&failed.iccid)
            .await
            .expect("sim")
            .map(|c| c.state),
        Some(SimState::Available)
    );
    assert_eq!(
        s.subscription(T, o.msisdn.as_str()).await.expect("sub"),
        None
    );
    let c = counts(s, T).await;
    assert_eq!(
        (c.sims_available, c.sims_active, c.numbers_available),
        (1, 0, 2)
    );
    let again = created(s, esim_activation("e2")).await;
    assert_eq!(again.iccid, o.iccid);
}

pub async fn a_downloaded_order_never_expires(s: &dyn StoreAdmin) {
    seed_with(s, tenant(T), 0..0, 20..23, 5).await;
    let d1 = NOW + DAY_MS;
    let d2 = NOW + 2 * DAY_MS;
    let downloaded = released(s, "a", d1).await;
    let moved_on = released(s, "b", d2).await;
    let untouched = released(s, "c", d2 + 1).await;
    assert_eq!(s.next_esim_deadline().await.expect("deadline"), Some(d1));
    record(
        s,
        note(&downloaded.iccid, 3, Some(true), "2026-01-01T10:00:00Z"),
    )
    .await;
    assert_eq!(s.next_esim_deadline().await.expect("deadline"), Some(d2));
    // A line a later order took over is no longer the activation's to undo.
    let mut suspend = lifecycle(OrderKind::Suspend, &moved_on.msisdn, "s");
    suspend.reason = Some(SuspensionReason::CustomerRequest);
    lifecycle_created(s, suspend).await;
    let reopened = s.expire_esim(d2 + 1, expire).await.expect("expire");
    let ids: Vec<&str> = reopened.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, vec![untouched.id.as_str()]);
    for o in [&downloaded, &moved_on] {
        assert_eq!(
            s.get_order(T, &o.id).await.expect("get").map(|o| o.status),
            Some(OrderStatus::Active)
        );
    }
    assert_eq!(s.next_esim_deadline().await.expect("deadline"), None);
    assert!(
        s.expire_esim(d2 + DAY_MS, expire)
            .await
            .expect("expire")
            .is_empty()
    );
}

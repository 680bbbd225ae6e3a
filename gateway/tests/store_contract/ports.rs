//! Port-in orders in the store (issue 12): the create commit with a port part (a
//! temporary number from the pool, or none; a number already ours refused), the parked
//! ports' deadline index, the port inbox (recorded once, waking a parked port, holding
//! back a park while an item waits), the open-port list, and what completion and release
//! do to the numbers.

use crate::fixture::*;
use gateway::compliance::Market;
use gateway::crypto::Sealed;
use gateway::order::{Effect, Order, OrderStatus, PortIn, Step};
use gateway::store::{
    Arrived, CreateOutcome, Ended, EventKind, NumberChoice, OnArrival, PortInboxItem, PortItemBody,
    PortReceived, Rejection, StoreAdmin, StoreError,
};
use sim_profiles::Msisdn;
use std::sync::Arc;

const PORTED: &str = "447911000001";

fn port_in(number: &str) -> PortIn {
    let sealed = Sealed {
        kid: "k1".into(),
        nonce: "00".into(),
        ct: "00".into(),
    };
    PortIn::new(
        Market::Uk,
        msisdn(number),
        "EE".into(),
        sealed,
        Some(NOW + DAY_MS),
        None,
    )
}

/// Creates a port-in of `number` on card `i`: a temporary number from the pool, or
/// (`wait`) none.
pub async fn create_port(s: &dyn StoreAdmin, key: &str, i: u32, number: &str, wait: bool) -> Order {
    let mut new = activation(key, i);
    new.port = Some(port_in(number));
    if wait {
        new.number = NumberChoice::Ported(msisdn(number));
    }
    created(s, new).await
}

fn wake(mut o: Order, now: u64) -> Order {
    if let Some(p) = o.port.as_mut() {
        p.parked = None;
    }
    o.version += 1;
    o.updated_at_ms = now;
    o
}

fn parked(o: &Order, due: u64) -> Order {
    let mut n = o.clone();
    if let Some(p) = n.port.as_mut() {
        p.parked = Some(due);
    }
    n.version += 1;
    n.status = OrderStatus::InProgress;
    n
}

fn cancel_item(o: &Order, at: u64) -> PortInboxItem {
    PortInboxItem {
        key: format!("cancel/{}", o.id),
        order_id: Some(o.id.clone()),
        tenant: Some(o.tenant.clone()),
        received_at_ms: at,
        body: PortItemBody::Cancel,
        applied: false,
    }
}

/// Port `o` completed: active on the ported number, out of the parked index, its line
/// created on the HLR.
fn completed(o: &Order) -> Order {
    let mut done = next(o, OrderStatus::Active, 1_000);
    if let Some(p) = done.port.as_mut() {
        p.parked = None;
    }
    done.msisdn = msisdn(PORTED);
    done.hlr = Step::Done {
        outcome: "created".into(),
    };
    done
}

/// Asserts that port `o`'s line is open on the ported number and that its temporary
/// number `temp` went to quarantine.
async fn line_on_the_ported_number(s: &dyn StoreAdmin, o: &Order, temp: Msisdn) {
    let line = s
        .subscription(T, PORTED)
        .await
        .expect("line")
        .expect("opened");
    assert_eq!(line.activation_id, o.id);
    let quarantined: Vec<Msisdn> = s
        .quarantined(T, 10)
        .await
        .expect("quarantined")
        .into_iter()
        .map(|(m, _)| m)
        .collect();
    assert_eq!(quarantined, [temp]);
}

fn ids(orders: &[Order]) -> Vec<&str> {
    orders.iter().map(|o| o.id.as_str()).collect()
}

pub async fn a_port_in_runs_on_a_temporary_number_or_waits_and_never_takes_ours(
    s: &dyn StoreAdmin,
) {
    seed(s, T, 0..3, 3).await;
    let temp = create_port(s, "k1", 0, PORTED, false).await;
    let p = temp.port.as_ref().expect("port");
    assert_eq!(p.temporary.as_ref(), Some(&temp.msisdn));
    assert_eq!(p.number, msisdn(PORTED));
    assert_eq!(counts(s, T).await.numbers_available, 2);
    let waits = create_port(s, "k2", 1, "447911000002", true).await;
    assert_eq!(waits.msisdn, msisdn("447911000002"));
    assert_eq!(waits.port.as_ref().and_then(|p| p.temporary.clone()), None);
    assert_eq!(
        counts(s, T).await.numbers_available,
        2,
        "no pool number taken"
    );
    // A number of our own pool is not ported: nothing changes.
    let mut ours = activation("k3", 2);
    ours.port = Some(port_in(number(T, 2).as_str()));
    ours.number = NumberChoice::Ported(number(T, 2));
    match s.create_activation(ours).await.expect("create") {
        CreateOutcome::Rejected(Rejection::NumberAlreadyOurs) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(counts(s, T).await.sims_reserved, 2);
    let open = s.open_ports(T, 10).await.expect("open");
    assert_eq!(ids(&open), [temp.id.as_str(), waits.id.as_str()]);
    assert!(s.open_ports(OTHER, 10).await.expect("open").is_empty());
}

pub async fn a_parked_port_leaves_flight_and_wakes_at_its_deadline(s: &dyn StoreAdmin) {
    seed(s, T, 0..1, 1).await;
    let o = create_port(s, "k1", 0, PORTED, true).await;
    let due = NOW + DAY_MS;
    let p = parked(&o, due);
    assert!(s.park_port(p.clone()).await.expect("park"));
    let inflight = s.inflight_orders().await.expect("inflight");
    assert!(
        !ids(&inflight).contains(&o.id.as_str()),
        "parked: out of flight"
    );
    assert_eq!(s.next_port_deadline().await.expect("next"), Some(due));
    assert!(
        s.wake_due_ports(due - 1, wake)
            .await
            .expect("wake")
            .is_empty()
    );
    let woken = s.wake_due_ports(due, wake).await.expect("wake");
    assert_eq!(ids(&woken), [o.id.as_str()]);
    assert_eq!(woken[0].port_parked(), None);
    assert_eq!(
        s.get_order(T, &o.id).await.expect("get"),
        Some(woken[0].clone())
    );
    let inflight = s.inflight_orders().await.expect("inflight");
    assert!(
        ids(&inflight).contains(&o.id.as_str()),
        "woken: in flight again"
    );
    assert_eq!(s.next_port_deadline().await.expect("next"), None);
    // Parked with no deadline: listed, but no timer is due.
    assert!(
        s.park_port(parked(&woken[0], u64::MAX))
            .await
            .expect("park")
    );
    assert_eq!(s.next_port_deadline().await.expect("next"), None);
    assert!(
        s.wake_due_ports(u64::MAX - 1, wake)
            .await
            .expect("wake")
            .is_empty()
    );
}

pub async fn port_items_are_recorded_once_and_wake_a_parked_port(s: &dyn StoreAdmin) {
    seed(s, T, 0..1, 1).await;
    let o = create_port(s, "k1", 0, PORTED, true).await;
    let p = parked(&o, NOW + DAY_MS);
    assert!(s.park_port(p.clone()).await.expect("park"));
    let item = cancel_item(&o, NOW + 5);
    let woken = match s
        .receive_port_item(item.clone(), OnArrival::Wake(wake))
        .await
        .expect("receive")
    {
        PortReceived::Queued { woken: Some(w) } => *w,
        other => panic!("{other:?}"),
    };
    assert_eq!(woken.port_parked(), None);
    assert_eq!(
        s.receive_port_item(item.clone(), OnArrival::Wake(wake))
            .await
            .expect("again"),
        PortReceived::Duplicate
    );
    let pending = s.pending_port_items(&o.id).await.expect("pending");
    assert_eq!(
        pending.iter().map(|i| i.key.as_str()).collect::<Vec<_>>(),
        [item.key.as_str()]
    );
    // While the item waits the order will not park; nothing is written.
    assert!(
        !s.park_port(parked(&woken, NOW + DAY_MS))
            .await
            .expect("park")
    );
    assert_eq!(
        s.get_order(T, &o.id).await.expect("get"),
        Some(woken.clone())
    );
    let mut applied = woken.clone();
    applied.version += 1;
    let event = EventKind::Port {
        what: "applied".into(),
    };
    s.apply_port_item(applied.clone(), &item.key, event)
        .await
        .expect("apply");
    assert!(
        s.pending_port_items(&o.id)
            .await
            .expect("pending")
            .is_empty()
    );
    assert!(
        s.park_port(parked(&applied, NOW + DAY_MS))
            .await
            .expect("park")
    );
    // An item for no open port is kept (a repeat stays a duplicate) and wakes nothing.
    let mut stray = cancel_item(&o, NOW + 6);
    stray.key = "hub/m-stray".into();
    stray.order_id = Some("act_unknown".into());
    assert_eq!(
        s.receive_port_item(stray.clone(), OnArrival::Wake(wake))
            .await
            .expect("stray"),
        PortReceived::Queued { woken: None }
    );
    assert_eq!(
        s.receive_port_item(stray, OnArrival::Wake(wake))
            .await
            .expect("stray"),
        PortReceived::Duplicate
    );
}

/// `OnArrival::Apply`: the item is recorded applied and its parked order written as the
/// step gives it, in the receiving commit: parked again on its new deadline, or in flight.
pub async fn a_port_item_applied_on_arrival_parks_or_wakes_in_one_commit(s: &dyn StoreAdmin) {
    seed(s, T, 0..1, 1).await;
    let o = create_port(s, "k1", 0, PORTED, true).await;
    assert!(s.park_port(parked(&o, NOW + DAY_MS)).await.expect("park"));
    // A step that moves the deadline earlier and stays parked.
    let earlier = NOW + DAY_MS / 24;
    let repark = OnArrival::Apply(Arc::new(move |o, now| {
        let mut o = parked(&wake(o, now), earlier);
        o.version -= 1;
        Arrived::Order(Box::new(o))
    }));
    let mut item = cancel_item(&o, NOW + 5);
    item.key = "hub/m-1".into();
    assert_eq!(
        s.receive_port_item(item.clone(), repark.clone())
            .await
            .expect("receive"),
        PortReceived::Settled { until: earlier }
    );
    let stored = s.get_order(T, &o.id).await.expect("get").expect("order");
    assert_eq!(stored.port_parked(), Some(earlier));
    assert_eq!(stored.updated_at_ms, NOW + 5, "the step's order is written");
    assert!(
        s.pending_port_items(&o.id)
            .await
            .expect("pending")
            .is_empty(),
        "applied: nothing left for the engine"
    );
    assert_eq!(s.next_port_deadline().await.expect("next"), Some(earlier));
    assert!(
        !ids(&s.inflight_orders().await.expect("inflight")).contains(&o.id.as_str()),
        "still parked: out of flight"
    );
    assert_eq!(
        s.receive_port_item(item, repark).await.expect("again"),
        PortReceived::Duplicate
    );
    // A step that leaves the order in flight: the engine drives it.
    let stay = OnArrival::Apply(Arc::new(|o, now| Arrived::Order(Box::new(wake(o, now)))));
    let second = PortInboxItem {
        key: "hub/m-2".into(),
        received_at_ms: NOW + 6,
        ..cancel_item(&o, NOW + 6)
    };
    let woken = match s.receive_port_item(second, stay).await.expect("receive") {
        PortReceived::Queued { woken: Some(w) } => *w,
        other => panic!("{other:?}"),
    };
    assert_eq!(woken.port_parked(), None);
    assert_eq!(s.get_order(T, &o.id).await.expect("get"), Some(woken));
    assert!(
        s.pending_port_items(&o.id)
            .await
            .expect("pending")
            .is_empty()
    );
    assert_eq!(s.next_port_deadline().await.expect("next"), None);
    assert!(ids(&s.inflight_orders().await.expect("inflight")).contains(&o.id.as_str()));
}

/// The engine applies an order's waiting items in one commit, which also parks the order
/// when the machine only has to wait; if another item arrived after the engine read
/// them, the order is written in flight instead, so that item is not left behind.
pub async fn applying_items_parks_the_order_unless_another_waits(s: &dyn StoreAdmin) {
    seed(s, T, 0..1, 1).await;
    let o = create_port(s, "k1", 0, PORTED, true).await;
    assert!(s.park_port(parked(&o, NOW + DAY_MS)).await.expect("park"));
    let first = PortInboxItem {
        key: "hub/m-1".into(),
        ..cancel_item(&o, NOW + 5)
    };
    let woken = match s
        .receive_port_item(first.clone(), OnArrival::Wake(wake))
        .await
        .expect("receive")
    {
        PortReceived::Queued { woken: Some(w) } => *w,
        other => panic!("{other:?}"),
    };
    // The engine reads `first`; `second` arrives before it writes.
    let second = PortInboxItem {
        key: "hub/m-2".into(),
        ..cancel_item(&o, NOW + 6)
    };
    assert_eq!(
        s.receive_port_item(second.clone(), OnArrival::Wake(wake))
            .await
            .expect("receive"),
        PortReceived::Queued { woken: None }
    );
    let due = NOW + DAY_MS / 2;
    let event = || EventKind::Port {
        what: "applied".into(),
    };
    // A stale version is refused and marks nothing applied.
    let stale = s
        .apply_port_items(
            woken.clone(),
            vec![first.key.clone()],
            Effect::None,
            event(),
        )
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    assert_eq!(s.pending_port_items(&o.id).await.expect("pending").len(), 2);
    let applied = parked(&woken, due);
    let was_parked = s
        .apply_port_items(
            applied.clone(),
            vec![first.key.clone()],
            Effect::None,
            event(),
        )
        .await
        .expect("apply");
    assert!(!was_parked, "an item waits: not parked");
    let stored = s.get_order(T, &o.id).await.expect("get").expect("order");
    assert_eq!(
        stored,
        gateway::store::unparked(&applied),
        "written in flight"
    );
    assert!(ids(&s.inflight_orders().await.expect("inflight")).contains(&o.id.as_str()));
    assert_eq!(s.next_port_deadline().await.expect("next"), None);
    let waiting = s.pending_port_items(&o.id).await.expect("pending");
    assert_eq!(
        waiting.iter().map(|i| i.key.as_str()).collect::<Vec<_>>(),
        [second.key.as_str()]
    );
    let mut last = parked(&stored, due);
    last.updated_at_ms = NOW + 7;
    assert!(
        s.apply_port_items(
            last.clone(),
            vec![second.key.clone()],
            Effect::None,
            event()
        )
        .await
        .expect("apply"),
        "nothing waits: parked"
    );
    assert_eq!(s.get_order(T, &o.id).await.expect("get"), Some(last));
    assert!(
        s.pending_port_items(&o.id)
            .await
            .expect("pending")
            .is_empty()
    );
    assert_eq!(s.next_port_deadline().await.expect("next"), Some(due));
    assert!(!ids(&s.inflight_orders().await.expect("inflight")).contains(&o.id.as_str()));
}

/// A batch of items (a hub delivery of several messages) is received in one call, each
/// item seeing the ones before it: a key twice is a duplicate the second time, an order
/// the batch parked again or woke is what the next item finds; answers in order.
pub async fn a_batch_of_port_items_is_received_in_order(s: &dyn StoreAdmin) {
    seed(s, T, 0..2, 2).await;
    let a = create_port(s, "k1", 0, PORTED, true).await;
    let b = create_port(s, "k2", 1, "447911000002", true).await;
    for o in [&a, &b] {
        assert!(s.park_port(parked(o, NOW + DAY_MS)).await.expect("park"));
    }
    let earlier = NOW + DAY_MS / 24;
    let repark = OnArrival::Apply(Arc::new(move |o, now| {
        let mut o = parked(&wake(o, now), earlier);
        o.version -= 1;
        Arrived::Order(Box::new(o))
    }));
    let item = |o: &Order, key: &str, at: u64| PortInboxItem {
        key: key.into(),
        ..cancel_item(o, at)
    };
    let batch = vec![
        (item(&a, "hub/m-1", NOW + 5), repark.clone()),
        (item(&b, "hub/m-2", NOW + 5), OnArrival::Wake(wake)),
        (item(&a, "hub/m-1", NOW + 5), repark),
        (
            item(&a, "hub/m-3", NOW + 5),
            OnArrival::Apply(Arc::new(|o, now| Arrived::Order(Box::new(wake(o, now))))),
        ),
        (item(&b, "hub/m-4", NOW + 5), OnArrival::Wake(wake)),
    ];
    let got = s.receive_port_items(batch).await.expect("receive");
    assert_eq!(got.len(), 5, "{got:?}");
    assert_eq!(got[0], PortReceived::Settled { until: earlier });
    let woken_b = match &got[1] {
        PortReceived::Queued { woken: Some(w) } => w.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(woken_b.id, b.id);
    assert_eq!(got[2], PortReceived::Duplicate);
    let woken_a = match &got[3] {
        PortReceived::Queued { woken: Some(w) } => w.clone(),
        other => panic!("the second message finds the order the first parked again: {other:?}"),
    };
    assert_eq!(
        woken_a.version,
        a.version + 3,
        "created, parked, applied, applied"
    );
    assert_eq!(
        got[4],
        PortReceived::Queued { woken: None },
        "the order the batch woke is in flight: the item waits for the engine"
    );
    assert_eq!(s.get_order(T, &a.id).await.expect("get"), Some(*woken_a));
    assert_eq!(s.get_order(T, &b.id).await.expect("get"), Some(*woken_b));
    let pending = s.pending_port_items(&b.id).await.expect("pending");
    assert_eq!(
        pending.iter().map(|i| i.key.as_str()).collect::<Vec<_>>(),
        ["hub/m-2", "hub/m-4"]
    );
    assert!(
        s.pending_port_items(&a.id)
            .await
            .expect("pending")
            .is_empty()
    );
    assert_eq!(
        s.receive_port_items(vec![(item(&b, "hub/m-4", NOW + 9), OnArrival::Wake(wake))])
            .await
            .expect("again"),
        [PortReceived::Duplicate]
    );
}

/// Consecutive items of a batch for one parked order move it along in memory: the order
/// is written once, after the last of them (each item still has its own event in the
/// order's history), whether they leave it parked or the last takes it back into flight.
pub async fn consecutive_items_of_a_batch_move_a_parked_port_in_one_write(s: &dyn StoreAdmin) {
    seed(s, T, 0..2, 2).await;
    let a = create_port(s, "k1", 0, PORTED, true).await;
    let b = create_port(s, "k2", 1, "447911000002", true).await;
    for o in [&a, &b] {
        assert!(s.park_port(parked(o, NOW + DAY_MS)).await.expect("park"));
    }
    let repark = |until: u64| {
        OnArrival::Apply(Arc::new(move |o, now| {
            let mut o = parked(&wake(o, now), until);
            o.version -= 1;
            Arrived::Order(Box::new(o))
        }))
    };
    let (earlier, earliest) = (NOW + DAY_MS / 24, NOW + DAY_MS / 48);
    let item = |o: &Order, key: &str, at: u64| PortInboxItem {
        key: key.into(),
        ..cancel_item(o, at)
    };
    let stay = OnArrival::Apply(Arc::new(|o, now| Arrived::Order(Box::new(wake(o, now)))));
    let events = s.events(0, 100_000).await.expect("events");
    let from = events.last().map_or(0, |e| e.seq + 1);
    let got = s
        .receive_port_items(vec![
            (item(&a, "hub/m-1", NOW + 5), repark(earlier)),
            (item(&a, "hub/m-1", NOW + 5), repark(earlier)),
            (item(&a, "hub/m-2", NOW + 6), repark(earliest)),
            (item(&a, "hub/m-3", NOW + 7), stay),
            (item(&b, "hub/m-4", NOW + 8), repark(earlier)),
            (item(&b, "hub/m-5", NOW + 9), repark(earliest)),
        ])
        .await
        .expect("receive");
    assert_eq!(
        got[..3],
        [
            PortReceived::Settled { until: earlier },
            PortReceived::Duplicate,
            PortReceived::Settled { until: earliest },
        ]
    );
    let woken = match &got[3] {
        PortReceived::Queued { woken: Some(w) } => w.clone(),
        other => panic!("the third message finds the order the second parked: {other:?}"),
    };
    assert_eq!(woken.updated_at_ms, NOW + 7, "every step applied");
    assert_eq!(
        woken.version,
        a.version + 2,
        "created, parked, one write for the batch"
    );
    assert_eq!(s.get_order(T, &a.id).await.expect("get"), Some(*woken));
    assert_eq!(
        got[4..],
        [
            PortReceived::Settled { until: earlier },
            PortReceived::Settled { until: earliest },
        ]
    );
    let b_now = s.get_order(T, &b.id).await.expect("get").expect("order");
    assert_eq!(
        b_now.port_parked(),
        Some(earliest),
        "the last run is written at the end"
    );
    assert_eq!(b_now.version, b.version + 2);
    assert_eq!(s.next_port_deadline().await.expect("next"), Some(earliest));
    let history: Vec<_> = s
        .events(from, 100)
        .await
        .expect("events")
        .into_iter()
        .filter_map(|e| match (e.order_id, e.kind) {
            (Some(id), EventKind::Port { what }) => Some(format!("{id}: {what}")),
            _ => None,
        })
        .collect();
    let (ka, kb) = (&a.id, &b.id);
    assert_eq!(
        history,
        [
            format!("{ka}: applied on arrival hub/m-1"),
            format!("{ka}: applied on arrival hub/m-2"),
            format!("{ka}: applied on arrival hub/m-3"),
            format!("{kb}: applied on arrival hub/m-4"),
            format!("{kb}: applied on arrival hub/m-5"),
        ]
    );
}

pub async fn a_completed_port_opens_its_line_on_the_ported_number(s: &dyn StoreAdmin) {
    seed(s, T, 0..2, 2).await;
    let o = create_port(s, "k1", 0, PORTED, false).await;
    let temp: Msisdn = o.msisdn.clone();
    s.advance_order(completed(&o), Effect::Activate, EventKind::OrderActive)
        .await
        .expect("complete");
    line_on_the_ported_number(s, &o, temp).await;
    assert!(s.open_ports(T, 10).await.expect("open").is_empty());
    // A port whose line waited and failed gives back its card and touches no number.
    let w = create_port(s, "k2", 1, "447911000002", true).await;
    let before = counts(s, T).await;
    let mut failed = next(&w, OrderStatus::Failed, 1_000);
    failed.error = Some(gateway::order::OrderError {
        code: "port_cancelled".into(),
        detail: "cancelled".into(),
    });
    s.advance_order(
        failed,
        Effect::Release,
        EventKind::OrderFailed {
            code: "port_cancelled".into(),
        },
    )
    .await
    .expect("release");
    let after = counts(s, T).await;
    assert_eq!(after.sims_available, before.sims_available + 1);
    assert_eq!(after.numbers_available, before.numbers_available);
}

/// An item whose step ends its parked port (`Arrived::Ended`: a `completed`): recorded
/// applied, and the order written with its outcome's effect in the same commit, which
/// opens the line on the ported number; the answer carries the ended order.
pub async fn a_port_item_that_completes_a_parked_port_ends_it_on_arrival(s: &dyn StoreAdmin) {
    seed(s, T, 0..2, 2).await;
    let o = create_port(s, "k1", 0, PORTED, false).await;
    let temp: Msisdn = o.msisdn.clone();
    let waiting = parked(&o, NOW + DAY_MS);
    assert!(s.park_port(waiting.clone()).await.expect("park"));
    let complete = OnArrival::Apply(Arc::new(move |parked_order: Order, _now| {
        let ended = Ended {
            order: completed(&parked_order),
            effect: Effect::Activate,
            before: (parked_order.attention.clone(), parked_order.error.is_some()),
        };
        Arrived::Ended(Box::new(ended), EventKind::OrderActive)
    }));
    let mut item = cancel_item(&o, NOW + 5);
    item.key = "hub/m-9".into();
    let got = s
        .receive_port_item(item.clone(), complete.clone())
        .await
        .expect("receive");
    let PortReceived::Ended(ended) = got else {
        panic!("not ended: {got:?}")
    };
    assert_eq!(ended.order.status, OrderStatus::Active);
    assert_eq!(ended.effect, Effect::Activate);
    let stored = s.get_order(T, &o.id).await.expect("get").expect("order");
    assert_eq!(stored, ended.order, "written as the step gave it");
    assert!(
        s.pending_port_items(&o.id)
            .await
            .expect("pending")
            .is_empty()
    );
    assert_eq!(s.next_port_deadline().await.expect("deadline"), None);
    line_on_the_ported_number(s, &o, temp).await;
    // Again: a duplicate, and the ended order is left as it is.
    assert_eq!(
        s.receive_port_item(item, complete).await.expect("again"),
        PortReceived::Duplicate
    );
}

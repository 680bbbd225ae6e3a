//! Many writers at once, on tasks of a multi-threaded runtime: a card, a number, an
//! idempotency key or a line's one order in flight is never given twice, whatever the
//! interleaving.

use crate::Backend;
use crate::fixture::*;
use gateway::numbers::NumberPolicy;
use gateway::order::{OrderKind, SuspensionReason};
use gateway::store::{
    CreateOutcome, LifecycleOutcome, LifecycleRejection, NewReservation, NumberChoice, Rejection,
    ReservationOutcome, StoreAdmin,
};
use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;

/// Runs `f(i)` for every `i` in `0..n` on its own task, all started before any is awaited.
async fn all_at_once<T, F, Fut>(store: Arc<dyn StoreAdmin>, n: u32, f: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(Arc<dyn StoreAdmin>, u32) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(f(store.clone(), i))).collect();
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

fn splitmix(i: u32) -> u64 {
    let mut z = u64::from(i).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub async fn concurrent_activations_never_share_a_sim_or_a_number(b: &mut Backend) {
    // 20 cards and 15 numbers; two requests per card, each under its own key. Each card
    // goes once, each number once, and since the cards outnumber the numbers, exactly 15
    // orders are made: a request fails only if its card or the last number went.
    let mut t = tenant(T);
    t.number_policy = NumberPolicy::Random;
    seed_with(b.store(), t, 0..20, 0..0, 15).await;
    let outcomes = all_at_once(b.shared(), 40, |s, i| async move {
        let mut new = activation(&format!("k{i}"), i % 20);
        new.random = splitmix(i);
        s.create_activation(new).await.expect("create")
    })
    .await;
    let mut cards = HashSet::new();
    let mut numbers = HashSet::new();
    for o in &outcomes {
        match o {
            CreateOutcome::Created(o) => {
                assert!(cards.insert(o.iccid.clone()), "card {} twice", o.iccid);
                assert!(
                    numbers.insert(o.msisdn.clone()),
                    "number {} twice",
                    o.msisdn
                );
            }
            CreateOutcome::Rejected(
                Rejection::SimNotAvailable { .. } | Rejection::NumberPoolExhausted,
            ) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(cards.len(), 15, "{outcomes:?}");
    let c = counts(b.store(), T).await;
    assert_eq!(
        (c.sims_available, c.sims_reserved, c.numbers_available),
        (5, 15, 0)
    );
    assert_eq!(
        b.store().inflight_orders().await.expect("inflight").len(),
        15
    );
}

pub async fn concurrent_reservations_never_hold_a_number_twice(b: &mut Backend) {
    let mut t = tenant(T);
    t.number_policy = NumberPolicy::Random;
    seed_with(b.store(), t, 0..0, 0..0, 20).await;
    let outcomes = all_at_once(b.shared(), 30, |s, i| async move {
        s.create_reservation(NewReservation {
            tenant: T.into(),
            idempotency_key: format!("k{i}"),
            body_hash: format!("h{i}"),
            id: format!("nres_{i}"),
            msisdn: None,
            ttl_ms: 60_000,
            now_ms: NOW,
            random: splitmix(i),
        })
        .await
        .expect("reserve")
    })
    .await;
    let mut held = HashSet::new();
    let mut exhausted = 0;
    for o in &outcomes {
        match o {
            ReservationOutcome::Created(r) => {
                assert!(held.insert(r.msisdn.clone()), "{} twice", r.msisdn)
            }
            ReservationOutcome::Rejected(Rejection::NumberPoolExhausted) => exhausted += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((held.len(), exhausted), (20, 10));
    let c = counts(b.store(), T).await;
    assert_eq!((c.numbers_available, c.numbers_held), (0, 20));
}

pub async fn one_idempotency_key_sent_at_once_creates_one_order(b: &mut Backend) {
    seed(b.store(), T, 0..1, 5).await;
    let outcomes = all_at_once(b.shared(), 12, |s, i| async move {
        let mut new = activation("same", 0);
        new.order_id = format!("act_{i}");
        s.create_activation(new).await.expect("create")
    })
    .await;
    let created: Vec<_> = outcomes
        .iter()
        .filter_map(|o| match o {
            CreateOutcome::Created(o) => Some(o.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(created.len(), 1, "{outcomes:?}");
    for o in &outcomes {
        match o {
            CreateOutcome::Created(_) => {}
            CreateOutcome::Replayed(o) => assert_eq!(o, &created[0]),
            other => panic!("unexpected {other:?}"),
        }
    }
    let c = counts(b.store(), T).await;
    assert_eq!((c.sims_reserved, c.numbers_available), (1, 4));
}

pub async fn one_chosen_number_sent_at_once_goes_to_one_order(b: &mut Backend) {
    seed(b.store(), T, 0..10, 3).await;
    let wanted = number(T, 2);
    let outcomes = all_at_once(b.shared(), 10, move |s, i| {
        let wanted = wanted.clone();
        async move {
            let mut new = activation(&format!("k{i}"), i);
            new.number = NumberChoice::Choose(wanted);
            s.create_activation(new).await.expect("create")
        }
    })
    .await;
    let mut winners = 0;
    for o in &outcomes {
        match o {
            CreateOutcome::Created(o) => {
                assert_eq!(o.msisdn, number(T, 2));
                winners += 1;
            }
            CreateOutcome::Rejected(Rejection::NumberNotAvailable) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(winners, 1);
    let c = counts(b.store(), T).await;
    assert_eq!(
        (c.sims_reserved, c.sims_available, c.numbers_available),
        (1, 9, 2)
    );
}

pub async fn one_line_takes_one_lifecycle_order_at_once(b: &mut Backend) {
    seed(b.store(), T, 0..1, 1).await;
    let line = active_line(b.store(), "a", 0).await;
    let msisdn = line.msisdn.clone();
    let outcomes = all_at_once(b.shared(), 8, move |s, i| {
        let msisdn = msisdn.clone();
        async move {
            let mut new = lifecycle(OrderKind::Suspend, &msisdn, &format!("s{i}"));
            new.reason = Some(SuspensionReason::ALL[i as usize % 5]);
            s.create_lifecycle(new).await.expect("lifecycle")
        }
    })
    .await;
    let winners: Vec<String> = outcomes
        .iter()
        .filter_map(|o| match o {
            LifecycleOutcome::Created(o) => Some(o.id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    for o in &outcomes {
        match o {
            LifecycleOutcome::Created(_) => {}
            LifecycleOutcome::Rejected(LifecycleRejection::Busy(id)) => assert_eq!(id, &winners[0]),
            other => panic!("unexpected {other:?}"),
        }
    }
    let sub = b
        .store()
        .subscription(T, line.msisdn.as_str())
        .await
        .expect("sub")
        .expect("line");
    assert_eq!(sub.inflight.as_ref(), Some(&winners[0]));
}

pub async fn concurrent_sales_at_one_store_all_go_through(b: &mut Backend) {
    // 96 sales at one store, clerk and terminal, each of its own ID, all at once: every
    // one writes the same velocity rows. None may fail for that (on PostgreSQL the node
    // queues them instead of letting them fail to serialize), and the store's window
    // counts every one.
    seed(b.store(), T, 0..96, 96).await;
    register_store(b.store(), T).await;
    let mut policy = cn_policy();
    policy.velocity.store_per_day = Some(1000);
    policy.velocity.clerk_per_hour = Some(1000);
    policy.velocity.device_per_hour = Some(1000);
    policy.risk.store_burst = None;
    let outcomes = all_at_once(b.shared(), 96, move |s, i| {
        let check = check_with(
            &policy,
            ENTERPRISE,
            Some(store_subscriber(500 + i)),
            store_channel(),
        );
        async move {
            s.create_activation(checked(&format!("s{i}"), i, &check))
                .await
        }
    })
    .await;
    for (i, o) in outcomes.into_iter().enumerate() {
        match o {
            Ok(CreateOutcome::Created(_)) => {}
            other => panic!("sale {i}: {other:?}"),
        }
    }
    assert_eq!(counts(b.store(), T).await.sims_reserved, 96);
}

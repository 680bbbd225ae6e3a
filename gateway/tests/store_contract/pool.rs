//! The number pool: checkout reservations (idempotent, used once, lapsing at their
//! deadline), quarantine, golden numbers and the allocation policies.

use crate::fixture::*;
use gateway::numbers::{GoldenRule, NumberPolicy};
use gateway::order::{Effect, OrderStatus};
use gateway::store::{
    CreateOutcome, Expired, InventoryCounts, NewReservation, NumberChoice, Rejection, Reservation,
    ReservationOutcome, StoreAdmin,
};
use sim_profiles::Msisdn;
use std::collections::HashSet;

const TTL: u64 = 15 * 60_000;

fn reservation(key: &str, msisdn: Option<Msisdn>) -> NewReservation {
    NewReservation {
        tenant: T.into(),
        idempotency_key: key.into(),
        body_hash: format!("h-{key}"),
        id: format!("nres_{key}"),
        msisdn,
        ttl_ms: TTL,
        now_ms: NOW,
        random: 0,
    }
}

async fn reserved(s: &dyn StoreAdmin, new: NewReservation) -> Reservation {
    match s.create_reservation(new).await.expect("reserve") {
        ReservationOutcome::Created(r) => r,
        other => panic!("expected a reservation, got {other:?}"),
    }
}

async fn refused(s: &dyn StoreAdmin, new: NewReservation) -> Rejection {
    match s.create_reservation(new).await.expect("reserve") {
        ReservationOutcome::Rejected(r) => r,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

pub async fn a_reservation_holds_a_number_idempotently(s: &dyn StoreAdmin) {
    seed(s, T, 0..0, 3).await;
    seed(s, OTHER, 0..0, 1).await;
    let r = reserved(s, reservation("k", None)).await;
    let want = Reservation {
        id: "nres_k".into(),
        tenant: T.into(),
        msisdn: number(T, 0),
        created_at_ms: NOW,
        expires_at_ms: NOW + TTL,
        order: None,
    };
    assert_eq!(r, want);
    assert_eq!(
        s.get_reservation(T, "nres_k").await.expect("get"),
        Some(want.clone())
    );
    assert_eq!(s.get_reservation(OTHER, "nres_k").await.expect("get"), None);
    assert_eq!(s.get_reservation(T, "nres_none").await.expect("get"), None);
    let held = InventoryCounts {
        numbers_available: 2,
        numbers_held: 1,
        ..InventoryCounts::default()
    };
    assert_eq!(counts(s, T).await, held);
    // The same key and body: the same reservation (a fresh id is not used).
    let mut again = reservation("k", None);
    again.id = "nres_other".into();
    again.now_ms = NOW + 1_000;
    match s.create_reservation(again).await.expect("replay") {
        ReservationOutcome::Replayed(r) => assert_eq!(r, want),
        other => panic!("expected a replay, got {other:?}"),
    }
    let mut other_body = reservation("k", Some(number(T, 2)));
    other_body.body_hash = "h-other".into();
    assert!(matches!(
        s.create_reservation(other_body).await.expect("reuse"),
        ReservationOutcome::KeyReused
    ));
    assert_eq!(counts(s, T).await, held);
    // A chosen number: in the pool and free, or refused.
    let chosen = reserved(s, reservation("c", Some(number(T, 2)))).await;
    assert_eq!(chosen.msisdn, number(T, 2));
    assert_eq!(
        refused(s, reservation("c2", Some(number(T, 0)))).await,
        Rejection::NumberNotAvailable
    );
    assert_eq!(
        refused(s, reservation("c3", Some(number(OTHER, 0)))).await,
        Rejection::NumberNotInPool
    );
    let mut nobody = reservation("c4", None);
    nobody.tenant = "nobody".into();
    assert_eq!(refused(s, nobody).await, Rejection::UnknownTenant);
    reserved(s, reservation("last", None)).await;
    assert_eq!(
        refused(s, reservation("none", None)).await,
        Rejection::NumberPoolExhausted
    );
    assert_eq!(counts(s, T).await.numbers_held, 3);
    assert_eq!(counts(s, OTHER).await.numbers_available, 1);
}

pub async fn an_activation_uses_a_reservation_once(s: &dyn StoreAdmin) {
    seed(s, T, 0..4, 4).await;
    seed(s, OTHER, 10..11, 1).await;
    let r = reserved(s, reservation("r", Some(number(T, 3)))).await;
    let mut use_it = activation("a", 0);
    use_it.number = NumberChoice::Reservation(r.id.clone());
    let o = created(s, use_it).await;
    assert_eq!(o.msisdn, number(T, 3));
    assert_eq!(
        s.get_reservation(T, &r.id)
            .await
            .expect("get")
            .and_then(|r| r.order),
        Some(o.id.clone())
    );
    assert_eq!(counts(s, T).await.numbers_held, 0);
    assert_eq!(counts(s, T).await.numbers_available, 3);
    // Used: not again.
    let mut twice = activation("b", 1);
    twice.number = NumberChoice::Reservation(r.id.clone());
    assert!(matches!(
        s.create_activation(twice).await.expect("create"),
        CreateOutcome::Rejected(Rejection::ReservationNotUsable)
    ));
    // Another tenant cannot name it.
    let mut theirs = activation("c", 10);
    theirs.tenant = OTHER.into();
    theirs.number = NumberChoice::Reservation(r.id.clone());
    assert!(matches!(
        s.create_activation(theirs).await.expect("create"),
        CreateOutcome::Rejected(Rejection::ReservationNotFound)
    ));
    // A lapsed hold is not usable, even before a sweep returned it.
    let lapsing = reserved(s, reservation("l", None)).await;
    let mut late = activation("d", 2);
    late.number = NumberChoice::Reservation(lapsing.id.clone());
    late.now_ms = lapsing.expires_at_ms;
    assert!(matches!(
        s.create_activation(late).await.expect("create"),
        CreateOutcome::Rejected(Rejection::ReservationNotUsable)
    ));
    // A used reservation is not swept back.
    assert_eq!(
        s.expire_due(NOW + TTL).await.expect("sweep"),
        Expired {
            reservations: 1,
            quarantine: 0
        }
    );
    assert_eq!(counts(s, T).await.numbers_available, 3);
}

pub async fn lapsed_holds_return_at_their_deadline(s: &dyn StoreAdmin) {
    seed(s, T, 0..0, 3).await;
    assert_eq!(s.next_pool_deadline().await.expect("deadline"), None);
    let a = reserved(s, reservation("a", None)).await;
    let mut later = reservation("b", None);
    later.now_ms = NOW + 5_000;
    let b = reserved(s, later).await;
    assert_eq!(
        s.next_pool_deadline().await.expect("deadline"),
        Some(a.expires_at_ms)
    );
    assert_eq!(
        s.expire_due(a.expires_at_ms - 1).await.expect("sweep"),
        Expired::default()
    );
    assert_eq!(counts(s, T).await.numbers_held, 2);
    // Due at or before `now_ms`.
    assert_eq!(
        s.expire_due(a.expires_at_ms).await.expect("sweep"),
        Expired {
            reservations: 1,
            quarantine: 0
        }
    );
    assert_eq!(
        s.next_pool_deadline().await.expect("deadline"),
        Some(b.expires_at_ms)
    );
    assert_eq!(counts(s, T).await.numbers_held, 1);
    assert_eq!(counts(s, T).await.numbers_available, 2);
    // The lapsed number can be held again; the record stays, readable.
    let again = reserved(s, reservation("c", Some(a.msisdn.clone()))).await;
    assert_eq!(again.msisdn, a.msisdn);
    assert_eq!(
        s.get_reservation(T, &a.id).await.expect("get"),
        Some(a.clone())
    );
    assert_eq!(
        s.expire_due(b.expires_at_ms + 1)
            .await
            .expect("sweep")
            .reservations,
        2
    );
    assert_eq!(
        s.expire_due(u64::MAX / 2).await.expect("sweep"),
        Expired::default()
    );
    assert_eq!(s.next_pool_deadline().await.expect("deadline"), None);
    assert_eq!(counts(s, T).await.numbers_available, 3);
}

pub async fn quarantine_ages_and_can_be_released_early(s: &dyn StoreAdmin) {
    seed(s, T, 0..3, 3).await;
    seed(s, OTHER, 10..11, 1).await;
    let a = active_line(s, "a", 0).await;
    let b = active_line(s, "b", 1).await;
    // Only an assigned number of the tenant enters quarantine.
    assert!(!s.quarantine_number(OTHER, &a.msisdn, NOW).await.expect("q"));
    assert!(!s.quarantine_number(T, &number(T, 2), NOW).await.expect("q"));
    assert!(
        !s.quarantine_number(T, &msisdn("8610000000000"), NOW)
            .await
            .expect("q")
    );
    assert!(
        s.quarantine_number(T, &b.msisdn, NOW + 10)
            .await
            .expect("q")
    );
    assert!(s.quarantine_number(T, &a.msisdn, NOW).await.expect("q"));
    assert!(
        !s.quarantine_number(T, &a.msisdn, NOW)
            .await
            .expect("already")
    );
    let until = |at: u64| at + u64::from(QUARANTINE_DAYS) * DAY_MS;
    assert_eq!(
        s.quarantined(T, 10).await.expect("list"),
        vec![
            (a.msisdn.clone(), until(NOW)),
            (b.msisdn.clone(), until(NOW + 10))
        ],
        "soonest first"
    );
    assert_eq!(s.quarantined(T, 1).await.expect("list").len(), 1);
    assert!(s.quarantined(OTHER, 10).await.expect("list").is_empty());
    assert_eq!(counts(s, T).await.numbers_quarantined, 2);
    assert_eq!(
        s.next_pool_deadline().await.expect("deadline"),
        Some(until(NOW))
    );
    // A quarantined number cannot be chosen.
    let mut want = activation("c", 2);
    want.number = NumberChoice::Choose(a.msisdn.clone());
    assert!(matches!(
        s.create_activation(want).await.expect("create"),
        CreateOutcome::Rejected(Rejection::NumberNotAvailable)
    ));
    // Ageing returns it at its deadline.
    assert_eq!(
        s.expire_due(until(NOW) - 1).await.expect("sweep"),
        Expired::default()
    );
    assert_eq!(
        s.expire_due(until(NOW)).await.expect("sweep"),
        Expired {
            reservations: 0,
            quarantine: 1
        }
    );
    assert_eq!(counts(s, T).await.numbers_available, 2);
    // An operator releases the other early; only a quarantined number of the tenant.
    assert!(
        !s.release_quarantine(OTHER, &b.msisdn)
            .await
            .expect("release")
    );
    assert!(!s.release_quarantine(T, &a.msisdn).await.expect("release"));
    assert!(s.release_quarantine(T, &b.msisdn).await.expect("release"));
    assert!(!s.release_quarantine(T, &b.msisdn).await.expect("again"));
    assert!(s.quarantined(T, 10).await.expect("list").is_empty());
    assert_eq!(s.next_pool_deadline().await.expect("deadline"), None);
    let c = counts(s, T).await;
    assert_eq!((c.numbers_available, c.numbers_quarantined), (3, 0));
}

pub async fn golden_numbers_only_when_chosen(s: &dyn StoreAdmin) {
    let mut t = tenant(T);
    t.golden_rules = vec![GoldenRule::Tail("7".into())];
    seed_with(s, t, 0..2, 0..0, 20).await;
    let golden: Vec<Msisdn> = vec![number(T, 7), number(T, 17)];
    let c = counts(s, T).await;
    assert_eq!((c.numbers_available, c.numbers_golden), (18, 2));
    let mut got = HashSet::new();
    for i in 0..18 {
        let r = reserved(s, reservation(&format!("k{i}"), None)).await;
        assert!(
            !golden.contains(&r.msisdn),
            "auto-assigned golden {}",
            r.msisdn
        );
        got.insert(r.msisdn);
    }
    assert_eq!(got.len(), 18);
    // Only golden numbers left: automatic assignment finds none.
    assert_eq!(
        refused(s, reservation("auto", None)).await,
        Rejection::NumberPoolExhausted
    );
    assert!(matches!(
        s.create_activation(activation("auto", 0))
            .await
            .expect("create"),
        CreateOutcome::Rejected(Rejection::NumberPoolExhausted)
    ));
    // Chosen, a golden number is given.
    let r = reserved(s, reservation("g", Some(golden[0].clone()))).await;
    assert_eq!(r.msisdn, golden[0]);
    let mut chosen = activation("g2", 1);
    chosen.number = NumberChoice::Choose(golden[1].clone());
    assert_eq!(created(s, chosen).await.msisdn, golden[1]);
    let c = counts(s, T).await;
    assert_eq!(
        (c.numbers_available, c.numbers_golden, c.numbers_held),
        (0, 0, 19)
    );
    // A golden number freed again is golden again.
    let o = s.get_order(T, "act_g2").await.expect("get").expect("order");
    let f = crate::fixture::advance(s, &o, OrderStatus::Compensating, Effect::None).await;
    crate::fixture::advance(s, &f, OrderStatus::Failed, Effect::Release).await;
    let c = counts(s, T).await;
    assert_eq!((c.numbers_available, c.numbers_golden), (0, 1));
}

pub async fn the_sequential_policy_takes_the_lowest_free_number(s: &dyn StoreAdmin) {
    seed(s, T, 0..0, 6).await;
    reserved(s, reservation("c", Some(number(T, 1)))).await;
    let picks: Vec<Msisdn> = {
        let mut v = Vec::new();
        for (i, random) in [u64::MAX, 0, 12_345].into_iter().enumerate() {
            let mut new = reservation(&format!("k{i}"), None);
            new.random = random;
            v.push(reserved(s, new).await.msisdn);
        }
        v
    };
    assert_eq!(picks, vec![number(T, 0), number(T, 2), number(T, 3)]);
    // A freed number is the lowest again.
    s.expire_due(NOW + TTL).await.expect("sweep");
    assert_eq!(
        reserved(s, reservation("z", None)).await.msisdn,
        number(T, 0)
    );
}

pub async fn the_random_policy_takes_free_ordinary_numbers(s: &dyn StoreAdmin) {
    let mut t = tenant(T);
    t.number_policy = NumberPolicy::Random;
    t.golden_rules = vec![GoldenRule::Tail("3".into())];
    seed_with(s, t, 0..0, 0..0, 30).await;
    apply(
        s,
        gateway::store::AdminChange::AddNumbers {
            tenant: T.into(),
            block: "n2".into(),
            first: number(T, 1_000),
            count: 10,
        },
    )
    .await;
    reserved(s, reservation("c", Some(number(T, 1_004)))).await;
    let pool: HashSet<Msisdn> = (0..30).chain(1_000..1_010).map(|i| number(T, i)).collect();
    let mut got = HashSet::new();
    for i in 0..35u64 {
        let mut new = reservation(&format!("k{i}"), None);
        new.random = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let m = reserved(s, new).await.msisdn;
        assert!(pool.contains(&m), "{m} is not in the pool");
        assert!(!m.as_str().ends_with('3'), "golden {m}");
        assert_ne!(m, number(T, 1_004), "held by another");
        assert!(got.insert(m.clone()), "{m} twice");
    }
    // 40 numbers, 4 golden, 1 held before: 35 drawn, none left.
    assert_eq!(
        refused(s, reservation("x", None)).await,
        Rejection::NumberPoolExhausted
    );
}

/// A store clerk's number page: free numbers in order, golden ones marked, paged; a hold
/// taken and released before its time returns its number at once, once.
pub async fn a_clerk_pages_free_numbers_and_releases_a_hold(s: &dyn StoreAdmin) {
    use gateway::store::NumberClass::{Golden, Normal};
    let mut t = tenant(T);
    t.golden_rules = vec![GoldenRule::Tail("7".into())];
    seed_with(s, t, 0..1, 0..0, 12).await;
    seed(s, OTHER, 0..0, 3).await;
    let page = s.free_numbers(T, None, 8).await.expect("page");
    let want: Vec<(Msisdn, gateway::store::NumberClass)> = (0..8)
        .map(|i| (number(T, i), if i == 7 { Golden } else { Normal }))
        .collect();
    assert_eq!(page, want);
    let next = s
        .free_numbers(T, Some(number(T, 7).as_str()), 8)
        .await
        .expect("page");
    assert_eq!(
        next.iter().map(|(m, _)| m.clone()).collect::<Vec<_>>(),
        (8..12).map(|i| number(T, i)).collect::<Vec<_>>()
    );
    // A held number leaves the page, and comes back when the hold is released.
    let r = reserved(s, reservation("h", Some(number(T, 7)))).await;
    let page = s.free_numbers(T, None, 100).await.expect("page");
    assert!(!page.iter().any(|(m, _)| *m == number(T, 7)));
    assert_eq!(page.len(), 11);
    assert!(
        !s.release_reservation(OTHER, &r.id, NOW + 1)
            .await
            .expect("release")
    );
    assert!(
        s.release_reservation(T, &r.id, NOW + 1)
            .await
            .expect("release")
    );
    assert!(
        !s.release_reservation(T, &r.id, NOW + 2)
            .await
            .expect("again")
    );
    let page = s.free_numbers(T, None, 100).await.expect("page");
    assert!(page.contains(&(number(T, 7), Golden)));
    let lapsed = s
        .get_reservation(T, &r.id)
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(lapsed.expires_at_ms, NOW + 1);
    // The sweep finds nothing more to return.
    assert_eq!(
        s.expire_due(NOW + TTL).await.expect("sweep"),
        Expired::default()
    );
    let c = counts(s, T).await;
    assert_eq!(
        (c.numbers_available, c.numbers_golden, c.numbers_held),
        (11, 1, 0)
    );
    // A used hold is not released.
    let r = reserved(s, reservation("u", Some(number(T, 3)))).await;
    let mut a = activation("u", 0);
    a.number = NumberChoice::Reservation(r.id.clone());
    created(s, a).await;
    assert!(
        !s.release_reservation(T, &r.id, NOW + 3)
            .await
            .expect("used")
    );
}

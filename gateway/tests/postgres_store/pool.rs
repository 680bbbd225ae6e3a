//! Number pools: checkout reservations (idempotent, refused when the number is not
//! free), using a reservation for an order, quarantine and the expiry sweep.

use super::*;
use gateway::store::postgres::{numbers, pool};
use gateway::store::{
    NewReservation, NumberChoice, NumberState, Rejection, Reservation, ReservationOutcome,
};
use sim_profiles::Msisdn;

const DAY: u64 = 86_400_000;

fn new_res(key: &str, hash: &str, id: &str, msisdn: Option<&str>) -> NewReservation {
    NewReservation {
        tenant: "acme".into(),
        idempotency_key: key.into(),
        body_hash: hash.into(),
        id: id.into(),
        msisdn: msisdn.map(|m| m.parse().expect("msisdn")),
        ttl_ms: 1_000,
        now_ms: 10_000,
        random: 3,
    }
}

async fn seeded(pg: &PgServer, db: &str) -> PgStore {
    let s = store(pg, db).await;
    admin(&s, AdminChange::PutTenant(tenant("acme"))).await;
    admin(
        &s,
        AdminChange::AddNumbers {
            tenant: "acme".into(),
            block: "p".into(),
            first: "4670000000".parse().expect("m"),
            count: 10,
        },
    )
    .await;
    s
}

fn created(o: ReservationOutcome) -> Reservation {
    match o {
        ReservationOutcome::Created(r) => r,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn reservations_hold_a_number_replay_and_refuse_what_is_not_free() {
    let pg = server();
    let s = seeded(&pg, "reservations").await;
    let r = created(
        s.create_reservation(new_res("k1", "h1", "nres_1", None))
            .await
            .expect("reserve"),
    );
    assert_eq!(r.expires_at_ms, 11_000);
    let c = s.inventory_counts("acme").await.expect("c");
    assert_eq!((c.numbers_available, c.numbers_held), (9, 1));
    match s
        .create_reservation(new_res("k1", "h1", "nres_2", None))
        .await
        .expect("replay")
    {
        ReservationOutcome::Replayed(again) => assert_eq!(again, r),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        s.create_reservation(new_res("k1", "h2", "nres_3", None))
            .await
            .expect("reuse"),
        ReservationOutcome::KeyReused
    ));
    let held = r.msisdn.to_string();
    for (m, why) in [
        (held.as_str(), Rejection::NumberNotAvailable),
        ("4679999999", Rejection::NumberNotInPool),
    ] {
        match s
            .create_reservation(new_res(&format!("k-{m}"), "h", "nres_x", Some(m)))
            .await
            .expect("refused")
        {
            ReservationOutcome::Rejected(r) => assert_eq!(r, why),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        s.get_reservation("acme", "nres_1").await.expect("r"),
        Some(r)
    );
    assert_eq!(
        s.get_reservation("globex", "nres_1").await.expect("r"),
        None
    );
    assert_eq!(s.next_pool_deadline().await.expect("d"), Some(11_000));
    // Lapsed: the sweep gives the number back, once.
    let e = s.expire_due(11_000).await.expect("sweep");
    assert_eq!(e.reservations, 1);
    assert_eq!(s.expire_due(11_000).await.expect("again").reservations, 0);
    assert_eq!(
        s.inventory_counts("acme")
            .await
            .expect("c")
            .numbers_available,
        10
    );
    assert_eq!(s.next_pool_deadline().await.expect("d"), None);
}

#[tokio::test]
async fn an_order_takes_its_reservations_number_and_the_hold_no_longer_expires() {
    let pg = server();
    let s = seeded(&pg, "use").await;
    let r = created(
        s.create_reservation(new_res("k1", "h1", "nres_1", Some("4670000004")))
            .await
            .expect("reserve"),
    );
    let choice = NumberChoice::Reservation(r.id.clone());
    let taken = s
        .transaction(&choice, |tx, choice| {
            Box::pin(async move {
                let t = pool::tenant_in(tx, "acme").await?.expect("tenant");
                let selected = match pool::select_number(tx, &t, choice, (0, None), 10_500).await? {
                    Ok(s) => s,
                    Err(r) => panic!("{r:?}"),
                };
                let m = selected.msisdn().clone();
                pool::take_number(tx, choice, selected, "act_1").await?;
                // A second use of the same reservation is refused.
                let again = pool::select_number(tx, &t, choice, (0, None), 10_500).await?;
                assert!(matches!(again, Err(Rejection::ReservationNotUsable)));
                Ok(m)
            })
        })
        .await
        .expect("take");
    assert_eq!(taken.to_string(), "4670000004");
    let used = s.get_reservation("acme", "nres_1").await.expect("r");
    assert_eq!(used.and_then(|r| r.order), Some("act_1".into()));
    assert_eq!(s.next_pool_deadline().await.expect("d"), None);
    assert_eq!(s.expire_due(20_000).await.expect("sweep").reservations, 0);
    let c = s.inventory_counts("acme").await.expect("c");
    assert_eq!((c.numbers_available, c.numbers_held), (9, 0));
}

#[tokio::test]
async fn an_assigned_number_ages_in_quarantine_and_returns() {
    let pg = server();
    let s = seeded(&pg, "quarantine").await;
    let m: Msisdn = "4670000002".parse().expect("m");
    s.transaction(&m, |tx, m| {
        Box::pin(async move {
            let state = NumberState::Assigned {
                order: "act_1".into(),
            };
            numbers::set_number(tx, m, state).await?;
            Ok(())
        })
    })
    .await
    .expect("assign");
    assert!(
        !s.release_quarantine("acme", &m)
            .await
            .expect("not quarantined")
    );
    assert!(
        !s.quarantine_number("globex", &m, 0)
            .await
            .expect("other tenant")
    );
    assert!(
        s.quarantine_number("acme", &m, 1_000)
            .await
            .expect("quarantine")
    );
    let until = 1_000 + 90 * DAY;
    assert_eq!(
        s.quarantined("acme", 10).await.expect("q"),
        vec![(m.clone(), until)]
    );
    assert_eq!(s.next_pool_deadline().await.expect("d"), Some(until));
    assert_eq!(
        s.inventory_counts("acme")
            .await
            .expect("c")
            .numbers_quarantined,
        1
    );
    assert_eq!(s.expire_due(until - 1).await.expect("early").quarantine, 0);
    assert_eq!(s.expire_due(until).await.expect("due").quarantine, 1);
    let c = s.inventory_counts("acme").await.expect("c");
    assert_eq!((c.numbers_available, c.numbers_quarantined), (10, 0));
    // An operator may end a quarantine early.
    s.transaction(&m, |tx, m| {
        Box::pin(async move {
            let state = NumberState::Assigned {
                order: "act_2".into(),
            };
            numbers::set_number(tx, m, state).await?;
            Ok(())
        })
    })
    .await
    .expect("assign");
    assert!(
        s.quarantine_number("acme", &m, 1_000)
            .await
            .expect("quarantine")
    );
    assert!(s.release_quarantine("acme", &m).await.expect("release"));
    assert!(s.quarantined("acme", 10).await.expect("q").is_empty());
}

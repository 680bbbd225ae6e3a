//! Number pools: golden numbers are never auto-assigned, allocation policies, reservations
//! (concurrency, use, expiry) and quarantine ageing under tokio's paused clock.

mod common;

use common::*;
use gateway::clock::Clock;
use gateway::crypto::Keyring;
use gateway::engine::machine::RetryPolicy;
use gateway::engine::{Engine, EngineSettings};
use gateway::metrics::Metrics;
use gateway::numbers::{NumberPolicy, is_golden};
use gateway::store::embedded::RedbStore;
use gateway::store::{
    AdminChange, NewReservation, Product, Rejection, ReservationOutcome, Store, Tenant,
};
use gateway::store::{InventoryCounts, StoreAdmin};
use serde_json::json;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

async fn pool(dir: &std::path::Path, policy: NumberPolicy, count: u64) -> RedbStore {
    let store = RedbStore::open(dir, 16, 64, Arc::new(Metrics::default())).expect("store");
    let mut t = Tenant::new(
        "t",
        "t",
        "00101".parse().expect("plmn"),
        BTreeMap::from([("p".to_owned(), Product::new(1))]),
    );
    t.number_policy = policy;
    gateway::admin::apply(
        &store,
        AdminChange::Batch(vec![
            AdminChange::PutTenant(t),
            AdminChange::AddNumbers {
                tenant: "t".into(),
                block: "b".into(),
                first: "8617000000000".parse().expect("m"),
                count,
            },
        ]),
    )
    .await
    .expect("seed");
    store
}

/// Waits for the pool timer's sweep to commit, then checks `done`; panics if it never does.
///
/// The store has one writer that commits in the order commands arrive, so a write sent
/// now (pruning nothing) is answered only after every sweep the timer sent before it. The
/// timer may still be finishing an earlier sweep when the clock reaches the deadline under
/// test; once that one is answered, yielding lets the timer see the new deadline due and
/// send its next sweep, which the next barrier then waits for. Each round is a step of
/// the timer's loop, not a slice of real time, so the bound counts steps.
async fn settle(what: &str, store: &RedbStore, done: impl Fn(&InventoryCounts) -> bool) {
    for _ in 0..8 {
        store.prune_idempotency(0).await.expect("writer barrier");
        if done(&store.inventory_counts("t").await.expect("counts")) {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("{what}: the pool timer did not return it within 8 of its steps");
}

fn reserve(
    n: usize,
    msisdn: Option<&str>,
    random: u64,
    now_ms: u64,
    ttl_ms: u64,
) -> NewReservation {
    NewReservation {
        tenant: "t".into(),
        idempotency_key: format!("k{n}"),
        body_hash: format!("h{n}"),
        id: format!("nres_{n}"),
        msisdn: msisdn.map(|m| m.parse().expect("msisdn")),
        ttl_ms,
        now_ms,
        random,
    }
}

#[tokio::test]
async fn golden_numbers_are_never_auto_assigned_but_can_be_chosen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = pool(dir.path(), NumberPolicy::Random, 2_000).await;
    let rules = gateway::numbers::default_golden_rules();
    let golden: Vec<String> = (0..2_000u64)
        .map(|i| format!("{}", 8_617_000_000_000u64 + i))
        .filter(|m| is_golden(&rules, m))
        .collect();
    assert!(!golden.is_empty());
    let counts = store.inventory_counts("t").await.expect("counts");
    assert_eq!(
        (counts.numbers_available, counts.numbers_golden),
        (2_000 - golden.len() as u64, golden.len() as u64)
    );
    let mut got = HashSet::new();
    for n in 0.. {
        match store
            .create_reservation(reserve(
                n,
                None,
                (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                0,
                60_000,
            ))
            .await
            .expect("reserve")
        {
            ReservationOutcome::Created(r) => {
                assert!(
                    !is_golden(&rules, r.msisdn.as_str()),
                    "auto-assigned golden {}",
                    r.msisdn
                );
                assert!(
                    got.insert(r.msisdn.to_string()),
                    "assigned twice: {}",
                    r.msisdn
                );
            }
            ReservationOutcome::Rejected(Rejection::NumberPoolExhausted) => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        got.len(),
        2_000 - golden.len(),
        "every ordinary number, and only those"
    );
    let chosen = store
        .create_reservation(reserve(99_999, Some(&golden[0]), 0, 0, 60_000))
        .await
        .expect("reserve");
    assert!(matches!(chosen, ReservationOutcome::Created(r) if r.msisdn.as_str() == golden[0]));
}

#[tokio::test]
async fn sequential_policy_is_ascending_and_random_policy_is_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    let seq = pool(dir.path(), NumberPolicy::Sequential, 100).await;
    let mut picked = Vec::new();
    for n in 0..10 {
        if let ReservationOutcome::Created(r) = seq
            .create_reservation(reserve(n, None, 12345, 0, 60_000))
            .await
            .expect("reserve")
        {
            picked.push(r.msisdn.to_string());
        }
    }
    let mut sorted = picked.clone();
    sorted.sort();
    assert_eq!(picked, sorted);
    assert_eq!(
        picked[0], "8617000000001",
        "0000 is golden; the lowest ordinary number comes first"
    );
    seq.close().await;

    let dir = tempfile::tempdir().expect("tempdir");
    let rnd = pool(dir.path(), NumberPolicy::Random, 10_000).await;
    let mut picked = Vec::new();
    for (n, random) in [
        17u64,
        9_000_000_000_000_000,
        123_456_789_012,
        5,
        3_141_592_653_589,
    ]
    .into_iter()
    .enumerate()
    {
        if let ReservationOutcome::Created(r) = rnd
            .create_reservation(reserve(n, None, random, 0, 60_000))
            .await
            .expect("reserve")
        {
            picked.push(r.msisdn.as_str().parse::<u64>().expect("digits"));
        }
    }
    assert_eq!(picked.len(), 5);
    let spread = picked.iter().max().expect("max") - picked.iter().min().expect("min");
    assert!(
        spread > 1_000,
        "random picks should spread over the block: {picked:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn lapsed_reservations_and_aged_quarantine_return_under_the_paused_clock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(pool(dir.path(), NumberPolicy::Sequential, 10).await);
    let clock = Clock::new();
    let settings = EngineSettings {
        policy: RetryPolicy {
            max_attempts: 1,
            base_ms: 1,
            max_ms: 1,
        },
        hlr_concurrency: 1,
        fsetind: 0,
        ki_wrap: None,
        esim: None,
        identity: None,
        porting: None,
    };
    let hlr = gateway::southbound::cai3g(
        "http://127.0.0.1:9/none",
        "u",
        "p",
        None,
        &Default::default(),
        1,
    )
    .expect("adapter");
    let engine = Engine::new(
        store.clone(),
        hlr,
        Arc::new(Keyring::ephemeral().expect("keys")),
        settings,
        clock,
        Arc::new(Metrics::default()),
    );

    let now = clock.now_ms();
    let ReservationOutcome::Created(r) = store
        .create_reservation(reserve(1, None, 0, now, 60_000))
        .await
        .expect("reserve")
    else {
        panic!()
    };
    // Timers start only now: the paused clock auto-advances to the next timer whenever the
    // test awaits the store's writer thread, so none may be pending during set-up.
    engine.spawn_pool_timer(Duration::from_secs(3600));
    assert_eq!(
        store
            .inventory_counts("t")
            .await
            .expect("counts")
            .numbers_held,
        1
    );
    tokio::time::sleep(Duration::from_secs(59)).await;
    assert_eq!(
        store
            .inventory_counts("t")
            .await
            .expect("counts")
            .numbers_held,
        1,
        "still held before the TTL"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    settle("lapsed hold", &store, |c| c.numbers_held == 0).await;
    let counts = store.inventory_counts("t").await.expect("counts");
    assert_eq!(
        (counts.numbers_held, counts.numbers_available),
        (0, 9),
        "the lapsed hold is back in the pool"
    );
    let again = store
        .create_reservation(reserve(
            2,
            Some(r.msisdn.as_str()),
            0,
            clock.now_ms(),
            60_000,
        ))
        .await
        .expect("reserve");
    assert!(matches!(again, ReservationOutcome::Created(_)), "{again:?}");

    // Quarantine: an assigned number ages 90 days (the tenant default).
    let m: sim_profiles::Msisdn = "8617000000005".parse().expect("msisdn");
    assert!(
        !store
            .quarantine_number("t", &m, clock.now_ms())
            .await
            .expect("q"),
        "only assigned numbers can be quarantined"
    );
    store.admin_set_assigned_for_test(&m).expect("assign");
    let quarantined_at = clock.now_ms();
    assert!(
        store
            .quarantine_number("t", &m, quarantined_at)
            .await
            .expect("q")
    );
    engine.pool_deadline_added();
    assert_eq!(
        store
            .inventory_counts("t")
            .await
            .expect("counts")
            .numbers_quarantined,
        1
    );
    // Ageing is measured from the recorded deadline: awaiting the writer thread above may
    // have let the paused clock run on (the pool timer is pending), so "day 89" is one day
    // before the deadline, not 89 days after this line.
    let release_at = store.quarantined("t", 10).await.expect("list")[0].1;
    assert_eq!(release_at, quarantined_at + 90 * 86_400_000, "90 days");
    tokio::time::sleep_until(clock.instant_at(release_at - 86_400_000)).await;
    assert_eq!(
        store
            .inventory_counts("t")
            .await
            .expect("counts")
            .numbers_quarantined,
        1,
        "still ageing at day 89"
    );
    tokio::time::sleep_until(clock.instant_at(release_at + 5_000)).await;
    settle("aged quarantine", &store, |c| c.numbers_quarantined == 0).await;
    assert_eq!(
        store
            .inventory_counts("t")
            .await
            .expect("counts")
            .numbers_quarantined,
        0,
        "back after 90 days"
    );
    engine.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reservations_over_the_api_hold_numbers_for_checkout() {
    let h = Harness::start(3).await;
    let post = |key: &str, body: serde_json::Value| {
        let (client, base, api) = (h.client.clone(), h.base.clone(), h.api_key.clone());
        let key = key.to_owned();
        async move {
            let r = client
                .post(
                    &format!("{base}/v1/numbers/reservations"),
                    &[
                        ("authorization", format!("Bearer {api}")),
                        ("idempotency-key", key),
                        ("content-type", "application/json".into()),
                    ],
                    bytes::Bytes::from(body.to_string()),
                )
                .await
                .expect("POST");
            (
                r.status,
                serde_json::from_slice::<serde_json::Value>(&r.body).expect("json"),
            )
        }
    };
    let (s, res) = post(
        "r1",
        json!({"msisdn": "+8613800000042", "ttl_seconds": 600}),
    )
    .await;
    assert_eq!(s, 201, "{res}");
    assert_eq!(
        (res["status"].as_str(), res["msisdn"].as_str()),
        (Some("held"), Some("8613800000042"))
    );
    let (s, replay) = post(
        "r1",
        json!({"ttl_seconds": 600, "msisdn": "+8613800000042"}),
    )
    .await;
    assert_eq!((s, &replay["id"]), (201, &res["id"]), "idempotent replay");
    let (s, b) = post("r2", json!({"msisdn": "8613800000042"})).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (409, Some("msisdn_not_available")),
        "held numbers are not given twice"
    );
    let (s, b) = post("r3", json!({"ttl_seconds": 5})).await;
    assert_eq!((s, b["code"].as_str()), (400, Some("invalid_value")));

    let id = res["id"].as_str().expect("id");
    let body = json!({"sim": {"type": "physical", "iccid": h.cards[0].iccid.to_string()}, "product": PRODUCT, "msisdn": {"mode": "reservation", "reservation_id": id}});
    let (s, order) = h.post("a1", &body).await;
    assert_eq!(s, 202, "{order}");
    assert_eq!(order["msisdn"], "8613800000042");
    assert_eq!(order["msisdn_mode"], "reservation");
    let (_, now) = h
        .get_as(&h.api_key, &format!("/v1/numbers/reservations/{id}"))
        .await;
    assert_eq!(
        (now["status"].as_str(), now["activation_id"].as_str()),
        (Some("used"), order["id"].as_str())
    );
    let body2 = json!({"sim": {"type": "physical", "iccid": h.cards[1].iccid.to_string()}, "product": PRODUCT, "msisdn": {"mode": "reservation", "reservation_id": id}});
    let (s, b) = h.post("a2", &body2).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (409, Some("reservation_not_usable")),
        "{b}"
    );
    let (s, b) = h
        .get_as(&h.other_key, &format!("/v1/numbers/reservations/{id}"))
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (404, Some("reservation_not_found")),
        "other tenants cannot see it"
    );
    assert_eq!(
        h.wait_terminal(order["id"].as_str().expect("id")).await["status"],
        "active"
    );
    let (s, inv) = h.get_as(&h.api_key, "/v1/inventory").await;
    assert_eq!(s, 200);
    assert_eq!(inv["counts"]["sims_active"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_reservations_never_hold_a_number_twice() {
    let h = Harness::start(1).await;
    let mut tasks = Vec::new();
    for i in 0..300 {
        let (client, base, api) = (h.client.clone(), h.base.clone(), h.api_key.clone());
        tasks.push(tokio::spawn(async move {
            let r = client
                .post(
                    &format!("{base}/v1/numbers/reservations"),
                    &[
                        ("authorization", format!("Bearer {api}")),
                        ("idempotency-key", format!("c{i}")),
                        ("content-type", "application/json".into()),
                    ],
                    bytes::Bytes::from("{}"),
                )
                .await
                .expect("POST");
            (
                r.status,
                serde_json::from_slice::<serde_json::Value>(&r.body).expect("json"),
            )
        }));
    }
    let mut held = HashSet::new();
    for t in tasks {
        let (s, b) = t.await.expect("task");
        assert_eq!(s, 201, "{b}");
        assert!(
            held.insert(b["msisdn"].to_string()),
            "number held twice: {b}"
        );
    }
    assert_eq!(held.len(), 300);
}

//! The primitives the methods share: number allocation and state changes (counters in
//! step, `SKIP LOCKED`, wrap-around), SIM state changes, idempotency records, and the
//! constraints through which the database itself refuses what must never happen twice.

use super::*;
use gateway::numbers::NumberPolicy;
use gateway::order::{MsisdnMode, Order, OrderKind, OrderStatus, Step};
use gateway::store::postgres::{idempotency, numbers, sims};
use gateway::store::{CreateOutcome, IdempotencyRecord, NumberState};
use sim_profiles::Msisdn;

async fn with_pool(s: &PgStore, first: &str, count: u64) {
    admin(s, AdminChange::PutTenant(tenant("acme"))).await;
    let out = admin(
        s,
        AdminChange::AddNumbers {
            tenant: "acme".into(),
            block: "p".into(),
            first: first.parse().expect("msisdn"),
            count,
        },
    )
    .await;
    assert_eq!(out, AdminOutcome::Applied);
}

/// Picks a free number and reserves it for `order`, in one transaction.
async fn take(s: &PgStore, policy: NumberPolicy, random: u64, order: &str) -> Option<Msisdn> {
    s.transaction(&(policy, random, order), |tx, (policy, random, order)| {
        Box::pin(async move {
            let Some(read) = numbers::pick_free(tx, "acme", (*policy, *random), None).await? else {
                return Ok(None);
            };
            let m = read.msisdn.clone();
            let state = NumberState::Reserved {
                order: (*order).to_owned(),
            };
            numbers::write_number(tx, read, state).await?;
            Ok(Some(m))
        })
    })
    .await
    .expect("take")
}

#[tokio::test]
async fn numbers_are_taken_lowest_first_or_from_a_random_start_and_counted() {
    let pg = server();
    let s = store(&pg, "numbers").await;
    with_pool(&s, "4670000000", 50).await;
    let lowest = take(&s, NumberPolicy::Sequential, 0, "o1").await;
    assert_eq!(lowest.map(|m| m.to_string()), Some("4670000000".into()));
    let next = take(&s, NumberPolicy::Sequential, 0, "o2").await;
    assert_eq!(next.map(|m| m.to_string()), Some("4670000001".into()));
    // A random start between the lowest and highest free number, then the next free one.
    let r = (0..u64::MAX)
        .find(|r| numbers::start_between("4670000002", "4670000049", *r) == "4670000030")
        .expect("a draw that starts at 30");
    let drawn = take(&s, NumberPolicy::Random, r, "o3").await;
    assert_eq!(drawn.map(|m| m.to_string()), Some("4670000030".into()));
    let counts = s.inventory_counts("acme").await.expect("counts");
    assert_eq!(counts.numbers_available, 47);
    // Back to the pool: counted again, and the lowest again.
    s.transaction(&(), |tx, _| {
        Box::pin(async move {
            let m: Msisdn = "4670000000".parse().expect("m");
            let before = numbers::set_number(tx, &m, NumberState::Available).await?;
            assert!(matches!(before.state, NumberState::Reserved { .. }));
            Ok(())
        })
    })
    .await
    .expect("release");
    assert_eq!(
        s.inventory_counts("acme")
            .await
            .expect("c")
            .numbers_available,
        48
    );
    let again = take(&s, NumberPolicy::Sequential, 0, "o4").await;
    assert_eq!(again.map(|m| m.to_string()), Some("4670000000".into()));
}

/// What two concurrent allocations share.
struct Pick {
    first_locked: Notify,
    second_done: Notify,
    attempts: AtomicU32,
}

#[tokio::test]
async fn an_allocation_skips_a_number_another_transaction_is_taking_and_wraps_around() {
    let pg = server();
    let s = store(&pg, "skip").await;
    with_pool(&s, "4670000000", 2).await;
    let high = (0..u64::MAX)
        .find(|r| numbers::start_between("4670000000", "4670000001", *r) == "4670000001")
        .expect("a draw that starts at the highest");
    let pick = Pick {
        first_locked: Notify::new(),
        second_done: Notify::new(),
        attempts: AtomicU32::new(0),
    };
    // The first transaction takes (and row-locks) the highest number and waits; the second,
    // starting at the same number, skips it and wraps around to the lowest.
    let args = (&pick, high);
    let first = s.transaction(&args, |tx, (pick, high)| {
        Box::pin(async move {
            let read = numbers::pick_free(tx, "acme", (NumberPolicy::Random, *high), None)
                .await?
                .expect("free");
            if pick.attempts.fetch_add(1, Ordering::SeqCst) == 0 {
                pick.first_locked.notify_one();
                pick.second_done.notified().await;
            }
            let m = read.msisdn.clone();
            let state = NumberState::Reserved { order: "a".into() };
            numbers::write_number(tx, read, state).await?;
            Ok(m)
        })
    });
    let second = async {
        pick.first_locked.notified().await;
        let m = take(&s, NumberPolicy::Random, high, "b").await;
        pick.second_done.notify_one();
        m
    };
    let (first, second) = tokio::join!(first, second);
    assert_eq!(first.expect("first").to_string(), "4670000001");
    assert_eq!(second.map(|m| m.to_string()), Some("4670000000".into()));
    assert_eq!(
        s.inventory_counts("acme")
            .await
            .expect("c")
            .numbers_available,
        0
    );
    assert_eq!(
        take(&s, NumberPolicy::Random, 7, "c").await,
        None,
        "exhausted"
    );
}

#[tokio::test]
async fn a_sim_state_change_moves_it_between_its_batch_counters() {
    let pg = server();
    let s = store(&pg, "sims").await;
    admin(&s, AdminChange::PutTenant(tenant("acme"))).await;
    let cards = vec![sim(1, "acme", "b1"), sim(2, "acme", "b1")];
    admin(&s, AdminChange::AddSims(cards.clone())).await;
    let set = |state: SimState| {
        let s = &s;
        let iccid = cards[0].iccid.clone();
        async move {
            s.transaction(&(iccid, state), |tx, (iccid, state)| {
                Box::pin(sims::set_sim_state(tx, iccid, state.clone()))
            })
            .await
            .expect("set")
        }
    };
    let after = set(SimState::Reserved { order: "o".into() }).await;
    assert_eq!(after.state, SimState::Reserved { order: "o".into() });
    let c = s.inventory_counts("acme").await.expect("c");
    assert_eq!((c.sims_available, c.sims_reserved), (1, 1));
    set(SimState::Active { order: "o".into() }).await;
    let c = s.inventory_counts("acme").await.expect("c");
    assert_eq!(
        (c.sims_available, c.sims_reserved, c.sims_active),
        (1, 0, 1)
    );
    assert_eq!(
        s.get_sim(&cards[0].iccid)
            .await
            .expect("r")
            .map(|s| s.state),
        Some(SimState::Active { order: "o".into() })
    );
    let b = s.inventory_breakdown("acme").await.expect("b");
    assert_eq!(b.batches["b1"]["sims_active"], 1);
    assert_eq!(b.batches["b1"]["sims_available"], 1);
}

fn order(id: &str) -> Order {
    Order {
        id: id.into(),
        kind: OrderKind::Activation,
        lifecycle: None,
        port: None,
        tenant: "acme".into(),
        status: OrderStatus::Reserved,
        iccid: sim(1, "acme", "b").iccid,
        imsi: sim(1, "acme", "b").imsi,
        msisdn: "4670000000".parse().expect("m"),
        msisdn_mode: MsisdnMode::Auto,
        product: "p".into(),
        hlr_profile_id: 1,
        channel: Some(json!({"store": "x", "n": 1})),
        subscriber: None,
        compliance: None,
        hlr: Step::Pending,
        undo: None,
        error: None,
        needs_attention: false,
        attention: vec![],
        esim: None,
        created_at_ms: 1_000,
        updated_at_ms: 1_000,
        version: 1,
        identity: None,
    }
}

#[tokio::test]
async fn idempotency_records_replay_refuse_another_body_expire_and_prune() {
    let pg = server();
    let s = store(&pg, "idem").await;
    let rec = IdempotencyRecord {
        body_hash: "h1".into(),
        order_id: "act_1".into(),
        response: order("act_1"),
        created_at_ms: 1_000,
    };
    s.transaction(&rec, |tx, rec| {
        Box::pin(async move {
            let doc = serde_json::to_value(rec).expect("doc");
            tx.exec(
                "INSERT INTO idempotency (tenant, idem_key, order_id, body_hash, created_at_ms,
                                          doc)
                 VALUES ('acme', 'k1', $1, $2, $3, $4)",
                &[&rec.order_id, &rec.body_hash, &1_000i64, &doc],
            )
            .await?;
            Ok(())
        })
    })
    .await
    .expect("insert");
    // A claim, rolled back as a refused order's transaction is: it answers and leaves
    // nothing behind.
    let replay = |hash: &'static str, cutoff: u64| {
        let s = &s;
        async move {
            s.transaction(&(hash, cutoff), |tx, (hash, cutoff)| {
                Box::pin(async move {
                    let key = idempotency::Key {
                        tenant: "acme",
                        key: "k1",
                        body_hash: hash,
                        order_id: "act_2",
                        now_ms: 2_000,
                    };
                    let out = idempotency::claim(tx, key, *cutoff, Default::default()).await;
                    tx.rollback_only();
                    out.map(|c| match c {
                        idempotency::Claim::Answer(a) => Some(*a),
                        idempotency::Claim::New(_) => None,
                    })
                })
            })
            .await
            .expect("replay")
        }
    };
    match replay("h1", 0).await {
        Some(CreateOutcome::Replayed(o)) => assert_eq!(o, order("act_1"), "as stored"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        replay("h2", 0).await,
        Some(CreateOutcome::KeyReused)
    ));
    assert!(replay("h1", 1_001).await.is_none(), "expired");
    assert_eq!(
        s.activation_idempotency("acme", "k1").await.expect("read"),
        Some(rec)
    );
    assert_eq!(s.prune_idempotency(1_000).await.expect("prune"), 0);
    assert_eq!(s.prune_idempotency(1_001).await.expect("prune"), 1);
    assert_eq!(
        s.activation_idempotency("acme", "k1").await.expect("read"),
        None
    );
    assert!(replay("h1", 0).await.is_none());
    assert_eq!(
        s.activation_idempotency("acme", "k1").await.expect("read"),
        None,
        "the claim was rolled back"
    );
}

/// Inserts a bare order row (the columns the constraints are on).
async fn insert_order(
    s: &PgStore,
    id: &str,
    line: &str,
    iccid: &str,
    kind: &str,
) -> Result<(), StoreError> {
    let args = (
        id.to_owned(),
        line.to_owned(),
        iccid.to_owned(),
        kind.to_owned(),
    );
    s.transaction(&args, |tx, (id, line, iccid, kind)| {
        Box::pin(async move {
            tx.exec(
                "INSERT INTO orders (id, tenant, kind, status, line, iccid, msisdn, inflight,
                                     version, created_at_ms, updated_at_ms, doc)
                 VALUES ($1, 'acme', $2, 'reserved', $3, $4, $1, TRUE, 1, 0, 0, '{}')",
                &[id, kind, line, iccid],
            )
            .await?;
            tx.exec(
                "INSERT INTO orders_inflight (id, line, kind, iccid, msisdn)
                 VALUES ($1, $3, $2, $4, $1)",
                &[id, kind, line, iccid],
            )
            .await?;
            Ok(())
        })
    })
    .await
}

#[tokio::test]
async fn the_database_refuses_two_orders_in_flight_on_a_line_or_a_sim() {
    let pg = server();
    let s = store(&pg, "constraints").await;
    insert_order(&s, "act_1", "sub_1", "8901", "activation")
        .await
        .expect("first");
    let e = insert_order(&s, "ord_2", "sub_1", "8902", "suspend")
        .await
        .expect_err("a second order on the line");
    assert!(e.to_string().contains("23505"), "{e}");
    let e = insert_order(&s, "act_3", "sub_3", "8901", "activation")
        .await
        .expect_err("a second activation of the SIM");
    assert!(e.to_string().contains("23505"), "{e}");
    // Once the first is no longer in flight, the line takes another order.
    s.client()
        .await
        .expect("c")
        .execute("DELETE FROM orders_inflight WHERE id = 'act_1'", &[])
        .await
        .expect("finish");
    insert_order(&s, "ord_2", "sub_1", "8901", "suspend")
        .await
        .expect("now allowed");
}

#[tokio::test]
async fn many_concurrent_allocations_each_get_a_different_number() {
    let pg = server();
    let s = store(&pg, "contention").await;
    with_pool(&s, "4670000000", 2_000).await;
    let takes = (0..60u64).map(|i| {
        let s = &s;
        async move {
            let policy = if i % 3 == 0 {
                NumberPolicy::Sequential
            } else {
                NumberPolicy::Random
            };
            // Distinct random draws, spread over the pool.
            take(
                s,
                policy,
                i.wrapping_mul(0x9E37_79B9_7F4A_7C15),
                &format!("o{i}"),
            )
            .await
        }
    });
    let got: Vec<Msisdn> = futures_join_all(takes)
        .await
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(got.len(), 60, "every allocation got a number");
    let distinct: std::collections::BTreeSet<_> = got.iter().collect();
    assert_eq!(distinct.len(), 60, "no number twice");
    let c = s.inventory_counts("acme").await.expect("c");
    assert_eq!(c.numbers_available, 1_940);
    assert_eq!(s.retry_stats().gave_up.load(Ordering::SeqCst), 0);
    eprintln!(
        "60 allocations, {} retried attempts",
        s.retry_stats().retried.load(Ordering::SeqCst)
    );
}

/// Runs the futures concurrently on this task (no extra crate).
async fn futures_join_all<F: std::future::Future>(
    futs: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futs {
        set.push(Box::pin(f));
    }
    let mut out: Vec<Option<F::Output>> = (0..set.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

#[tokio::test]
async fn an_esim_profile_is_in_stock_only_while_stocked_and_available() {
    let pg = server();
    let s = store(&pg, "esim").await;
    admin(&s, AdminChange::PutTenant(tenant("acme"))).await;
    let mut profile = sim(1, "acme", "b1");
    profile.esim_profile_type = Some("gold".into());
    admin(&s, AdminChange::AddSims(vec![profile.clone()])).await;
    let stock = || {
        let s = &s;
        async move {
            s.client()
                .await
                .expect("c")
                .query(
                    "SELECT iccid FROM free_esim WHERE tenant = 'acme' AND profile_type = 'gold'",
                    &[],
                )
                .await
                .expect("stock")
                .len()
        }
    };
    assert_eq!(stock().await, 1);
    let iccid = profile.iccid.clone();
    s.transaction(&iccid, |tx, iccid| {
        Box::pin(async move {
            sims::set_sim_state(tx, iccid, SimState::Reserved { order: "o".into() }).await?;
            Ok(())
        })
    })
    .await
    .expect("reserve");
    assert_eq!(stock().await, 0);
    s.transaction(&iccid, |tx, iccid| {
        Box::pin(async move {
            sims::set_sim_state(tx, iccid, SimState::Available).await?;
            Ok(())
        })
    })
    .await
    .expect("release");
    assert_eq!(stock().await, 1);
}

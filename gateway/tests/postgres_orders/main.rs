//! The PostgreSQL store's order methods against a real PostgreSQL started for each test
//! (`common/postgres.rs`): activations (idempotency, reservation, refusals, races
//! between tasks and between nodes), advancing orders (effects, the version check),
//! lifecycle orders on lines, subscription pages, eSIM progress and expiry, and order
//! leases shared by two stores with different node ids on one database. Without
//! PostgreSQL installed every test fails saying to `apt-get install postgresql`.

mod activation;
#[path = "../common/mod.rs"]
mod common;
mod compliance;
mod esim;
mod groups;
mod leases;
mod lifecycle;
mod lines;

use common::postgres::PgServer;
use gateway::config::{DbUrl, StoreBackend, StoreConfig};
use gateway::crypto::Sealed;
use gateway::numbers::NumberPolicy;
use gateway::order::{Actor, Effect, Order, OrderKind, OrderStatus, SuspensionReason};
use gateway::store::postgres::PgStore;
use gateway::store::{
    AdminChange, AdminOutcome, CreateOutcome, EventKind, LifecycleOutcome, NewActivation,
    NewLifecycle, NumberChoice, Product, SimChoice, SimRecord, SimState, SwapSim, Tenant,
};
use sim_profiles::{Iccid, Msisdn};
use std::collections::BTreeMap;
use std::time::Duration;

/// The eSIM profile type of the test product.
const PROFILE: &str = "std";
/// The first number of the test pool.
const FIRST: &str = "4670000000";
/// Order lease time of the test stores.
const LEASE: Duration = Duration::from_secs(10);
/// The tests' "now": far from 0, so lapsed and live leases are both representable.
const T0: u64 = 1_800_000_000_000;

fn server() -> PgServer {
    PgServer::start().unwrap_or_else(|e| panic!("{e}"))
}

fn config(url: &str) -> StoreConfig {
    StoreConfig {
        backend: StoreBackend::Postgres,
        url: Some(DbUrl::new(url)),
        pool_size: 8,
        ..StoreConfig::default()
    }
}

/// Another node on the same database: its own pool and node id.
async fn node(url: &str, id: &str) -> PgStore {
    PgStore::connect(&config(url))
        .await
        .expect("connect")
        .with_node_id(id)
        .with_lease_time(LEASE)
}

/// A fresh database `db` with the seeded tenant (`seed`), as node `a`; and its URL.
async fn store(pg: &PgServer, db: &str) -> (PgStore, String) {
    let url = pg.create_db(db).await.expect("create database");
    let s = node(&url, "a").await;
    seed(&s).await;
    (s, url)
}

fn iccid(i: u32) -> Iccid {
    Iccid::from_payload(&format!("8988211000{i:09}")).expect("iccid")
}

fn msisdn(offset: u64) -> Msisdn {
    let n: u64 = FIRST.parse().expect("first");
    (n + offset).to_string().parse().expect("msisdn")
}

/// Physical SIM `i` (i < 100) or eSIM profile `i` (i >= 100) of tenant `acme`.
fn sim(i: u32) -> SimRecord {
    SimRecord {
        iccid: iccid(i),
        imsi: format!("00101{i:010}").parse().expect("imsi"),
        tenant: "acme".into(),
        state: SimState::Available,
        ki: Sealed {
            kid: "k1".into(),
            nonce: format!("{i:024x}"),
            ct: "00".repeat(32),
        },
        opc: None,
        batch: "b1".into(),
        esim_profile_type: (i >= 100).then(|| PROFILE.to_owned()),
    }
}

/// Tenant `acme` (product `p`, also as eSIM; lowest free number first), physical SIMs
/// 1–20, eSIM profiles 100–109, numbers FIRST..FIRST+30; and tenant `other` (no stock).
async fn seed(s: &PgStore) {
    let t = acme(NumberPolicy::Sequential);
    let mut other = t.clone();
    other.id = "other".into();
    let out = s
        .admin(AdminChange::Batch(vec![
            AdminChange::PutTenant(t),
            AdminChange::PutTenant(other),
            AdminChange::AddSims((1..=20).chain(100..110).map(sim).collect()),
            AdminChange::AddNumbers {
                tenant: "acme".into(),
                block: "blk".into(),
                first: FIRST.parse().expect("m"),
                count: 30,
            },
        ]))
        .await
        .expect("seed");
    assert_eq!(out, AdminOutcome::Applied);
}

/// Tenant `acme`: product `p` (also as eSIM), no golden numbers, numbers picked by `policy`.
fn acme(policy: NumberPolicy) -> Tenant {
    let mut t = Tenant::new(
        "acme",
        "acme",
        "00101".parse().expect("plmn"),
        BTreeMap::from([("p".to_owned(), Product::new(1).with_esim(PROFILE))]),
    );
    t.golden_rules.clear();
    t.number_policy = policy;
    t
}

/// An activation of physical SIM `card` (or an eSIM profile when `card` is `None`) with
/// an automatic number, under Idempotency-Key `key`, now `T0`.
fn activation(key: &str, order: &str, card: Option<u32>) -> NewActivation {
    NewActivation {
        tenant: "acme".into(),
        idempotency_key: key.into(),
        body_hash: format!("hash-{key}"),
        order_id: order.into(),
        sim: match card {
            Some(i) => SimChoice::Physical(iccid(i)),
            None => SimChoice::Esim {
                eid: None,
                matching_id: format!("MID-{order}"),
                confirmation_code: None,
            },
        },
        number: NumberChoice::Auto,
        product: "p".into(),
        channel: None,
        subscriber: None,
        now_ms: T0,
        random: 0,
        idempotency_cutoff_ms: T0 - 86_400_000,
        compliance: None,
        port: None,
        send_ahead: None,
    }
}

/// Creates an activation; panics unless it is created.
async fn create(s: &PgStore, key: &str, order: &str, card: Option<u32>) -> Order {
    match s.create_activation(activation(key, order, card)).await {
        Ok(CreateOutcome::Created(o)) => o,
        other => panic!("not created: {other:?}"),
    }
}

/// The next version of `o` in `status` at `T0 + dt`.
fn next(o: &Order, status: OrderStatus, dt: u64) -> Order {
    let mut n = o.clone();
    n.version += 1;
    n.status = status;
    n.updated_at_ms = T0 + dt;
    n
}

/// Advances `o` to `status` with `effect`; returns the new version.
async fn advance(s: &PgStore, o: &Order, status: OrderStatus, effect: Effect) -> Order {
    let n = next(o, status, 1_000);
    s.advance_order(n.clone(), effect, EventKind::OrderActive)
        .await
        .expect("advance");
    n
}

/// A physical line: activation of `card` made active. Returns (activation, its number).
async fn line(s: &PgStore, key: &str, card: u32) -> (Order, Msisdn) {
    let o = create(s, key, &format!("act_{key}"), Some(card)).await;
    let o = advance(s, &o, OrderStatus::Active, Effect::Activate).await;
    let m = o.msisdn.clone();
    (o, m)
}

/// A lifecycle order `kind` on the line holding `m`, under key `key`.
fn lifecycle(key: &str, m: &Msisdn, kind: OrderKind) -> NewLifecycle {
    NewLifecycle {
        tenant: "acme".into(),
        msisdn: m.clone(),
        kind,
        idempotency_key: key.into(),
        body_hash: format!("hash-{key}"),
        order_id: format!("ord_{key}"),
        actor: Actor {
            key_prefix: "sk_test".into(),
            role: "operator".into(),
        },
        reason: None,
        sim: None,
        number: None,
        port: None,
        channel: None,
        now_ms: T0 + 2_000,
        random: 0,
        idempotency_cutoff_ms: T0 - 86_400_000,
        plan: gateway::engine::machine::plan,
        send_ahead: None,
        verification: false,
    }
}

fn suspend(key: &str, m: &Msisdn, reason: SuspensionReason) -> NewLifecycle {
    NewLifecycle {
        reason: Some(reason),
        ..lifecycle(key, m, OrderKind::Suspend)
    }
}

fn swap(key: &str, m: &Msisdn, card: u32) -> NewLifecycle {
    NewLifecycle {
        sim: Some(SwapSim::Physical(iccid(card))),
        ..lifecycle(key, m, OrderKind::SimSwap)
    }
}

/// Creates a lifecycle order; panics unless it is created.
async fn create_lifecycle(s: &PgStore, new: NewLifecycle) -> Order {
    match s.create_lifecycle(new).await {
        Ok(LifecycleOutcome::Created(o)) => o,
        other => panic!("not created: {other:?}"),
    }
}

/// One value of an order's in-flight row (`SELECT <column> FROM orders_inflight WHERE
/// id = …`: its lease); `None` when the order is not in flight.
async fn order_column<T>(s: &PgStore, id: &str, column: &str) -> Option<T>
where
    T: for<'r> tokio_postgres::types::FromSql<'r>,
{
    s.client()
        .await
        .expect("client")
        .query_opt(
            &format!("SELECT {column} FROM orders_inflight WHERE id = $1"),
            &[&id],
        )
        .await
        .expect("order row")
        .and_then(|r| r.get(0))
}

/// The number of rows `sql` counts.
async fn count(s: &PgStore, sql: &str) -> i64 {
    s.client()
        .await
        .expect("client")
        .query_one(sql, &[])
        .await
        .expect("count")
        .get(0)
}

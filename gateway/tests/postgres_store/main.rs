//! The PostgreSQL store backend against a real PostgreSQL started for each test from the
//! Debian packages (`common/postgres.rs`): migrations, refusal of a newer schema, the
//! serialization-failure retry, the event sequencer, the administrative, read and import
//! methods, and `simgw db migrate`. Without PostgreSQL installed every test fails saying
//! to `apt-get install postgresql`.

mod batches;
#[path = "../common/mod.rs"]
mod common;
mod event_log;
mod methods;
mod pool;
mod primitives;
mod retry;
mod schema;
mod tls;

use common::postgres::PgServer;
use gateway::config::{DbUrl, StoreBackend, StoreConfig};
use gateway::crypto::Sealed;
use gateway::store::postgres::migrate::{MigrateError, SCHEMA_VERSION};
use gateway::store::postgres::retry::{RetryPolicy, Tx, TxResult};
use gateway::store::postgres::{OpenError, PgStore, events, sequencer};
use gateway::store::{
    AdminChange, AdminOutcome, BatchRecord, BatchStatus, Clash, Event, EventKind, EventType,
    ImportStart, Product, SimRecord, SimState, StoreError, Tenant,
};
use serde_json::json;
use sim_profiles::Iccid;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use tokio::sync::Notify;

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

async fn store(pg: &PgServer, db: &str) -> PgStore {
    let url = pg.create_db(db).await.expect("create database");
    PgStore::connect(&config(&url)).await.expect("connect")
}

fn tenant(id: &str) -> Tenant {
    let mut t = Tenant::new(
        id,
        id,
        "00101".parse().expect("plmn"),
        BTreeMap::from([("p".to_owned(), Product::new(1))]),
    );
    t.golden_rules.clear();
    t
}

fn sim(i: u32, tenant: &str, batch: &str) -> SimRecord {
    SimRecord {
        iccid: Iccid::from_payload(&format!("8988211000{i:09}")).expect("iccid"),
        imsi: format!("00101{i:010}").parse().expect("imsi"),
        tenant: tenant.into(),
        state: SimState::Available,
        ki: Sealed {
            kid: "k1".into(),
            nonce: format!("{i:024x}"),
            ct: "00".repeat(32),
        },
        opc: None,
        batch: batch.into(),
        esim_profile_type: None,
    }
}

async fn admin(s: &PgStore, c: AdminChange) -> AdminOutcome {
    s.admin(c).await.expect("admin")
}

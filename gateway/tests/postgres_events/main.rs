//! The PostgreSQL backend's public event log and webhook outbox against a real PostgreSQL
//! (`common/postgres.rs`), with several nodes as several `PgStore`s on one database:
//! gap-free tenant numbering under concurrent publishers, readers that never skip a late
//! commit, type filters and paging, endpoints (limit, rotation, delete), deliveries
//! claimed per node, ordering per subject queue, redelivery, disabling, and low stock;
//! what the metrics page reads of the sequencer's backlog and the pool.
//! The meanings checked are those `webhook_delivery.rs` and `webhooks.rs` expect of the
//! embedded backend.

#[path = "../common/mod.rs"]
mod common;
mod deliveries;
mod endpoints;
mod log;
mod metrics;
mod node;

use common::postgres::PgServer;
use gateway::clock::Clock;
use gateway::config::{DbUrl, StoreBackend, StoreConfig};
use gateway::crypto::Sealed;
use gateway::store::postgres::delivery_attempts::DELIVERY_LEASE_MS;
use gateway::store::postgres::{PgStore, events};
use gateway::store::{
    AttemptOutcome, AttemptRecord, DeliveryKey, DeliveryStatus, EndpointSecret, EventKind,
    EventType, MAX_ENDPOINTS_PER_TENANT, Redelivery, WebhookEndpoint,
};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

const ACME: &str = "acme";
const GLOBEX: &str = "globex";

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

/// Two nodes (two stores with their own pools and node ids) on one new database.
async fn nodes(pg: &PgServer, db: &str) -> (PgStore, PgStore) {
    let url = pg.create_db(db).await.expect("create database");
    let a = PgStore::connect(&config(&url)).await.expect("connect");
    let b = PgStore::connect(&config(&url)).await.expect("connect");
    (a.with_node_id("node-a"), b.with_node_id("node-b"))
}

fn now() -> u64 {
    Clock::new().now_ms()
}

fn endpoint(id: &str, tenant: &str, types: &[EventType]) -> WebhookEndpoint {
    WebhookEndpoint {
        id: id.into(),
        tenant: tenant.into(),
        url: "https://hooks.example.com/in".into(),
        event_types: types.to_vec(),
        secrets: vec![secret(1, None)],
        disabled: None,
        created_at_ms: 1,
    }
}

fn secret(at: u64, expires: Option<u64>) -> EndpointSecret {
    EndpointSecret {
        sealed: Sealed {
            kid: "k1".into(),
            nonce: format!("{at:024x}"),
            ct: "00".repeat(48),
        },
        created_at_ms: at,
        expires_at_ms: expires,
    }
}

async fn publish(s: &PgStore, tenant: &str, t: EventType, subject: Option<&str>, n: u64) {
    s.publish_for_test(now(), tenant, t, subject, json!({"n": n}))
        .await
        .expect("publish");
}

fn key(endpoint: &str, seq: u64) -> DeliveryKey {
    DeliveryKey {
        endpoint: endpoint.into(),
        event_seq: seq,
    }
}

fn outcome(k: &DeliveryKey, at: u64, delivered: bool, retry_at_ms: Option<u64>) -> AttemptOutcome {
    AttemptOutcome {
        key: k.clone(),
        record: AttemptRecord {
            at_ms: at,
            http_status: Some(if delivered { 204 } else { 503 }),
            latency_ms: 3,
            error: (!delivered).then(|| "HTTP 503".to_owned()),
            response: None,
        },
        delivered,
        retry_at_ms,
        now_ms: at,
    }
}

fn seqs(keys: &[DeliveryKey]) -> Vec<u64> {
    keys.iter().map(|k| k.event_seq).collect()
}

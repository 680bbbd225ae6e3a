//! Admission control end to end over HTTPS: an HLR that answers nothing until the test
//! releases it keeps orders in the backlog, so the bounds are reached deterministically
//! (no timing): the next POST gets `503 backlog_full` with `Retry-After` and changes
//! nothing, a retry with the same key works once the backlog drains, and the backlog is
//! counted again from the store after a restart.

mod common;

use adapters::hlr::{
    Barring, BoxFuture, DeprovisionOutcome, FaultClass, HlrError, HlrProvisioner, ProvisionOutcome,
    SubscriberSpec, SubscriberState,
};
use adapters::http::HttpClient;
use bytes::Bytes;
use common::{Card, OTHER_TENANT, TENANT, card, physical, seed_tenant};
use gateway::app::Gateway;
use gateway::config::Config;
use gateway::store::InventoryCounts;
use serde_json::Value;
use sim_profiles::Imsi;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// What the gated HLR does with provisioning calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Gate {
    /// Hold every call until the gate changes.
    Hold,
    /// Succeed.
    Pass,
    /// Fail retryably (lets a held order park in retry-wait, so the gateway can stop).
    Fail,
}

/// An HLR whose provisioning waits for the test: orders stay in the backlog until released.
struct GatedHlr {
    gate: watch::Sender<Gate>,
    /// Provisioning calls that have reached this HLR so far.
    calls: watch::Sender<usize>,
}

impl GatedHlr {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            gate: watch::channel(Gate::Hold).0,
            calls: watch::channel(0).0,
        })
    }

    /// Waits until `n` provisioning calls have reached the HLR: their orders have recorded
    /// the call as sent and write nothing more until it answers.
    async fn wait_calls(&self, n: usize) {
        let mut rx = self.calls.subscribe();
        tokio::time::timeout(Duration::from_secs(30), rx.wait_for(|c| *c >= n))
            .await
            .unwrap_or_else(|_| panic!("{n} provisioning calls never reached the HLR"))
            .expect("calls channel");
    }

    fn set(&self, g: Gate) {
        self.gate.send_replace(g);
    }
}

impl HlrProvisioner for GatedHlr {
    fn dialect(&self) -> &'static str {
        "gated"
    }
    fn provision<'a>(
        &'a self,
        _: &'a SubscriberSpec,
    ) -> BoxFuture<'a, Result<ProvisionOutcome, HlrError>> {
        let mut rx = self.gate.subscribe();
        self.calls.send_modify(|c| *c += 1);
        Box::pin(async move {
            loop {
                match *rx.borrow_and_update() {
                    Gate::Hold => {}
                    Gate::Pass => return Ok(ProvisionOutcome::Created),
                    Gate::Fail => {
                        return Err(HlrError::new(FaultClass::Transient, "provision", "gated"));
                    }
                }
                if rx.changed().await.is_err() {
                    return Err(HlrError::new(FaultClass::Transient, "provision", "gone"));
                }
            }
        })
    }
    fn deprovision<'a>(
        &'a self,
        _: &'a SubscriberSpec,
    ) -> BoxFuture<'a, Result<DeprovisionOutcome, HlrError>> {
        Box::pin(async { Ok(DeprovisionOutcome::Deleted) })
    }
    fn query<'a>(
        &'a self,
        _: &'a Imsi,
    ) -> BoxFuture<'a, Result<Option<SubscriberState>, HlrError>> {
        Box::pin(async { Ok(None) })
    }
    fn set_barring<'a>(&'a self, _: &'a Imsi, _: Barring) -> BoxFuture<'a, Result<(), HlrError>> {
        Box::pin(async { Ok(()) })
    }
    fn detach_msisdn<'a>(
        &'a self,
        _: &'a Imsi,
        _: &'a sim_profiles::Msisdn,
    ) -> BoxFuture<'a, Result<(), HlrError>> {
        Box::pin(async { Ok(()) })
    }
    fn change_msisdn<'a>(
        &'a self,
        _: &'a Imsi,
        _: &'a sim_profiles::Msisdn,
        _: &'a sim_profiles::Msisdn,
    ) -> BoxFuture<'a, Result<(), HlrError>> {
        Box::pin(async { Ok(()) })
    }
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// A gateway on the gated HLR with an HTTPS client.
struct Rig {
    gw: Gateway,
    http: HttpClient,
}

fn config(dir: &std::path::Path, overall: u64, per_tenant: u64) -> Config {
    let mut c = common::config(dir);
    c.admission.max_backlog = overall;
    c.admission.max_backlog_per_tenant = per_tenant;
    // Failed attempts while parked must never exhaust the order.
    c.engine.max_attempts = 100_000;
    c
}

impl Rig {
    async fn start(cfg: Config, hlr: Arc<GatedHlr>) -> Self {
        let gw = Gateway::start(cfg, hlr).await.expect("gateway");
        let ca = std::fs::read(gw.ca_cert.as_ref().expect("dev CA")).expect("ca");
        let http = HttpClient::builder()
            .add_root_pem(&ca)
            .request_timeout(Duration::from_secs(20))
            .build()
            .expect("client");
        Self { gw, http }
    }

    async fn post(&self, key: &str, idem: &str, body: &Value) -> (u16, Value, http::HeaderMap) {
        let r = self
            .http
            .post(
                &format!("{}/v1/activations", self.gw.base_url()),
                &[
                    ("authorization", format!("Bearer {key}")),
                    ("content-type", "application/json".to_owned()),
                    ("idempotency-key", idem.to_owned()),
                ],
                Bytes::from(body.to_string()),
            )
            .await
            .expect("POST");
        let v = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        (r.status, v, r.headers)
    }

    async fn get(&self, key: &str, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(
                &format!("{}{path}", self.gw.base_url()),
                &[("authorization", format!("Bearer {key}"))],
            )
            .await
            .expect("GET");
        (
            r.status,
            serde_json::from_slice(&r.body).unwrap_or(Value::Null),
        )
    }

    async fn readyz(&self) -> Value {
        let (s, v) = self.get("", "/readyz").await;
        assert_eq!(s, 200, "readyz stays 200 with a full backlog: {v}");
        v
    }

    /// Polls until the order is terminal (bounded; not a timing assertion).
    async fn wait_terminal(&self, key: &str, id: &str) -> Value {
        for _ in 0..2_000 {
            let (s, v) = self.get(key, &format!("/v1/activations/{id}")).await;
            assert_eq!(s, 200, "{v}");
            if v["status"] == "active" || v["status"] == "failed" {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("order {id} never finished");
    }

    /// Polls until the engine has let go of every order (it leaves the backlog just after
    /// the terminal state is durable).
    async fn wait_drained(&self) {
        for _ in 0..2_000 {
            if self.readyz().await["backlog"] == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the backlog never drained");
    }

    async fn counts(&self, tenant: &str) -> InventoryCounts {
        self.gw
            .store
            .inventory_counts(tenant)
            .await
            .expect("counts")
    }
}

fn assert_backlog_full(status: u16, body: &Value, headers: &http::HeaderMap, bound: &str) {
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "backlog_full", "{body}");
    assert_eq!(body["bound"], bound, "{body}");
    assert_eq!(body["status"], 503, "{body}");
    let retry: u32 = headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in whole seconds");
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
}

async fn seed(gw: &Gateway, acme: &[Card], globex: &[Card]) -> (String, String) {
    let a = seed_tenant(gw, TENANT, "00101", acme, "8613800000000", 100).await;
    let g = seed_tenant(gw, OTHER_TENANT, "00101", globex, "8613900000000", 100).await;
    (a, g)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_backlog_refuses_without_reserving_and_the_same_key_works_later() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hlr = GatedHlr::new();
    let rig = Rig::start(config(dir.path(), 6, 4), hlr.clone()).await;
    let acme: Vec<Card> = (0..8).map(card).collect();
    let globex: Vec<Card> = (900_000..900_004).map(card).collect();
    let (a, g) = seed(&rig.gw, &acme, &globex).await;

    // Fill acme's own bound (4): every order waits on the held HLR.
    let mut ids = Vec::new();
    for (i, c) in acme.iter().take(4).enumerate() {
        let (s, v, _) = rig.post(&a, &format!("a{i}"), &physical(&c.iccid)).await;
        assert_eq!(s, 202, "{v}");
        ids.push((a.clone(), v["id"].as_str().expect("id").to_owned()));
    }
    // Each accepted order writes its "sent" step before it calls the HLR: take the snapshot
    // once all four are waiting there, so nothing else can write meanwhile.
    hlr.wait_calls(4).await;
    let before = (
        rig.counts(TENANT).await,
        rig.gw.store.event_count().await.expect("events"),
    );
    let refused_body = physical(&acme[4].iccid);
    let (s, v, h) = rig.post(&a, "a4", &refused_body).await;
    assert_backlog_full(s, &v, &h, "tenant");
    assert_eq!(
        (
            rig.counts(TENANT).await,
            rig.gw.store.event_count().await.expect("events")
        ),
        before,
        "a refused order reserves nothing and logs nothing"
    );

    // Another tenant still has room, until the overall bound (6).
    for (i, c) in globex.iter().take(2).enumerate() {
        let (s, v, _) = rig.post(&g, &format!("g{i}"), &physical(&c.iccid)).await;
        assert_eq!(s, 202, "{v}");
        ids.push((g.clone(), v["id"].as_str().expect("id").to_owned()));
    }
    let before_g = rig.counts(OTHER_TENANT).await;
    let (s, v, h) = rig.post(&g, "g2", &physical(&globex[2].iccid)).await;
    assert_backlog_full(s, &v, &h, "overall");
    assert_eq!(rig.counts(OTHER_TENANT).await, before_g);

    // A retry of an accepted request is still answered as a replay, full or not; the same
    // key with another body is still a misuse.
    let (s, v, h) = rig.post(&a, "a0", &physical(&acme[0].iccid)).await;
    assert_eq!(s, 202, "{v}");
    assert_eq!(v["id"], ids[0].1.as_str());
    assert_eq!(
        h.get("idempotent-replayed").and_then(|v| v.to_str().ok()),
        Some("true")
    );
    let (s, v, _) = rig.post(&a, "a0", &physical(&acme[5].iccid)).await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(v["code"], "idempotency_key_reused");

    // readyz stays 200 and says why orders are refused; metrics carry the gauges.
    let r = rig.readyz().await;
    assert_eq!(r["status"], "ready", "{r}");
    assert_eq!(r["backlog"], 6, "{r}");
    assert_eq!(r["backlog_limit"], 6, "{r}");
    assert_eq!(r["accepting_orders"], false, "{r}");
    assert!(
        r["projected_wait_seconds"].is_null(),
        "nothing finished: {r}"
    );
    let (_, doc) = rig.get("", "/openapi.json").await;
    let refusal = &doc["paths"]["/v1/activations"]["post"]["responses"]["503"];
    assert!(
        refusal["description"]
            .as_str()
            .is_some_and(|d| d.contains("backlog_full")),
        "{refusal}"
    );
    assert!(refusal["headers"]["Retry-After"].is_object(), "{refusal}");
    let m = rig.gw.metrics.render();
    for line in [
        "simgw_backlog_orders{tenant=\"acme\"} 4\n",
        "simgw_backlog_orders{tenant=\"globex\"} 2\n",
        "simgw_backlog_orders_overall 6\n",
        "simgw_backlog_projected_wait_seconds +Inf\n",
        "simgw_admission_refused_total{bound=\"tenant\"} 1\n",
        "simgw_admission_refused_total{bound=\"overall\"} 1\n",
    ] {
        assert!(m.contains(line), "metrics lack {line:?}:\n{m}");
    }

    // Release the HLR: everything completes and the backlog drains.
    hlr.set(Gate::Pass);
    for (key, id) in &ids {
        let o = rig.wait_terminal(key, id).await;
        assert_eq!(o["status"], "active", "{o}");
    }
    rig.wait_drained().await;
    let r = rig.readyz().await;
    assert_eq!(r["accepting_orders"], true, "{r}");
    assert!(
        r["completion_rate_per_s"].as_f64().is_some_and(|x| x > 0.0),
        "{r}"
    );

    // The refused key was never recorded: the same request now goes through.
    let (s, v, h) = rig.post(&a, "a4", &refused_body).await;
    assert_eq!(s, 202, "{v}");
    assert!(h.get("idempotent-replayed").is_none());
    let o = rig.wait_terminal(&a, v["id"].as_str().expect("id")).await;
    assert_eq!(o["status"], "active", "{o}");
    let (s, v, _) = rig.post(&g, "g2", &physical(&globex[2].iccid)).await;
    assert_eq!(s, 202, "{v}");
    rig.gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backlog_is_counted_from_the_store_after_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hlr = GatedHlr::new();
    let rig = Rig::start(config(dir.path(), 100, 2), hlr.clone()).await;
    let acme: Vec<Card> = (0..4).map(card).collect();
    let (a, _) = seed(&rig.gw, &acme, &[]).await;
    let mut ids = Vec::new();
    for (i, c) in acme.iter().take(2).enumerate() {
        let (s, v, _) = rig.post(&a, &format!("r{i}"), &physical(&c.iccid)).await;
        assert_eq!(s, 202, "{v}");
        ids.push(v["id"].as_str().expect("id").to_owned());
    }
    let third = physical(&acme[2].iccid);
    let (s, v, h) = rig.post(&a, "r2", &third).await;
    assert_backlog_full(s, &v, &h, "tenant");

    // Park the orders in retry-wait so the gateway can stop, then start a fresh process
    // state on the same data dir: the backlog is what the store holds in flight.
    hlr.set(Gate::Fail);
    rig.gw.shutdown().await;
    let hlr = GatedHlr::new();
    let rig = Rig::start(config(dir.path(), 100, 2), hlr.clone()).await;
    let r = rig.readyz().await;
    assert_eq!(r["backlog"], 2, "{r}");
    let (s, v, h) = rig.post(&a, "r2", &third).await;
    assert_backlog_full(s, &v, &h, "tenant");

    hlr.set(Gate::Pass);
    for id in &ids {
        let o = rig.wait_terminal(&a, id).await;
        assert_eq!(o["status"], "active", "{o}");
    }
    rig.wait_drained().await;
    let (s, v, _) = rig.post(&a, "r2", &third).await;
    assert_eq!(s, 202, "{v}");
    rig.gw.shutdown().await;
}

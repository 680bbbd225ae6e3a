//! Test harness: a gateway and the CAI3G HLR simulator on ephemeral loopback ports, with
//! a seeded tenant whose SIM keys the tests know, and a small HTTPS client.
#![allow(dead_code)]

pub mod cli;
pub mod json_schema;
#[cfg(feature = "sandbox")]
pub mod market;
pub mod openapi_check;
#[cfg(feature = "sandbox")]
pub mod port_rig;
pub mod postgres;
pub mod process;
#[cfg(feature = "sandbox")]
pub mod sandbox;
#[cfg(feature = "sandbox")]
pub mod soak;

use adapters::http::HttpClient;
use bytes::Bytes;
use conformance::hlr_sim::{self, HlrSimConfig, HlrSimHandle};
use gateway::admin::{self, NewSim};
use gateway::app::Gateway;
use gateway::config::Config;
use gateway::store::{AdminChange, InventoryCounts, Product, Role, Tenant};
use serde_json::Value;
use sim_profiles::{Iccid, Imsi, Key128};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// A loopback port free now, for a child process to bind later. It is picked below the
/// kernel's ephemeral range (`net.ipv4.ip_local_port_range`), so no socket bound to port 0
/// and no outgoing connection, of this process's simulators and clients or of anything
/// else, can be given it while the child starts; a port of that range, bound and released
/// here, could be (the child then fails to bind and never comes up). Tests of one binary
/// run at once: each call starts its search elsewhere.
pub fn free_port() -> u16 {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32_768);
    const FIRST: u32 = 10_000;
    if low > FIRST + 1_000 {
        let span = low - FIRST;
        let call = CALLS.fetch_add(1, Ordering::Relaxed);
        let start = std::process::id()
            .wrapping_mul(7_919)
            .wrapping_add(call.wrapping_mul(104_729));
        for i in 0..span {
            let port = u16::try_from(FIRST + (start.wrapping_add(i) % span)).expect("port");
            if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
                return port;
            }
        }
    }
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

pub const TENANT: &str = "acme";
pub const OTHER_TENANT: &str = "globex";
pub const PRODUCT: &str = "basic";
pub const PROFILE_ID: u32 = 46;

/// One seeded card with known keys.
pub struct Card {
    pub iccid: Iccid,
    pub imsi: String,
    pub ki: [u8; 16],
    pub opc: [u8; 16],
}

pub struct Harness {
    pub sim: HlrSimHandle,
    pub gw: Option<Gateway>,
    pub client: HttpClient,
    pub base: String,
    pub api_key: String,
    pub other_key: String,
    pub cards: Vec<Card>,
    pub other_cards: Vec<Card>,
    pub dir: tempfile::TempDir,
}

pub fn card(i: u32) -> Card {
    let iccid = Iccid::from_payload(&format!("8988211000{i:09}")).expect("iccid");
    // High-entropy but reproducible, so a scan of the database file cannot match by chance.
    let mut ki = [0u8; 16];
    ki.copy_from_slice(&gateway::crypto::sha256(&i.to_be_bytes())[..16]);
    let mut opc = [0u8; 16];
    opc.copy_from_slice(&gateway::crypto::sha256(&i.to_le_bytes())[16..]);
    Card {
        iccid,
        imsi: format!("00101{i:010}"),
        ki,
        opc,
    }
}

pub fn config(dir: &std::path::Path) -> Config {
    let mut c = Config {
        data_dir: dir.to_owned(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..Config::default()
    };
    c.engine.backoff_base_ms = 20;
    c.engine.backoff_max_ms = 200;
    c.hlr.timeout_ms = 2_000;
    c
}

impl Harness {
    /// Gateway + simulator with `n` cards for TENANT and 5 for OTHER_TENANT.
    pub async fn start(n: u32) -> Self {
        Self::start_with(n, |_| {}).await
    }

    pub async fn start_with(n: u32, tweak: impl FnOnce(&mut Config)) -> Self {
        Self::start_full(n, tweak, None).await
    }

    /// Like `start_with`, but provisioning a real OsmoHLR at `osmo_ctrl` (`IP:PORT`) instead
    /// of the CAI3G simulator (which still runs, unused).
    pub async fn start_full(
        n: u32,
        tweak: impl FnOnce(&mut Config),
        osmo_ctrl: Option<std::net::SocketAddr>,
    ) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut sim_cfg = HlrSimConfig::new("gw", "secret-pw");
        sim_cfg.listen = "127.0.0.1:0".parse().expect("addr");
        let sim = hlr_sim::start(sim_cfg).await.expect("simulator");
        let mut cfg = config(dir.path());
        tweak(&mut cfg);
        let hlr = match osmo_ctrl {
            Some(addr) => {
                gateway::southbound::osmo(&addr.to_string(), &cfg.hlr).expect("osmo adapter")
            }
            None => gateway::southbound::cai3g(
                &sim.url(),
                "gw",
                "secret-pw",
                None,
                &cfg.hlr,
                cfg.engine.hlr_concurrency,
            )
            .expect("adapter"),
        };
        let gw = Gateway::start(cfg, hlr).await.expect("gateway");
        let cards: Vec<Card> = (0..n).map(card).collect();
        let other_cards: Vec<Card> = (900_000..900_005).map(card).collect();
        let api_key = seed_tenant(&gw, TENANT, "00101", &cards, "8613800000000", 1_000).await;
        let other_key = seed_tenant(
            &gw,
            OTHER_TENANT,
            "00101",
            &other_cards,
            "8613900000000",
            10,
        )
        .await;
        let ca = std::fs::read(gw.ca_cert.as_ref().expect("dev CA")).expect("ca");
        let client = HttpClient::builder()
            .add_root_pem(&ca)
            .request_timeout(Duration::from_secs(20))
            .pool_max_idle_per_host(256)
            .build()
            .expect("client");
        let base = gw.base_url();
        Self {
            sim,
            gw: Some(gw),
            client,
            base,
            api_key,
            other_key,
            cards,
            other_cards,
            dir,
        }
    }

    pub fn gw(&self) -> &Gateway {
        self.gw.as_ref().expect("gateway running")
    }

    pub async fn post_as(
        &self,
        api_key: &str,
        idem: Option<&str>,
        body: &str,
    ) -> (u16, Value, http::HeaderMap) {
        self.post_raw("/v1/activations", api_key, idem, body.to_owned())
            .await
    }

    /// POSTs `body` to `path` with `api_key` and an optional Idempotency-Key.
    pub async fn post_to(
        &self,
        path: &str,
        api_key: &str,
        idem: Option<&str>,
        body: &Value,
    ) -> (u16, Value) {
        let (s, v, _) = self.post_raw(path, api_key, idem, body.to_string()).await;
        (s, v)
    }

    pub async fn post_raw(
        &self,
        path: &str,
        api_key: &str,
        idem: Option<&str>,
        body: String,
    ) -> (u16, Value, http::HeaderMap) {
        let mut headers = vec![
            ("authorization", format!("Bearer {api_key}")),
            ("content-type", "application/json".to_owned()),
        ];
        if let Some(k) = idem {
            headers.push(("idempotency-key", k.to_owned()));
        }
        let r = self
            .client
            .post(&format!("{}{path}", self.base), &headers, Bytes::from(body))
            .await
            .expect("POST");
        let v = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        (r.status, v, r.headers)
    }

    /// Polls until the order (any kind) is terminal (bounded; not a timing assertion).
    pub async fn wait_order(&self, id: &str) -> Value {
        let mut last = Value::Null;
        for _ in 0..3_000 {
            let (s, v) = self
                .get_as(&self.api_key, &format!("/v1/orders/{id}"))
                .await;
            assert_eq!(s, 200, "{v}");
            if ["active", "completed", "failed"].contains(&v["status"].as_str().unwrap_or("")) {
                return v;
            }
            last = v;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("order {id} never finished: {last}");
    }

    /// Activates card `i` and waits: returns its number.
    pub async fn activate(&self, i: usize) -> String {
        let (s, b) = self
            .post(&format!("act-{i}"), &physical(&self.cards[i].iccid))
            .await;
        assert_eq!(s, 202, "{b}");
        let done = self.wait_terminal(b["id"].as_str().expect("id")).await;
        assert_eq!(done["status"], "active", "{done}");
        done["msisdn"].as_str().expect("msisdn").to_owned()
    }

    pub async fn post(&self, idem: &str, body: &Value) -> (u16, Value) {
        let (s, v, _) = self
            .post_as(&self.api_key, Some(idem), &body.to_string())
            .await;
        (s, v)
    }

    pub async fn get_as(&self, api_key: &str, path: &str) -> (u16, Value) {
        let r = self
            .client
            .get(
                &format!("{}{path}", self.base),
                &[("authorization", format!("Bearer {api_key}"))],
            )
            .await
            .expect("GET");
        (
            r.status,
            serde_json::from_slice(&r.body).unwrap_or(Value::Null),
        )
    }

    /// Polls until the order is `active` or `failed` (bounded; not a timing assertion).
    pub async fn wait_terminal(&self, id: &str) -> Value {
        self.wait_terminal_as(&self.api_key, id).await
    }

    /// Like `wait_terminal`, for an order of the tenant of `api_key`.
    pub async fn wait_terminal_as(&self, api_key: &str, id: &str) -> Value {
        for _ in 0..2_000 {
            let (s, v) = self.get_as(api_key, &format!("/v1/activations/{id}")).await;
            assert_eq!(s, 200, "{v}");
            if v["status"] == "active" || v["status"] == "failed" {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("order {id} never finished");
    }

    pub async fn counts(&self, tenant: &str) -> InventoryCounts {
        self.gw()
            .store
            .inventory_counts(tenant)
            .await
            .expect("counts")
    }

    pub async fn event_count(&self) -> u64 {
        self.gw().store.event_count().await.expect("events")
    }
}

/// An answer's status, content type and JSON body (`Null` if it is not JSON).
pub fn parts(r: adapters::http::HttpResponse) -> (u16, String, Value) {
    let ct = r
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (
        r.status,
        ct,
        serde_json::from_slice(&r.body).unwrap_or(Value::Null),
    )
}

/// Who holds `msisdn` on the simulated HLR: every IMSI whose subscription has it.
pub fn holders(sim: &HlrSimHandle, msisdn: &str) -> Vec<Imsi> {
    sim.subscribers()
        .into_iter()
        .filter(|s| s.msisdn.as_ref().is_some_and(|m| m.as_str() == msisdn))
        .map(|s| s.imsi)
        .collect()
}

pub fn physical(iccid: &Iccid) -> Value {
    serde_json::json!({"sim": {"type": "physical", "iccid": iccid.to_string()}, "product": PRODUCT})
}

pub async fn seed_tenant(
    gw: &Gateway,
    tenant: &str,
    plmn: &str,
    cards: &[Card],
    first: &str,
    numbers: u64,
) -> String {
    let t = Tenant::new(
        tenant,
        tenant,
        plmn.parse().expect("plmn"),
        BTreeMap::from([(PRODUCT.to_owned(), Product::new(PROFILE_ID))]),
    );
    let (key, key_change) =
        admin::new_api_key(&gw.keys, tenant, Role::Operator, "test", 0).expect("key");
    let sims = cards
        .iter()
        .map(|c| {
            let s = NewSim {
                iccid: c.iccid.clone(),
                imsi: c.imsi.parse().expect("imsi"),
                ki: Key128::from_bytes(c.ki),
                opc: Some(Key128::from_bytes(c.opc)),
            };
            admin::seal_sim(&gw.keys, tenant, "test-batch", &s).expect("seal")
        })
        .collect();
    admin::apply(
        gw.store.as_ref(),
        AdminChange::Batch(vec![
            AdminChange::PutTenant(t),
            key_change,
            AdminChange::AddSims(sims),
            AdminChange::AddNumbers {
                tenant: tenant.into(),
                block: "b1".into(),
                first: first.parse().expect("msisdn"),
                count: numbers,
            },
        ]),
    )
    .await
    .expect("seed");
    key
}

//! The sandbox's market tenants as a store terminal calls them (feature `sandbox`): a
//! client with one tenant's key, China store sales with valid resident ID numbers, and
//! tenants with their own compliance override seeded beside `sandbox-cn`.

use adapters::identity::id_format::mod11_2_check;
use bytes::Bytes;
use gateway::compliance::Market;
use gateway::compliance::overrides::PolicyOverride;
use gateway::sandbox::Sandbox;
use gateway::store::{AdminChange, Role};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// A sandbox on ephemeral ports with quick retries.
pub async fn sandbox(dir: &std::path::Path) -> Sandbox {
    let mut c = super::sandbox::esim_config(dir, 0);
    c.esim.callback_listen = None;
    gateway::sandbox::start(c).await.expect("sandbox")
}

/// A caller of the sandbox's API with one tenant's key.
pub struct Client {
    http: adapters::http::HttpClient,
    base: String,
    auth: String,
}

impl Client {
    /// A caller with a new `channel` key of `tenant` (stored before this returns).
    pub async fn channel(sb: &Sandbox, tenant: &str) -> Self {
        let (key, change) =
            gateway::admin::new_api_key(&sb.gateway.keys, tenant, Role::Channel, "test", 0)
                .expect("key");
        gateway::admin::apply(sb.gateway.store.as_ref(), change)
            .await
            .expect("key stored");
        Self::new(sb, &key)
    }

    pub fn new(sb: &Sandbox, key: &str) -> Self {
        let ca = std::fs::read(&sb.info.ca_cert).expect("ca");
        Self {
            http: adapters::http::HttpClient::builder()
                .add_root_pem(&ca)
                .request_timeout(Duration::from_secs(20))
                .build()
                .expect("client"),
            base: sb.info.base_url.clone(),
            auth: format!("Bearer {key}"),
        }
    }

    pub async fn send(
        &self,
        method: http::Method,
        path: &str,
        idem: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value, Option<String>) {
        let mut h = vec![("authorization", self.auth.clone())];
        if let Some(k) = idem {
            h.push(("idempotency-key", k.to_owned()));
        }
        let bytes = match body {
            Some(b) => {
                h.push(("content-type", "application/json".to_owned()));
                Bytes::from(b.to_string())
            }
            None => Bytes::new(),
        };
        let r = self
            .http
            .request(method, &format!("{}{path}", self.base), &h, bytes)
            .await
            .expect("request");
        let retry_after = r
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (
            r.status,
            serde_json::from_slice(&r.body).unwrap_or(Value::Null),
            retry_after,
        )
    }

    pub async fn order(&self, body: &Value) -> (u16, Value) {
        let key = format!("k-{}", next());
        let (s, v, _) = self
            .send(
                http::Method::POST,
                "/v1/activations",
                Some(&key),
                Some(body),
            )
            .await;
        (s, v)
    }

    pub async fn validate(&self, body: &Value) -> (u16, Value) {
        let (s, v, _) = self
            .send(
                http::Method::POST,
                "/v1/activations/validate",
                None,
                Some(body),
            )
            .await;
        (s, v)
    }

    pub async fn get(&self, path: &str) -> Value {
        let (s, v, _) = self.send(http::Method::GET, path, None, None).await;
        assert_eq!(s, 200, "GET {path}: {v}");
        v
    }

    /// Polls an order until it is `active`, `completed` or `failed` (bounded).
    pub async fn settle(&self, path: &str) -> Value {
        for _ in 0..2_000 {
            let v = self.get(path).await;
            if matches!(
                v["status"].as_str(),
                Some("active" | "completed" | "failed")
            ) {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{path} never settled: {}", self.get(path).await);
    }
}

pub fn next() -> u32 {
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// A well-formed resident ID number, distinct per `seq`.
pub fn resident_id(seq: u32) -> String {
    let body = format!(
        "1101051985{:02}{:02}{:03}",
        1 + seq % 12,
        1 + seq / 12 % 28,
        seq % 1000
    );
    let check = char::from(mod11_2_check(body.as_bytes()));
    format!("{body}{check}")
}

/// A store sale as a China terminal sends it.
pub fn sale(iccid: &str, id_number: &str, clerk: &str) -> Value {
    json!({
        "sim": {"type": "physical", "iccid": iccid},
        "product": "sandbox-basic",
        "channel": {"kind": "store", "store_id": "SZ-0042", "terminal_id": "T7", "staff_id": clerk},
        "subscriber": {
            "name": "王小明", "id_type": "resident_id", "id_number": id_number, "nationality": "CHN",
            "capture": {"method": "card_reader", "reader_serial": "R-1"},
            "evidence": {"face_match": {"transaction_id": format!("fm-{}", next()), "score": 0.91, "liveness": true}}
        }
    })
}

pub fn cn(sb: &Sandbox) -> (Client, Vec<String>) {
    let m = sb
        .info
        .markets
        .get("cn")
        .expect("markets.cn in sandbox.json");
    assert_eq!(m.tenant, "sandbox-cn");
    (Client::new(sb, &m.api_key), m.physical_iccids.clone())
}

pub async fn sim_state(c: &Client, iccid: &str) -> String {
    c.get(&format!("/v1/sims/{iccid}")).await["state"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Seeds tenant `id` in market `cn` with `o` over the defaults, an operator key and the
/// sandbox market tenants' store, on the running sandbox's store. `digit` (0 to 9) keeps
/// the cards and numbers of tenants seeded in one sandbox apart.
pub async fn tight_tenant(
    sb: &Sandbox,
    id: &str,
    digit: u32,
    o: PolicyOverride,
) -> (Client, Vec<String>) {
    let gw = &sb.gateway;
    let mut t = gateway::store::Tenant::new(
        id,
        id,
        "00101".parse().expect("plmn"),
        std::collections::BTreeMap::from([(
            "sandbox-basic".to_owned(),
            gateway::store::Product::new(12),
        )]),
    );
    t.market = Some(Market::Cn);
    t.compliance = Some(Box::new(o));
    let (key, key_change) =
        gateway::admin::new_api_key(&gw.keys, id, Role::Operator, "test", 0).expect("key");
    let mut sims = Vec::new();
    let mut iccids = Vec::new();
    for i in 0..6u32 {
        let iccid =
            sim_profiles::Iccid::from_payload(&format!("89860099009{digit}{i:06}")).expect("iccid");
        iccids.push(iccid.to_string());
        let s = gateway::admin::NewSim {
            iccid,
            imsi: format!("00101{digit}{i:09}").parse().expect("imsi"),
            ki: sim_profiles::Key128::from_bytes([7; 16]),
            opc: Some(sim_profiles::Key128::from_bytes([9; 16])),
        };
        sims.push(gateway::admin::seal_sim(&gw.keys, id, "test", &s).expect("seal"));
    }
    gateway::admin::apply(
        gw.store.as_ref(),
        AdminChange::Batch(vec![
            AdminChange::PutTenant(t),
            key_change,
            AdminChange::AddSims(sims),
            AdminChange::AddNumbers {
                tenant: id.to_owned(),
                block: format!("{id}-n"),
                first: format!("86172{digit}0000000").parse().expect("msisdn"),
                count: 100,
            },
        ]),
    )
    .await
    .expect("seed");
    let c = Client::new(sb, &key);
    for (path, body) in [
        ("/v1/channels/stores/SZ-0042", json!({})),
        ("/v1/channels/clerks/SZ-0042/C1", json!({})),
        (
            "/v1/channels/devices/SZ-0042/T7",
            json!({"type": "terminal"}),
        ),
        (
            "/v1/channels/devices/SZ-0042/R-1",
            json!({"type": "reader"}),
        ),
    ] {
        let (s, v, _) = c.send(http::Method::PUT, path, None, Some(&body)).await;
        assert_eq!(s, 200, "{path}: {v}");
    }
    (c, iccids)
}

/// The sandbox's `uk` market tenant: its client and its physical SIMs.
pub fn uk(sb: &Sandbox) -> (Client, Vec<String>) {
    let m = sb
        .info
        .markets
        .get("uk")
        .expect("markets.uk in sandbox.json");
    (Client::new(sb, &m.api_key), m.physical_iccids.clone())
}

/// A UK store sale porting `number` in with a PAC.
pub fn uk_port(iccid: &str, number: &str) -> Value {
    json!({
        "sim": {"type": "physical", "iccid": iccid},
        "product": "sandbox-basic",
        "channel": {"kind": "store", "store_id": "SZ-0042", "terminal_id": "T7", "staff_id": "C1"},
        "msisdn": {"mode": "port_in", "number": number, "donor": "EE", "credential": "ABC123456"}
    })
}

/// The numbers in the tenant's quarantine.
pub async fn quarantined(c: &Client) -> Vec<String> {
    c.get("/v1/numbers/quarantine").await["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|n| n["msisdn"].as_str().map(str::to_owned))
        .collect()
}

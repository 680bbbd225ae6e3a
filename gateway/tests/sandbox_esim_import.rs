//! In the sandbox, an eSIM batch imported through the API is loaded into the SM-DP+
//! simulator too (and again after a restart), so its profiles can be activated end to end.

use adapters::http::HttpClient;
use bytes::Bytes;
use gateway::config::Config;
use gateway::sandbox::{ESIM_PROFILE_TYPE, Sandbox};
use serde_json::{Value, json};
use sim_profiles::Iccid;
use std::collections::BTreeSet;
use std::time::Duration;

fn config(dir: &std::path::Path) -> Config {
    let mut c = Config {
        data_dir: dir.to_owned(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..Config::default()
    };
    c.esim.callback_listen = Some("127.0.0.1:0".parse().expect("addr"));
    c.sandbox.physical_sims = 5;
    // No seeded profiles: every eSIM order draws from the imported batch.
    c.sandbox.esim_profiles = 0;
    c.sandbox.numbers = 100;
    c.engine.backoff_base_ms = 10;
    c.engine.backoff_max_ms = 50;
    c
}

struct Api {
    http: HttpClient,
    base: String,
    auth: String,
}

impl Api {
    fn new(sb: &Sandbox) -> Self {
        let ca = std::fs::read(&sb.info.ca_cert).expect("ca");
        Self {
            http: HttpClient::builder()
                .add_root_pem(&ca)
                .request_timeout(Duration::from_secs(10))
                .build()
                .expect("client"),
            base: sb.info.base_url.clone(),
            auth: format!("Bearer {}", sb.info.api_key),
        }
    }

    async fn post(&self, path: &str, headers: &[(&str, &str)], body: String) -> (u16, Value) {
        let mut h = vec![("authorization", self.auth.clone())];
        h.extend(headers.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let r = self
            .http
            .post(&format!("{}{path}", self.base), &h, Bytes::from(body))
            .await
            .expect("POST");
        (
            r.status,
            serde_json::from_slice(&r.body).unwrap_or(Value::Null),
        )
    }

    /// Orders an eSIM and polls it until it is terminal (bounded; not a timing assertion).
    async fn activate_esim(&self, key: &str, product: &str) -> Value {
        let body = json!({"sim": {"type": "esim"}, "product": product}).to_string();
        let (s, v) = self
            .post(
                "/v1/activations",
                &[
                    ("idempotency-key", key),
                    ("content-type", "application/json"),
                ],
                body,
            )
            .await;
        assert_eq!(s, 202, "{v}");
        let id = v["id"].as_str().expect("id");
        for _ in 0..1_000 {
            let r = self
                .http
                .get(
                    &format!("{}/v1/activations/{id}", self.base),
                    &[("authorization", self.auth.clone())],
                )
                .await
                .expect("GET");
            let v: Value = serde_json::from_slice(&r.body).expect("json");
            if v["status"] == "active" || v["status"] == "failed" {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("order {id} never finished");
    }
}

/// A CSV batch of `n` profiles of the sandbox PLMN that collide with nothing seeded.
fn batch(n: u32) -> (String, Vec<Iccid>) {
    let mut csv = String::from("iccid,imsi,ki,opc\n");
    let mut iccids = Vec::new();
    for i in 0..n {
        let iccid = Iccid::from_payload(&format!("898600997700{i:06}")).expect("iccid");
        csv.push_str(&format!(
            "{iccid},00101770000{i:04},{:032x},{:032x}\n",
            0x1111_u128 * u128::from(i + 1),
            0x2222_u128 * u128::from(i + 1)
        ));
        iccids.push(iccid);
    }
    (csv, iccids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_esim_batch_imported_through_the_api_activates_in_the_sandbox_also_after_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = gateway::sandbox::start(config(dir.path()))
        .await
        .expect("sandbox");
    let api = Api::new(&sb);
    let (csv, iccids) = batch(3);
    let (s, v) = api
        .post(
            &format!("/v1/inventory/imports?format=csv&name=esim.csv&esim_profile_type={ESIM_PROFILE_TYPE}"),
            &[("content-type", "text/csv")],
            csv,
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let smdp = sb.smdp_sim.as_ref().expect("SM-DP+ simulator");
    for i in &iccids {
        assert!(smdp.profile(i).is_some(), "the simulator knows {i}");
    }

    let o = api.activate_esim("imp-1", &sb.info.product).await;
    assert_eq!(o["status"], "active", "{o}");
    let first: Iccid = o["iccid"].as_str().expect("iccid").parse().expect("iccid");
    assert!(iccids.contains(&first), "{o}");
    assert_eq!(
        smdp.profile(&first).map(|p| p.state),
        Some(conformance::smdp_sim::ProfileState::Released)
    );

    let Sandbox {
        gateway, smdp_sim, ..
    } = sb;
    gateway.shutdown().await;
    if let Some(s) = smdp_sim {
        s.shutdown().await;
    }

    // A fresh simulator learns the imported profiles from the store at start.
    let sb = gateway::sandbox::start(config(dir.path()))
        .await
        .expect("sandbox restart");
    let smdp = sb.smdp_sim.as_ref().expect("SM-DP+ simulator");
    let known: BTreeSet<Iccid> = smdp.profiles().into_iter().map(|p| p.iccid).collect();
    assert!(iccids.iter().all(|i| known.contains(i)), "{known:?}");
    let o = Api::new(&sb).activate_esim("imp-2", &sb.info.product).await;
    assert_eq!(o["status"], "active", "{o}");
    let second: Iccid = o["iccid"].as_str().expect("iccid").parse().expect("iccid");
    assert!(iccids.contains(&second) && second != first, "{o}");
    sb.gateway.shutdown().await;
}

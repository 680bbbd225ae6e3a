//! `serve --sandbox` in-process: the HLR simulator behind TLS from the dev CA, seeding, and
//! idempotence across restarts on the same data dir.

use adapters::http::HttpClient;
use bytes::Bytes;
use gateway::config::Config;
use std::time::Duration;

fn config(dir: &std::path::Path) -> Config {
    let mut c = Config {
        data_dir: dir.to_owned(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..Config::default()
    };
    c.sandbox.physical_sims = 120;
    c.sandbox.numbers = 500;
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_activates_over_tls_and_restarts_idempotently() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = gateway::sandbox::start(config(dir.path()))
        .await
        .expect("sandbox");
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&sb.file).expect("sandbox.json")).expect("json");
    for field in [
        "base_url",
        "ca_cert",
        "tenant",
        "plmn",
        "api_key",
        "physical_iccids",
        "product",
        "esim_profile_type",
        "es2_callback_url",
        "porting_simulator",
    ] {
        assert!(!file[field].is_null(), "sandbox.json lacks {field}: {file}");
    }
    assert_eq!(file["physical_iccids"].as_array().map(Vec::len), Some(120));
    assert!(
        file["api_key"]
            .as_str()
            .is_some_and(|k| k.starts_with("sk_sandbox_"))
    );
    let plmn = file["plmn"].as_str().expect("plmn");

    let ca = std::fs::read(file["ca_cert"].as_str().expect("ca")).expect("ca");
    let http = HttpClient::builder()
        .add_root_pem(&ca)
        .request_timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    // The porting hub simulator runs on the wall clock; its admin API needs only the CA.
    let porting = file["porting_simulator"]["admin"]
        .as_str()
        .expect("porting admin");
    assert!(porting.starts_with("https://127.0.0.1:") && porting.ends_with("/sim/"));
    let clock = http
        .get(&format!("{porting}clock"), &[])
        .await
        .expect("porting clock");
    assert_eq!(clock.status, 200);
    let clock: serde_json::Value = serde_json::from_slice(&clock.body).expect("json");
    assert_eq!(clock["mode"], "real_time");
    let base = file["base_url"].as_str().expect("base");
    let auth = format!("Bearer {}", file["api_key"].as_str().expect("key"));
    let iccid = file["physical_iccids"][0].as_str().expect("iccid");
    let body = serde_json::json!({"sim": {"type": "physical", "iccid": iccid}, "product": file["product"]});
    let r = http
        .post(
            &format!("{base}/v1/activations"),
            &[
                ("authorization", auth.clone()),
                ("idempotency-key", "sb-1".into()),
                ("content-type", "application/json".into()),
            ],
            Bytes::from(body.to_string()),
        )
        .await
        .expect("POST");
    assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
    let order: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
    assert!(order["imsi"].as_str().is_some_and(|i| i.starts_with(plmn)));
    let id = order["id"].as_str().expect("id");
    let mut status = String::new();
    for _ in 0..1_000 {
        let r = http
            .get(
                &format!("{base}/v1/activations/{id}"),
                &[("authorization", auth.clone())],
            )
            .await
            .expect("GET");
        let v: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
        status = v["status"].as_str().unwrap_or_default().to_owned();
        if status == "active" || status == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(status, "active", "activation through the TLS simulator");
    let sim = sb.hlr_sim.as_ref().expect("embedded simulator");
    assert_eq!(sim.subscribers().len(), 1);
    let before = sb
        .gateway
        .store
        .inventory_counts("sandbox")
        .await
        .expect("counts");
    // The whole sandbox: its simulators hold their state files until they stop.
    sb.shutdown().await;

    // Restart on the same data dir: same key, nothing seeded twice.
    let sb2 = gateway::sandbox::start(config(dir.path()))
        .await
        .expect("sandbox restart");
    assert_eq!(sb2.info.api_key, file["api_key"].as_str().expect("key"));
    assert_eq!(
        sb2.gateway
            .store
            .inventory_counts("sandbox")
            .await
            .expect("counts"),
        before
    );
    assert_eq!(
        sb2.info.physical_iccids.len(),
        119,
        "the activated SIM is no longer listed"
    );
    // The fresh in-memory simulator was rebuilt from the gateway's active orders.
    let subs = sb2.hlr_sim.as_ref().expect("simulator").subscribers();
    assert_eq!(subs.len(), 1, "{subs:?}");
    assert_eq!(subs[0].imsi.as_str(), order["imsi"].as_str().expect("imsi"));
    sb2.gateway.shutdown().await;
}

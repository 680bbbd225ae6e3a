//! Data-key rotation: an interrupted re-wrap leaves a mix of keys that still all open; a
//! resumed one finishes; the gateway then works on the new key (Ki, subscriber details and
//! the sandbox marker), and the CLI does the same end to end.

use gateway::config::Config;
use gateway::crypto::Keyring;
use gateway::metrics::Metrics;
use gateway::store::StoreAdmin;
use gateway::store::embedded::RedbStore;
use std::process::Command;
use std::sync::Arc;

fn config(dir: &std::path::Path) -> Config {
    let mut c = Config {
        data_dir: dir.to_owned(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..Config::default()
    };
    c.sandbox.physical_sims = 30;
    // Physical SIMs only: the sealed-value counts below are per card.
    c.sandbox.esim_profiles = 0;
    c.sandbox.numbers = 100;
    c
}

async fn activate(sb: &gateway::sandbox::Sandbox, idx: usize, key: &str) -> String {
    let ca = std::fs::read(&sb.info.ca_cert).expect("ca");
    let http = adapters::http::HttpClient::builder()
        .add_root_pem(&ca)
        .build()
        .expect("client");
    let body = serde_json::json!({
        "sim": {"type": "physical", "iccid": sb.info.physical_iccids[idx]},
        "product": sb.info.product,
        "subscriber": {"id_number": "110101199003074477"},
    });
    let r = http
        .post(
            &format!("{}/v1/activations", sb.info.base_url),
            &[
                ("authorization", format!("Bearer {}", sb.info.api_key)),
                ("idempotency-key", key.into()),
                ("content-type", "application/json".into()),
            ],
            bytes::Bytes::from(body.to_string()),
        )
        .await
        .expect("POST");
    assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
    let v: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
    let id = v["id"].as_str().expect("id").to_owned();
    for _ in 0..1_000 {
        if let Some(o) = sb
            .gateway
            .store
            .get_order("sandbox", &id)
            .await
            .expect("get")
        {
            if o.status.is_terminal() {
                assert_eq!(o.status, gateway::order::OrderStatus::Active);
                return id;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("order {id} did not finish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_is_resumable_and_the_gateway_runs_on_the_new_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = gateway::sandbox::start(config(dir.path()))
        .await
        .expect("sandbox");
    let api_key = sb.info.api_key.clone();
    activate(&sb, 0, "k1").await;
    // The whole sandbox: its simulators hold their state files until they stop.
    sb.shutdown().await;

    let key_file = dir.path().join("keys").join("data-key");
    let old = Keyring::load_or_create(&key_file).expect("keys");
    let store = RedbStore::open(dir.path(), 16, 64, Arc::new(Metrics::default())).expect("store");
    let before = store.sealed_key_usage().await.expect("usage");
    // 30 Ki + 30 OPc + the order's subscriber + its idempotency snapshot + the marker,
    // and the market tenants' cards (Ki and OPc) and their marker.
    let markets = u64::from(gateway::sandbox_markets::MARKETS)
        * 2
        * u64::from(gateway::sandbox_markets::SIMS)
        + 1;
    let all = 63 + markets;
    assert_eq!(before.get(old.current_id()), Some(&all), "{before:?}");

    let new_id = Keyring::add_key(&key_file).expect("add key");
    let keys = Keyring::load_or_create(&key_file).expect("reload");
    assert_eq!(keys.current_id(), new_id);
    // "Crash" after two chunks of ten SIMs.
    let partial = store.rewrap(&keys, 10, Some(2)).await.expect("partial");
    assert!(!partial.complete);
    assert_eq!(partial.resealed, 40, "20 SIMs x (Ki, OPc)");
    let mixed = store.sealed_key_usage().await.expect("usage");
    assert_eq!(
        (mixed.get(old.current_id()), mixed.get(&new_id)),
        (Some(&(all - 40)), Some(&40)),
        "{mixed:?}"
    );
    let done = store.rewrap(&keys, 10, None).await.expect("resume");
    assert!(done.complete);
    assert_eq!(done.resealed, all - 40);
    let after = store.sealed_key_usage().await.expect("usage");
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after.get(&new_id), Some(&all));
    assert_eq!(
        store.rewrap(&keys, 10, None).await.expect("again").resealed,
        0,
        "a second pass is a no-op"
    );
    store.close().await;

    // The gateway restarts on the new key: marker, Ki of active and of fresh SIMs all open.
    let sb = gateway::sandbox::start(config(dir.path()))
        .await
        .expect("restart");
    assert_eq!(sb.info.api_key, api_key);
    assert_eq!(
        sb.hlr_sim.as_ref().expect("sim").subscribers().len(),
        1,
        "restored with the re-sealed Ki"
    );
    activate(&sb, 1, "k2").await;
    sb.gateway.shutdown().await;

    // The same through the CLI.
    let out = Command::new(env!("CARGO_BIN_EXE_simgw"))
        .args(["keys", "rotate", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("rotate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(env!("CARGO_BIN_EXE_simgw"))
        .args(["keys", "status", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("status");
    let text = String::from_utf8_lossy(&out.stdout);
    let current = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("current data key: "))
        .expect("current line")
        .to_owned();
    assert_ne!(current, new_id);
    assert_eq!(
        text.lines().count(),
        2,
        "only the newest key is in use: {text}"
    );
    assert!(
        // The second order's subscriber and idempotency snapshot too.
        text.contains(&format!("{current}: {} sealed values", all + 2)),
        "{text}"
    );
}

//! The gateway against a real OsmoHLR (Debian's osmo-hlr): activation read back over CTRL,
//! a duplicate MSISDN compensated, and an HLR restart in the middle of an order.

mod common;

use adapters::osmo::CtrlClient;
use common::*;
use conformance::osmo_peer::OsmoHlrPeer;
use serde_json::json;
use std::time::Duration;

fn info(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        l.split_once('\t')
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| v.to_owned())
    })
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activation_provisions_osmo_hlr_and_reads_back_over_ctrl() {
    let peer = OsmoHlrPeer::start()
        .await
        .expect("osmo-hlr (apt-get install osmo-hlr)");
    let h = Harness::start_full(2, |_| {}, Some(peer.ctrl_addr())).await;
    let card = &h.cards[0];
    let (s, b) = h.post("o-1", &physical(&card.iccid)).await;
    assert_eq!(s, 202, "{b}");
    let done = h.wait_terminal(b["id"].as_str().expect("id")).await;
    assert_eq!(done["status"], "active", "{done}");
    let ctrl = CtrlClient::new(peer.ctrl_addr(), Duration::from_secs(5));
    let all = ctrl
        .get(&format!("subscriber.by-imsi-{}.info-all", card.imsi))
        .await
        .expect("info-all");
    assert_eq!(info(&all, "msisdn").as_deref(), done["msisdn"].as_str());
    assert_eq!(info(&all, "aud3g.k"), Some(hex(&card.ki)));
    assert_eq!(info(&all, "aud3g.opc"), Some(hex(&card.opc)));
    assert_eq!(
        (
            info(&all, "nam_cs").as_deref(),
            info(&all, "nam_ps").as_deref()
        ),
        (Some("1"), Some("1"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_msisdn_on_another_imsi_fails_clearly_and_is_compensated() {
    let peer = OsmoHlrPeer::start()
        .await
        .expect("osmo-hlr (apt-get install osmo-hlr)");
    let h = Harness::start_full(2, |_| {}, Some(peer.ctrl_addr())).await;
    // Someone else's subscriber already holds the number on the HLR.
    let ctrl = CtrlClient::new(peer.ctrl_addr(), Duration::from_secs(5));
    ctrl.set("subscriber.create", "001019999999999")
        .await
        .expect("create");
    ctrl.set("subscriber.by-imsi-001019999999999.msisdn", "8613800000042")
        .await
        .expect("msisdn");
    let body = json!({"sim": {"type": "physical", "iccid": h.cards[0].iccid.to_string()}, "product": PRODUCT, "msisdn": {"mode": "choose", "msisdn": "8613800000042"}});
    let (s, b) = h.post("o-dup", &body).await;
    assert_eq!(s, 202, "{b}");
    let done = h.wait_terminal(b["id"].as_str().expect("id")).await;
    assert_eq!(
        (done["status"].as_str(), done["error"]["code"].as_str()),
        (Some("failed"), Some("hlr_rejected")),
        "{done}"
    );
    // Our half-created subscriber is gone; theirs is untouched; the SIM is back in stock.
    let ours = ctrl
        .get(&format!("subscriber.by-imsi-{}.info", h.cards[0].imsi))
        .await;
    assert!(
        ours.is_err(),
        "compensation removed our subscriber: {ours:?}"
    );
    let theirs = ctrl
        .get("subscriber.by-imsi-001019999999999.info")
        .await
        .expect("theirs");
    assert_eq!(info(&theirs, "msisdn").as_deref(), Some("8613800000042"));
    assert_eq!(h.counts(TENANT).await.sims_available, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_complete_across_an_osmo_hlr_restart() {
    let mut peer = OsmoHlrPeer::start()
        .await
        .expect("osmo-hlr (apt-get install osmo-hlr)");
    let h = Harness::start_full(2, |c| c.engine.max_attempts = 50, Some(peer.ctrl_addr())).await;
    peer.stop();
    let (s, b) = h.post("o-restart", &physical(&h.cards[1].iccid)).await;
    assert_eq!(s, 202, "{b}");
    let id = b["id"].as_str().expect("id").to_owned();
    // Let at least one attempt fail while the HLR is down.
    for _ in 0..500 {
        let (_, o) = h.get_as(&h.api_key, &format!("/v1/activations/{id}")).await;
        if o["steps"]["hlr_provision"]["state"] == "retry_wait" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    peer.restart().await.expect("restart");
    let done = h.wait_terminal(&id).await;
    assert_eq!(done["status"], "active", "{done}");
    let ctrl = CtrlClient::new(peer.ctrl_addr(), Duration::from_secs(5));
    assert!(
        ctrl.get(&format!("subscriber.by-imsi-{}.info", h.cards[1].imsi))
            .await
            .is_ok()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_runs_against_a_real_osmo_hlr_in_one_command() {
    let peer = OsmoHlrPeer::start()
        .await
        .expect("osmo-hlr (apt-get install osmo-hlr)");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_simgw"))
        .args([
            "serve",
            "--sandbox",
            "--listen",
            "127.0.0.1:0",
            "--hlr",
            &peer.url(),
            "--data-dir",
        ])
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("simgw");
    let mut sb = serde_json::Value::Null;
    for _ in 0..1_000 {
        let read = std::fs::read(dir.path().join("sandbox.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
        if let Some(v) = read {
            sb = v;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        sb["hlr_simulator"].is_null(),
        "no simulator when a real HLR is given: {sb}"
    );
    let ca = std::fs::read(sb["ca_cert"].as_str().expect("ca")).expect("ca");
    let http = adapters::http::HttpClient::builder()
        .add_root_pem(&ca)
        .build()
        .expect("client");
    let base = sb["base_url"].as_str().expect("base").to_owned();
    let auth = format!("Bearer {}", sb["api_key"].as_str().expect("key"));
    let body = json!({"sim": {"type": "physical", "iccid": sb["physical_iccids"][0]}, "product": sb["product"]});
    let r = http
        .post(
            &format!("{base}/v1/activations"),
            &[
                ("authorization", auth.clone()),
                ("idempotency-key", "osmo-sb".into()),
                ("content-type", "application/json".into()),
            ],
            bytes::Bytes::from(body.to_string()),
        )
        .await
        .expect("POST");
    assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
    let order: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
    let mut status = String::new();
    for _ in 0..1_000 {
        let r = http
            .get(
                &format!(
                    "{base}/v1/activations/{}",
                    order["id"].as_str().expect("id")
                ),
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
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, "active");
    let ctrl = CtrlClient::new(peer.ctrl_addr(), Duration::from_secs(5));
    let info_text = ctrl
        .get(&format!(
            "subscriber.by-imsi-{}.info",
            order["imsi"].as_str().expect("imsi")
        ))
        .await
        .expect("on the HLR");
    assert_eq!(
        info(&info_text, "msisdn").as_deref(),
        order["msisdn"].as_str()
    );
}

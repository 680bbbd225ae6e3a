//! End to end over real sockets: gateway (HTTPS) + CAI3G HLR simulator on ephemeral ports.

mod common;

use common::*;
use conformance::hlr_sim::{Action, FaultKind, KiWire, MoKind, Operation, Rule};
use serde_json::json;
use std::collections::HashSet;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn physical_activation_reaches_active_and_provisions_the_hlr() {
    let h = Harness::start(3).await;
    let card = &h.cards[1];
    let (status, body) = h.post("k-1", &physical(&card.iccid)).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["iccid"], card.iccid.to_string());
    assert_eq!(body["imsi"], card.imsi);
    let id = body["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("act_"));
    let done = h.wait_terminal(&id).await;
    assert_eq!(done["status"], "active", "{done}");
    let msisdn = done["msisdn"].as_str().expect("msisdn");

    let subs = h.sim.subscribers();
    assert_eq!(subs.len(), 1, "exactly one subscriber on the HLR");
    let imsi = card.imsi.parse().expect("imsi");
    let hlr = h.sim.hlr(&imsi).expect("HLR subscription");
    assert_eq!(hlr.msisdn.as_str(), msisdn);
    assert_eq!(hlr.profile_id, PROFILE_ID);
    let auc = h.sim.auc(&imsi).expect("AUC entry");
    match auc.ki {
        KiWire::Clear(k) => assert_eq!(k.expose(), &card.ki, "the AUC holds the card's Ki"),
        other => panic!("expected a clear Ki, got {other:?}"),
    }
    let counts = h.counts(TENANT).await;
    assert_eq!(
        (
            counts.sims_available,
            counts.sims_reserved,
            counts.sims_active
        ),
        (2, 0, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_replay_and_key_reuse() {
    let h = Harness::start(2).await;
    let body = physical(&h.cards[0].iccid);
    let (s1, b1) = h.post("same-key", &body).await;
    assert_eq!(s1, 202, "{b1}");
    // Same logical body with other whitespace and key order: a replay, not a new order.
    let reordered = format!(
        r#"{{ "product": "{PRODUCT}",  "sim": {{"iccid": "{}", "type": "physical"}} }}"#,
        h.cards[0].iccid
    );
    let (s2, b2, headers) = h.post_as(&h.api_key, Some("same-key"), &reordered).await;
    assert_eq!(s2, 202);
    assert_eq!(b1, b2, "the stored response is replayed byte for byte");
    assert_eq!(
        headers.get("idempotent-replayed").map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    let other = physical(&h.cards[1].iccid);
    let (s3, b3) = h.post("same-key", &other).await;
    assert_eq!(s3, 422, "{b3}");
    assert_eq!(b3["code"], "idempotency_key_reused");
    let counts = h.counts(TENANT).await;
    assert_eq!(
        counts.sims_available, 1,
        "one order only; the second card is untouched"
    );
    h.wait_terminal(b1["id"].as_str().expect("id")).await;
    assert_eq!(h.sim.subscribers().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_fault_after_partial_create_is_compensated() {
    let h = Harness::start(2).await;
    // The AUC create succeeds; the HLR create is refused permanently (SERVICE NOT DEFINED).
    h.sim.push_rule(Rule::once(
        Operation::Create,
        MoKind::GsmHlr,
        Action::Fault(FaultKind::External),
    ));
    let card = &h.cards[0];
    let (s, b) = h.post("c-1", &physical(&card.iccid)).await;
    assert_eq!(s, 202, "{b}");
    let done = h.wait_terminal(b["id"].as_str().expect("id")).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(done["error"]["code"], "hlr_rejected");
    assert!(
        h.sim.subscribers().is_empty(),
        "no orphan left on the HLR: {:?}",
        h.sim.subscribers()
    );
    let counts = h.counts(TENANT).await;
    assert_eq!(
        (
            counts.sims_available,
            counts.sims_reserved,
            counts.sims_active
        ),
        (2, 0, 0),
        "SIM back in the pool"
    );
    // The returned SIM and number are really reusable.
    let (s, b) = h.post("c-2", &physical(&card.iccid)).await;
    assert_eq!(s, 202, "{b}");
    assert_eq!(
        h.wait_terminal(b["id"].as_str().expect("id")).await["status"],
        "active"
    );
    assert_eq!(h.sim.subscribers().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retryable_faults_and_dropped_responses_end_active_with_one_subscriber() {
    let h = Harness::start(3).await;
    h.sim.push_rule(Rule {
        op: Some(Operation::Create),
        kind: Some(MoKind::GsmAuc),
        action: Action::Fault(FaultKind::Busy),
        times: 2,
    });
    h.sim.push_rule(Rule::once(
        Operation::Create,
        MoKind::GsmHlr,
        Action::DropAfterApply,
    ));
    let (s, b) = h.post("r-1", &physical(&h.cards[0].iccid)).await;
    assert_eq!(s, 202, "{b}");
    let done = h.wait_terminal(b["id"].as_str().expect("id")).await;
    assert_eq!(done["status"], "active", "{done}");
    assert_eq!(h.sim.subscribers().len(), 1);
    // Sessions expiring mid-run are re-established transparently.
    h.sim.expire_sessions();
    let (s, b) = h.post("r-2", &physical(&h.cards[1].iccid)).await;
    assert_eq!(s, 202);
    assert_eq!(
        h.wait_terminal(b["id"].as_str().expect("id")).await["status"],
        "active"
    );
    assert_eq!(h.sim.subscribers().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_activations_never_share_a_sim_or_number() {
    let h = Harness::start(100).await;
    let mut tasks = Vec::new();
    for i in 0..200usize {
        let iccid = h.cards[i % 100].iccid.clone();
        let (client, base, key) = (h.client.clone(), h.base.clone(), h.api_key.clone());
        tasks.push(tokio::spawn(async move {
            let r = client
                .post(
                    &format!("{base}/v1/activations"),
                    &[
                        ("authorization", format!("Bearer {key}")),
                        ("idempotency-key", format!("conc-{i}")),
                        ("content-type", "application/json".into()),
                    ],
                    bytes::Bytes::from(physical(&iccid).to_string()),
                )
                .await
                .expect("POST");
            (
                r.status,
                serde_json::from_slice::<serde_json::Value>(&r.body).expect("json"),
            )
        }));
    }
    let mut ok = Vec::new();
    let mut refused = 0;
    for t in tasks {
        let (s, b) = t.await.expect("task");
        match s {
            202 => ok.push(b),
            409 => {
                assert_eq!(b["code"], "sim_not_available", "{b}");
                refused += 1;
            }
            other => panic!("unexpected {other}: {b}"),
        }
    }
    assert_eq!((ok.len(), refused), (100, 100));
    let iccids: HashSet<_> = ok.iter().map(|b| b["iccid"].to_string()).collect();
    let msisdns: HashSet<_> = ok.iter().map(|b| b["msisdn"].to_string()).collect();
    assert_eq!(
        (iccids.len(), msisdns.len()),
        (100, 100),
        "no SIM or number given twice"
    );
    for b in &ok {
        assert_eq!(
            h.wait_terminal(b["id"].as_str().expect("id")).await["status"],
            "active"
        );
    }
    let subs = h.sim.subscribers();
    assert_eq!(subs.len(), 100);
    let on_hlr: HashSet<_> = subs.iter().filter_map(|s| s.msisdn.clone()).collect();
    assert_eq!(on_hlr.len(), 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_are_isolated() {
    let h = Harness::start(2).await;
    let (s, b) = h.post("t-1", &physical(&h.cards[0].iccid)).await;
    assert_eq!(s, 202);
    let id = b["id"].as_str().expect("id");
    let (s, b) = h
        .get_as(&h.other_key, &format!("/v1/activations/{id}"))
        .await;
    assert_eq!((s, b["code"].as_str()), (404, Some("activation_not_found")));
    let (s, b) = h.post("t-2", &physical(&h.other_cards[0].iccid)).await;
    assert_eq!((s, b["code"].as_str()), (422, Some("unknown_iccid")), "{b}");
    let (s, b) = h
        .get_as("sk_acme_not-a-key", &format!("/v1/activations/{id}"))
        .await;
    assert_eq!((s, b["code"].as_str()), (401, Some("unauthorized")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_problem_json_and_changes_nothing() {
    let h = Harness::start(2).await;
    let iccid = h.cards[0].iccid.to_string();
    let before = (h.counts(TENANT).await, h.event_count().await);
    let big = format!(
        r#"{{"sim":{{"type":"physical","iccid":"{iccid}"}},"product":"{}"}}"#,
        "x".repeat(64 * 1024)
    );
    let cases: Vec<(Option<&str>, String, u16, &str)> = vec![
        (Some("b1"), json!({"sim": {"type": "physical", "iccid": iccid}, "product": PRODUCT, "surprise": 1}).to_string(), 400, "unknown_field"),
        (Some("b2"), json!({"sim": {"type": "physical", "iccid": "8988211000000530081"}, "product": PRODUCT}).to_string(), 400, "invalid_iccid"),
        (Some("b3"), json!({"sim": {"type": "physical", "iccid": "89882110000005300"}, "product": PRODUCT}).to_string(), 400, "invalid_iccid"),
        (Some("b4"), json!({"sim": {"type": "physical", "iccid": 8988211000000530082u64}, "product": PRODUCT}).to_string(), 400, "invalid_type"),
        (Some("b5"), json!({"sim": "physical", "product": PRODUCT}).to_string(), 400, "invalid_type"),
        (Some("b6"), "{\"sim\": ".to_owned(), 400, "malformed_json"),
        (Some("b7"), big, 413, "body_too_large"),
        (None, json!({"sim": {"type": "physical", "iccid": iccid}, "product": PRODUCT}).to_string(), 400, "idempotency_key_missing"),
        (Some("b9"), json!({"sim": {"type": "physical", "iccid": "8988211000999999991"}, "product": PRODUCT}).to_string(), 422, "unknown_iccid"),
        (Some("b10"), json!({"sim": {"type": "physical", "iccid": iccid}, "product": "gold"}).to_string(), 422, "unknown_product"),
        (Some("b11"), json!({"sim": {"type": "physical", "iccid": iccid}, "product": PRODUCT, "msisdn": {"mode": "choose", "msisdn": "+4915100000000"}}).to_string(), 422, "msisdn_not_in_pool"),
    ];
    for (idem, body, status, code) in cases {
        let (s, b, headers) = h.post_as(&h.api_key, idem, &body).await;
        assert_eq!((s, b["code"].as_str()), (status, Some(code)), "{b}");
        assert_eq!(
            headers.get("content-type").map(|v| v.as_bytes()),
            Some(&b"application/problem+json"[..])
        );
        for field in ["type", "title", "status", "detail", "code"] {
            assert!(!b[field].is_null(), "problem lacks `{field}`: {b}");
        }
        assert_eq!(b["status"], status);
    }
    let (s, b, _) = h
        .post_as("", Some("b12"), &physical(&h.cards[0].iccid).to_string())
        .await;
    assert_eq!((s, b["code"].as_str()), (401, Some("unauthorized")));
    assert_eq!(
        (h.counts(TENANT).await, h.event_count().await),
        before,
        "no state change"
    );
    assert!(h.sim.subscribers().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chosen_number_is_used_and_then_unavailable() {
    let h = Harness::start(2).await;
    let body = json!({"sim": {"type": "physical", "iccid": h.cards[0].iccid.to_string()}, "product": PRODUCT, "msisdn": {"mode": "choose", "msisdn": "+8613800000007"}});
    let (s, b) = h.post("n-1", &body).await;
    assert_eq!(s, 202, "{b}");
    assert_eq!(b["msisdn"], "8613800000007");
    let body2 = json!({"sim": {"type": "physical", "iccid": h.cards[1].iccid.to_string()}, "product": PRODUCT, "msisdn": {"mode": "choose", "msisdn": "8613800000007"}});
    let (s, b) = h.post("n-2", &body2).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (409, Some("msisdn_not_available")),
        "{b}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_endpoints() {
    let h = Harness::start(1).await;
    let r = h
        .client
        .get(&format!("{}/healthz", h.base), &[])
        .await
        .expect("healthz");
    assert_eq!(r.status, 200);
    let r = h
        .client
        .get(&format!("{}/readyz", h.base), &[])
        .await
        .expect("readyz");
    assert_eq!(r.status, 200);
    let (s, b) = h.post("o-1", &physical(&h.cards[0].iccid)).await;
    assert_eq!(s, 202);
    h.wait_terminal(b["id"].as_str().expect("id")).await;
    // The engine counts an outcome after its commit, which the API already shows: read
    // the metrics until the count arrives.
    let metrics = format!(
        "http://{}/metrics",
        h.gw().metrics_addr.expect("metrics listener")
    );
    let mut text = String::new();
    for _ in 0..500 {
        let r = h.client.get(&metrics, &[]).await.expect("metrics");
        text = String::from_utf8_lossy(&r.body).into_owned();
        if text.contains("simgw_orders_total{event=\"active\"} 1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        text.contains("simgw_orders_total{event=\"active\"} 1"),
        "{text}"
    );
    assert!(text.contains("simgw_store_commits_total"), "{text}");
    // The PostgreSQL backend's gauges are absent on the embedded store (its counters
    // stay zero).
    for absent in [
        "simgw_store_pool_connections",
        "simgw_store_sequencer_lag_seconds",
    ] {
        assert!(!text.contains(absent), "{absent} in {text}");
    }
    assert!(
        text.contains("simgw_store_pool_wait_seconds_count 0\n"),
        "{text}"
    );
    let r = h
        .client
        .get(&format!("{}/openapi.json", h.base), &[])
        .await
        .expect("openapi");
    let spec: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
    assert_eq!(spec["openapi"], "3.1.0");
    assert!(spec["paths"]["/v1/activations"]["post"].is_object());
    let r = h
        .client
        .get(&format!("{}/nope", h.base), &[])
        .await
        .expect("404");
    assert_eq!(r.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_the_database_file_in_clear() {
    let h = Harness::start(2).await;
    let id_number = "110101199003074477";
    let body = json!({
        "sim": {"type": "physical", "iccid": h.cards[0].iccid.to_string()},
        "product": PRODUCT,
        "subscriber": {"name": "张三", "id_type": "resident_id", "id_number": id_number},
    });
    let (s, b) = h.post("s-1", &body).await;
    assert_eq!(s, 202, "{b}");
    let done = h.wait_terminal(b["id"].as_str().expect("id")).await;
    assert_eq!(done["status"], "active");
    assert!(
        done.get("subscriber").is_none(),
        "subscriber details are never returned"
    );
    let db = std::fs::read(h.dir.path().join("simgw.redb")).expect("db file");
    let contains = |needle: &[u8]| db.windows(needle.len()).any(|w| w == needle);
    assert!(!contains(id_number.as_bytes()), "ID number stored in clear");
    for c in &h.cards {
        let hex_lower: String = c.ki.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!contains(&c.ki), "raw Ki bytes in the database file");
        assert!(
            !contains(hex_lower.as_bytes()) && !contains(hex_lower.to_uppercase().as_bytes()),
            "hex Ki in the database file"
        );
    }
    // The events and the order record are there (the scan looked at real data).
    assert!(contains(h.cards[0].iccid.as_str().as_bytes()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ki_goes_to_the_auc_under_the_hlr_transport_key_when_configured() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key_file = dir.path().join("hlr-tk.hex");
    std::fs::write(&key_file, "0f0e0d0c0b0a09080706050403020100").expect("key");
    let h = Harness::start_with(2, |c| {
        c.hlr.transport_key = Some(gateway::config::HlrTransportKey {
            a4ind: 2,
            adkey: 7,
            cipher: "aes128-ecb".into(),
            key_file: key_file.clone(),
        });
    })
    .await;
    let card = &h.cards[0];
    let (s, b) = h.post("tk-1", &physical(&card.iccid)).await;
    assert_eq!(s, 202, "{b}");
    assert_eq!(
        h.wait_terminal(b["id"].as_str().expect("id")).await["status"],
        "active"
    );
    let auc = h
        .sim
        .auc(&card.imsi.parse().expect("imsi"))
        .expect("AUC entry");
    let KiWire::Encrypted {
        ciphertext,
        a4ind,
        adkey,
    } = auc.ki
    else {
        panic!("Ki went in clear: {:?}", auc.ki)
    };
    assert_eq!((a4ind, adkey), (2, 7));
    assert_ne!(ciphertext.expose(), &card.ki, "not the clear Ki");
    let tk = sim_profiles::transport::Aes128Ecb::new(
        &sim_profiles::Key128::from_hex("0f0e0d0c0b0a09080706050403020100").expect("hex"),
    );
    let clear =
        sim_profiles::transport::TransportCipher::decrypt_key(&tk, &ciphertext).expect("decrypt");
    assert_eq!(
        clear.expose(),
        &card.ki,
        "the AUC can recover the card's Ki with its transport key"
    );
}

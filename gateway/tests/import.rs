//! SIM batch import: whole or nothing, keys decrypted/derived and sealed, re-import a
//! no-op, and a crash between chunks leaves no visible part of the batch.

mod common;

use common::*;
use gateway::config::TransportKeyConfig;
use gateway::import::{self, Format, ImportError, ImportJob, Imported};
use gateway::store::Store;
use serde_json::json;
use sim_profiles::batch::RejectReason;
use std::path::PathBuf;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .expect("fixture")
}

fn run(
    h: &Harness,
    format: Format,
    bytes: &[u8],
    max_chunks: Option<usize>,
) -> Result<Imported, ImportError> {
    let gw = h.gw();
    let job = ImportJob {
        tenant: TENANT,
        format,
        source: "test",
        bytes,
        esim_profile_type: None,
    };
    import::import(
        gw.store.as_ref(),
        &gw.keys,
        &gw.config,
        &job,
        |_, _| {},
        max_chunks,
    )
}

async fn activate_and_read_ki(h: &Harness, iccid: &str, key: &str) -> [u8; 16] {
    let (s, b) = h
        .post(
            key,
            &json!({"sim": {"type": "physical", "iccid": iccid}, "product": PRODUCT}),
        )
        .await;
    assert_eq!(s, 202, "{b}");
    assert_eq!(
        h.wait_terminal(b["id"].as_str().expect("id")).await["status"],
        "active"
    );
    let imsi = b["imsi"].as_str().expect("imsi").parse().expect("imsi");
    match h.sim.auc(&imsi).expect("AUC entry").ki {
        conformance::hlr_sim::KiWire::Clear(k) => *k.expose(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vendor_file_imports_whole_and_its_keys_reach_the_hlr() {
    let h = Harness::start(0).await;
    let before = h.counts(TENANT);
    let Imported::Loaded(batch) =
        run(&h, Format::VendorOut, &fixture("example.out"), None).expect("import")
    else {
        panic!("not loaded")
    };
    assert_eq!(batch.cards, 3);
    assert_eq!(batch.vendor_batch.as_deref(), Some("EXM0105A"));
    assert_eq!(h.counts(TENANT).sims_available, before.sims_available + 3);
    // Same file again: a no-op that says so.
    assert!(
        matches!(run(&h, Format::VendorOut, &fixture("example.out"), None), Ok(Imported::AlreadyImported(b)) if b.id == batch.id)
    );
    assert_eq!(h.counts(TENANT).sims_available, before.sims_available + 3);
    // The keys are sealed at rest...
    let db = std::fs::read(h.dir.path().join("simgw.redb")).expect("db");
    for ki in [
        "17DB7564FC02DB7EAAB1C92164C6F0AA",
        "17db7564fc02db7eaab1c92164c6f0aa",
    ] {
        assert!(
            !db.windows(32).any(|w| w == ki.as_bytes()),
            "Ki in clear in the database file"
        );
    }
    let raw = gateway::crypto::unhex("17db7564fc02db7eaab1c92164c6f0aa").expect("hex");
    assert!(!db.windows(16).any(|w| w == raw.as_slice()));
    // ...and the HLR gets exactly the vendor's Ki (the ICCID arrived F-padded in the file).
    let ki = activate_and_read_ki(&h, "8986990999000001013", "imp-1").await;
    assert_eq!(
        gateway::crypto::hex(&ki),
        "17db7564fc02db7eaab1c92164c6f0aa"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transport_encrypted_ki_and_op_are_decrypted_and_derived() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tk_file = dir.path().join("tk11.hex");
    // Transport key 11 and its ciphertext of TS 35.208 test set 1's K (see sim-profiles'
    // transport tests for how the vector was derived).
    std::fs::write(&tk_file, "0f0e0d0c0b0a09080706050403020100\n").expect("tk");
    let h = Harness::start_with(0, |c| {
        c.transport_keys = vec![TransportKeyConfig {
            index: 11,
            cipher: "aes128-ecb".into(),
            key_file: tk_file.clone(),
        }]
    })
    .await;
    assert!(matches!(
        run(&h, Format::VendorOut, &fixture("transport.out"), None),
        Ok(Imported::Loaded(_))
    ));
    let ki = activate_and_read_ki(&h, "8986990999000002011", "tk-1").await;
    assert_eq!(
        gateway::crypto::hex(&ki),
        "465b5ce8b199b49faa5f0a2ee238a6bc",
        "decrypted under transport key 11"
    );

    // OP given instead of OPc: OPc is derived per card (TS 35.208 set 1: OPc cd63cb71…).
    assert!(matches!(
        run(&h, Format::Csv, &fixture("op.csv"), None),
        Ok(Imported::Loaded(_))
    ));
    let iccid: sim_profiles::Iccid = "8986990999000003019".parse().expect("iccid");
    let sim = h.gw().store.get_sim(&iccid).expect("get").expect("sim");
    let opc = h
        .gw()
        .keys
        .open(
            &format!("sim/{iccid}/opc"),
            sim.opc.as_ref().expect("sealed opc"),
        )
        .expect("open");
    assert_eq!(
        gateway::crypto::hex(&opc),
        "cd63cb71954a9f4e48a5994e37a02baf"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_file_is_refused_whole_with_every_line_named() {
    let h = Harness::start(0).await;
    let before = (h.counts(TENANT), h.event_count());
    let Err(ImportError::Rejected(rejects)) = run(&h, Format::VendorOut, &fixture("bad.out"), None)
    else {
        panic!("must be refused")
    };
    let got: Vec<(usize, String)> = rejects
        .iter()
        .map(|r| (r.line, format!("{:?}", r.reason)))
        .collect();
    assert_eq!(rejects.len(), 3, "{got:?}");
    assert_eq!(
        (rejects[0].line, &rejects[0].reason),
        (6, &RejectReason::ImsiOutsidePlmn)
    );
    assert_eq!(
        (rejects[1].line, &rejects[1].reason),
        (7, &RejectReason::DuplicateIccid { first_line: 5 })
    );
    assert_eq!(rejects[2].line, 8);
    assert!(
        matches!(rejects[2].reason, RejectReason::BadKeyLength { .. }),
        "{got:?}"
    );
    assert_eq!(
        (h.counts(TENANT), h.event_count()),
        before,
        "nothing imported"
    );
    // A file whose cards already exist is refused too, line by line.
    assert!(matches!(
        run(&h, Format::VendorOut, &fixture("example.out"), None),
        Ok(Imported::Loaded(_))
    ));
    let mut copy = String::from_utf8(fixture("example.out")).expect("utf8");
    copy.push('\n');
    let Err(ImportError::Rejected(dups)) = run(&h, Format::VendorOut, copy.as_bytes(), None) else {
        panic!("duplicates must be refused")
    };
    assert_eq!(
        dups.iter().map(|r| r.line).collect::<Vec<_>>(),
        [19, 20, 21]
    );
    assert!(
        dups.iter()
            .all(|r| r.reason == RejectReason::AlreadyInInventory)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_chunks_leaves_the_batch_absent_then_it_imports_whole() {
    let h = Harness::start(0).await;
    let n = import::CHUNK + 700;
    let mut file = String::from("iccid,imsi,ki,opc\n");
    for i in 0..n {
        let iccid =
            sim_profiles::Iccid::from_payload(&format!("898699099910{i:06}")).expect("iccid");
        file.push_str(&format!(
            "{iccid},00101{:010},{:032x},{:032x}\n",
            500_000 + i,
            i * 7 + 1,
            i * 11 + 3
        ));
    }
    let before = h.counts(TENANT);
    assert!(
        run(&h, Format::Csv, file.as_bytes(), Some(1)).is_err(),
        "stopped after the first chunk"
    );
    let first: sim_profiles::Iccid =
        sim_profiles::Iccid::from_payload("898699099910000000").expect("iccid");
    assert!(
        h.gw().store.get_sim(&first).expect("get").is_some(),
        "the first chunk is on disk"
    );
    assert_eq!(h.counts(TENANT), before, "but not counted");
    let (s, b) = h.post("crash-1", &physical(&first)).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (422, Some("unknown_iccid")),
        "and not usable: {b}"
    );
    // Restart recovery removes the unfinished batch...
    assert_eq!(h.gw().store.recover_imports().expect("recover"), 1);
    assert!(h.gw().store.get_sim(&first).expect("get").is_none());
    // ...and the file then imports whole.
    let Imported::Loaded(b) = run(&h, Format::Csv, file.as_bytes(), None).expect("import") else {
        panic!("not loaded")
    };
    assert_eq!(b.cards, n as u64);
    assert_eq!(
        h.counts(TENANT).sims_available,
        before.sims_available + n as u64
    );
    let (s, b) = h.post("crash-2", &physical(&first)).await;
    assert_eq!(s, 202, "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_over_the_api_import_lookup_export_quarantine_and_metrics() {
    let h = Harness::start(1).await;
    let auth = ("authorization", format!("Bearer {}", h.api_key));
    let upload = |file: &'static str| {
        let (client, base, auth) = (h.client.clone(), h.base.clone(), auth.clone());
        async move {
            let r = client
                .post(
                    &format!("{base}/v1/inventory/imports?format=vendor-out&name={file}"),
                    &[auth],
                    bytes::Bytes::from(fixture(file)),
                )
                .await
                .expect("POST");
            (
                r.status,
                serde_json::from_slice::<serde_json::Value>(&r.body).expect("json"),
                r.headers,
            )
        }
    };
    let (s, b, _) = upload("bad.out").await;
    assert_eq!(
        (s, b["code"].as_str()),
        (422, Some("batch_rejected")),
        "{b}"
    );
    let lines: Vec<u64> = b["rejects"]
        .as_array()
        .expect("rejects")
        .iter()
        .map(|r| r["line"].as_u64().expect("line"))
        .collect();
    assert_eq!(lines, [6, 7, 8]);
    let (s, batch, _) = upload("example.out").await;
    assert_eq!(
        (s, batch["status"].as_str(), batch["cards"].as_u64()),
        (201, Some("complete"), Some(3)),
        "{batch}"
    );
    let (s, again, headers) = upload("example.out").await;
    assert_eq!((s, &again["id"]), (200, &batch["id"]));
    assert_eq!(
        headers.get("idempotent-replayed").map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );

    let id = batch["id"].as_str().expect("id");
    let (s, b) = h
        .get_as(&h.api_key, &format!("/v1/inventory/batches/{id}"))
        .await;
    assert_eq!((s, b["vendor_batch"].as_str()), (200, Some("EXM0105A")));
    let (s, _) = h
        .get_as(&h.other_key, &format!("/v1/inventory/batches/{id}"))
        .await;
    assert_eq!(s, 404, "other tenants cannot see the batch");
    let csv = h
        .client
        .get(
            &format!("{}/v1/inventory/batches/{id}/sims.csv", h.base),
            std::slice::from_ref(&auth),
        )
        .await
        .expect("csv");
    let csv = String::from_utf8(csv.body.to_vec()).expect("utf8");
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(
        csv.contains("8986990999000001013,001010000000101,available,"),
        "{csv}"
    );
    assert!(
        !csv.to_ascii_uppercase().contains("17DB7564"),
        "no keys in the export"
    );

    let (s, sim) = h.get_as(&h.api_key, "/v1/sims/8986990999000001021").await;
    assert_eq!(
        (s, sim["imsi"].as_str(), sim["state"].as_str()),
        (200, Some("001010000000102"), Some("available"))
    );
    assert!(
        !sim.to_string().to_ascii_uppercase().contains("97A397BA"),
        "no keys in lookups: {sim}"
    );
    let (s, by_imsi) = h.get_as(&h.api_key, "/v1/sims?imsi=001010000000103").await;
    assert_eq!(
        (s, by_imsi["iccid"].as_str()),
        (200, Some("8986990999000001039"))
    );
    let (s, _) = h.get_as(&h.other_key, "/v1/sims/8986990999000001021").await;
    assert_eq!(s, 404);

    // Quarantine: an assigned number is released into quarantine, listed, then released early.
    let (s, order) = h.post("q-1", &physical(&h.cards[0].iccid)).await;
    assert_eq!(s, 202);
    let done = h.wait_terminal(order["id"].as_str().expect("id")).await;
    let msisdn: sim_profiles::Msisdn = done["msisdn"]
        .as_str()
        .expect("msisdn")
        .parse()
        .expect("msisdn");
    assert!(
        h.gw()
            .store
            .quarantine_number(TENANT, &msisdn, 0)
            .await
            .expect("quarantine")
    );
    let (s, q) = h.get_as(&h.api_key, "/v1/numbers/quarantine").await;
    assert_eq!(
        (s, q["data"][0]["msisdn"].as_str()),
        (200, Some(msisdn.as_str())),
        "{q}"
    );
    let release = |key: String| {
        let (client, base, m) = (h.client.clone(), h.base.clone(), msisdn.to_string());
        async move {
            client
                .post(
                    &format!("{base}/v1/numbers/{m}/release"),
                    &[("authorization", format!("Bearer {key}"))],
                    bytes::Bytes::new(),
                )
                .await
                .expect("POST")
                .status
        }
    };
    assert_eq!(
        release(h.other_key.clone()).await,
        409,
        "other tenants cannot release it"
    );
    assert_eq!(release(h.api_key.clone()).await, 200);
    assert_eq!(
        release(h.api_key.clone()).await,
        409,
        "no longer in quarantine"
    );

    // Metrics: per-tenant gauges, and the low-stock flag once a threshold is set.
    let mut t = h
        .gw()
        .store
        .tenant(TENANT)
        .expect("tenant")
        .expect("tenant");
    t.low_stock_threshold = Some(1_000_000);
    gateway::admin::apply(
        h.gw().store.as_ref(),
        gateway::store::AdminChange::PutTenant(t),
    )
    .await
    .expect("put");
    let m = h
        .client
        .get(
            &format!(
                "http://{}/metrics",
                h.gw().metrics_addr.expect("metrics listener")
            ),
            &[],
        )
        .await
        .expect("metrics");
    let m = String::from_utf8(m.body.to_vec()).expect("utf8");
    assert!(
        m.contains(&format!(
            "simgw_inventory{{tenant=\"{TENANT}\",kind=\"sims_available\"}} 3"
        )),
        "{m}"
    );
    for pool in ["sims", "b1"] {
        let line = format!("simgw_inventory_low_stock{{tenant=\"{TENANT}\",pool=\"{pool}\"}} 1");
        assert!(m.contains(&line), "{line} missing in\n{m}");
    }
    // Counts per pool and per batch.
    let (_, inv) = h.get_as(&h.api_key, "/v1/inventory").await;
    assert_eq!(inv["batches"][id]["sims_available"], 3, "{inv}");
    assert!(
        inv["pools"]["b1"]["numbers_available"]
            .as_u64()
            .is_some_and(|n| n > 900),
        "{inv}"
    );
}

//! SIM batch import: whole or nothing, keys decrypted/derived and sealed, re-import a
//! no-op, and a crash between chunks leaves no visible part of the batch.

mod common;

use common::*;
use gateway::config::TransportKeyConfig;
use gateway::import::{self, Format, ImportError, ImportJob, Imported};
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

async fn run(
    h: &Harness,
    format: Format,
    bytes: &[u8],
    max_chunks: Option<usize>,
) -> Result<Imported, ImportError> {
    run_as(h, TENANT, format, bytes, max_chunks).await
}

async fn run_as(
    h: &Harness,
    tenant: &str,
    format: Format,
    bytes: &[u8],
    max_chunks: Option<usize>,
) -> Result<Imported, ImportError> {
    let gw = h.gw();
    let job = ImportJob {
        tenant,
        format,
        source: "test",
        bytes,
        esim_profile_type: None,
        iccid_length: None,
    };
    import::import(
        gw.store.as_ref(),
        &gw.keys,
        &gw.config,
        &job,
        |_, _| {},
        max_chunks,
    )
    .await
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
    let before = h.counts(TENANT).await;
    let Imported::Loaded(batch) = run(&h, Format::VendorOut, &fixture("example.out"), None)
        .await
        .expect("import")
    else {
        panic!("not loaded")
    };
    assert_eq!(batch.cards, 3);
    assert_eq!(batch.vendor_batch.as_deref(), Some("EXM0105A"));
    assert_eq!(
        h.counts(TENANT).await.sims_available,
        before.sims_available + 3
    );
    // Same file again: a no-op that says so.
    assert!(
        matches!(run(&h, Format::VendorOut, &fixture("example.out"), None).await, Ok(Imported::AlreadyImported(b)) if b.id == batch.id)
    );
    assert_eq!(
        h.counts(TENANT).await.sims_available,
        before.sims_available + 3
    );
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
        run(&h, Format::VendorOut, &fixture("transport.out"), None).await,
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
        run(&h, Format::Csv, &fixture("op.csv"), None).await,
        Ok(Imported::Loaded(_))
    ));
    let iccid: sim_profiles::Iccid = "8986990999000003019".parse().expect("iccid");
    let sim = h
        .gw()
        .store
        .get_sim(&iccid)
        .await
        .expect("get")
        .expect("sim");
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
    let before = (h.counts(TENANT).await, h.event_count().await);
    let Err(ImportError::Rejected(rejects)) =
        run(&h, Format::VendorOut, &fixture("bad.out"), None).await
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
        (h.counts(TENANT).await, h.event_count().await),
        before,
        "nothing imported"
    );
    // A file whose cards already exist is refused too, line by line.
    assert!(matches!(
        run(&h, Format::VendorOut, &fixture("example.out"), None).await,
        Ok(Imported::Loaded(_))
    ));
    let mut copy = String::from_utf8(fixture("example.out")).expect("utf8");
    copy.push('\n');
    let Err(ImportError::Rejected(dups)) = run(&h, Format::VendorOut, copy.as_bytes(), None).await
    else {
        panic!("duplicates must be refused")
    };
    assert_eq!(
        dups.iter().map(|r| r.line).collect::<Vec<_>>(),
        [19, 20, 21]
    );
    assert!(
        dups.iter()
            .all(|r| r.reason == RejectReason::IccidInInventory)
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
    let before = h.counts(TENANT).await;
    assert!(
        run(&h, Format::Csv, file.as_bytes(), Some(1))
            .await
            .is_err(),
        "stopped after the first chunk"
    );
    let first: sim_profiles::Iccid =
        sim_profiles::Iccid::from_payload("898699099910000000").expect("iccid");
    assert!(
        h.gw().store.get_sim(&first).await.expect("get").is_some(),
        "the first chunk is on disk"
    );
    assert_eq!(h.counts(TENANT).await, before, "but not counted");
    let (s, b) = h.post("crash-1", &physical(&first)).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (422, Some("unknown_iccid")),
        "and not usable: {b}"
    );
    // Restart recovery removes the unfinished batch...
    assert_eq!(h.gw().store.recover_imports().await.expect("recover"), 1);
    assert!(h.gw().store.get_sim(&first).await.expect("get").is_none());
    // ...and the file then imports whole.
    let Imported::Loaded(b) = run(&h, Format::Csv, file.as_bytes(), None)
        .await
        .expect("import")
    else {
        panic!("not loaded")
    };
    assert_eq!(b.cards, n as u64);
    assert_eq!(
        h.counts(TENANT).await.sims_available,
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
        .await
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

/// POSTs a batch file as `key`; returns status, JSON body and headers.
async fn upload(
    h: &Harness,
    key: &str,
    query: &str,
    file: Vec<u8>,
) -> (u16, serde_json::Value, http::HeaderMap) {
    let r = h
        .client
        .post(
            &format!("{}/v1/inventory/imports?{query}", h.base),
            &[("authorization", format!("Bearer {key}"))],
            bytes::Bytes::from(file),
        )
        .await
        .expect("POST");
    (
        r.status,
        serde_json::from_slice(&r.body).expect("json"),
        r.headers,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_file_for_another_tenant_is_a_clash_never_a_replay() {
    // Both tenants share PLMN 00101, so only the clash can refuse the second upload.
    let h = Harness::start(0).await;
    let (s, first, _) = upload(
        &h,
        &h.api_key,
        "format=vendor-out&name=acme-secret-name.out",
        fixture("example.out"),
    )
    .await;
    assert_eq!(s, 201, "{first}");
    let first_id = first["id"].as_str().expect("id").to_owned();
    let other_before = h.counts(OTHER_TENANT).await;

    for attempt in 0..2 {
        let (s, b, headers) = upload(
            &h,
            &h.other_key,
            "format=vendor-out&name=globex.out",
            fixture("example.out"),
        )
        .await;
        assert_eq!(
            (s, b["code"].as_str()),
            (422, Some("batch_rejected")),
            "attempt {attempt}: {b}"
        );
        assert!(headers.get("idempotent-replayed").is_none());
        let rejects: Vec<(u64, &str)> = b["rejects"]
            .as_array()
            .expect("rejects")
            .iter()
            .map(|r| {
                (
                    r["line"].as_u64().expect("line"),
                    r["reason"].as_str().expect("reason"),
                )
            })
            .collect();
        assert_eq!(
            rejects,
            [19, 20, 21].map(|l| (l, "ICCID is already in inventory")),
            "{b}"
        );
        // Nothing of the first tenant's batch: not its id, name, size or tenant.
        let text = b.to_string();
        for leak in [
            first_id.as_str(),
            "acme-secret-name",
            TENANT,
            "started_at",
            "cards",
        ] {
            assert!(!text.contains(leak), "`{leak}` leaked: {text}");
        }
    }
    assert_eq!(
        h.counts(OTHER_TENANT).await,
        other_before,
        "nothing imported"
    );

    // The first tenant still gets its own batch back, replayed.
    let (s, again, headers) = upload(
        &h,
        &h.api_key,
        "format=vendor-out&name=x.out",
        fixture("example.out"),
    )
    .await;
    assert_eq!((s, again["id"].as_str()), (200, Some(first_id.as_str())));
    assert_eq!(
        headers.get("idempotent-replayed").map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );

    // A file whose IMSIs (not ICCIDs) are another tenant's names those too.
    let mut imsis_only = String::from("iccid,imsi,ki\n");
    for i in 1..=3 {
        let iccid =
            sim_profiles::Iccid::from_payload(&format!("89869909990009{i:04}")).expect("iccid");
        imsis_only.push_str(&format!("{iccid},00101000000010{i},{:032x}\n", i));
    }
    let Err(ImportError::Rejected(r)) =
        run_as(&h, OTHER_TENANT, Format::Csv, imsis_only.as_bytes(), None).await
    else {
        panic!("IMSI clash must be refused")
    };
    assert!(
        r.iter().all(|r| r.reason == RejectReason::ImsiInInventory),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_recorded_under_a_file_only_id_still_replays_for_its_tenant() {
    let h = Harness::start(0).await;
    let file = fixture("example.out");
    let sha = gateway::crypto::hex(&gateway::crypto::sha256(&file));
    let legacy = gateway::store::BatchRecord {
        id: format!("bat_{}", &sha[..24]),
        tenant: TENANT.into(),
        file_sha256: sha.clone(),
        source: "old".into(),
        format: "vendor-out".into(),
        vendor_batch: None,
        transport_key_index: None,
        cards: 0,
        status: gateway::store::BatchStatus::Importing,
        started_at_ms: 0,
        esim_profile_type: None,
    };
    let store = &h.gw().store;
    store.import_begin(&legacy).await.expect("begin");
    store.import_finish(&legacy.id, 0, 1).await.expect("finish");
    assert!(
        matches!(run(&h, Format::VendorOut, &file, None).await, Ok(Imported::AlreadyImported(b)) if b.id == legacy.id)
    );
    // Another tenant's upload of that file is not answered with it.
    assert!(matches!(
        run_as(&h, OTHER_TENANT, Format::VendorOut, &file, None).await,
        Ok(Imported::Loaded(b)) if b.id != legacy.id && b.tenant == OTHER_TENANT
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aborting_a_complete_batch_leaves_its_cards_in_stock() {
    let h = Harness::start(0).await;
    let Imported::Loaded(b) = run(&h, Format::VendorOut, &fixture("example.out"), None)
        .await
        .expect("import")
    else {
        panic!("not loaded")
    };
    h.gw().store.import_abort(&b.id).await.expect("abort");
    let iccid: sim_profiles::Iccid = "8986990999000001013".parse().expect("iccid");
    assert!(h.gw().store.get_sim(&iccid).await.expect("get").is_some());
    assert!(h.gw().store.batch(&b.id).await.expect("batch").is_some());
}

/// A 1,000-card file of complete 19-digit ICCIDs; returns the text, the line of data row
/// 501 (the file's own line number, header lines included) and row 501's ICCID as written.
fn thousand_cards(format: Format, corrupt_row_501: bool) -> (String, usize, String) {
    let (mut text, header_lines) = match format {
        Format::VendorOut => (
            "*HEADER DESCRIPTION\nQuantity : 1000\n*OUTPUT VARIABLES\nvar_Out: ICCID/IMSI/KI/OPC\n"
                .to_owned(),
            4,
        ),
        Format::Csv => ("iccid,imsi,ki,opc\n".to_owned(), 1),
    };
    let sep = if format == Format::Csv { "," } else { " " };
    let mut row_501 = String::new();
    for row in 1..=1_000u32 {
        let mut iccid = sim_profiles::Iccid::from_payload(&format!("898699077{row:09}"))
            .expect("iccid")
            .to_string();
        if row == 501 {
            if corrupt_row_501 {
                let (body, check) = iccid.split_at(18);
                let wrong = (check.parse::<u8>().expect("digit") + 3) % 10;
                iccid = format!("{body}{wrong}");
            }
            row_501 = iccid.clone();
        }
        text.push_str(&format!(
            "{iccid}{sep}001017{row:09}{sep}{:032x}{sep}{:032x}\n",
            row * 7 + 1,
            row * 11 + 3
        ));
    }
    (text, header_lines + 501, row_501)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_check_digit_on_row_501_of_1000_refuses_the_whole_file() {
    let h = Harness::start(0).await;
    for format in [Format::VendorOut, Format::Csv] {
        let before = (h.counts(TENANT).await, h.event_count().await);
        let (text, line, typo) = thousand_cards(format, true);
        let Err(ImportError::Rejected(rejects)) = run(&h, format, text.as_bytes(), None).await
        else {
            panic!("{format:?}: a typo must refuse the file")
        };
        assert_eq!(
            rejects
                .iter()
                .map(|r| (r.line, r.reason.clone()))
                .collect::<Vec<_>>(),
            [(line, RejectReason::BadLuhn)],
            "{format:?}"
        );
        assert_eq!(
            rejects[0].to_string(),
            format!("line {line}: ICCID check digit (Luhn) is wrong")
        );
        assert_eq!(
            (h.counts(TENANT).await, h.event_count().await),
            before,
            "nothing imported"
        );
        let store = &h.gw().store;
        let row_500: sim_profiles::Iccid =
            sim_profiles::Iccid::from_payload("898699077000000500").expect("iccid");
        assert!(
            store.get_sim(&row_500).await.expect("get").is_none(),
            "rolled back"
        );
        // The old importer stored the typo's 19 digits plus a new Luhn digit.
        let invented = sim_profiles::Iccid::from_payload(&typo).expect("payload");
        assert!(store.get_sim(&invented).await.expect("get").is_none());
    }
    // The corrected file imports whole, every ICCID exactly as written.
    let (text, _, row_501) = thousand_cards(Format::Csv, false);
    let Imported::Loaded(b) = run(&h, Format::Csv, text.as_bytes(), None)
        .await
        .expect("import")
    else {
        panic!("not loaded")
    };
    assert_eq!(b.cards, 1_000);
    let iccid: sim_profiles::Iccid = row_501.parse().expect("iccid");
    assert!(h.gw().store.get_sim(&iccid).await.expect("get").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_issuer_length_comes_as_iccid_length_over_the_api() {
    let h = Harness::start(0).await;
    // 19-digit payloads of 20-digit ICCIDs (no check digits in the file).
    let mut file = String::from("iccid,imsi,ki\n");
    for i in 0..3u32 {
        file.push_str(&format!(
            "8986990880000000{i:03},001016{i:09},{:032x}\n",
            i + 1
        ));
    }
    let (s, b, _) = upload(&h, &h.api_key, "format=csv", file.clone().into_bytes()).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (422, Some("batch_rejected")),
        "{b}"
    );
    assert!(
        b["rejects"]
            .as_array()
            .expect("rejects")
            .iter()
            .any(|r| r["reason"] == "ICCID check digit (Luhn) is wrong"),
        "{b}"
    );
    for bad in ["18", "21", "x", ""] {
        let (s, b, _) = upload(
            &h,
            &h.api_key,
            &format!("format=csv&iccid_length={bad}"),
            file.clone().into_bytes(),
        )
        .await;
        assert_eq!(
            (s, b["code"].as_str(), b["field"].as_str()),
            (400, Some("invalid_value"), Some("iccid_length")),
            "{bad}: {b}"
        );
    }
    let (s, b, _) = upload(
        &h,
        &h.api_key,
        "format=csv&iccid_length=20",
        file.into_bytes(),
    )
    .await;
    assert_eq!((s, b["cards"].as_u64()), (201, Some(3)), "{b}");
    let (s, sim) = h.get_as(&h.api_key, "/v1/sims?imsi=001016000000000").await;
    let want = sim_profiles::Iccid::from_payload("8986990880000000000").expect("iccid");
    assert_eq!(
        (s, sim["iccid"].as_str()),
        (200, Some(want.as_str())),
        "completed to 20 digits"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_returns_every_reject_with_its_code_and_the_count_per_reason() {
    let h = Harness::start(0).await;
    let mut file = String::from("iccid,imsi,ki\n");
    for row in 1..=1_000u32 {
        let iccid =
            sim_profiles::Iccid::from_payload(&format!("898699044{row:09}")).expect("iccid");
        file.push_str(&format!("{iccid},46011{row:010},{:032x}\n", row));
    }
    let r = h
        .client
        .post(
            &format!("{}/v1/inventory/imports?format=csv", h.base),
            &[("authorization", format!("Bearer {}", h.api_key))],
            bytes::Bytes::from(file),
        )
        .await
        .expect("POST");
    assert_eq!(r.status, 422);
    assert_eq!(
        r.headers.get("content-type").map(|v| v.as_bytes()),
        Some(&b"application/problem+json"[..])
    );
    // Complete, and about its own size: under 100 bytes per rejected line.
    assert!(r.body.len() < 100 * 1_000, "{} bytes", r.body.len());
    let b: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
    assert_eq!(
        (b["code"].as_str(), b["status"].as_u64()),
        (Some("batch_rejected"), Some(422))
    );
    assert_eq!(
        b["reject_counts"],
        json!({"imsi_outside_plmn": 1000}),
        "{}",
        b["detail"]
    );
    let rejects = b["rejects"].as_array().expect("rejects");
    assert_eq!(rejects.len(), 1_000);
    for (i, r) in rejects.iter().enumerate() {
        assert_eq!(
            r,
            &json!({"line": i + 2, "code": "imsi_outside_plmn", "reason": "IMSI is outside the tenant PLMN"})
        );
    }
}

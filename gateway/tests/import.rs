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
    };
    import::import(&gw.store, &gw.keys, &gw.config, &job, |_, _| {}, max_chunks)
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

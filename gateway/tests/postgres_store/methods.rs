//! The administrative, read and import methods.

use super::*;

#[tokio::test]
async fn tenants_keys_and_meta_round_trip_and_a_refused_batch_changes_nothing() {
    let pg = server();
    let s = store(&pg, "admin").await;
    assert_eq!(
        admin(&s, AdminChange::PutTenant(tenant("acme"))).await,
        AdminOutcome::Applied
    );
    assert_eq!(s.tenant("acme").await.expect("read"), Some(tenant("acme")));
    assert_eq!(s.tenant("nobody").await.expect("read"), None);
    let record = gateway::store::ApiKeyRecord {
        tenant: "ghost".into(),
        prefix: "sk_ghost".into(),
        label: "l".into(),
        created_at_ms: 1,
        role: gateway::store::Role::Channel,
    };
    assert_eq!(
        admin(
            &s,
            AdminChange::PutApiKey {
                hash: [7; 32],
                record: record.clone()
            }
        )
        .await,
        AdminOutcome::Refused("tenant `ghost` does not exist".into())
    );
    let key = gateway::store::ApiKeyRecord {
        tenant: "acme".into(),
        ..record
    };
    admin(
        &s,
        AdminChange::PutApiKey {
            hash: [7; 32],
            record: key.clone(),
        },
    )
    .await;
    assert_eq!(s.api_key(&[7; 32]).await.expect("read"), Some(key));
    assert_eq!(s.api_key(&[8; 32]).await.expect("read"), None);
    admin(
        &s,
        AdminChange::PutMeta {
            key: "sandbox.v1".into(),
            value: vec![0, 1, 255],
        },
    )
    .await;
    assert_eq!(
        s.meta("sandbox.v1").await.expect("meta"),
        Some(vec![0, 1, 255])
    );
    // All or nothing: the tenant and the meta value of a refused batch are not kept.
    let refused = admin(
        &s,
        AdminChange::Batch(vec![
            AdminChange::PutTenant(tenant("globex")),
            AdminChange::PutMeta {
                key: "m2".into(),
                value: vec![1],
            },
            AdminChange::AddSims(vec![sim(1, "nobody", "b")]),
        ]),
    )
    .await;
    assert_eq!(
        refused,
        AdminOutcome::Refused("tenant `nobody` does not exist".into())
    );
    assert_eq!(s.tenant("globex").await.expect("read"), None);
    assert_eq!(s.meta("m2").await.expect("read"), None);
    assert_eq!(s.tenant_ids().await.expect("ids"), vec!["acme".to_owned()]);
}

#[tokio::test]
async fn inventory_loads_are_counted_and_the_database_refuses_duplicates() {
    let pg = server();
    let s = store(&pg, "inventory").await;
    admin(&s, AdminChange::PutTenant(tenant("acme"))).await;
    let sims: Vec<SimRecord> = (0..5).map(|i| sim(i, "acme", "b1")).collect();
    assert_eq!(
        admin(&s, AdminChange::AddSims(sims.clone())).await,
        AdminOutcome::Applied
    );
    assert_eq!(
        s.get_sim(&sims[2].iccid).await.expect("read").as_ref(),
        Some(&sims[2])
    );
    assert_eq!(
        s.sim_by_imsi(&sims[3].imsi).await.expect("read").as_ref(),
        Some(&sims[3])
    );
    let again = admin(
        &s,
        AdminChange::AddSims(vec![sim(9, "acme", "b1"), sim(2, "acme", "b1")]),
    )
    .await;
    assert_eq!(
        again,
        AdminOutcome::Refused(format!("ICCID {} is already in inventory", sims[2].iccid))
    );
    assert_eq!(
        s.get_sim(&sim(9, "acme", "b1").iccid).await.expect("read"),
        None,
        "nothing of the refused load"
    );
    // Even a write that skips the checks cannot put a second SIM on one IMSI.
    let mut clash = sim(20, "acme", "b1");
    clash.imsi = sims[0].imsi.clone();
    let e = s
        .transaction(&clash, |tx, sim| {
            Box::pin(async move {
                gateway::store::postgres::sims::insert_sim(tx, sim, true, None).await?;
                Ok(())
            })
        })
        .await
        .expect_err("unique imsi");
    assert!(e.to_string().contains("23505"), "{e}");

    let add = |first: &str, count| AdminChange::AddNumbers {
        tenant: "acme".into(),
        block: "pool-a".into(),
        first: first.parse().expect("msisdn"),
        count,
    };
    let mut golden = tenant("acme");
    golden.golden_rules = vec![gateway::numbers::GoldenRule::Tail("000".into())];
    admin(&s, AdminChange::PutTenant(golden)).await;
    assert_eq!(
        admin(&s, add("4670000000", 12_000)).await,
        AdminOutcome::Applied
    );
    assert_eq!(
        admin(&s, add("4670011000", 5)).await,
        AdminOutcome::Refused("number 4670011000 is already in a pool".into())
    );
    let counts = s.inventory_counts("acme").await.expect("counts");
    assert_eq!(counts.sims_available, 5);
    assert_eq!(counts.numbers_golden, 12);
    assert_eq!(counts.numbers_available, 12_000 - 12);
    let b = s.inventory_breakdown("acme").await.expect("breakdown");
    assert_eq!(b.pools["pool-a"]["numbers_available"], 11_988);
    assert_eq!(b.batches["b1"]["sims_available"], 5);
    assert_eq!(
        s.inventory_counts("other").await.expect("c").sims_available,
        0
    );
}

#[tokio::test]
async fn an_import_stays_invisible_until_finished_and_its_clashes_name_the_first_line() {
    let pg = server();
    let s = store(&pg, "import").await;
    admin(&s, AdminChange::PutTenant(tenant("acme"))).await;
    admin(&s, AdminChange::AddSims(vec![sim(100, "acme", "old")])).await;
    let batch = BatchRecord {
        id: "bat_1".into(),
        tenant: "acme".into(),
        file_sha256: "ab".repeat(32),
        source: "cards.out".into(),
        format: "vendor-out".into(),
        vendor_batch: None,
        transport_key_index: None,
        cards: 0,
        status: BatchStatus::Importing,
        started_at_ms: 1,
        esim_profile_type: None,
    };
    assert_eq!(
        s.import_begin(&batch).await.expect("begin"),
        ImportStart::Started
    );
    let mut dup_imsi = sim(3, "acme", "bat_1");
    dup_imsi.imsi = sim(1, "acme", "bat_1").imsi;
    let chunk = vec![
        (sim(1, "acme", "bat_1"), 10),
        (sim(2, "acme", "bat_1"), 11),
        (sim(1, "acme", "bat_1"), 12),
        (sim(100, "acme", "bat_1"), 13),
        (dup_imsi, 14),
    ];
    let clashes = s.import_chunk("bat_1", &chunk).await.expect("chunk");
    assert_eq!(
        clashes,
        vec![
            (2, Clash::DuplicateIccid { first_line: 10 }),
            (3, Clash::IccidInInventory),
            (4, Clash::DuplicateImsi { first_line: 10 }),
        ]
    );
    // A later chunk finds the earlier one's lines too.
    let clashes = s
        .import_chunk(
            "bat_1",
            &[(sim(2, "acme", "bat_1"), 20), (sim(4, "acme", "bat_1"), 21)],
        )
        .await
        .expect("chunk 2");
    assert_eq!(clashes, vec![(0, Clash::DuplicateIccid { first_line: 11 })]);
    assert_eq!(
        s.inventory_counts("acme").await.expect("c").sims_available,
        1
    );
    let done = s.import_finish("bat_1", 3, 5).await.expect("finish");
    assert_eq!(done.status, BatchStatus::Complete);
    assert_eq!(s.batch("bat_1").await.expect("read"), Some(done.clone()));
    assert_eq!(
        s.inventory_counts("acme").await.expect("c").sims_available,
        4
    );
    assert_eq!(
        s.import_begin(&batch).await.expect("again"),
        ImportStart::AlreadyComplete(done)
    );
    let page1 = s.batch_sims("bat_1", "", 2).await.expect("page");
    let page2 = s
        .batch_sims("bat_1", page1[1].iccid.as_str(), 2)
        .await
        .expect("page");
    let listed: Vec<Iccid> = page1
        .iter()
        .chain(&page2)
        .map(|s| s.iccid.clone())
        .collect();
    let expected: Vec<Iccid> = [1, 2, 4]
        .iter()
        .map(|i| sim(*i, "acme", "").iccid)
        .collect();
    assert_eq!(listed, expected);
    // An aborted import and one a crash left behind leave nothing.
    let mut b2 = batch.clone();
    b2.id = "bat_2".into();
    s.import_begin(&b2).await.expect("begin");
    s.import_chunk("bat_2", &[(sim(7, "acme", "bat_2"), 1)])
        .await
        .expect("chunk");
    s.import_abort("bat_2").await.expect("abort");
    assert_eq!(s.get_sim(&sim(7, "acme", "").iccid).await.expect("r"), None);
    assert_eq!(s.batch("bat_2").await.expect("r"), None);
    s.import_begin(&b2).await.expect("begin");
    s.import_chunk("bat_2", &[(sim(8, "acme", "bat_2"), 1)])
        .await
        .expect("chunk");
    assert_eq!(s.recover_imports().await.expect("recover"), 1);
    assert_eq!(s.get_sim(&sim(8, "acme", "").iccid).await.expect("r"), None);
    assert_eq!(s.recover_imports().await.expect("recover"), 0);
    // Aborting a complete batch leaves its stock alone.
    s.import_abort("bat_1").await.expect("abort complete");
    assert!(
        s.get_sim(&sim(1, "acme", "").iccid)
            .await
            .expect("r")
            .is_some()
    );
}

#[tokio::test]
async fn a_resolved_key_is_answered_from_memory_and_a_put_here_replaces_it() {
    let pg = server();
    let s = store(&pg, "keys").await;
    admin(&s, AdminChange::PutTenant(tenant("acme"))).await;
    let key = gateway::store::ApiKeyRecord {
        tenant: "acme".into(),
        prefix: "sk_acme".into(),
        label: "l".into(),
        created_at_ms: 1,
        role: gateway::store::Role::Channel,
    };
    let put = |record: gateway::store::ApiKeyRecord| AdminChange::PutApiKey {
        hash: [9; 32],
        record,
    };
    // An unknown key is not remembered as unknown: once put, it resolves.
    assert_eq!(s.api_key(&[9; 32]).await.expect("read"), None);
    admin(&s, put(key.clone())).await;
    assert_eq!(s.api_key(&[9; 32]).await.expect("read"), Some(key.clone()));
    // Resolved once, it is answered without the database (its row gone behind its back).
    s.client()
        .await
        .expect("client")
        .execute("DELETE FROM api_keys", &[])
        .await
        .expect("delete");
    assert_eq!(s.api_key(&[9; 32]).await.expect("read"), Some(key.clone()));
    // A put on this node is seen at once.
    let operator = gateway::store::ApiKeyRecord {
        role: gateway::store::Role::Operator,
        ..key
    };
    admin(&s, put(operator.clone())).await;
    assert_eq!(s.api_key(&[9; 32]).await.expect("read"), Some(operator));
}

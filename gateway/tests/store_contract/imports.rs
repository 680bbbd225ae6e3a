//! Staged batch imports: begin, chunks with their clashes, finish, abort and recovery;
//! batch listings and the per-pool and per-batch breakdown.

use crate::fixture::*;
use gateway::order::{Effect, OrderStatus};
use gateway::store::{
    BatchRecord, BatchStatus, Clash, CreateOutcome, ImportStart, Rejection, SimRecord, StoreAdmin,
};
use std::collections::BTreeMap;

fn batch(n: u32) -> BatchRecord {
    BatchRecord {
        id: format!("bat_{n:024}"),
        tenant: T.into(),
        file_sha256: format!("{n:064}"),
        source: format!("vendor-{n}.out"),
        format: "vendor-out".into(),
        vendor_batch: Some(format!("V{n}")),
        transport_key_index: Some(3),
        cards: 0,
        status: BatchStatus::Importing,
        started_at_ms: NOW,
        esim_profile_type: None,
    }
}

/// Card `i` in batch `b`, read from file line `line`.
fn row(b: &BatchRecord, i: u32, line: usize) -> (SimRecord, usize) {
    (sim_in(&b.tenant, &b.id, i), line)
}

async fn begin(s: &dyn StoreAdmin, b: &BatchRecord) {
    assert_eq!(
        s.import_begin(b).await.expect("begin"),
        ImportStart::Started
    );
}

pub async fn a_batch_becomes_stock_only_when_finished(s: &dyn StoreAdmin) {
    seed(s, T, 0..1, 5).await;
    let b = batch(1);
    assert_eq!(s.batch(&b.id).await.expect("batch"), None);
    begin(s, &b).await;
    assert_eq!(s.batch(&b.id).await.expect("batch"), Some(b.clone()));
    let rows: Vec<_> = (10..13).map(|i| row(&b, i, i as usize - 8)).collect();
    assert!(
        s.import_chunk(&b.id, &rows)
            .await
            .expect("chunk")
            .is_empty()
    );
    assert_eq!(counts(s, T).await.sims_available, 1, "not stock yet");
    let done = s.import_finish(&b.id, 3, NOW + 500).await.expect("finish");
    let want = BatchRecord {
        cards: 3,
        status: BatchStatus::Complete,
        ..b.clone()
    };
    assert_eq!(done, want);
    assert_eq!(s.batch(&b.id).await.expect("batch"), Some(want.clone()));
    assert_eq!(counts(s, T).await.sims_available, 4);
    assert_eq!(
        s.get_sim(&iccid(11)).await.expect("sim"),
        Some(rows[1].0.clone())
    );
    assert_eq!(
        s.sim_by_imsi(&rows[2].0.imsi).await.expect("imsi"),
        Some(rows[2].0.clone())
    );
    // The same file again: nothing to do.
    let mut again = b.clone();
    again.started_at_ms = NOW + 9_000;
    assert_eq!(
        s.import_begin(&again).await.expect("begin"),
        ImportStart::AlreadyComplete(want)
    );
    assert_eq!(counts(s, T).await.sims_available, 4);
    // Its cards activate.
    let o = created(s, activation("k", 12)).await;
    assert_eq!(o.iccid, iccid(12));
}

pub async fn chunk_clashes_name_their_position_and_first_line(s: &dyn StoreAdmin) {
    seed(s, T, 0..2, 1).await;
    let b = batch(2);
    begin(s, &b).await;
    let first = vec![row(&b, 10, 2), row(&b, 11, 3)];
    assert!(
        s.import_chunk(&b.id, &first)
            .await
            .expect("chunk")
            .is_empty()
    );
    let mut imsi_of_loaded = sim_in(T, &b.id, 20);
    imsi_of_loaded.imsi = sim(T, 1).imsi;
    let mut imsi_of_line_3 = sim_in(T, &b.id, 21);
    imsi_of_line_3.imsi = first[1].0.imsi.clone();
    let second = vec![
        row(&b, 12, 4),      // new
        row(&b, 0, 5),       // loaded before, by another batch
        row(&b, 10, 6),      // line 2 of this file
        (imsi_of_loaded, 7), // a loaded card's IMSI
        (imsi_of_line_3, 8), // line 3's IMSI
        row(&b, 13, 9),      // new
        row(&b, 13, 10),     // line 9, in this same chunk
    ];
    let clashes = s.import_chunk(&b.id, &second).await.expect("chunk");
    assert_eq!(
        clashes,
        vec![
            (1, Clash::IccidInInventory),
            (2, Clash::DuplicateIccid { first_line: 2 }),
            (3, Clash::ImsiInInventory),
            (4, Clash::DuplicateImsi { first_line: 3 }),
            (6, Clash::DuplicateIccid { first_line: 9 }),
        ]
    );
    // The rows that did not clash were written; the loaded card is untouched.
    s.import_finish(&b.id, 4, NOW).await.expect("finish");
    let members: Vec<_> = s
        .batch_sims(&b.id, "", 100)
        .await
        .expect("members")
        .into_iter()
        .map(|c| c.iccid)
        .collect();
    assert_eq!(members, vec![iccid(10), iccid(11), iccid(12), iccid(13)]);
    assert_eq!(stored_card(s, &iccid(0)).await, Some(unsealed(&sim(T, 0))));
    assert_eq!(s.get_sim(&iccid(20)).await.expect("sim"), None);
    assert_eq!(counts(s, T).await.sims_available, 6);
}

pub async fn abort_removes_what_the_batch_wrote(s: &dyn StoreAdmin) {
    seed(s, T, 0..1, 1).await;
    let b = batch(3);
    begin(s, &b).await;
    let rows: Vec<_> = (10..13).map(|i| row(&b, i, i as usize)).collect();
    s.import_chunk(&b.id, &rows).await.expect("chunk");
    s.import_abort(&b.id).await.expect("abort");
    assert_eq!(s.batch(&b.id).await.expect("batch"), None);
    for (card, _) in &rows {
        assert_eq!(s.get_sim(&card.iccid).await.expect("sim"), None);
        assert_eq!(s.sim_by_imsi(&card.imsi).await.expect("imsi"), None);
    }
    assert!(
        s.batch_sims(&b.id, "", 10)
            .await
            .expect("members")
            .is_empty()
    );
    // The cards are free to come in with another file.
    let b2 = batch(4);
    begin(s, &b2).await;
    let rows2: Vec<_> = (10..13).map(|i| row(&b2, i, i as usize)).collect();
    assert!(
        s.import_chunk(&b2.id, &rows2)
            .await
            .expect("chunk")
            .is_empty()
    );
    s.import_finish(&b2.id, 3, NOW).await.expect("finish");
    // Aborting a complete batch (an import that lost a race to the same file) leaves it.
    s.import_abort(&b2.id).await.expect("abort");
    assert_eq!(
        s.batch(&b2.id).await.expect("batch").map(|b| b.status),
        Some(BatchStatus::Complete)
    );
    assert_eq!(
        s.batch_sims(&b2.id, "", 10).await.expect("members").len(),
        3
    );
    assert_eq!(counts(s, T).await.sims_available, 4);
}

pub async fn recover_imports_removes_unfinished_batches(s: &dyn StoreAdmin) {
    seed(s, T, 0..0, 1).await;
    let (b1, b2, b3) = (batch(5), batch(6), batch(7));
    for (b, i) in [(&b1, 10), (&b2, 20), (&b3, 30)] {
        begin(s, b).await;
        s.import_chunk(&b.id, &[row(b, i, 2), row(b, i + 1, 3)])
            .await
            .expect("chunk");
    }
    s.import_finish(&b2.id, 2, NOW).await.expect("finish");
    assert_eq!(s.recover_imports().await.expect("recover"), 2);
    assert_eq!(s.recover_imports().await.expect("recover"), 0);
    assert_eq!(s.batch(&b1.id).await.expect("batch"), None);
    assert_eq!(s.batch(&b3.id).await.expect("batch"), None);
    assert_eq!(s.get_sim(&iccid(10)).await.expect("sim"), None);
    assert_eq!(s.get_sim(&iccid(31)).await.expect("sim"), None);
    assert!(s.get_sim(&iccid(21)).await.expect("sim").is_some());
    assert_eq!(counts(s, T).await.sims_available, 2);
}

pub async fn beginning_again_restarts_an_unfinished_batch(s: &dyn StoreAdmin) {
    seed(s, T, 0..0, 1).await;
    let b = batch(8);
    begin(s, &b).await;
    s.import_chunk(&b.id, &[row(&b, 10, 2), row(&b, 11, 3)])
        .await
        .expect("chunk");
    // A crashed import retried: what the first attempt wrote is gone.
    let mut retry = b.clone();
    retry.started_at_ms = NOW + 1;
    begin(s, &retry).await;
    assert_eq!(s.batch(&b.id).await.expect("batch"), Some(retry.clone()));
    assert!(
        s.batch_sims(&b.id, "", 10)
            .await
            .expect("members")
            .is_empty()
    );
    assert_eq!(s.get_sim(&iccid(10)).await.expect("sim"), None);
    // The same rows go in again without clashing with themselves.
    assert!(
        s.import_chunk(&b.id, &[row(&b, 10, 2), row(&b, 11, 3)])
            .await
            .expect("chunk")
            .is_empty()
    );
}

pub async fn batch_sims_pages_in_iccid_order(s: &dyn StoreAdmin) {
    seed(s, T, 0..3, 3).await;
    let b = batch(9);
    begin(s, &b).await;
    // Written out of order, in two chunks.
    s.import_chunk(&b.id, &[row(&b, 14, 2), row(&b, 11, 3), row(&b, 13, 4)])
        .await
        .expect("chunk");
    s.import_chunk(&b.id, &[row(&b, 10, 5), row(&b, 12, 6)])
        .await
        .expect("chunk");
    s.import_finish(&b.id, 5, NOW).await.expect("finish");
    let id: &str = &b.id;
    let page = |after: String, limit| async move {
        s.batch_sims(id, &after, limit)
            .await
            .expect("page")
            .into_iter()
            .map(|c| c.iccid)
            .collect::<Vec<_>>()
    };
    assert_eq!(page(String::new(), 2).await, vec![iccid(10), iccid(11)]);
    assert_eq!(
        page(iccid(11).to_string(), 2).await,
        vec![iccid(12), iccid(13)]
    );
    assert_eq!(page(iccid(13).to_string(), 2).await, vec![iccid(14)]);
    assert!(page(iccid(14).to_string(), 2).await.is_empty());
    // A card's state shows in the listing.
    let o = created(s, activation("k", 12)).await;
    crate::fixture::advance(s, &o, OrderStatus::Active, Effect::Activate).await;
    let listed = s
        .batch_sims(&b.id, &iccid(11).to_string(), 1)
        .await
        .expect("page");
    assert_eq!(
        listed.first().map(|c| c.state.label()),
        Some(("active", Some("act_k")))
    );
    assert!(
        s.batch_sims("bat_none", "", 10)
            .await
            .expect("page")
            .is_empty()
    );
}

pub async fn an_esim_batch_enters_stock_when_finished(s: &dyn StoreAdmin) {
    seed(s, T, 0..0, 3).await;
    let mut b = batch(10);
    b.esim_profile_type = Some(ESIM_TYPE.into());
    begin(s, &b).await;
    let mut profile = sim_in(T, &b.id, 40);
    profile.esim_profile_type = Some(ESIM_TYPE.into());
    s.import_chunk(&b.id, &[(profile, 2)]).await.expect("chunk");
    assert!(matches!(
        s.create_activation(esim_activation("e1"))
            .await
            .expect("create"),
        CreateOutcome::Rejected(Rejection::EsimStockOut { .. })
    ));
    s.import_finish(&b.id, 1, NOW).await.expect("finish");
    let mut retry = esim_activation("e1");
    retry.order_id = "act_e1b".into();
    let o = created(s, retry).await;
    assert_eq!(o.iccid, iccid(40));
}

pub async fn inventory_breakdown_counts_per_pool_and_batch(s: &dyn StoreAdmin) {
    seed(s, T, 0..3, 4).await;
    seed(s, OTHER, 10..11, 2).await;
    apply(
        s,
        gateway::store::AdminChange::AddNumbers {
            tenant: T.into(),
            block: "n2".into(),
            first: number(T, 100),
            count: 2,
        },
    )
    .await;
    let b = batch(11);
    begin(s, &b).await;
    s.import_chunk(&b.id, &[row(&b, 20, 2), row(&b, 21, 3)])
        .await
        .expect("chunk");
    s.import_finish(&b.id, 2, NOW).await.expect("finish");
    let a = active_line(s, "a", 0).await;
    created(s, activation("r", 20)).await;
    s.quarantine_number(T, &a.msisdn, NOW)
        .await
        .expect("quarantine");
    let mut hold = activation("x", 1);
    hold.number = gateway::store::NumberChoice::Choose(number(T, 101));
    created(s, hold).await;
    let got = s.inventory_breakdown(T).await.expect("breakdown");
    let counters = |pairs: &[(&str, u64)]| -> BTreeMap<String, u64> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    };
    // Counters that never moved may be absent or zero: compare what is not zero.
    let nonzero = |m: &BTreeMap<String, BTreeMap<String, u64>>| {
        m.iter()
            .map(|(k, v)| {
                let v: BTreeMap<String, u64> = v
                    .iter()
                    .filter(|(_, n)| **n > 0)
                    .map(|(a, b)| (a.clone(), *b))
                    .collect();
                (k.clone(), v)
            })
            .filter(|(_, v)| !v.is_empty())
            .collect::<BTreeMap<_, _>>()
    };
    let pools = BTreeMap::from([
        (
            "n1".to_owned(),
            counters(&[("numbers_available", 2), ("numbers_quarantined", 1)]),
        ),
        ("n2".to_owned(), counters(&[("numbers_available", 1)])),
    ]);
    let batches = BTreeMap::from([
        (
            "b1".to_owned(),
            counters(&[
                ("sims_available", 1),
                ("sims_active", 1),
                ("sims_reserved", 1),
            ]),
        ),
        (
            b.id.clone(),
            counters(&[("sims_available", 1), ("sims_reserved", 1)]),
        ),
    ]);
    assert_eq!(nonzero(&got.pools), pools, "{got:?}");
    assert_eq!(nonzero(&got.batches), batches, "{got:?}");
    let theirs = s.inventory_breakdown(OTHER).await.expect("breakdown");
    assert_eq!(
        nonzero(&theirs.batches),
        BTreeMap::from([("b1".to_owned(), counters(&[("sims_available", 1)]))])
    );
}

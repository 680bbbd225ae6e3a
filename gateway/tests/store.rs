//! Store semantics that the API tests cannot pin down deterministically: idempotency-record
//! expiry and pruning, refusal of conflicting inventory loads, and a batch of webhook
//! attempt outcomes in which one delivery row is damaged.

use gateway::admin::{self, NewSim};
use gateway::crypto::Keyring;
use gateway::metrics::Metrics;
use gateway::store::embedded::RedbStore;
use gateway::store::{
    AdminChange, AdminOutcome, CreateOutcome, NewActivation, NumberChoice, Product, SimChoice,
    Store, Tenant,
};
use sim_profiles::{Iccid, Key128};
use std::collections::BTreeMap;
use std::sync::Arc;

const DAY_MS: u64 = 24 * 3600 * 1000;

fn sim(i: u32, keys: &Keyring) -> gateway::store::SimRecord {
    let s = NewSim {
        iccid: Iccid::from_payload(&format!("8988211000{i:09}")).expect("iccid"),
        imsi: format!("00101{i:010}").parse().expect("imsi"),
        ki: Key128::from_bytes([i as u8; 16]),
        opc: None,
    };
    admin::seal_sim(keys, "t", "b", &s).expect("seal")
}

async fn store_with_sims(dir: &std::path::Path, keys: &Keyring, n: u32) -> RedbStore {
    let store = RedbStore::open(dir, 16, 64, Arc::new(Metrics::default())).expect("store");
    let mut tenant = Tenant::new(
        "t",
        "t",
        "00101".parse().expect("plmn"),
        BTreeMap::from([("p".to_owned(), Product::new(1))]),
    );
    tenant.golden_rules.clear();
    admin::apply(
        &store,
        AdminChange::Batch(vec![
            AdminChange::PutTenant(tenant),
            AdminChange::AddSims((0..n).map(|i| sim(i, keys)).collect()),
            AdminChange::AddNumbers {
                tenant: "t".into(),
                block: "b".into(),
                first: "8613800000000".parse().expect("m"),
                count: 10,
            },
        ]),
    )
    .await
    .expect("seed");
    store
}

fn new(key: &str, hash: &str, iccid: u32, now_ms: u64, order: &str) -> NewActivation {
    NewActivation {
        tenant: "t".into(),
        idempotency_key: key.into(),
        body_hash: hash.into(),
        order_id: order.into(),
        sim: SimChoice::Physical(
            Iccid::from_payload(&format!("8988211000{iccid:09}")).expect("iccid"),
        ),
        number: NumberChoice::Auto,
        product: "p".into(),
        channel: None,
        subscriber: None,
        now_ms,
        random: 0,
        idempotency_cutoff_ms: now_ms.saturating_sub(DAY_MS),
        compliance: None,
        port: None,
        send_ahead: None,
    }
}

#[tokio::test]
async fn idempotency_records_expire_after_their_ttl() {
    let dir = tempfile::tempdir().expect("tempdir");
    let keys = Keyring::ephemeral().expect("keys");
    let store = store_with_sims(dir.path(), &keys, 3).await;
    let t0 = 10 * DAY_MS;
    assert!(matches!(
        store
            .create_activation(new("k", "h1", 0, t0, "act_a"))
            .await
            .expect("create"),
        CreateOutcome::Created(_)
    ));
    // Within 24 h: same body replays, other body is refused.
    let replay = store
        .create_activation(new("k", "h1", 0, t0 + DAY_MS - 1, "act_b"))
        .await
        .expect("replay");
    assert!(
        matches!(&replay, CreateOutcome::Replayed(o) if o.id == "act_a"),
        "{replay:?}"
    );
    let reused = store
        .create_activation(new("k", "h2", 1, t0 + DAY_MS - 1, "act_c"))
        .await
        .expect("reuse");
    assert!(matches!(reused, CreateOutcome::KeyReused), "{reused:?}");
    // After 24 h the key is free again.
    let later = store
        .create_activation(new("k", "h2", 1, t0 + DAY_MS + 1, "act_d"))
        .await
        .expect("later");
    assert!(
        matches!(&later, CreateOutcome::Created(o) if o.id == "act_d"),
        "{later:?}"
    );
    // Pruning removes only records older than the cutoff.
    assert_eq!(
        store.prune_idempotency(t0 + 1).await.expect("prune"),
        0,
        "the first record was replaced"
    );
    assert_eq!(
        store
            .prune_idempotency(t0 + 2 * DAY_MS + 2)
            .await
            .expect("prune"),
        1
    );
    let fresh = store
        .create_activation(new("k", "h3", 2, t0 + DAY_MS + 2, "act_e"))
        .await
        .expect("after prune");
    assert!(matches!(fresh, CreateOutcome::Created(_)), "{fresh:?}");
}

#[tokio::test]
async fn inventory_loads_are_all_or_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let keys = Keyring::ephemeral().expect("keys");
    let store = store_with_sims(dir.path(), &keys, 2).await;
    let before = store.inventory_counts("t").await.expect("counts");
    // One new SIM plus one already present: nothing of the batch is applied.
    let outcome = store
        .admin(AdminChange::AddSims(vec![sim(5, &keys), sim(1, &keys)]))
        .await
        .expect("admin");
    assert!(
        matches!(&outcome, AdminOutcome::Refused(why) if why.contains("already in inventory")),
        "{outcome:?}"
    );
    assert_eq!(store.inventory_counts("t").await.expect("counts"), before);
    assert!(
        store
            .get_sim(&Iccid::from_payload("898821100000000005").expect("iccid"))
            .await
            .expect("get")
            .is_none()
    );
    // A batch naming an unknown tenant changes nothing either.
    let mut stray = sim(7, &keys);
    stray.tenant = "nobody".into();
    assert!(matches!(
        store
            .admin(AdminChange::AddSims(vec![stray]))
            .await
            .expect("admin"),
        AdminOutcome::Refused(_)
    ));
    assert_eq!(store.inventory_counts("t").await.expect("counts"), before);
}

/// Outcomes recorded together are one writer command; when it fails (here: one delivery
/// row that no longer decodes), each outcome is recorded alone, so only the bad row's
/// outcome fails and the others are recorded, in their order.
#[tokio::test]
async fn one_bad_delivery_row_fails_only_its_own_outcome_in_a_batch() {
    use gateway::store::{
        AttemptOutcome, AttemptRecord, DeliveryKey, DeliveryStatus, EventType, OutboxStore,
        StoreAdmin, StoreError, WebhookEndpoint,
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let keys = Keyring::ephemeral().expect("keys");
    let store = store_with_sims(dir.path(), &keys, 0).await;
    let endpoint = WebhookEndpoint {
        id: "we_a".into(),
        tenant: "t".into(),
        url: "https://hooks.example/a".into(),
        event_types: Vec::new(),
        secrets: Vec::new(),
        disabled: None,
        created_at_ms: 1_000,
    };
    assert!(
        store
            .create_webhook_endpoint(endpoint)
            .await
            .expect("endpoint")
    );
    for subject in ["s1", "s2", "s3"] {
        store
            .publish_for_test(
                1_000,
                "t",
                EventType::OrderCreated,
                Some(subject),
                serde_json::json!({}),
            )
            .await
            .expect("publish");
    }
    store.close().await;
    drop(store);
    {
        let db = redb::Database::create(dir.path().join("simgw.redb")).expect("redb");
        let txn = db.begin_write().expect("txn");
        let rows: redb::TableDefinition<(&str, u64), &[u8]> =
            redb::TableDefinition::new("webhook_deliveries");
        txn.open_table(rows)
            .expect("deliveries")
            .insert(("we_a", 2), b"not a delivery".as_slice())
            .expect("corrupt");
        txn.commit().expect("commit");
    }
    let store = RedbStore::open(dir.path(), 16, 64, Arc::new(Metrics::default())).expect("reopen");
    let key = |seq| DeliveryKey {
        endpoint: "we_a".into(),
        event_seq: seq,
    };
    let outcome = |seq| AttemptOutcome {
        key: key(seq),
        record: AttemptRecord {
            at_ms: 2_000,
            http_status: Some(204),
            latency_ms: 3,
            error: None,
            response: None,
        },
        delivered: true,
        retry_at_ms: None,
        now_ms: 2_000,
    };
    let answers = store
        .record_delivery_attempts(vec![outcome(1), outcome(2), outcome(3)])
        .await;
    assert!(
        matches!(
            answers[..],
            [Ok(true), Err(StoreError::Corrupt { .. }), Ok(true)]
        ),
        "{answers:?}"
    );
    for seq in [1, 3] {
        let job = store
            .delivery_job(&key(seq))
            .await
            .expect("read")
            .expect("job");
        assert_eq!(
            job.delivery.status,
            DeliveryStatus::Delivered,
            "delivery {seq}"
        );
    }
    // The bad row's delivery is left as it was: still due.
    assert_eq!(
        store.due_deliveries(3_000, 10).await.expect("due"),
        vec![key(2)]
    );
}

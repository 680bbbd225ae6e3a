//! The PostgreSQL store backend against a real PostgreSQL started for each test from the
//! Debian packages (`common/postgres.rs`): migrations, refusal of a newer schema, the
//! serialization-failure retry, the event sequencer, the administrative, read and import
//! methods, and `simgw db migrate`. Without PostgreSQL installed every test fails saying
//! to `apt-get install postgresql`.

mod common;

use common::postgres::PgServer;
use gateway::config::{DbUrl, StoreBackend, StoreConfig};
use gateway::crypto::Sealed;
use gateway::store::postgres::migrate::{MigrateError, SCHEMA_VERSION};
use gateway::store::postgres::retry::{RetryPolicy, Tx, TxResult};
use gateway::store::postgres::{OpenError, PgStore, events, sequencer};
use gateway::store::{
    AdminChange, AdminOutcome, BatchRecord, BatchStatus, Clash, EventKind, EventType, ImportStart,
    Product, SimRecord, SimState, StoreError, Tenant,
};
use serde_json::json;
use sim_profiles::Iccid;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use tokio::sync::Notify;

fn server() -> PgServer {
    PgServer::start().unwrap_or_else(|e| panic!("{e}"))
}

fn config(url: &str) -> StoreConfig {
    StoreConfig {
        backend: StoreBackend::Postgres,
        url: Some(DbUrl::new(url)),
        pool_size: 8,
        ..StoreConfig::default()
    }
}

async fn store(pg: &PgServer, db: &str) -> PgStore {
    let url = pg.create_db(db).await.expect("create database");
    PgStore::connect(&config(&url)).await.expect("connect")
}

fn tenant(id: &str) -> Tenant {
    let mut t = Tenant::new(
        id,
        id,
        "00101".parse().expect("plmn"),
        BTreeMap::from([("p".to_owned(), Product::new(1))]),
    );
    t.golden_rules.clear();
    t
}

fn sim(i: u32, tenant: &str, batch: &str) -> SimRecord {
    SimRecord {
        iccid: Iccid::from_payload(&format!("8988211000{i:09}")).expect("iccid"),
        imsi: format!("00101{i:010}").parse().expect("imsi"),
        tenant: tenant.into(),
        state: SimState::Available,
        ki: Sealed {
            kid: "k1".into(),
            nonce: format!("{i:024x}"),
            ct: "00".repeat(32),
        },
        opc: None,
        batch: batch.into(),
        esim_profile_type: None,
    }
}

async fn admin(s: &PgStore, c: AdminChange) -> AdminOutcome {
    s.admin(c).await.expect("admin")
}

#[tokio::test]
async fn migrations_apply_once_and_again_change_nothing() {
    let pg = server();
    let url = pg.create_db("m").await.expect("db");
    let first = PgStore::connect_unmigrated(&config(&url))
        .await
        .expect("connect");
    assert_eq!(first.schema_version().await.expect("version"), 0);
    assert_eq!(first.migrate().await.expect("migrate"), (0, SCHEMA_VERSION));
    assert_eq!(
        first.migrate().await.expect("again"),
        (SCHEMA_VERSION, SCHEMA_VERSION)
    );
    // A second node starting on the migrated database applies nothing either.
    let second = PgStore::connect(&config(&url)).await.expect("connect");
    assert_eq!(second.schema_version().await.expect("v"), SCHEMA_VERSION);
    let c = second.client().await.expect("client");
    let n: i64 = c
        .query_one("SELECT COUNT(*) FROM schema_migrations", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(n, i64::from(SCHEMA_VERSION));
}

#[tokio::test]
async fn a_schema_newer_than_the_binary_is_refused() {
    let pg = server();
    let url = pg.create_db("newer").await.expect("db");
    let s = PgStore::connect(&config(&url)).await.expect("connect");
    s.client()
        .await
        .expect("client")
        .execute(
            "INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES ($1, 'future', 0)",
            &[&(SCHEMA_VERSION + 1)],
        )
        .await
        .expect("insert");
    let e = PgStore::connect(&config(&url))
        .await
        .err()
        .expect("refused");
    let OpenError::Migrate(m) = &e else {
        panic!("{e}");
    };
    assert_eq!(
        *m,
        MigrateError::Newer {
            found: SCHEMA_VERSION + 1,
            known: SCHEMA_VERSION
        }
    );
    assert!(e.to_string().contains("newer than this simgw"), "{e}");
}

#[tokio::test]
async fn connection_errors_never_show_the_password() {
    let pg = server();
    let url = pg.url("absent").replace("simgw@", "simgw:s3cret-pw@");
    let e = PgStore::connect(&config(&url))
        .await
        .err()
        .expect("no such database");
    assert!(matches!(e, OpenError::Connect(_)), "{e}");
    assert!(!e.to_string().contains("s3cret-pw"), "{e}");
}

/// What the two conflicting transactions share: the signals that interleave them, and how
/// often the first one's body ran.
struct Race {
    first_read: Notify,
    second_committed: Notify,
    first_attempts: AtomicU32,
}

async fn read_counter(tx: &Tx<'_>) -> TxResult<i64> {
    Ok(tx
        .row("SELECT value FROM settings WHERE name = 'race'", &[])
        .await?
        .map_or(0, |r| r.get(0)))
}

#[tokio::test]
async fn a_serialization_failure_is_retried_and_both_effects_are_kept() {
    let pg = server();
    let s = store(&pg, "race").await.with_retry_policy(RetryPolicy {
        max_attempts: 5,
        ..RetryPolicy::default()
    });
    s.client()
        .await
        .expect("client")
        .execute("INSERT INTO settings (name, value) VALUES ('race', 0)", &[])
        .await
        .expect("seed");
    let race = Race {
        first_read: Notify::new(),
        second_committed: Notify::new(),
        first_attempts: AtomicU32::new(0),
    };
    // The first transaction reads the row, lets the second one update it and commit, and
    // only then writes: at SERIALIZABLE its write fails with SQLSTATE 40001, and the runner
    // runs it again on the new value.
    let first = s.transaction(&race, |tx, race| {
        Box::pin(async move {
            let attempt = race.first_attempts.fetch_add(1, Ordering::SeqCst) + 1;
            let v = read_counter(tx).await?;
            if attempt == 1 {
                race.first_read.notify_one();
                race.second_committed.notified().await;
            }
            tx.exec(
                "UPDATE settings SET value = $1 WHERE name = 'race'",
                &[&(v + 1)],
            )
            .await?;
            Ok(v)
        })
    });
    let second = async {
        race.first_read.notified().await;
        let v = s
            .transaction(&(), |tx, _| {
                Box::pin(async move {
                    let v = read_counter(tx).await?;
                    tx.exec(
                        "UPDATE settings SET value = $1 WHERE name = 'race'",
                        &[&(v + 1)],
                    )
                    .await?;
                    Ok(v)
                })
            })
            .await;
        race.second_committed.notify_one();
        v
    };
    let (first, second) = tokio::join!(first, second);
    assert_eq!(second.expect("second commits"), 0);
    assert_eq!(
        first.expect("first commits on retry"),
        1,
        "it saw the second's write"
    );
    assert_eq!(race.first_attempts.load(Ordering::SeqCst), 2);
    assert_eq!(s.retry_stats().retried.load(Ordering::SeqCst), 1);
    let c = s.client().await.expect("client");
    let v: i64 = c
        .query_one("SELECT value FROM settings WHERE name = 'race'", &[])
        .await
        .expect("row")
        .get(0);
    assert_eq!(v, 2, "both increments are kept");
}

#[tokio::test]
async fn a_transaction_that_keeps_conflicting_gives_up_with_an_error() {
    let pg = server();
    let s = store(&pg, "giveup").await.with_retry_policy(RetryPolicy {
        max_attempts: 2,
        ..RetryPolicy::default()
    });
    // A body that fails as a serialization failure would, every time.
    let e = s
        .transaction(&(), |tx, _| {
            Box::pin(async move {
                tx.exec(
                    "DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$",
                    &[],
                )
                .await?;
                Ok(())
            })
        })
        .await
        .expect_err("gives up");
    assert!(e.to_string().contains("gave up after 2 attempts"), "{e}");
    assert_eq!(s.retry_stats().retried.load(Ordering::SeqCst), 1);
    assert_eq!(s.retry_stats().gave_up.load(Ordering::SeqCst), 1);
}

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
async fn the_sequencer_numbers_events_gap_free_per_tenant_under_its_lease() {
    let pg = server();
    let s = store(&pg, "seq").await;
    let publish = |tenant: &'static str, subject: &'static str, n: u32| {
        let s = &s;
        async move {
            s.transaction(&(tenant, subject, n), |tx, (tenant, subject, n)| {
                Box::pin(async move {
                    for i in 0..*n {
                        events::publish(
                            tx,
                            1_000,
                            tenant,
                            EventType::OrderCreated,
                            Some(*subject),
                            json!({"i": i}),
                        )
                        .await?;
                    }
                    events::log_event(tx, 1_000, tenant, None, EventKind::OrderCreated).await?;
                    Ok(())
                })
            })
            .await
            .expect("publish")
        }
    };
    // One webhook endpoint of acme takes every type.
    let endpoint = gateway::store::WebhookEndpoint {
        id: "we_1".into(),
        tenant: "acme".into(),
        url: "https://example.com/h".into(),
        event_types: vec![],
        secrets: vec![],
        disabled: None,
        created_at_ms: 1,
    };
    s.client()
        .await
        .expect("client")
        .execute(
            "INSERT INTO webhook_endpoints (id, tenant, doc) VALUES ('we_1', 'acme', $1)",
            &[&serde_json::to_value(&endpoint).expect("json")],
        )
        .await
        .expect("endpoint");
    publish("acme", "line-1", 2).await;
    publish("globex", "line-9", 1).await;
    publish("acme", "line-2", 1).await;
    assert!(
        s.public_events("acme", 0, None, 10)
            .await
            .expect("read")
            .is_empty(),
        "unnumbered events are not visible"
    );
    // Another node cannot number while this one holds the lease.
    let url = pg.url("seq");
    let other = PgStore::connect(&config(&url))
        .await
        .expect("connect")
        .with_node_id("node-other");
    s.flush_events().await.expect("flush");
    publish("acme", "line-1", 1).await;
    assert_eq!(other.sequence_events().await.expect("pass"), None);
    s.flush_events().await.expect("flush");

    let acme = s.public_events("acme", 0, None, 10).await.expect("read");
    let seqs: Vec<u64> = acme.iter().map(|e| e.tenant_seq).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4]);
    assert_eq!(acme[0].id, "evt_0000000000000001");
    assert_eq!(
        acme[1].data,
        json!({"i": 1}),
        "a transaction's events keep their order"
    );
    let globex = s.public_events("globex", 0, None, 10).await.expect("read");
    assert_eq!(
        globex.iter().map(|e| e.tenant_seq).collect::<Vec<_>>(),
        vec![1]
    );
    let mut globals: Vec<u64> = acme.iter().chain(&globex).map(|e| e.seq).collect();
    globals.sort();
    assert_eq!(globals, vec![1, 2, 3, 4, 5]);
    assert_eq!(
        s.public_event("acme", 3)
            .await
            .expect("read")
            .map(|e| e.subject),
        Some(Some("line-2".into()))
    );
    assert!(
        s.public_events("acme", 0, Some(EventType::OrderActive), 10)
            .await
            .expect("read")
            .is_empty()
    );
    let audit = s.events(1, 100).await.expect("audit");
    assert_eq!(
        audit.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );

    // acme's endpoint got one delivery per event; per subject, only the head is due.
    let rows = s
        .client()
        .await
        .expect("client")
        .query(
            "SELECT event_seq, queue, due_at_ms IS NOT NULL FROM webhook_deliveries ORDER BY event_seq",
            &[],
        )
        .await
        .expect("deliveries");
    let got: Vec<(i64, String, bool)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, "line-1".into(), true),
            (2, "line-1".into(), false),
            (3, "line-2".into(), true),
            (4, "line-1".into(), false),
        ]
    );
    // Once the lease lapses or is released, the other node takes over.
    s.transaction(&s.node_id().to_owned(), |tx, node| {
        Box::pin(gateway::store::postgres::leases::release(
            tx,
            sequencer::LEASE,
            node,
        ))
    })
    .await
    .expect("release");
    assert!(other.sequence_events().await.expect("pass").is_some());
}

#[tokio::test]
async fn a_store_error_in_a_body_rolls_back_and_is_not_retried() {
    let pg = server();
    let s = store(&pg, "rollback").await;
    let e = s
        .transaction(&(), |tx, _| {
            Box::pin(async move {
                tx.exec("INSERT INTO settings (name, value) VALUES ('x', 1)", &[])
                    .await?;
                Err::<(), _>(StoreError::Conflict("o1".into()).into())
            })
        })
        .await
        .expect_err("refused");
    assert!(matches!(e, StoreError::Conflict(_)));
    assert_eq!(s.retry_stats().retried.load(Ordering::SeqCst), 0);
    let n: i64 = s
        .client()
        .await
        .expect("c")
        .query_one("SELECT COUNT(*) FROM settings", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn simgw_db_migrate_applies_the_schema_and_prints_the_version() {
    let pg = server();
    let url = pg.create_db("cli").await.expect("db");
    let dir = tempfile::tempdir().expect("tempdir");
    let url_file = dir.path().join("db-url");
    std::fs::write(&url_file, url.replace("simgw@", "simgw:s3cret@")).expect("write");
    let cfg = dir.path().join("simgw.toml");
    std::fs::write(
        &cfg,
        format!(
            "[store]\nbackend = \"postgres\"\nurl_file = \"{}\"\n",
            url_file.display()
        ),
    )
    .expect("write");
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_simgw"))
            .args(["db", "migrate", "--config"])
            .arg(&cfg)
            .output()
            .expect("run simgw")
    };
    let out = run();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!(
            "schema migrated from version 0 to {SCHEMA_VERSION}"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("simgw:***@") && !stdout.contains("s3cret"),
        "{stdout}"
    );
    let out = run();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "schema at version {SCHEMA_VERSION}, nothing to apply"
        )),
        "{stdout}"
    );
    // Without a postgres backend the command says what to configure.
    std::fs::write(&cfg, "[store]\nbackend = \"embedded\"\n").expect("write");
    let out = run();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("backend = \"postgres\""),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

//! Migrations, the refusal of a newer schema, connection errors and `simgw db migrate`.

use super::*;

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
async fn nodes_starting_together_migrate_once() {
    let pg = server();
    let url = pg.create_db("together").await.expect("db");
    let cfg = config(&url);
    let (a, b, c) = tokio::join!(
        PgStore::connect(&cfg),
        PgStore::connect(&cfg),
        PgStore::connect(&cfg)
    );
    for s in [a, b, c] {
        let s = s.expect("every node starts");
        assert_eq!(s.schema_version().await.expect("v"), SCHEMA_VERSION);
    }
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

/// A fresh database as the migrations up to `version` left it (a node of that version).
async fn at_version(pg: &PgServer, name: &str, version: i32) -> PgStore {
    use gateway::store::postgres::migrate::MIGRATIONS;
    let url = pg.create_db(name).await.expect("db");
    let s = PgStore::connect_unmigrated(&config(&url))
        .await
        .expect("connect");
    let c = s.client().await.expect("client");
    assert_eq!(s.schema_version().await.expect("version"), 0);
    for &(v, name, sql) in MIGRATIONS.iter().filter(|m| m.0 <= version) {
        c.batch_execute(sql).await.expect("older migration");
        c.execute(
            "INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES ($1, $2, 0)",
            &[&v, &name],
        )
        .await
        .expect("recorded");
    }
    s
}

#[tokio::test]
async fn the_fan_out_cursor_of_an_older_database_starts_after_its_last_event() {
    let pg = server();
    let s = at_version(&pg, "cursor", 8).await;
    let c = s.client().await.expect("client");
    // Seven public events numbered by version 8, which queued their deliveries as it
    // numbered them.
    c.batch_execute("INSERT INTO event_seq (name, last) VALUES ('public', 7), ('public:acme', 7);")
        .await
        .expect("older");
    assert_eq!(s.migrate().await.expect("migrate"), (8, SCHEMA_VERSION));
    let last: i64 = c
        .query_one(
            "SELECT last FROM event_seq WHERE name = $1",
            &[&gateway::store::postgres::sequencer::FANNED_OUT],
        )
        .await
        .expect("cursor")
        .get(0);
    assert_eq!(last, 7);
}

#[tokio::test]
async fn the_logs_of_an_older_database_keep_their_numbers_and_order_as_batches() {
    use gateway::compliance::audit::AuditRecord;
    let pg = server();
    let s = at_version(&pg, "batches", 9).await;
    let c = s.client().await.expect("client");
    let event = |what: &str| {
        serde_json::to_value(Event {
            seq: 0,
            at_ms: 0,
            tenant: "acme".into(),
            order_id: None,
            kind: EventKind::Admin { what: what.into() },
        })
        .expect("json")
    };
    // Version 9's rows, one per entry: two events numbered, three waiting (two of one
    // attempt, one of an earlier attempt), and two audit records waiting.
    let rows = [
        ("b", 0, Some(1i64), "one"),
        ("a", 0, Some(2), "two"),
        ("d", 1, None, "five"),
        ("d", 0, None, "four"),
        ("c", 0, None, "three"),
    ];
    for (txn, ord, seq, what) in rows {
        c.execute(
            "INSERT INTO events (txn, ord, at_ms, tenant, order_id, seq, doc)
             VALUES ($1, $2, 0, 'acme', NULL, $3, $4)",
            &[&txn, &ord, &seq, &event(what)],
        )
        .await
        .expect("event");
    }
    c.execute(
        "INSERT INTO event_seq (name, last) VALUES ('audit', 2)",
        &[],
    )
    .await
    .expect("seq");
    let record = |action: &str| AuditRecord {
        action: action.into(),
        ..AuditRecord::default()
    };
    for (txn, ord, what) in [("f", 0, "second"), ("e", 3, "first")] {
        c.execute(
            "INSERT INTO audit_pending (txn, ord, bytes) VALUES ($1, $2, $3)",
            &[&txn, &ord, &record(what).encode()],
        )
        .await
        .expect("audit");
    }

    assert_eq!(s.migrate().await.expect("migrate"), (9, SCHEMA_VERSION));
    let whats = |events: Vec<Event>| -> Vec<(u64, String)> {
        events
            .into_iter()
            .map(|e| match e.kind {
                EventKind::Admin { what } => (e.seq, what),
                other => panic!("{other:?}"),
            })
            .collect()
    };
    assert_eq!(
        whats(s.events(0, 10).await.expect("read")),
        [(1, "one".into()), (2, "two".into())],
        "numbered entries keep their numbers; waiting ones stay unread"
    );
    s.flush_events().await.expect("flush");
    let all = whats(s.events(0, 10).await.expect("read"));
    let want: Vec<(u64, String)> = ["one", "two", "three", "four", "five"]
        .into_iter()
        .enumerate()
        .map(|(i, w)| (i as u64 + 1, w.to_owned()))
        .collect();
    assert_eq!(all, want, "waiting entries numbered by (attempt, place)");
    assert_eq!(
        whats(s.events(4, 1).await.expect("read")),
        [want[3].clone()]
    );
    let chain = s.audit_rows(1, 10).await.expect("chain");
    let linked: Vec<AuditRecord> = chain
        .iter()
        .map(|r| AuditRecord::decode(&r.bytes).expect("decodes"))
        .collect();
    assert_eq!(
        linked,
        [
            AuditRecord {
                seq: 1,
                ..record("first")
            },
            AuditRecord {
                seq: 2,
                ..record("second")
            }
        ]
    );
}

/// A server that cannot start says why (the bench's `--pg-set` passes settings through),
/// and one whose settings it takes runs with them.
#[tokio::test]
async fn a_server_refusing_a_setting_says_which_and_a_setting_it_takes_holds() {
    let refused = PgServer::start_for_bench(&["no_such_setting=1".into()], false)
        .err()
        .expect("a server with an unknown setting");
    assert!(refused.contains("no_such_setting"), "{refused}");

    let pg = PgServer::start_for_bench(&["work_mem=5MB".into()], false).expect("server");
    let url = pg.create_db("settings").await.expect("db");
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    for (name, want) in [
        ("work_mem", "5MB"),
        ("shared_buffers", "256MB"),
        ("fsync", "on"),
    ] {
        let got: String = client
            .query_one(&format!("SHOW {name}"), &[])
            .await
            .expect("SHOW")
            .get(0);
        assert_eq!(got, want, "{name}");
    }
}

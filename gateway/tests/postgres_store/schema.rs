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

#[tokio::test]
async fn the_fan_out_cursor_of_an_older_database_starts_after_its_last_event() {
    let pg = server();
    let url = pg.create_db("cursor").await.expect("db");
    let s = PgStore::connect(&config(&url)).await.expect("connect");
    let c = s.client().await.expect("client");
    // The database as version 8 left it, with seven public events numbered, whose
    // deliveries that version queued as it numbered them.
    c.batch_execute(
        "DELETE FROM schema_migrations WHERE version = 9;
         DELETE FROM event_seq;
         INSERT INTO event_seq (name, last) VALUES ('public', 7), ('public:acme', 7);",
    )
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

//! TLS to the database: verified against `[store] ca_file` with the host name, refused
//! with a CA that did not issue the server's certificate, and off with `sslmode=disable`.

use super::*;
use common::postgres::ServerTls;
use gateway::tls::DevCa;

async fn uses_tls(s: &PgStore) -> bool {
    s.client()
        .await
        .expect("client")
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .expect("pg_stat_ssl")
        .get(0)
}

#[tokio::test]
async fn the_database_certificate_is_verified_against_the_configured_ca() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = DevCa::load_or_create(&dir.path().join("ca")).expect("CA");
    DevCa::load_or_create(&dir.path().join("other")).expect("other CA");
    let id = ca
        .issue("localhost", &["localhost"])
        .expect("server certificate");
    let pg = PgServer::start_tls(ServerTls {
        cert_pem: &id.cert_pem,
        key_pem: &id.key_pem,
    })
    .unwrap_or_else(|e| panic!("{e}"));
    pg.create_db("tls").await.expect("db");
    let tcp = pg.tcp_url("tls").expect("tcp");
    let with = |url: String, ca: &str| StoreConfig {
        ca_file: Some(dir.path().join(ca).join("dev-ca.pem")),
        ..config(&url)
    };

    let verified = PgStore::connect(&with(format!("{tcp}?sslmode=verify-full"), "ca"))
        .await
        .expect("verified TLS");
    assert!(uses_tls(&verified).await);
    let preferred = PgStore::connect(&with(tcp.clone(), "ca"))
        .await
        .expect("prefer: TLS when offered");
    assert!(uses_tls(&preferred).await);

    let e = PgStore::connect(&with(format!("{tcp}?sslmode=require"), "other"))
        .await
        .err()
        .expect("a certificate the CA did not issue");
    assert!(matches!(e, OpenError::Connect(_)), "{e}");
    let e = PgStore::connect(&with(tcp.clone(), "other"))
        .await
        .err()
        .expect("prefer never falls back to plain on a bad certificate");
    assert!(matches!(e, OpenError::Connect(_)), "{e}");

    let plain = PgStore::connect(&with(format!("{tcp}?sslmode=disable"), "other"))
        .await
        .expect("disable");
    assert!(!uses_tls(&plain).await);
}

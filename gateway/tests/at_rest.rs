//! What an idempotency record and the data directory give away to someone holding a copy
//! of the store file, or a shell on the machine: no plain hash of a request body (which
//! holds the subscriber's ID number), and no file or directory readable by other users.

mod common;

use common::*;
use gateway::app::Gateway;
use gateway::crypto::{Keyring, hex, sha256};
use gateway::metrics::Metrics;
use gateway::store::embedded::RedbStore;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;

fn canonical(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("json")
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

async fn reserve(h: &Harness, idem: &str, body: &Value) -> (u16, Value) {
    let r = h
        .client
        .post(
            &format!("{}/v1/numbers/reservations", h.base),
            &[
                ("authorization", format!("Bearer {}", h.api_key)),
                ("idempotency-key", idem.to_owned()),
                ("content-type", "application/json".into()),
            ],
            bytes::Bytes::from(body.to_string()),
        )
        .await
        .expect("POST");
    (r.status, serde_json::from_slice(&r.body).expect("json"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_records_hold_a_keyed_fingerprint_that_survives_rotation() {
    let mut h = Harness::start(2).await;
    let body = json!({
        "sim": {"type": "physical", "iccid": h.cards[0].iccid.to_string()},
        "product": PRODUCT,
        "subscriber": {"name": "Li Lei", "id_type": "resident_id", "id_number": "110101199003074512"},
    });
    let mut other = body.clone();
    other["subscriber"]["id_number"] = json!("110101199003074539");
    let hold = json!({"msisdn": "8613800000042", "ttl_seconds": 600});

    let (s, first) = h.post("k1", &body).await;
    assert_eq!(s, 202, "{first}");
    let (s, held) = reserve(&h, "r1", &hold).await;
    assert_eq!(s, 201, "{held}");

    let db = std::fs::read(h.dir.path().join("simgw.redb")).expect("store file");
    let keys = Keyring::load_or_create(&h.dir.path().join("keys/data-key")).expect("keys");
    for (what, v) in [("activation", &body), ("reservation", &hold)] {
        let plain = hex(&sha256(&canonical(v)));
        assert!(
            !contains(&db, &plain),
            "{what}: SHA-256 of the body is in the store"
        );
        let keyed = keys.fingerprint(&canonical(v));
        assert!(
            contains(&db, &keyed),
            "{what}: the keyed fingerprint is what is kept"
        );
    }

    // Restart on a rotated key file: the same request still replays, another is refused.
    h.gw.take().expect("gateway").shutdown().await;
    Keyring::add_key(&h.dir.path().join("keys/data-key")).expect("rotate");
    let hlr = gateway::southbound::cai3g(
        &h.sim.url(),
        "gw",
        "secret-pw",
        None,
        &config(h.dir.path()).hlr,
        config(h.dir.path()).engine.hlr_concurrency,
    )
    .expect("adapter");
    let gw = Gateway::start(config(h.dir.path()), hlr)
        .await
        .expect("restart");
    h.base = gw.base_url();
    h.gw = Some(gw);
    let (s, again, headers) = h.post_as(&h.api_key, Some("k1"), &body.to_string()).await;
    assert_eq!((s, &again["id"]), (202, &first["id"]), "{again}");
    assert_eq!(
        headers
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    let (s, b) = h.post("k1", &other).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (422, Some("idempotency_key_reused")),
        "{b}"
    );
    let (s, again) = reserve(&h, "r1", &hold).await;
    assert_eq!((s, &again["id"]), (201, &held["id"]), "{again}");
    let (s, b) = reserve(&h, "r1", &json!({"msisdn": "8613800000043"})).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (422, Some("idempotency_key_reused")),
        "{b}"
    );
}

#[cfg(unix)]
fn mode(p: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    format!(
        "{:o}",
        std::fs::metadata(p).expect("meta").permissions().mode() & 0o777
    )
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_dir_is_private_from_the_first_start() {
    let h = Harness::start(1).await;
    let d = h.dir.path();
    for (path, want) in [
        (d.to_owned(), "700"),
        (d.join("keys"), "700"),
        (d.join("tls"), "700"),
        (d.join("simgw.redb"), "600"),
        (d.join("keys/data-key"), "600"),
        (d.join("tls/dev-ca.key"), "600"),
    ] {
        assert_eq!(mode(&path), want, "{}", path.display());
    }
}

#[cfg(unix)]
#[test]
fn a_data_dir_left_open_by_an_older_version_is_tightened_at_open() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().expect("tempdir");
    let d = root.path().join("data");
    RedbStore::open(&d, 16, 64, Arc::new(Metrics::default()))
        .expect("store")
        .close_now();
    std::fs::create_dir_all(d.join("tls")).expect("tls");
    let open = |p: &Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).expect("chmod")
    };
    open(&d, 0o755);
    open(&d.join("tls"), 0o755);
    open(&d.join("simgw.redb"), 0o644);
    RedbStore::open(&d, 16, 64, Arc::new(Metrics::default()))
        .expect("reopen")
        .close_now();
    assert_eq!(
        (mode(&d), mode(&d.join("tls")), mode(&d.join("simgw.redb"))),
        ("700".to_owned(), "700".to_owned(), "600".to_owned())
    );
}

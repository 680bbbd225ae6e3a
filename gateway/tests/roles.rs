//! API keys with roles, end to end over HTTPS: a readonly key reads and changes nothing; a
//! channel key sells but cannot import or release quarantine; an operator key does all;
//! a key stored before roles existed acts as operator; `simgw apikey create --role`; and
//! the sandbox's key per role, also in a data dir seeded before roles.

mod common;

use bytes::Bytes;
use common::{Harness, TENANT, physical};
use gateway::admin;
use gateway::crypto::sha256;
use gateway::store::Role;
use serde_json::{Value, json};
use std::path::Path;

/// Issues a key of `role` for the harness tenant.
async fn mint(h: &Harness, role: Role) -> String {
    let (key, change) =
        admin::new_api_key(&h.gw().keys, TENANT, role, "roles-test", 0).expect("key");
    admin::apply(h.gw().store.as_ref(), change)
        .await
        .expect("store key");
    key
}

/// `method path` with `key`: status, content type and JSON body.
async fn send(
    h: &Harness,
    key: &str,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> (u16, String, Value) {
    let mut headers = vec![("authorization", format!("Bearer {key}"))];
    headers.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let url = format!("{}{path}", h.base);
    let r = match method {
        "POST" => h.client.post(&url, &headers, body.into()).await,
        _ => h.client.get(&url, &headers).await,
    };
    common::parts(r.expect("request"))
}

async fn activate(h: &Harness, key: &str, idem: &str, body: &Value) -> (u16, String, Value) {
    let headers = [
        ("idempotency-key", idem),
        ("content-type", "application/json"),
    ];
    send(
        h,
        key,
        "POST",
        "/v1/activations",
        &headers,
        body.to_string(),
    )
    .await
}

async fn import(h: &Harness, key: &str) -> (u16, String, Value) {
    let file =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/example.out"))
            .expect("fixture");
    let path = "/v1/inventory/imports?format=vendor-out&name=example.out";
    send(h, key, "POST", path, &[], file).await
}

async fn release(h: &Harness, key: &str, msisdn: &str) -> (u16, String, Value) {
    let path = format!("/v1/numbers/{msisdn}/release");
    send(h, key, "POST", &path, &[], Bytes::new()).await
}

async fn reserve(h: &Harness, key: &str, idem: &str) -> (u16, String, Value) {
    let headers = [
        ("idempotency-key", idem),
        ("content-type", "application/json"),
    ];
    send(h, key, "POST", "/v1/numbers/reservations", &headers, "{}").await
}

/// Asserts the 403 `forbidden_for_role` for a key of `role`, allowed for `allowed`.
fn assert_forbidden(answer: &(u16, String, Value), role: &str, allowed: &[&str], doing: &str) {
    let (status, ct, b) = answer;
    assert_eq!(*status, 403, "{b}");
    assert_eq!(ct, "application/problem+json");
    assert_eq!(b["code"], "forbidden_for_role", "{b}");
    assert_eq!(b["role"], role, "{b}");
    assert_eq!(b["allowed_roles"], json!(allowed), "{b}");
    let detail = b["detail"].as_str().expect("detail");
    assert!(
        detail.contains(&format!("{role} key;"))
            && detail.contains(doing)
            && detail.contains(&format!(
                "`simgw apikey create --tenant {TENANT} --role {}`",
                allowed[0]
            )),
        "{detail}"
    );
}

/// The msisdn of a fresh active order, put into quarantine.
async fn quarantined_number(h: &Harness, key: &str, card: usize) -> String {
    let (s, _, order) = activate(
        h,
        key,
        &format!("q-{card}"),
        &physical(&h.cards[card].iccid),
    )
    .await;
    assert_eq!(s, 202, "{order}");
    let done = h.wait_terminal(order["id"].as_str().expect("id")).await;
    assert_eq!(done["status"], "active", "{done}");
    let msisdn = done["msisdn"].as_str().expect("msisdn").to_owned();
    let m = msisdn.parse().expect("msisdn");
    assert!(
        h.gw()
            .store
            .quarantine_number(TENANT, &m, 0)
            .await
            .expect("quarantine")
    );
    msisdn
}

fn quarantine_list(v: &Value) -> Vec<String> {
    v["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|e| e["msisdn"].as_str().expect("msisdn").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_readonly_key_reads_its_tenant_and_changes_nothing() {
    let h = Harness::start(2).await;
    let readonly = mint(&h, Role::Readonly).await;
    let (s, _, order) = activate(&h, &h.api_key, "op-1", &physical(&h.cards[0].iccid)).await;
    assert_eq!(s, 202, "{order}");
    let id = order["id"].as_str().expect("id");
    h.wait_terminal(id).await;
    let counts = h.counts(TENANT).await;
    let events = h.event_count().await;

    let body = physical(&h.cards[1].iccid);
    let refused = activate(&h, &readonly, "ro-1", &body).await;
    assert_forbidden(
        &refused,
        "readonly",
        &["channel", "operator"],
        "creating activations",
    );
    assert_forbidden(
        &reserve(&h, &readonly, "ro-2").await,
        "readonly",
        &["channel", "operator"],
        "reserving numbers",
    );
    assert_forbidden(
        &import(&h, &readonly).await,
        "readonly",
        &["operator"],
        "importing SIM batches",
    );
    assert_eq!(
        h.counts(TENANT).await,
        counts,
        "no SIM, number or batch changed"
    );
    assert_eq!(h.event_count().await, events, "nothing was recorded");
    // Not even the Idempotency-Key was taken: the same key and body from a key that may
    // activate is a first request, not a replay or a reuse.
    let (s, _, created) = activate(&h, &h.api_key, "ro-1", &body).await;
    assert_eq!(s, 202, "{created}");
    assert_ne!(created["id"], order["id"]);

    for path in [
        format!("/v1/activations/{id}"),
        "/v1/inventory".to_owned(),
        "/v1/numbers/quarantine".to_owned(),
        format!("/v1/sims/{}", h.cards[0].iccid),
    ] {
        let (s, _, b) = send(&h, &readonly, "GET", &path, &[], Bytes::new()).await;
        assert_eq!(s, 200, "GET {path}: {b}");
    }
    // Still only its own tenant.
    let (s, _, _) = send(
        &h,
        &readonly,
        "GET",
        &format!("/v1/sims/{}", h.other_cards[0].iccid),
        &[],
        Bytes::new(),
    )
    .await;
    assert_eq!(s, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_key_sells_but_cannot_import_or_release_and_an_operator_key_can() {
    let h = Harness::start(2).await;
    let channel = mint(&h, Role::Channel).await;
    let operator = mint(&h, Role::Operator).await;

    let (s, _, r) = reserve(&h, &channel, "ch-r").await;
    assert_eq!(s, 201, "{r}");
    let path = format!("/v1/numbers/reservations/{}", r["id"].as_str().expect("id"));
    let (s, _, _) = send(&h, &channel, "GET", &path, &[], Bytes::new()).await;
    assert_eq!(s, 200);
    let msisdn = quarantined_number(&h, &channel, 0).await;

    let counts = h.counts(TENANT).await;
    assert_forbidden(
        &import(&h, &channel).await,
        "channel",
        &["operator"],
        "importing SIM batches",
    );
    assert_eq!(h.counts(TENANT).await, counts, "nothing imported");
    assert_forbidden(
        &release(&h, &channel, &msisdn).await,
        "channel",
        &["operator"],
        "releasing numbers from quarantine",
    );
    let (_, _, q) = send(
        &h,
        &channel,
        "GET",
        "/v1/numbers/quarantine",
        &[],
        Bytes::new(),
    )
    .await;
    assert_eq!(
        quarantine_list(&q),
        [msisdn.as_str()],
        "still in quarantine"
    );

    // The operator key does all of it: the import is a first import (201, not a replay of
    // a batch the refused attempt left), and the quarantine ends.
    let (s, _, b) = import(&h, &operator).await;
    assert_eq!((s, b["status"].as_str()), (201, Some("complete")), "{b}");
    let (s, _, b) = release(&h, &operator, &msisdn).await;
    assert_eq!(s, 200, "{b}");
    let (s, _, o) = activate(&h, &operator, "op-a", &physical(&h.cards[1].iccid)).await;
    assert_eq!(s, 202, "{o}");
    let (s, _, r) = reserve(&h, &operator, "op-r").await;
    assert_eq!(s, 201, "{r}");
}

/// Writes `key` into the stopped store of `data_dir` exactly as the store wrote keys
/// before they had roles: JSON without `role`.
fn put_key_stored_before_roles(data_dir: &Path, key: &str, tenant: &str) {
    let db = redb::Database::open(data_dir.join("simgw.redb")).expect("open store");
    let table = redb::TableDefinition::<&[u8], &[u8]>::new("api_keys");
    let record = format!(
        r#"{{"tenant":"{tenant}","prefix":"{}","label":"before roles","created_at_ms":1700000000000}}"#,
        &key[..tenant.len() + 8]
    );
    let txn = db.begin_write().expect("write");
    {
        let mut t = txn.open_table(table).expect("api_keys");
        t.insert(sha256(key.as_bytes()).as_slice(), record.as_bytes())
            .expect("insert");
    }
    txn.commit().expect("commit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_stored_before_roles_acts_as_operator() {
    let mut h = Harness::start(2).await;
    let legacy = format!("sk_{TENANT}_LEGACYKEYBEFOREROLES0000000000000");
    h.gw.take().expect("gateway").shutdown().await;
    put_key_stored_before_roles(h.dir.path(), &legacy, TENANT);
    let cfg = common::config(h.dir.path());
    let hlr = gateway::southbound::cai3g(
        &h.sim.url(),
        "gw",
        "secret-pw",
        None,
        &cfg.hlr,
        cfg.engine.hlr_concurrency,
    )
    .expect("adapter");
    let gw = gateway::app::Gateway::start(cfg, hlr)
        .await
        .expect("restart");
    h.base = gw.base_url();
    h.gw = Some(gw);

    let stored = h
        .gw()
        .store
        .api_key(&sha256(legacy.as_bytes()))
        .await
        .expect("read")
        .expect("the legacy key is there");
    assert_eq!(stored.role, Role::Operator);
    let (s, _, b) = import(&h, &legacy).await;
    assert_eq!(s, 201, "an operator right: {b}");
    let msisdn = quarantined_number(&h, &legacy, 0).await;
    let (s, _, b) = release(&h, &legacy, &msisdn).await;
    assert_eq!(s, 200, "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apikey_create_issues_the_role_asked_and_channel_by_default() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let run = |args: &[&str]| {
        let out = common::cli::simgw(args, &data);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{args:?}: {stderr}");
        (
            String::from_utf8_lossy(&out.stdout).trim().to_owned(),
            stderr,
        )
    };
    run(&[
        "tenant",
        "put",
        "--id",
        "mvno1",
        "--name",
        "MVNO One",
        "--plmn",
        "00101",
        "--product",
        "basic=12",
    ]);
    let (readonly, said) = run(&[
        "apikey", "create", "--tenant", "mvno1", "--role", "readonly",
    ]);
    assert!(said.contains("role: readonly"), "{said}");
    let (default, said) = run(&["apikey", "create", "--tenant", "mvno1"]);
    assert!(said.contains("role: channel"), "{said}");
    let (operator, said) = run(&[
        "apikey", "create", "--tenant", "mvno1", "--role", "operator",
    ]);
    assert!(said.contains("role: operator"), "{said}");
    let bad = common::cli::simgw(
        &["apikey", "create", "--tenant", "mvno1", "--role", "admin"],
        &data,
    );
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr)
            .contains("expected `channel`, `operator` or `readonly`"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );

    let mut sim_cfg = conformance::hlr_sim::HlrSimConfig::new("gw", "secret-pw");
    sim_cfg.listen = "127.0.0.1:0".parse().expect("addr");
    let sim = conformance::hlr_sim::start(sim_cfg)
        .await
        .expect("simulator");
    let cfg = common::config(&data);
    let hlr = gateway::southbound::cai3g(
        &sim.url(),
        "gw",
        "secret-pw",
        None,
        &cfg.hlr,
        cfg.engine.hlr_concurrency,
    )
    .expect("adapter");
    let gw = gateway::app::Gateway::start(cfg, hlr)
        .await
        .expect("gateway");
    for (key, want) in [
        (&readonly, Role::Readonly),
        (&default, Role::Channel),
        (&operator, Role::Operator),
    ] {
        let stored = gw
            .store
            .api_key(&sha256(key.as_bytes()))
            .await
            .expect("read");
        assert_eq!(stored.map(|r| r.role), Some(want), "{key}");
    }
    let ca = std::fs::read(gw.ca_cert.as_ref().expect("dev CA")).expect("ca");
    let http = adapters::http::HttpClient::builder()
        .add_root_pem(&ca)
        .build()
        .expect("client");
    let post = |key: &str| {
        let headers = [
            ("authorization", format!("Bearer {key}")),
            ("idempotency-key", "cli-1".to_owned()),
            ("content-type", "application/json".to_owned()),
        ];
        let (http, url) = (http.clone(), format!("{}/v1/activations", gw.base_url()));
        let body = physical(&common::card(0).iccid);
        async move {
            common::parts(
                http.post(&url, &headers, Bytes::from(body.to_string()))
                    .await
                    .expect("POST"),
            )
        }
    };
    let (s, _, b) = post(&readonly).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (403, Some("forbidden_for_role")),
        "{b}"
    );
    // The channel key may activate: this one is refused for its (unknown) card only.
    let (s, _, b) = post(&default).await;
    assert_eq!((s, b["code"].as_str()), (422, Some("unknown_iccid")), "{b}");
    gw.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_documents_forbidden_for_role_where_a_role_can_be_refused() {
    let h = Harness::start(0).await;
    let (s, _, doc) = send(&h, &h.api_key, "GET", "/openapi.json", &[], Bytes::new()).await;
    assert_eq!(s, 200);
    let forbidden = json!({"$ref": "#/components/responses/ForbiddenForRole"});
    for (path, method) in [
        ("/v1/activations", "post"),
        ("/v1/numbers/reservations", "post"),
        ("/v1/inventory/imports", "post"),
        ("/v1/numbers/{msisdn}/release", "post"),
    ] {
        assert_eq!(
            doc["paths"][path][method]["responses"]["403"], forbidden,
            "{method} {path}"
        );
    }
    let described = &doc["components"]["responses"]["ForbiddenForRole"]["description"];
    assert!(
        described
            .as_str()
            .is_some_and(|d| d.contains("forbidden_for_role")),
        "{described}"
    );
    // Every role may read its tenant's data, so no GET documents a 403, except the
    // blocklists: they are the operator's (they list the subjects an order may not name).
    for (path, item) in doc["paths"].as_object().expect("paths") {
        if path == "/v1/blocklists" {
            assert_eq!(item["get"]["responses"]["403"], forbidden, "GET {path}");
        } else {
            assert!(item["get"]["responses"]["403"].is_null(), "GET {path}");
        }
    }
}

#[cfg(feature = "sandbox")]
mod sandbox {
    use super::*;
    use common::sandbox::{esim_config, shutdown};
    use gateway::sandbox::{ApiKeys, MARKER};
    use std::sync::Arc;

    /// The roles the sandbox store gives each key of `keys`.
    async fn roles(sb: &gateway::sandbox::Sandbox, keys: &ApiKeys) -> [Option<Role>; 3] {
        let mut out = [None; 3];
        for (slot, k) in out
            .iter_mut()
            .zip([&keys.channel, &keys.operator, &keys.readonly])
        {
            *slot = sb
                .gateway
                .store
                .api_key(&sha256(k.as_bytes()))
                .await
                .expect("read")
                .map(|r| r.role);
        }
        out
    }

    const ROLES: [Option<Role>; 3] = [
        Some(Role::Channel),
        Some(Role::Operator),
        Some(Role::Readonly),
    ];

    /// `POST /v1/activations` of the sandbox's first physical SIM with `key`.
    async fn activate(sb: &gateway::sandbox::Sandbox, key: &str, idem: &str) -> (u16, Value) {
        let ca = std::fs::read(&sb.info.ca_cert).expect("ca");
        let http = adapters::http::HttpClient::builder()
            .add_root_pem(&ca)
            .build()
            .expect("client");
        let body = json!({"sim": {"type": "physical", "iccid": sb.info.physical_iccids[0]},
                          "product": sb.info.product});
        let r = http
            .post(
                &format!("{}/v1/activations", sb.info.base_url),
                &[
                    ("authorization", format!("Bearer {key}")),
                    ("idempotency-key", idem.to_owned()),
                    ("content-type", "application/json".to_owned()),
                ],
                Bytes::from(body.to_string()),
            )
            .await
            .expect("POST");
        let (s, _, v) = common::parts(r);
        (s, v)
    }

    fn file_keys(sb: &gateway::sandbox::Sandbox) -> Value {
        let file: Value =
            serde_json::from_slice(&std::fs::read(&sb.file).expect("sandbox.json")).expect("json");
        assert_eq!(file["api_key"], file["api_keys"]["operator"], "{file}");
        file["api_keys"].clone()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sandbox_json_has_a_key_per_role() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sb = gateway::sandbox::start(esim_config(dir.path(), 2))
            .await
            .expect("sandbox");
        let keys = sb.info.api_keys.clone();
        assert_eq!(
            file_keys(&sb),
            json!({"channel": keys.channel, "operator": keys.operator, "readonly": keys.readonly})
        );
        assert_eq!(sb.info.api_key, keys.operator);
        assert_eq!(roles(&sb, &keys).await, ROLES);
        let (s, b) = activate(&sb, &keys.readonly, "sb-ro").await;
        assert_eq!(
            (s, b["code"].as_str()),
            (403, Some("forbidden_for_role")),
            "{b}"
        );
        let (s, b) = activate(&sb, &keys.channel, "sb-ch").await;
        assert_eq!(s, 202, "{b}");
        shutdown(sb).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_sandbox_seeded_before_roles_gains_its_keys_on_the_next_start() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = || esim_config(dir.path(), 2);
        let sb = gateway::sandbox::start(config()).await.expect("sandbox");
        let first = sb.info.clone();
        shutdown(sb).await;

        // Make the data dir what the previous version left: a marker holding the one key,
        // and that key's record without a role.
        let keys = gateway::app::keyring(&config()).expect("keyring");
        let store = gateway::app::open_store(&config(), Arc::new(Default::default()))
            .await
            .expect("store");
        let marker = json!({"api_key": first.api_key}).to_string();
        let sealed = keys.seal(MARKER, marker.as_bytes()).expect("seal");
        admin::apply(
            &*store,
            gateway::store::AdminChange::PutMeta {
                key: MARKER.into(),
                value: serde_json::to_vec(&sealed).expect("sealed"),
            },
        )
        .await
        .expect("old marker");
        store.close().await;
        put_key_stored_before_roles(dir.path(), &first.api_key, gateway::sandbox::TENANT);

        let sb = gateway::sandbox::start(config()).await.expect("restart");
        let keys = sb.info.api_keys.clone();
        assert_eq!(
            sb.info.api_key, first.api_key,
            "the old key stays the operator key"
        );
        assert_eq!(keys.operator, first.api_key);
        assert_ne!(
            keys.channel, first.api_keys.channel,
            "minted from the old marker"
        );
        assert_ne!(
            keys.readonly, first.api_keys.readonly,
            "minted from the old marker"
        );
        assert_eq!(file_keys(&sb)["channel"], keys.channel.as_str());
        assert_eq!(roles(&sb, &keys).await, ROLES);
        let (s, b) = activate(&sb, &keys.readonly, "up-ro").await;
        assert_eq!(s, 403, "{b}");
        let (s, b) = activate(&sb, &first.api_key, "up-op").await;
        assert_eq!(s, 202, "the old key still activates: {b}");
        shutdown(sb).await;

        // Once upgraded, the keys stay: nothing is minted twice.
        let sb = gateway::sandbox::start(config()).await.expect("restart");
        assert_eq!(sb.info.api_keys, keys);
        shutdown(sb).await;
    }
}

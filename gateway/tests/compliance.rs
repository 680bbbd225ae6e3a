//! Real-name and anti-fraud controls end to end over HTTPS against the sandbox: the
//! `sandbox-cn` market tenant (store `SZ-0042`, terminal `T7`, clerk `C1`, reader `R-1`)
//! and tenants with tighter windows seeded beside it. Each refusal is checked to change
//! nothing; the per-ID limit is checked under concurrency; the audit chain is verified by
//! the CLI after the run.

mod common;

use common::market::{cn, resident_id, sale, sandbox, sim_state, tight_tenant};
use common::sandbox::shutdown;
use gateway::compliance::Market;
use gateway::compliance::overrides::{Limit, PolicyOverride, VelocityOverride};
use gateway::store::AdminChange;
use serde_json::{Value, json};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_lines_per_id_and_a_termination_frees_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = sandbox(dir.path()).await;
    let (c, iccids) = cn(&sb);
    let id = resident_id(1);
    let mut msisdns = Vec::new();
    for iccid in &iccids[..5] {
        let (s, o) = c.order(&sale(iccid, &id, "C1")).await;
        assert_eq!(s, 202, "{o}");
        let done = c
            .settle(&format!(
                "/v1/activations/{}",
                o["id"].as_str().expect("id")
            ))
            .await;
        assert_eq!(done["status"], "active", "{done}");
        msisdns.push(done["msisdn"].as_str().expect("msisdn").to_owned());
    }
    let (s, p) = c.order(&sale(&iccids[5], &id, "C1")).await;
    assert_eq!(
        (s, p["code"].as_str()),
        (422, Some("id_quota_exceeded")),
        "{p}"
    );
    assert_eq!(
        (p["limit"].as_u64(), p["active"].as_u64()),
        (Some(5), Some(5))
    );
    assert!(
        !p.to_string().contains(&id),
        "the refusal echoes the ID number"
    );
    assert_eq!(sim_state(&c, &iccids[5]).await, "available");
    // Terminating one line frees one place.
    let (s, t, _) = c
        .send(
            http::Method::POST,
            &format!("/v1/subscriptions/{}/terminate", msisdns[0]),
            Some("terminate-1"),
            Some(&json!({})),
        )
        .await;
    assert_eq!(s, 202, "{t}");
    let t = c
        .settle(&format!("/v1/orders/{}", t["id"].as_str().expect("id")))
        .await;
    assert_eq!(t["status"], "completed", "{t}");
    let (s, o) = c.order(&sale(&iccids[5], &id, "C1")).await;
    assert_eq!(
        s, 202,
        "after a termination the ID may open a line again: {o}"
    );
    let data_dir = sb.gateway.config.data_dir.clone();
    shutdown(sb).await;
    // The report counts what the chain recorded, per store.
    let out = common::cli::simgw(
        &[
            "compliance",
            "report",
            "--from",
            "2000-01-01",
            "--to",
            "2199-12-31",
        ],
        &data_dir,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(
        csv.contains("store,SZ-0042,activations_allowed,6\n"),
        "{csv}"
    );
    assert!(
        csv.contains("store,SZ-0042,refused:id_quota_exceeded,1\n"),
        "{csv}"
    );
    assert!(!csv.contains(&id), "{csv}");
    // A lawful export opens one line's subscriber, and is itself audited.
    let out = common::cli::simgw(
        &[
            "compliance",
            "export",
            "--tenant",
            "sandbox-cn",
            "--msisdn",
            &msisdns[1],
            "--reason",
            "court order 42",
        ],
        &data_dir,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let export: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(export["subscriber"]["id_number"], id.as_str());
    assert_eq!(export["subscriber"]["name"], "王小明");
    common::cli::assert_audit_intact(&data_dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_orders_for_one_fresh_id_give_exactly_five() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = sandbox(dir.path()).await;
    let (c, iccids) = cn(&sb);
    let c = Arc::new(c);
    let id = resident_id(2);
    let tasks: Vec<_> = iccids[..20]
        .iter()
        .map(|iccid| {
            let (c, body) = (c.clone(), sale(iccid, &id, "C1"));
            tokio::spawn(async move { c.order(&body).await })
        })
        .collect();
    let (mut accepted, mut refused) = (0, 0);
    for t in tasks {
        match t.await.expect("task") {
            (202, _) => accepted += 1,
            (422, p) if p["code"] == "id_quota_exceeded" => refused += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!((accepted, refused), (5, 15));
    shutdown(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_name_what_to_fix_and_reserve_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = sandbox(dir.path()).await;
    let (c, iccids) = cn(&sb);
    let iccid = &iccids[0];
    let cases: Vec<(Value, u16, &str, Option<&str>)> = vec![
        {
            let mut b = sale(iccid, &resident_id(3), "C1");
            b["subscriber"]["capture"] = json!({"method": "manual"});
            (
                b,
                422,
                "id_capture_method_not_allowed",
                Some("subscriber.capture.method"),
            )
        },
        {
            let mut b = sale(iccid, &resident_id(4), "C1");
            b["subscriber"]
                .as_object_mut()
                .map(|s| s.remove("evidence"));
            (
                b,
                422,
                "face_check_required",
                Some("subscriber.evidence.face_match"),
            )
        },
        (
            sale(iccid, &resident_id(5), "C404"),
            403,
            "channel_not_registered",
            Some("channel.staff_id"),
        ),
        {
            let mut b = sale(iccid, &resident_id(6), "C1");
            b.as_object_mut().map(|s| s.remove("subscriber"));
            (b, 422, "subscriber_required", Some("subscriber"))
        },
        {
            // A wrong check character.
            let good = resident_id(7);
            let (body, check) = good.split_at(17);
            let wrong = if check == "0" { "1" } else { "0" };
            let b = sale(iccid, &format!("{body}{wrong}"), "C1");
            (b, 400, "id_number_invalid", Some("subscriber.id_number"))
        },
    ];
    for (body, status, code, field) in cases {
        for (what, (s, p)) in [
            ("validate", c.validate(&body).await),
            ("order", c.order(&body).await),
        ] {
            assert_eq!((s, p["code"].as_str()), (status, Some(code)), "{what}: {p}");
            if let Some(f) = field {
                assert_eq!(p["field"], f, "{what}: {p}");
            }
        }
    }
    assert_eq!(sim_state(&c, iccid).await, "available");
    shutdown(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_velocity_breach_is_refused_and_freezes_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = sandbox(dir.path()).await;
    let o = PolicyOverride {
        velocity: VelocityOverride {
            store_per_day: Some(Limit::At(2)),
            freeze_on_breach: Some(true),
            ..VelocityOverride::default()
        },
        ..PolicyOverride::default()
    };
    let (c, iccids) = tight_tenant(&sb, "velocity-a", 7, o).await;
    for (n, iccid) in iccids[..2].iter().enumerate() {
        let (s, v) = c
            .order(&sale(iccid, &resident_id(10 + n as u32), "C1"))
            .await;
        assert_eq!(s, 202, "{v}");
    }
    let key = "over-the-limit";
    let (s, p, retry_after) = c
        .send(
            http::Method::POST,
            "/v1/activations",
            Some(key),
            Some(&sale(&iccids[2], &resident_id(20), "C1")),
        )
        .await;
    assert_eq!(
        (s, p["code"].as_str()),
        (429, Some("velocity_limit")),
        "{p}"
    );
    assert_eq!(p["window"], "store_per_day");
    assert_eq!(p["limit"], 2);
    let secs = p["retry_after"].as_u64().expect("retry_after");
    assert!(secs > 0 && secs <= 86_400, "{p}");
    assert_eq!(retry_after.as_deref(), Some(secs.to_string().as_str()));
    assert_eq!(sim_state(&c, &iccids[2]).await, "available");
    // The breach froze the store: the next order is refused for that.
    let (s, p) = c.order(&sale(&iccids[3], &resident_id(21), "C1")).await;
    assert_eq!(
        (s, p["code"].as_str()),
        (403, Some("channel_frozen")),
        "{p}"
    );
    assert_eq!(p["field"], "channel.store_id");
    let stores = c.get("/v1/channels/stores").await;
    assert_eq!(stores["data"][0]["status"], "frozen", "{stores}");
    // The freeze is an event of its own, for the operator to review.
    let frozen = c.get("/v1/events?type=compliance.channel_frozen").await;
    assert_eq!(frozen["data"].as_array().map(Vec::len), Some(1), "{frozen}");
    assert_eq!(frozen["data"][0]["data"]["member"], "store", "{frozen}");
    assert_eq!(frozen["data"][0]["data"]["id"], "SZ-0042", "{frozen}");
    // A kind of channel member that does not exist says which do.
    let (s, p, _) = c
        .send(http::Method::GET, "/v1/channels/phones", None, None)
        .await;
    assert_eq!((s, p["code"].as_str()), (404, Some("not_found")), "{p}");
    let detail = p["detail"].as_str().unwrap_or_default();
    assert!(
        ["stores", "clerks", "devices"]
            .iter()
            .all(|k| detail.contains(k)),
        "{detail}"
    );
    shutdown(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocklists_refuse_neutrally_and_are_audited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = sandbox(dir.path()).await;
    let (c, iccids) = cn(&sb);
    let id = resident_id(30);
    let (s, e, _) = c
        .send(
            http::Method::POST,
            "/v1/blocklists",
            None,
            Some(&json!({"list": "id", "id_type": "resident_id", "id_number": id, "nationality": "CHN", "days": 730, "reason": "fraud ring"})),
        )
        .await;
    assert_eq!(s, 201, "{e}");
    assert!(
        !e.to_string().contains(&id),
        "the entry shows the ID number: {e}"
    );
    let (s, p) = c.order(&sale(&iccids[0], &id, "C1")).await;
    assert_eq!((s, p["code"].as_str()), (403, Some("blocked")), "{p}");
    let detail = p["detail"].as_str().unwrap_or_default().to_lowercase();
    assert!(
        !detail.contains("blocklist")
            && !detail.contains("id number")
            && !detail.contains("identity"),
        "a `blocked` answer must not say which list matched: {p}"
    );
    // Too long an ID entry is refused and changes nothing.
    let (s, p, _) = c
        .send(
            http::Method::POST,
            "/v1/blocklists",
            None,
            Some(&json!({"list": "id", "id_type": "resident_id", "id_number": resident_id(31), "nationality": "CHN", "days": 3000, "reason": "x"})),
        )
        .await;
    assert_eq!(
        (s, p["code"].as_str()),
        (422, Some("blocklist_entry_invalid")),
        "{p}"
    );
    // A document's members on another list are refused, not ignored, and add nothing.
    let (s, p, _) = c
        .send(
            http::Method::POST,
            "/v1/blocklists",
            None,
            Some(&json!({"list": "store", "value": "SZ-0042", "id_type": 5, "reason": "x"})),
        )
        .await;
    assert_eq!(
        (s, p["code"].as_str(), p["field"].as_str()),
        (400, Some("invalid_value"), Some("id_type")),
        "{p}"
    );
    let body = sale(&iccids[1], &resident_id(32), "C1");
    assert_eq!(c.validate(&body).await.0, 200, "nothing was blocked");
    // A store on the blocklist stops every sale there; ending the entry lets them through.
    let (s, e, _) = c
        .send(
            http::Method::POST,
            "/v1/blocklists",
            None,
            Some(&json!({"list": "store", "value": "SZ-0042", "reason": "audit"})),
        )
        .await;
    assert_eq!(s, 201, "{e}");
    assert_eq!(c.validate(&body).await.1["code"], "blocked");
    let (s, v, _) = c
        .send(
            http::Method::DELETE,
            "/v1/blocklists/store/SZ-0042",
            None,
            None,
        )
        .await;
    assert_eq!(s, 204, "{v}");
    assert_eq!(c.validate(&body).await.0, 200);
    let data_dir = sb.gateway.config.data_dir.clone();
    shutdown(sb).await;
    // Every decision above is in an intact chain.
    common::cli::assert_audit_intact(&data_dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_hashed_under_an_older_pepper_key_still_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = sandbox(dir.path()).await;
    let (c, iccids) = cn(&sb);
    let id = resident_id(40);
    for iccid in &iccids[..4] {
        let (s, o) = c.order(&sale(iccid, &id, "C1")).await;
        assert_eq!(s, 202, "{o}");
    }
    shutdown(sb).await;
    let out = common::cli::simgw(&["keys", "rotate-pepper"], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pepper = std::fs::read_to_string(dir.path().join("keys/id-pepper")).expect("pepper");
    assert_eq!(pepper.lines().filter(|l| !l.trim().is_empty()).count(), 2);
    let sb = sandbox(dir.path()).await;
    let (c, _) = cn(&sb);
    let (s, o) = c.order(&sale(&iccids[4], &id, "C1")).await;
    assert_eq!(s, 202, "the fifth line: {o}");
    let (s, p) = c.order(&sale(&iccids[5], &id, "C1")).await;
    assert_eq!(
        (s, p["code"].as_str(), p["active"].as_u64()),
        (422, Some("id_quota_exceeded"), Some(5)),
        "lines under both keys count: {p}"
    );
    shutdown(sb).await;
    common::cli::assert_audit_intact(dir.path());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_market_that_needs_verification_is_refused_without_a_verifier() {
    // A gateway with no identity verification service configured (not the sandbox).
    let h = common::Harness::start(1).await;
    let mut t = h
        .gw()
        .store
        .tenant(common::TENANT)
        .await
        .expect("read")
        .expect("tenant");
    t.market = Some(Market::Cn);
    gateway::admin::apply(h.gw().store.as_ref(), AdminChange::PutTenant(t))
        .await
        .expect("put");
    let body = sale(&h.cards[0].iccid.to_string(), &resident_id(50), "C1");
    let (s, p) = h.post("no-verifier", &body).await;
    assert_eq!(
        (s, p["code"].as_str()),
        (503, Some("identity_service_unavailable")),
        "{p}"
    );
    assert_eq!(h.counts(common::TENANT).await.sims_available, 1);
}

/// Copies a stopped data dir (flat enough here: files and one level of directories).
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir").flatten() {
        let p = e.path();
        let target = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &target);
        } else {
            std::fs::copy(&p, &target).expect("copy");
        }
    }
}

use redb::ReadableTable;

const AUDIT: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("audit");

/// Runs `change` on the stored audit table of the data dir `dir` (the store is stopped).
fn tamper(dir: &std::path::Path, change: impl FnOnce(&mut redb::Table<u64, &[u8]>)) {
    let db = redb::Database::open(dir.join("simgw.redb")).expect("open");
    let tx = db.begin_write().expect("tx");
    {
        let mut t = tx.open_table(AUDIT).expect("audit table");
        change(&mut t);
    }
    tx.commit().expect("commit");
}

fn row(t: &redb::Table<u64, &[u8]>, seq: u64) -> Vec<u8> {
    t.get(seq).expect("get").expect("row").value().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_names_the_first_changed_deleted_or_moved_record() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let sb = sandbox(&data).await;
    let (c, iccids) = cn(&sb);
    for (n, iccid) in iccids[..3].iter().enumerate() {
        let (s, o) = c
            .order(&sale(iccid, &resident_id(60 + n as u32), "C1"))
            .await;
        assert_eq!(s, 202, "{o}");
        let mut refused = sale(iccid, &resident_id(70 + n as u32), "C1");
        refused["subscriber"]["capture"] = json!({"method": "manual"});
        assert_eq!(c.order(&refused).await.0, 422);
    }
    shutdown(sb).await;
    let verify = |d: &std::path::Path| {
        let out = common::cli::simgw(&["audit", "verify"], d);
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (ok, text) = verify(&data);
    assert!(ok, "{text}");
    // One byte of record 3 flipped (in its canonical bytes, after the stored hash).
    let flipped = dir.path().join("flipped");
    copy_dir(&data, &flipped);
    tamper(&flipped, |t| {
        let mut v = row(t, 3);
        let last = v.len() - 1;
        v[last] ^= 0x01;
        t.insert(3, v.as_slice()).expect("insert");
    });
    let (ok, text) = verify(&flipped);
    assert!(!ok && text.contains("record 3"), "{text}");
    // Record 4 deleted.
    let deleted = dir.path().join("deleted");
    copy_dir(&data, &deleted);
    tamper(&deleted, |t| {
        t.remove(4).expect("remove");
    });
    let (ok, text) = verify(&deleted);
    assert!(
        !ok && text.contains("record 4") && text.contains("missing"),
        "{text}"
    );
    // Records 2 and 5 swapped.
    let swapped = dir.path().join("swapped");
    copy_dir(&data, &swapped);
    tamper(&swapped, |t| {
        let (two, five) = (row(t, 2), row(t, 5));
        t.insert(2, five.as_slice()).expect("insert");
        t.insert(5, two.as_slice()).expect("insert");
    });
    let (ok, text) = verify(&swapped);
    assert!(!ok && text.contains("record 2"), "{text}");
}

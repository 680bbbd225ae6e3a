//! Port-in orders over HTTPS against the sandbox's market tenants and its porting hub
//! simulator (mutual TLS both ways), with the hub's clock driven from the test: local
//! checks refuse before anything is reserved or reaches the hub (a China MVNO-block
//! number `number_not_portable`, a malformed credential `credential_invalid`); China
//! ports at the next full hour with the line waiting for its number; the UK runs the
//! line on a temporary number until the cutover the next working day, then quarantines
//! it; a cancel before the lock point gives everything back.

mod common;

use common::market::{Client, cn, quarantined, resident_id, sale, sandbox, sim_state, uk, uk_port};
use common::sandbox::shutdown;
use gateway::sandbox::Sandbox;
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_in_checks_refuse_before_anything_is_reserved() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = sandbox(dir.path()).await;
    let (c, iccids) = cn(&sb);
    let with = |number: &str, credential: &str| {
        let mut body = sale(&iccids[0], &resident_id(7), "C1");
        body["msisdn"] =
            json!({"mode": "port_in", "number": number, "donor": "CMCC", "credential": credential});
        body
    };
    // China's MVNO blocks are never portable (contract: 422 number_not_portable).
    let (s, p) = c.order(&with("8617012345678", "AB12CD")).await;
    assert_eq!(
        (s, p["code"].as_str()),
        (422, Some("number_not_portable")),
        "{p}"
    );
    assert_eq!(p["field"], "msisdn.number");
    // A 授权码 of the wrong shape names the field and never echoes the value.
    let (s, p) = c.order(&with("8613812345678", "!")).await;
    assert_eq!(
        (s, p["code"].as_str()),
        (422, Some("credential_invalid")),
        "{p}"
    );
    assert_eq!(p["field"], "msisdn.credential");
    assert!(
        p["detail"].as_str().is_some_and(|d| d.contains("授权码")),
        "{p}"
    );
    assert_eq!(sim_state(&c, &iccids[0]).await, "available");
    // Nothing reached the hub.
    assert!(sb.porting.sim.requests().is_empty());
    shutdown(sb).await;
}

/// Polls order `id` until `pred` holds (bounded; not a timing assertion); on failure
/// shows the hub's deliveries too.
async fn until(
    sb: &Sandbox,
    c: &Client,
    id: &str,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..3_000 {
        let v = c.get(&format!("/v1/orders/{id}")).await;
        if pred(&v) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "{id} never reached {what}: {}\nhub deliveries: {:?}\nhub ports: {:?}",
        c.get(&format!("/v1/orders/{id}")).await,
        sb.porting.sim.callbacks(),
        sb.porting.sim.ports()
    );
}

fn status(s: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["status"] == s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn china_ports_at_the_next_full_hour_and_the_line_waits_for_its_number() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = sandbox(dir.path()).await;
    let (c, iccids) = cn(&sb);
    // The store is open round the clock, so the sale hits no outside-hours risk rule
    // whatever the time of day the test runs (the line would be pending verification).
    let always = json!({"hours": {"open": "00:00", "close": "00:00", "utc_offset": "+08:00"}});
    let (s, v, _) = c
        .send(
            http::Method::PUT,
            "/v1/channels/stores/SZ-0042",
            None,
            Some(&always),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let mut body = sale(&iccids[1], &resident_id(11), "C1");
    body["msisdn"] = json!({"mode": "port_in", "number": "8613812345678", "donor": "CMCC", "credential": "AB12CD"});
    let (s, o) = c.order(&body).await;
    assert_eq!(s, 202, "{o}");
    assert_eq!(o["status"], "port_validating", "{o}");
    assert_eq!(o["msisdn_mode"], "port_in");
    assert_eq!(o["port"]["number"], "8613812345678");
    assert!(o["port"]["temporary_number"].is_null(), "{o}");
    assert!(
        !o.to_string().contains("AB12CD"),
        "the credential never shows: {o}"
    );
    let id = o["id"].as_str().expect("id").to_owned();
    // China locks as soon as the hub schedules: the order may be past scheduled already.
    let scheduled = until(&sb, &c, &id, "port_scheduled or port_locked", |v| {
        v["status"] == "port_scheduled" || v["status"] == "port_locked"
    })
    .await;
    assert!(scheduled["port"]["promised_at"].is_string(), "{scheduled}");
    // China: no HLR subscriber until cutover (the line waits for its number).
    assert_eq!(scheduled["steps"]["hlr_provision"]["state"], "pending");
    // Open ports are listed; the state filter keeps only their status (China locks at
    // once, so the port may be locked by now: the hub never waits for us to look).
    let listed = c.get("/v1/ports").await;
    let mine = listed["data"]
        .as_array()
        .expect("data")
        .iter()
        .find(|p| p["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} not listed: {listed}"));
    let st = mine["status"].as_str().expect("status");
    assert!(matches!(st, "port_scheduled" | "port_locked"), "{mine}");
    for bad in ["limit=0", "limit=1001", "state=active", "sort=id"] {
        let (s, p, _) = c
            .send(http::Method::GET, &format!("/v1/ports?{bad}"), None, None)
            .await;
        assert_eq!(s, 400, "{bad}: {p}");
    }
    // Its cutover is an hour away on the hub's clock: it is not activating.
    let filtered = c.get("/v1/ports?state=port_activating").await;
    assert!(
        !filtered["data"]
            .as_array()
            .expect("data")
            .iter()
            .any(|p| p["id"] == id),
        "{filtered}"
    );
    // The hub's clock reaches the next full hour: lock, cutover, completion.
    sb.porting.sim.advance(Duration::from_secs(2 * 3600));
    let done = until(&sb, &c, &id, "active", status("active")).await;
    assert_eq!(done["msisdn"], "8613812345678", "{done}");
    assert_eq!(done["port"]["state"], "completed");
    assert!(done["port"]["completed_at"].is_string());
    let line = c.get("/v1/subscriptions/8613812345678").await;
    assert_eq!(line["state"], "active", "{line}");
    let hlr = sb.hlr_sim.as_ref().expect("hlr sim");
    let imsi = done["imsi"].as_str().expect("imsi").parse().expect("imsi");
    assert_eq!(
        hlr.hlr(&imsi).map(|h| h.msisdn.to_string()).as_deref(),
        Some("8613812345678")
    );
    // Every transition is an event.
    let events = c.get("/v1/events?limit=200").await;
    let kinds: Vec<&str> = events["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter(|e| e["data"]["order_id"] == id)
        .filter_map(|e| e["type"].as_str())
        .collect();
    for k in [
        "port.submitted",
        "port.scheduled",
        "port.locked",
        "port.completed",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    shutdown(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_uk_runs_on_a_temporary_number_until_cutover_and_a_cancel_before_the_lock_gives_everything_back()
 {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = sandbox(dir.path()).await;
    let (c, iccids) = uk(&sb);
    let hlr = sb.hlr_sim.as_ref().expect("hlr sim");

    // A port cancelled before its lock point: the hub is told, the HLR line on the
    // temporary number is removed, the card and the temporary number go back.
    let (s, o) = c.order(&uk_port(&iccids[0], "447911000001")).await;
    assert_eq!(s, 202, "{o}");
    let cancelled_id = o["id"].as_str().expect("id").to_owned();
    let temp = o["port"]["temporary_number"]
        .as_str()
        .expect("the UK issues a temporary number")
        .to_owned();
    assert_eq!(o["msisdn"], temp.as_str());
    let scheduled = until(
        &sb,
        &c,
        &cancelled_id,
        "port_scheduled",
        status("port_scheduled"),
    )
    .await;
    let imsi = scheduled["imsi"]
        .as_str()
        .expect("imsi")
        .parse()
        .expect("imsi");
    assert_eq!(
        hlr.hlr(&imsi).map(|h| h.msisdn.to_string()).as_deref(),
        Some(temp.as_str()),
        "the line runs on its temporary number meanwhile"
    );
    let path = format!("/v1/orders/{cancelled_id}/cancel");
    let (s, v, _) = c.send(http::Method::POST, &path, None, None).await;
    assert_eq!(s, 202, "{v}");
    assert_eq!(v["cancel_requested"], true);
    let gone = until(
        &sb,
        &c,
        &cancelled_id,
        "port_cancelled",
        status("port_cancelled"),
    )
    .await;
    assert_eq!(gone["error"]["code"], "port_cancelled", "{gone}");
    assert_eq!(gone["port"]["state"], "cancelled");
    assert_eq!(sim_state(&c, &iccids[0]).await, "available");
    assert!(hlr.hlr(&imsi).is_none(), "the temporary line is removed");
    assert!(
        !quarantined(&c).await.contains(&temp),
        "the temporary number went back to the pool"
    );
    let ref_ = gone["port"]["external_ref"].as_str().expect("port ref");
    assert_eq!(
        sb.porting.sim.port(ref_).map(|p| p.state),
        Some(conformance::porting_sim::PortState::Cancelled)
    );
    // A second cancel of a finished port changes nothing.
    let (s, v, _) = c.send(http::Method::POST, &path, None, None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (409, Some("order_finished")),
        "{v}"
    );

    // The happy path: locked at 17:00 the working day before, cut over the next working
    // day; the ported number replaces the temporary one on the same HLR subscriber.
    let (s, o) = c.order(&uk_port(&iccids[1], "447911000002")).await;
    assert_eq!(s, 202, "{o}");
    let id = o["id"].as_str().expect("id").to_owned();
    let temp = o["port"]["temporary_number"]
        .as_str()
        .expect("temp")
        .to_owned();
    let scheduled = until(&sb, &c, &id, "port_scheduled", status("port_scheduled")).await;
    let lock_at = scheduled["port"]["lock_at"]
        .as_str()
        .expect("lock_at")
        .to_owned();
    assert!(lock_at.ends_with(":00:00.000Z"), "{lock_at}");
    // A port waiting for its hub holds its card and its temporary line: reconciliation
    // sees no orphan.
    let (s, report, _) = c
        .send(
            http::Method::POST,
            "/v1/reconciliations",
            None,
            Some(&json!({})),
        )
        .await;
    assert_eq!(
        (s, report["differences"].as_u64()),
        (201, Some(0)),
        "{report}"
    );
    sb.porting.sim.advance(Duration::from_secs(5 * 24 * 3600));
    let done = until(&sb, &c, &id, "active", status("active")).await;
    assert_eq!(done["msisdn"], "447911000002", "{done}");
    let imsi = done["imsi"].as_str().expect("imsi").parse().expect("imsi");
    assert_eq!(
        hlr.hlr(&imsi).map(|h| h.msisdn.to_string()).as_deref(),
        Some("447911000002")
    );
    assert!(
        quarantined(&c).await.contains(&temp),
        "the temporary number is quarantined"
    );
    let line = c.get("/v1/subscriptions/447911000002").await;
    assert_eq!(line["state"], "active", "{line}");
    // Past its lock point a port can no longer be cancelled.
    let (s, v, _) = c
        .send(
            http::Method::POST,
            &format!("/v1/orders/{id}/cancel"),
            None,
            None,
        )
        .await;
    assert_eq!(s, 409, "{v}");
    shutdown(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_rejection_reason_ends_the_port_with_its_own_code_and_what_to_do() {
    use conformance::porting_sim::{Behaviour, Outcome};
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = sandbox(dir.path()).await;
    let (c, iccids) = uk(&sb);
    let reasons = [
        "credential_invalid",
        "credential_expired",
        "credential_msisdn_mismatch",
        "number_not_portable",
        "account_mismatch",
        "pending_port_exists",
        "contract_lock",
        "line_not_active",
    ];
    let mut details = std::collections::HashSet::new();
    for (i, reason) in reasons.iter().enumerate() {
        let number = format!("4479110001{i:02}");
        let r = adapters::porting::RejectReason::parse(reason, "reason").expect("reason");
        sb.porting.sim.set_donor(
            Some(&number),
            Behaviour {
                outcome: Outcome::Reject(r),
                delay_ms: 0,
                range_holder: None,
            },
        );
        let (s, o) = c.order(&uk_port(&iccids[10 + i], &number)).await;
        assert_eq!(s, 202, "{o}");
        let id = o["id"].as_str().expect("id").to_owned();
        let v = until(&sb, &c, &id, "port_rejected", status("port_rejected")).await;
        assert_eq!(v["error"]["code"], *reason, "{v}");
        let detail = v["error"]["detail"].as_str().expect("detail");
        assert!(detail.contains("customer"), "{detail}");
        assert!(
            details.insert(detail.to_owned()),
            "each reason has its own detail"
        );
        assert_eq!(v["port"]["timeline"][1]["actor"], "donor", "{v}");
        assert_eq!(sim_state(&c, &iccids[10 + i]).await, "available");
    }
    shutdown(sb).await;
}

fn market_client(sb: &Sandbox, market: &str) -> (Client, Vec<String>) {
    let m = sb
        .info
        .markets
        .get(market)
        .unwrap_or_else(|| panic!("markets.{market} in sandbox.json"));
    (Client::new(sb, &m.api_key), m.physical_iccids.clone())
}

fn store_port(iccid: &str, msisdn: Value) -> Value {
    json!({
        "sim": {"type": "physical", "iccid": iccid},
        "product": "sandbox-basic",
        "channel": {"kind": "store", "store_id": "SZ-0042", "terminal_id": "T7", "staff_id": "C1"},
        "msisdn": msisdn
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_us_port_with_account_and_pin_completes_at_its_foc() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = sandbox(dir.path()).await;
    let (c, iccids) = market_client(&sb, "us");
    // The US credential is the donor account number and PIN, both required.
    let (s, p) = c
        .order(&store_port(
            &iccids[0],
            json!({"mode": "port_in", "number": "12125550123", "donor": "ATT", "account": {"number": "123456789"}}),
        ))
        .await;
    assert_eq!(
        (s, p["code"].as_str()),
        (422, Some("credential_invalid")),
        "{p}"
    );
    let (s, o) = c
        .order(&store_port(
            &iccids[0],
            json!({"mode": "port_in", "number": "12125550123", "donor": "ATT", "account": {"number": "123456789", "pin": "4321"}}),
        ))
        .await;
    assert_eq!(s, 202, "{o}");
    assert!(!o.to_string().contains("4321"), "the PIN never shows: {o}");
    let id = o["id"].as_str().expect("id").to_owned();
    assert!(o["port"]["temporary_number"].is_string(), "{o}");
    let scheduled = until(&sb, &c, &id, "port_scheduled", |v| {
        matches!(v["status"].as_str(), Some("port_scheduled" | "port_locked"))
    })
    .await;
    assert!(
        scheduled["port"]["promised_at"].is_string(),
        "the FOC: {scheduled}"
    );
    sb.porting.sim.advance(Duration::from_secs(5 * 24 * 3600));
    let done = until(&sb, &c, &id, "active", status("active")).await;
    assert_eq!(done["msisdn"], "12125550123", "{done}");
    shutdown(sb).await;
}

/// A French RIO for `number` (E.164), with its control key.
fn rio(number: &str) -> String {
    let head = b"01P123456";
    let national = gateway::porting::rio::national_number(number).expect("French mobile");
    let key = gateway::porting::rio::control_key(head, &national).expect("key");
    format!(
        "{}{}",
        std::str::from_utf8(head).expect("ascii"),
        std::str::from_utf8(&key).expect("ascii")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn france_cancels_until_the_lock_and_ports_after_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = sandbox(dir.path()).await;
    let (c, iccids) = market_client(&sb, "eu-fr");
    // France: prepaid lines carry the subscriber's identity.
    let port = |iccid: &str, number: &str, credential: &str| {
        let mut body = store_port(
            iccid,
            json!({"mode": "port_in", "number": number, "donor": "SFR", "credential": credential}),
        );
        body["subscriber"] = json!({
            "name": "Jeanne Martin", "id_type": "passport", "id_number": "18AB12345",
            "nationality": "FRA", "capture": {"method": "manual"},
            "evidence": {"video": {"id": format!("v-{number}")}}
        });
        body
    };
    // A RIO whose key does not match the number is refused before anything is reserved.
    let (s, p) = c
        .order(&port(&iccids[0], "33698765432", &rio("33698765431")))
        .await;
    assert_eq!(
        (s, p["code"].as_str()),
        (422, Some("credential_invalid")),
        "{p}"
    );
    // Cancelled before the lock (GO Portability, the day before): everything goes back.
    let (s, o) = c
        .order(&port(&iccids[0], "33698765432", &rio("33698765432")))
        .await;
    assert_eq!(s, 202, "{o}");
    let id = o["id"].as_str().expect("id").to_owned();
    until(&sb, &c, &id, "port_scheduled", status("port_scheduled")).await;
    let (s, v, _) = c
        .send(
            http::Method::POST,
            &format!("/v1/orders/{id}/cancel"),
            None,
            None,
        )
        .await;
    assert_eq!(s, 202, "{v}");
    until(&sb, &c, &id, "port_cancelled", status("port_cancelled")).await;
    assert_eq!(sim_state(&c, &iccids[0]).await, "available");
    // Another port: past its lock it cannot be cancelled, and it completes.
    let (s, o) = c
        .order(&port(&iccids[1], "33698765433", &rio("33698765433")))
        .await;
    assert_eq!(s, 202, "{o}");
    let id = o["id"].as_str().expect("id").to_owned();
    let scheduled = until(&sb, &c, &id, "port_scheduled", status("port_scheduled")).await;
    let lock_at = scheduled["port"]["lock_at"]
        .as_str()
        .expect("lock_at")
        .to_owned();
    let due = scheduled["port"]["promised_at"]
        .as_str()
        .expect("promised_at")
        .to_owned();
    assert!(lock_at < due, "{lock_at} before {due}");
    // Move the hub to just past the lock: the port locks, a cancel is refused.
    let hub_now = sb.porting.sim.now().unix_ms();
    let lock_ms = adapters::porting::UtcTime::parse(&lock_at, "lock_at")
        .expect("time")
        .unix_ms();
    sb.porting.sim.advance(Duration::from_millis(
        lock_ms.saturating_sub(hub_now) + 1_000,
    ));
    until(&sb, &c, &id, "port_locked", status("port_locked")).await;
    let (s, v, _) = c
        .send(
            http::Method::POST,
            &format!("/v1/orders/{id}/cancel"),
            None,
            None,
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (409, Some("port_locked")), "{v}");
    sb.porting.sim.advance(Duration::from_secs(5 * 24 * 3600));
    let done = until(&sb, &c, &id, "active", status("active")).await;
    assert_eq!(done["msisdn"], "33698765433", "{done}");
    shutdown(sb).await;
}

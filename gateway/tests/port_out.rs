//! Port-out orders (we are the donor) over HTTPS against the sandbox's market tenants and
//! its porting hub simulator, the hub's clock driven from the test: a credential issued
//! through the API is accepted when the recipient presents it, and at cutover the line
//! leaves the HLR, its SIM is retired and its number is never ours again; a wrong
//! credential, a US account mismatch, a number that is not a live line of ours and a
//! China MVNO-block number are each refused with their reason, and the line stays.

mod common;

use adapters::porting::{Account, AccountNumber, AccountPin, Credential, Market, Ref};
use common::market::{Client, sandbox, sim_state};
use common::sandbox::shutdown;
use conformance::porting_sim::{Action, Operation, PortOutCommand, PortState, Rule};
use gateway::api::port_out::port_out_order_id;
use gateway::sandbox::Sandbox;
use serde_json::{Value, json};
use std::time::Duration;

fn market(sb: &Sandbox, name: &str) -> (Client, Vec<String>) {
    let m = sb
        .info
        .markets
        .get(name)
        .unwrap_or_else(|| panic!("markets.{name} in sandbox.json"));
    (Client::new(sb, &m.api_key), m.physical_iccids.clone())
}

/// Opens a line on `iccid` with a number from the tenant's pool; returns (number, IMSI).
async fn line(c: &Client, iccid: &str) -> (String, String) {
    let body = json!({
        "sim": {"type": "physical", "iccid": iccid},
        "product": "sandbox-basic",
        "channel": {"kind": "store", "store_id": "SZ-0042", "terminal_id": "T7", "staff_id": "C1"},
        "msisdn": {"mode": "auto"}
    });
    let (s, o) = c.order(&body).await;
    assert_eq!(s, 202, "{o}");
    let id = o["id"].as_str().expect("id");
    let done = c.settle(&format!("/v1/activations/{id}")).await;
    assert_eq!(done["status"], "active", "{done}");
    (
        done["msisdn"].as_str().expect("msisdn").to_owned(),
        done["imsi"].as_str().expect("imsi").to_owned(),
    )
}

async fn issue(c: &Client, msisdn: &str) -> Value {
    let (s, v, _) = c
        .send(
            http::Method::POST,
            &format!("/v1/subscriptions/{msisdn}/port-out-credential"),
            None,
            Some(&json!({"authentication": {"method": "sms_otp", "reference": "otp-1"}})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    v
}

fn request(market: Market, number: &str) -> PortOutCommand {
    PortOutCommand {
        market,
        number: number.parse().expect("number"),
        recipient: None,
        donor: None,
        credential: None,
        account: None,
        requested_at: None,
        respond_by: None,
    }
}

fn code(s: &str) -> Credential {
    Credential::parse(s, "credential").expect("credential")
}

/// Polls the hub's port until `pred` holds (bounded; not a timing assertion).
async fn hub_until(
    sb: &Sandbox,
    port_ref: &Ref,
    what: &str,
    pred: impl Fn(PortState) -> bool,
) -> conformance::porting_sim::PortView {
    for _ in 0..3_000 {
        if let Some(p) = sb.porting.sim.port(port_ref.as_str()) {
            if pred(p.state) {
                return p;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "hub port {port_ref} never reached {what}: {:?}\nrequests: {:?}",
        sb.porting.sim.port(port_ref.as_str()),
        sb.porting.sim.requests()
    );
}

/// Polls order `id` until `pred` holds (bounded).
async fn order_until(c: &Client, id: &str, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..3_000 {
        let (s, v, _) = c
            .send(http::Method::GET, &format!("/v1/orders/{id}"), None, None)
            .await;
        if s == 200 && pred(&v) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (s, v, _) = c
        .send(http::Method::GET, &format!("/v1/orders/{id}"), None, None)
        .await;
    panic!("{id} never reached {what}: {s} {v}");
}

fn reason(p: &conformance::porting_sim::PortView) -> Option<String> {
    p.timeline.iter().rev().find_map(|t| t.reason.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_uk_port_out_with_our_pac_takes_the_line_off_and_the_number_leaves_for_good() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = sandbox(dir.path()).await;
    let (c, iccids) = market(&sb, "uk");
    let (msisdn, imsi) = line(&c, &iccids[0]).await;
    // Refused requests name what to fix and change nothing.
    let path = format!("/v1/subscriptions/{msisdn}/port-out-credential");
    for (body, want) in [
        (json!({}), "missing_field"),
        (
            json!({"authentication": {"method": "guess"}}),
            "invalid_value",
        ),
        (
            json!({"authentication": {"method": "sms_otp"}, "x": 1}),
            "unknown_field",
        ),
    ] {
        let (s, p, _) = c.send(http::Method::POST, &path, None, Some(&body)).await;
        assert_eq!((s, p["code"].as_str()), (400, Some(want)), "{body}: {p}");
    }
    let (s, p, _) = c
        .send(
            http::Method::POST,
            "/v1/subscriptions/447700999999/port-out-credential",
            None,
            Some(&json!({"authentication": {"method": "sms_otp"}})),
        )
        .await;
    assert_eq!(
        (s, p["code"].as_str()),
        (404, Some("subscription_not_found")),
        "{p}"
    );
    let issued = issue(&c, &msisdn).await;
    let pac = issued["credential"]
        .as_str()
        .expect("credential")
        .to_owned();
    assert_eq!(pac.len(), 9, "{issued}");
    assert_eq!(issued["kind"], "uk_pac");
    assert!(
        issued["expires_at"].is_string(),
        "a PAC lasts 30 days: {issued}"
    );

    let mut req = request(Market::Uk, &msisdn);
    req.credential = Some(code(&pac));
    let port_ref = sb.porting.sim.port_out_request(req).expect("port-out");
    let id = port_out_order_id(port_ref.as_str());
    let accepted = order_until(&c, &id, "accepted", |v| v["status"] == "port_out_accepted").await;
    assert_eq!(accepted["kind"], "port_out", "{accepted}");
    hub_until(&sb, &port_ref, "scheduled", |s| s == PortState::Scheduled).await;
    // Listed among the open ports.
    let listed = c.get("/v1/ports").await;
    assert!(
        listed["data"]
            .as_array()
            .expect("data")
            .iter()
            .any(|p| p["id"] == id),
        "{listed}"
    );
    // The hub's clock reaches the lock and the cutover: the line leaves the network.
    sb.porting.sim.advance(Duration::from_secs(5 * 86_400));
    let done = order_until(&c, &id, "completed", |v| v["status"] == "completed").await;
    assert_eq!(done["port"]["state"], "completed", "{done}");
    hub_until(&sb, &port_ref, "completed", |s| s == PortState::Completed).await;
    let hlr = sb.hlr_sim.as_ref().expect("hlr sim");
    assert!(
        hlr.hlr(&imsi.parse().expect("imsi")).is_none(),
        "HLR still has the line"
    );
    assert_eq!(sim_state(&c, &iccids[0]).await, "retired");
    let (s, sub, _) = c
        .send(
            http::Method::GET,
            &format!("/v1/subscriptions/{msisdn}"),
            None,
            None,
        )
        .await;
    assert!(s == 404 || sub["state"] == "terminated", "{s} {sub}");
    // Not quarantined as ours: it belongs to the recipient now.
    let q = c.get("/v1/numbers/quarantine").await;
    assert!(!q.to_string().contains(&msisdn), "{q}");
    // Every step is an event; none carries the PAC.
    let events = c.get("/v1/events?limit=500").await;
    assert!(
        !events.to_string().contains(&pac),
        "the PAC leaked into events"
    );
    let kinds: Vec<&str> = events["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    for k in [
        "port_out.credential_issued",
        "port_out.requested",
        "port_out.accepted",
        "port_out.locked",
        "port_out.completed",
        "subscription.terminated",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    shutdown(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_out_requests_are_refused_with_their_reason_and_the_line_stays() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = sandbox(dir.path()).await;
    let (uk, uk_iccids) = market(&sb, "uk");
    let (msisdn, imsi) = line(&uk, &uk_iccids[1]).await;
    issue(&uk, &msisdn).await;
    let hlr = sb.hlr_sim.as_ref().expect("hlr sim");

    // A PAC that is not the one we issued.
    let mut req = request(Market::Uk, &msisdn);
    req.credential = Some(code("ABC123456"));
    let port_ref = sb.porting.sim.port_out_request(req).expect("port-out");
    let p = hub_until(&sb, &port_ref, "rejected", |s| s == PortState::Rejected).await;
    assert_eq!(reason(&p).as_deref(), Some("credential_invalid"), "{p:?}");
    let id = port_out_order_id(port_ref.as_str());
    let o = order_until(&uk, &id, "failed", |v| v["status"] == "port_out_rejected").await;
    assert_eq!(o["error"]["code"], "port_out_refused", "{o}");
    assert_eq!(
        uk.get(&format!("/v1/subscriptions/{msisdn}")).await["state"],
        "active"
    );
    assert!(hlr.hlr(&imsi.parse().expect("imsi")).is_some());

    // A number that is no live line of ours: answered at once, no order.
    let mut req = request(Market::Uk, "447700909999");
    req.credential = Some(code("ABC123456"));
    let port_ref = sb.porting.sim.port_out_request(req).expect("port-out");
    let p = hub_until(&sb, &port_ref, "rejected", |s| s == PortState::Rejected).await;
    assert_eq!(reason(&p).as_deref(), Some("line_not_active"), "{p:?}");

    // US: the account number and transfer PIN must both match.
    let (us, us_iccids) = market(&sb, "us");
    let (us_number, _) = line(&us, &us_iccids[0]).await;
    let issued = issue(&us, &us_number).await;
    let account = issued["account_number"]
        .as_str()
        .expect("account")
        .to_owned();
    let pin = issued["pin"].as_str().expect("pin").to_owned();
    assert_eq!(pin.len(), 6, "{issued}");
    let wrong_pin = if pin == "000000" { "111111" } else { "000000" };
    let mut req = request(Market::Us, &us_number);
    req.account = Some(Account {
        number: AccountNumber::parse(&account, "account_number").expect("account"),
        pin: AccountPin::parse(wrong_pin, "pin").expect("pin"),
    });
    let port_ref = sb.porting.sim.port_out_request(req).expect("port-out");
    let p = hub_until(&sb, &port_ref, "rejected", |s| s == PortState::Rejected).await;
    assert_eq!(reason(&p).as_deref(), Some("account_mismatch"), "{p:?}");
    // The refused order ends; until then the line is busy with it.
    let id = port_out_order_id(port_ref.as_str());
    order_until(&us, &id, "ended", |v| v["status"] == "port_out_rejected").await;
    // The right pair is accepted.
    let mut req = request(Market::Us, &us_number);
    req.account = Some(Account {
        number: AccountNumber::parse(&account, "account_number").expect("account"),
        pin: AccountPin::parse(&pin, "pin").expect("pin"),
    });
    let port_ref = sb.porting.sim.port_out_request(req).expect("port-out");
    hub_until(&sb, &port_ref, "scheduled", |s| s == PortState::Scheduled).await;

    // China: the MVNO blocks never port, and no credential is issued for them.
    let (cn, _) = market(&sb, "cn");
    let (s, p, _) = cn
        .send(
            http::Method::POST,
            "/v1/subscriptions/8617100000001/port-out-credential",
            None,
            Some(&json!({"authentication": {"method": "in_store_id_check"}})),
        )
        .await;
    assert!(matches!(s, 404 | 422), "{s} {p}");
    shutdown(sb).await;
}

/// A line reported lost or stolen while a port-out of its number is scheduled (port-out
/// fraud: someone else holds the PAC): the suspend withdraws the port-out at the hub,
/// answers `409 port_out_withdrawn`, and the same request repeated once the port-out
/// ended suspends the line, which never left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_reported_lost_withdraws_its_open_port_out_then_is_suspended() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = sandbox(dir.path()).await;
    let (c, iccids) = market(&sb, "uk");
    let (msisdn, imsi) = line(&c, &iccids[2]).await;
    let pac = issue(&c, &msisdn).await["credential"]
        .as_str()
        .expect("pac")
        .to_owned();
    let mut req = request(Market::Uk, &msisdn);
    req.credential = Some(code(&pac));
    let port_ref = sb.porting.sim.port_out_request(req).expect("port-out");
    hub_until(&sb, &port_ref, "scheduled", |s| s == PortState::Scheduled).await;
    let id = port_out_order_id(port_ref.as_str());
    order_until(&c, &id, "accepted", |v| v["status"] == "port_out_accepted").await;

    // The hub holds its answer to the withdrawal (a cancellation) for a while, so the
    // port-out is still open when the next request comes; without it the withdrawal
    // could end first and that request rightly go through.
    sb.porting.sim.push_rule(Rule::new(
        Some(Operation::Cancel),
        Action::Delay { ms: 2_000 },
        1,
    ));
    let path = format!("/v1/subscriptions/{msisdn}/suspend");
    let lost = json!({"reason": "lost_or_stolen"});
    let (s, p, _) = c
        .send(http::Method::POST, &path, Some("lost-1"), Some(&lost))
        .await;
    assert_eq!(
        (s, p["code"].as_str(), p["order_id"].as_str()),
        (409, Some("port_out_withdrawn"), Some(id.as_str())),
        "{p}"
    );
    // Another reason does not stop a port-out.
    let (s, p, _) = c
        .send(
            http::Method::POST,
            &path,
            Some("np-1"),
            Some(&json!({"reason": "non_payment"})),
        )
        .await;
    assert_eq!(
        (s, p["code"].as_str()),
        (409, Some("subscription_busy")),
        "{p}"
    );
    let ended = order_until(&c, &id, "withdrawn", |v| {
        v["status"] == "port_out_cancelled"
    })
    .await;
    assert_eq!(ended["error"]["code"], "port_out_withdrawn", "{ended}");
    hub_until(&sb, &port_ref, "cancelled", |s| s == PortState::Cancelled).await;

    // The same request again: the line is suspended, and it never left the HLR.
    let (s, o, _) = c
        .send(http::Method::POST, &path, Some("lost-1"), Some(&lost))
        .await;
    assert_eq!(s, 202, "{o}");
    let done = c
        .settle(&format!("/v1/orders/{}", o["id"].as_str().expect("id")))
        .await;
    assert_eq!(done["status"], "completed", "{done}");
    let line = c.get(&format!("/v1/subscriptions/{msisdn}")).await;
    assert_eq!(line["state"], "suspended", "{line}");
    let hlr = sb.hlr_sim.as_ref().expect("hlr sim");
    assert!(hlr.hlr(&imsi.parse().expect("imsi")).is_some());
    shutdown(sb).await;
}

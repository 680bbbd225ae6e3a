//! A port-out (we are the donor) against a real OsmoHLR (Debian's osmo-hlr) instead of
//! the HLR simulator: the sandbox's gateway provisions osmo-hlr over CTRL, the porting
//! hub simulator asks for the number with the PAC we issued, and at cutover the line is
//! taken off. Everything is read back over CTRL rather than through the gateway: the
//! subscriber exists on osmo-hlr with its number before the cutover, and after it
//! neither its IMSI nor its number finds anything; the SIM is retired and the number
//! recorded `ported_out` by the port-out order.

mod common;

use adapters::osmo::{CtrlClient, CtrlError};
use adapters::porting::{Credential, Market};
use common::market::{Client, sim_state};
use conformance::osmo_peer::OsmoHlrPeer;
use conformance::porting_sim::{PortOutCommand, PortState};
use gateway::api::port_out::port_out_order_id;
use gateway::sandbox::Sandbox;
use gateway::store::dump::DumpTable;
use gateway::store::{NumberRecord, NumberState};
use serde_json::{Value, json};
use std::time::Duration;

/// The sandbox (ephemeral ports, quick retries) provisioning the osmo-hlr at `peer`.
async fn sandbox(dir: &std::path::Path, peer: &OsmoHlrPeer) -> Sandbox {
    let mut c = common::sandbox::esim_config(dir, 0);
    c.esim.callback_listen = None;
    c.porting_hub.callback_listen = Some("127.0.0.1:0".parse().expect("addr"));
    c.hlr.url = Some(peer.url());
    gateway::sandbox::start(c).await.expect("sandbox")
}

/// A CTRL `info` read: the reply, or `None` if OsmoHLR has no such subscriber (any other
/// error fails the test, so an unreachable HLR never passes for "gone").
async fn read(ctrl: &CtrlClient, var: &str) -> Option<String> {
    match ctrl.get(var).await {
        Ok(text) => Some(text),
        Err(CtrlError::Refused(r)) if r == "No such subscriber." => None,
        Err(e) => panic!("CTRL GET {var}: {e}"),
    }
}

/// One field of a CTRL `info` reply (`key<TAB>value` lines).
fn field(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        l.split_once('\t')
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| v.to_owned())
    })
}

/// Polls `what` until `pred` holds (bounded; not a timing assertion).
async fn until<T: std::fmt::Debug>(
    what: &str,
    mut get: impl AsyncFnMut() -> T,
    pred: impl Fn(&T) -> bool,
) -> T {
    let mut last = get().await;
    for _ in 0..3_000 {
        if pred(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        last = get().await;
    }
    panic!("never reached {what}: {last:?}");
}

/// The state of `msisdn` in the store's number pool (through the backend-neutral dump).
async fn number_state(sb: &Sandbox, msisdn: &str) -> Option<NumberState> {
    let mut cursor: Option<String> = None;
    loop {
        let page = sb
            .gateway
            .store
            .dump_page(DumpTable::Numbers, cursor.as_deref(), 1_000)
            .await
            .expect("dump");
        if let Some(row) = page.rows.iter().find(|r| r.key == msisdn) {
            let n: NumberRecord = serde_json::from_value(row.doc.clone()).expect("number");
            return Some(n.state);
        }
        cursor = Some(page.next?);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_out_takes_the_subscriber_off_osmo_hlr_at_cutover() {
    let peer = OsmoHlrPeer::start()
        .await
        .expect("osmo-hlr (apt-get install osmo-hlr)");
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = sandbox(dir.path(), &peer).await;
    assert!(sb.hlr_sim.is_none(), "the sandbox must use osmo-hlr");
    let ctrl = CtrlClient::new(peer.ctrl_addr(), Duration::from_secs(5));
    let m = sb.info.markets.get("uk").expect("markets.uk");
    let c = Client::new(&sb, &m.api_key);
    let iccid = m.physical_iccids[0].clone();

    // A UK line, provisioned on osmo-hlr.
    let (s, o) = c
        .order(&json!({
            "sim": {"type": "physical", "iccid": iccid},
            "product": "sandbox-basic",
            "channel": {"kind": "store", "store_id": "SZ-0042", "terminal_id": "T7", "staff_id": "C1"},
            "msisdn": {"mode": "auto"}
        }))
        .await;
    assert_eq!(s, 202, "{o}");
    let done = c
        .settle(&format!(
            "/v1/activations/{}",
            o["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(done["status"], "active", "{done}");
    let msisdn = done["msisdn"].as_str().expect("msisdn").to_owned();
    let imsi = done["imsi"].as_str().expect("imsi").to_owned();
    // The precondition of the cutover's check: osmo-hlr has the subscriber, on its number.
    let by_imsi = format!("subscriber.by-imsi-{imsi}.info");
    let by_msisdn = format!("subscriber.by-msisdn-{msisdn}.info");
    let before = read(&ctrl, &by_imsi)
        .await
        .expect("the subscriber on osmo-hlr");
    assert_eq!(field(&before, "msisdn").as_deref(), Some(msisdn.as_str()));
    let found = read(&ctrl, &by_msisdn).await.expect("found by its number");
    assert_eq!(field(&found, "imsi").as_deref(), Some(imsi.as_str()));

    // The customer's PAC, presented by the recipient through the hub.
    let (s, issued, _) = c
        .send(
            http::Method::POST,
            &format!("/v1/subscriptions/{msisdn}/port-out-credential"),
            None,
            Some(&json!({"authentication": {"method": "sms_otp", "reference": "otp-1"}})),
        )
        .await;
    assert_eq!(s, 201, "{issued}");
    let pac = issued["credential"].as_str().expect("credential");
    let port_ref = sb
        .porting
        .sim
        .port_out_request(PortOutCommand {
            market: Market::Uk,
            number: msisdn.parse().expect("number"),
            recipient: None,
            donor: None,
            credential: Some(Credential::parse(pac, "credential").expect("PAC")),
            account: None,
            requested_at: None,
            respond_by: None,
        })
        .expect("port-out request");
    let id = port_out_order_id(port_ref.as_str());
    let hub_state = || sb.porting.sim.port(port_ref.as_str()).map(|p| p.state);
    until(
        "scheduled at the hub",
        async || hub_state(),
        |s| *s == Some(PortState::Scheduled),
    )
    .await;
    // Accepted and scheduled, not yet cut over: the subscriber is still there.
    assert!(read(&ctrl, &by_imsi).await.is_some(), "gone before cutover");

    // The hub's clock passes the lock and the cutover.
    sb.porting.sim.advance(Duration::from_secs(5 * 86_400));
    let order = until(
        "completed",
        async || c.get(&format!("/v1/orders/{id}")).await,
        |v: &Value| v["status"] == "completed",
    )
    .await;
    assert_eq!(order["port"]["state"], "completed", "{order}");
    until(
        "completed at the hub",
        async || hub_state(),
        |s| *s == Some(PortState::Completed),
    )
    .await;

    // Read back over CTRL: neither the IMSI nor the number finds a subscriber.
    assert_eq!(
        read(&ctrl, &by_imsi).await,
        None,
        "the IMSI is still on osmo-hlr"
    );
    assert_eq!(
        read(&ctrl, &by_msisdn).await,
        None,
        "the number is still on osmo-hlr"
    );
    assert_eq!(sim_state(&c, &iccid).await, "retired");
    assert_eq!(
        number_state(&sb, &msisdn).await,
        Some(NumberState::PortedOut { order: id.clone() })
    );
    let (s, line, _) = c
        .send(
            http::Method::GET,
            &format!("/v1/subscriptions/{msisdn}"),
            None,
            None,
        )
        .await;
    assert!(s == 404 || line["state"] == "terminated", "{s} {line}");
    sb.shutdown().await;
}

//! Every lifecycle operation against a real OsmoHLR (Debian's osmo-hlr), read back over
//! its CTRL interface rather than through the gateway: suspend and resume with stacked
//! reasons (`nam_cs`/`nam_ps`), number change (the IMSI's `msisdn`), a physical→physical
//! SIM swap (the number on the new IMSI, the old IMSI gone) and terminate (gone).

mod common;

use adapters::osmo::{CtrlClient, CtrlError};
use common::*;
use conformance::osmo_peer::OsmoHlrPeer;
use serde_json::{Value, json};
use std::time::Duration;

/// A harness provisioning a fresh osmo-hlr, and a CTRL client of its own to read it back.
async fn start(cards: u32) -> (OsmoHlrPeer, Harness, CtrlClient) {
    let peer = OsmoHlrPeer::start()
        .await
        .expect("osmo-hlr (apt-get install osmo-hlr)");
    let h = Harness::start_full(cards, |_| {}, Some(peer.ctrl_addr())).await;
    let ctrl = CtrlClient::new(peer.ctrl_addr(), Duration::from_secs(5));
    (peer, h, ctrl)
}

/// Runs an operation on `msisdn` to its end with the operator key; returns the order.
async fn run(h: &Harness, msisdn: &str, op: &str, key: &str, body: Value) -> Value {
    let path = format!("/v1/subscriptions/{msisdn}/{op}");
    let (s, b) = h.post_to(&path, &h.api_key, Some(key), &body).await;
    assert_eq!(s, 202, "{op}: {b}");
    let done = h.wait_order(b["id"].as_str().expect("id")).await;
    assert_eq!(done["status"], "completed", "{op}: {done}");
    done
}

/// One field of a CTRL `info` reply (`key<TAB>value` lines).
fn field(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        l.split_once('\t')
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| v.to_owned())
    })
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

/// The subscriber `imsi` as OsmoHLR shows it (no keys); `None` if it does not exist.
async fn info(ctrl: &CtrlClient, imsi: &str) -> Option<String> {
    read(ctrl, &format!("subscriber.by-imsi-{imsi}.info")).await
}

/// `(nam_cs, nam_ps)` of an existing subscriber.
async fn nam(ctrl: &CtrlClient, imsi: &str) -> (String, String) {
    let text = info(ctrl, imsi).await.expect("subscriber on the HLR");
    (
        field(&text, "nam_cs").expect("nam_cs"),
        field(&text, "nam_ps").expect("nam_ps"),
    )
}

/// The IMSI OsmoHLR finds by `msisdn`, if any.
async fn imsi_by_msisdn(ctrl: &CtrlClient, msisdn: &str) -> Option<String> {
    let text = read(ctrl, &format!("subscriber.by-msisdn-{msisdn}.info")).await?;
    Some(field(&text, "imsi").expect("imsi"))
}

fn pair(cs: &str, ps: &str) -> (String, String) {
    (cs.to_owned(), ps.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stacked_suspensions_bar_and_unbar_osmo_hlr() {
    let (_peer, h, ctrl) = start(1).await;
    let msisdn = h.activate(0).await;
    let imsi = h.cards[0].imsi.clone();
    assert_eq!(nam(&ctrl, &imsi).await, pair("1", "1"));

    run(
        &h,
        &msisdn,
        "suspend",
        "s1",
        json!({"reason": "non_payment"}),
    )
    .await;
    assert_eq!(nam(&ctrl, &imsi).await, pair("0", "0"), "barred");
    run(
        &h,
        &msisdn,
        "suspend",
        "s2",
        json!({"reason": "lost_or_stolen"}),
    )
    .await;
    assert_eq!(nam(&ctrl, &imsi).await, pair("0", "0"));

    run(
        &h,
        &msisdn,
        "resume",
        "r1",
        json!({"reason": "non_payment"}),
    )
    .await;
    assert_eq!(
        nam(&ctrl, &imsi).await,
        pair("0", "0"),
        "lost_or_stolen still holds"
    );
    run(
        &h,
        &msisdn,
        "resume",
        "r2",
        json!({"reason": "lost_or_stolen"}),
    )
    .await;
    assert_eq!(nam(&ctrl, &imsi).await, pair("1", "1"), "no reason left");
    // The number and keys were never touched by the barring writes.
    let text = info(&ctrl, &imsi).await.expect("subscriber");
    assert_eq!(field(&text, "msisdn").as_deref(), Some(msisdn.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_change_renumbers_the_imsi_on_osmo_hlr() {
    let (_peer, h, ctrl) = start(1).await;
    let old = h.activate(0).await;
    let imsi = h.cards[0].imsi.clone();
    let done = run(
        &h,
        &old,
        "number-change",
        "n1",
        json!({"msisdn": {"mode": "auto"}}),
    )
    .await;
    let new = done["new_msisdn"].as_str().expect("new number").to_owned();
    assert_ne!(new, old);
    let text = info(&ctrl, &imsi).await.expect("subscriber");
    assert_eq!(field(&text, "msisdn").as_deref(), Some(new.as_str()));
    assert_eq!(
        imsi_by_msisdn(&ctrl, &new).await.as_deref(),
        Some(imsi.as_str())
    );
    assert_eq!(
        imsi_by_msisdn(&ctrl, &old).await,
        None,
        "the old number is free"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sim_swap_then_terminate_on_osmo_hlr() {
    let (_peer, h, ctrl) = start(2).await;
    let msisdn = h.activate(0).await;
    let (old, new) = (&h.cards[0], &h.cards[1]);
    run(
        &h,
        &msisdn,
        "suspend",
        "w0",
        json!({"reason": "lost_or_stolen"}),
    )
    .await;
    let done = run(
        &h,
        &msisdn,
        "sim-swap",
        "w1",
        json!({"sim": {"type": "physical", "iccid": new.iccid.to_string()}}),
    )
    .await;
    assert_eq!(done["msisdn_holder"], new.iccid.to_string(), "{done}");

    // The number is on the new IMSI, with the new card's keys and the suspension.
    assert_eq!(
        imsi_by_msisdn(&ctrl, &msisdn).await.as_deref(),
        Some(new.imsi.as_str())
    );
    let all = ctrl
        .get(&format!("subscriber.by-imsi-{}.info-all", new.imsi))
        .await
        .expect("new subscriber");
    assert_eq!(field(&all, "msisdn").as_deref(), Some(msisdn.as_str()));
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    assert_eq!(field(&all, "aud3g.k"), Some(hex(&new.ki)));
    assert_eq!(field(&all, "aud3g.opc"), Some(hex(&new.opc)));
    assert_eq!(
        nam(&ctrl, &new.imsi).await,
        pair("0", "0"),
        "the suspension carried over"
    );
    assert_eq!(info(&ctrl, &old.imsi).await, None, "the old IMSI is gone");

    // Resume on the new card unbars it on the HLR.
    run(
        &h,
        &msisdn,
        "resume",
        "w2",
        json!({"reason": "lost_or_stolen"}),
    )
    .await;
    assert_eq!(nam(&ctrl, &new.imsi).await, pair("1", "1"));

    run(&h, &msisdn, "terminate", "w3", json!({})).await;
    assert_eq!(info(&ctrl, &new.imsi).await, None, "the subscriber is gone");
    assert_eq!(imsi_by_msisdn(&ctrl, &msisdn).await, None);
    let (s, sub) = h
        .get_as(&h.api_key, &format!("/v1/sims/{}", new.iccid))
        .await;
    assert_eq!((s, sub["state"].as_str()), (200, Some("retired")), "{sub}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminate_of_a_suspended_line_removes_it_from_osmo_hlr() {
    let (_peer, h, ctrl) = start(1).await;
    let msisdn = h.activate(0).await;
    let imsi = h.cards[0].imsi.clone();
    run(
        &h,
        &msisdn,
        "suspend",
        "t0",
        json!({"reason": "fraud_risk"}),
    )
    .await;
    assert_eq!(nam(&ctrl, &imsi).await, pair("0", "0"));
    run(&h, &msisdn, "terminate", "t1", json!({})).await;
    assert_eq!(info(&ctrl, &imsi).await, None, "the subscriber is gone");
    assert_eq!(imsi_by_msisdn(&ctrl, &msisdn).await, None);
}

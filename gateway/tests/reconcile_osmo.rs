//! Reconciliation against a real OsmoHLR (Debian's osmo-hlr), read over CTRL: subscribers
//! changed behind the gateway's back through CTRL are found, and the AUC's readable keys
//! agree with the cards' (no `wrong_auth`).

mod common;

use adapters::osmo::CtrlClient;
use bytes::Bytes;
use common::*;
use conformance::osmo_peer::OsmoHlrPeer;
use serde_json::Value;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_reads_osmo_hlr_over_ctrl() {
    let peer = OsmoHlrPeer::start()
        .await
        .expect("osmo-hlr (apt-get install osmo-hlr)");
    let h = Harness::start_full(4, |_| {}, Some(peer.ctrl_addr())).await;
    for i in 0..3 {
        h.activate(i).await;
    }
    let reconcile = || async {
        let url = format!("{}/v1/reconciliations", h.base);
        let auth = [("authorization", format!("Bearer {}", h.api_key))];
        let r = h.client.post(&url, &auth, Bytes::new()).await;
        let (status, _, body) = parts(r.expect("request"));
        assert_eq!(status, 201, "{body}");
        body
    };
    let report = reconcile().await;
    assert_eq!(report["hlr"], "osmo-ctrl");
    assert_eq!(report["clean"], true, "{report}");
    assert_eq!(report["checked"]["lines"], 3);

    let ctrl = CtrlClient::new(peer.ctrl_addr(), Duration::from_secs(5));
    let imsi = |i: usize| h.cards[i].imsi.clone();
    let var = |i: usize, field: &str| format!("subscriber.by-imsi-{}.{field}", imsi(i));
    ctrl.set(&var(0, "msisdn"), "8613899999998")
        .await
        .expect("msisdn");
    ctrl.set("subscriber.delete", &imsi(1))
        .await
        .expect("delete");
    ctrl.set(&var(2, "cs-enabled"), "0").await.expect("cs");
    ctrl.set(&var(2, "ps-enabled"), "0").await.expect("ps");
    ctrl.set("subscriber.create", &imsi(3))
        .await
        .expect("create");

    let report = reconcile().await;
    let mut found: Vec<(String, String)> = report["details"]
        .as_array()
        .expect("details")
        .iter()
        .map(|d: &Value| {
            (
                d["kind"].as_str().expect("kind").to_owned(),
                d["imsi"].as_str().expect("imsi").to_owned(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            ("missing_on_hlr".to_owned(), imsi(1)),
            ("orphan_on_hlr".to_owned(), imsi(3)),
            ("wrong_barring".to_owned(), imsi(2)),
            ("wrong_msisdn".to_owned(), imsi(0)),
        ],
        "{report}"
    );
}

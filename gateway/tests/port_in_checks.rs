//! A port-in's local checks over HTTPS against the sandbox's market tenants, before any
//! port-in order exists: a China MVNO-block number is refused `number_not_portable`, a
//! credential in the wrong format `credential_invalid` naming the field, and each refusal
//! reserves nothing (the card stays available).

mod common;

use common::market::{cn, resident_id, sale, sandbox, sim_state};
use common::sandbox::shutdown;
use serde_json::json;

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
    // A port-in that passes every check is still refused for now, saying why.
    let (s, p) = c.order(&with("8613812345678", "AB12CD")).await;
    assert_eq!(
        (s, p["code"].as_str()),
        (422, Some("msisdn_mode_unsupported")),
        "{p}"
    );
    assert!(
        p["detail"]
            .as_str()
            .is_some_and(|d| d.contains("passed every check")),
        "{p}"
    );
    assert_eq!(sim_state(&c, &iccids[0]).await, "available");
    shutdown(sb).await;
}

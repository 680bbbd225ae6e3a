//! A ported-in number's life after its port (issue 12, §1.6 `Completed`:
//! `PortedIn{range_holder}`), over HTTPS against the sandbox's UK tenant and its porting
//! hub simulator: the hub names the number's range holder on `accepted`; when the line
//! ends (terminate) or lets the number go (number change), a `number_return` step gives
//! the number back to that range holder through the hub, the number never enters our
//! quarantine or pools, and the same number may be ported in again afterwards.

mod common;

use common::market::{Client, next};
use common::sandbox::shutdown;
use conformance::porting_sim::Behaviour;
use gateway::sandbox::Sandbox;
use serde_json::{Value, json};
use std::time::Duration;

fn uk(sb: &Sandbox) -> (Client, Vec<String>) {
    let m = sb.info.markets.get("uk").expect("markets.uk");
    (Client::new(sb, &m.api_key), m.physical_iccids.clone())
}

fn uk_port(iccid: &str, number: &str) -> Value {
    json!({
        "sim": {"type": "physical", "iccid": iccid},
        "product": "sandbox-basic",
        "channel": {"kind": "store", "store_id": "SZ-0042", "terminal_id": "T7", "staff_id": "C1"},
        "msisdn": {"mode": "port_in", "number": number, "donor": "EE", "credential": "ABC123456"}
    })
}

/// Polls order `id` until its status is `want` (bounded; not a timing assertion).
async fn until_status(c: &Client, id: &str, want: &str) -> Value {
    for _ in 0..3_000 {
        let v = c.get(&format!("/v1/orders/{id}")).await;
        if v["status"] == want {
            return v;
        }
        assert_ne!(v["status"], "failed", "{v}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "{id} never reached {want}: {}",
        c.get(&format!("/v1/orders/{id}")).await
    );
}

/// Ports `number` in on `iccid` to completion (the hub's clock driven past the cutover);
/// returns the port's hub reference.
async fn port_in(sb: &Sandbox, c: &Client, iccid: &str, number: &str) -> String {
    let (s, o) = c.order(&uk_port(iccid, number)).await;
    assert_eq!(s, 202, "{o}");
    let id = o["id"].as_str().expect("id").to_owned();
    until_status(c, &id, "port_scheduled").await;
    sb.porting.sim.advance(Duration::from_secs(5 * 24 * 3600));
    let done = until_status(c, &id, "active").await;
    assert_eq!(done["msisdn"], number, "{done}");
    done["port"]["external_ref"]
        .as_str()
        .expect("port ref")
        .to_owned()
}

/// Runs lifecycle `op` on `msisdn` to its end.
async fn operate(c: &Client, msisdn: &str, op: &str, body: Value) -> Value {
    let path = format!("/v1/subscriptions/{msisdn}/{op}");
    let key = format!("ret-{}", next());
    let (s, o, _) = c
        .send(http::Method::POST, &path, Some(&key), Some(&body))
        .await;
    assert_eq!(s, 202, "{o}");
    let done = c
        .settle(&format!("/v1/orders/{}", o["id"].as_str().expect("id")))
        .await;
    assert_eq!(done["status"], "completed", "{done}");
    done
}

async fn quarantined(c: &Client) -> Vec<String> {
    c.get("/v1/numbers/quarantine").await["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|n| n["msisdn"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ported_in_number_goes_back_to_its_range_holder_when_its_line_lets_it_go() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = common::market::sandbox(dir.path()).await;
    let (c, iccids) = uk(&sb);
    let number = "447911000071";
    // The donor is EE, but the number was ported to EE before: its range is Vodafone's.
    sb.porting.sim.set_donor(
        Some(number),
        Behaviour {
            range_holder: Some(adapters::porting::Ref::parse("VODAFONE", "t").expect("ref")),
            ..Behaviour::default()
        },
    );
    let first = port_in(&sb, &c, &iccids[0], number).await;

    // Terminate: the HLR line goes, then the number is returned to its range holder
    // (not the donor), and it is not quarantined as one of ours.
    let done = operate(&c, number, "terminate", json!({})).await;
    let steps = done["steps"].as_array().expect("steps");
    assert!(steps.iter().any(|s| s["name"] == "number_return"), "{done}");
    let port = sb.porting.sim.port(&first).expect("port");
    assert_eq!(port.range_holder.as_deref(), Some("VODAFONE"));
    assert!(port.returned_at.is_some(), "{port:?}");
    assert!(!quarantined(&c).await.contains(&number.to_owned()));
    let returns: Vec<_> = sb
        .porting
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.operation == "return_number")
        .collect();
    assert_eq!(returns.len(), 1, "{returns:?}");
    assert_eq!(returns[0].status, Some(202), "{returns:?}");
    // The number is nobody's here now: it cannot be chosen for a new line…
    let mut choose = uk_port(&iccids[1], number);
    choose["msisdn"] = json!({"mode": "choose", "msisdn": number});
    let (s, p) = c.order(&choose).await;
    assert_ne!(s, 202, "a returned number was assigned again: {p}");

    // …but the customer may bring it back by a new port (its donor's range holder is
    // now the operator that had it, as the hub says).
    sb.porting.sim.set_donor(Some(number), Behaviour::default());
    let second = port_in(&sb, &c, &iccids[1], number).await;
    assert_ne!(first, second);

    // A number change lets the ported-in number go the same way; the new number is ours.
    let changed = operate(
        &c,
        number,
        "number-change",
        json!({"msisdn": {"mode": "auto"}}),
    )
    .await;
    let new_number = changed["new_msisdn"]
        .as_str()
        .expect("new_msisdn")
        .to_owned();
    let port = sb.porting.sim.port(&second).expect("port");
    assert_eq!(port.range_holder.as_deref(), Some("EE"), "{port:?}");
    assert!(port.returned_at.is_some(), "{port:?}");
    assert!(!quarantined(&c).await.contains(&number.to_owned()));
    let line = c.get(&format!("/v1/subscriptions/{new_number}")).await;
    assert_eq!(line["state"], "active", "{line}");
    let (s, gone, _) = c
        .send(
            http::Method::GET,
            &format!("/v1/subscriptions/{number}"),
            None,
            None,
        )
        .await;
    assert_eq!(s, 404, "{gone}");
    shutdown(sb).await;
}

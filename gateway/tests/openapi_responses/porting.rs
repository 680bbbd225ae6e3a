//! Porting against the sandbox's market tenants and its hub simulator: a UK port-in
//! cancelled before its lock point, a UK port-out by PAC taken to completion, a China
//! port-in whose line waits for its number.

use crate::caller::{Caller, expect};
use crate::scenario::physical;
use gateway::sandbox::Sandbox;
use serde_json::{Value, json};

/// A UK port-in, listed and cancelled before its lock point; a UK line's port-out
/// credential.
pub async fn uk(sb: &Sandbox, c: &Caller<'_>) {
    let uk = sb.info.markets.get("uk").expect("markets.uk");
    let key = &uk.api_key;
    let store =
        json!({"kind": "store", "store_id": "SZ-0042", "terminal_id": "T7", "staff_id": "C1"});
    let mut sale = physical(&uk.physical_iccids[0], "sandbox-basic");
    sale["channel"] = store;
    sale["msisdn"] = json!({"mode": "port_in", "number": "447911000001", "donor": "EE", "credential": "ABC123456"});
    let a = c.post(key, "/v1/activations", "uk-1", sale.clone()).await;
    expect(&a, 202);
    let port = a.str("id");
    let scheduled = c
        .until(key, &port, |v| v["status"] == "port_scheduled")
        .await;
    reschedule(c, key, &port, &scheduled).await;
    expect(&c.get(key, "/v1/ports").await, 200);
    expect(&c.get(key, "/v1/ports?limit=0").await, 400);
    expect(
        &c.post_plain(key, &format!("/v1/orders/{port}/cancel"), json!({}))
            .await,
        202,
    );
    c.until(key, &port, |v| v["status"] == "port_cancelled")
        .await;
    expect(
        &c.post_plain(key, &format!("/v1/orders/{port}/cancel"), json!({}))
            .await,
        409,
    );
    sale["sim"]["iccid"] = json!(uk.physical_iccids[1]);
    sale["msisdn"] = json!({"mode": "auto"});
    let a = c.post(key, "/v1/activations", "uk-2", sale).await;
    expect(&a, 202);
    let done = c.settle(key, &a.str("id")).await;
    assert_eq!(done["status"], "active", "{done}");
    let msisdn = done["msisdn"].as_str().expect("msisdn");
    let auth = json!({"authentication": {"method": "sms_otp", "reference": "otp-1"}});
    let path = format!("/v1/subscriptions/{msisdn}/port-out-credential");
    let issued = c.post_plain(key, &path, auth).await;
    expect(&issued, 201);
    // The gaining provider presents the PAC through the hub: a port-out order, accepted,
    // then completed at cutover on the hub's clock.
    let pac = issued.str("credential");
    let request = conformance::porting_sim::PortOutCommand {
        market: adapters::porting::Market::Uk,
        number: msisdn.parse().expect("number"),
        recipient: None,
        donor: None,
        credential: Some(adapters::porting::Credential::parse(&pac, "credential").expect("pac")),
        account: None,
        requested_at: None,
        respond_by: None,
    };
    let port_ref = sb.porting.sim.port_out_request(request).expect("port-out");
    let out = gateway::api::port_out::port_out_order_id(port_ref.as_str());
    c.until(key, &out, |v| v["status"] == "port_out_accepted")
        .await;
    expect(&c.get(key, "/v1/ports").await, 200);
    sb.porting
        .sim
        .advance(std::time::Duration::from_secs(5 * 86_400));
    c.until(key, &out, |v| v["status"] == "completed").await;
    expect(
        &c.post_plain(
            key,
            "/v1/orders/ord_aaaaaaaaaaaaaaaaaaaaaaaaaa/cancel",
            json!({}),
        )
        .await,
        404,
    );
}

/// A China port-in: the line waits for its number (no temporary number) until cutover.
pub async fn china_port_in(sb: &Sandbox, c: &Caller<'_>) {
    let cn = sb.info.markets.get("cn").expect("markets.cn");
    let mut sale = crate::common::market::sale(
        &cn.physical_iccids[0],
        &crate::common::market::resident_id(3),
        "C1",
    );
    sale["msisdn"] = json!({"mode": "port_in", "number": "8613812345678", "donor": "CMCC", "credential": "AB12CD"});
    let a = c
        .post(&cn.api_key, "/v1/activations", "cn-1", sale.clone())
        .await;
    expect(&a, 202);
    let id = a.str("id");
    c.until(&cn.api_key, &id, |v| {
        matches!(v["status"].as_str(), Some("port_scheduled" | "port_locked"))
    })
    .await;
    expect(
        &c.post_plain(&cn.api_key, "/v1/activations/validate", sale)
            .await,
        200,
    );
    sb.porting
        .sim
        .advance(std::time::Duration::from_secs(2 * 3600));
    let done = c.settle(&cn.api_key, &id).await;
    assert_eq!(done["status"], "active", "{done}");
}

/// Moves the scheduled port `port` a week on (or to the next day after that its market
/// ports on), after the refusals of a malformed and an impossible day.
async fn reschedule(c: &Caller<'_>, key: &str, port: &str, scheduled: &Value) {
    let path = format!("/v1/orders/{port}/reschedule");
    let day = |d: gateway::porting::Day| json!({"requested_date": d.to_string()});
    expect(
        &c.post_plain(key, &path, json!({"requested_date": "soon"}))
            .await,
        400,
    );
    let promised = scheduled["port"]["promised_at"]
        .as_str()
        .expect("promised_at");
    let n = |r: std::ops::Range<usize>| promised.get(r).and_then(|x| x.parse::<u8>().ok());
    let year: i64 = promised[0..4].parse().expect("year");
    let mut next = gateway::porting::Day::from_ymd(year, n(5..7).expect("m"), n(8..10).expect("d"))
        .expect("day")
        .plus(7);
    // Ten years on: beyond any calendar.
    expect(&c.post_plain(key, &path, day(next.plus(3_650))).await, 422);
    for _ in 0..10 {
        let a = c.post_plain(key, &path, day(next)).await;
        if a.status == 202 {
            return;
        }
        expect(&a, 422);
        next = next.plus(1);
    }
    panic!("no day in ten a week after {promised} was taken");
}

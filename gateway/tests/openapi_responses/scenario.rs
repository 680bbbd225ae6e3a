//! The happy paths and the main refusals of every area, on the sandbox tenant (and the UK
//! market tenant for porting). Each answer is checked by the caller; the expectations here
//! only make sure the scenario reaches the states it means to.

use crate::caller::{Body, Caller, expect};
use gateway::sandbox::Sandbox;
use http::Method;
use serde_json::{Value, json};

pub fn physical(iccid: &str, product: &str) -> Value {
    json!({"sim": {"type": "physical", "iccid": iccid}, "product": product})
}

/// Runs every area in turn.
pub async fn run(sb: &Sandbox, c: &Caller<'_>) {
    let ops = ["/healthz", "/readyz", "/openapi.json"];
    for p in ops {
        let a = c.call(None, Method::GET, p, None, Body::None).await;
        expect(&a, 200);
    }
    let line = activations(sb, c).await;
    esim(sb, c).await;
    lifecycle(sb, c, &line).await;
    numbers(sb, c).await;
    inventory(c, &sb.info.api_keys.operator).await;
    webhooks_and_events(c, &sb.info.api_keys.operator).await;
    compliance(c, &sb.info.api_keys.operator).await;
    crate::porting::uk(sb, c).await;
    crate::porting::china_port_in(sb, c).await;
    let a = c
        .call(
            Some(&sb.info.api_keys.operator),
            Method::POST,
            "/v1/reconciliations",
            None,
            Body::None,
        )
        .await;
    expect(&a, 201);
}

/// Physical activations and their refusals; returns the active line's number.
async fn activations(sb: &Sandbox, c: &Caller<'_>) -> String {
    let (op, ch) = (&sb.info.api_keys.operator, &sb.info.api_keys.channel);
    let product = &sb.info.product;
    let iccid = &sb.info.physical_iccids[0];
    let body = physical(iccid, product);
    let a = c.post(ch, "/v1/activations", "act-1", body.clone()).await;
    expect(&a, 202);
    let id = a.str("id");
    let replay = c.post(ch, "/v1/activations", "act-1", body.clone()).await;
    expect(&replay, 202);
    assert!(replay.headers.contains_key("idempotent-replayed"));
    let other = physical(&sb.info.physical_iccids[1], product);
    expect(
        &c.post(ch, "/v1/activations", "act-1", other.clone()).await,
        422,
    );
    let a = c
        .call(
            Some(ch),
            Method::POST,
            "/v1/activations",
            None,
            Body::Json(body.clone()),
        )
        .await;
    expect(&a, 400);
    let raw = |ct, b: &str| Body::Raw(ct, b.as_bytes().to_vec());
    let a = c
        .call(
            Some(ch),
            Method::POST,
            "/v1/activations",
            Some("act-2"),
            raw(Some("application/json"), "{"),
        )
        .await;
    expect(&a, 400);
    let a = c
        .call(
            Some(ch),
            Method::POST,
            "/v1/activations",
            Some("act-3"),
            raw(Some("text/plain"), "{}"),
        )
        .await;
    expect(&a, 415);
    let big = format!("{{\"product\": \"{}\"}}", "x".repeat(2 << 20));
    let a = c
        .call(
            Some(ch),
            Method::POST,
            "/v1/activations",
            Some("act-4"),
            raw(Some("application/json"), &big),
        )
        .await;
    expect(&a, 413);
    let unknown = physical(&sb.info.physical_iccids[1], "no-such-product");
    expect(
        &c.post(ch, "/v1/activations", "act-5", unknown.clone())
            .await,
        422,
    );
    let done = c.settle(ch, &id).await;
    assert_eq!(done["status"], "active", "{done}");
    expect(
        &c.post(ch, "/v1/activations", "act-6", body.clone()).await,
        409,
    );
    expect(
        &c.post_plain(ch, "/v1/activations/validate", other).await,
        200,
    );
    expect(
        &c.post_plain(ch, "/v1/activations/validate", unknown).await,
        422,
    );
    expect(
        &c.post_plain(ch, "/v1/activations/validate", json!({"sim": 1}))
            .await,
        400,
    );
    expect(&c.get(ch, &format!("/v1/activations/{id}")).await, 200);
    expect(
        &c.get(ch, "/v1/activations/act_aaaaaaaaaaaaaaaaaaaaaaaaaa")
            .await,
        404,
    );
    for qr in ["qr.png", "qr.svg"] {
        expect(&c.get(ch, &format!("/v1/activations/{id}/{qr}")).await, 422);
        expect(&c.get(ch, &format!("/v1/orders/{id}/{qr}")).await, 422);
    }
    expect(&c.get(op, &format!("/v1/orders/{id}")).await, 200);
    done["msisdn"].as_str().expect("msisdn").to_owned()
}

/// An eSIM activation: its QR codes once active.
async fn esim(sb: &Sandbox, c: &Caller<'_>) {
    let ch = &sb.info.api_keys.channel;
    let body = json!({"sim": {"type": "esim"}, "product": sb.info.product});
    let a = c.post(ch, "/v1/activations", "esim-1", body).await;
    expect(&a, 202);
    let id = a.str("id");
    let done = c.settle(ch, &id).await;
    assert_eq!(done["status"], "active", "{done}");
    for qr in ["qr.png", "qr.svg"] {
        expect(&c.get(ch, &format!("/v1/activations/{id}/{qr}")).await, 200);
        expect(&c.get(ch, &format!("/v1/orders/{id}/{qr}")).await, 200);
    }
}

/// Every lifecycle operation on one line, and their refusals.
async fn lifecycle(sb: &Sandbox, c: &Caller<'_>, msisdn: &str) {
    let op = &sb.info.api_keys.operator;
    let line = format!("/v1/subscriptions/{msisdn}");
    expect(&c.get(op, "/v1/subscriptions").await, 200);
    expect(
        &c.get(op, "/v1/subscriptions?state=active&limit=1").await,
        200,
    );
    expect(&c.get(op, "/v1/subscriptions?limit=0").await, 400);
    expect(&c.get(op, &line).await, 200);
    expect(&c.get(op, &format!("{line}/history")).await, 200);
    expect(
        &c.get(op, "/v1/subscriptions/8617099999999/history").await,
        404,
    );
    let evidence = json!({"evidence": {"video": {"id": "v-1"}}, "result": "passed"});
    expect(
        &c.post_plain(op, &format!("{line}/verification"), evidence)
            .await,
        409,
    );
    let handset = format!("{line}/handset");
    let imei = json!({"imei": "490154203237518"});
    expect(&c.post_plain(op, &handset, imei.clone()).await, 200);
    expect(
        &c.post_plain(op, &handset, json!({"imei": "49"})).await,
        400,
    );
    let nobody = "/v1/subscriptions/8617099999999/handset";
    expect(&c.post_plain(op, nobody, imei).await, 404);
    let credential = json!({"authentication": {"method": "sms_otp"}});
    expect(
        &c.post_plain(op, &format!("{line}/port-out-credential"), credential)
            .await,
        422,
    );
    let reason = json!({"reason": "customer_request"});
    let suspend = format!("{line}/suspend");
    let a = c.post(op, &suspend, "lc-1", reason.clone()).await;
    expect(&a, 202);
    let first = a.str("id");
    // `subscription_busy` while the suspension is in flight, else `suspension_reason_absent`.
    let other = json!({"reason": "non_payment"});
    expect(
        &c.post(op, &format!("{line}/resume"), "lc-2", other).await,
        409,
    );
    c.settle(op, &first).await;
    expect(&c.post(op, &suspend, "lc-4", reason.clone()).await, 409);
    expect(
        &c.post(op, &suspend, "lc-5", json!({"reason": "whim"}))
            .await,
        400,
    );
    let a = c
        .post(op, &format!("{line}/resume"), "lc-6", reason.clone())
        .await;
    expect(&a, 202);
    c.settle(op, &a.str("id")).await;
    expect(
        &c.post(op, &format!("{line}/resume"), "lc-7", reason).await,
        409,
    );
    let a = c
        .post(
            op,
            &format!("{line}/number-change"),
            "lc-8",
            json!({"msisdn": {"mode": "auto"}}),
        )
        .await;
    expect(&a, 202);
    let changed = c.settle(op, &a.str("id")).await;
    let msisdn = changed["new_msisdn"]
        .as_str()
        .expect("new number")
        .to_owned();
    let line = format!("/v1/subscriptions/{msisdn}");
    let new_sim = json!({"sim": {"type": "physical", "iccid": sb.info.physical_iccids[2]}});
    let a = c
        .post(op, &format!("{line}/sim-swap"), "lc-9", new_sim)
        .await;
    expect(&a, 202);
    c.settle(op, &a.str("id")).await;
    let unknown = json!({"sim": {"type": "physical", "iccid": "89860000000000000001"}});
    expect(
        &c.post(op, &format!("{line}/sim-swap"), "lc-10", unknown)
            .await,
        422,
    );
    let a = c
        .post(op, &format!("{line}/terminate"), "lc-11", json!({}))
        .await;
    expect(&a, 202);
    c.settle(op, &a.str("id")).await;
    // The terminated line's number went to quarantine: no line holds it now.
    expect(
        &c.post(op, &format!("{line}/terminate"), "lc-12", json!({}))
            .await,
        404,
    );
    let a = c.get(op, "/v1/numbers/quarantine").await;
    expect(&a, 200);
    expect(
        &c.post_plain(op, &format!("/v1/numbers/{msisdn}/release"), json!({}))
            .await,
        200,
    );
    expect(
        &c.post_plain(op, &format!("/v1/numbers/{msisdn}/release"), json!({}))
            .await,
        409,
    );
    expect(
        &c.post_plain(op, "/v1/numbers/12ab/release", json!({}))
            .await,
        400,
    );
}

/// Number reservations.
async fn numbers(sb: &Sandbox, c: &Caller<'_>) {
    let ch = &sb.info.api_keys.channel;
    let a = c
        .post(
            ch,
            "/v1/numbers/reservations",
            "nr-1",
            json!({"ttl_seconds": 600}),
        )
        .await;
    expect(&a, 201);
    let held = a.str("msisdn");
    expect(
        &c.get(ch, &format!("/v1/numbers/reservations/{}", a.str("id")))
            .await,
        200,
    );
    expect(
        &c.get(
            ch,
            "/v1/numbers/reservations/res_aaaaaaaaaaaaaaaaaaaaaaaaaa",
        )
        .await,
        404,
    );
    let again = json!({"msisdn": held});
    expect(
        &c.post(ch, "/v1/numbers/reservations", "nr-2", again).await,
        409,
    );
    let foreign = json!({"msisdn": "+491700000001"});
    expect(
        &c.post(ch, "/v1/numbers/reservations", "nr-3", foreign)
            .await,
        422,
    );
    let short = json!({"ttl_seconds": 1});
    expect(
        &c.post(ch, "/v1/numbers/reservations", "nr-4", short).await,
        400,
    );
    expect(&c.get(ch, "/v1/inventory").await, 200);
}

/// A CSV batch of `n` cards for the sandbox tenant's PLMN.
fn csv(first: u32, n: u32) -> Vec<u8> {
    let mut file = String::from("iccid,imsi,ki\n");
    for row in first..first + n {
        let iccid =
            sim_profiles::Iccid::from_payload(&format!("898600770{row:09}")).expect("iccid");
        let ki = gateway::crypto::sha256(&row.to_be_bytes());
        let hex: String = ki[..16].iter().map(|b| format!("{b:02x}")).collect();
        file.push_str(&format!("{iccid},00101{:010},{hex}\n", 7_000_000 + row));
    }
    file.into_bytes()
}

/// Imports, batches, SIM lookups.
async fn inventory(c: &Caller<'_>, op: &str) {
    let import = |query: &str, file: Vec<u8>| {
        let path = format!("/v1/inventory/imports{query}");
        async move {
            c.call(
                Some(op),
                Method::POST,
                &path,
                None,
                Body::Raw(Some("text/csv"), file),
            )
            .await
        }
    };
    let a = import("?format=csv&name=t.csv", csv(1, 3)).await;
    expect(&a, 201);
    let batch = a.str("id");
    expect(&import("?format=csv&name=t.csv", csv(1, 3)).await, 200);
    let mut bad = csv(10, 2);
    bad.extend_from_slice(b"12,34,56\n");
    expect(&import("?format=csv", bad).await, 422);
    expect(&import("", csv(20, 1)).await, 400);
    expect(
        &import("?format=csv&iccid_length=18", csv(20, 1)).await,
        400,
    );
    expect(
        &c.get(op, &format!("/v1/inventory/batches/{batch}")).await,
        200,
    );
    expect(
        &c.get(op, &format!("/v1/inventory/batches/{batch}/sims.csv"))
            .await,
        200,
    );
    expect(&c.get(op, "/v1/inventory/batches/bat_nothing").await, 404);
    expect(
        &c.get(op, "/v1/inventory/batches/bat_nothing/sims.csv")
            .await,
        404,
    );
    let iccid = sim_profiles::Iccid::from_payload("898600770000000001").expect("iccid");
    expect(&c.get(op, &format!("/v1/sims/{iccid}")).await, 200);
    expect(&c.get(op, "/v1/sims/1234").await, 400);
    expect(&c.get(op, "/v1/sims/89860000000000000001").await, 404);
    expect(&c.get(op, "/v1/sims?imsi=001010007000001").await, 200);
    expect(&c.get(op, "/v1/sims?imsi=x").await, 400);
    expect(&c.get(op, "/v1/sims?imsi=001019999999999").await, 404);
}

/// Webhook endpoints, their deliveries, and the event log.
async fn webhooks_and_events(c: &Caller<'_>, op: &str) {
    let a = c.get(op, "/v1/events?limit=5").await;
    expect(&a, 200);
    let event = a.body["data"][0]["id"]
        .as_str()
        .expect("an event")
        .to_owned();
    expect(&c.get(op, "/v1/events?limit=0").await, 400);
    let hook = json!({"url": "http://127.0.0.1:9/hook"});
    let a = c.post_plain(op, "/v1/webhook-endpoints", hook).await;
    expect(&a, 201);
    let id = a.str("id");
    let bad = json!({"url": "ftp://example.com/"});
    let a = c.post_plain(op, "/v1/webhook-endpoints", bad).await;
    assert!(matches!(a.status, 400 | 422), "{}", a.body);
    expect(&c.get(op, "/v1/webhook-endpoints").await, 200);
    let path = format!("/v1/webhook-endpoints/{id}");
    expect(&c.get(op, &path).await, 200);
    expect(
        &c.post_plain(op, &format!("{path}/rotate-secret"), json!({}))
            .await,
        200,
    );
    expect(
        &c.post_plain(op, &format!("{path}/enable"), json!({})).await,
        200,
    );
    expect(&c.get(op, &format!("{path}/deliveries")).await, 200);
    expect(
        &c.post_plain(op, &format!("/v1/events/{event}/redeliver"), json!({}))
            .await,
        202,
    );
    // Nothing listens on port 9: wait for a failed attempt, so its log entry is checked.
    for _ in 0..3_000 {
        let a = c.get(op, &format!("{path}/deliveries?limit=5")).await;
        expect(&a, 200);
        if a.body["data"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|d| d["attempts"].as_u64() > Some(0))
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    expect(&c.delete(op, &path).await, 204);
    expect(&c.get(op, &path).await, 404);
    expect(&c.get(op, &format!("{path}/deliveries")).await, 404);
}

/// The channel registry, the terminal's pairing codes, the blocklists.
async fn compliance(c: &Caller<'_>, op: &str) {
    expect(&c.get(op, "/v1/channels/stores").await, 200);
    expect(
        &c.get(op, "/v1/channels/devices?store_id=SZ-0042").await,
        200,
    );
    expect(&c.get(op, "/v1/channels/nothing").await, 404);
    let hours = json!({"open": "08:00", "close": "22:00", "utc_offset": "+08:00"});
    expect(
        &c.put(
            op,
            "/v1/channels/stores/S-9",
            json!({"label": "Nine", "hours": hours}),
        )
        .await,
        200,
    );
    let clerk = json!({"pin": "482913", "terminal_role": "sales"});
    expect(&c.put(op, "/v1/channels/clerks/S-9/K1", clerk).await, 200);
    expect(
        &c.put(
            op,
            "/v1/channels/devices/S-9/T1",
            json!({"type": "terminal"}),
        )
        .await,
        200,
    );
    expect(
        &c.put(
            op,
            "/v1/channels/devices/S-9/T1",
            json!({"type": "toaster"}),
        )
        .await,
        400,
    );
    let pair = json!({"store_id": "S-9", "terminal_id": "T1"});
    expect(&c.post_plain(op, "/v1/terminal/pairings", pair).await, 201);
    let nobody = json!({"store_id": "S-9", "terminal_id": "T404"});
    expect(
        &c.post_plain(op, "/v1/terminal/pairings", nobody).await,
        404,
    );
    expect(
        &c.post_plain(op, "/v1/terminal/devices/S-9/T1/revoke", json!({}))
            .await,
        200,
    );
    let entry = json!({"list": "imei", "value": "356938035643809", "days": 30, "reason": "stolen"});
    expect(&c.post_plain(op, "/v1/blocklists", entry).await, 201);
    expect(&c.get(op, "/v1/blocklists?list=imei").await, 200);
    expect(&c.get(op, "/v1/blocklists?list=nothing").await, 400);
    expect(
        &c.delete(op, "/v1/blocklists/imei/356938035643809").await,
        204,
    );
    expect(
        &c.delete(op, "/v1/blocklists/imei/356938035643809").await,
        404,
    );
}

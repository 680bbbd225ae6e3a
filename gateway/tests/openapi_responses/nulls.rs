//! The optional request members the server takes as absent when they are `null`, found by
//! going through every request body of the document against its parser: each body with
//! such nulls validates against the document, and a fresh sandbox answers it as it
//! answers the body without those members (2xx where the sandbox can take it). A number
//! change's required `msisdn` sent as null is refused, and the document says so.

use crate::caller::{Answer, Caller, expect};
use crate::common::json_schema::Validator;
use crate::common::sandbox::{esim_config, shutdown};
use crate::scenario::physical;
use serde_json::{Value, json};

/// `body` with each of `members` (a `/`-separated path) set to null.
fn nulled(body: &Value, members: &[&str]) -> Value {
    let mut out = body.clone();
    for m in members {
        let mut at = &mut out;
        let parts: Vec<&str> = m.split('/').collect();
        for p in &parts[..parts.len() - 1] {
            at = &mut at[*p];
        }
        at[parts[parts.len() - 1]] = Value::Null;
    }
    out
}

/// `body` without each of `members`.
fn without(body: &Value, members: &[&str]) -> Value {
    let mut out = body.clone();
    for m in members {
        let mut at = &mut out;
        let parts: Vec<&str> = m.split('/').collect();
        for p in &parts[..parts.len() - 1] {
            at = &mut at[*p];
        }
        if let Some(o) = at.as_object_mut() {
            o.remove(parts[parts.len() - 1]);
        }
    }
    out
}

struct Check<'a> {
    v: Validator,
    doc: &'a Value,
}

impl Check<'_> {
    fn schema(&self, path: &str, method: &str) -> Value {
        self.doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
            .clone()
    }

    /// The body validates against the request schema of `method path`.
    fn valid(&self, path: &str, method: &str, body: &Value) {
        let errors = self.v.validate(&self.schema(path, method), body);
        assert!(errors.is_empty(), "{method} {path} {body}: {errors:?}");
    }
}

/// The null body got the absent body's answer, `status`.
fn same(null: &Answer, absent: &Answer, status: u16, what: &str) {
    assert_eq!(null.status, status, "{what} with nulls: {}", null.body);
    assert_eq!(absent.status, status, "{what} without: {}", absent.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn null_members_are_documented_and_taken_as_absent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = gateway::sandbox::start(esim_config(dir.path(), 2))
        .await
        .expect("sandbox");
    let doc = super::fetch_document(&sb).await;
    let d = doc.doc();
    let ck = Check {
        v: Validator::new(d.clone()),
        doc: d,
    };
    let c = Caller::new(&sb, &doc);
    let op = &sb.info.api_keys.operator;

    // An activation (validated, so nothing is reserved): the EID, the channel's members
    // other than `imei`, and the subscriber's optional members.
    let subscriber = json!({
        "name": "张三", "id_type": "resident_id", "id_number": "11010519491231002X",
        "nationality": "CHN",
        "capture": {"method": "card_reader", "reader_serial": "R-1", "payload_ref": "p-9"},
        "evidence": {"face_match": {"transaction_id": "fm-1", "score": 0.93, "liveness": true},
                     "video": {"id": "v-1"}, "risk_notice": {"id": "n-1"}}});
    let subscriber_schema = json!({"$ref": "#/components/schemas/Subscriber"});
    let channel = [
        "kind",
        "store_id",
        "terminal_id",
        "staff_id",
        "platform",
        "order_ref",
    ];
    let sale = json!({"sim": {"type": "esim", "eid": "89049032000000000000000000000155"},
        "product": "sandbox-basic",
        "channel": {"kind": "online", "store_id": "s", "terminal_id": "t", "staff_id": "c",
                    "platform": "app", "order_ref": "o-1"}});
    let mut members: Vec<String> = channel.iter().map(|k| format!("channel/{k}")).collect();
    members.push("sim/eid".into());
    let members: Vec<&str> = members.iter().map(String::as_str).collect();
    let body = nulled(&sale, &members);
    ck.valid("/v1/activations", "post", &body);
    ck.valid("/v1/activations/validate", "post", &body);
    let a = c.post_plain(op, "/v1/activations/validate", body).await;
    let b = c
        .post_plain(op, "/v1/activations/validate", without(&sale, &members))
        .await;
    same(&a, &b, 200, "activation");
    for members in [
        &[
            "nationality",
            "capture/payload_ref",
            "evidence/face_match",
            "evidence/video",
        ][..],
        &["evidence/risk_notice"],
        &["capture", "evidence"],
    ] {
        let s = nulled(&subscriber, members);
        let errors = ck.v.validate(&subscriber_schema, &s);
        assert!(errors.is_empty(), "subscriber {s}: {errors:?}");
        let mut body = json!({"sim": {"type": "esim"}, "product": "sandbox-basic"});
        body["subscriber"] = s;
        ck.valid("/v1/activations/validate", "post", &body);
        let a = c.post_plain(op, "/v1/activations/validate", body).await;
        expect(&a, 200);
    }

    // A blocklist entry.
    let entry = json!({"list": "imei", "value": "490154203237518", "reason": "stolen"});
    let members = ["days", "id_type", "id_number", "nationality"];
    let mut body = entry.clone();
    for m in members {
        body[m] = Value::Null;
    }
    ck.valid("/v1/blocklists", "post", &body);
    expect(&c.post_plain(op, "/v1/blocklists", body).await, 201);

    // The channel registry, then a pairing whose `tenant` is null, or not a string
    // (ignored, as documented).
    let puts = [
        (
            "/v1/channels/stores/{store_id}",
            "/v1/channels/stores/S-N",
            json!({"label": null, "hours": null}),
        ),
        (
            "/v1/channels/clerks/{store_id}/{clerk_id}",
            "/v1/channels/clerks/S-N/K1",
            json!({"label": null, "pin": null, "terminal_role": null}),
        ),
        (
            "/v1/channels/devices/{store_id}/{device_id}",
            "/v1/channels/devices/S-N/T1",
            json!({"type": "terminal", "label": null}),
        ),
    ];
    for (doc_path, path, body) in puts {
        ck.valid(doc_path, "put", &body);
        expect(&c.put(op, path, body).await, 200);
    }
    for tenant in [Value::Null, json!(5)] {
        let pair = json!({"store_id": "S-N", "terminal_id": "T1", "tenant": tenant});
        ck.valid("/v1/terminal/pairings", "post", &pair);
        expect(&c.post_plain(op, "/v1/terminal/pairings", pair).await, 201);
    }

    // A line of the sandbox tenant: verification (not pending: 409, after the body was
    // read), a SIM swap to an eSIM whose EID is null, a number change to null (refused).
    let a = c
        .post(
            op,
            "/v1/activations",
            "n-1",
            physical(&sb.info.physical_iccids[0], "sandbox-basic"),
        )
        .await;
    expect(&a, 202);
    let line = c.settle(op, &a.str("id")).await;
    let msisdn = line["msisdn"].as_str().expect("msisdn").to_owned();
    let path = format!("/v1/subscriptions/{msisdn}/verification");
    let verification = json!({"evidence": {"video": {"id": "v-1"}}, "result": "passed",
        "transaction_id": "tx-1", "channel": {"kind": "online"}});
    let members = ["transaction_id", "channel"];
    let body = nulled(&verification, &members);
    ck.valid("/v1/subscriptions/{msisdn}/verification", "post", &body);
    let a = c.post_plain(op, &path, body).await;
    let b = c
        .post_plain(op, &path, without(&verification, &members))
        .await;
    same(&a, &b, 409, "verification");
    let swap = json!({"sim": {"type": "esim", "eid": null}});
    ck.valid("/v1/subscriptions/{msisdn}/sim-swap", "post", &swap);
    let a = c
        .post(
            op,
            &format!("/v1/subscriptions/{msisdn}/sim-swap"),
            "n-2",
            swap,
        )
        .await;
    expect(&a, 202);
    let swapped = c.settle(op, &a.str("id")).await;
    assert_eq!(swapped["status"], "completed", "{swapped}");
    let change = json!({"msisdn": null});
    let errors = ck.v.validate(
        &ck.schema("/v1/subscriptions/{msisdn}/number-change", "post"),
        &change,
    );
    assert!(
        !errors.is_empty(),
        "a null number change is documented as valid"
    );
    let a = c
        .post(
            op,
            &format!("/v1/subscriptions/{msisdn}/number-change"),
            "n-3",
            change,
        )
        .await;
    expect(&a, 400);
    assert_eq!(a.str("code"), "missing_field", "{}", a.body);

    // The UK market: a port-in's optional members (validated), and a port-out
    // credential's `reference`.
    let uk = sb.info.markets.get("uk").expect("markets.uk");
    let key = &uk.api_key;
    let store =
        json!({"kind": "store", "store_id": "SZ-0042", "terminal_id": "T7", "staff_id": "C1"});
    let mut sale = physical(&uk.physical_iccids[0], "sandbox-basic");
    sale["channel"] = store;
    let port_in = json!({"mode": "port_in", "number": "447911000002", "donor": "EE",
        "credential": "ABC123456", "account": {"number": "A-1", "pin": "1234"}});
    for members in [
        &["account/number", "account/pin"][..],
        &["account", "requested_date"],
    ] {
        let mut with = sale.clone();
        with["msisdn"] = nulled(&port_in, members);
        ck.valid("/v1/activations/validate", "post", &with);
        let mut bare = sale.clone();
        bare["msisdn"] = without(&port_in, members);
        let a = c.post_plain(key, "/v1/activations/validate", with).await;
        let b = c.post_plain(key, "/v1/activations/validate", bare).await;
        assert_eq!(
            a.status, b.status,
            "port-in {members:?}: {} / {}",
            a.body, b.body
        );
        assert!(
            a.status < 500 && a.status != 400,
            "port-in {members:?}: {}",
            a.body
        );
    }
    // The credential: null answers as absent does (the market's check).
    let mut with = sale.clone();
    with["msisdn"] = nulled(&port_in, &["credential"]);
    ck.valid("/v1/activations/validate", "post", &with);
    let mut bare = sale.clone();
    bare["msisdn"] = without(&port_in, &["credential"]);
    let a = c.post_plain(key, "/v1/activations/validate", with).await;
    let b = c.post_plain(key, "/v1/activations/validate", bare).await;
    assert_eq!(
        (a.status, &a.body["code"]),
        (b.status, &b.body["code"]),
        "credential: {} / {}",
        a.body,
        b.body
    );

    sale["msisdn"] = json!({"mode": "auto"});
    let a = c.post(key, "/v1/activations", "n-uk", sale).await;
    expect(&a, 202);
    let done = c.settle(key, &a.str("id")).await;
    assert_eq!(done["status"], "active", "{done}");
    let msisdn = done["msisdn"].as_str().expect("msisdn");
    let auth = json!({"authentication": {"method": "sms_otp", "reference": null}});
    ck.valid(
        "/v1/subscriptions/{msisdn}/port-out-credential",
        "post",
        &auth,
    );
    let path = format!("/v1/subscriptions/{msisdn}/port-out-credential");
    expect(&c.post_plain(key, &path, auth).await, 201);

    let failures = doc.failures();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    shutdown(sb).await;
}

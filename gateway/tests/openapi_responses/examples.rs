//! The documents' examples: each validates against its own schema (`common::json_schema`),
//! and a fresh sandbox takes every request example of the operations that create
//! something, in an order that leaves each what it needs (2xx, each answer checked
//! against the document as everywhere in this binary).

use crate::caller::{Body, Caller, expect};
use crate::common::json_schema::Validator;
use crate::common::sandbox::{esim_config, shutdown};
use adapters::http::HttpClient;
use bytes::Bytes;
use http::Method;
use serde_json::{Value, json};
use std::time::Duration;

/// Every example in `doc` checked against the schema it illustrates: a schema's own
/// `examples` (parameter schemas included), and the `example`/`examples` of a media type
/// or parameter against its `schema`. Returns how many were checked and what failed.
fn example_errors(doc: &Value) -> (usize, Vec<String>) {
    let v = Validator::new(doc.clone());
    let mut count = 0;
    let mut errors = Vec::new();
    walk(&v, doc, "", &mut count, &mut errors);
    (count, errors)
}

fn walk(v: &Validator, node: &Value, at: &str, count: &mut usize, errors: &mut Vec<String>) {
    let Value::Object(m) = node else {
        if let Value::Array(a) = node {
            for (i, x) in a.iter().enumerate() {
                walk(v, x, &format!("{at}/{i}"), count, errors);
            }
        }
        return;
    };
    match (m.get("schema"), m.get("examples"), m.get("example")) {
        // A media type or parameter: its examples against its schema.
        (Some(schema), examples, example) => {
            if let Some(Value::Object(named)) = examples {
                for (name, ex) in named {
                    let what = format!("{at}/examples/{name}");
                    check(v, schema, &ex["value"], &what, count, errors);
                }
            }
            if let Some(ex) = example {
                check(v, schema, ex, &format!("{at}/example"), count, errors);
            }
        }
        // A schema: its `examples` array against itself.
        (None, Some(Value::Array(list)), _) => {
            for (i, ex) in list.iter().enumerate() {
                check(v, node, ex, &format!("{at}/examples/{i}"), count, errors);
            }
        }
        // Named examples without a schema: the body is free-form (a batch file), so
        // each must at least be text.
        (None, Some(Value::Object(named)), _) => {
            for (name, ex) in named {
                *count += 1;
                if !ex["value"].is_string() {
                    errors.push(format!("{at}/examples/{name}: not text"));
                }
            }
        }
        _ => {}
    }
    for (k, x) in m {
        // The keyword's own members are examples, not schemas.
        if k != "examples" && k != "example" {
            walk(v, x, &format!("{at}/{k}"), count, errors);
        }
    }
}

fn check(
    v: &Validator,
    schema: &Value,
    value: &Value,
    what: &str,
    count: &mut usize,
    errors: &mut Vec<String>,
) {
    *count += 1;
    errors.extend(
        v.validate(schema, value)
            .into_iter()
            .map(|e| format!("{what}: {e}")),
    );
}

/// The named examples of the `media` request body of `method path`.
fn examples(doc: &Value, path: &str, method: &str, media: &str) -> Vec<(String, Value)> {
    let named = doc["paths"][path][method]["requestBody"]["content"][media]["examples"]
        .as_object()
        .unwrap_or_else(|| panic!("{method} {path} has no {media} examples"));
    named
        .iter()
        .map(|(name, ex)| (name.clone(), ex["value"].clone()))
        .collect()
}

/// The one example of the named example `name` of `method path`.
fn example(doc: &Value, path: &str, method: &str, name: &str) -> Value {
    examples(doc, path, method, "application/json")
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("{method} {path}: no example {name}"))
        .1
}

/// The first schema example of parameter `name` of `method path`.
fn parameter_example(doc: &Value, path: &str, method: &str, name: &str) -> String {
    doc["paths"][path][method]["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == name)
        .and_then(|p| p["schema"]["examples"][0].as_str())
        .unwrap_or_else(|| panic!("{method} {path}: no example for {name}"))
        .to_owned()
}

#[test]
fn the_example_checker_fails_a_wrong_example() {
    let doc = json!({"paths": {"/x": {"post": {
        "parameters": [{"name": "n", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]+$", "examples": ["12", "x"]}}],
        "requestBody": {"content": {"application/json": {"schema": {"type": "object", "required": ["a"]},
            "examples": {"good": {"value": {"a": 1}}, "bad": {"value": {}}}}}}}}}});
    let (count, errors) = example_errors(&doc);
    assert_eq!(count, 4);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].contains("examples/1"), "{errors:?}");
    assert!(errors[1].contains("examples/bad"), "{errors:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_validates_and_a_fresh_sandbox_takes_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The examples name the sandbox's first cards, profiles and numbers; four profiles
    // are two activations, a SIM swap to eSIM and one to spare.
    let sb = gateway::sandbox::start(esim_config(dir.path(), 4))
        .await
        .expect("sandbox");
    let doc = super::fetch_document(&sb).await;
    let (count, errors) = example_errors(doc.doc());
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    assert!(count >= 20, "only {count} examples");

    // The callback listener's document, and its example, on that listener.
    let smdp = notifier(&sb);
    let callback = format!("https://{}", sb.gateway.callback_addr.expect("callback"));
    let r = smdp
        .get(&format!("{callback}/openapi.json"), &[])
        .await
        .expect("GET");
    let callback_doc: Value = serde_json::from_slice(&r.body).expect("json");
    let (count, errors) = example_errors(&callback_doc);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    assert!(count >= 1);

    let c = Caller::new(&sb, &doc);
    let key = &sb.info.api_keys.operator;
    let d = doc.doc();
    let iccid = parameter_example(d, "/v1/sims/{iccid}", "get", "iccid");
    expect(&c.get(key, &format!("/v1/sims/{iccid}")).await, 200);
    let imsi = parameter_example(d, "/v1/sims", "get", "imsi");
    expect(&c.get(key, &format!("/v1/sims?imsi={imsi}")).await, 200);

    let json = "application/json";
    for (name, body) in examples(d, "/v1/activations/validate", "post", json) {
        let a = c.post_plain(key, "/v1/activations/validate", body).await;
        assert_eq!(a.status, 200, "validate {name}: {}", a.body);
    }
    // The examples that choose a number go first: the others draw at random from the
    // sandbox's 100 numbers, and one could otherwise take a chosen number before it.
    let chosen = |b: &Value| b["msisdn"].is_string() || b["msisdn"]["mode"] == "choose";
    let mut activations = examples(d, "/v1/activations", "post", json);
    activations.sort_by_key(|(_, b)| !chosen(b));
    let (chosen_holds, any_holds): (Vec<_>, Vec<_>) =
        examples(d, "/v1/numbers/reservations", "post", json)
            .into_iter()
            .partition(|(_, b)| chosen(b));
    let hold = async |name: String, body: Value| {
        let a = c
            .post(key, "/v1/numbers/reservations", &format!("ex-{name}"), body)
            .await;
        assert_eq!(a.status, 201, "reservation {name}: {}", a.body);
    };
    for (name, body) in chosen_holds {
        hold(name, body).await;
    }
    let mut lines = Vec::new();
    for (name, body) in activations {
        let a = c
            .post(key, "/v1/activations", &format!("ex-{name}"), body)
            .await;
        assert_eq!(a.status, 202, "activation {name}: {}", a.body);
        let order = c.settle(key, &a.str("id")).await;
        assert_eq!(order["status"], "active", "activation {name}: {order}");
        lines.push(order["msisdn"].as_str().expect("msisdn").to_owned());
    }
    for (name, body) in any_holds {
        hold(name, body).await;
    }
    let format = parameter_example(d, "/v1/inventory/imports", "post", "format");
    for (media, status) in [("text/plain", 201), ("application/octet-stream", 200)] {
        for (name, file) in examples(d, "/v1/inventory/imports", "post", media) {
            let a = c
                .call(
                    Some(key),
                    Method::POST,
                    &format!("/v1/inventory/imports?format={format}"),
                    None,
                    Body::Raw(Some(media), file.as_str().expect("text").into()),
                )
                .await;
            assert_eq!(a.status, status, "import {name} as {media}: {}", a.body);
        }
    }
    for (name, body) in examples(d, "/v1/webhook-endpoints", "post", json) {
        let a = c.post_plain(key, "/v1/webhook-endpoints", body).await;
        assert_eq!(a.status, 201, "webhook endpoint {name}: {}", a.body);
    }

    // The lifecycle examples, one after another on the first line.
    let mut msisdn = lines[0].clone();
    let mut steps: Vec<(String, Value)> = Vec::new();
    for op in ["suspend", "resume"] {
        let path = format!("/v1/subscriptions/{{msisdn}}/{op}");
        steps.extend(
            examples(d, &path, "post", json)
                .into_iter()
                .map(|(_, b)| (op.to_owned(), b)),
        );
    }
    for (_, b) in examples(d, "/v1/subscriptions/{msisdn}/sim-swap", "post", json) {
        steps.push(("sim-swap".into(), b));
    }
    let change = example(
        d,
        "/v1/subscriptions/{msisdn}/number-change",
        "post",
        "auto",
    );
    steps.push(("number-change".into(), change));
    steps.push((
        "terminate".into(),
        example(
            d,
            "/v1/subscriptions/{msisdn}/terminate",
            "post",
            "terminate",
        ),
    ));
    for (i, (op, body)) in steps.into_iter().enumerate() {
        let path = format!("/v1/subscriptions/{msisdn}/{op}");
        let a = c.post(key, &path, &format!("ex-life-{i}"), body).await;
        assert_eq!(a.status, 202, "{op}: {}", a.body);
        let order = c.settle(key, &a.str("id")).await;
        assert_eq!(order["status"], "completed", "{op}: {order}");
        if let Some(n) = order["new_msisdn"].as_str() {
            msisdn = n.to_owned();
        }
    }

    // The callback's example: 204 (its profile is an order's now, or no one's).
    let path = adapters::es2plus::path::HANDLE_DOWNLOAD_PROGRESS_INFO;
    let named = callback_doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        ["examples"]
        .as_object()
        .expect("callback examples");
    for (name, ex) in named {
        let r = smdp
            .post(
                &format!("{callback}{path}"),
                &[("content-type", "application/json".into())],
                Bytes::from(ex["value"].to_string()),
            )
            .await
            .expect("POST");
        assert_eq!(r.status, 204, "callback {name}");
    }

    // An optional member sent as `null` is taken as absent; the documents say so (a
    // body with such nulls validates), which Schemathesis found they did not.
    let api = Validator::new(d.clone());
    let schema_of = |doc: &Value, path: &str| {
        doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"].clone()
    };
    let mut with_nulls = example(d, "/v1/activations/validate", "post", "esim");
    for member in ["msisdn", "subscriber", "channel"] {
        with_nulls[member] = Value::Null;
    }
    // The sandbox's policy keeps a subscriber that does not validate (`{}`), as documented.
    let mut free = with_nulls.clone();
    free["subscriber"] = json!({});
    for body in [with_nulls, free] {
        let errors = api.validate(&schema_of(d, "/v1/activations/validate"), &body);
        assert!(errors.is_empty(), "{errors:?}");
        let a = c.post_plain(key, "/v1/activations/validate", body).await;
        expect(&a, 200);
    }
    let mut with_nulls = example(d, "/v1/webhook-endpoints", "post", "loopback");
    with_nulls["event_types"] = Value::Null;
    let errors = api.validate(&schema_of(d, "/v1/webhook-endpoints"), &with_nulls);
    assert!(errors.is_empty(), "{errors:?}");
    expect(
        &c.post_plain(key, "/v1/webhook-endpoints", with_nulls).await,
        201,
    );
    let (_, mut with_nulls) = named
        .iter()
        .map(|(n, ex)| (n.clone(), ex["value"].clone()))
        .next()
        .expect("a callback example");
    for member in ["eid", "profileType", "resultData"] {
        with_nulls[member] = Value::Null;
    }
    with_nulls["notificationPointStatus"]["statusCodeData"] = Value::Null;
    // `timeStamp` is ignored while `timestamp` is there, whatever it holds.
    with_nulls["timeStamp"] = json!({});
    let cb = Validator::new(callback_doc.clone());
    let errors = cb.validate(&schema_of(&callback_doc, path), &with_nulls);
    assert!(errors.is_empty(), "{errors:?}");
    let r = smdp
        .post(
            &format!("{callback}{path}"),
            &[("content-type", "application/json".into())],
            Bytes::from(with_nulls.to_string()),
        )
        .await
        .expect("POST");
    assert_eq!(r.status, 204, "callback with nulls");

    let failures = doc.failures();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    shutdown(sb).await;
}

/// A client with the SM-DP+ simulator's notifier identity, the one the callback listener
/// admits.
fn notifier(sb: &gateway::sandbox::Sandbox) -> HttpClient {
    let ca = std::fs::read(&sb.info.ca_cert).expect("ca");
    let (cert, key) = gateway::sandbox_smdp::notifier_files(&sb.gateway.config);
    HttpClient::builder()
        .add_root_pem(&ca)
        .identity_pem(
            &std::fs::read(cert).expect("cert"),
            &std::fs::read(key).expect("key"),
        )
        .request_timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

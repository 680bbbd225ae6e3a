//! Input the router and extractors see before a handler's own validation: query
//! parameters, path parameters that are not UTF-8, and the field a refusal names. Every
//! refusal is problem+json with a stable `code` and the `field` the caller sent.

mod common;

use common::*;
use serde_json::{Value, json};

/// One request with optional API key; answers status, content type and the JSON body.
async fn call(h: &Harness, method: &str, key: Option<&str>, path: &str) -> (u16, String, Value) {
    let mut headers = Vec::new();
    if let Some(k) = key {
        headers.push(("authorization", format!("Bearer {k}")));
    }
    let url = format!("{}{path}", h.base);
    let r = match method {
        "GET" => h.client.get(&url, &headers).await,
        _ => {
            headers.push(("content-type", "application/json".into()));
            h.client
                .post(&url, &headers, bytes::Bytes::from("{}"))
                .await
        }
    }
    .expect("request");
    parts(r)
}

fn assert_problem(
    what: &str,
    got: &(u16, String, Value),
    status: u16,
    code: &str,
    field: Option<&str>,
) {
    let (s, ct, b) = got;
    assert_eq!(ct, "application/problem+json", "{what}: {s} {b}");
    assert_eq!(
        (*s, b["code"].as_str(), b["field"].as_str()),
        (status, Some(code), field),
        "{what}: {b}"
    );
    assert_eq!(b["status"], status, "{what}");
    assert!(
        b["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{what}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quarantine_limit_is_validated() {
    let h = Harness::start(1).await;
    let key = h.api_key.clone();
    for bad in ["abc", "0", "-5", "99999999999", "", "10001", "%FF", "1.5"] {
        let got = call(
            &h,
            "GET",
            Some(&key),
            &format!("/v1/numbers/quarantine?limit={bad}"),
        )
        .await;
        assert_problem(
            &format!("limit={bad}"),
            &got,
            400,
            "invalid_value",
            Some("limit"),
        );
    }
    for good in ["1", "10000"] {
        let (s, _, b) = call(
            &h,
            "GET",
            Some(&key),
            &format!("/v1/numbers/quarantine?limit={good}"),
        )
        .await;
        assert_eq!(
            (s, &b["object"]),
            (200, &json!("list")),
            "limit={good}: {b}"
        );
    }
    let (s, _, _) = call(&h, "GET", Some(&key), "/v1/numbers/quarantine").await;
    assert_eq!(s, 200, "limit is optional");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_parameters_that_are_not_utf8_get_problem_json_naming_them() {
    let h = Harness::start(1).await;
    let key = h.api_key.clone();
    let routes = [
        ("GET", "/v1/activations/%FF", "id"),
        ("GET", "/v1/activations/%FF/qr.png", "id"),
        ("GET", "/v1/activations/%FF/qr.svg", "id"),
        ("GET", "/v1/numbers/reservations/%C3%28", "id"),
        ("GET", "/v1/inventory/batches/%FF", "id"),
        ("GET", "/v1/inventory/batches/%FF/sims.csv", "id"),
        ("GET", "/v1/sims/%FF", "iccid"),
        ("POST", "/v1/numbers/%FF/release", "msisdn"),
    ];
    for (method, path, field) in routes {
        // Authentication comes first: an anonymous caller learns nothing about the path.
        let anon = call(&h, method, None, path).await;
        assert_problem(
            &format!("{method} {path} anonymous"),
            &anon,
            401,
            "unauthorized",
            None,
        );
        let got = call(&h, method, Some(&key), path).await;
        assert_problem(
            &format!("{method} {path}"),
            &got,
            400,
            "invalid_value",
            Some(field),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reservation_refusal_names_the_body_field_msisdn() {
    let h = Harness::start(1).await;
    let reserve = |idem: &'static str, body: Value| {
        let (client, url, key) = (
            h.client.clone(),
            format!("{}/v1/numbers/reservations", h.base),
            h.api_key.clone(),
        );
        async move {
            let r = client
                .post(
                    &url,
                    &[
                        ("authorization", format!("Bearer {key}")),
                        ("idempotency-key", idem.to_owned()),
                        ("content-type", "application/json".into()),
                    ],
                    bytes::Bytes::from(body.to_string()),
                )
                .await
                .expect("POST");
            parts(r)
        }
    };
    let (s, _, b) = reserve("r1", json!({"msisdn": "8613800000042"})).await;
    assert_eq!(s, 201, "{b}");
    let taken = reserve("r2", json!({"msisdn": "8613800000042"})).await;
    assert_problem(
        "held number",
        &taken,
        409,
        "msisdn_not_available",
        Some("msisdn"),
    );
    let foreign = reserve("r3", json!({"msisdn": "8613900000003"})).await;
    assert_problem(
        "another tenant's number",
        &foreign,
        422,
        "msisdn_not_in_pool",
        Some("msisdn"),
    );
    let unknown = reserve("r4", json!({"msisdn": "4915112345678"})).await;
    assert_problem(
        "unknown number",
        &unknown,
        422,
        "msisdn_not_in_pool",
        Some("msisdn"),
    );

    // The activation body nests the number: there the path stays `msisdn.msisdn`.
    let body = json!({"sim": {"type": "physical", "iccid": h.cards[0].iccid.to_string()}, "product": PRODUCT, "msisdn": {"mode": "choose", "msisdn": "8613800000042"}});
    let (s, b) = h.post("a1", &body).await;
    assert_eq!(
        (s, b["code"].as_str(), b["field"].as_str()),
        (409, Some("msisdn_not_available"), Some("msisdn.msisdn")),
        "{b}"
    );
}

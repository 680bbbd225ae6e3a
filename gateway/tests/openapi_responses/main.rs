//! Every answer of a real sandbox gateway over HTTPS, checked against the `/openapi.json`
//! it serves (`common::openapi_check`): the status documented for the operation, the body
//! valid against that status's schema, no member the schema does not name. The scenario
//! drives each documented operation through its happy path and its main refusals, then
//! sweeps every operation without a key, with a readonly key and with placeholders, and
//! fails on any mismatch, or on an operation it never drove. The ES2+ callback listener's
//! own document is checked the same way, on that listener.

#[path = "../common/mod.rs"]
mod common;

mod callback;
mod callback_requests;
mod caller;
mod checker;
mod examples;
mod nulls;
mod porting;
mod scenario;
mod sweeps;

use caller::Caller;
use common::openapi_check::OpenApi;
use common::sandbox::{esim_config, shutdown};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_matches_the_document() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = gateway::sandbox::start(esim_config(dir.path(), 2))
        .await
        .expect("sandbox");
    let doc = fetch_document(&sb).await;
    let c = Caller::new(&sb, &doc);
    scenario::run(&sb, &c).await;
    let keys = &sb.info.api_keys;
    sweeps::without_a_key(&c).await;
    sweeps::readonly(&c, &keys.readonly).await;
    sweeps::operator(&c, &keys.operator).await;
    sweeps::undecodable_path(&c, &keys.operator).await;
    sweeps::body_limits(&c, &keys.operator).await;
    let failures = doc.failures();
    assert!(
        failures.is_empty(),
        "{} answers do not match /openapi.json:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let not_driven = doc.not_driven();
    assert!(not_driven.is_empty(), "never driven: {not_driven:?}");
    shutdown(sb).await;
}

/// A deliberately wrong document fails real answers: the test above can fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_document_fails_real_answers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = gateway::sandbox::start(esim_config(dir.path(), 0))
        .await
        .expect("sandbox");
    let mut wrong = fetch_document(&sb).await.doc().clone();
    // The list's `data` items must be integers now, and `next_cursor` is gone.
    wrong["paths"]["/v1/subscriptions"]["get"]["responses"]["200"]["content"]["application/json"]
        ["schema"]["properties"] =
        serde_json::json!({"data": {"type": "array", "items": {"type": "integer"}}});
    // The readonly 403 is no longer documented on reservations.
    wrong["paths"]["/v1/numbers/reservations"]["post"]["responses"]
        .as_object_mut()
        .expect("responses")
        .remove("403");
    let doc = OpenApi::new(wrong);
    let c = Caller::new(&sb, &doc);
    let keys = &sb.info.api_keys;
    let a = c.get(&keys.operator, "/v1/subscriptions").await;
    caller::expect(&a, 200);
    let a = c
        .post(
            &keys.readonly,
            "/v1/numbers/reservations",
            "k-1",
            serde_json::json!({}),
        )
        .await;
    caller::expect(&a, 403);
    let failures = doc.failures();
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(
        failures[0].contains("/next_cursor: member not in the schema"),
        "{failures:?}"
    );
    assert!(
        failures[1].contains("403: status not documented"),
        "{failures:?}"
    );
    shutdown(sb).await;
}

/// The document the gateway serves, which must itself be a documented answer.
async fn fetch_document(sb: &gateway::sandbox::Sandbox) -> OpenApi {
    let ca = std::fs::read(&sb.info.ca_cert).expect("ca");
    let http = adapters::http::HttpClient::builder()
        .add_root_pem(&ca)
        .build()
        .expect("client");
    let r = http
        .get(&format!("{}/openapi.json", sb.info.base_url), &[])
        .await
        .expect("GET /openapi.json");
    assert_eq!(r.status, 200);
    OpenApi::new(serde_json::from_slice(&r.body).expect("json"))
}

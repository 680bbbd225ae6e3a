//! The ES2+ callback listener serves its own document, its answers match it, and it takes
//! exactly the notifications the document calls valid (`callback_requests`); the API port
//! neither serves nor describes the notification.

use crate::callback_requests;
use crate::common::openapi_check::OpenApi;
use crate::common::sandbox::{esim_config, shutdown};
use adapters::http::HttpClient;
use bytes::Bytes;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callback_listener_serves_its_own_document() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = gateway::sandbox::start(esim_config(dir.path(), 0))
        .await
        .expect("sandbox");
    let ca = std::fs::read(&sb.info.ca_cert).expect("ca");
    // The listener admits only the SM-DP+'s notifier certificate.
    let (cert, key) = gateway::sandbox_smdp::notifier_files(&sb.gateway.config);
    let smdp = HttpClient::builder()
        .add_root_pem(&ca)
        .identity_pem(
            &std::fs::read(cert).expect("cert"),
            &std::fs::read(key).expect("key"),
        )
        .request_timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let addr = sb.gateway.callback_addr.expect("callback listener");
    let base = format!("https://{addr}");
    let r = smdp
        .get(&format!("{base}/openapi.json"), &[])
        .await
        .expect("GET /openapi.json");
    assert_eq!(r.status, 200);
    let doc = OpenApi::new(serde_json::from_slice(&r.body).expect("json"));
    doc.record(
        "GET",
        "/openapi.json",
        r.status,
        "application/json",
        &r.body,
    );
    let path = adapters::es2plus::path::HANDLE_DOWNLOAD_PROGRESS_INFO;
    let unknown_profile = r#"{"header": {"functionRequesterIdentifier": "smdp", "functionCallIdentifier": "n-1"},
        "iccid": "8988211000000530082", "profileType": "P", "timestamp": "2025-01-01T00:00:00Z",
        "notificationPointId": "3", "notificationPointStatus": {"status": "Executed-Success"}}"#;
    for (body, status) in [(unknown_profile, 204), ("{}", 400), ("not json", 400)] {
        let r = smdp
            .post(
                &format!("{base}{path}"),
                &[("content-type", "application/json".into())],
                Bytes::from(body),
            )
            .await
            .expect("POST");
        assert_eq!(r.status, status, "{body}");
        let ct = r
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(r.headers.contains_key("x-admin-protocol"));
        doc.record("POST", path, r.status, &ct, &r.body);
    }
    // What the document calls a valid notification is what the listener takes.
    callback_requests::schemathesis_fails_on_a_mismatch(&doc);
    callback_requests::simulator_notifications(&doc, &smdp, &base).await;
    callback_requests::edge_cases(&doc, &smdp, &base).await;
    callback_requests::generated(&doc);
    assert_eq!(doc.failures(), Vec::<String>::new());
    assert!(doc.not_driven().is_empty(), "{:?}", doc.not_driven());

    // The API port: 404, and its document does not describe the notification.
    let api = HttpClient::builder()
        .add_root_pem(&ca)
        .build()
        .expect("client");
    let r = api
        .post(
            &format!("{}{path}", sb.info.base_url),
            &[],
            Bytes::from(unknown_profile),
        )
        .await
        .expect("POST");
    assert_eq!(r.status, 404);
    let r = api
        .get(&format!("{}/openapi.json", sb.info.base_url), &[])
        .await
        .expect("GET");
    let api_doc: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
    assert!(api_doc["paths"].get(path).is_none());
    shutdown(sb).await;
}

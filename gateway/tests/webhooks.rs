//! Webhooks and the events API end to end over HTTPS: a gateway with the CAI3G simulator,
//! a local receiver on a real socket, signatures checked by our verifier and by the
//! independent `standardwebhooks` package from PyPI.

mod common;

use bytes::Bytes;
use common::*;
use gateway::store::EventType;
use gateway::webhooks::receiver::{self, Received};
use gateway::webhooks::signing;
use http::Method;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

/// A receiver on 127.0.0.1 that answers `/hook` with `status` (and `/moved` never
/// expects a visit), recording every request.
struct Receiver {
    url: String,
    rx: mpsc::UnboundedReceiver<Received>,
    all: Arc<Mutex<Vec<Received>>>,
    _stop: watch::Sender<bool>,
}

async fn receiver(status: u16) -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = mpsc::unbounded_channel();
    let all = Arc::new(Mutex::new(Vec::new()));
    let all2 = all.clone();
    let moved = format!("http://{addr}/moved");
    let handler: receiver::Handler = Arc::new(move |r: Received| {
        all2.lock().expect("lock").push(r.clone());
        let _ = tx.send(r);
        if status == 302 {
            (302, vec![("location", moved.clone())])
        } else {
            (status, Vec::new())
        }
    });
    let (stop, stop_rx) = watch::channel(false);
    tokio::spawn(receiver::serve(listener, handler, stop_rx));
    Receiver {
        url: format!("http://{addr}/hook"),
        rx,
        all,
        _stop: stop,
    }
}

impl Receiver {
    async fn next(&mut self) -> Received {
        tokio::time::timeout(Duration::from_secs(30), self.rx.recv())
            .await
            .expect("a delivery within 30 s")
            .expect("receiver open")
    }
}

async fn call(
    h: &Harness,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut headers = vec![("authorization", format!("Bearer {key}"))];
    if body.is_some() {
        headers.push(("content-type", "application/json".into()));
    }
    let r = h
        .client
        .request(
            method,
            &format!("{}{path}", h.base),
            &headers,
            Bytes::from(body.map(|b| b.to_string()).unwrap_or_default()),
        )
        .await
        .expect("request");
    (
        r.status,
        serde_json::from_slice(&r.body).unwrap_or(Value::Null),
    )
}

fn sandbox_mode(c: &mut gateway::config::Config) {
    c.webhooks.sandbox = true;
}

/// Creates an endpoint for `url` and returns (id, secret).
async fn endpoint(h: &Harness, url: &str, types: Value) -> (String, String) {
    let (s, v) = call(
        h,
        &h.api_key,
        Method::POST,
        "/v1/webhook-endpoints",
        Some(json!({"url": url, "event_types": types})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let secret = v["secret"].as_str().expect("secret shown once").to_owned();
    assert!(secret.starts_with("whsec_"));
    (v["id"].as_str().expect("id").to_owned(), secret)
}

async fn activate(h: &Harness, i: usize) -> String {
    let (s, v) = h
        .post(&format!("wh-{i}"), &physical(&h.cards[i].iccid))
        .await;
    assert_eq!(s, 202, "{v}");
    let id = v["id"].as_str().expect("id").to_owned();
    h.wait_terminal(&id).await;
    id
}

fn verify(secret: &str, r: &Received) -> Result<(), signing::VerifyError> {
    let key = signing::parse_secret(secret).expect("whsec");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs();
    signing::verify(
        &key,
        r.header("webhook-id"),
        r.header("webhook-timestamp"),
        r.header("webhook-signature"),
        &r.body,
        now,
    )
}

fn body(r: &Received) -> Value {
    serde_json::from_slice(&r.body).expect("JSON body")
}

#[tokio::test]
async fn an_activation_is_delivered_signed_in_order_and_listed_in_events() {
    let h = Harness::start_with(3, sandbox_mode).await;
    let mut rcv = receiver(204).await;
    let (id, secret) = endpoint(&h, &rcv.url, json!([])).await;
    let (s, v) = call(
        &h,
        &h.api_key,
        Method::GET,
        &format!("/v1/webhook-endpoints/{id}"),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert!(v.get("secret").is_none(), "the secret is shown once: {v}");
    assert!(!v.to_string().contains(&secret[6..]));

    let order = activate(&h, 0).await;
    let created = rcv.next().await;
    let active = rcv.next().await;
    assert_eq!(verify(&secret, &created), Ok(()));
    assert_eq!(verify(&secret, &active), Ok(()));
    let (c, a) = (body(&created), body(&active));
    assert_eq!(
        (c["type"].as_str(), a["type"].as_str()),
        (Some("order.created"), Some("order.active"))
    );
    assert_eq!(c["id"], json!(created.header("webhook-id")));
    assert_eq!(a["data"]["id"], json!(order));
    assert_eq!(a["data"]["status"], "active");
    assert_eq!(a["data"]["previous"], "hlr_provisioning");
    assert_eq!(
        a["subject"].as_str(),
        Some(order.replacen("act_", "sub_", 1).as_str()),
        "ordered by the line (its subscription id, which a number change keeps)"
    );
    for secretish in ["ki", "opc", "subscriber", "confirmation_code"] {
        assert!(a["data"].get(secretish).is_none(), "{secretish} in {a}");
    }

    // The events API shows the same events, in commit order.
    let (s, v) = call(&h, &h.api_key, Method::GET, "/v1/events", None).await;
    assert_eq!(s, 200, "{v}");
    let ids: Vec<&str> = v["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|e| e["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        [c["id"].as_str().expect("id"), a["id"].as_str().expect("id")]
    );
    assert_eq!(v["next_cursor"], json!(ids[1]));
    assert_eq!(
        v["data"][1], a,
        "webhooks send the event as the events API shows it"
    );
    let (_, v) = call(
        &h,
        &h.api_key,
        Method::GET,
        &format!("/v1/events?after={}", ids[1]),
        None,
    )
    .await;
    assert_eq!(v, json!({"data": [], "next_cursor": null}));
    let (_, v) = call(
        &h,
        &h.api_key,
        Method::GET,
        "/v1/events?type=order.active&limit=5",
        None,
    )
    .await;
    assert_eq!(v["data"].as_array().map(Vec::len), Some(1));

    // The delivery log, once the acknowledgement is committed.
    let path = format!("/v1/webhook-endpoints/{id}/deliveries");
    let mut log = Value::Null;
    for _ in 0..500 {
        (_, log) = call(&h, &h.api_key, Method::GET, &path, None).await;
        if log["data"]
            .as_array()
            .is_some_and(|d| d.iter().all(|x| x["status"] == "delivered"))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let d = &log["data"];
    assert_eq!(d.as_array().map(Vec::len), Some(2), "{log}");
    assert_eq!(d[0]["event_id"], a["id"], "newest first");
    assert_eq!(d[0]["status"], "delivered");
    assert_eq!(d[0]["attempts"], 1);
    assert_eq!(d[0]["last_status"], 204);

    // Redelivery sends the same event id again.
    let (s, v) = call(
        &h,
        &h.api_key,
        Method::POST,
        &format!("/v1/events/{}/redeliver", ids[0]),
        None,
    )
    .await;
    assert_eq!(s, 202, "{v}");
    assert_eq!(v["endpoints"], json!([id]));
    let again = rcv.next().await;
    assert_eq!(again.header("webhook-id"), ids[0]);
    assert_eq!(body(&again), c);

    // Rotation: the next delivery is signed by both secrets; GET never shows a secret.
    let (s, v) = call(
        &h,
        &h.api_key,
        Method::POST,
        &format!("/v1/webhook-endpoints/{id}/rotate-secret"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let new_secret = v["secret"].as_str().expect("new secret").to_owned();
    assert_ne!(new_secret, secret);
    assert_eq!(v["secrets"].as_array().map(Vec::len), Some(2));
    activate(&h, 1).await;
    let next = rcv.next().await;
    assert_eq!(next.header("webhook-signature").split(' ').count(), 2);
    assert_eq!(verify(&secret, &next), Ok(()));
    assert_eq!(verify(&new_secret, &next), Ok(()));

    // The secrets are sealed at rest: neither their text nor their bytes are in the file.
    let db = std::fs::read(h.dir.path().join("simgw.redb")).expect("db file");
    for s in [&secret, &new_secret] {
        let key = signing::parse_secret(s).expect("secret");
        assert!(
            !db.windows(key.len()).any(|w| w == key.as_slice()),
            "key bytes in clear"
        );
        assert!(
            !db.windows(s.len() - 6).any(|w| w == &s.as_bytes()[6..]),
            "secret text in clear"
        );
    }

    // Deleted: gone, and nothing more is delivered to it.
    let (s, _) = call(
        &h,
        &h.api_key,
        Method::DELETE,
        &format!("/v1/webhook-endpoints/{id}"),
        None,
    )
    .await;
    assert_eq!(s, 204);
    let (s, v) = call(
        &h,
        &h.api_key,
        Method::GET,
        &format!("/v1/webhook-endpoints/{id}"),
        None,
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (404, Some("webhook_endpoint_not_found"))
    );
}

#[tokio::test]
async fn another_tenants_endpoints_and_events_are_not_found() {
    let h = Harness::start_with(1, sandbox_mode).await;
    let rcv = receiver(204).await;
    let (id, _) = endpoint(&h, &rcv.url, json!(["order.active"])).await;
    activate(&h, 0).await;
    let other = h.other_key.clone();
    for (method, path) in [
        (Method::GET, format!("/v1/webhook-endpoints/{id}")),
        (Method::DELETE, format!("/v1/webhook-endpoints/{id}")),
        (
            Method::POST,
            format!("/v1/webhook-endpoints/{id}/rotate-secret"),
        ),
        (
            Method::GET,
            format!("/v1/webhook-endpoints/{id}/deliveries"),
        ),
        (
            Method::POST,
            format!("/v1/events/{}/redeliver", gateway::store::event_id(1)),
        ),
    ] {
        let (s, v) = call(&h, &other, method.clone(), &path, None).await;
        assert_eq!(s, 404, "{method} {path}: {v}");
    }
    let (_, v) = call(&h, &other, Method::GET, "/v1/webhook-endpoints", None).await;
    assert_eq!(v["data"], json!([]));
    let (_, v) = call(&h, &other, Method::GET, "/v1/events", None).await;
    assert_eq!(v["data"], json!([]), "no event of another tenant");
    let (s, v) = call(&h, &h.api_key, Method::GET, "/v1/events", None).await;
    assert_eq!((s, v["data"].as_array().map(Vec::len)), (200, Some(2)));
}

#[tokio::test]
async fn loopback_is_refused_outside_the_sandbox_and_bad_queries_are_problems() {
    let h = Harness::start(1).await;
    let post = |body: Value| {
        let h = &h;
        async move {
            call(
                h,
                &h.api_key,
                Method::POST,
                "/v1/webhook-endpoints",
                Some(body),
            )
            .await
        }
    };
    for (url, code) in [
        ("http://127.0.0.1:9000/hook", "webhook_url_invalid"),
        ("https://127.0.0.1:9000/hook", "webhook_url_forbidden"),
        ("https://localhost/hook", "webhook_url_forbidden"),
        ("https://[::ffff:10.0.0.1]/hook", "webhook_url_forbidden"),
        ("https://169.254.169.254/latest", "webhook_url_forbidden"),
    ] {
        let (s, v) = post(json!({"url": url})).await;
        assert_eq!((s, v["code"].as_str()), (422, Some(code)), "{url}: {v}");
    }
    let (s, v) =
        post(json!({"url": "https://hooks.example.com/", "event_types": ["order.activated"]}))
            .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (422, Some("unknown_event_type")),
        "{v}"
    );
    assert!(
        v["detail"]
            .as_str()
            .is_some_and(|d| d.contains("esim.downloaded"))
    );
    let (_, v) = call(&h, &h.api_key, Method::GET, "/v1/webhook-endpoints", None).await;
    assert_eq!(v["data"], json!([]), "nothing was created");
    for (q, status, code) in [
        ("after=12", 400, "invalid_cursor"),
        ("after=evt_zz", 400, "invalid_cursor"),
        ("type=order.nope", 422, "unknown_event_type"),
        ("limit=0", 400, "invalid_value"),
        ("limit=1001", 400, "invalid_value"),
        ("cursor=evt_0000000000000001", 400, "unknown_parameter"),
    ] {
        let (s, v) = call(
            &h,
            &h.api_key,
            Method::GET,
            &format!("/v1/events?{q}"),
            None,
        )
        .await;
        assert_eq!((s, v["code"].as_str()), (status, Some(code)), "{q}: {v}");
    }
    let (s, v) = call(&h, "sk_nope", Method::GET, "/v1/events", None).await;
    assert_eq!((s, v["code"].as_str()), (401, Some("unauthorized")));
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let h = Harness::start_with(1, sandbox_mode).await;
    let mut rcv = receiver(302).await;
    let (id, _) = endpoint(&h, &rcv.url, json!(["order.created"])).await;
    activate(&h, 0).await;
    let first = rcv.next().await;
    assert_eq!(first.path, "/hook");
    let path = format!("/v1/webhook-endpoints/{id}/deliveries");
    let mut v = Value::Null;
    for _ in 0..500 {
        (_, v) = call(&h, &h.api_key, Method::GET, &path, None).await;
        if v["data"][0]["attempts"].as_u64() >= Some(1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let d = &v["data"][0];
    assert_eq!(
        d["status"], "pending",
        "a redirect is a failure, retried later: {v}"
    );
    assert_eq!(d["last_status"], 302);
    assert!(
        d["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("redirect")),
        "{d}"
    );
    assert!(d["next_attempt_at"].is_string());
    assert!(
        rcv.all
            .lock()
            .expect("lock")
            .iter()
            .all(|r| r.path == "/hook"),
        "the Location was never visited"
    );
}

#[tokio::test]
async fn low_stock_is_published_once_per_crossing() {
    let h = Harness::start_with(5, |c| {
        c.webhooks.low_stock_threshold = 3;
    })
    .await;
    for i in 0..3 {
        activate(&h, i).await;
    }
    let (_, v) = call(
        &h,
        &h.api_key,
        Method::GET,
        "/v1/events?type=inventory.low_stock",
        None,
    )
    .await;
    let data = v["data"].as_array().expect("data");
    assert_eq!(data.len(), 1, "{v}");
    assert_eq!(
        data[0]["data"],
        json!({"counter": "sims_available", "available": 3, "threshold": 3})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_events_api_pages_through_10000_events_while_writes_go_on() {
    let h = Harness::start(1).await;
    let store = h.gw().store.clone();
    const TOTAL: u64 = 10_000;
    let writer = tokio::spawn(async move {
        let clock = gateway::clock::Clock::new();
        for i in 0..TOTAL {
            let t = if i % 3 == 0 {
                EventType::OrderCreated
            } else {
                EventType::OrderActive
            };
            store
                .publish_for_test(clock.now_ms(), TENANT, t, Some("s"), json!({"i": i}))
                .await
                .expect("publish");
        }
    });
    let mut cursor: Option<String> = None;
    let mut seen: Vec<u64> = Vec::new();
    let mut pages = 0;
    while seen.len() < TOTAL as usize {
        let path = match &cursor {
            Some(c) => format!("/v1/events?limit=173&after={c}"),
            None => "/v1/events?limit=173".to_owned(),
        };
        let (s, v) = call(&h, &h.api_key, Method::GET, &path, None).await;
        assert_eq!(s, 200, "{v}");
        pages += 1;
        for e in v["data"].as_array().expect("data") {
            let id = e["id"].as_str().expect("id");
            let n = u64::from_str_radix(&id[4..], 16).expect("hex id");
            assert_eq!(e["data"]["i"], json!(n - 1), "commit order");
            seen.push(n);
        }
        if let Some(c) = v["next_cursor"].as_str() {
            cursor = Some(c.to_owned());
        } else {
            tokio::task::yield_now().await;
        }
        assert!(pages < 100_000, "no progress");
    }
    writer.await.expect("writer");
    let expected: Vec<u64> = (1..=TOTAL).collect();
    assert_eq!(seen, expected, "no gap and no duplicate");
    // The type filter pages the same way.
    let (_, v) = call(
        &h,
        &h.api_key,
        Method::GET,
        "/v1/events?type=order.created&limit=1000",
        None,
    )
    .await;
    assert_eq!(v["data"].as_array().map(Vec::len), Some(1000));
    assert!(
        v["data"]
            .as_array()
            .expect("data")
            .iter()
            .all(|e| e["type"] == "order.created")
    );
}

/// The Python that has `standardwebhooks`: `$SIMGW_TEST_PYTHON`, else the private venv
/// `scripts/test` prepares; `None` (skip) only when neither is there.
fn python() -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("SIMGW_TEST_PYTHON") {
        return Some(p.into());
    }
    let private =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-python/bin/python3");
    private.exists().then_some(private)
}

#[tokio::test]
async fn deliveries_verify_with_the_independent_standardwebhooks_package() {
    let Some(py) = python() else {
        eprintln!(
            "SKIPPED: no SIMGW_TEST_PYTHON and no target/test-python; run scripts/test to check signatures with PyPI standardwebhooks"
        );
        return;
    };
    let has = std::process::Command::new(&py)
        .args(["-c", "import standardwebhooks"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        has,
        "{} lacks the `standardwebhooks` package: run scripts/test, or pip install standardwebhooks==1.1.0",
        py.display()
    );
    let h = Harness::start_with(1, sandbox_mode).await;
    let mut rcv = receiver(204).await;
    let (id, old) = endpoint(&h, &rcv.url, json!(["order.active"])).await;
    let (_, v) = call(
        &h,
        &h.api_key,
        Method::POST,
        &format!("/v1/webhook-endpoints/{id}/rotate-secret"),
        None,
    )
    .await;
    let new = v["secret"].as_str().expect("secret").to_owned();
    activate(&h, 0).await;
    let r = rcv.next().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let body = dir.path().join("body");
    std::fs::write(&body, &r.body).expect("write body");
    let script = r#"
import sys
from standardwebhooks.webhooks import Webhook
body = open(sys.argv[1], "rb").read()
headers = {"webhook-id": sys.argv[2], "webhook-timestamp": sys.argv[3], "webhook-signature": sys.argv[4]}
for secret in sys.argv[5:]:
    print(Webhook(secret).verify(body, headers)["id"])
try:
    Webhook("whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=").verify(body, headers)
    sys.exit("a wrong secret verified")
except Exception:
    pass
"#;
    let out = std::process::Command::new(&py)
        .args(["-c", script])
        .arg(&body)
        .args([
            r.header("webhook-id"),
            r.header("webhook-timestamp"),
            r.header("webhook-signature"),
        ])
        .args([&old, &new])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "standardwebhooks rejected the delivery:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let id_line = format!("{}\n", r.header("webhook-id"));
    assert_eq!(String::from_utf8_lossy(&out.stdout), id_line.repeat(2));
}

//! The porting hub client against a scripted in-test hub on 127.0.0.1:0 that requires our
//! client certificate: the exact requests on the wire (path, headers, body) for every
//! operation, and how each kind of answer or failure is classified for retries.

mod support;

use adapters::porting::*;
use bytes::Bytes;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{Reply, TestCert, reply, self_signed, serve, server_tls};
use zeroize::Zeroizing;

/// What the hub saw of one request.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    headers: http::HeaderMap,
    body: Bytes,
}

/// A scripted hub: each request takes the next reply; unscripted requests get a receipt
/// echoing the request's `request_id` and `port_ref` (`HUB-1` for a submit).
struct Hub {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Mutex<VecDeque<Reply>>>,
}

impl Hub {
    async fn start(server: &TestCert, client_ca: &TestCert) -> Self {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script: Arc<Mutex<VecDeque<Reply>>> = Arc::new(Mutex::new(VecDeque::new()));
        let (s, q) = (seen.clone(), script.clone());
        let tls = server_tls(server, Some(client_ca));
        let addr = serve(
            Some(tls),
            move |parts: http::request::Parts, body: Bytes| {
                let (s, q) = (s.clone(), q.clone());
                async move {
                    s.lock().expect("lock").push(Seen {
                        path: parts.uri.path().to_owned(),
                        headers: parts.headers,
                        body: body.clone(),
                    });
                    let scripted = q.lock().expect("lock").pop_front();
                    scripted.unwrap_or_else(|| echo(&body))
                }
            },
        )
        .await;
        Self { addr, seen, script }
    }

    fn push(&self, reply: Reply) {
        self.script.lock().expect("lock").push_back(reply);
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}/hub/", self.addr.port())
    }
}

/// A 202 receipt for the request in `body`.
fn echo(body: &[u8]) -> Reply {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let receipt = serde_json::json!({
        "request_id": v["request_id"],
        "port_ref": v.get("port_ref").cloned().unwrap_or("HUB-1".into()),
    });
    reply(202, serde_json::to_vec(&receipt).unwrap_or_default())
}

struct Pki {
    server: TestCert,
    client: TestCert,
}

fn pki() -> Pki {
    Pki {
        server: self_signed(),
        client: self_signed(),
    }
}

fn client(pki: &Pki, roots: &TestCert, url: String, timeout: Duration) -> PortingHubClient {
    PortingHubClient::new(PortingHubClientConfig {
        base_url: url,
        roots_pem: roots.cert_pem.clone().into_bytes(),
        identity: ClientIdentity {
            cert_pem: pki.client.cert_pem.clone().into_bytes(),
            key_pem: Zeroizing::new(pki.client.key_pem.clone().into_bytes()),
        },
        timeout,
    })
    .expect("client")
}

fn r(s: &str) -> Ref {
    Ref::parse(s, "test").expect("ref")
}

fn submit() -> SubmitPortIn {
    SubmitPortIn {
        request_id: r("ord_7-port-in"),
        reference: r("ord_7"),
        market: Market::Uk,
        number: "447700900123".parse().expect("msisdn"),
        donor: r("UK-DONOR-01"),
        recipient: r("SIMGW-UK"),
        credential: Some(Credential::parse("ABC123456", "t").expect("pac")),
        account: None,
        requested_at: None,
    }
}

#[tokio::test]
async fn every_operation_posts_its_body_to_its_path() {
    let pki = pki();
    let hub = Hub::start(&pki.server, &pki.client).await;
    let c = client(&pki, &pki.server, hub.url(), Duration::from_secs(10));
    let port = r("HUB-1");
    let receipt = c.submit_port_in(&submit()).await.expect("submit");
    assert_eq!(
        receipt,
        Receipt {
            request_id: r("ord_7-port-in"),
            port_ref: port.clone()
        }
    );
    let cancel = CancelPort {
        request_id: r("q-cancel"),
        port_ref: port.clone(),
    };
    let reschedule = ReschedulePort {
        request_id: r("q-resched"),
        port_ref: port.clone(),
        requested_at: UtcTime::parse("2026-03-05T08:00:00Z", "t").expect("time"),
    };
    let answer = AnswerPortOut {
        request_id: r("q-answer"),
        port_ref: port.clone(),
        decision: PortOutDecision::Reject(RejectReason::ContractLock),
    };
    let ack = Acknowledge {
        request_id: r("q-ack"),
        port_ref: port.clone(),
        message_id: r("m-9"),
    };
    // Through the trait object, as the engine will call it.
    let dyn_hub: &dyn PortingHub = &c;
    for (id, outcome) in [
        ("q-cancel", dyn_hub.cancel(&cancel).await),
        ("q-resched", dyn_hub.reschedule(&reschedule).await),
        ("q-answer", dyn_hub.answer_port_out(&answer).await),
        ("q-ack", dyn_hub.acknowledge(&ack).await),
    ] {
        assert_eq!(
            outcome,
            Ok(Receipt {
                request_id: r(id),
                port_ref: port.clone()
            }),
            "{id}"
        );
    }
    let seen = hub.seen();
    let expected: [(&str, Vec<u8>, &str); 5] = [
        (
            "/hub/v1/port-ins",
            encode_submit_port_in(&submit()),
            "ord_7-port-in",
        ),
        ("/hub/v1/cancellations", encode_cancel(&cancel), "q-cancel"),
        (
            "/hub/v1/reschedules",
            encode_reschedule(&reschedule),
            "q-resched",
        ),
        (
            "/hub/v1/port-out-answers",
            encode_answer_port_out(&answer),
            "q-answer",
        ),
        (
            "/hub/v1/acknowledgements",
            encode_acknowledge(&ack),
            "q-ack",
        ),
    ];
    assert_eq!(seen.len(), expected.len());
    for (s, (path, body, key)) in seen.iter().zip(expected) {
        assert_eq!(s.path, path);
        assert_eq!(s.body, Bytes::from(body), "{path}");
        assert_eq!(s.headers["content-type"], "application/json", "{path}");
        assert_eq!(s.headers["accept"], "application/json", "{path}");
        assert_eq!(s.headers["idempotency-key"], key, "{path}");
    }
}

#[tokio::test]
async fn refusals_carry_the_hub_code_and_are_permanent() {
    let pki = pki();
    let hub = Hub::start(&pki.server, &pki.client).await;
    let c = client(&pki, &pki.server, hub.url(), Duration::from_secs(10));
    hub.push(reply(
        409,
        r#"{"code": "port_locked", "detail": "too late"}"#,
    ));
    hub.push(reply(404, "<html>not found</html>"));
    hub.push(reply(400, r#"{"code": "shiny_new_code"}"#));
    let cancel = CancelPort {
        request_id: r("q1"),
        port_ref: r("HUB-1"),
    };
    let locked = c.cancel(&cancel).await.expect_err("locked");
    assert_eq!(
        locked,
        PortingError::Refused {
            status: 409,
            code: Some(HubErrorCode::PortLocked)
        }
    );
    assert!(!locked.retryable());
    let unknown = c.cancel(&cancel).await.expect_err("not found");
    assert_eq!(
        unknown,
        PortingError::Refused {
            status: 404,
            code: None
        }
    );
    let other = c.cancel(&cancel).await.expect_err("other");
    assert_eq!(
        other.code().map(HubErrorCode::as_str),
        Some("shiny_new_code"),
        "{other:?}"
    );
}

#[tokio::test]
async fn unavailability_is_retryable_and_keeps_retry_after() {
    let pki = pki();
    let hub = Hub::start(&pki.server, &pki.client).await;
    let c = client(&pki, &pki.server, hub.url(), Duration::from_secs(10));
    let mut busy = reply(503, r#"{"code": "unavailable"}"#);
    busy.headers_mut()
        .insert("retry-after", http::HeaderValue::from_static("30"));
    hub.push(busy);
    hub.push(reply(429, ""));
    for status in [503, 429] {
        let err = c.submit_port_in(&submit()).await.expect_err("busy");
        assert!(err.retryable(), "{err:?}");
        assert!(
            matches!(err, PortingError::Unavailable(Unavailable::Status { status: s, .. }) if s == status)
        );
        if status == 503 {
            assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
        }
    }
    // The retry is the same request: same body, same idempotency key.
    assert!(c.submit_port_in(&submit()).await.is_ok());
    let seen = hub.seen();
    assert_eq!(seen.len(), 3);
    assert!(
        seen.iter()
            .all(|s| s.body == seen[0].body && s.headers["idempotency-key"] == "ord_7-port-in")
    );
}

#[tokio::test]
async fn answers_that_are_not_receipts_for_this_request_are_refused() {
    let pki = pki();
    let hub = Hub::start(&pki.server, &pki.client).await;
    let c = client(&pki, &pki.server, hub.url(), Duration::from_secs(10));
    hub.push(reply(
        202,
        r#"{"request_id": "someone-else", "port_ref": "HUB-1"}"#,
    ));
    hub.push(reply(202, r#"{"request_id": "q1", "port_ref": "HUB-2"}"#));
    hub.push(reply(200, "not json"));
    hub.push(reply(204, ""));
    hub.push(reply(302, ""));
    let cancel = CancelPort {
        request_id: r("q1"),
        port_ref: r("HUB-1"),
    };
    let bad = |field| PortingError::BadResponse(PortingCodecError::InvalidValue { field });
    let mut errors = Vec::new();
    for _ in 0..5 {
        errors.push(c.cancel(&cancel).await.expect_err("bad answer"));
    }
    assert_eq!(errors[0], bad("request_id"));
    assert_eq!(errors[1], bad("port_ref"));
    assert!(matches!(
        errors[2],
        PortingError::BadResponse(PortingCodecError::Malformed { .. })
    ));
    assert_eq!(errors[3], PortingError::UnexpectedStatus { status: 204 });
    assert_eq!(errors[4], PortingError::UnexpectedStatus { status: 302 });
    assert!(errors.iter().all(|e| !e.retryable()));
}

#[tokio::test]
async fn transport_failures_are_classified() {
    let pki = pki();
    // A hub that never answers: the call's timeout, retryable.
    let silent = serve(Some(server_tls(&pki.server, Some(&pki.client))), |_, _| {
        std::future::pending::<Reply>()
    })
    .await;
    let url = format!("https://127.0.0.1:{}", silent.port());
    let c = client(&pki, &pki.server, url, Duration::from_millis(300));
    let err = c.submit_port_in(&submit()).await.expect_err("silent");
    assert_eq!(err, PortingError::Unavailable(Unavailable::Timeout));
    assert!(err.retryable());
    // Nobody listening: a connect failure, retryable.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let gone = listener.local_addr().expect("addr");
    drop(listener);
    let c = client(
        &pki,
        &pki.server,
        format!("https://{gone}"),
        Duration::from_secs(5),
    );
    let err = c.submit_port_in(&submit()).await.expect_err("refused");
    assert!(
        matches!(err, PortingError::Unavailable(Unavailable::Connect(_))),
        "{err:?}"
    );
    assert!(err.retryable());
    // A hub whose certificate we do not trust: TLS, permanent, nothing sent.
    let hub = Hub::start(&pki.server, &pki.client).await;
    let stranger = self_signed();
    let c = client(&pki, &stranger, hub.url(), Duration::from_secs(5));
    let err = c.submit_port_in(&submit()).await.expect_err("untrusted");
    assert!(matches!(err, PortingError::Tls(_)), "{err:?}");
    assert!(!err.retryable());
    assert!(hub.seen().is_empty());
}

#[test]
fn configuration_is_checked() {
    let pki = pki();
    let cfg = |url: &str, key: &str| PortingHubClientConfig {
        base_url: url.to_owned(),
        roots_pem: pki.server.cert_pem.clone().into_bytes(),
        identity: ClientIdentity {
            cert_pem: pki.client.cert_pem.clone().into_bytes(),
            key_pem: Zeroizing::new(key.as_bytes().to_vec()),
        },
        timeout: Duration::from_secs(1),
    };
    for url in [
        "http://hub.example",
        "https://u@hub.example",
        "https://hub.example/?a=1",
        "",
    ] {
        assert_eq!(
            PortingHubClient::new(cfg(url, &pki.client.key_pem)).err(),
            Some(PortingConfigError::InvalidBaseUrl),
            "{url}"
        );
    }
    assert!(matches!(
        PortingHubClient::new(cfg("https://hub.example", "no key")),
        Err(PortingConfigError::Http(_))
    ));
    let config = cfg("https://hub.example", &pki.client.key_pem);
    let shown = format!("{config:?}");
    assert!(!shown.contains("PRIVATE KEY"), "{shown}");
}

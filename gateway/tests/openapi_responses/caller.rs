//! The sandbox's API as these tests call it: every answer is checked against
//! `/openapi.json` (`common::openapi_check`) before the test looks at it.

use crate::common::openapi_check::OpenApi;
use adapters::http::HttpClient;
use bytes::Bytes;
use gateway::sandbox::Sandbox;
use http::Method;
use serde_json::Value;
use std::time::Duration;

/// A request body.
pub enum Body {
    /// No body.
    None,
    /// JSON, sent as `application/json`.
    Json(Value),
    /// Bytes with a content type (`None`: no `Content-Type` header).
    Raw(Option<&'static str>, Vec<u8>),
}

/// One answer: status, JSON body (`Null` if none) and headers.
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: http::HeaderMap,
}

impl Answer {
    /// A string member of the body, which must be there.
    pub fn str(&self, name: &str) -> String {
        self.body[name]
            .as_str()
            .unwrap_or_else(|| panic!("no `{name}` in {}", self.body))
            .to_owned()
    }
}

/// Calls the API and records every answer in the checker.
pub struct Caller<'a> {
    http: HttpClient,
    base: String,
    pub doc: &'a OpenApi,
}

impl<'a> Caller<'a> {
    pub fn new(sb: &Sandbox, doc: &'a OpenApi) -> Self {
        let ca = std::fs::read(&sb.info.ca_cert).expect("ca");
        Self {
            http: HttpClient::builder()
                .add_root_pem(&ca)
                .request_timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            base: sb.info.base_url.clone(),
            doc,
        }
    }

    /// Sends a request as `key` (none: no `Authorization`), with an optional
    /// Idempotency-Key; the answer is checked against the document, and so is the GET
    /// each of its links leads to, which must answer 200.
    pub async fn call(
        &self,
        key: Option<&str>,
        method: Method,
        path: &str,
        idem: Option<&str>,
        body: Body,
    ) -> Answer {
        let answer = self.send(key, method.clone(), path, idem, body).await;
        for linked in self
            .doc
            .linked(method.as_str(), path, answer.status, &answer.body)
        {
            let a = self.send(key, Method::GET, &linked, None, Body::None).await;
            assert_eq!(
                a.status, 200,
                "{method} {path} links to {linked}: {}",
                a.body
            );
        }
        answer
    }

    /// One request, its answer recorded in the checker.
    async fn send(
        &self,
        key: Option<&str>,
        method: Method,
        path: &str,
        idem: Option<&str>,
        body: Body,
    ) -> Answer {
        let mut h: Vec<(&str, String)> = Vec::new();
        if let Some(k) = key {
            h.push(("authorization", format!("Bearer {k}")));
        }
        if let Some(k) = idem {
            h.push(("idempotency-key", k.to_owned()));
        }
        let bytes = match body {
            Body::None => Bytes::new(),
            Body::Json(v) => {
                h.push(("content-type", "application/json".into()));
                Bytes::from(v.to_string())
            }
            Body::Raw(ct, b) => {
                if let Some(ct) = ct {
                    h.push(("content-type", ct.into()));
                }
                Bytes::from(b)
            }
        };
        let r = self
            .http
            .request(method.clone(), &format!("{}{path}", self.base), &h, bytes)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let ct = r
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        self.doc
            .record(method.as_str(), path, r.status, &ct, &r.body);
        Answer {
            status: r.status,
            body: serde_json::from_slice(&r.body).unwrap_or(Value::Null),
            headers: r.headers,
        }
    }

    pub async fn get(&self, key: &str, path: &str) -> Answer {
        self.call(Some(key), Method::GET, path, None, Body::None)
            .await
    }

    /// POSTs JSON with an Idempotency-Key.
    pub async fn post(&self, key: &str, path: &str, idem: &str, body: Value) -> Answer {
        self.call(Some(key), Method::POST, path, Some(idem), Body::Json(body))
            .await
    }

    /// POSTs JSON without an Idempotency-Key.
    pub async fn post_plain(&self, key: &str, path: &str, body: Value) -> Answer {
        self.call(Some(key), Method::POST, path, None, Body::Json(body))
            .await
    }

    pub async fn put(&self, key: &str, path: &str, body: Value) -> Answer {
        self.call(Some(key), Method::PUT, path, None, Body::Json(body))
            .await
    }

    pub async fn delete(&self, key: &str, path: &str) -> Answer {
        self.call(Some(key), Method::DELETE, path, None, Body::None)
            .await
    }

    /// Polls `GET /v1/orders/{id}` until it exists and `done` holds (bounded; not a timing
    /// assertion).
    pub async fn until(&self, key: &str, id: &str, done: impl Fn(&Value) -> bool) -> Value {
        let mut last = Value::Null;
        for _ in 0..3_000 {
            let a = self.get(key, &format!("/v1/orders/{id}")).await;
            // 404 until an order the hub started (a port-out) is recorded.
            assert!(matches!(a.status, 200 | 404), "{}", a.body);
            if a.status == 200 && done(&a.body) {
                return a.body;
            }
            last = a.body;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("order {id} never got there: {last}");
    }

    /// Polls until the order is `active`, `completed` or `failed`.
    pub async fn settle(&self, key: &str, id: &str) -> Value {
        self.until(key, id, |v| {
            matches!(
                v["status"].as_str(),
                Some("active" | "completed" | "failed")
            )
        })
        .await
    }
}

/// Asserts an answer's status, showing its body otherwise.
#[track_caller]
pub fn expect(a: &Answer, status: u16) {
    assert_eq!(a.status, status, "{}", a.body);
}

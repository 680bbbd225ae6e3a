//! Every documented operation, driven the same way: without a key (401), with a readonly
//! key where it writes (403), and with the operator key and an empty body (whatever it
//! answers, as long as the document says so).

use crate::caller::{Body, Caller};
use http::Method;
use serde_json::json;

/// A well-formed value for a path parameter that names nothing that exists.
fn placeholder(name: &str) -> &'static str {
    match name {
        "id" => "ord_aaaaaaaaaaaaaaaaaaaaaaaaaa",
        "msisdn" => "8617099999999",
        "iccid" => "89860000000000000001",
        "kind" => "stores",
        "list" => "imei",
        "value" => "356938035643809",
        _ => "nobody-1",
    }
}

/// `template` with every `{name}` replaced by its placeholder.
pub fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => placeholder(name).to_owned(),
                None => s.to_owned(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

fn method(m: &str) -> Method {
    m.to_ascii_uppercase().parse().expect("method")
}

/// No key: every operation that needs one answers 401.
pub async fn without_a_key(c: &Caller<'_>) {
    for (m, template) in c.doc.operations() {
        let op = &c.doc.doc()["paths"][&template][&m];
        if op["security"] == json!([]) {
            continue;
        }
        let a = c
            .call(
                None,
                method(&m),
                &concrete(&template),
                Some("k-401"),
                Body::None,
            )
            .await;
        assert_eq!(a.status, 401, "{m} {template}: {}", a.body);
    }
}

/// A readonly key: every operation but the GETs answers 403.
pub async fn readonly(c: &Caller<'_>, key: &str) {
    for (m, template) in c.doc.operations().into_iter().filter(|(m, _)| m != "get") {
        let a = c
            .call(
                Some(key),
                method(&m),
                &concrete(&template),
                Some("k-403"),
                Body::Json(json!({})),
            )
            .await;
        assert_eq!(a.status, 403, "{m} {template}: {}", a.body);
    }
}

/// The operator key with placeholders and `{}`: refusals of every kind.
pub async fn operator(c: &Caller<'_>, key: &str) {
    for (m, template) in c.doc.operations() {
        let body = if m == "get" || m == "delete" {
            Body::None
        } else {
            Body::Json(json!({}))
        };
        let a = c
            .call(
                Some(key),
                method(&m),
                &concrete(&template),
                Some("k-sweep"),
                body,
            )
            .await;
        assert!(a.status < 500, "{m} {template}: {} {}", a.status, a.body);
    }
}

/// Path parameters that are not UTF-8 once percent-decoded: refused by the shared
/// plumbing (`request::PathParam`) after authentication.
pub async fn undecodable_path(c: &Caller<'_>, key: &str) {
    for (m, template) in c.doc.operations() {
        if !template.contains('{') {
            continue;
        }
        let path: String = template
            .split('/')
            .map(|s| if s.starts_with('{') { "%FF" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let body = if m == "get" || m == "delete" {
            Body::None
        } else {
            Body::Json(json!({}))
        };
        let a = c
            .call(Some(key), method(&m), &path, Some("k-utf8"), body)
            .await;
        assert!(a.status < 500, "{m} {template}: {} {}", a.status, a.body);
    }
}

/// Every JSON body refused the same two ways: as another media type (415) and past the
/// size limit (413).
pub async fn body_limits(c: &Caller<'_>, key: &str) {
    for (m, template) in c.doc.operations() {
        let op = &c.doc.doc()["paths"][&template][&m];
        if op["requestBody"]["content"]
            .get("application/json")
            .is_none()
        {
            continue;
        }
        let path = concrete(&template);
        let text = Body::Raw(Some("text/plain"), b"{}".to_vec());
        let a = c
            .call(Some(key), method(&m), &path, Some("k-415"), text)
            .await;
        assert_eq!(a.status, 415, "{m} {template}: {}", a.body);
        let big = format!("{{\"x\": \"{}\"}}", "x".repeat(1 << 20));
        let big = Body::Raw(Some("application/json"), big.into_bytes());
        let a = c
            .call(Some(key), method(&m), &path, Some("k-413"), big)
            .await;
        assert_eq!(a.status, 413, "{m} {template}: {}", a.body);
    }
}

//! The checker itself fails where it must: an undocumented status, content type or
//! member, a body against its schema, a keyword it does not know.

use crate::common::json_schema::Validator;
use crate::common::openapi_check::OpenApi;
use serde_json::{Value, json};

fn doc() -> Value {
    json!({
        "openapi": "3.1.0",
        "paths": {
            "/v1/things/{id}": {"get": {"responses": {
                "200": {"description": "", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
                "404": {"$ref": "#/components/responses/Problem"}}}},
            "/v1/things/special": {"get": {"responses": {"204": {"description": ""}}}}
        },
        "components": {
            "responses": {"Problem": {"description": "", "content": {"application/problem+json": {"schema": {"type": "object", "required": ["code"]}}}}},
            "schemas": {"Thing": {"type": "object", "required": ["id"], "properties": {
                "id": {"type": "string", "pattern": "^thg_[a-z]{3}$"},
                "at": {"type": "string", "format": "date-time"},
                "kind": {"oneOf": [{"const": "a"}, {"type": "integer", "minimum": 1}]},
                "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": true},
                "free": {"type": "object"},
                "more": {"allOf": [{"type": "object", "properties": {"x": {"type": "integer"}}}, {"properties": {"y": {"type": "null"}}}]}}}}
        }
    })
}

fn check(status: u16, ct: &str, body: &str) -> Result<(), String> {
    OpenApi::new(doc()).check("GET", "/v1/things/thg_abc", status, ct, body.as_bytes())
}

#[test]
fn valid_answers_pass() {
    let ok = r#"{"id": "thg_abc", "at": "2025-01-02T03:04:05.6Z", "kind": 2, "tags": ["a", "b"], "free": {"anything": 1}, "more": {"x": 1, "y": null}}"#;
    assert_eq!(check(200, "application/json; charset=utf-8", ok), Ok(()));
    assert_eq!(
        check(404, "application/problem+json", r#"{"code": "x"}"#),
        Ok(())
    );
    let special = OpenApi::new(doc()).check("GET", "/v1/things/special", 204, "", b"");
    assert_eq!(special, Ok(()), "the literal path wins over the template");
}

#[test]
fn mismatches_fail() {
    let cases = [
        (
            500,
            "application/json",
            r#"{"id": "thg_abc"}"#,
            "status not documented",
        ),
        (200, "text/plain", "thg_abc", "content type"),
        (
            200,
            "application/json",
            r#"{"id": "thg_ABC"}"#,
            "does not match",
        ),
        (200, "application/json", r#"{}"#, "required member `id`"),
        (
            200,
            "application/json",
            r#"{"id": "thg_abc", "extra": 1}"#,
            "/extra: member not in the schema",
        ),
        (
            200,
            "application/json",
            r#"{"id": "thg_abc", "more": {"z": 1}}"#,
            "/more/z: member not in the schema",
        ),
        (
            200,
            "application/json",
            r#"{"id": "thg_abc", "kind": "b"}"#,
            "matches no branch of oneOf",
        ),
        (
            200,
            "application/json",
            r#"{"id": "thg_abc", "kind": 0}"#,
            "matches no branch of oneOf",
        ),
        (
            200,
            "application/json",
            r#"{"id": "thg_abc", "tags": ["a", "a"]}"#,
            "not unique",
        ),
        (
            200,
            "application/json",
            r#"{"id": "thg_abc", "at": "2025-01-02 03:04:05"}"#,
            "date-time",
        ),
        (200, "application/json", r#"{"id": 7}"#, "not of type"),
        (200, "application/json", "{", "not JSON"),
        (
            404,
            "application/problem+json",
            r#"{}"#,
            "required member `code`",
        ),
    ];
    for (status, ct, body, want) in cases {
        let e = check(status, ct, body).expect_err(body);
        assert!(e.contains(want), "{body}: {e}");
    }
    let e = OpenApi::new(doc())
        .check("POST", "/v1/things/thg_abc", 200, "application/json", b"{}")
        .expect_err("method");
    assert!(e.contains("no documented operation"), "{e}");
    let e = OpenApi::new(doc())
        .check("GET", "/v1/things/special", 204, "application/json", b"{}")
        .expect_err("body");
    assert!(e.contains("describes none"), "{e}");
}

#[test]
fn an_unknown_keyword_is_refused_never_skipped() {
    let v = Validator::new(json!({}));
    let errors = v.validate(&json!({"type": "string", "nullable": true}), &json!("x"));
    assert!(
        errors.iter().any(|e| e.contains("`nullable`")),
        "{errors:?}"
    );
    let errors = v.validate(&json!({"$ref": "#/nowhere"}), &json!(1));
    assert!(
        errors.iter().any(|e| e.contains("does not resolve")),
        "{errors:?}"
    );
}

//! The answers the API's shared plumbing can give an operation, added to each operation
//! that does not document them in its own words: `400 invalid_value` for a path parameter
//! that is not UTF-8 once percent-decoded (`request::PathParam`), `413 body_too_large` and
//! `415 unsupported_media_type` for a JSON body (`request::read_json`), and `503
//! store_unavailable` for every operation that authenticates (API keys are read from the
//! store, which may fail).

use serde_json::{Value, json};

fn problem(description: &str) -> Value {
    json!({"description": description,
           "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}})
}

/// Adds the shared answers to every operation of `doc` that lacks them.
pub(super) fn add(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let with_params = path.contains('{');
        for op in item
            .as_object_mut()
            .into_iter()
            .flat_map(|m| m.values_mut())
        {
            let secured = op.get("security") != Some(&json!([]));
            let json_body = op["requestBody"]["content"]
                .get("application/json")
                .is_some();
            let responses = &mut op["responses"];
            let mut add = |status: &str, answer: Value| {
                if responses.get(status).is_none() {
                    responses[status] = answer;
                }
            };
            if with_params {
                add(
                    "400",
                    problem(
                        "`invalid_value`: a path parameter is not UTF-8 once percent-decoded (`field` names it).",
                    ),
                );
            }
            if json_body {
                add(
                    "413",
                    problem("`body_too_large`: the body exceeds `[api] max_body_bytes`."),
                );
                add(
                    "415",
                    problem("`unsupported_media_type`: send `Content-Type: application/json`."),
                );
            }
            if secured {
                add(
                    "503",
                    json!({"description": "`store_unavailable`: the store failed; nothing changed. Retry after `Retry-After` seconds.",
                    "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
                    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}),
                );
            }
        }
    }
}

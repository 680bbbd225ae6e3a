//! The bodies of the inventory, quarantine and operations answers in the OpenAPI document
//! (`/v1/inventory…`, `/v1/sims…`, `/v1/numbers/quarantine`, `/healthz`, `/readyz`), with
//! the `Batch`, `Sim`, `InventoryCounts` and `Readiness` schemas.

use super::ids::{ICCID_OUT, IMSI, MSISDN_OUT};
use serde_json::{Value, json};

fn schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn json_body(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

fn problem(description: &str) -> Value {
    json!({"description": description,
           "content": {"application/problem+json": {"schema": schema("Problem")}}})
}

/// Sets the body of answer `status` of `method path`, keeping its description.
fn answer(doc: &mut Value, path: &str, method: &str, status: &str, schema: Value) {
    let r = &mut doc["paths"][path][method]["responses"][status];
    let description = r["description"].as_str().unwrap_or("").to_owned();
    *r = json_body(&description, schema);
}

/// Adds the answer bodies and schemas to `doc`.
pub(super) fn add(doc: &mut Value) {
    answer(
        doc,
        "/healthz",
        "get",
        "200",
        json!({"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}}),
    );
    answer(doc, "/readyz", "get", "200", schema("Readiness"));
    answer(doc, "/readyz", "get", "503", schema("Readiness"));
    answer(
        doc,
        "/openapi.json",
        "get",
        "200",
        json!({"type": "object", "required": ["openapi", "info", "paths"], "additionalProperties": true}),
    );
    answer(
        doc,
        "/v1/inventory",
        "get",
        "200",
        json!({
        "type": "object", "required": ["tenant", "counts", "pools", "batches"], "properties": {
            "tenant": {"type": "string"},
            "counts": schema("InventoryCounts"),
            "pools": {"type": "object", "description": "Per number block: its `numbers_…` counts.",
                      "additionalProperties": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}},
            "batches": {"type": "object", "description": "Per SIM batch: its `sims_…` counts.",
                        "additionalProperties": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}}}}),
    );
    for status in ["200", "201"] {
        answer(
            doc,
            "/v1/inventory/imports",
            "post",
            status,
            schema("Batch"),
        );
    }
    let imports = &mut doc["paths"]["/v1/inventory/imports"]["post"];
    if let Some(p) = imports["parameters"].as_array_mut() {
        p.push(json!({"name": "esim_profile_type", "in": "query", "required": false,
            "description": "A batch of eSIM profiles: their SM-DP+ profile type (1 to 64 bytes, no control character).",
            "schema": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[^\\x00-\\x1F\\x7F-\\x9F]+$"}}));
    }
    let responses = &mut imports["responses"];
    responses["400"] = problem(
        "Nothing changed. `invalid_value`: `format`, `iccid_length` or `esim_profile_type` is not one the server takes (`field` names it).",
    );
    responses["422"] = json!({"description": "Nothing imported. `batch_rejected`: lines are wrong (`rejects` lists every one, `reject_counts` counts them per code); `batch_invalid`: the file as a whole is unusable; `transport_key_unavailable`: its keys are encrypted under a transport key this gateway lacks.",
        "content": {"application/problem+json": {"schema": {"allOf": [schema("Problem"), {"type": "object", "properties": {
            "rejects": {"type": "array", "items": {"type": "object", "required": ["line", "code", "reason"], "properties": {
                "line": {"type": "integer", "minimum": 1}, "code": {"type": "string"}, "reason": {"type": "string"}}}},
            "reject_counts": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1}}}}]}}}});
    answer(
        doc,
        "/v1/inventory/batches/{id}",
        "get",
        "200",
        schema("Batch"),
    );
    answer(doc, "/v1/sims", "get", "200", schema("Sim"));
    answer(doc, "/v1/sims/{iccid}", "get", "200", schema("Sim"));
    answer(
        doc,
        "/v1/numbers/quarantine",
        "get",
        "200",
        json!({
        "type": "object", "required": ["object", "data"], "properties": {
            "object": {"const": "list"},
            "data": {"type": "array", "items": {"type": "object", "required": ["msisdn", "release_at"], "properties": {
                "msisdn": {"type": "string", "pattern": MSISDN_OUT}, "release_at": {"type": "string", "format": "date-time"}}}}}}),
    );
    doc["paths"]["/v1/numbers/quarantine"]["get"]["responses"]["400"] =
        problem("`invalid_value`: `limit` is not from 1 to 10000.");
    answer(
        doc,
        "/v1/numbers/{msisdn}/release",
        "post",
        "200",
        json!({
        "type": "object", "required": ["msisdn", "status"], "properties": {
            "msisdn": {"type": "string", "pattern": MSISDN_OUT}, "status": {"const": "available"}}}),
    );
    let count = json!({"type": "integer", "minimum": 0});
    let schemas = &mut doc["components"]["schemas"];
    schemas["InventoryCounts"] = json!({"type": "object",
        "required": ["sims_available", "sims_reserved", "sims_active", "numbers_available", "numbers_golden", "numbers_held", "numbers_quarantined"],
        "properties": {"sims_available": count, "sims_reserved": count, "sims_active": count, "numbers_available": count,
                       "numbers_golden": count, "numbers_held": count, "numbers_quarantined": count}});
    schemas["Batch"] = json!({"type": "object",
        "required": ["id", "object", "status", "cards", "format", "source", "file_sha256", "started_at"],
        "properties": {
            "id": {"type": "string", "pattern": "^bat_[0-9a-f]{24}$"}, "object": {"const": "batch"},
            "status": {"type": "string", "enum": ["importing", "complete"]}, "cards": count,
            "format": {"type": "string", "enum": ["vendor-out", "csv"]}, "source": {"type": "string"},
            "file_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "vendor_batch": {"type": ["string", "null"]}, "transport_key_index": {"type": ["integer", "null"]},
            "started_at": {"type": "string", "format": "date-time"}}});
    schemas["Sim"] = json!({"type": "object", "description": "A SIM without its keys.",
        "required": ["iccid", "imsi", "state", "activation_id", "batch", "has_opc"],
        "properties": {
            "iccid": {"type": "string", "pattern": ICCID_OUT}, "imsi": {"type": "string", "pattern": IMSI},
            "state": {"type": "string", "enum": ["available", "reserved", "active", "retired"]},
            "activation_id": {"type": ["string", "null"], "description": "The order holding it (reserved, active, retired)."},
            "batch": {"type": "string"}, "has_opc": {"type": "boolean"}}});
    schemas["Readiness"] = json!({"type": "object",
        "required": ["status", "store", "orders_inflight", "backlog", "backlog_limit", "accepting_orders", "completion_rate_per_s", "projected_wait_seconds"],
        "properties": {
            "status": {"type": "string", "enum": ["ready", "not_ready"]}, "store": {"type": "string", "enum": ["ok", "unavailable"]},
            "orders_inflight": count, "backlog": count, "backlog_limit": count, "accepting_orders": {"type": "boolean"},
            "completion_rate_per_s": {"type": ["number", "null"]},
            "projected_wait_seconds": {"type": ["number", "null"], "description": "Null while nothing finishes."}}});
}

//! Second real-person verification in the OpenAPI document:
//! `POST /v1/subscriptions/{msisdn}/verification` and the `Verification` schema a
//! subscription carries.

use serde_json::{Value, json};

fn schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn problem(description: &str) -> Value {
    json!({"description": description,
           "content": {"application/problem+json": {"schema": schema("Problem")}}})
}

/// Adds the verification path and schemas to `doc`.
pub(super) fn add(doc: &mut Value) {
    let id =
        json!({"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[\\x21-\\x7E]+$"});
    let body = json!({
        "type": "object", "additionalProperties": false, "required": ["evidence", "result"],
        "properties": {
            "evidence": {"oneOf": [
                {"type": "object", "additionalProperties": false, "required": ["risk_notice"],
                 "properties": {"risk_notice": {"type": "object", "additionalProperties": false, "required": ["id"], "properties": {"id": id}}},
                 "description": "In store: the id of the fraud-risk notice the subscriber signed."},
                {"type": "object", "additionalProperties": false, "required": ["video"],
                 "properties": {"video": {"type": "object", "additionalProperties": false, "required": ["id"], "properties": {"id": id}}},
                 "description": "Online: the id of the video of the subscriber reading the notice aloud."}]},
            "channel": {"type": ["object", "null"], "description": "Where the subscriber verified, as on activations (`{\"kind\": \"store\", \"store_id\", \"staff_id\", \"terminal_id\"}`); absent or null: online."},
            "result": {"type": "string", "enum": ["passed", "failed"],
                       "description": "The identity verifier's decision on this evidence. Stated by the caller: the gateway does not call the verifier for re-verification yet."},
            "transaction_id": {"anyOf": [id, {"type": "null"}], "description": "The verifier's reference for its decision (audited). Null: as absent."}}});
    doc["paths"]["/v1/subscriptions/{msisdn}/verification"] = json!({"post": {
        "operationId": "verifySubscription",
        "summary": "Records a line's second real-person verification (二次实人认证). `passed` clears a line in `pending_verification`, or resumes one its deadline suspended (a `regulatory` resume order); `failed` suspends it (a `regulatory` suspend order). Operator keys only. No Idempotency-Key: a repeat answers 409 `verification_not_pending` once the first was recorded.",
        "parameters": [{"$ref": "#/components/parameters/Msisdn"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": body}}},
        "responses": {
            "200": {"description": "Recorded: the line after it (as `GET /v1/subscriptions/{msisdn}`), and `order`, the resume or suspend order it started (follow it at `/v1/orders/{id}`), or null.",
                    "content": {"application/json": {"schema": {"allOf": [schema("Subscription"), {"type": "object", "required": ["order"], "properties": {
                        "order": {"oneOf": [schema("LifecycleOrder"), {"type": "null"}]}}}]}}}},
            "400": problem("Nothing changed. `malformed_json`, `invalid_type`, `unknown_field`, `missing_field` (`result`), `invalid_value`; `field` names the JSON path."),
            "401": problem("`unauthorized`."),
            "403": {"$ref": "#/components/responses/ForbiddenForRole"},
            "404": problem("`subscription_not_found`."),
            "409": problem("Nothing changed. `verification_not_pending`: the line has no verification pending (nor a suspension by one); `subscription_busy`: the result needs a resume or suspend order and another order is in flight on the line (`order_id`; send again once it ended); `subscription_terminated`."),
            "413": problem("`body_too_large`."),
            "415": problem("`unsupported_media_type`."),
            "422": problem("Nothing changed. `verification_evidence_required`: no evidence, an empty id, or the wrong kind for the channel (in store `evidence.risk_notice.id`, online `evidence.video.id`; `field` names it)."),
            "503": problem("`store_unavailable`.")}}});
    doc["components"]["schemas"]["Verification"] = json!({
        "type": "object", "required": ["state", "rules"],
        "description": "The line's second real-person verification. `pending` after a risk rule hit (the line shows `state: pending_verification`) until it is verified or `deadline` passes; `suspended` when the deadline passed or the verifier failed the subscriber (the line is suspended for `regulatory`; a later pass resumes it).",
        "properties": {
            "state": {"type": "string", "enum": ["clear", "pending", "suspended"]},
            "rules": {"type": "array", "items": {"type": "string", "enum": ["id_near_limit", "store_burst", "outside_store_hours", "blocked_imei", "sim_swap", "imei_change", "verifier_flag"]},
                      "description": "The risk rules that asked for it."},
            "since": {"type": "string", "format": "date-time"},
            "deadline": {"type": "string", "format": "date-time", "description": "Pending: when the line is suspended if still unverified."},
            "cause": {"type": "string", "enum": ["expired", "failed"], "description": "Suspended: why."}}});
}

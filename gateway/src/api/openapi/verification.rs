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
        "type": "object", "additionalProperties": false, "required": ["evidence"],
        "properties": {
            "evidence": {"oneOf": [
                {"type": "object", "additionalProperties": false, "required": ["risk_notice"],
                 "properties": {"risk_notice": {"type": "object", "additionalProperties": false, "required": ["id"], "properties": {"id": id}},
                     "face_match": {"type": "object", "additionalProperties": false, "required": ["transaction_id", "score", "liveness"],
                         "properties": {"transaction_id": id, "score": {"type": "number", "minimum": 0.0, "maximum": 1.0}, "liveness": {"type": "boolean"}},
                         "description": "The customer's face match at the counter (the face-match vendor's transaction id, score and liveness). Required when the gateway asks the verifier (no `result`)."}},
                 "description": "In store: the id of the fraud-risk notice the subscriber signed, and the face match the verifier checks."},
                {"type": "object", "additionalProperties": false, "required": ["video"],
                 "properties": {"video": {"type": "object", "additionalProperties": false, "required": ["id"], "properties": {"id": id}}},
                 "description": "Online: the id of the video of the subscriber reading the notice aloud."}]},
            "channel": {"type": ["object", "null"], "description": "Where the subscriber verified, as on activations (`{\"kind\": \"store\", \"store_id\", \"staff_id\", \"terminal_id\"}`); absent or null: online."},
            "result": {"type": "string", "enum": ["passed", "failed"],
                       "description": "The identity verifier's decision, stated by an operator key (a decision the verifier gave elsewhere). Absent: the gateway asks the tenant's identity verifier itself, with this evidence and the identity the line was sold on; `pass` passes, `reject` and `flag` fail."},
            "transaction_id": {"anyOf": [id, {"type": "null"}], "description": "The verifier's reference for its decision (audited). Null: as absent."}}});
    doc["paths"]["/v1/subscriptions/{msisdn}/verification"] = json!({"post": {
        "operationId": "verifySubscription",
        "summary": "Records a line's second real-person verification (二次实人认证). `passed` clears a line in `pending_verification`, or resumes one its deadline suspended (a `regulatory` resume order); `failed` suspends it (a `regulatory` suspend order). Without `result` the gateway asks the identity verifier (channel or operator keys: a store's clerk verifies the customer at the counter); with `result` an operator key states the decision. No Idempotency-Key: a repeat answers 409 `verification_not_pending` once the first was recorded.",
        "parameters": [{"$ref": "#/components/parameters/Msisdn"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": body}}},
        "responses": {
            "200": {"description": "Recorded: the line after it (as `GET /v1/subscriptions/{msisdn}`), and `order`, the resume or suspend order it started (follow it at `/v1/orders/{id}`), or null.",
                    "content": {"application/json": {"schema": {"allOf": [schema("Subscription"), {"type": "object", "required": ["order"], "properties": {
                        "order": {"oneOf": [schema("LifecycleOrder"), {"type": "null"}]},
                        "verifier": {"type": "object", "required": ["outcome", "code"], "description": "When the gateway asked the verifier: its decision (`pass`, `reject`, `flag`) and code (`face_check_failed`, …; null for a pass).",
                            "properties": {"outcome": {"type": "string", "enum": ["pass", "reject", "flag"]}, "code": {"type": ["string", "null"]}}}}}]}}}},
            "400": problem("Nothing changed. `malformed_json`, `invalid_type`, `unknown_field`, `missing_field` (`result` when this gateway or this line cannot be put to a verifier; `evidence.face_match` when the verifier is asked in store), `invalid_value`; `field` names the JSON path."),
            "401": problem("`unauthorized`."),
            "403": {"$ref": "#/components/responses/ForbiddenForRole"},
            "404": problem("`subscription_not_found`."),
            "409": problem("Nothing changed. `verification_not_pending`: the line has no verification pending (nor a suspension by one); `subscription_busy`: the result needs a resume or suspend order and another order is in flight on the line (`order_id`; send again once it ended); `subscription_terminated`."),
            "413": problem("`body_too_large`."),
            "415": problem("`unsupported_media_type`."),
            "422": problem("Nothing changed. `verification_evidence_required`: no evidence, an empty id, or the wrong kind for the channel (in store `evidence.risk_notice.id`, online `evidence.video.id`; `field` names it)."),
            "503": problem("Nothing changed. `identity_service_unavailable`: the verifier gave no decision (send again in a moment); `store_unavailable`.")}}});
    add_handset(doc);
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

/// `POST /v1/subscriptions/{msisdn}/handset`: the network's handset report.
fn add_handset(doc: &mut Value) {
    let body = json!({
        "type": "object", "additionalProperties": false, "required": ["imei"],
        "properties": {"imei": {"type": "string", "pattern": "^[0-9]{14,16}$",
            "description": "The IMEI the network saw the line in: 14 digits, 15 (the check digit, or 0 as the network sends it) or an IMEISV's 16. Two reports name the same handset when their first 14 digits agree."}}});
    let report = json!({"type": "object", "required": ["recorded", "changed", "rules"], "properties": {
        "recorded": {"type": "boolean", "description": "The report changed the line (false: the handset last reported, blocklisted as before; nothing was written)."},
        "changed": {"type": "boolean", "description": "Another handset than the last reported (the line's baseline is the handset its sale named in `channel.imei`, else its first report)."},
        "rules": {"type": "array", "items": {"type": "string", "enum": ["blocked_imei", "imei_change"]},
                  "description": "The tenant's risk rules the report hit; the line is then pending its second verification (`verification`)."}}});
    doc["paths"]["/v1/subscriptions/{msisdn}/handset"] = json!({"post": {
        "operationId": "reportSubscriptionHandset",
        "summary": "Reports the handset the host operator's network saw a line in (an EIR check, or the IMEI on its usage records). Operator keys. The gateway keeps a keyed MAC of the IMEI and its model's TAC, never the IMEI. Another handset than the last reported hits the tenant's `imei_change` rule, an IMEI on the enterprise's blocklist its `blocked_imei` rule; a hit puts the line in `pending_verification` with the policy's deadline, as a risk hit at activation does (`subscription.verification_required`). The same handset reported again writes nothing, so a feed may repeat itself; no Idempotency-Key.",
        "parameters": [{"$ref": "#/components/parameters/Msisdn"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": body}}},
        "responses": {
            "200": {"description": "Taken: the line after it (as `GET /v1/subscriptions/{msisdn}`) and `report`.",
                    "content": {"application/json": {"schema": {"allOf": [schema("Subscription"), {"type": "object", "required": ["report"], "properties": {"report": report}}]}}}},
            "400": problem("Nothing changed. `malformed_json`, `invalid_type`, `unknown_field`, `missing_field`, `invalid_value` (`imei`); `field` names the JSON path."),
            "401": problem("`unauthorized`."),
            "403": {"$ref": "#/components/responses/ForbiddenForRole"},
            "404": problem("`subscription_not_found` (also the number of a terminated line)."),
            "413": problem("`body_too_large`."),
            "415": problem("`unsupported_media_type`."),
            "503": problem("Nothing changed. `store_unavailable`.")}}});
}

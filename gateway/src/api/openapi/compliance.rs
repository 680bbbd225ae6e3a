//! Real-name and anti-fraud controls in the OpenAPI document: the typed `subscriber`,
//! `POST /v1/activations/validate`, the channel registry and the blocklists.

use serde_json::{Value, json};

fn schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn problem(description: &str) -> Value {
    json!({"description": description,
           "content": {"application/problem+json": {"schema": schema("Problem")}}})
}

fn forbidden() -> Value {
    json!({"$ref": "#/components/responses/ForbiddenForRole"})
}

fn list_of(item: &str) -> Value {
    json!({"type": "object", "required": ["object", "data"], "properties": {
        "object": {"const": "list"}, "data": {"type": "array", "items": schema(item)}}})
}

const REFUSALS_400: &str = "Nothing changed. `malformed_json`, `unknown_field`, `missing_field`, `invalid_value`; `subscriber_invalid` (a member of `subscriber` is malformed), `id_number_invalid` (the number does not fit its type: shape, check character or birth date); `field` names the JSON path.";
const REFUSALS_422: &str = "Nothing changed. `subscriber_required`; `id_type_not_accepted` (`allowed`); `id_capture_method_not_allowed` (`allowed`); `face_check_required`, `face_check_failed`; `esim_channel_not_allowed`; `id_quota_exceeded` (`limit`, `active`: the ID's live lines across the operator's brands); and the inventory refusals of `createActivation`.";

/// Adds the compliance paths and schemas to `doc`.
pub(super) fn add(doc: &mut Value) {
    let paths = [
        (
            "/v1/activations/validate",
            json!({"post": {
            "operationId": "validateActivation",
            "summary": "Runs every real-name and anti-fraud check an activation with this body would meet, reserving and counting nothing (a store terminal asks before taking payment). No Idempotency-Key. Channel and operator keys.",
            "requestBody": {"required": true, "content": {"application/json": {"schema": schema("ActivationRequest")}}},
            "responses": {
                "200": {"description": "Every check passes now (a later order can still be refused if limits change meanwhile).",
                        "content": {"application/json": {"schema": {"type": "object", "required": ["ok"], "properties": {
                            "ok": {"const": true},
                            "policy_version": {"type": "string"},
                            "verification_required": {"type": "boolean", "description": "A risk rule would put the line into `pending_verification`."}}}}}},
                "400": problem(REFUSALS_400), "401": problem("`unauthorized`."),
                "403": forbidden(),
                "413": problem("`body_too_large`."),
                "415": problem("`unsupported_media_type`."),
                "422": problem(REFUSALS_422),
                "429": {"$ref": "#/components/responses/VelocityLimit"},
                "503": problem("`store_unavailable`.")}}}),
        ),
        (
            "/v1/channels/{kind}",
            json!({"get": {
            "operationId": "listChannelMembers",
            "summary": "The tenant's registered stores, clerks or devices (terminals and ID readers).",
            "parameters": [
                {"name": "kind", "in": "path", "required": true, "schema": {"type": "string", "enum": ["stores", "clerks", "devices"]}},
                {"name": "store_id", "in": "query", "required": false, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "The entries.", "content": {"application/json": {"schema": list_of("ChannelMember")}}},
                          "401": problem("`unauthorized`."), "404": problem("`not_found`: not a registry kind.")}}}),
        ),
        (
            "/v1/channels/stores/{store_id}",
            registry_put(
                "putStore",
                "A store: its status (the kill switch), label and opening hours.",
                &["store_id"],
                false,
            ),
        ),
        (
            "/v1/channels/clerks/{store_id}/{clerk_id}",
            registry_put(
                "putClerk",
                "A clerk of a store.",
                &["store_id", "clerk_id"],
                false,
            ),
        ),
        (
            "/v1/channels/devices/{store_id}/{device_id}",
            registry_put(
                "putDevice",
                "A device of a store: a terminal, or an ID-card reader by serial (`type`).",
                &["store_id", "device_id"],
                true,
            ),
        ),
        (
            "/v1/blocklists",
            json!({
            "get": {
                "operationId": "listBlocklist",
                "summary": "The enterprise's blocklist entries, history included (operator keys). ID entries show the keyed hash, never a number.",
                "parameters": [{"name": "list", "in": "query", "required": false, "schema": schema("BlocklistName")}],
                "responses": {"200": {"description": "The entries.", "content": {"application/json": {"schema": list_of("BlocklistEntry")}}},
                              "400": problem("`invalid_value`: unknown list."), "401": problem("`unauthorized`."), "403": forbidden()}},
            "post": {
                "operationId": "addBlocklistEntry",
                "summary": "Adds an entry, in force now for `days` (an ID entry: within the policy's bounds, by default 730 to 1095 days, at most 5 consecutive years). Audited.",
                "requestBody": {"required": true, "content": {"application/json": {"schema": blocklist_entry_request()}}},
                "responses": {"201": {"description": "Added.", "content": {"application/json": {"schema": schema("BlocklistEntry")}}},
                              "400": problem(REFUSALS_400), "401": problem("`unauthorized`."), "403": forbidden(),
                              "413": problem("`body_too_large`."), "415": problem("`unsupported_media_type`."),
                              "422": problem("`blocklist_entry_invalid`: the entry's lifetime breaks the policy's bounds; nothing changed.")}}}),
        ),
        (
            "/v1/blocklists/{list}/{value}",
            json!({"delete": {
            "operationId": "endBlocklistEntry",
            "summary": "Ends every entry in force for the subject now (history stays). Percent-encode a `/` in the value as `%2F`. Audited.",
            "parameters": [
                {"name": "list", "in": "path", "required": true, "schema": schema("BlocklistName")},
                {"name": "value", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": {"204": {"description": "Ended."}, "400": problem("`invalid_value`."), "401": problem("`unauthorized`."), "403": forbidden(),
                          "404": problem("`blocklist_entry_not_found`: no entry in force for the subject.")}}}),
        ),
    ];
    for (path, item) in paths {
        doc["paths"][path] = item;
    }
    let schemas = &mut doc["components"]["schemas"];
    schemas["Activation"]["properties"]["identity"] = json!({"type": "object", "description": "The identity verification of the subscriber, before any southbound step.", "properties": {
        "status": {"type": "string", "enum": ["pending", "passed", "flagged", "rejected", "unavailable", "skipped", "unsendable"]},
        "attempts": {"type": "integer", "minimum": 0},
        "code": {"type": "string", "description": "The verifier's refusal or flag code."},
        "reverify": {"type": "boolean", "description": "Flagged: the line must be verified again."}}});
    schemas["BlocklistName"] =
        json!({"type": "string", "enum": ["id", "store", "clerk", "terminal", "reader", "imei"]});
    schemas["BlocklistEntry"] = json!({"type": "object", "required": ["object", "list", "value", "starts_at", "active"], "properties": {
        "object": {"const": "blocklist_entry"}, "list": schema("BlocklistName"), "value": {"type": "string"},
        "starts_at": {"type": "string", "format": "date-time"}, "expires_at": {"type": ["string", "null"], "format": "date-time"},
        "active": {"type": "boolean"}, "reason": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"}}});
    schemas["ChannelMember"] = json!({"type": "object", "required": ["object", "type", "store_id", "id", "status"], "properties": {
        "object": {"const": "channel_member"}, "type": {"type": "string", "enum": ["store", "clerk", "terminal", "reader"]},
        "store_id": {"type": "string"}, "id": {"type": "string"},
        "status": {"type": "string", "enum": ["enabled", "disabled", "frozen"], "description": "`frozen`: a velocity breach froze it; `PUT` with `enabled` lifts it."},
        "label": {"type": ["string", "null"]}, "hours": schema("StoreHours"),
        "updated_at": {"type": "string", "format": "date-time"},
        "pin_set": {"const": true, "description": "In the answer of a clerk `PUT` that set `pin`."},
        "terminal_role": {"type": "string", "enum": ["sales", "supervisor"], "description": "In the answer of a clerk `PUT` that set `terminal_role`."}}});
    schemas["StoreHours"] = json!({"type": "object", "additionalProperties": false, "required": ["open", "close", "utc_offset"], "properties": {
        "open": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"}, "close": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
        "utc_offset": {"type": "string", "pattern": "^[+-][01][0-9]:[0-5][0-9]$"}}});
    schemas["Subscriber"] = json!({"type": "object", "description": "The subscriber's identity. The ID number is kept only as a keyed hash (to count and match) and sealed for lawful export; it is never returned, logged or sent in an event. Required, and checked, as the tenant's market says (see README, Compliance). An optional member that is null is taken as absent.",
        "required": ["name", "id_type", "id_number"], "properties": {
        "name": {"type": "string", "maxLength": 100},
        "id_type": {"type": "string", "enum": adapters::identity::IdType::ALL.map(|t| t.as_str())},
        "id_number": {"type": "string"},
        "nationality": {"type": ["string", "null"], "pattern": "^([Dd]|[A-Za-z]{3})$", "description": "ISO 3166-1 alpha-3 (any case; `D`, Germany's code in a passport's machine-readable zone, reads `DEU`); required with passports and other foreign documents."},
        "capture": {"oneOf": [
            {"type": "object", "required": ["method", "reader_serial"], "properties": {"method": {"const": "card_reader"}, "reader_serial": {"type": "string"}, "payload_ref": {"type": ["string", "null"]}}},
            {"type": "object", "required": ["method"], "properties": {"method": {"const": "manual"}}},
            {"type": "null", "description": "As absent: `manual`."}]},
        "evidence": {"type": ["object", "null"], "properties": {
            "face_match": {"type": ["object", "null"], "required": ["transaction_id", "score", "liveness"], "properties": {
                "transaction_id": {"type": "string"}, "score": {"type": "number", "minimum": 0, "maximum": 1}, "liveness": {"type": "boolean"}}},
            "video": {"type": ["object", "null"], "required": ["id"], "properties": {"id": {"type": "string"}}},
            "risk_notice": {"type": ["object", "null"], "required": ["id"], "properties": {"id": {"type": "string"}}}}}}});
    doc["components"]["responses"]["VelocityLimit"] = json!({
        "description": "`velocity_limit`: a velocity window is full (`limit`, `window`, `retry_after` seconds, also in `Retry-After`); nothing changed. Depending on the policy the store, clerk or device is also frozen (`channel_frozen` on later orders).",
        "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
        "content": {"application/problem+json": {"schema": schema("Problem")}}});
}

/// A character that is not white space as the server's `str::trim` sees it: a `reason`
/// needs one.
const NOT_BLANK: &str = "[^\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]";

/// The body of `POST /v1/blocklists`, one form per kind of list: an `id` entry names the
/// document (never a `value`); every other list takes a `value` of its own shape (the
/// document's members absent or null).
fn blocklist_entry_request() -> Value {
    const ID: &str = "[A-Za-z0-9._-]{1,64}";
    let days = json!({"type": ["integer", "null"], "minimum": 1, "maximum": 3650, "description": "Null: as absent."});
    let reason = json!({"type": "string", "minLength": 1, "maxLength": 500, "pattern": NOT_BLANK,
        "description": "Why the entry is added (audited, never shown to a channel; no ID numbers or names)."});
    let absent = json!({"type": "null"});
    let subject = |lists: Value, pattern: String, what: &str| {
        json!({"type": "object", "additionalProperties": false, "required": ["list", "value", "reason"], "properties": {
            "list": lists, "value": {"type": "string", "pattern": pattern, "description": what},
            "id_type": absent, "id_number": absent, "nationality": absent, "days": days, "reason": reason}})
    };
    json!({"oneOf": [
        {"type": "object", "additionalProperties": false, "required": ["list", "id_type", "id_number", "reason"], "properties": {
            "list": {"const": "id"},
            "id_type": {"type": "string", "enum": adapters::identity::IdType::ALL.map(|t| t.as_str())},
            "id_number": {"type": "string", "description": "Checked for its type (shape, check character, birth date), then kept only as a keyed hash."},
            "nationality": {"type": ["string", "null"], "pattern": "^([Dd]|[A-Za-z]{3})$", "description": "ISO 3166-1 alpha-3 (any case; `D` reads `DEU`); required with passports and other foreign documents."},
            "days": days, "reason": reason}},
        subject(json!({"enum": ["store", "reader"]}), format!("^{ID}$"), "A store id, or an ID reader's serial."),
        subject(json!({"enum": ["clerk", "terminal"]}), format!("^{ID}/{ID}$"), "`<store_id>/<clerk_id>` or `<store_id>/<terminal_id>`."),
        subject(json!({"const": "imei"}), "^[0-9]{14,16}$".to_owned(), "The handset's IMEI.")]})
}

fn registry_put(operation_id: &str, summary: &str, ids: &[&str], device: bool) -> Value {
    let params: Vec<Value> = ids
        .iter()
        .map(|n| json!({"name": n, "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"}}))
        .collect();
    let mut props = json!({
        "status": {"type": "string", "enum": ["enabled", "disabled"], "description": "The kill switch; `enabled` also lifts a freeze. Default `enabled`."},
        "label": {"type": ["string", "null"], "maxLength": 200}});
    let mut required = vec![];
    if device {
        props["type"] = json!({"type": "string", "enum": ["terminal", "reader"]});
        required.push("type");
    } else if ids.len() == 1 {
        props["hours"] = json!({"anyOf": [schema("StoreHours"), {"type": "null"}], "description": "Null or absent: no opening hours."});
    } else {
        props["pin"] = json!({"type": ["string", "null"], "pattern": "^[0-9]{4,12}$", "writeOnly": true,
            "description": "Null or absent: unchanged. The clerk's PIN for the store terminal (`/terminal/`): stored only as an Argon2id hash; clears a lock-out and signs the clerk out everywhere. The answer then has `pin_set: true`."});
        props["terminal_role"] = json!({"type": ["string", "null"], "enum": ["sales", "supervisor", null],
            "description": "Null or absent: unchanged. What the clerk may do on the store terminal: sell and look lines up (`sales`), or also suspend a lost phone's line and swap SIMs (`supervisor`). Needs a PIN set now or before (`missing_field` `pin` otherwise, nothing changed)."});
    }
    json!({"put": {
        "operationId": operation_id,
        "summary": format!("{summary} Operator keys; audited; takes effect on the next order."),
        "parameters": params,
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": required, "properties": props}}}},
        "responses": {"200": {"description": "The entry as stored.", "content": {"application/json": {"schema": schema("ChannelMember")}}},
                      "400": problem("`malformed_json`, `unknown_field`, `invalid_value`."), "401": problem("`unauthorized`."), "403": forbidden(),
                      "413": problem("`body_too_large`."), "415": problem("`unsupported_media_type`.")}}})
}

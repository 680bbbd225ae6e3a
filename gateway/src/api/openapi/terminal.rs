//! The store terminal's operator calls in the OpenAPI document: pairing codes and
//! revoking a terminal's sessions. The page's own calls (`/terminal/api/…`, cookie
//! sessions, no API key) are described in docs/terminal.md, not here: they are not part
//! of the API a channel integrates with.

use serde_json::{Value, json};

fn problem(description: &str) -> Value {
    json!({"description": description,
           "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}})
}

fn id_param(name: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"}})
}

/// Adds the terminal paths to `doc`.
pub(super) fn add(doc: &mut Value) {
    let id = json!({"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"});
    doc["paths"]["/v1/terminal/pairings"] = json!({"post": {
        "operationId": "createTerminalPairing",
        "summary": "A one-time pairing code (valid 10 minutes, single use) that pairs a browser at `/terminal/` as this registered, enabled terminal; redeeming it signs out every earlier session of the terminal. Shown once: only a keyed MAC is stored. Operator keys; audited. `simgw terminal pair` calls this.",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {
            "type": "object", "additionalProperties": false, "required": ["store_id", "terminal_id"],
            "properties": {"store_id": id, "terminal_id": id,
                           "tenant": {"description": "A string: must be the key's tenant (`tenant_mismatch` otherwise). Any other value (null included) is ignored."}}}}}},
        "responses": {
            "201": {"description": "The code (with `Cache-Control: no-store`).", "content": {"application/json": {"schema": {
                "type": "object", "required": ["object", "code", "store_id", "terminal_id", "expires_at"], "properties": {
                    "object": {"const": "terminal_pairing"},
                    "code": {"type": "string", "pattern": "^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$"},
                    "store_id": {"type": "string"}, "terminal_id": {"type": "string"},
                    "expires_at": {"type": "string", "format": "date-time"}}}}}},
            "400": problem("`malformed_json`, `unknown_field`, `invalid_value`, `tenant_mismatch`."),
            "401": problem("`unauthorized`."),
            "403": {"$ref": "#/components/responses/ForbiddenForRole"},
            "404": problem("`terminal_not_registered`: register and enable the store and the terminal first (`PUT /v1/channels/…`)."),
            "413": problem("`body_too_large`."), "415": problem("`unsupported_media_type`.")}}});
    doc["paths"]["/v1/terminal/devices/{store_id}/{terminal_id}/revoke"] = json!({"post": {
        "operationId": "revokeTerminal",
        "summary": "Signs every browser paired as this terminal out at its next call; selling again needs a new pairing code. Operator keys; audited.",
        "parameters": [id_param("store_id"), id_param("terminal_id")],
        "responses": {
            "200": {"description": "Revoked.", "content": {"application/json": {"schema": {
                "type": "object", "required": ["object", "store_id", "terminal_id", "paired", "revoked_at"], "properties": {
                    "object": {"const": "terminal_device"}, "store_id": {"type": "string"}, "terminal_id": {"type": "string"},
                    "paired": {"const": false}, "generation": {"type": "integer"},
                    "revoked_at": {"type": "string", "format": "date-time"}}}}}},
            "400": problem("`invalid_value`: an id that cannot be one."),
            "401": problem("`unauthorized`."),
            "403": {"$ref": "#/components/responses/ForbiddenForRole"},
            "503": problem("`store_unavailable`, `service_unavailable`.")}}});
}

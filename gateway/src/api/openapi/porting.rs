//! Port-in orders in the OpenAPI document: `GET /v1/ports`, `POST /v1/orders/{id}/cancel`
//! and the `Port` schema an activation that ports its number carries. The hub's own
//! protocol (the listener hub messages arrive on) is `docs/porting-hub.md`.

use serde_json::{Value, json};

fn schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn problem(description: &str) -> Value {
    json!({"description": description,
           "content": {"application/problem+json": {"schema": schema("Problem")}}})
}

use crate::api::ports::OPEN;

/// Adds the porting paths and schemas to `doc`.
pub(super) fn add(doc: &mut Value) {
    let time = json!({"type": ["string", "null"], "format": "date-time"});
    doc["paths"]["/v1/ports"] = json!({"get": {
        "operationId": "listPorts",
        "summary": "The tenant's open port-in orders (any role), oldest first.",
        "parameters": [
            {"name": "state", "in": "query", "required": false, "schema": {"type": "string", "enum": OPEN}},
            {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}],
        "responses": {
            "200": {"description": "Open ports.", "content": {"application/json": {"schema": {
                "type": "object", "required": ["data"], "properties": {"data": {"type": "array", "items": {
                    "type": "object", "required": ["id", "status", "number"], "properties": {
                        "id": {"type": "string"}, "status": {"type": "string", "enum": OPEN},
                        "number": {"type": "string"}, "market": {"type": "string"}, "donor": {"type": "string"},
                        "temporary_number": {"type": ["string", "null"]}, "external_ref": {"type": ["string", "null"]},
                        "promised_at": time, "created_at": {"type": "string", "format": "date-time"},
                        "needs_attention": {"type": "boolean"}}}}}}}}},
            "400": problem("`invalid_value` (state, limit), `unknown_parameter`."),
            "401": problem("`unauthorized`.")}}});
    doc["paths"]["/v1/orders/{id}/cancel"] = json!({"post": {
        "operationId": "cancelOrder",
        "summary": "Cancels a port-in before its lock point: the hub is told, the SIM and any temporary number go back (the order ends `port_cancelled`). Operator and channel keys. Repeating it is harmless.",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^(act|ord)_[a-z2-7]{26}$"}}],
        "responses": {
            "202": {"description": "The cancel is durable; the order as it stands, with `cancel_requested: true`. Follow it at `/v1/orders/{id}`.",
                    "content": {"application/json": {"schema": schema("Activation")}}},
            "401": problem("`unauthorized`."),
            "403": {"$ref": "#/components/responses/ForbiddenForRole"},
            "404": problem("`order_not_found`."),
            "409": problem("Nothing changed. `port_locked`: past the lock point the number moves at the promised time; `order_finished`: the port already ended; `order_not_cancellable`: not a port-in order."),
            "503": problem("`store_unavailable`.")}}});
    // An activation that ports its number: its `port` part, and the `port_…` statuses.
    let activation = &mut doc["components"]["schemas"]["Activation"];
    activation["properties"]["port"] = schema("Port");
    if let Some(statuses) = activation["properties"]["status"]["enum"].as_array_mut() {
        statuses.extend(
            OPEN.iter()
                .chain(&["port_rejected", "port_cancelled", "port_expired"])
                .map(|s| json!(s)),
        );
    }
    if let Some(reasons) =
        activation["properties"]["attention"]["items"]["properties"]["reason"]["enum"]
            .as_array_mut()
    {
        reasons.push(json!("port_cutover_stalled"));
    }
    let transition = json!({"type": "object", "required": ["state", "actor", "at"], "properties": {
        "state": {"type": "string"},
        "actor": {"type": "string", "enum": ["channel", "hub", "donor", "recipient", "timer"]},
        "reason_code": {"type": ["string", "null"], "description": "A rejection reason or conflict cause."},
        "external_ref": {"type": ["string", "null"], "description": "The hub's port reference or message id."},
        "at": {"type": "string", "format": "date-time"}}});
    doc["components"]["schemas"]["Port"] = json!({
        "type": "object", "required": ["state", "market", "number", "donor", "timeline"],
        "description": "A port-in's own part of its order. `promised_at` is when the hub said the number moves, `completed_at` when it did (§1.6 of the porting reference). The credential is never shown.",
        "properties": {
            "state": {"type": "string", "enum": ["validating", "submitted", "conflict", "scheduled", "cancel_pending", "locked", "activating", "completed", "rejected", "cancelled", "expired", "failed"]},
            "market": {"type": "string", "enum": ["cn", "uk", "us", "eu-fr", "eu-generic"]},
            "number": {"type": "string"}, "donor": {"type": "string"},
            "temporary_number": {"type": ["string", "null"], "description": "The number the line runs on until cutover (UK, US); null where the line waits (China)."},
            "external_ref": {"type": ["string", "null"]},
            "requested_at": time, "credential_expires_at": time, "promised_at": time, "lock_at": time, "completed_at": time,
            "waiting": {"type": "boolean", "description": "Waiting for the hub or a deadline (nothing for the gateway to do meanwhile)."},
            "steps": {"type": "object", "description": "`submit`, `cancel`, `activate_number`, `acknowledge`, each as the other steps."},
            "timeline": {"type": "array", "items": transition}}});
}

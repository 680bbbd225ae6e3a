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

/// A port-out order's own statuses (`order::port` `out_status_name`).
const PORT_OUT: [&str; 7] = [
    "port_out_requested",
    "port_out_accepted",
    "port_out_locked",
    "port_out_deprovisioning",
    "port_out_rejected",
    "port_out_cancelled",
    "port_out_expired",
];

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
                    "content": {"application/json": {"schema": {"allOf": [schema("Activation"), {"type": "object", "required": ["kind", "cancel_requested"], "properties": {
                        "kind": {"const": "activation"}, "cancel_requested": {"const": true}}}]}}}},
            "401": problem("`unauthorized`."),
            "403": {"$ref": "#/components/responses/ForbiddenForRole"},
            "404": problem("`order_not_found`."),
            "409": problem("Nothing changed. `port_locked`: past the lock point the number moves at the promised time; `order_finished`: the port already ended; `order_not_cancellable`: not a port-in order."),
            "503": problem("`store_unavailable`.")}}});
    doc["paths"]["/v1/orders/{id}/reschedule"] = json!({"post": {
        "operationId": "rescheduleOrder",
        "summary": "Moves a scheduled port-in to another day before its lock point: the day is checked against the market's porting calendar, the request is durable before the answer, and the hub confirms with a new `scheduled` (the order's `port.promised_at` moves; `port.scheduled` is published) or refuses (the port keeps its date; `port.steps.reschedule` says why). Operator and channel keys. The same day asked again is one request.",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^(act|ord)_[a-z2-7]{26}$"}}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {
            "type": "object", "additionalProperties": false, "required": ["requested_date"],
            "properties": {"requested_date": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "description": "The day asked for (the market's cutover time on it)."}}}}}},
        "responses": {
            "202": {"description": "The request is durable; the order as it stands, with `reschedule_requested` (the cutover asked for). Follow it at `/v1/orders/{id}`.",
                    "content": {"application/json": {"schema": {"allOf": [schema("Activation"), {"type": "object", "required": ["kind", "reschedule_requested"], "properties": {
                        "kind": {"const": "activation"}, "reschedule_requested": {"type": "string", "format": "date-time"}}}]}}}},
            "400": problem("`invalid_type`, `missing_field`, `unknown_field`, `invalid_value` (requested_date: not a day), `malformed_json`."),
            "401": problem("`unauthorized`."),
            "403": {"$ref": "#/components/responses/ForbiddenForRole"},
            "404": problem("`order_not_found`."),
            "409": problem("Nothing changed. `port_not_scheduled`: the hub has not scheduled the port yet (or the donor disputes it); `port_locked`: past the lock point; `order_finished`: the port already ended; `order_not_reschedulable`: not a port-in order."),
            "413": problem("`body_too_large`."),
            "415": problem("`unsupported_media_type`."),
            "422": problem("`invalid_requested_date`: the market does not port on that day (names the reason)."),
            "503": problem("`store_unavailable`.")}}});
    // An activation that ports its number: its `port` part, and the `port_…` statuses.
    let activation = &mut doc["components"]["schemas"]["Activation"];
    activation["properties"]["port"] = schema("Port");
    if let Some(statuses) = activation["properties"]["status"]["enum"].as_array_mut() {
        statuses.extend(
            OPEN.iter()
                .filter(|s| !PORT_OUT.contains(s))
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
        "type": "object", "required": ["state", "direction", "market", "number", "timeline"],
        "description": "A port's own part of its order: a port-in (`direction` `in`, on an activation) or a port-out (`direction` `out`, on an order of kind `port_out`, where `recipient` names the gaining provider and `decision` our answer). `promised_at` is when the hub said the number moves, `completed_at` when it did (§1.6 of the porting reference). The credential is never shown.",
        "properties": {
            "state": {"type": "string", "enum": ["validating", "submitted", "conflict", "scheduled", "cancel_pending", "locked", "activating", "completed", "rejected", "cancelled", "expired", "failed"]},
            "market": {"type": "string", "enum": ["cn", "uk", "us", "eu-fr", "eu-generic"]},
            "number": {"type": "string"}, "donor": {"type": "string"},
            "range_holder": {"type": ["string", "null"], "description": "Port-in: the operator that holds the number's range, as the hub named it (null: the hub did not; the donor is taken as it). When the line ends or changes number, the number goes back to it (the lifecycle order's `number_return` step); it never enters our pools."},
            "temporary_number": {"type": ["string", "null"], "description": "The number the line runs on until cutover (UK, US); null where the line waits (China)."},
            "external_ref": {"type": ["string", "null"]},
            "requested_at": time, "credential_expires_at": time, "promised_at": time, "lock_at": time, "completed_at": time,
            "waiting": {"type": "boolean", "description": "Waiting for the hub or a deadline (nothing for the gateway to do meanwhile)."},
            "steps": {"type": "object", "description": "`submit` (port-in) or `answer` (port-out), `cancel`, `reschedule` (the latest reschedule's hub request), `activate_number` (a port-out: the line taken off), `acknowledge`, each as the other steps."},
            "direction": {"type": "string", "enum": ["in", "out"]},
            "recipient": {"type": "string", "description": "Port-out: the gaining provider."},
            "respond_by": {"type": "string", "format": "date-time", "description": "Port-out: our answer's deadline (the earlier of the hub's and the market's)."},
            "decision": {"type": "string", "enum": ["accept", "reject"]},
            "reject_reason": {"type": ["string", "null"], "description": "Port-out: the reason our rejection carries (`credential_invalid`, `credential_expired`, `credential_msisdn_mismatch`, `account_mismatch`, `number_not_portable`, `line_not_active`, `contract_lock`, `pending_port_exists`, `timeout`)."},
            "timeline": {"type": "array", "items": transition}}});
    add_port_out(doc);
}

/// `POST /v1/subscriptions/{msisdn}/port-out-credential`, and the port-out order (kind
/// `port_out`, started by the hub's request) as `GET /v1/orders/{id}` shows it.
fn add_port_out(doc: &mut Value) {
    let order = &mut doc["components"]["schemas"]["LifecycleOrder"];
    if let Some(kinds) = order["properties"]["kind"]["enum"].as_array_mut() {
        kinds.push(json!("port_out"));
    }
    if let Some(statuses) = order["properties"]["status"]["enum"].as_array_mut() {
        statuses.extend(PORT_OUT.iter().map(|s| json!(s)));
    }
    order["properties"]["port"] = schema("Port");
    order["properties"]["status"]["description"] = json!(
        "`completed` and `failed` are terminal; a failed order left the line as it was. A port-out (kind `port_out`) shows its own `port_out_…` statuses until the number left (`completed`), or its outcome (`port_out_rejected`, `port_out_cancelled`, `port_out_expired`)."
    );
    doc["paths"]["/v1/subscriptions/{msisdn}/port-out-credential"] = json!({"post": {
        "operationId": "issuePortOutCredential",
        "summary": "Issues the line's port-out credential in its market's form (UK PAC, French RIO, China 授权码, US account number and transfer PIN, a national code), after the channel authenticated the customer (FCC 23-95). Shown once, never stored in clear (a keyed MAC only); a new issue replaces the old one. Publishes `port_out.credential_issued`. Channel and operator keys.",
        "parameters": [{"$ref": "#/components/parameters/Msisdn"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {
            "type": "object", "required": ["authentication"], "additionalProperties": false, "properties": {
                "authentication": {"type": "object", "required": ["method"], "additionalProperties": false, "properties": {
                    "method": {"type": "string", "enum": ["sms_otp", "in_store_id_check", "account_password", "app_login", "voice_callback"]},
                    "reference": {"type": ["string", "null"], "minLength": 1, "maxLength": 128, "description": "Your id of the check (e.g. the OTP transaction). Null: as absent."}}}}}}}},
        "responses": {
            "201": {"description": "The credential (with `Cache-Control: no-store`).", "content": {"application/json": {"schema": {
                "type": "object", "required": ["msisdn", "subscription_id", "market", "kind", "issued_at"], "properties": {
                    "msisdn": {"type": "string"}, "subscription_id": {"type": "string"},
                    "market": {"type": "string", "enum": ["cn", "uk", "us", "eu-fr", "eu-generic"]},
                    "kind": {"type": "string", "enum": ["cn_auth_code", "uk_pac", "us_account_pin", "fr_rio", "national_code"]},
                    "credential": {"type": "string", "description": "The code (every market but the US)."},
                    "account_number": {"type": "string", "description": "US."}, "pin": {"type": "string", "description": "US."},
                    "authentication": {"type": "object"},
                    "issued_at": {"type": "string", "format": "date-time"},
                    "expires_at": {"type": ["string", "null"], "format": "date-time"}}}}}},
            "400": problem("`missing_field`, `invalid_value`, `invalid_type`, `unknown_field`, `malformed_json`."),
            "401": problem("`unauthorized`."),
            "403": {"$ref": "#/components/responses/ForbiddenForRole"},
            "404": problem("`subscription_not_found`: no live line of your tenant has this number."),
            "415": problem("`unsupported_media_type`."),
            "422": problem("`port_out_not_offered`: the tenant has no market, or its market has no port-out by credential; `number_not_portable`: the number can never be ported (China's MVNO blocks)."),
            "503": problem("`store_unavailable`.")}}});
}

//! The events API and webhook endpoints in the OpenAPI document: `/v1/events…`,
//! `/v1/webhook-endpoints…`, and the `Event` and `WebhookEndpoint` schemas.

use serde_json::{Value, json};

/// Adds the events API, the webhook endpoints and their schemas to `doc`.
pub(super) fn add(doc: &mut Value, problem: &Value) {
    let types: Vec<&str> = crate::store::EventType::ALL.map(|t| t.as_str()).to_vec();
    let id = json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}]);
    let endpoint_ref = json!({"$ref": "#/components/schemas/WebhookEndpoint"});
    let forbidden = json!({"$ref": "#/components/responses/ForbiddenForRole"});
    let paths = [
        (
            "/v1/events",
            json!({"get": {
            "operationId": "listEvents",
            "summary": "The tenant's events in commit order (any role). Page with `after` = the previous page's `next_cursor` (the id of its last event); `next_cursor` is null only on an empty page (caught up: poll again with the cursor you have).",
            "parameters": [
                {"name": "after", "in": "query", "required": false, "schema": {"type": "string", "pattern": "^evt_[0-9a-f]{16}$"}},
                {"name": "type", "in": "query", "required": false, "schema": {"type": "string", "enum": types}},
                {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}],
            "responses": {"200": {"description": "A page of events.", "content": {"application/json": {"schema": {"type": "object", "required": ["data", "next_cursor"], "properties": {
                "data": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
                "next_cursor": {"type": ["string", "null"]}}}}}},
                "400": problem, "401": problem, "422": problem}}}),
        ),
        (
            "/v1/events/{id}/redeliver",
            json!({"post": {
            "operationId": "redeliverEvent",
            "summary": "Queue an event again (same id) for every enabled endpoint that takes its type; the retry schedule starts over (operator role).",
            "parameters": id,
            "responses": {"202": {"description": "Queued: the event, and the endpoints it is queued for.", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["event", "endpoints"], "properties": {
                        "event": {"type": "string", "pattern": "^evt_[0-9a-f]{16}$"},
                        "endpoints": {"type": "array", "items": {"type": "string"}}}}}}},
                "401": problem, "403": forbidden, "404": problem,
                "409": {"description": "`no_matching_endpoint`: no enabled endpoint takes the event's type.", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}}}}),
        ),
        (
            "/v1/webhook-endpoints",
            json!({
            "post": {
                "operationId": "createWebhookEndpoint",
                "summary": "Register an endpoint (operator role). https only, public addresses only unless `[webhooks] allow_private`; in the sandbox plain http to 127.0.0.1/localhost. The answer carries `secret` (`whsec_…`), shown only here.",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["url"], "properties": {
                    "url": {"type": "string", "maxLength": 2048},
                    "event_types": {"type": ["array", "null"], "items": {"type": "string", "enum": types}, "description": "Empty, null or absent: every type."}}}}}},
                "responses": {"201": {"description": "Created; `secret` is shown once.", "content": {"application/json": {"schema": endpoint_ref}}},
                              "400": problem, "401": problem, "403": forbidden, "409": problem, "413": problem, "415": problem, "422": problem}},
            "get": {
                "operationId": "listWebhookEndpoints",
                "responses": {"200": {"description": "The endpoints (never secrets).", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["data"], "properties": {"data": {"type": "array", "items": endpoint_ref}}}}}},
                    "401": problem}}}),
        ),
        (
            "/v1/webhook-endpoints/{id}",
            json!({
            "get": {"operationId": "getWebhookEndpoint", "parameters": id,
                    "responses": {"200": {"description": "The endpoint (never its secret).", "content": {"application/json": {"schema": endpoint_ref}}}, "401": problem, "404": problem}},
            "delete": {"operationId": "deleteWebhookEndpoint", "parameters": id,
                    "responses": {"204": {"description": "Deleted with what was queued for it."}, "401": problem, "403": forbidden, "404": problem}}}),
        ),
        (
            "/v1/webhook-endpoints/{id}/rotate-secret",
            json!({"post": {
            "operationId": "rotateWebhookSecret", "parameters": id,
            "summary": "A new secret, shown only here; the previous one keeps signing beside it for 24 h (two `v1,` signatures).",
            "responses": {"200": {"description": "The endpoint with `secret`.", "content": {"application/json": {"schema": endpoint_ref}}}, "401": problem, "403": forbidden, "404": problem}}}),
        ),
        (
            "/v1/webhook-endpoints/{id}/enable",
            json!({"post": {
            "operationId": "enableWebhookEndpoint", "parameters": id,
            "summary": "Takes new events again after the retry schedule gave up (`status` back to `enabled`; an enabled endpoint is answered unchanged). Events published while it was disabled are not queued again: list them with `GET /v1/events` and send one with `POST /v1/events/{id}/redeliver`.",
            "responses": {"200": {"description": "The endpoint (never its secret).", "content": {"application/json": {"schema": endpoint_ref}}}, "401": problem, "403": forbidden, "404": problem}}}),
        ),
        (
            "/v1/webhook-endpoints/{id}/deliveries",
            json!({"get": {
            "operationId": "listWebhookDeliveries",
            "summary": "The endpoint's deliveries, newest event first: status (pending, delivered, failed), attempts, next attempt, last HTTP status, latency and error, and the latest attempts.",
            "parameters": [id[0].clone(),
                {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
                {"name": "cursor", "in": "query", "required": false, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "A page of deliveries; `next_cursor` is null on the last page.", "content": {"application/json": {"schema": {
                "type": "object", "required": ["data", "next_cursor"], "properties": {
                    "data": {"type": "array", "items": {"$ref": "#/components/schemas/WebhookDelivery"}},
                    "next_cursor": {"type": ["string", "null"]}}}}}},
                "400": problem, "401": problem, "404": problem}}}),
        ),
    ];
    for (path, item) in paths {
        doc["paths"][path] = item;
    }
    doc["components"]["schemas"]["Event"] = json!({
        "type": "object", "required": ["id", "type", "created_at", "data"],
        "description": "Also the body of every webhook delivery, sent with the Standard Webhooks headers `webhook-id` (= `id`), `webhook-timestamp` and `webhook-signature`.",
        "properties": {
            "id": {"type": "string", "pattern": "^evt_[0-9a-f]{16}$"},
            "type": {"type": "string", "enum": types},
            "created_at": {"type": "string", "format": "date-time"},
            "subject": {"type": ["string", "null"], "description": "Ordering key: deliveries of one subject (a line's MSISDN, else an order or endpoint id) arrive in order."},
            "data": {"type": "object", "description": "order.*: the order as GET shows it, minus secrets, with `previous` status; esim.*: order_id, iccid, msisdn, state, previous, point, status; inventory.low_stock: counter, available, threshold; endpoint.disabled: id, url, reason; compliance.channel_frozen: member (store, clerk, device), store, id, window, limit, frozen_at."}}});
    doc["components"]["schemas"]["WebhookEndpoint"] = json!({
        "type": "object", "required": ["id", "url", "event_types", "status"],
        "properties": {
            "id": {"type": "string", "pattern": "^we_[a-z2-7]{26}$"}, "object": {"const": "webhook_endpoint"}, "url": {"type": "string"},
            "event_types": {"type": "array", "items": {"type": "string"}},
            "status": {"type": "string", "enum": ["enabled", "disabled"]},
            "disabled": {"type": "object", "properties": {"reason": {"type": "string"}, "at": {"type": "string", "format": "date-time"}}},
            "secret": {"type": "string", "description": "`whsec_…`; only in the answers of create and rotate-secret."},
            "secrets": {"type": "array", "items": {"type": "object", "properties": {"created_at": {"type": "string"}, "expires_at": {"type": ["string", "null"]}}}},
            "created_at": {"type": "string", "format": "date-time"}}});
    let time = json!({"type": ["string", "null"], "format": "date-time"});
    doc["components"]["schemas"]["WebhookDelivery"] = json!({
        "type": "object", "required": ["event_id", "event_type", "status", "attempts", "created_at", "updated_at", "log"],
        "properties": {
            "event_id": {"type": "string"}, "event_type": {"type": "string", "enum": types},
            "status": {"type": "string", "enum": ["pending", "delivered", "failed"]},
            "attempts": {"type": "integer", "minimum": 0},
            "next_attempt_at": time, "last_status": {"type": ["integer", "null"]},
            "last_latency_ms": {"type": ["integer", "null"]}, "last_error": {"type": ["string", "null"]},
            "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"},
            "log": {"type": "array", "description": "The latest attempts.", "items": {"type": "object", "required": ["at"], "properties": {
                "at": {"type": "string", "format": "date-time"}, "http_status": {"type": ["integer", "null"]},
                "latency_ms": {"type": "integer"}, "error": {"type": ["string", "null"]},
                "response": {"type": ["string", "null"], "description": "The start of the endpoint's answer."}}}}}});
}

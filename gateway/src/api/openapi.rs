//! `GET /openapi.json`: the OpenAPI 3.1 description of the northbound API.

mod callback;
mod compliance;
mod examples;
mod ids;
mod inventory;
mod lifecycle;
mod links;
mod porting;
mod reconcile;
mod shared;
mod terminal;
mod verification;
mod webhooks;

use axum::http::header;
use axum::response::IntoResponse;
use ids::{EID, ICCID_IN, ICCID_OUT, IDEMPOTENCY_KEY, IMSI, MSISDN_IN, MSISDN_OUT};
use serde_json::{Value, json};

/// The OpenAPI document.
pub fn spec() -> Value {
    let problem = json!({"$ref": "#/components/responses/Problem"});
    let forbidden = json!({"$ref": "#/components/responses/ForbiddenForRole"});
    let port_in = json!({"type": "object", "additionalProperties": false, "required": ["mode", "number", "donor"], "description": "Port an existing number in. Checked now against the tenant's market, before anything is reserved or reaches the hub: `422 number_not_portable` (a block that is never ported, such as China's MVNO blocks), `422 credential_invalid` (the market's credential format), `422 invalid_requested_date`, `409 number_already_ours`; `422 msisdn_mode_unsupported` when the gateway has no porting hub or the tenant no market. Accepted: a port-in order (`status` `port_…`, its `port` part) — the line runs on a temporary number until cutover where the market issues one (UK, US), else it waits (China).", "properties": {
                            "mode": {"const": "port_in"}, "number": {"type": "string", "pattern": MSISDN_IN}, "donor": {"type": "string", "minLength": 1, "maxLength": 64},
                            "credential": {"type": ["string", "null"], "description": "PAC (UK), 授权码 (CN), RIO (FR) or the national code; never echoed. Null: as absent."},
                            "account": {"type": ["object", "null"], "additionalProperties": false, "properties": {"number": {"type": ["string", "null"]}, "pin": {"type": ["string", "null"]}}, "description": "US: the account number and port-out PIN at the current provider. Null (here or in a member): as absent."},
                            "requested_date": {"type": ["string", "null"], "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "description": "Null: as absent."}}});
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {"title": "simgw", "version": env!("CARGO_PKG_VERSION"),
                 "description": "SIM provisioning and eSIM activation gateway for MVNOs. Errors are RFC 9457 problem+json with a stable `code`. API keys have a role: `readonly` (every GET of its tenant), `channel` (also activations and number reservations), `operator` (also imports, quarantine release, lifecycle operations on subscriptions, lifting `fraud_risk` and `regulatory` suspensions, webhook endpoints and redeliveries, reconciliations); an operation outside the key's role answers 403 `forbidden_for_role`. The SM-DP+'s ES2+ notification (HandleDownloadProgressInfo) is not served on this port: the ES2+ callback listener (`[esim] callback_listen`, mutual TLS) serves it and describes it in its own `/openapi.json`."},
        "security": [{"bearer": []}],
        "paths": {
            "/v1/activations": {"post": {
                "operationId": "createActivation",
                "summary": "Activate a SIM: reserve it and a number, then provision the host operator's HLR asynchronously.",
                "parameters": [{"name": "Idempotency-Key", "in": "header", "required": true,
                    "description": "Retry-safe key: the same key and body within 24 h replay the first answer; another body answers 422.",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": IDEMPOTENCY_KEY}}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ActivationRequest"}}}},
                "responses": {"202": {"description": "Order accepted and durable.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Activation"}}}},
                              "400": problem, "401": problem, "403": forbidden, "409": problem, "413": problem, "415": problem, "422": problem,
                              "429": {"$ref": "#/components/responses/VelocityLimit"},
                              "503": {"description": "Nothing changed; retry after `Retry-After` seconds with the same Idempotency-Key. `backlog_full`: too many accepted orders wait for the host operator (`bound`: `overall` or `tenant`); `store_unavailable`: the store failed.",
                                      "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
                                      "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}}
            }},
            "/v1/activations/{id}": {"get": {
                "operationId": "getActivation",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "The order.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Activation"}}}},
                              "401": problem, "404": problem}
            }},
            "/v1/activations/{id}/qr.png": {"get": {
                "operationId": "getActivationQrPng",
                "summary": "QR code of `LPA:` + activation code (eSIM, once active).",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "PNG image.", "content": {"image/png": {}}},
                              "401": problem, "404": problem, "409": problem, "422": problem}
            }},
            "/v1/activations/{id}/qr.svg": {"get": {
                "operationId": "getActivationQrSvg",
                "summary": "The same QR code as SVG.",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "SVG image.", "content": {"image/svg+xml": {}}},
                              "401": problem, "404": problem, "409": problem, "422": problem}
            }},
            "/v1/numbers/reservations": {"post": {
                "operationId": "createNumberReservation",
                "summary": "Hold a number (chosen, or any ordinary free one) while a customer pays; the hold lapses after ttl_seconds.",
                "parameters": [{"name": "Idempotency-Key", "in": "header", "required": true, "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": IDEMPOTENCY_KEY}}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "properties": {
                    "msisdn": {"type": ["string", "null"], "pattern": MSISDN_IN, "description": "The number to hold; null or absent: any free ordinary number."},
                    "ttl_seconds": {"type": ["integer", "null"], "minimum": 60, "maximum": 86400, "default": 900, "description": "Null or absent: 900."}}}}}},
                "responses": {"201": {"description": "Held.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NumberReservation"}}}},
                              "400": problem, "401": problem, "403": forbidden, "409": problem, "422": problem}
            }},
            "/v1/numbers/reservations/{id}": {"get": {
                "operationId": "getNumberReservation",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "The reservation.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NumberReservation"}}}}, "401": problem, "404": problem}
            }},
            "/v1/inventory/imports": {"post": {
                "operationId": "importBatch",
                "summary": "Import a SIM vendor batch file whole or not at all.",
                "parameters": [
                    {"name": "format", "in": "query", "required": true, "schema": {"type": "string", "enum": ["vendor-out", "csv"]}},
                    {"name": "name", "in": "query", "required": false, "schema": {"type": "string"}},
                    {"name": "iccid_length", "in": "query", "required": false, "schema": {"type": "integer", "enum": [19, 20]}}],
                "requestBody": {"required": true, "content": {"application/octet-stream": {}, "text/plain": {}}},
                "responses": {"201": {"description": "Imported."}, "200": {"description": "This file was imported before; nothing changed."},
                              "401": problem, "403": forbidden, "413": problem, "422": {"description": "Refused; `rejects` lists every bad line.", "content": {"application/problem+json": {}}}}
            }},
            "/v1/inventory/batches/{id}": {"get": {"operationId": "getBatch",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "The batch import record."}, "401": problem, "404": problem}}},
            "/v1/inventory/batches/{id}/sims.csv": {"get": {"operationId": "exportBatch",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "iccid,imsi,state,activation_id per card (never keys).", "content": {"text/csv": {}}}, "401": problem, "404": problem}}},
            "/v1/sims": {"get": {"operationId": "findSimByImsi",
                "parameters": [{"name": "imsi", "in": "query", "required": true, "schema": {"type": "string", "pattern": IMSI}}],
                "responses": {"200": {"description": "The SIM (never keys)."}, "400": problem, "401": problem, "404": problem}}},
            "/v1/sims/{iccid}": {"get": {"operationId": "getSim",
                "parameters": [{"name": "iccid", "in": "path", "required": true, "schema": {"type": "string", "pattern": ICCID_IN}}],
                "responses": {"200": {"description": "The SIM (never keys)."}, "400": problem, "401": problem, "404": problem}}},
            "/v1/numbers/quarantine": {"get": {"operationId": "listQuarantine",
                "parameters": [{"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 10000}}],
                "responses": {"200": {"description": "Numbers in quarantine, soonest release first."}, "401": problem}}},
            "/v1/numbers/{msisdn}/release": {"post": {"operationId": "releaseQuarantine",
                "parameters": [{"name": "msisdn", "in": "path", "required": true, "schema": {"type": "string", "pattern": MSISDN_IN}}],
                "responses": {"200": {"description": "Back in the pool."}, "400": problem, "401": problem, "403": forbidden, "409": problem}}},
            "/v1/inventory": {"get": {
                "operationId": "getInventory",
                "responses": {"200": {"description": "Inventory counts of the caller's tenant.", "content": {"application/json": {}}}, "401": problem}
            }},
            "/healthz": {"get": {"operationId": "healthz", "security": [], "responses": {"200": {"description": "Alive."}}}},
            "/readyz": {"get": {"operationId": "readyz", "security": [], "responses": {"200": {"description": "Ready (also while the backlog is full: see `accepting_orders`). Fields: `status`, `store`, `orders_inflight`, `backlog`, `backlog_limit`, `accepting_orders`, `completion_rate_per_s`, `projected_wait_seconds` (null while nothing finishes)."}, "503": {"description": "Not ready."}}}},
            "/openapi.json": {"get": {"operationId": "openapi", "security": [], "responses": {"200": {"description": "This document."}}}}
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {"Problem": {"description": "RFC 9457 problem.", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}},
                          "ForbiddenForRole": {"description": "`forbidden_for_role`: the API key's role does not allow this operation; nothing changed. `role` is the key's role, `allowed_roles` the roles that may; `detail` names the command that issues such a key. An activation (and its validation) may also be refused here by a compliance check: `blocked` (neutral: the customer or channel should contact the operator), `channel_not_allowed`, `channel_not_registered`, `channel_disabled`, `channel_frozen` (`field` names the store, clerk, terminal or reader).",
                              "content": {"application/problem+json": {"schema": {"allOf": [{"$ref": "#/components/schemas/Problem"}, {"type": "object", "properties": {
                                  "role": {"type": "string", "enum": ["channel", "operator", "readonly"]},
                                  "allowed_roles": {"type": "array", "items": {"type": "string", "enum": ["channel", "operator", "readonly"]}}}}]}}}}},
            "schemas": {
                "Problem": problem_schema(),
                "ActivationRequest": {"type": "object", "additionalProperties": false, "required": ["sim", "product"], "properties": {
                    "sim": {"oneOf": [
                        {"type": "object", "additionalProperties": false, "required": ["type", "iccid"], "properties": {"type": {"const": "physical"}, "iccid": {"type": "string", "pattern": ICCID_IN}}},
                        {"type": "object", "additionalProperties": false, "required": ["type"], "properties": {"type": {"const": "esim"}, "eid": {"type": ["string", "null"], "pattern": EID, "description": "Null: as absent."}}}]},
                    "product": {"type": "string", "minLength": 1, "maxLength": 64},
                    "msisdn": {"oneOf": [
                        {"type": "object", "additionalProperties": false, "required": ["mode"], "properties": {"mode": {"const": "auto"}}},
                        {"type": "object", "additionalProperties": false, "required": ["mode", "msisdn"], "properties": {"mode": {"const": "choose"}, "msisdn": {"type": "string", "pattern": MSISDN_IN}}},
                        {"type": "object", "additionalProperties": false, "required": ["mode", "reservation_id"], "properties": {"mode": {"const": "reservation"}, "reservation_id": {"type": "string"}}},
                        port_in,
                        {"type": "null", "description": "As absent: `auto`."}]},
                    "subscriber": {"anyOf": [{"$ref": "#/components/schemas/Subscriber"}, {"type": "null", "description": "As absent."},
                        {"type": "object", "description": "The sandbox tenant's policy only (`keep_invalid_subscriber`): a subscriber that does not validate is kept as sent and checks nothing."}]},
                    "channel": {"type": ["object", "null"], "description": "Null: as absent; so is a null member, except `imei`.", "additionalProperties": false, "properties": {
                        "kind": {"type": ["string", "null"]}, "store_id": {"type": ["string", "null"]}, "terminal_id": {"type": ["string", "null"]},
                        "staff_id": {"type": ["string", "null"]}, "platform": {"type": ["string", "null"]}, "order_ref": {"type": ["string", "null"]},
                        "imei": {"type": "string", "pattern": "^[0-9]{14,16}$", "description": "The handset's IMEI (blocklist and risk checks)."}}}}},
                "NumberReservation": {"type": "object", "required": ["id", "object", "status", "msisdn", "created_at", "expires_at"], "properties": {
                    "id": {"type": "string", "pattern": "^nres_[a-z2-7]{26}$"}, "object": {"const": "number_reservation"}, "status": {"type": "string", "enum": ["held", "used", "expired"]},
                    "msisdn": {"type": "string", "pattern": MSISDN_OUT}, "created_at": {"type": "string", "format": "date-time"},
                    "expires_at": {"type": "string", "format": "date-time"}, "activation_id": {"type": "string", "description": "The activation that used it."}}}
            }
        }
    });
    doc["components"]["schemas"]["Activation"] = activation_schema();
    webhooks::add(&mut doc, &problem);
    lifecycle::add(&mut doc);
    compliance::add(&mut doc);
    verification::add(&mut doc);
    porting::add(&mut doc);
    terminal::add(&mut doc);
    reconcile::add(&mut doc);
    inventory::add(&mut doc);
    links::add(&mut doc);
    shared::add(&mut doc);
    examples::add(&mut doc);
    doc
}

/// An activation as `dto::render_order` renders it (the porting and compliance parts add
/// their own members).
fn activation_schema() -> Value {
    json!({"type": "object", "required": ["id", "object", "status", "sim", "iccid", "imsi", "msisdn", "msisdn_mode", "product", "created_at", "updated_at", "steps"], "properties": {
                    "id": {"type": "string", "pattern": "^act_[a-z2-7]{26}$"},
                    "object": {"const": "activation"},
                    "sim": {"type": "object", "required": ["type", "iccid"], "properties": {
                        "type": {"type": "string", "enum": ["physical", "esim"]}, "iccid": {"type": "string", "pattern": ICCID_OUT},
                        "eid": {"type": ["string", "null"], "pattern": EID, "description": "eSIM: the EID the order named, if any."}}},
                    "msisdn_mode": {"type": "string", "enum": ["auto", "choose", "reservation", "port_in"]},
                    "channel": {"type": "object", "description": "The `channel` the order was placed with, as sent."},
                    "status": {"type": "string", "enum": ["reserved", "esim_ordering", "hlr_provisioning", "esim_releasing", "active", "compensating", "failed"]},
                    "activation_code": {"type": "string", "maxLength": 255, "description": "eSIM: `1$<SM-DP+ address>$<MatchingID>[$$1]`, while active."},
                    "esim": {"type": "object", "description": "eSIM: profile type, SM-DP+ state (released, downloaded, installed, error), ES2+ steps, progress points, QR and install links; `left_at_smdp` (reserved, released, downloaded, bound_elsewhere) when an undone order left its profile at the SM-DP+."},
                    "iccid": {"type": "string", "pattern": ICCID_OUT}, "imsi": {"type": "string", "pattern": IMSI},
                    "msisdn": {"type": "string", "pattern": MSISDN_OUT, "description": "The line's number; a port-in's temporary number until cutover where the market issues one."},
                    "product": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"},
                    "updated_at": {"type": "string", "format": "date-time"},
                    "steps": {"type": "object", "description": "`identity_verification` (when the order carries a valid subscriber), `hlr_provision`, `hlr_compensation`."},
                    "error": {"type": "object", "properties": {"code": {"type": "string"}, "detail": {"type": "string"}}},
                    "needs_attention": {"type": "boolean", "description": "Present (true) while an operator must look at the order; `attention` says why."},
                    "attention": {"type": "array", "items": {"type": "object", "properties": {
                        "reason": {"type": "string", "enum": ["hlr_foreign_data", "hlr_cleanup_stalled", "smdp_cancel_stalled", "esim_stock_mismatch", "esim_profile_not_cancellable", "esim_release_unverified"]},
                        "detail": {"type": "string"}}}}}})
}

/// RFC 9457 problem details as `problem.rs` writes them: the members every problem has,
/// `field` when one is at fault, and the extension members some codes add.
fn problem_schema() -> Value {
    json!({"type": "object", "required": ["type", "title", "status", "detail", "code"], "properties": {
        "type": {"type": "string", "pattern": "^urn:simgw:problem:[a-z0-9_]+$"}, "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"}, "code": {"type": "string", "pattern": "^[a-z0-9_]+$"},
        "field": {"type": "string", "description": "The request member, header or parameter at fault."}},
        "additionalProperties": true})
}

/// Serves the document.
pub async fn document() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        spec().to_string(),
    )
}

/// Serves the ES2+ callback listener's own document (on that listener).
pub async fn callback_document() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        callback::spec().to_string(),
    )
}

#[cfg(test)]
mod tests;

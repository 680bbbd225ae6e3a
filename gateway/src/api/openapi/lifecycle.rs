//! Subscriptions and lifecycle orders in the OpenAPI document: `/v1/subscriptions…`, one
//! path per operation, and `/v1/orders/{id}`.

use crate::order::SuspensionReason;
use serde_json::{Value, json};

use super::ids::{ICCID_IN, ICCID_OUT, IDEMPOTENCY_KEY, IMSI, MSISDN_IN, MSISDN_OUT};

/// An id: prefix + 26 lower-case base32 characters.
fn id(prefix: &str) -> Value {
    json!({"type": "string", "pattern": format!("^{prefix}[a-z2-7]{{26}}$")})
}

fn schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// A problem answer whose `description` lists the codes this status carries here.
fn problem(description: &str) -> Value {
    json!({"description": description,
           "content": {"application/problem+json": {"schema": schema("Problem")}}})
}

/// The answers every operation shares, plus `conflicts` (the operation's own 409 codes),
/// `invalid` (its 400 codes beyond the shared ones) and `unprocessable` (its 422 codes).
fn operation_responses(conflicts: &str, invalid: &str, unprocessable: &str) -> Value {
    json!({
        "202": {"description": "The order is durable (and whatever it needs is reserved); the engine works on it now. `Location: /v1/orders/{id}`. A replay (same key and body within 24 h) answers the first order again with `Idempotent-Replayed: true`.",
                "headers": {"Location": {"schema": {"type": "string"}},
                            "Idempotent-Replayed": {"schema": {"type": "string", "const": "true"}}},
                "content": {"application/json": {"schema": schema("LifecycleOrder")}}},
        "400": problem(&format!("Nothing changed. `idempotency_key_missing`, `idempotency_key_invalid`, `malformed_json`, `invalid_type` (the body is not an object), `unknown_field`, `missing_field`, `invalid_value`{invalid}; `field` names the JSON path at fault.")),
        "401": {"$ref": "#/components/responses/Problem"},
        "403": {"$ref": "#/components/responses/ForbiddenForRole"},
        "404": problem("`subscription_not_found`: no line of your tenant has this number (another tenant's line answers the same), or the number is not E.164."),
        "409": {"description": format!("Nothing changed. `subscription_busy`: another order is in flight on the line; `order_id` names it (wait until it is `completed` or `failed`, then send again). `subscription_terminated`: the line is terminated for good.{conflicts}"),
                "content": {"application/problem+json": {"schema": {"allOf": [schema("Problem"), {"type": "object", "properties": {
                    "order_id": {"type": "string", "description": "`subscription_busy`: the order in flight."}}}]}}}},
        "413": problem("`body_too_large`."),
        "415": problem("`unsupported_media_type`: send `Content-Type: application/json`."),
        "422": problem(&format!("Nothing changed. `idempotency_key_reused`: this key was used within 24 h with another operation, line or body.{unprocessable}")),
        "503": {"description": "Nothing changed; retry after `Retry-After` seconds with the same Idempotency-Key. `backlog_full`: too many accepted orders wait for the host operator; `store_unavailable`: the store failed.",
                "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
                "content": {"application/problem+json": {"schema": schema("Problem")}}}
    })
}

/// `POST /v1/subscriptions/{msisdn}/{operation}` for one operation.
fn operation(
    operation_id: &str,
    summary: &str,
    body: Value,
    (conflicts, invalid, unprocessable): (&str, &str, &str),
) -> Value {
    json!({"post": {
        "operationId": operation_id,
        "summary": summary,
        "description": "Operator keys only. At most one order is in flight per line.",
        "parameters": [
            {"$ref": "#/components/parameters/Msisdn"},
            {"name": "Idempotency-Key", "in": "header", "required": true,
             "description": "Retry-safe key (1 to 255 visible ASCII characters): the same key, operation, line and body within 24 h replay the first answer; anything else under the key answers 422 `idempotency_key_reused`.",
             "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": IDEMPOTENCY_KEY}}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": body}}},
        "responses": operation_responses(conflicts, invalid, unprocessable)
    }})
}

fn reason_body() -> Value {
    json!({"type": "object", "additionalProperties": false, "required": ["reason"],
           "properties": {"reason": schema("SuspensionReason")}})
}

/// Adds the subscription paths and schemas to `doc`.
pub(super) fn add(doc: &mut Value) {
    let msisdn_param = json!({"name": "msisdn", "in": "path", "required": true,
        "description": "The line's number: E.164 digits (a leading `+` is accepted).",
        "schema": {"type": "string", "pattern": MSISDN_IN}});
    let subscription_404 = problem(
        "`subscription_not_found`: no line of your tenant has this number (another tenant's line answers the same).",
    );
    let auth = json!({"$ref": "#/components/responses/Problem"});
    let paths = [
        (
            "/v1/subscriptions",
            json!({"get": {
                "operationId": "listSubscriptions",
                "summary": "The tenant's lines (any role), oldest first. Page with `cursor` = the previous page's `next_cursor`; paging is stable while lines are added.",
                "parameters": [
                    {"name": "state", "in": "query", "required": false, "schema": schema("SubscriptionState")},
                    {"name": "iccid", "in": "query", "required": false, "description": "Only the line on this card.", "schema": {"type": "string", "pattern": ICCID_IN}},
                    {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
                    {"name": "cursor", "in": "query", "required": false, "schema": {"type": "string", "pattern": "^sub_[A-Za-z0-9_]{1,60}$"}}],
                "responses": {
                    "200": {"description": "A page of lines; `next_cursor` is null on the last page.", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["data", "next_cursor"], "properties": {
                            "data": {"type": "array", "items": schema("Subscription")},
                            "next_cursor": {"type": ["string", "null"]}}}}}},
                    "400": problem("`invalid_value` (state, limit), `invalid_iccid`, `invalid_cursor`, `unknown_parameter`; `field` names the parameter."),
                    "401": auth}}}),
        ),
        (
            "/v1/subscriptions/{msisdn}",
            json!({"get": {
                "operationId": "getSubscription",
                "parameters": [{"$ref": "#/components/parameters/Msisdn"}],
                "responses": {"200": {"description": "The line.", "content": {"application/json": {"schema": schema("Subscription")}}},
                              "401": auth, "404": subscription_404}}}),
        ),
        (
            "/v1/subscriptions/{msisdn}/history",
            json!({"get": {
                "operationId": "getSubscriptionHistory",
                "summary": "Every order on the line, oldest first: the activation, then each lifecycle order once it is terminal, with actor, reason and time.",
                "parameters": [{"$ref": "#/components/parameters/Msisdn"}],
                "responses": {"200": {"description": "The history.", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["msisdn", "subscription_id", "data"], "properties": {
                        "msisdn": {"type": "string", "pattern": MSISDN_OUT},
                        "subscription_id": id("sub_"),
                        "data": {"type": "array", "items": schema("HistoryEntry")}}}}}},
                    "401": auth, "404": subscription_404}}}),
        ),
        (
            "/v1/subscriptions/{msisdn}/suspend",
            operation(
                "suspendSubscription",
                "Bar the line for a reason. Reasons stack: the HLR bars the line on the first reason; a further reason is only recorded.",
                reason_body(),
                (
                    " `suspension_reason_present`: the line is already suspended for this reason. `port_out_withdrawn` (reason `lost_or_stolen`): a port-out of the number was open and not yet locked; it is being withdrawn (refused, or cancelled at the porting hub), `order_id` names it: send the same request again once it has ended.",
                    "",
                    "",
                ),
            ),
        ),
        (
            "/v1/subscriptions/{msisdn}/resume",
            operation(
                "resumeSubscription",
                "Lift one suspension reason; the HLR unbars the line only when it was the last. `fraud_risk` and `regulatory` are lifted by operator keys only (403 `forbidden_for_role`).",
                reason_body(),
                (
                    " `suspension_reason_absent`: the line is not suspended for this reason.",
                    "",
                    "",
                ),
            ),
        ),
        (
            "/v1/subscriptions/{msisdn}/terminate",
            operation(
                "terminateSubscription",
                "End the line for good (also from `suspended`): the HLR subscriber is deleted, the SIM retired, the number quarantined; an eSIM profile no device downloaded is cancelled at the SM-DP+.",
                json!({"type": "object", "additionalProperties": false, "maxProperties": 0, "description": "`{}`."}),
                ("", "", ""),
            ),
        ),
        (
            "/v1/subscriptions/{msisdn}/sim-swap",
            operation(
                "swapSubscriptionSim",
                "Move the line's number to another SIM. The new card is reserved now; the new subscriber is provisioned first, then the number moves, then the old subscriber is removed and its SIM retired. Suspension reasons carry over.",
                json!({"type": "object", "additionalProperties": false, "required": ["sim"], "properties": {"sim": {"oneOf": [
                    {"type": "object", "additionalProperties": false, "required": ["type", "iccid"], "properties": {"type": {"const": "physical"}, "iccid": {"type": "string", "pattern": ICCID_IN}}},
                    {"type": "object", "additionalProperties": false, "required": ["type"], "properties": {"type": {"const": "esim"}, "eid": {"type": ["string", "null"], "pattern": super::ids::EID, "description": "Null: as absent."}}}]}}}),
                (
                    " `sim_not_available`: the new card is reserved, active or retired.",
                    ", `invalid_iccid`, `invalid_eid`, `sim_is_esim` (the ICCID is an eSIM profile's)",
                    " `unknown_iccid`: no card of your tenant has this ICCID. `sim_type_unsupported`: a swap to an eSIM is not available on this gateway.",
                ),
            ),
        ),
        (
            "/v1/subscriptions/{msisdn}/number-change",
            operation(
                "changeSubscriptionNumber",
                "Give the line another number from the tenant's pool; the old one goes to quarantine. The path names the line by its current number.",
                json!({"type": "object", "additionalProperties": false, "required": ["msisdn"], "properties": {"msisdn": {"oneOf": [
                    {"type": "object", "additionalProperties": false, "required": ["mode"], "properties": {"mode": {"const": "auto"}}},
                    {"type": "object", "additionalProperties": false, "required": ["mode", "msisdn"], "properties": {"mode": {"const": "choose"}, "msisdn": {"type": "string", "pattern": MSISDN_IN}}},
                    {"type": "object", "additionalProperties": false, "required": ["mode", "reservation_id"], "properties": {"mode": {"const": "reservation"}, "reservation_id": {"type": "string"}}}]}}}),
                (
                    " `msisdn_not_available`, `number_pool_exhausted`, `reservation_not_usable` (expired or used).",
                    ", `invalid_msisdn`",
                    " `msisdn_not_in_pool`, `reservation_not_found`, `same_msisdn` (the line's own number), `msisdn_mode_unsupported` (`port_in`).",
                ),
            ),
        ),
        (
            "/v1/orders/{id}",
            json!({"get": {
                "operationId": "getOrder",
                "summary": "An order of any kind: an activation (as on /v1/activations/{id}, with `kind: activation`) or a lifecycle order.",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "The order.", "content": {"application/json": {"schema": {
                    "oneOf": [{"allOf": [schema("Activation"), {"type": "object", "required": ["kind"], "properties": {"kind": {"const": "activation"}}}]},
                              schema("LifecycleOrder")]}}}},
                    "401": auth, "404": problem("`order_not_found`: no order with this id exists for your tenant.")}}}),
        ),
        (
            "/v1/orders/{id}/qr.png",
            json!({"get": {
                "operationId": "getOrderQrPng",
                "summary": "QR code of `LPA:` + activation code of an order with an eSIM profile (an eSIM activation once active, a SIM swap to eSIM once its profile is released).",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "PNG image.", "content": {"image/png": {}}},
                    "401": auth, "404": problem("`activation_not_found`: no order with this id exists for your tenant."),
                    "409": problem("`activation_code_not_ready`: the profile is not released yet, or the order is being undone."),
                    "422": problem("`not_an_esim`: the order has no eSIM profile.")}}}),
        ),
        (
            "/v1/orders/{id}/qr.svg",
            json!({"get": {
                "operationId": "getOrderQrSvg",
                "summary": "The same QR code as SVG.",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "SVG image.", "content": {"image/svg+xml": {}}},
                    "401": auth, "404": problem("`activation_not_found`: no order with this id exists for your tenant."),
                    "409": problem("`activation_code_not_ready`: the profile is not released yet, or the order is being undone."),
                    "422": problem("`not_an_esim`: the order has no eSIM profile.")}}}),
        ),
    ];
    for (path, item) in paths {
        doc["paths"][path] = item;
    }
    doc["components"]["parameters"]["Msisdn"] = msisdn_param;
    add_schemas(&mut doc["components"]["schemas"]);
}

fn add_schemas(schemas: &mut Value) {
    let reasons: Vec<&str> = SuspensionReason::ALL.iter().map(|r| r.as_str()).collect();
    let kinds = [
        "suspend",
        "resume",
        "terminate",
        "sim_swap",
        "number_change",
    ];
    schemas["SuspensionReason"] = json!({"type": "string", "enum": reasons,
        "description": "Why a line is barred. `fraud_risk` and `regulatory` are lifted by operator keys only."});
    schemas["SubscriptionState"] = json!({"type": "string", "enum": ["active", "pending_verification", "suspended", "terminated"],
        "description": "`pending_verification`: active, but waiting for the subscriber's second real-person verification (see `verification`)."});
    schemas["Subscription"] = json!({
        "type": "object",
        "required": ["id", "object", "msisdn", "iccid", "imsi", "sim_type", "product", "state", "suspension_reasons", "activation_id", "order_in_flight", "created_at", "updated_at"],
        "properties": {
            "id": id("sub_"),
            "object": {"const": "subscription"},
            "msisdn": {"type": "string", "pattern": MSISDN_OUT},
            "iccid": {"type": "string", "pattern": ICCID_OUT},
            "imsi": {"type": "string", "pattern": IMSI},
            "sim_type": {"type": "string", "enum": ["physical", "esim"]},
            "product": {"type": "string"},
            "state": schema("SubscriptionState"),
            "suspension_reasons": {"type": "array", "items": schema("SuspensionReason"), "uniqueItems": true,
                                   "description": "In force, in the order they were applied; the line is barred while any holds."},
            "regulatory_by": {"type": "array", "items": {"type": "string", "enum": ["verification", "operator"]}, "uniqueItems": true,
                              "description": "Who holds the `regulatory` suspension (empty when the line is not suspended for it): `verification` (the second verification's deadline passed, or it failed) and `operator` (an operator key's suspend). A passed verification lifts only its own hold; an operator's resume lifts both."},
            "verification": schema("Verification"),
            "handset": {"oneOf": [{"type": "null"}, {"type": "object", "required": ["tac", "seen_at"], "properties": {
                "tac": {"type": "string", "pattern": "^[0-9]{8}$", "description": "The type allocation code: the handset's model, not the handset."},
                "seen_at": {"type": "string", "format": "date-time"}}}],
                "description": "The handset the network last reported the line in (`POST /v1/subscriptions/{msisdn}/handset`), or null."},
            "activation_id": id("act_"),
            "order_in_flight": {"oneOf": [id("ord_"), {"type": "null"}], "description": "The lifecycle order working on the line, if any."},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"}}});
    schemas["HistoryEntry"] = json!({
        "type": "object", "required": ["order_id", "kind", "outcome", "at"],
        "properties": {
            "order_id": {"type": "string"},
            "kind": {"type": "string", "enum": ["activation", "suspend", "resume", "terminate", "sim_swap", "number_change"]},
            "outcome": {"type": "string", "enum": ["active", "completed", "failed"]},
            "at": {"type": "string", "format": "date-time"},
            "actor": {"type": "object", "description": "The API key that asked (absent for the activation); `system` for what the gateway did by itself (a suspension when a verification deadline passed).", "properties": {
                "key_prefix": {"type": "string"}, "role": {"type": "string", "enum": ["channel", "operator", "readonly", "system"]}}},
            "reason": schema("SuspensionReason"),
            "change": {"type": "string", "description": "What changed, e.g. the ICCID or number before and after."},
            "error": {"type": "string", "description": "The error code of a failed order."}}});
    let step = json!({"type": "object", "required": ["name", "state"], "properties": {
        "name": {"type": "string", "enum": ["hlr_provision", "hlr_deprovision", "hlr_set_barring", "hlr_detach_msisdn", "hlr_change_msisdn", "es2_download_order", "es2_confirm_order", "es2_cancel_order", "number_return"]},
        "state": {"type": "string", "enum": ["pending", "in_progress", "retry_wait", "done", "failed"]},
        "attempt": {"type": "integer", "minimum": 1},
        "retry_at": {"type": "string", "format": "date-time"},
        "last_error": {"type": "string"},
        "outcome": {"type": "string"},
        "error": {"type": "string"}}});
    schemas["LifecycleOrder"] = json!({
        "type": "object",
        "required": ["id", "object", "kind", "status", "msisdn", "iccid", "created_at", "updated_at"],
        "properties": {
            "id": id("ord_"),
            "object": {"const": "order"},
            "kind": {"type": "string", "enum": kinds},
            "status": {"type": "string", "enum": ["reserved", "in_progress", "compensating", "completed", "failed"],
                       "description": "`completed` and `failed` are terminal; a failed order left the line as it was."},
            "msisdn": {"type": "string", "pattern": MSISDN_OUT, "description": "The line's number when the order was created."},
            "iccid": {"type": "string", "pattern": ICCID_OUT, "description": "The line's card when the order was created."},
            "subscription_id": id("sub_"),
            "reason": schema("SuspensionReason"),
            "steps": {"type": "array", "items": step, "description": "The southbound steps in order, each with its durable progress (empty when nothing changes on the HLR, e.g. a second suspension reason)."},
            "compensation": {"type": "array", "items": step, "description": "After a step failed for good: the steps that put the line back."},
            "new_sim": {"type": "object", "description": "SIM swap: the new card.", "required": ["type", "iccid"], "properties": {
                "type": {"type": "string", "enum": ["physical", "esim"]}, "iccid": {"type": "string", "pattern": ICCID_OUT},
                "eid": {"type": ["string", "null"], "pattern": super::ids::EID, "description": "A swap to eSIM: the EID the order named, if any."}}},
            "activation_code": {"type": "string", "maxLength": 255, "description": "A swap to eSIM, once its profile is released: `1$<SM-DP+ address>$<MatchingID>[$$1]`."},
            "qr": {"type": "object", "required": ["png", "svg"], "description": "A swap to eSIM, with `activation_code`: the QR's paths.", "properties": {
                "png": {"type": "string"}, "svg": {"type": "string"}}},
            "confirmation_code": {"type": "string", "description": "A swap to eSIM, when the tenant uses confirmation codes: deliver it apart from the QR."},
            "msisdn_holder": {"type": ["string", "null"], "description": "SIM swap: the ICCID of the card holding the number on the HLR now (null between detach and attach)."},
            "new_msisdn": {"type": "string", "pattern": MSISDN_OUT, "description": "Number change: the new number."},
            "error": {"type": "object", "required": ["code", "detail"], "properties": {"code": {"type": "string"}, "detail": {"type": "string"}}},
            "needs_attention": {"type": "boolean", "description": "Present (true) while an operator must look at the order; `attention` says why."},
            "attention": {"type": "array", "items": {"type": "object", "properties": {"reason": {"type": "string"}, "detail": {"type": "string"}}}},
            "channel": {"type": "object"},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"}}});
}

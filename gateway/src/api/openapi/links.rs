//! OpenAPI links: from each answer that creates something to the GET that reads it (an
//! order, a reservation, a batch, a webhook endpoint), with the id taken from the answer,
//! and to the operations that follow it (a held number to the activation that uses it; an
//! order, from every answer that creates or returns one, to its QR codes, cancel and
//! reschedule; a line, from its activation, itself and a page of lines, to its lifecycle
//! operations, verification and port-out credential; a blocklist entry to its end; an
//! endpoint to its deliveries, secret rotation and removal). Every GET a link leads to
//! answers 200 right after the answer it hangs on, but for the QR codes (marked
//! `x-simgw-state-dependent`: once the eSIM profile is released); an operation that follows
//! may still refuse for the state the thing is in (a line is there only once its activation is `active`; cancel and
//! reschedule are a port-in's).

use serde_json::{Value, json};

/// One link: (name, target operationId, parameters as (name, `$response.body#/member`),
/// request body with `$response.body#/…` values (null: none), description).
type Target = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    fn() -> Value,
    &'static str,
);

/// (path, method, status, targets).
type Link = (&'static str, &'static str, &'static str, &'static [Target]);

const ID: &[(&str, &str)] = &[("id", "$response.body#/id")];
const MSISDN: &[(&str, &str)] = &[("msisdn", "$response.body#/msisdn")];

fn none() -> Value {
    Value::Null
}

/// The activation that uses a held number; the rest of its body is the caller's.
fn reservation_body() -> Value {
    json!({"msisdn": {"mode": "reservation", "reservation_id": "$response.body#/id"}})
}

const ORDER: Target = (
    "GetOrder",
    "getOrder",
    ID,
    none,
    "The order as it stands (any kind), until it is terminal.",
);

/// The operations on an order, by the id of the answer it hangs on (an activation's id is
/// its order's): read it, its QR (an order with an eSIM profile), cancel and reschedule
/// (a port-in before its lock point; 409 for any other order).
const ORDER_OPS: &[Target] = &[
    ORDER,
    (
        "GetOrderQrPng",
        "getOrderQrPng",
        ID,
        none,
        "The order's QR code as PNG, once its eSIM profile is released (409 before; 422 for an order without an eSIM profile).",
    ),
    (
        "GetOrderQrSvg",
        "getOrderQrSvg",
        ID,
        none,
        "The order's QR code as SVG, once its eSIM profile is released (409 before; 422 for an order without an eSIM profile).",
    ),
    (
        "CancelOrder",
        "cancelOrder",
        ID,
        none,
        "Cancel a port-in before its lock point (409 `order_not_cancellable` for any other order).",
    ),
    (
        "RescheduleOrder",
        "rescheduleOrder",
        ID,
        none,
        "Move a scheduled port-in to another day (409 for any other order); the body is the caller's.",
    ),
];

/// An activation's own QR code, by its id.
const ACTIVATION_QR: &[Target] = &[
    (
        "GetActivationQrPng",
        "getActivationQrPng",
        ID,
        none,
        "The eSIM activation's QR code as PNG, once its profile is released (409 before; 422 for a physical SIM).",
    ),
    (
        "GetActivationQrSvg",
        "getActivationQrSvg",
        ID,
        none,
        "The eSIM activation's QR code as SVG, once its profile is released (409 before; 422 for a physical SIM).",
    ),
];

const LINE: &str = "The line this activation made, once the activation is `active` (404 before).";
const SUBSCRIPTION: &str =
    "An operation on this line; it may still refuse for the state the line is in (409).";
const LISTED: &str = "An operation on the page's first line (an empty page has none); it may still refuse for the state the line is in (409).";

/// The first line of a page of `GET /v1/subscriptions`.
const FIRST_LISTED: &[(&str, &str)] = &[("msisdn", "$response.body#/data/0/msisdn")];

/// The operations on a line, with its number from `msisdn` (bodies are the caller's).
const fn line_ops(
    msisdn: &'static [(&'static str, &'static str)],
    why: &'static str,
) -> [Target; 7] {
    [
        ("SuspendLine", "suspendSubscription", msisdn, none, why),
        ("ResumeLine", "resumeSubscription", msisdn, none, why),
        ("TerminateLine", "terminateSubscription", msisdn, none, why),
        ("SwapSim", "swapSubscriptionSim", msisdn, none, why),
        (
            "ChangeNumber",
            "changeSubscriptionNumber",
            msisdn,
            none,
            why,
        ),
        ("VerifyLine", "verifySubscription", msisdn, none, why),
        (
            "IssuePortOutCredential",
            "issuePortOutCredential",
            msisdn,
            none,
            why,
        ),
    ]
}

/// The GETs a link leads to that answer 200 only in some states (a QR code once the eSIM
/// profile is released, and never for a physical SIM): their links carry
/// `x-simgw-state-dependent: true`. Every other GET a link leads to answers 200 right
/// after the answer it hangs on.
const STATE_DEPENDENT: &[&str] = &[
    "getOrderQrPng",
    "getOrderQrSvg",
    "getActivationQrPng",
    "getActivationQrSvg",
];

/// An import's links, from its `201` (a new batch) and its `200` (the same file again).
const BATCH: &[Target] = &[
    (
        "GetBatch",
        "getBatch",
        ID,
        none,
        "The batch's import record.",
    ),
    (
        "ExportBatch",
        "exportBatch",
        ID,
        none,
        "The batch's cards as CSV.",
    ),
];

const LINE_OPS: [Target; 7] = line_ops(MSISDN, SUBSCRIPTION);

/// Several entries may name the same answer: their links add up.
const LINKS: &[Link] = &[
    (
        "/v1/activations",
        "post",
        "202",
        &[(
            "GetActivation",
            "getActivation",
            ID,
            none,
            "The activation (a port-in's too) as it stands, until it is `active` or `failed`.",
        )],
    ),
    ("/v1/activations", "post", "202", ORDER_OPS),
    ("/v1/activations", "post", "202", ACTIVATION_QR),
    ("/v1/activations/{id}", "get", "200", ORDER_OPS),
    ("/v1/activations/{id}", "get", "200", ACTIVATION_QR),
    (
        "/v1/activations/{id}",
        "get",
        "200",
        &line_ops(MSISDN, LINE),
    ),
    ("/v1/orders/{id}", "get", "200", ORDER_OPS),
    ("/v1/orders/{id}/cancel", "post", "202", ORDER_OPS),
    ("/v1/orders/{id}/reschedule", "post", "202", ORDER_OPS),
    (
        "/v1/subscriptions",
        "get",
        "200",
        &line_ops(FIRST_LISTED, LISTED),
    ),
    ("/v1/subscriptions/{msisdn}", "get", "200", &LINE_OPS),
    (
        "/v1/subscriptions/{msisdn}/suspend",
        "post",
        "202",
        &[(
            "ResumeLine",
            "resumeSubscription",
            MSISDN,
            none,
            "Lift the suspension again, once this order is `completed` (409 `subscription_busy` before).",
        )],
    ),
    (
        "/v1/subscriptions/{msisdn}/suspend",
        "post",
        "202",
        ORDER_OPS,
    ),
    (
        "/v1/subscriptions/{msisdn}/resume",
        "post",
        "202",
        ORDER_OPS,
    ),
    (
        "/v1/subscriptions/{msisdn}/terminate",
        "post",
        "202",
        ORDER_OPS,
    ),
    (
        "/v1/subscriptions/{msisdn}/sim-swap",
        "post",
        "202",
        ORDER_OPS,
    ),
    (
        "/v1/subscriptions/{msisdn}/number-change",
        "post",
        "202",
        ORDER_OPS,
    ),
    (
        "/v1/blocklists",
        "post",
        "201",
        &[(
            "EndBlocklistEntry",
            "endBlocklistEntry",
            &[
                ("list", "$response.body#/list"),
                ("value", "$response.body#/value"),
            ],
            none,
            "End the entry (every entry in force for its subject).",
        )],
    ),
    (
        "/v1/numbers/reservations",
        "post",
        "201",
        &[
            (
                "GetNumberReservation",
                "getNumberReservation",
                ID,
                none,
                "The reservation.",
            ),
            (
                "ActivateWithReservation",
                "createActivation",
                &[],
                reservation_body,
                "Activate a SIM on the held number (`msisdn.mode` `reservation`); the body's other members are the caller's.",
            ),
        ],
    ),
    ("/v1/inventory/imports", "post", "201", BATCH),
    ("/v1/inventory/imports", "post", "200", BATCH),
    (
        "/v1/webhook-endpoints",
        "post",
        "201",
        &[
            (
                "GetWebhookEndpoint",
                "getWebhookEndpoint",
                ID,
                none,
                "The endpoint (without its secret).",
            ),
            (
                "ListDeliveries",
                "listWebhookDeliveries",
                ID,
                none,
                "The endpoint's deliveries.",
            ),
            (
                "RotateSecret",
                "rotateWebhookSecret",
                ID,
                none,
                "A new signing secret for the endpoint.",
            ),
            (
                "EnableWebhookEndpoint",
                "enableWebhookEndpoint",
                ID,
                none,
                "Take new events again after the endpoint was disabled.",
            ),
            (
                "DeleteWebhookEndpoint",
                "deleteWebhookEndpoint",
                ID,
                none,
                "Remove the endpoint.",
            ),
        ],
    ),
];

/// Adds the links to the answers of `doc`.
pub(super) fn add(doc: &mut Value) {
    for (path, method, status, targets) in LINKS {
        let links: serde_json::Map<String, Value> = targets
            .iter()
            .map(|(name, op, params, body, description)| {
                let params: serde_json::Map<String, Value> = params
                    .iter()
                    .map(|(p, e)| ((*p).to_owned(), json!(e)))
                    .collect();
                let mut link =
                    json!({"operationId": op, "parameters": params, "description": description});
                let body = body();
                if !body.is_null() {
                    link["requestBody"] = body;
                }
                if STATE_DEPENDENT.contains(op) {
                    link["x-simgw-state-dependent"] = json!(true);
                }
                (name.to_string(), link)
            })
            .collect();
        let answer = &mut doc["paths"][path][method]["responses"][status];
        match answer["links"].as_object_mut() {
            Some(existing) => existing.extend(links),
            None => answer["links"] = Value::Object(links),
        }
    }
}

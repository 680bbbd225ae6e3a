//! OpenAPI links: from each answer that creates something to the GET that reads it (an
//! order, a reservation, a batch, a webhook endpoint), with the id taken from the answer,
//! and to the operations that follow it (a held number to the activation that uses it, an
//! activation's line to its lifecycle operations, an endpoint to its deliveries, secret
//! rotation and removal). Every GET a link leads to answers 200 right after the answer
//! it hangs on; an operation that follows may still refuse for the state the thing is in
//! (a line is there only once its activation is `active`).

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

const LINE: &str = "The line this activation made, once the activation is `active` (404 before).";

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

const LINKS: &[Link] = &[
    (
        "/v1/activations",
        "post",
        "202",
        &[
            (
                "GetActivation",
                "getActivation",
                ID,
                none,
                "The activation (a port-in's too) as it stands, until it is `active` or `failed`.",
            ),
            ORDER,
        ],
    ),
    (
        "/v1/activations/{id}",
        "get",
        "200",
        &[
            ("SuspendLine", "suspendSubscription", MSISDN, none, LINE),
            ("TerminateLine", "terminateSubscription", MSISDN, none, LINE),
            ("SwapSim", "swapSubscriptionSim", MSISDN, none, LINE),
            (
                "ChangeNumber",
                "changeSubscriptionNumber",
                MSISDN,
                none,
                LINE,
            ),
        ],
    ),
    (
        "/v1/subscriptions/{msisdn}/suspend",
        "post",
        "202",
        &[
            ORDER,
            (
                "ResumeLine",
                "resumeSubscription",
                MSISDN,
                none,
                "Lift the suspension again, once this order is `completed` (409 `subscription_busy` before).",
            ),
        ],
    ),
    ("/v1/subscriptions/{msisdn}/resume", "post", "202", &[ORDER]),
    (
        "/v1/subscriptions/{msisdn}/terminate",
        "post",
        "202",
        &[ORDER],
    ),
    (
        "/v1/subscriptions/{msisdn}/sim-swap",
        "post",
        "202",
        &[ORDER],
    ),
    (
        "/v1/subscriptions/{msisdn}/number-change",
        "post",
        "202",
        &[ORDER],
    ),
    ("/v1/orders/{id}/cancel", "post", "202", &[ORDER]),
    ("/v1/orders/{id}/reschedule", "post", "202", &[ORDER]),
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
                (name.to_string(), link)
            })
            .collect();
        doc["paths"][path][method]["responses"][status]["links"] = Value::Object(links);
    }
}

//! OpenAPI links: from each answer that creates something to the GET that reads it (an
//! order, a reservation, a batch, a webhook endpoint), with the id taken from the answer.

use serde_json::{Value, json};

/// (path, method, status, [(link name, target operationId, description)]).
type Link = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str, &'static str)],
);

const ORDER: (&str, &str, &str) = (
    "GetOrder",
    "getOrder",
    "The order as it stands (any kind), until it is terminal.",
);

const LINKS: &[Link] = &[
    (
        "/v1/activations",
        "post",
        "202",
        &[
            (
                "GetActivation",
                "getActivation",
                "The activation (a port-in's too) as it stands, until it is `active` or `failed`.",
            ),
            ORDER,
        ],
    ),
    (
        "/v1/subscriptions/{msisdn}/suspend",
        "post",
        "202",
        &[ORDER],
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
        &[(
            "GetNumberReservation",
            "getNumberReservation",
            "The reservation.",
        )],
    ),
    (
        "/v1/inventory/imports",
        "post",
        "201",
        &[("GetBatch", "getBatch", "The batch's import record.")],
    ),
    (
        "/v1/inventory/imports",
        "post",
        "200",
        &[("GetBatch", "getBatch", "The batch's import record.")],
    ),
    (
        "/v1/webhook-endpoints",
        "post",
        "201",
        &[(
            "GetWebhookEndpoint",
            "getWebhookEndpoint",
            "The endpoint (without its secret).",
        )],
    ),
];

/// Adds the links to the answers of `doc`.
pub(super) fn add(doc: &mut Value) {
    for (path, method, status, targets) in LINKS {
        let links: serde_json::Map<String, Value> = targets
            .iter()
            .map(|(name, op, description)| {
                let link = json!({"operationId": op, "parameters": {"id": "$response.body#/id"}, "description": description});
                (name.to_string(), link)
            })
            .collect();
        doc["paths"][path][method]["responses"][status]["links"] = Value::Object(links);
    }
}

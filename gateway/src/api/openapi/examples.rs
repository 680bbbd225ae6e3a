//! Request examples in the OpenAPI documents: whole request bodies per operation (the
//! media type's `examples`) and parameter values (the parameter schema's `examples`). Each
//! validates against its own schema, and each names what a fresh `simgw serve --sandbox`
//! holds (its first physical SIM, its first eSIM profile, its product, its number block),
//! so that a tool generating requests from the document (Schemathesis in
//! `scripts/schemathesis`) gets past validation to the operation itself. On any other
//! deployment they show the form; the identifiers are the sandbox's.

use serde_json::{Value, json};

/// The sandbox's physical SIM 0 (`sandbox::physical_iccid(0)`).
pub(super) const PHYSICAL_ICCID: &str = "89860099000000000003";
/// The sandbox's physical SIM 1: the target of the SIM swap example.
pub(super) const PHYSICAL_ICCID_1: &str = "89860099000000000011";
/// The IMSI of the sandbox's physical SIM 0.
pub(super) const PHYSICAL_IMSI: &str = "001010000000000";
/// The sandbox's eSIM profile 0 (`sandbox::esim_iccid(0)`).
pub(super) const ESIM_ICCID: &str = "89860099001000000001";
/// The sandbox's eSIM profile type.
pub(super) const ESIM_PROFILE_TYPE: &str = "SANDBOX-CONSUMER-V1";
/// The sandbox's product (`sandbox::PRODUCT`).
pub(super) const PRODUCT: &str = "sandbox-basic";
/// The first number of the sandbox's block (`sandbox::FIRST_MSISDN`).
pub(super) const MSISDN: &str = "8617000000000";
/// The second number of that block: the reservation example's.
pub(super) const MSISDN_1: &str = "8617000000001";
/// A card the sandbox does not seed, for the import example: Luhn-valid ICCID, and an
/// IMSI under digits `98` after the PLMN (see `sandbox_markets::SEEDED` for the others).
pub(super) const IMPORT_ICCID: &str = "89860099098000000007";
/// The import example card's IMSI.
pub(super) const IMPORT_IMSI: &str = "001019800000000";

/// The import example: a CSV batch of that one card (a test Ki, never a real card's).
fn import_csv() -> String {
    format!("iccid,imsi,ki\n{IMPORT_ICCID},{IMPORT_IMSI},000102030405060708090a0b0c0d0e0f\n")
}

/// Named examples, each as an OpenAPI Example Object.
fn named(list: &[(&str, &str, Value)]) -> Value {
    let map: serde_json::Map<String, Value> = list
        .iter()
        .map(|(name, summary, value)| {
            (
                (*name).to_owned(),
                json!({"summary": summary, "value": value}),
            )
        })
        .collect();
    Value::Object(map)
}

/// Sets the `examples` of the `media` request body of `method path`.
fn body(doc: &mut Value, path: &str, method: &str, media: &str, list: &[(&str, &str, Value)]) {
    doc["paths"][path][method]["requestBody"]["content"][media]["examples"] = named(list);
}

/// Sets the schema `examples` of parameter `name` of `method path`.
fn parameter(doc: &mut Value, path: &str, method: &str, name: &str, values: Value) {
    let params = doc["paths"][path][method]["parameters"].as_array_mut();
    if let Some(p) = params.into_iter().flatten().find(|p| p["name"] == name) {
        p["schema"]["examples"] = values;
    }
}

fn activations() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "esim",
            "An eSIM with any free number (on a fresh sandbox: one of its 200 eSIM profiles each time).",
            json!({"sim": {"type": "esim"}, "product": PRODUCT, "msisdn": {"mode": "auto"}}),
        ),
        (
            "physical",
            "A physical SIM with any free number (the sandbox's first card; once only).",
            json!({"sim": {"type": "physical", "iccid": PHYSICAL_ICCID}, "product": PRODUCT, "msisdn": {"mode": "auto"}}),
        ),
        (
            "chosen_number",
            "An eSIM with a chosen number (the first of the sandbox's block; once only).",
            json!({"sim": {"type": "esim"}, "product": PRODUCT, "msisdn": {"mode": "choose", "msisdn": MSISDN}}),
        ),
    ]
}

/// Adds the examples to the API document.
pub(super) fn add(doc: &mut Value) {
    const JSON: &str = "application/json";
    body(doc, "/v1/activations", "post", JSON, &activations());
    body(
        doc,
        "/v1/activations/validate",
        "post",
        JSON,
        &activations(),
    );
    body(
        doc,
        "/v1/numbers/reservations",
        "post",
        JSON,
        &[
            ("any", "Any free ordinary number for 15 minutes.", json!({})),
            (
                "chosen",
                "The second number of the sandbox's block, for 30 minutes (once only).",
                json!({"msisdn": MSISDN_1, "ttl_seconds": 1800}),
            ),
        ],
    );
    let csv = [(
        "one_card",
        "A CSV batch (`format=csv`) of one card the sandbox does not seed (a test Ki): 201, then 200 for the same file.",
        json!(import_csv()),
    )];
    for media in ["text/plain", "application/octet-stream"] {
        body(doc, "/v1/inventory/imports", "post", media, &csv);
    }
    parameter(
        doc,
        "/v1/inventory/imports",
        "post",
        "format",
        json!(["csv"]),
    );
    body(
        doc,
        "/v1/webhook-endpoints",
        "post",
        JSON,
        &[(
            "loopback",
            "Plain http to loopback, which only the sandbox admits (elsewhere: https to a public address).",
            json!({"url": "http://127.0.0.1:9/simgw-webhook", "event_types": ["order.active", "order.failed"]}),
        )],
    );
    let reason = [(
        "customer_request",
        "At the customer's request.",
        json!({"reason": "customer_request"}),
    )];
    for op in ["suspend", "resume"] {
        body(
            doc,
            &format!("/v1/subscriptions/{{msisdn}}/{op}"),
            "post",
            JSON,
            &reason,
        );
    }
    body(
        doc,
        "/v1/subscriptions/{msisdn}/terminate",
        "post",
        JSON,
        &[("terminate", "The body is empty.", json!({}))],
    );
    body(
        doc,
        "/v1/subscriptions/{msisdn}/sim-swap",
        "post",
        JSON,
        &[
            (
                "esim",
                "To a new eSIM profile.",
                json!({"sim": {"type": "esim"}}),
            ),
            (
                "physical",
                "To the sandbox's second card (once only).",
                json!({"sim": {"type": "physical", "iccid": PHYSICAL_ICCID_1}}),
            ),
        ],
    );
    body(
        doc,
        "/v1/subscriptions/{msisdn}/number-change",
        "post",
        JSON,
        &[(
            "auto",
            "Any free number.",
            json!({"msisdn": {"mode": "auto"}}),
        )],
    );
    parameter(
        doc,
        "/v1/sims/{iccid}",
        "get",
        "iccid",
        json!([PHYSICAL_ICCID]),
    );
    parameter(doc, "/v1/sims", "get", "imsi", json!([PHYSICAL_IMSI]));
}

/// Adds the example to the callback listener's document: a download point of the
/// sandbox's first eSIM profile (204 whether or not an order holds it).
pub(super) fn add_callback(doc: &mut Value, path: &str) {
    body(
        doc,
        path,
        "post",
        "application/json",
        &[(
            "bpp_download",
            "Point 3 (BPP download) succeeded for the sandbox's first eSIM profile.",
            json!({"header": {"functionRequesterIdentifier": "SMDP.SANDBOX.INVALID", "functionCallIdentifier": "notification-1"},
                   "iccid": ESIM_ICCID, "profileType": ESIM_PROFILE_TYPE, "timestamp": "2026-01-01T00:00:00Z",
                   "notificationPointId": 3, "notificationPointStatus": {"status": "Executed-Success"}}),
        )],
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_profiles::{Iccid, Imsi, Msisdn};

    #[test]
    fn the_identifiers_parse() {
        for s in [PHYSICAL_ICCID, PHYSICAL_ICCID_1, ESIM_ICCID, IMPORT_ICCID] {
            assert!(s.parse::<Iccid>().is_ok(), "{s}");
        }
        for s in [PHYSICAL_IMSI, IMPORT_IMSI] {
            assert!(s.parse::<Imsi>().is_ok(), "{s}");
        }
        assert!(MSISDN.parse::<Msisdn>().is_ok());
        assert!(MSISDN_1.parse::<Msisdn>().is_ok());
    }

    /// Every example names what a fresh sandbox holds, and the import card is not one of
    /// its cards.
    #[cfg(feature = "sandbox")]
    #[test]
    fn the_identifiers_are_the_sandboxs() {
        use crate::sandbox;
        let iccid = |r: Result<Iccid, crate::admin::AdminError>| r.expect("iccid").to_string();
        assert_eq!(PHYSICAL_ICCID, iccid(sandbox::physical_iccid(0)));
        assert_eq!(PHYSICAL_ICCID_1, iccid(sandbox::physical_iccid(1)));
        assert_eq!(ESIM_ICCID, iccid(sandbox::esim_iccid(0)));
        assert_eq!(PHYSICAL_IMSI, format!("{}{:010}", sandbox::PLMN, 0));
        assert_eq!(PRODUCT, sandbox::PRODUCT);
        assert_eq!(MSISDN, sandbox::FIRST_MSISDN);
        let first: u64 = sandbox::FIRST_MSISDN.parse().expect("number");
        assert_eq!(MSISDN_1, (first + 1).to_string());
        assert_eq!(ESIM_PROFILE_TYPE, sandbox::ESIM_PROFILE_TYPE);
        assert!(IMPORT_IMSI.starts_with(sandbox::PLMN));
    }
}

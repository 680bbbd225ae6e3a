//! The document against the router, the callback listener, its links and the refusals
//! the handlers can send.

use super::*;
use crate::order::OrderKind;
use crate::store::{LifecycleRejection, Rejection};
use axum::response::IntoResponse;
use std::collections::BTreeSet;

const KINDS: [OrderKind; 6] = [
    OrderKind::Activation,
    OrderKind::Suspend,
    OrderKind::Resume,
    OrderKind::Terminate,
    OrderKind::SimSwap,
    OrderKind::NumberChange,
];

/// The path segment of each lifecycle kind. Exhaustive, so a new kind does not compile
/// until it is given a segment here (and then a documented path).
fn segment(kind: OrderKind) -> Option<&'static str> {
    match kind {
        OrderKind::Activation | OrderKind::PortOut => None,
        OrderKind::Suspend => Some("suspend"),
        OrderKind::Resume => Some("resume"),
        OrderKind::Terminate => Some("terminate"),
        OrderKind::SimSwap => Some("sim-swap"),
        OrderKind::NumberChange => Some("number-change"),
    }
}

/// What the API router serves, as (method, path), with `{operation}` spelled out.
fn served() -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (method, path, _) in crate::api::routes() {
        if let Some(prefix) = path.strip_suffix("{operation}") {
            for kind in KINDS {
                if let Some(seg) = segment(kind) {
                    assert_eq!(OrderKind::from_operation(seg), Some(kind), "{seg}");
                    out.insert((method.to_owned(), format!("{prefix}{seg}")));
                }
            }
        } else {
            out.insert((method.to_owned(), path.to_owned()));
        }
    }
    out
}

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            let methods = ["get", "put", "post", "delete", "options", "head", "patch"];
            if methods.contains(&method.as_str()) {
                out.insert((method.clone(), path.clone()));
            }
        }
    }
    out
}

#[test]
fn every_route_of_the_router_is_documented() {
    let doc = spec();
    let missing: Vec<_> = served().difference(&documented(&doc)).cloned().collect();
    assert!(missing.is_empty(), "not in /openapi.json: {missing:?}");
}

/// The other direction: a documented path the router lacks (such as the ES2+
/// callback, which only the callback listener serves) fails.
#[test]
fn every_documented_route_is_served() {
    let doc = spec();
    let extra: Vec<_> = documented(&doc).difference(&served()).cloned().collect();
    assert!(extra.is_empty(), "documented but not routed: {extra:?}");
}

/// The callback listener's router and its own document agree both ways, and the API
/// document does not describe it.
#[test]
fn the_callback_listener_has_its_own_document() {
    let routes: BTreeSet<(String, String)> = crate::api::es2_callback::routes()
        .into_iter()
        .map(|(m, p, _)| (m.to_owned(), p.to_owned()))
        .collect();
    assert_eq!(routes, documented(&callback::spec()));
    let api = documented(&spec());
    assert!(
        !api.contains(&(
            "post".into(),
            adapters::es2plus::path::HANDLE_DOWNLOAD_PROGRESS_INFO.into()
        )),
        "the API document describes the callback"
    );
}

/// The drift tests fail on drift: a route or a documented path added on one side only.
#[test]
fn the_route_tests_see_drift_both_ways() {
    let mut doc = spec();
    doc["paths"]["/v1/nowhere"] = json!({"get": {"responses": {}}});
    assert!(documented(&doc).difference(&served()).count() == 1);
    let mut doc = spec();
    if let Some(paths) = doc["paths"].as_object_mut() {
        paths.remove("/v1/inventory");
    }
    assert!(served().difference(&documented(&doc)).count() == 1);
}

/// Every route but the GETs needs more than a readonly key, so each documents the 403.
#[test]
fn every_write_documents_forbidden_for_role() {
    let doc = spec();
    let forbidden = json!({"$ref": "#/components/responses/ForbiddenForRole"});
    for (method, path) in served().into_iter().filter(|(m, _)| m != "get") {
        assert_eq!(
            doc["paths"][&path][&method]["responses"]["403"], forbidden,
            "{method} {path}"
        );
    }
}

/// The runtime expressions (`$…` strings) in a link's request body.
fn body_expressions<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::String(s) if s.starts_with('$') => out.push(v),
        Value::Object(m) => m.values().for_each(|x| body_expressions(x, out)),
        Value::Array(a) => a.iter().for_each(|x| body_expressions(x, out)),
        _ => {}
    }
}

/// Every link names a documented operation, fills exactly its path parameters, and
/// reads (in its parameters and request body) a member that the answer it hangs on
/// always has.
#[test]
fn links_lead_to_real_operations() {
    let doc = spec();
    let mut ops = std::collections::BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for op in item.as_object().expect("item").values() {
            if let Some(id) = op["operationId"].as_str() {
                ops.insert(id.to_owned(), path.clone());
            }
        }
    }
    let mut seen = 0;
    let mut targets = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for op in item.as_object().expect("item").values() {
            for (status, answer) in op["responses"].as_object().into_iter().flatten() {
                for (name, link) in answer["links"].as_object().into_iter().flatten() {
                    seen += 1;
                    let what = format!("{path} {status} {name}");
                    let target = ops
                        .get(link["operationId"].as_str().unwrap_or_default())
                        .unwrap_or_else(|| panic!("{what}: no such operation"));
                    let wanted: BTreeSet<String> = target
                        .split('/')
                        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                        .map(str::to_owned)
                        .collect();
                    let params = link["parameters"].as_object().expect("parameters");
                    assert_eq!(
                        params.keys().cloned().collect::<BTreeSet<_>>(),
                        wanted,
                        "{what}"
                    );
                    let mut exprs: Vec<&Value> = params.values().collect();
                    body_expressions(&link["requestBody"], &mut exprs);
                    for expr in exprs {
                        let member = expr
                            .as_str()
                            .and_then(|e| e.strip_prefix("$response.body#/"))
                            .unwrap_or_else(|| panic!("{what}: {expr}"));
                        let schema = &answer["content"]["application/json"]["schema"];
                        let path: Vec<&str> = member.split('/').collect();
                        assert!(
                            always_has(&doc, schema, &path),
                            "{what}: `{member}` is not always there"
                        );
                    }
                    targets.insert(link["operationId"].as_str().unwrap_or_default().to_owned());
                }
            }
        }
    }
    assert!(seen >= 24, "{seen} links");
    // The operations that need something made first: each is reached by a link.
    for op in [
        "getOrder",
        "getOrderQrPng",
        "getOrderQrSvg",
        "cancelOrder",
        "rescheduleOrder",
        "getActivationQrPng",
        "getActivationQrSvg",
        "endBlocklistEntry",
        "suspendSubscription",
        "resumeSubscription",
        "terminateSubscription",
        "swapSubscriptionSim",
        "changeSubscriptionNumber",
        "verifySubscription",
        "issuePortOutCredential",
    ] {
        assert!(targets.contains(op), "no link leads to {op}");
    }
}

/// Whether every body `schema` allows has the member at `path` (JSON pointer segments):
/// each member on the way is required; through a `$ref`, in every `oneOf`/`anyOf`
/// branch, in some `allOf` part. An array index reads an item, which every item must
/// have (a link through one is followed only when the list has that item).
fn always_has(doc: &Value, schema: &Value, path: &[&str]) -> bool {
    if let Some(r) = schema["$ref"].as_str() {
        return doc
            .pointer(r.trim_start_matches('#'))
            .is_some_and(|s| always_has(doc, s, path));
    }
    if let Some(branches) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        return branches.iter().all(|b| always_has(doc, b, path));
    }
    if let Some(parts) = schema["allOf"].as_array()
        && parts.iter().any(|p| always_has(doc, p, path))
    {
        return true;
    }
    let Some((first, rest)) = path.split_first() else {
        return true;
    };
    if first.parse::<usize>().is_ok() {
        return schema["type"] == "array" && always_has(doc, &schema["items"], rest);
    }
    let required = schema["required"]
        .as_array()
        .is_some_and(|r| r.contains(&json!(first)));
    required && (rest.is_empty() || always_has(doc, &schema["properties"][*first], rest))
}

#[test]
fn references_resolve() {
    fn walk(v: &Value, doc: &Value, bad: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    let target = r
                        .strip_prefix('#')
                        .and_then(|p| doc.pointer(p))
                        .filter(|t| !t.is_null());
                    if target.is_none() {
                        bad.push(r.clone());
                    }
                }
                m.values().for_each(|x| walk(x, doc, bad));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, doc, bad)),
            _ => {}
        }
    }
    for doc in [spec(), callback::spec()] {
        let mut bad = Vec::new();
        walk(&doc, &doc, &mut bad);
        assert!(bad.is_empty(), "dangling $ref: {bad:?}");
    }
}

#[test]
fn each_operation_documents_its_body_key_and_answers() {
    let doc = spec();
    for seg in KINDS.into_iter().filter_map(segment) {
        let op = &doc["paths"][format!("/v1/subscriptions/{{msisdn}}/{seg}")]["post"];
        assert!(
            op["requestBody"]["content"]["application/json"]["schema"].is_object(),
            "{seg}"
        );
        assert!(
            op["parameters"].as_array().is_some_and(|p| p
                .iter()
                .any(|p| p["name"] == "Idempotency-Key"
                    && p["in"] == "header"
                    && p["required"] == true)),
            "{seg}"
        );
        for status in [
            "202", "400", "401", "403", "404", "409", "413", "415", "422", "503",
        ] {
            assert!(op["responses"][status].is_object(), "{seg} {status}");
        }
        assert_eq!(
            op["responses"]["202"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/LifecycleOrder"
        );
    }
    let reasons = &doc["components"]["schemas"]["SuspensionReason"]["enum"];
    assert_eq!(
        reasons.as_array().map(Vec::len),
        Some(crate::order::SuspensionReason::ALL.len())
    );
}

/// Every refusal of a lifecycle order is listed, by code, under its status on the
/// operation that can send it.
#[test]
fn lifecycle_refusals_are_documented_under_their_status() {
    let doc = spec();
    let cases = [
        ("suspend", LifecycleRejection::NotFound),
        ("suspend", LifecycleRejection::Busy("ord_x".into())),
        ("suspend", LifecycleRejection::Terminated),
        ("suspend", LifecycleRejection::ReasonPresent),
        ("resume", LifecycleRejection::ReasonAbsent),
        ("number-change", LifecycleRejection::SameNumber),
        (
            "sim-swap",
            LifecycleRejection::Inventory(Rejection::SimNotAvailable { state: "active" }),
        ),
        (
            "sim-swap",
            LifecycleRejection::Inventory(Rejection::UnknownIccid),
        ),
        (
            "sim-swap",
            LifecycleRejection::Inventory(Rejection::SimIsEsim),
        ),
        (
            "number-change",
            LifecycleRejection::Inventory(Rejection::NumberNotAvailable),
        ),
        (
            "number-change",
            LifecycleRejection::Inventory(Rejection::NumberNotInPool),
        ),
        (
            "number-change",
            LifecycleRejection::Inventory(Rejection::NumberPoolExhausted),
        ),
        (
            "number-change",
            LifecycleRejection::Inventory(Rejection::ReservationNotFound),
        ),
        (
            "number-change",
            LifecycleRejection::Inventory(Rejection::ReservationNotUsable),
        ),
    ];
    for (seg, r) in cases {
        let e = crate::api::problem::ApiError::lifecycle_rejection(r);
        let code = e.code();
        let status = e.into_response().status().as_u16().to_string();
        let answer = &doc["paths"][format!("/v1/subscriptions/{{msisdn}}/{seg}")]["post"]["responses"]
            [&status];
        let text = answer["description"].as_str().unwrap_or_default();
        assert!(
            text.contains(&format!("`{code}`")),
            "{seg}: {status} {code} not documented"
        );
    }
}

/// The schema names every member the API renders for a subscription.
#[test]
fn the_subscription_schema_matches_what_the_api_renders() {
    use crate::store::{SimType, Subscription, SubscriptionState};
    let sub = Subscription {
        id: format!("sub_{}", "a".repeat(26)),
        tenant: "t".into(),
        msisdn: "491700000001".parse().expect("msisdn"),
        iccid: sim_profiles::Iccid::from_payload("898600000000000001").expect("iccid"),
        imsi: "001010000000001".parse().expect("imsi"),
        sim_type: SimType::Physical,
        product: "p".into(),
        hlr_profile_id: 1,
        state: SubscriptionState::Suspended,
        suspension_reasons: vec![crate::order::SuspensionReason::NonPayment],
        regulatory_by: Vec::new(),
        activation_id: format!("act_{}", "a".repeat(26)),
        inflight: Some(format!("ord_{}", "b".repeat(26))),
        history: Vec::new(),
        verification: crate::compliance::reverify::Verification::Pending {
            rules: vec![crate::compliance::risk::RiskRule::IdNearLimit],
            since_ms: 0,
            deadline_ms: 1,
        },
        port_out_credential: None,
        last_port_at_ms: None,
        handset: None,
        created_at_ms: 0,
        updated_at_ms: 0,
    };
    let rendered = crate::api::lifecycle_dto::render_subscription(&sub);
    let schema = &spec()["components"]["schemas"]["Subscription"];
    let props = schema["properties"].as_object().expect("properties");
    for key in rendered.as_object().expect("object").keys() {
        assert!(props.contains_key(key), "`{key}` is not in the schema");
    }
    for key in schema["required"].as_array().expect("required") {
        let key = key.as_str().expect("name");
        assert!(
            rendered.get(key).is_some(),
            "`{key}` is required but not rendered"
        );
    }
}

#[test]
fn documents_the_events_api_and_webhook_endpoints() {
    let doc = spec();
    let types = &doc["components"]["schemas"]["Event"]["properties"]["type"]["enum"];
    assert_eq!(
        types.as_array().map(Vec::len),
        Some(crate::store::EventType::ALL.len())
    );
}

/// A blocklist entry's `reason` pattern calls blank what the server does (`str::trim`):
/// a reason of one character is valid exactly when it is not white space.
#[test]
fn the_blocklist_reason_pattern_is_the_servers_blank() {
    let doc = spec();
    let forms = &doc["paths"]["/v1/blocklists"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"]["oneOf"];
    let patterns: BTreeSet<&str> = forms
        .as_array()
        .expect("forms")
        .iter()
        .map(|f| {
            f["properties"]["reason"]["pattern"]
                .as_str()
                .expect("pattern")
        })
        .collect();
    assert_eq!(patterns.len(), 1, "{patterns:?}");
    let pattern = patterns.first().expect("pattern");
    let re = regex_automata::dfa::regex::Regex::new(pattern).expect("pattern");
    for c in (0..=0x3100u32).filter_map(char::from_u32) {
        let s = c.to_string();
        assert_eq!(
            re.is_match(&s),
            !s.trim().is_empty(),
            "U+{:04X}",
            u32::from(c)
        );
    }
}

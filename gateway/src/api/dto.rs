//! Northbound wire types, kept apart from the domain: request parsing with precise field
//! paths (hand-written over `serde_json::Value`, so errors name the field and never echo
//! its value), and the JSON rendering of an order.

use super::problem::ApiError;
use crate::clock::rfc3339;
use crate::order::{EsimOrder, Order, OrderStatus, Step};
use crate::store::EsimProgress;
use serde_json::{Map, Value, json};
use sim_profiles::{Eid, Iccid, Msisdn};

/// Which card the activation is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimRequest {
    /// A physical SIM from inventory.
    Physical(Iccid),
    /// An eSIM, optionally bound to an EID.
    Esim(Option<Eid>),
}

/// How to pick the number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MsisdnRequest {
    /// Any free number.
    Auto,
    /// A specific number from the pool.
    Choose(Msisdn),
    /// Port an existing number in.
    PortIn(Box<super::port_in::PortInRequest>),
    /// The number held by a checkout reservation.
    Reservation(String),
}

/// A validated `POST /v1/activations` body.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivationRequest {
    /// The card.
    pub sim: SimRequest,
    /// Product code.
    pub product: String,
    /// Number selection.
    pub msisdn: MsisdnRequest,
    /// Subscriber details (sealed at rest, never returned).
    pub subscriber: Option<Value>,
    /// Channel metadata.
    pub channel: Option<Value>,
}

const CHANNEL_FIELDS: &[&str] = &[
    "kind",
    "store_id",
    "terminal_id",
    "staff_id",
    "platform",
    "order_ref",
    "imei",
];

/// `v` as a JSON object, or the problem naming `path`.
pub(super) fn object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, ApiError> {
    v.as_object().ok_or_else(|| {
        ApiError::invalid(
            "invalid_type",
            path,
            format!("`{path}` must be a JSON object"),
        )
    })
}

/// Refuses a member of `m` not in `allowed`, naming it.
pub(super) fn no_unknown(
    m: &Map<String, Value>,
    path: &str,
    allowed: &[&str],
) -> Result<(), ApiError> {
    if let Some(k) = m.keys().find(|k| !allowed.contains(&k.as_str())) {
        let field = if path.is_empty() {
            k.clone()
        } else {
            format!("{path}.{k}")
        };
        let shown: String = field.chars().take(64).collect();
        return Err(ApiError::invalid(
            "unknown_field",
            &shown,
            format!(
                "unknown field `{shown}`; allowed here: {}",
                allowed.join(", ")
            ),
        ));
    }
    Ok(())
}

pub(super) fn string<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a str>, ApiError> {
    let field = if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    };
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::invalid(
            "invalid_type",
            &field,
            format!("`{field}` must be a string"),
        )),
    }
}

pub(super) fn required<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a str, ApiError> {
    let field = if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    };
    string(m, key, path)?
        .ok_or_else(|| ApiError::invalid("missing_field", &field, format!("`{field}` is required")))
}

/// Validates the body of `POST /v1/activations`.
pub fn parse_activation(body: &Value) -> Result<ActivationRequest, ApiError> {
    let root = object(body, "")
        .map_err(|_| ApiError::invalid("invalid_type", "", "the body must be a JSON object"))?;
    no_unknown(
        root,
        "",
        &["sim", "product", "msisdn", "subscriber", "channel"],
    )?;

    let sim = sim_request(root.get("sim"))?;

    let product = required(root, "product", "")?;
    if product.is_empty() || product.len() > 64 {
        return Err(ApiError::invalid(
            "invalid_value",
            "product",
            "`product` must be 1 to 64 characters",
        ));
    }

    let msisdn = msisdn_request(root.get("msisdn"))?;

    let subscriber = match root.get("subscriber") {
        None | Some(Value::Null) => None,
        Some(v) => Some(Value::Object(object(v, "subscriber")?.clone())),
    };

    let channel = channel_request(root.get("channel"))?;

    Ok(ActivationRequest {
        sim,
        product: product.to_owned(),
        msisdn,
        subscriber,
        channel,
    })
}

/// The `sim` member of a request (required).
pub fn sim_request(v: Option<&Value>) -> Result<SimRequest, ApiError> {
    let sim_v = v.ok_or_else(|| ApiError::invalid("missing_field", "sim", "`sim` is required"))?;
    let sim_m = object(sim_v, "sim")?;
    Ok(match required(sim_m, "type", "sim")? {
        "physical" => {
            no_unknown(sim_m, "sim", &["type", "iccid"])?;
            let raw = required(sim_m, "iccid", "sim")?;
            let iccid = raw.parse::<Iccid>().map_err(|e| {
                ApiError::invalid(
                    "invalid_iccid",
                    "sim.iccid",
                    format!("`sim.iccid` is not a valid ICCID: {e}; re-scan the card's barcode"),
                )
            })?;
            SimRequest::Physical(iccid)
        }
        "esim" => {
            no_unknown(sim_m, "sim", &["type", "eid"])?;
            let eid = string(sim_m, "eid", "sim")?
                .map(|s| s.parse::<Eid>())
                .transpose()
                .map_err(|e| {
                    ApiError::invalid(
                        "invalid_eid",
                        "sim.eid",
                        format!("`sim.eid` is not a valid EID: {e}"),
                    )
                })?;
            SimRequest::Esim(eid)
        }
        _ => {
            return Err(ApiError::invalid(
                "invalid_value",
                "sim.type",
                "`sim.type` must be `physical` or `esim`",
            ));
        }
    })
}

/// The `msisdn` member of a request (absent: `auto`).
pub fn msisdn_request(v: Option<&Value>) -> Result<MsisdnRequest, ApiError> {
    Ok(match v {
        None | Some(Value::Null) => MsisdnRequest::Auto,
        Some(v) => {
            let m = object(v, "msisdn")?;
            match required(m, "mode", "msisdn")? {
                "auto" => {
                    no_unknown(m, "msisdn", &["mode"])?;
                    MsisdnRequest::Auto
                }
                "choose" => {
                    no_unknown(m, "msisdn", &["mode", "msisdn"])?;
                    let n = required(m, "msisdn", "msisdn")?
                        .parse::<Msisdn>()
                        .map_err(|e| {
                            ApiError::invalid(
                                "invalid_msisdn",
                                "msisdn.msisdn",
                                format!("`msisdn.msisdn` is not a valid E.164 number: {e}"),
                            )
                        })?;
                    MsisdnRequest::Choose(n)
                }
                "port_in" => MsisdnRequest::PortIn(Box::new(super::port_in::parse(m)?)),
                "reservation" => {
                    no_unknown(m, "msisdn", &["mode", "reservation_id"])?;
                    let id = required(m, "reservation_id", "msisdn")?;
                    if !id.starts_with("nres_") || id.len() > 64 {
                        return Err(ApiError::invalid(
                            "invalid_value",
                            "msisdn.reservation_id",
                            "`msisdn.reservation_id` must be a reservation id (`nres_…`)",
                        ));
                    }
                    MsisdnRequest::Reservation(id.to_owned())
                }
                _ => {
                    return Err(ApiError::invalid(
                        "invalid_value",
                        "msisdn.mode",
                        "`msisdn.mode` must be `auto`, `choose`, `reservation` or `port_in`",
                    ));
                }
            }
        }
    })
}

/// A registry id: 1 to 64 characters of letters, digits, `.`, `_` and `-`.
pub(super) fn check_id(field: &str, s: &str) -> Result<(), ApiError> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "invalid_value",
            field,
            format!("`{field}` must be 1 to 64 letters, digits, `.`, `_` or `-`"),
        ))
    }
}

/// The `channel` member of a request (absent: none).
pub fn channel_request(v: Option<&Value>) -> Result<Option<Value>, ApiError> {
    Ok(match v {
        None | Some(Value::Null) => None,
        Some(v) => {
            let m = object(v, "channel")?;
            no_unknown(m, "channel", CHANNEL_FIELDS)?;
            for k in m.keys() {
                let s = string(m, k, "channel")?.unwrap_or_default();
                let imei_ok = (14..=16).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
                if k == "imei" && !imei_ok {
                    return Err(ApiError::invalid(
                        "invalid_value",
                        "channel.imei",
                        "`channel.imei` must be the handset's IMEI: 14 to 16 digits",
                    ));
                }
                if s.len() > 128 {
                    return Err(ApiError::invalid(
                        "invalid_value",
                        &format!("channel.{k}"),
                        format!("`channel.{k}` must be at most 128 characters"),
                    ));
                }
            }
            Some(Value::Object(m.clone()))
        }
    })
}

/// An activation's HLR step as the API shows it: `pending` while the call recorded ahead
/// of the identity verification waits for it (the order still `reserved`; the engine
/// makes the call once the verification lets the order go on).
fn hlr_step(o: &Order) -> &Step {
    recorded_ahead(&o.hlr, o.status == OrderStatus::Reserved)
}

/// A step as the API shows it when it may be a call recorded ahead of another it waits
/// for (`waits`: that other is not done): `pending` while it waits, for the engine makes
/// it only then; as it is otherwise.
pub(super) fn recorded_ahead(s: &Step, waits: bool) -> &Step {
    static WAITING: Step = Step::Pending;
    match s {
        Step::Sent { .. } if waits => &WAITING,
        s => s,
    }
}

/// A step as the API shows it.
pub(super) fn step_json(s: &Step) -> Value {
    match s {
        Step::Pending => json!({"state": "pending"}),
        Step::Sent { attempt } => json!({"state": "in_progress", "attempt": attempt}),
        Step::RetryWait {
            attempt,
            retry_at_ms,
            last_error,
        } => {
            json!({"state": "retry_wait", "attempt": attempt, "retry_at": rfc3339(*retry_at_ms), "last_error": last_error})
        }
        Step::Done { outcome } => json!({"state": "done", "outcome": outcome}),
        Step::Failed { attempt, error } => {
            json!({"state": "failed", "attempt": attempt, "error": error})
        }
    }
}

/// URL-encodes a value for a query string (RFC 3986 unreserved characters kept).
fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The `esim` object of an eSIM order: SM-DP+ progress, activation code, QR links and
/// device install links, and the confirmation code (to deliver on a separate channel).
fn esim_json(o: &Order, e: &EsimOrder, progress: Option<&EsimProgress>, cc: Option<&str>) -> Value {
    let state = match (o.status, progress.and_then(|p| p.state)) {
        (_, Some(s)) => Some(s.as_str()),
        (OrderStatus::Active, None) => Some("released"),
        _ => None,
    };
    let mut v = json!({
        "profile_type": e.profile_type,
        "state": state,
        "steps": {
            "download_order": step_json(&e.download),
            "confirm_order": step_json(&e.confirm),
        },
    });
    if let Some(eid) = &e.eid {
        v["eid"] = json!(eid);
    }
    if let Some(s) = &e.release_check {
        v["steps"]["release_profile"] = step_json(s);
    }
    if let Some(s) = &e.reorder {
        v["steps"]["download_order_again"] = step_json(s);
    }
    if let Some(c) = &e.cancel {
        v["steps"]["cancel_order"] = step_json(c);
    }
    if let Some(left) = e.left_at_smdp {
        v["left_at_smdp"] = json!(left.as_str());
    }
    if let Some(id) = &e.last_call_id {
        v["last_function_call_id"] = json!(id);
    }
    if let Some(p) = progress {
        v["progress"] = json!(p.points);
    }
    let live = matches!(o.status, OrderStatus::Active);
    if let (true, Some(ac)) = (live, &e.activation_code) {
        let lpa = format!("LPA:{ac}");
        v["activation_code"] = json!(ac);
        v["lpa_string"] = json!(lpa);
        v["qr_png_url"] = json!(format!("/v1/activations/{}/qr.png", o.id));
        v["qr_svg_url"] = json!(format!("/v1/activations/{}/qr.svg", o.id));
        v["install_links"] = json!({
            "ios": format!("https://esimsetup.apple.com/esim_qrcode_provisioning?carddata={}", url_encode(&lpa)),
            "android": format!("https://esimsetup.android.com/esim_qrcode_provisioning?carddata={}", url_encode(&lpa)),
        });
        if let Some(at) = e.expires_at_ms {
            v["expires_at"] = json!(rfc3339(at));
        }
    }
    if let Some(cc) = cc {
        v["confirmation_code"] = json!(cc);
    }
    v
}

/// The public JSON of an order. Never includes keys or subscriber details; an eSIM order
/// carries its progress (from `progress`) and, when `cc` is given, its confirmation code.
pub fn render_order(o: &Order, progress: Option<&EsimProgress>, cc: Option<&str>) -> Value {
    let sim = match &o.esim {
        Some(e) => json!({"type": "esim", "iccid": o.iccid, "eid": e.eid}),
        None => json!({"type": "physical", "iccid": o.iccid}),
    };
    let mut v = json!({
        "id": o.id,
        "object": "activation",
        "status": o.status_name(),
        "sim": sim,
        "iccid": o.iccid,
        "imsi": o.imsi,
        "msisdn": o.msisdn,
        "msisdn_mode": o.msisdn_mode,
        "product": o.product,
        "created_at": rfc3339(o.created_at_ms),
        "updated_at": rfc3339(o.updated_at_ms),
        "steps": {"hlr_provision": step_json(hlr_step(o))},
    });
    if let Some(u) = &o.undo {
        v["steps"]["hlr_compensation"] = step_json(u);
    }
    if let Some(i) = &o.identity {
        v["steps"]["identity_verification"] = step_json(&i.step);
        let mut id = json!({"status": i.status.as_str(), "attempts": i.attempts});
        if let Some(c) = &i.code {
            id["code"] = json!(c);
        }
        if i.reverify {
            id["reverify"] = Value::Bool(true);
        }
        v["identity"] = id;
    }
    if let Some(e) = &o.esim {
        v["esim"] = esim_json(o, e, progress, cc);
        if let Some(ac) = v["esim"].get("activation_code").cloned() {
            v["activation_code"] = ac;
        }
    }
    if let Some(p) = &o.port {
        v["port"] = super::ports::port_json(o, p);
    }
    order_tail(o, &mut v);
    v
}

/// What every order shows after its own members: its error, why it needs attention, and
/// the channel it came from.
pub(super) fn order_tail(o: &Order, v: &mut Value) {
    if let Some(e) = &o.error {
        v["error"] = json!({"code": e.code, "detail": e.detail});
    }
    if o.needs_attention {
        v["needs_attention"] = Value::Bool(true);
        v["attention"] = o
            .attention
            .iter()
            .map(|r| json!({"reason": r.as_str(), "detail": r.detail()}))
            .collect();
    }
    if let Some(c) = &o.channel {
        v["channel"] = c.clone();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_err(body: Value, code: &str, field: &str) {
        let e = parse_activation(&body).expect_err("must be rejected");
        assert_eq!(e.code(), code, "{body}");
        let rendered = format!("{e:?}");
        assert!(rendered.contains(field), "{rendered} should name {field}");
    }

    fn ok_body() -> Value {
        json!({"sim": {"type": "physical", "iccid": "8988211000000530082"}, "product": "basic"})
    }

    #[test]
    fn accepts_minimal_physical_request() {
        let r = parse_activation(&ok_body()).expect("valid");
        assert_eq!(
            r.sim,
            SimRequest::Physical("8988211000000530082".parse().expect("iccid"))
        );
        assert_eq!(r.msisdn, MsisdnRequest::Auto);
    }

    #[test]
    fn rejections_name_the_field() {
        check_err(json!([1]), "invalid_type", "");
        check_err(json!({"product": "x"}), "missing_field", "sim");
        check_err(
            json!({"sim": {"type": "physical", "iccid": "8988211000000530081"}, "product": "x"}),
            "invalid_iccid",
            "sim.iccid",
        );
        check_err(
            json!({"sim": {"type": "physical", "iccid": 8988211000000530082u64}, "product": "x"}),
            "invalid_type",
            "sim.iccid",
        );
        check_err(
            json!({"sim": {"type": "physical", "iccid": "8988211000000530082", "x": 1}, "product": "x"}),
            "unknown_field",
            "sim.x",
        );
        check_err(
            json!({"sim": {"type": "physical", "iccid": "8988211000000530082"}, "product": "x", "extra": true}),
            "unknown_field",
            "extra",
        );
        check_err(
            json!({"sim": {"type": "floppy"}, "product": "x"}),
            "invalid_value",
            "sim.type",
        );
        check_err(
            json!({"sim": {"type": "physical", "iccid": "8988211000000530082"}, "product": 5}),
            "invalid_type",
            "product",
        );
        check_err(
            json!({"sim": {"type": "physical", "iccid": "8988211000000530082"}, "product": "x", "msisdn": {"mode": "choose", "msisdn": "0123"}}),
            "invalid_msisdn",
            "msisdn.msisdn",
        );
        check_err(
            json!({"sim": {"type": "physical", "iccid": "8988211000000530082"}, "product": "x", "channel": {"store_id": 7}}),
            "invalid_type",
            "channel.store_id",
        );
        check_err(
            json!({"sim": {"type": "esim", "eid": "89049032123451234512345678901234"}, "product": "x"}),
            "invalid_eid",
            "sim.eid",
        );
    }

    #[test]
    fn errors_never_echo_values() {
        let secret = "110101199003074477";
        let body = json!({"sim": {"type": "physical", "iccid": secret}, "product": "x"});
        let e = parse_activation(&body).expect_err("bad iccid");
        assert!(!format!("{e:?}").contains(secret));
    }

    fn arb_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            "[a-z0-9_]{0,24}".prop_map(Value::String),
            Just(json!("8988211000000530082")),
            Just(json!("physical")),
            Just(json!("choose")),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            let keys = prop_oneof![
                Just("sim".to_owned()),
                Just("type".to_owned()),
                Just("iccid".to_owned()),
                Just("product".to_owned()),
                Just("msisdn".to_owned()),
                Just("mode".to_owned()),
                Just("channel".to_owned()),
                Just("subscriber".to_owned()),
                "[a-z]{1,6}",
            ];
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(keys, inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn any_json_is_accepted_or_refused_with_a_documented_code(v in arb_json()) {
            if let Err(e) = parse_activation(&v) {
                proptest::prop_assert!(
                    ["invalid_type", "missing_field", "unknown_field", "invalid_value", "invalid_iccid", "invalid_msisdn", "invalid_eid"].contains(&e.code()),
                    "undocumented code {}", e.code()
                );
            }
        }
    }
}

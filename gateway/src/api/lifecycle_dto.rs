//! Wire types of subscriptions and lifecycle orders: the operation bodies, validated by
//! hand like activations (the JSON path at fault, never the value), and the rendering of
//! subscriptions, their history and lifecycle orders.

use super::dto::{
    MsisdnRequest, SimRequest, msisdn_request, no_unknown, object, order_tail, sim_request,
    step_json,
};
use super::problem::ApiError;
use crate::clock::rfc3339;
use crate::order::{Order, OrderKind, SagaStep, SuspensionReason};
use crate::store::{HistoryEntry, Subscription};
use serde_json::{Map, Value, json};

/// A validated operation body.
#[derive(Debug, PartialEq, Eq)]
pub struct OperationRequest {
    /// The suspension reason (suspend, resume).
    pub reason: Option<SuspensionReason>,
    /// The new card (sim swap).
    pub sim: Option<SimRequest>,
    /// The new number (number change).
    pub msisdn: Option<MsisdnRequest>,
}

fn members<'a>(body: &'a Value, allowed: &[&str]) -> Result<&'a Map<String, Value>, ApiError> {
    let root = object(body, "")
        .map_err(|_| ApiError::invalid("invalid_type", "", "the body must be a JSON object"))?;
    no_unknown(root, "", allowed)?;
    Ok(root)
}

fn reason(root: &Map<String, Value>) -> Result<SuspensionReason, ApiError> {
    let names: Vec<&str> = SuspensionReason::ALL.iter().map(|r| r.as_str()).collect();
    let bad = || {
        ApiError::invalid(
            "invalid_value",
            "reason",
            format!("`reason` must be one of {}", names.join(", ")),
        )
    };
    match root.get("reason") {
        None => Err(ApiError::invalid(
            "missing_field",
            "reason",
            format!("`reason` is required: one of {}", names.join(", ")),
        )),
        Some(Value::String(s)) => SuspensionReason::parse(s).ok_or_else(bad),
        Some(_) => Err(bad()),
    }
}

/// Validates the body of operation `kind` (an empty body is `{}`).
pub fn parse_operation(kind: OrderKind, body: &Value) -> Result<OperationRequest, ApiError> {
    let mut req = OperationRequest {
        reason: None,
        sim: None,
        msisdn: None,
    };
    match kind {
        OrderKind::Suspend | OrderKind::Resume => {
            let root = members(body, &["reason"])?;
            req.reason = Some(reason(root)?);
        }
        OrderKind::Terminate | OrderKind::Activation | OrderKind::PortOut => {
            members(body, &[])?;
        }
        OrderKind::SimSwap => {
            let root = members(body, &["sim"])?;
            req.sim = Some(sim_request(root.get("sim"))?);
        }
        OrderKind::NumberChange => {
            let root = members(body, &["msisdn"])?;
            // Null is refused as absence is: taken as `auto`, it would give the line a
            // new number the caller never chose.
            let m = root.get("msisdn").filter(|v| !v.is_null()).ok_or_else(|| {
                ApiError::invalid(
                    "missing_field",
                    "msisdn",
                    "`msisdn` is required: {\"mode\": \"auto\"}, {\"mode\": \"choose\", \"msisdn\": …} or {\"mode\": \"reservation\", \"reservation_id\": …}",
                )
            })?;
            req.msisdn = Some(msisdn_request(Some(m))?);
        }
    }
    Ok(req)
}

/// A subscription as the API shows it: `state` is `pending_verification` while an
/// otherwise active line waits for its second verification, which `verification` details.
pub fn render_subscription(s: &Subscription) -> Value {
    json!({
        "id": s.id,
        "object": "subscription",
        "msisdn": s.msisdn,
        "iccid": s.iccid,
        "imsi": s.imsi,
        "sim_type": s.sim_type,
        "product": s.product,
        "state": crate::store::api_state(s),
        "suspension_reasons": s.suspension_reasons,
        "regulatory_by": s.regulatory_holders(),
        "verification": crate::store::verification_json(&s.verification),
        "handset": s.handset.as_ref().map(|h| json!({"tac": h.tac, "seen_at": rfc3339(h.seen_at_ms)})),
        "activation_id": s.activation_id,
        "order_in_flight": s.inflight,
        "created_at": rfc3339(s.created_at_ms),
        "updated_at": rfc3339(s.updated_at_ms),
    })
}

/// One history entry as the API shows it.
pub fn render_history(h: &HistoryEntry) -> Value {
    let mut v = json!({
        "order_id": h.order_id,
        "kind": h.kind.as_str(),
        "outcome": h.outcome,
        "at": rfc3339(h.at_ms),
    });
    if let Some(a) = &h.actor {
        v["actor"] = json!({"key_prefix": a.key_prefix, "role": a.role});
    }
    if let Some(r) = h.reason {
        v["reason"] = Value::String(r.as_str().into());
    }
    if let Some(c) = &h.change {
        v["change"] = Value::String(c.clone());
    }
    if let Some(e) = &h.error {
        v["error"] = Value::String(e.clone());
    }
    v
}

fn saga_json(steps: &[SagaStep]) -> Value {
    steps
        .iter()
        .map(|s| {
            let mut v = step_json(&s.step);
            v["name"] = Value::String(s.op.name().into());
            v
        })
        .collect()
}

/// A lifecycle order as the API shows it (an activation renders as before, with `kind`).
pub fn render_lifecycle(o: &Order, cc: Option<&str>) -> Value {
    let mut v = json!({
        "id": o.id,
        "object": "order",
        "kind": o.kind.as_str(),
        "status": o.status_name(),
        "msisdn": o.msisdn,
        "iccid": o.iccid,
        "created_at": rfc3339(o.created_at_ms),
        "updated_at": rfc3339(o.updated_at_ms),
    });
    if let Some(l) = &o.lifecycle {
        v["subscription_id"] = Value::String(l.subscription.clone());
        v["steps"] = saga_json(&l.plan);
        if !l.undo.is_empty() {
            v["compensation"] = saga_json(&l.undo);
        }
        if let Some(r) = l.reason {
            v["reason"] = Value::String(r.as_str().into());
        }
        if let Some(n) = &l.new_line {
            v["new_sim"] = match &o.esim {
                Some(e) => json!({"type": "esim", "iccid": n.iccid, "eid": e.eid}),
                None => json!({"type": "physical", "iccid": n.iccid}),
            };
            v["msisdn_holder"] = json!(l.msisdn_holder());
        }
        if let Some(ac) = o.esim.as_ref().and_then(|e| e.activation_code.as_ref()) {
            v["activation_code"] = json!(ac);
            v["qr"] = json!({"png": format!("/v1/orders/{}/qr.png", o.id), "svg": format!("/v1/orders/{}/qr.svg", o.id)});
            if let Some(cc) = cc {
                v["confirmation_code"] = json!(cc);
            }
        }
        if let Some(m) = &l.new_msisdn {
            v["new_msisdn"] = json!(m);
        }
    }
    if let Some(p) = &o.port {
        v["port"] = super::ports::port_json(o, p);
    }
    order_tail(o, &mut v);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(kind: OrderKind, body: Value) -> &'static str {
        parse_operation(kind, &body).expect_err("refused").code()
    }

    #[test]
    fn reasons_are_required_and_named() {
        let ok = parse_operation(OrderKind::Suspend, &json!({"reason": "lost_or_stolen"}));
        assert_eq!(
            ok.expect("valid").reason,
            Some(SuspensionReason::LostOrStolen)
        );
        assert_eq!(code(OrderKind::Suspend, json!({})), "missing_field");
        assert_eq!(
            code(OrderKind::Resume, json!({"reason": "x"})),
            "invalid_value"
        );
        assert_eq!(
            code(OrderKind::Resume, json!({"reason": 3})),
            "invalid_value"
        );
        assert_eq!(
            code(OrderKind::Suspend, json!({"reason": "non_payment", "x": 1})),
            "unknown_field"
        );
    }

    #[test]
    fn terminate_takes_an_empty_object_and_swap_a_sim() {
        assert!(parse_operation(OrderKind::Terminate, &json!({})).is_ok());
        assert_eq!(code(OrderKind::Terminate, json!([])), "invalid_type");
        assert_eq!(code(OrderKind::SimSwap, json!({})), "missing_field");
        assert_eq!(
            code(
                OrderKind::SimSwap,
                json!({"sim": {"type": "physical", "iccid": "1"}})
            ),
            "invalid_iccid"
        );
        assert_eq!(code(OrderKind::NumberChange, json!({})), "missing_field");
        let r = parse_operation(
            OrderKind::NumberChange,
            &json!({"msisdn": {"mode": "auto"}}),
        );
        assert_eq!(r.expect("valid").msisdn, Some(MsisdnRequest::Auto));
    }

    /// A number change's `msisdn` sent as null is refused as if absent: the caller must
    /// say which number the line gets; null was taken as `auto`, a new random number.
    #[test]
    fn a_null_number_change_target_is_refused() {
        assert_eq!(
            code(OrderKind::NumberChange, json!({"msisdn": null})),
            "missing_field"
        );
    }
}

//! Port-in orders on the API (issue 12): `GET /v1/ports` lists a tenant's open ports,
//! `POST /v1/orders/{id}/cancel` asks to cancel one before its lock point (and
//! `port_reschedule.rs` to move it), and
//! [`port_json`] is the port part every view of such an order shows (its timeline with
//! who caused each transition, the promised and actual times).

use super::AppState;
use super::auth::{Permission, authenticate};
use super::dto::{recorded_ahead, render_order, step_json};
use super::problem::ApiError;
use super::request::{PathParam, json_response, limit_param};
use super::subscriptions::caller_order;
use crate::clock::rfc3339;
use crate::engine::ItemInput;
use crate::engine::machine::port_in::CancelRefused;
use crate::engine::machine::port_order;
use crate::order::{Order, PortIn, Step};
use crate::store::{OnArrival, PortInboxItem, PortItemBody, PortReceived, cancel_item_key};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use std::sync::Arc;

/// Most open ports one `GET /v1/ports` reads.
const MAX_LIST: usize = 1000;

/// The port part of order `o` (its port `p`) as the API shows it (never the credential).
pub fn port_json(o: &Order, p: &PortIn) -> Value {
    let timeline: Vec<Value> = p
        .timeline
        .iter()
        .map(|t| {
            json!({
                "state": t.state.as_str(),
                "actor": t.actor,
                "reason_code": t.reason_code,
                "external_ref": t.external_ref,
                "at": rfc3339(t.at_ms),
            })
        })
        .collect();
    let mut steps = match &p.out {
        Some(out) => json!({"answer": step_json(&out.answer)}),
        None => json!({"submit": step_json(submit_step(o, p))}),
    };
    for (name, s) in [
        ("cancel", p.cancel.as_ref()),
        ("reschedule", p.reschedule.as_ref().map(|r| &r.step)),
        ("activate_number", p.activate.as_ref()),
        ("acknowledge", p.ack.as_ref()),
    ] {
        if let Some(s) = s {
            steps[name] = step_json(s);
        }
    }
    let mut v = json!({
        "state": p.state.as_str(),
        "market": p.market,
        "number": p.number,
        "donor": p.donor,
        "range_holder": p.range_holder,
        "temporary_number": p.temporary,
        "external_ref": p.port_ref,
        "requested_at": p.requested_at_ms.map(rfc3339),
        "credential_expires_at": p.credential_expires_at_ms.map(rfc3339),
        "promised_at": p.due_at_ms.map(rfc3339),
        "lock_at": p.lock_at_ms.map(rfc3339),
        "completed_at": p.completed_at_ms.map(rfc3339),
        "waiting": p.parked.is_some(),
        "steps": steps,
        "timeline": timeline,
    });
    match &p.out {
        // We are the donor: `donor` names the gaining provider, and our answer shows.
        Some(out) => {
            v["direction"] = json!("out");
            v["recipient"] = v["donor"].take();
            if let Some(m) = v.as_object_mut() {
                m.remove("donor");
                m.remove("temporary_number");
                m.remove("credential_expires_at");
            }
            v["respond_by"] = json!(rfc3339(out.respond_by_ms));
            v["decision"] = json!(if out.accepts() { "accept" } else { "reject" });
            v["reject_reason"] = json!(out.reject);
        }
        None => v["direction"] = json!("in"),
    }
    v
}

/// A port-in's submission as the API shows it: `pending` while it waits for the line on
/// its temporary number, with whose call it was recorded (`port_order::submit_with_line`:
/// the engine makes it once the line is up).
fn submit_step<'a>(o: &Order, p: &'a PortIn) -> &'a Step {
    let waits = !matches!(o.hlr, Step::Done { .. })
        && o.status != crate::order::OrderStatus::Compensating
        && p.port_ref.is_none();
    recorded_ahead(&p.submit, waits)
}

/// `GET /v1/ports?state=port_…&limit=N`: the tenant's open port-in orders, oldest
/// first (`state`: only those in that status).
pub async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Read)?;
    let (wanted, limit) = list_query(raw.as_deref().unwrap_or(""))?;
    let orders = state.store.open_ports(&caller.tenant, MAX_LIST).await?;
    let data: Vec<Value> = orders
        .iter()
        .filter(|o| wanted.is_none_or(|w| o.status_name() == w))
        .take(limit)
        .filter_map(|o| {
            let p = o.port.as_ref()?;
            Some(json!({
                "id": o.id,
                "status": o.status_name(),
                "number": p.number,
                "market": p.market,
                "donor": p.donor,
                "temporary_number": p.temporary,
                "external_ref": p.port_ref,
                "promised_at": p.due_at_ms.map(rfc3339),
                "created_at": rfc3339(o.created_at_ms),
                "needs_attention": o.needs_attention,
            }))
        })
        .collect();
    Ok(json_response(StatusCode::OK, &json!({"data": data})))
}

/// The open statuses a port can be listed by (the OpenAPI document lists the same).
pub(crate) const OPEN: [&str; 9] = [
    "port_validating",
    "port_submitted",
    "port_scheduled",
    "port_locked",
    "port_activating",
    "port_out_requested",
    "port_out_accepted",
    "port_out_locked",
    "port_out_deprovisioning",
];

fn list_query(raw: &str) -> Result<(Option<&'static str>, usize), ApiError> {
    let (mut wanted, mut limit) = (None, 100);
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "state" => {
                wanted = Some(OPEN.into_iter().find(|s| *s == v).ok_or_else(|| {
                    ApiError::invalid(
                        "invalid_value",
                        "state",
                        format!("`state` must be one of {}", OPEN.join(", ")),
                    )
                })?);
            }
            "limit" => limit = limit_param(Some(v), limit, MAX_LIST)?,
            _ => {
                return Err(ApiError::invalid(
                    "unknown_parameter",
                    k,
                    format!("unknown query parameter `{k}`; `state` and `limit` are accepted"),
                ));
            }
        }
    }
    Ok((wanted, limit))
}

/// `POST /v1/orders/{id}/cancel`: asks to cancel a port-in before its lock point. `202`
/// once the request is durable (the hub is told and the SIM and any temporary number go
/// back as the order moves to `port_cancelled`); `409 port_locked` past the lock point.
pub async fn cancel(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    id: PathParam,
) -> Result<Response, ApiError> {
    let order = caller_order(&state, &headers, id, Permission::Cancel).await?;
    if order.port.is_none() {
        return Err(ApiError::order_not_cancellable());
    }
    let now = state.clock.now_ms();
    match port_order::cancel_allowed(&order, now) {
        Ok(()) => {}
        Err(CancelRefused::Locked) => return Err(ApiError::port_locked()),
        Err(CancelRefused::Finished) => return Err(ApiError::port_finished()),
    }
    let key = cancel_item_key(&order.id);
    let mut v = queue_item(&state, &order, key, PortItemBody::Cancel, now).await?;
    v["cancel_requested"] = Value::Bool(true);
    Ok(json_response(StatusCode::ACCEPTED, &v))
}

/// Records a channel's request about port-in `order` in the port inbox (durable before
/// the answer; the same `key` twice is one item), waking the order if it was parked;
/// returns the order's view as it stands.
pub(super) async fn queue_item(
    state: &AppState,
    order: &Order,
    key: String,
    body: PortItemBody,
    now: u64,
) -> Result<Value, ApiError> {
    let item = PortInboxItem {
        key,
        order_id: Some(order.id.clone()),
        tenant: Some(order.tenant.clone()),
        received_at_ms: now,
        body,
        applied: false,
    };
    let arrival =
        ItemInput::of(&item.body).map_or(OnArrival::Wake(port_order::wake), ItemInput::on_arrival);
    match state.store.receive_port_item(item, arrival).await? {
        PortReceived::Queued { woken: Some(o) } => state.engine.submit_woken(*o),
        PortReceived::Settled { .. } => state.engine.port_deadline_added(),
        PortReceived::Ended(ended) => state.engine.ended_on_arrival(&ended),
        PortReceived::Queued { woken: None } | PortReceived::Duplicate => {}
    }
    let mut v = render_order(order, None, None);
    v["kind"] = Value::String("activation".into());
    Ok(v)
}

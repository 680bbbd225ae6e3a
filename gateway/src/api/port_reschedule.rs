//! `POST /v1/orders/{id}/reschedule`: a channel moves a scheduled port-in to another day
//! (§1.6 `Scheduled` → `Reschedule`), before its lock point. The day is checked against
//! the market's porting calendar now; the request is recorded in the port's inbox (as a
//! cancel is) before `202`, and the engine asks the hub, which confirms with a new
//! `scheduled` (the order's `port.promised_at` moves, and `port.scheduled` is published)
//! or refuses (the port keeps its date; `port.steps.reschedule` shows why).

use super::AppState;
use super::auth::{Permission, authenticate};
use super::dto::{no_unknown, object, required};
use super::problem::ApiError;
use super::request::{PathParam, json_response, read_json};
use crate::engine::machine::port_reschedule::{self, RescheduleRefused};
use crate::store::{PortItemBody, reschedule_item_key};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;
use std::sync::Arc;

/// The body's one member.
const FIELD: &str = "requested_date";

/// The handler.
pub async fn reschedule(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    id: PathParam,
    body: Body,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Cancel)?;
    let id = id.value()?;
    // The body is checked (media type, size, syntax) before the order is looked up, as
    // on every operation.
    let value = read_json(&state, &headers, body).await?;
    let order = state
        .store
        .get_order(&caller.tenant, &id)
        .await?
        .ok_or_else(ApiError::order_not_found)?;
    let root = object(&value, "")
        .map_err(|_| ApiError::invalid("invalid_type", "", "the body must be a JSON object"))?;
    no_unknown(root, "", &[FIELD])?;
    let day = required(root, FIELD, "")?;
    super::port_in::day_shape(day, FIELD)?;
    let Some(p) = order.port.as_ref().filter(|p| !p.is_out()) else {
        return Err(ApiError::order_not_reschedulable());
    };
    let now = state.clock.now_ms();
    match port_reschedule::allowed(p, now) {
        Ok(()) => {}
        Err(RescheduleRefused::NotScheduled) => return Err(ApiError::port_not_scheduled()),
        Err(RescheduleRefused::Locked) => return Err(ApiError::port_locked_for_reschedule()),
        Err(RescheduleRefused::Finished) => return Err(ApiError::port_finished()),
    }
    let rules = state.config.porting.market(p.market);
    let at = super::port_in::requested_at(&rules, day, now, FIELD)?;
    let key = reschedule_item_key(&order.id, at);
    let body = PortItemBody::Reschedule {
        requested_at_ms: at,
    };
    let mut v = super::ports::queue_item(&state, &order, key, body, now).await?;
    v["reschedule_requested"] = Value::String(crate::clock::rfc3339(at));
    Ok(json_response(StatusCode::ACCEPTED, &v))
}

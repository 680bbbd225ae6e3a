//! `GET /v1/events`: a tenant's public events in commit order, for resellers that pull
//! instead of (or to catch up on) webhooks; `POST /v1/events/{id}/redeliver`.

use super::AppState;
use super::auth::{Permission, authenticate};
use super::problem::ApiError;
use super::request::{PathParam, json_response, limit_param};
use super::webhooks::only_params;
use crate::store::{EventType, Redelivery, parse_event_id};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// Events per page when `limit` is not given, and the most a page may hold.
const LIMIT: (usize, usize) = (100, 1_000);

/// `GET /v1/events?after=CURSOR&type=T&limit=N`: `{"data": [...], "next_cursor"}`. The
/// cursor is the id of the last event of the page; it is `null` only when the page is
/// empty (you are caught up: poll again with the cursor you have). A page never skips an
/// event: an event is visible only with every event committed before it.
pub async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Read)?;
    only_params(&q, &["after", "type", "limit"])?;
    let limit = limit_param(q.get("limit").map(String::as_str), LIMIT.0, LIMIT.1)?;
    let after = match q.get("after") {
        None => 0,
        Some(c) => parse_event_id(c).ok_or_else(|| ApiError::invalid_cursor("after"))?,
    };
    let event_type = match q.get("type") {
        None => None,
        Some(t) => Some(EventType::parse(t).ok_or_else(|| ApiError::unknown_event_type("type"))?),
    };
    let events = state
        .store
        .public_events(&caller.tenant, after, event_type, limit)
        .await?;
    let next = events.last().map(|e| e.id.clone());
    let data: Vec<Value> = events.iter().map(|e| e.wire()).collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({"data": data, "next_cursor": next}),
    ))
}

/// `POST /v1/events/{id}/redeliver`: `202` with the endpoints the event is queued for
/// (same event id; the retry schedule starts over).
pub async fn redeliver(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    id: PathParam,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Webhooks)?;
    let id = id.value()?;
    let not_found = || ApiError::not_found("event_not_found", "event");
    let seq = parse_event_id(&id).ok_or_else(not_found)?;
    let event = state
        .store
        .public_event(&caller.tenant, seq)
        .await?
        .ok_or_else(not_found)?;
    let now = state.clock.now_ms();
    match state
        .store
        .redeliver_event(&caller.tenant, seq, now)
        .await?
    {
        Redelivery::Queued(endpoints) => Ok(json_response(
            StatusCode::ACCEPTED,
            &json!({"event": event.id, "endpoints": endpoints}),
        )),
        Redelivery::NoEvent => Err(not_found()),
        Redelivery::NoEndpoint => Err(ApiError::no_matching_endpoint(event.event_type)),
    }
}

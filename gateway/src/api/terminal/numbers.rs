//! The store terminal's number page: the tenant's free numbers a page at a time, golden
//! ones marked (and selectable only where the tenant allows it, `golden_in_store`), and
//! the hold a clerk takes on the number picked while the sale is finished, released if
//! the sale is abandoned (or lapsing after 15 minutes).

use super::AppState;
use super::session::signed_in;
use crate::api::numbers;
use crate::api::problem::ApiError;
use crate::api::request::{PathParam, idempotency_key, json_response, read_json};
use crate::terminal::records::{Recent, holds_key};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// Numbers per page.
const PAGE: usize = 24;

/// Whether the tenant lets clerks pick golden numbers.
async fn golden_allowed(
    state: &AppState,
    tenant: &str,
) -> Result<(bool, Vec<crate::numbers::GoldenRule>), ApiError> {
    let t = state
        .store
        .tenant(tenant)
        .await?
        .ok_or_else(ApiError::terminal_not_paired)?;
    Ok((t.golden_in_store, t.golden_rules))
}

/// `GET /terminal/api/numbers?after=…`: a page of free numbers in number order.
pub(super) async fn page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let s = signed_in(&state, &headers, false).await?;
    let after = q.get("after").map(String::as_str).filter(|a| !a.is_empty());
    if after.is_some_and(|a| a.len() > 15 || !a.bytes().all(|b| b.is_ascii_digit())) {
        return Err(ApiError::invalid(
            "invalid_value",
            "after",
            "`after` must be the last number of the previous page (digits only)",
        ));
    }
    let (golden_ok, _) = golden_allowed(&state, &s.device.tenant).await?;
    let page = state
        .store
        .free_numbers(&s.device.tenant, after, PAGE)
        .await?;
    let next = (page.len() == PAGE)
        .then(|| page.last().map(|(m, _)| m.as_str().to_owned()))
        .flatten();
    let numbers: Vec<Value> = page
        .iter()
        .map(|(m, class)| {
            let golden = *class == crate::store::NumberClass::Golden;
            json!({"msisdn": m, "golden": golden, "selectable": golden_ok || !golden})
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({"numbers": numbers, "next": next, "golden_selectable": golden_ok}),
    ))
}

/// `POST /terminal/api/holds` `{"msisdn"}` with `Idempotency-Key`: holds the number for
/// this sale (15 minutes).
pub(super) async fn hold(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let s = signed_in(&state, &headers, true).await?;
    let key = idempotency_key(&headers)?;
    let key = format!(
        "terminal/{}/{}/hold/{key}",
        s.device.store, s.device.terminal
    );
    let value = read_json(&state, &headers, body).await?;
    let m = crate::api::dto::object(&value, "body")?;
    crate::api::dto::no_unknown(m, "", &["msisdn"])?;
    let msisdn = m.get("msisdn").and_then(Value::as_str).ok_or_else(|| {
        ApiError::invalid(
            "missing_field",
            "msisdn",
            "`msisdn` is required: the number picked",
        )
    })?;
    let (golden_ok, rules) = golden_allowed(&state, &s.device.tenant).await?;
    if !golden_ok && crate::numbers::is_golden(&rules, msisdn) {
        return Err(ApiError::golden_number_not_offered());
    }
    let (resp, id) =
        numbers::hold(&state, &s.device.tenant, key, &json!({"msisdn": msisdn})).await?;
    // Listed for this terminal: only it may release the hold. A crash before this leaves
    // a hold no terminal can release; it lapses after its 15 minutes.
    let key = holds_key(&s.device.store, &s.device.terminal);
    super::remember(&state, &s, &key, &id, "terminal.hold").await?;
    Ok(resp)
}

/// `DELETE /terminal/api/holds/{id}`: the clerk abandoned the sale; the number goes back.
pub(super) async fn release(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    id: PathParam,
) -> Result<Response, ApiError> {
    let s = signed_in(&state, &headers, true).await?;
    let id = id.value()?;
    let now = state.clock.now_ms();
    let ours: Option<super::Stored<Recent>> = super::load(
        &state,
        &s.device.tenant,
        &holds_key(&s.device.store, &s.device.terminal),
    )
    .await?;
    if !ours.is_some_and(|h| h.value.contains(&id)) {
        return Err(ApiError::hold_not_found());
    }
    if state
        .store
        .release_reservation(&s.device.tenant, &id, now)
        .await?
    {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::hold_not_found())
    }
}

//! Number reservations for online checkout (`/v1/numbers/reservations`) and the tenant's
//! inventory counts (`/v1/inventory`).

use super::AppState;
use super::auth::{Permission, authenticate};
use super::problem::ApiError;
use super::request::{PathParam, body_fingerprint, idempotency_key, json_response, read_json};
use crate::clock::rfc3339;
use crate::crypto::{random_id, random_u64};
use crate::store::{NewReservation, Rejection, Reservation, ReservationOutcome};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use ring::rand::SystemRandom;
use serde_json::{Value, json};
use sim_profiles::Msisdn;
use std::sync::Arc;

const DEFAULT_TTL_SECS: u64 = 900;
const MAX_TTL_SECS: u64 = 86_400;

fn parse(v: &Value) -> Result<(Option<Msisdn>, u64), ApiError> {
    let m = v
        .as_object()
        .ok_or_else(|| ApiError::invalid("invalid_type", "", "the body must be a JSON object"))?;
    if let Some(k) = m
        .keys()
        .find(|k| !["msisdn", "ttl_seconds"].contains(&k.as_str()))
    {
        let k: String = k.chars().take(64).collect();
        return Err(ApiError::invalid(
            "unknown_field",
            &k,
            format!("unknown field `{k}`; allowed: msisdn, ttl_seconds"),
        ));
    }
    let msisdn = match m.get("msisdn") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.parse::<Msisdn>().map_err(|e| {
            ApiError::invalid(
                "invalid_msisdn",
                "msisdn",
                format!("`msisdn` is not a valid E.164 number: {e}"),
            )
        })?),
        Some(_) => {
            return Err(ApiError::invalid(
                "invalid_type",
                "msisdn",
                "`msisdn` must be a string",
            ));
        }
    };
    let ttl = match m.get("ttl_seconds") {
        None | Some(Value::Null) => DEFAULT_TTL_SECS,
        Some(v) => v
            .as_u64()
            .filter(|t| (60..=MAX_TTL_SECS).contains(t))
            .ok_or_else(|| {
                ApiError::invalid(
                    "invalid_value",
                    "ttl_seconds",
                    format!("`ttl_seconds` must be an integer from 60 to {MAX_TTL_SECS}"),
                )
            })?,
    };
    Ok((msisdn, ttl))
}

/// A refusal of a reservation. The number is the body's top-level `msisdn` here, not the
/// activation body's `msisdn.msisdn` the shared mapping names.
fn refusal(r: Rejection) -> ApiError {
    let about_the_number = matches!(
        r,
        Rejection::NumberNotInPool | Rejection::NumberNotAvailable | Rejection::NumberPoolExhausted
    );
    let e = ApiError::rejection(r);
    if about_the_number { e.at("msisdn") } else { e }
}

pub(super) fn render(r: &Reservation, now_ms: u64) -> Value {
    let status = if r.order.is_some() {
        "used"
    } else if r.expires_at_ms <= now_ms {
        "expired"
    } else {
        "held"
    };
    let mut v = json!({
        "id": r.id,
        "object": "number_reservation",
        "status": status,
        "msisdn": r.msisdn,
        "created_at": rfc3339(r.created_at_ms),
        "expires_at": rfc3339(r.expires_at_ms),
    });
    if let Some(o) = &r.order {
        v["activation_id"] = Value::String(o.clone());
    }
    v
}

/// Holds a number (chosen or any free one) for `ttl_seconds` while a customer pays.
pub async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Reserve)?;
    let key = idempotency_key(&headers)?;
    let value = read_json(&state, &headers, body).await?;
    hold(&state, &caller.tenant, key, &value)
        .await
        .map(|(r, _)| r)
}

/// A hold for `tenant` from the body of `POST /v1/numbers/reservations` (the API and the
/// store terminal), under Idempotency-Key `key`: the answer and the hold's id.
pub(super) async fn hold(
    state: &AppState,
    tenant: &str,
    key: String,
    value: &Value,
) -> Result<(Response, String), ApiError> {
    let (msisdn, ttl) = parse(value)?;
    let rng = SystemRandom::new();
    let now_ms = state.clock.now_ms();
    let outcome = state
        .store
        .create_reservation(NewReservation {
            tenant: tenant.to_owned(),
            idempotency_key: key,
            body_hash: body_fingerprint(&state.keys, value)?,
            id: random_id(&rng, "nres_").map_err(|_| ApiError::internal())?,
            msisdn,
            ttl_ms: ttl * 1000,
            now_ms,
            random: random_u64(&rng),
        })
        .await?;
    match outcome {
        ReservationOutcome::Created(r) => {
            state.engine.pool_deadline_added();
            Ok((
                json_response(StatusCode::CREATED, &render(&r, now_ms)),
                r.id,
            ))
        }
        ReservationOutcome::Replayed(r) => Ok((
            super::request::replayed(json_response(StatusCode::CREATED, &render(&r, now_ms))),
            r.id,
        )),
        ReservationOutcome::KeyReused => Err(ApiError::idempotency_key_reused()),
        ReservationOutcome::Rejected(r) => Err(refusal(r)),
    }
}

/// Reads a reservation of the caller's tenant.
pub async fn get(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    id: PathParam,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Read)?;
    let id = id.value()?;
    let r = state
        .store
        .get_reservation(&caller.tenant, &id)
        .await?
        .ok_or_else(ApiError::reservation_missing)?;
    Ok(json_response(
        StatusCode::OK,
        &render(&r, state.clock.now_ms()),
    ))
}

/// Inventory counts of the caller's tenant.
pub async fn inventory(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Read)?;
    let counts = state.store.inventory_counts(&caller.tenant).await?;
    let body = serde_json::to_value(&counts).map_err(|_| ApiError::internal())?;
    let breakdown = state.store.inventory_breakdown(&caller.tenant).await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"tenant": caller.tenant, "counts": body, "pools": breakdown.pools, "batches": breakdown.batches}),
    ))
}

//! `POST /v1/activations` and `GET /v1/activations/{id}`.

use super::AppState;
use super::auth::authenticate;
use super::dto::{MsisdnRequest, SimRequest, parse_activation, render_order};
use super::problem::ApiError;
use super::request::{canonical_hash, idempotency_key, json_response, read_json, replayed};
use crate::crypto::random_id;
use crate::store::{CreateOutcome, NewActivation, NumberChoice};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use ring::rand::SystemRandom;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

/// `202` with the order and its `Location`.
fn accepted(order: &crate::order::Order) -> Response {
    let mut r = json_response(StatusCode::ACCEPTED, &render_order(order));
    if let Ok(loc) = HeaderValue::from_str(&format!("/v1/activations/{}", order.id)) {
        r.headers_mut().insert(header::LOCATION, loc);
    }
    r
}

/// Creates an activation order. Answers 202 once the order and its reservations are durable.
pub async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let started = tokio::time::Instant::now();
    let result = create_inner(&state, &headers, body).await;
    state
        .metrics
        .activation_post_latency
        .observe(started.elapsed());
    if result.as_ref().is_err_and(|e| {
        matches!(
            e.code(),
            "sim_not_available"
                | "unknown_iccid"
                | "sim_not_owned"
                | "msisdn_not_available"
                | "number_pool_exhausted"
        )
    }) {
        state.metrics.orders_rejected.fetch_add(1, Relaxed);
    }
    result
}

async fn create_inner(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let tenant = authenticate(state, headers)?;
    let key = idempotency_key(headers)?;
    let value = read_json(state, headers, body).await?;
    let req = parse_activation(&value)?;

    let iccid = match req.sim {
        SimRequest::Physical(i) => i,
        SimRequest::Esim(_) => {
            return Err(ApiError::unsupported(
                "sim_type_unsupported",
                "sim.type",
                "eSIM activations are not enabled on this gateway yet; use a physical SIM",
            ));
        }
    };
    let number = match req.msisdn {
        MsisdnRequest::Auto => NumberChoice::Auto,
        MsisdnRequest::Choose(m) => NumberChoice::Choose(m),
        MsisdnRequest::Reservation(id) => NumberChoice::Reservation(id),
        MsisdnRequest::PortIn => {
            return Err(ApiError::unsupported(
                "msisdn_mode_unsupported",
                "msisdn.mode",
                "number port-in is not enabled on this gateway yet; use mode `auto` or `choose`",
            ));
        }
    };
    let body_hash = canonical_hash(&value)?;
    let order_id = random_id(&SystemRandom::new(), "act_").map_err(|_| ApiError::internal())?;
    let subscriber = match &req.subscriber {
        Some(s) => {
            let plain =
                zeroize::Zeroizing::new(serde_json::to_vec(s).map_err(|_| ApiError::internal())?);
            Some(
                state
                    .keys
                    .seal(&crate::order::subscriber_context(&order_id), &plain)
                    .map_err(|_| ApiError::internal())?,
            )
        }
        None => None,
    };
    let now_ms = state.clock.now_ms();
    let ttl_ms = state.config.engine.idempotency_ttl().as_millis() as u64;
    let outcome = state
        .store
        .create_activation(NewActivation {
            tenant: tenant.0,
            idempotency_key: key,
            body_hash,
            order_id,
            iccid,
            number,
            product: req.product,
            channel: req.channel,
            subscriber,
            now_ms,
            random: crate::crypto::random_u64(&SystemRandom::new()),
            idempotency_cutoff_ms: now_ms.saturating_sub(ttl_ms),
        })
        .await?;
    match outcome {
        CreateOutcome::Created(order) => {
            state.metrics.orders_created.fetch_add(1, Relaxed);
            let r = accepted(&order);
            state.engine.submit(order);
            Ok(r)
        }
        CreateOutcome::Replayed(order) => {
            state.metrics.orders_replayed.fetch_add(1, Relaxed);
            Ok(replayed(accepted(&order)))
        }
        CreateOutcome::KeyReused => Err(ApiError::idempotency_key_reused()),
        CreateOutcome::Rejected(r) => Err(ApiError::rejection(r)),
    }
}

/// Reads an order of the caller's tenant.
pub async fn get(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let tenant = authenticate(&state, &headers)?;
    let order = state
        .store
        .get_order(&tenant.0, &id)?
        .ok_or_else(ApiError::activation_not_found)?;
    Ok(json_response(StatusCode::OK, &render_order(&order)))
}

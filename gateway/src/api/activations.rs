//! `POST /v1/activations` and `GET /v1/activations/{id}`.

use super::AppState;
use super::auth::authenticate;
use super::dto::{MsisdnRequest, SimRequest, parse_activation, render_order};
use super::problem::ApiError;
use crate::crypto::{hex, random_id, sha256};
use crate::store::{CreateOutcome, NewActivation, NumberChoice, Rejection};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ring::rand::SystemRandom;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let v = headers
        .get("idempotency-key")
        .ok_or_else(ApiError::idempotency_key_missing)?;
    let s = v
        .to_str()
        .map_err(|_| ApiError::idempotency_key_invalid())?;
    if s.is_empty() || s.len() > 255 || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::idempotency_key_invalid());
    }
    Ok(s.to_owned())
}

fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    let mut r = (status, serde_json::to_vec(body).unwrap_or_default()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
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
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
        let mime = ct.split(';').next().unwrap_or_default().trim();
        if mime != "application/json" && !mime.ends_with("+json") {
            return Err(ApiError::unsupported_media_type());
        }
    }
    let limit = state.config.api.max_body_bytes;
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::body_too_large(limit))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::malformed_json(e.line(), e.column()))?;
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
        MsisdnRequest::PortIn => {
            return Err(ApiError::unsupported(
                "msisdn_mode_unsupported",
                "msisdn.mode",
                "number port-in is not enabled on this gateway yet; use mode `auto` or `choose`",
            ));
        }
    };
    // serde_json's default map is ordered, so re-serialising canonicalises key order and
    // whitespace: the same logical body always hashes the same.
    let canonical = serde_json::to_vec(&value).map_err(|_| ApiError::internal())?;
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
            body_hash: hex(&sha256(&canonical)),
            order_id,
            iccid,
            number,
            product: req.product,
            channel: req.channel,
            subscriber,
            now_ms,
            idempotency_cutoff_ms: now_ms.saturating_sub(ttl_ms),
        })
        .await?;
    match outcome {
        CreateOutcome::Created(order) => {
            state.metrics.orders_created.fetch_add(1, Relaxed);
            let mut r = json_response(StatusCode::ACCEPTED, &render_order(&order));
            if let Ok(loc) = HeaderValue::from_str(&format!("/v1/activations/{}", order.id)) {
                r.headers_mut().insert(header::LOCATION, loc);
            }
            state.engine.submit(order);
            Ok(r)
        }
        CreateOutcome::Replayed(order) => {
            state.metrics.orders_replayed.fetch_add(1, Relaxed);
            let mut r = json_response(StatusCode::ACCEPTED, &render_order(&order));
            if let Ok(loc) = HeaderValue::from_str(&format!("/v1/activations/{}", order.id)) {
                r.headers_mut().insert(header::LOCATION, loc);
            }
            r.headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            Ok(r)
        }
        CreateOutcome::KeyReused => Err(ApiError::idempotency_key_reused()),
        CreateOutcome::Rejected(r) => Err(match r {
            Rejection::UnknownIccid => ApiError::unknown_iccid(),
            Rejection::SimOfOtherTenant => ApiError::sim_not_owned(),
            Rejection::SimNotAvailable { state } => ApiError::sim_not_available(state),
            Rejection::UnknownProduct => ApiError::unknown_product(),
            Rejection::NumberNotInPool => ApiError::msisdn_not_in_pool(),
            Rejection::NumberNotAvailable => ApiError::msisdn_not_available(),
            Rejection::NumberPoolExhausted => ApiError::number_pool_exhausted(),
            Rejection::UnknownTenant => ApiError::unauthorized(),
        }),
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

//! `/v1/webhook-endpoints`: create (the secret is shown once), list, read, delete, rotate
//! the signing secret, enable again after the retry schedule gave up, and the delivery
//! log of an endpoint.

use super::AppState;
use super::auth::{Permission, authenticate};
use super::dto::{no_unknown, object};
use super::problem::ApiError;
use super::request::{PathParam, json_response, limit_param, read_json};
use crate::clock::rfc3339;
use crate::crypto::random_id;
use crate::store::{
    Delivery, EndpointSecret, EventType, WebhookEndpoint, event_id, parse_event_id, secret_context,
};
use crate::webhooks::signing::{SECRET_LEN, format_secret};
use crate::webhooks::{UrlError, UrlPolicy, url_policy};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ring::rand::SystemRandom;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// How long a replaced secret keeps signing beside its successor.
pub const ROTATION_OVERLAP_MS: u64 = 24 * 3_600_000;

/// The endpoint as the API shows it (never a secret).
fn endpoint_json(e: &WebhookEndpoint) -> Value {
    let mut v = json!({
        "id": e.id,
        "object": "webhook_endpoint",
        "url": e.url,
        "event_types": e.event_types.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        "status": if e.disabled.is_some() { "disabled" } else { "enabled" },
        "created_at": rfc3339(e.created_at_ms),
        "secrets": e.secrets.iter().map(|s| json!({
            "created_at": rfc3339(s.created_at_ms),
            "expires_at": s.expires_at_ms.map(rfc3339),
        })).collect::<Vec<_>>(),
    });
    if let Some(d) = &e.disabled {
        v["disabled"] = json!({"reason": d.reason, "at": rfc3339(d.at_ms)});
    }
    v
}

fn policy(state: &AppState) -> UrlPolicy {
    UrlPolicy {
        allow_private: state.config.webhooks.allow_private,
        sandbox: state.config.webhooks.sandbox,
    }
}

/// A parsed `POST /v1/webhook-endpoints` body.
#[derive(Debug)]
struct NewEndpoint {
    url: String,
    event_types: Vec<EventType>,
}

fn parse_new(body: &Value, policy: UrlPolicy) -> Result<NewEndpoint, ApiError> {
    let root: &Map<String, Value> = object(body, "")
        .map_err(|_| ApiError::invalid("invalid_type", "", "the body must be a JSON object"))?;
    no_unknown(root, "", &["url", "event_types"])?;
    let url = match root.get("url") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => {
            return Err(ApiError::invalid(
                "missing_field",
                "url",
                "`url` is required",
            ));
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "invalid_type",
                "url",
                "`url` must be a string",
            ));
        }
    };
    url_policy::check_url(&url, policy).map_err(|e| match e {
        UrlError::Invalid(m) => ApiError::webhook_url_invalid(format!("`url`: {m}")),
        f @ UrlError::Forbidden { .. } => ApiError::webhook_url_forbidden(format!("`url`: {f}")),
    })?;
    let mut event_types = Vec::new();
    match root.get("event_types") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let field = format!("event_types[{i}]");
                let s = item.as_str().ok_or_else(|| {
                    ApiError::invalid(
                        "invalid_type",
                        &field,
                        format!("`{field}` must be a string"),
                    )
                })?;
                let t = EventType::parse(s).ok_or_else(|| ApiError::unknown_event_type(&field))?;
                if !event_types.contains(&t) {
                    event_types.push(t);
                }
            }
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "invalid_type",
                "event_types",
                "`event_types` must be an array of event type names (empty or absent: all)",
            ));
        }
    }
    Ok(NewEndpoint { url, event_types })
}

/// A fresh secret: its clear text (shown once) and its sealed record.
fn new_secret(
    state: &AppState,
    endpoint_id: &str,
    now_ms: u64,
) -> Result<(String, EndpointSecret), ApiError> {
    let mut key = zeroize::Zeroizing::new([0u8; SECRET_LEN]);
    state
        .keys
        .random(key.as_mut())
        .map_err(|_| ApiError::internal())?;
    let sealed = state
        .keys
        .seal(&secret_context(endpoint_id), key.as_ref())
        .map_err(|_| ApiError::internal())?;
    Ok((
        format_secret(key.as_ref()),
        EndpointSecret {
            sealed,
            created_at_ms: now_ms,
            expires_at_ms: None,
        },
    ))
}

/// `POST /v1/webhook-endpoints`: `201` with the endpoint and its secret (shown only here).
pub async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Webhooks)?;
    let value = read_json(&state, &headers, body).await?;
    let new = parse_new(&value, policy(&state))?;
    let id = random_id(&SystemRandom::new(), "we_").map_err(|_| ApiError::internal())?;
    let now_ms = state.clock.now_ms();
    let (secret, sealed) = new_secret(&state, &id, now_ms)?;
    let endpoint = WebhookEndpoint {
        id,
        tenant: caller.tenant,
        url: new.url,
        event_types: new.event_types,
        secrets: vec![sealed],
        disabled: None,
        created_at_ms: now_ms,
    };
    if !state
        .store
        .create_webhook_endpoint(endpoint.clone())
        .await?
    {
        return Err(ApiError::too_many_webhook_endpoints());
    }
    let mut v = endpoint_json(&endpoint);
    v["secret"] = json!(secret);
    Ok(json_response(StatusCode::CREATED, &v))
}

/// `GET /v1/webhook-endpoints`.
pub async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Read)?;
    let data: Vec<Value> = state
        .store
        .webhook_endpoints(&caller.tenant)
        .await?
        .iter()
        .map(endpoint_json)
        .collect();
    Ok(json_response(StatusCode::OK, &json!({ "data": data })))
}

fn not_found() -> ApiError {
    ApiError::not_found("webhook_endpoint_not_found", "webhook endpoint")
}

/// `GET /v1/webhook-endpoints/{id}`.
pub async fn get(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    id: PathParam,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Read)?;
    let id = id.value()?;
    let e = state
        .store
        .webhook_endpoint(&caller.tenant, &id)
        .await?
        .ok_or_else(not_found)?;
    Ok(json_response(StatusCode::OK, &endpoint_json(&e)))
}

/// `DELETE /v1/webhook-endpoints/{id}`: `204`; what was queued for it is dropped.
pub async fn delete(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    id: PathParam,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Webhooks)?;
    let id = id.value()?;
    let now = state.clock.now_ms();
    if !state
        .store
        .delete_webhook_endpoint(&caller.tenant, &id, now)
        .await?
    {
        return Err(not_found());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /v1/webhook-endpoints/{id}/rotate-secret`: a new secret (shown only here); the
/// old one keeps signing beside it for 24 hours.
pub async fn rotate(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    id: PathParam,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Webhooks)?;
    let id = id.value()?;
    if state
        .store
        .webhook_endpoint(&caller.tenant, &id)
        .await?
        .is_none()
    {
        return Err(not_found());
    }
    let now_ms = state.clock.now_ms();
    let (secret, sealed) = new_secret(&state, &id, now_ms)?;
    let e = state
        .store
        .rotate_webhook_secret(&caller.tenant, &id, sealed, now_ms + ROTATION_OVERLAP_MS)
        .await?
        .ok_or_else(not_found)?;
    let mut v = endpoint_json(&e);
    v["secret"] = json!(secret);
    Ok(json_response(StatusCode::OK, &v))
}

/// `POST /v1/webhook-endpoints/{id}/enable`: an endpoint disabled after its retry
/// schedule ran out takes new events again (an enabled one is answered unchanged). The
/// events published meanwhile are not queued again: `GET /v1/events` lists them and
/// `POST /v1/events/{id}/redeliver` sends one.
pub async fn enable(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    id: PathParam,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Webhooks)?;
    let id = id.value()?;
    let now_ms = state.clock.now_ms();
    let e = state
        .store
        .enable_webhook_endpoint(&caller.tenant, &id, now_ms)
        .await?
        .ok_or_else(not_found)?;
    Ok(json_response(StatusCode::OK, &endpoint_json(&e)))
}

fn delivery_json(d: &Delivery) -> Value {
    let last = d.log.last();
    json!({
        "event_id": d.event_id,
        "event_type": d.event_type.as_str(),
        "status": d.status.as_str(),
        "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at_ms.map(rfc3339),
        "last_status": last.and_then(|a| a.http_status),
        "last_latency_ms": last.map(|a| a.latency_ms),
        "last_error": last.and_then(|a| a.error.clone()),
        "created_at": rfc3339(d.created_at_ms),
        "updated_at": rfc3339(d.updated_at_ms),
        "log": d.log.iter().map(|a| json!({
            "at": rfc3339(a.at_ms),
            "http_status": a.http_status,
            "latency_ms": a.latency_ms,
            "error": a.error,
            "response": a.response,
        })).collect::<Vec<_>>(),
    })
}

/// Refuses query parameters not in `allowed`.
pub fn only_params(q: &HashMap<String, String>, allowed: &[&str]) -> Result<(), ApiError> {
    match q.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(ApiError::unknown_parameter(k, allowed)),
        None => Ok(()),
    }
}

/// `GET /v1/webhook-endpoints/{id}/deliveries?limit=&cursor=`: newest event first, each
/// with its attempts (status, latency, error); `next_cursor` continues with older ones.
pub async fn deliveries(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    id: PathParam,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Read)?;
    let id = id.value()?;
    only_params(&q, &["limit", "cursor"])?;
    let limit = limit_param(q.get("limit").map(String::as_str), 50, 500)?;
    let before = match q.get("cursor") {
        None => None,
        Some(c) => Some(parse_event_id(c).ok_or_else(|| ApiError::invalid_cursor("cursor"))?),
    };
    let list = state
        .store
        .webhook_deliveries(&caller.tenant, &id, before, limit)
        .await?
        .ok_or_else(not_found)?;
    let next = (list.len() == limit)
        .then(|| list.last().map(|d| event_id(d.event_seq)))
        .flatten();
    let data: Vec<Value> = list.iter().map(delivery_json).collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({"data": data, "next_cursor": next}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(body: Value) -> &'static str {
        parse_new(&body, UrlPolicy::default())
            .err()
            .map_or("ok", |e| e.code())
    }

    #[test]
    fn endpoint_bodies_are_checked_field_by_field() {
        assert_eq!(code(json!({"url": "https://example.com/h"})), "ok");
        assert_eq!(
            code(
                json!({"url": "https://example.com/h", "event_types": ["order.active", "esim.error"]})
            ),
            "ok"
        );
        assert_eq!(code(json!([])), "invalid_type");
        assert_eq!(code(json!({})), "missing_field");
        assert_eq!(code(json!({"url": 5})), "invalid_type");
        assert_eq!(
            code(json!({"url": "https://e.com", "x": 1})),
            "unknown_field"
        );
        assert_eq!(code(json!({"url": "ftp://e.com"})), "webhook_url_invalid");
        assert_eq!(
            code(json!({"url": "https://127.0.0.1/"})),
            "webhook_url_forbidden"
        );
        assert_eq!(
            code(json!({"url": "http://127.0.0.1:9/"})),
            "webhook_url_invalid"
        );
        assert_eq!(
            code(json!({"url": "https://e.com", "event_types": ["order.nope"]})),
            "unknown_event_type"
        );
        assert_eq!(
            code(json!({"url": "https://e.com", "event_types": "order.active"})),
            "invalid_type"
        );
        assert_eq!(
            code(json!({"url": "https://e.com", "event_types": [1]})),
            "invalid_type"
        );
    }

    #[test]
    fn unknown_event_type_lists_every_valid_type() {
        let e = parse_new(
            &json!({"url": "https://e.com", "event_types": ["x"]}),
            UrlPolicy::default(),
        )
        .expect_err("refused");
        let shown = format!("{e:?}");
        for t in EventType::ALL {
            assert!(shown.contains(t.as_str()), "{shown} lacks {}", t.as_str());
        }
    }

    #[test]
    fn limits_are_integers_in_range() {
        assert_eq!(limit_param(None, 50, 500).ok(), Some(50));
        assert_eq!(limit_param(Some("500"), 50, 500).ok(), Some(500));
        for bad in ["0", "501", "-1", "1.5", "", "9999999999999"] {
            assert!(limit_param(Some(bad), 50, 500).is_err(), "{bad}");
        }
    }
}

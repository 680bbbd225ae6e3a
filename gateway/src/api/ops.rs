//! Operations endpoints: liveness and readiness on the API, Prometheus metrics on the
//! metrics listener.

use super::AppState;
use crate::metrics::exposition::{self, Format};
use crate::metrics::{inventory, postgres};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

/// Liveness: the process answers.
pub async fn healthz() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"status":"ok"}"#,
    )
        .into_response()
}

/// Readiness: start-up (order resumption) finished and the store answers reads. A full
/// backlog keeps `200` (reads and order lookups are still served; only new activations get
/// `503 backlog_full`) and says so in `accepting_orders`. Only totals appear here: this
/// endpoint is open, so nothing names a tenant.
pub async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let store_ok = state.store.meta("schema_version").await.is_ok();
    let ready = state.ready.load(Relaxed) && store_ok;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let backlog = state.metrics.backlog.snapshot();
    let limit = state.config.admission.max_backlog;
    let body = serde_json::json!({
        "status": if ready { "ready" } else { "not_ready" },
        "store": if store_ok { "ok" } else { "unavailable" },
        "orders_inflight": state.engine.running(),
        "backlog": backlog.overall,
        "backlog_limit": limit,
        "accepting_orders": ready && backlog.overall < limit,
        "completion_rate_per_s": backlog.completion_rate,
        "projected_wait_seconds": backlog.projected_wait_s(),
    });
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// The metrics page: process metrics, then per-tenant inventory gauges read from the
/// store's counters and the backend's pool and sequencer gauges (PostgreSQL), as OpenMetrics text when the `Accept` header prefers it and the
/// Prometheus text format 0.0.4 otherwise (`metrics/exposition.rs` says why).
pub async fn metrics(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let format = Format::negotiate(accept);
    let mut families = state.metrics.families();
    families.extend(inventory::families(&*state.store).await);
    let backend = state.store.backend_status().await;
    families.extend(postgres::backend_families(backend.as_ref()));
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, format.content_type())],
        exposition::encode(format, families),
    )
        .into_response()
}

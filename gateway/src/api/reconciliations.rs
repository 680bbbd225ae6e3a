//! `POST /v1/reconciliations`: the caller's tenant compared with the southbound peers now,
//! answered with the report `simgw reconcile --json` writes. Operator keys only; one
//! reconciliation at a time per process (a second is `409 reconciliation_running`). It
//! reads the store and queries the peers and never writes: repairs are offline only.

use super::AppState;
use super::auth::{Permission, authenticate};
use super::problem::ApiError;
use super::request::json_response;
use crate::reconcile::ReconcileError;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::sync::Arc;

/// Runs a reconciliation of the caller's tenant: `201` with the report.
pub async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Reconcile)?;
    let run = state
        .reconciler
        .run(Some(&caller.tenant), state.clock.now_ms())
        .await
        .map_err(|e| match e {
            ReconcileError::Busy => ApiError::reconciliation_running(),
            ReconcileError::Store(e) => e.into(),
            ReconcileError::Random => ApiError::internal(),
        })?;
    let body = serde_json::to_value(&run.report).map_err(|_| ApiError::internal())?;
    Ok(json_response(StatusCode::CREATED, &body))
}

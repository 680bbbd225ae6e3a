//! The problem of `POST /v1/reconciliations` (a child module, so it builds on the private
//! constructor like every other problem).

use super::ApiError;
use axum::http::StatusCode;

impl ApiError {
    /// 409: a reconciliation is running already (one at a time per gateway process).
    pub fn reconciliation_running() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "reconciliation_running",
            "A reconciliation is running",
            "this gateway runs one reconciliation at a time and one is running now; retry when it has answered".to_owned(),
        )
    }
}

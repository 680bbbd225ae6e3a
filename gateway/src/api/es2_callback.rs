//! The ES2+ notification receiver: `POST /gsma/rsp2/es2plus/handleDownloadProgressInfo`,
//! served on its own mutual-TLS listener that admits only the SM-DP+'s certificate.
//!
//! Lenient where the field is (SGP.22 spelling variants, string point ids, `F`-padded
//! ICCIDs, unknown members, vendor points), strict where it matters: the raw body is
//! recorded durably before the 204, and a profile that is not an order of a tenant this
//! SM-DP+ serves changes nothing. Only an unparseable body gets 400, with no state change.

use super::AppState;
use super::problem::ApiError;
use adapters::es2plus::{
    ADMIN_PROTOCOL_HEADER, ADMIN_PROTOCOL_VERSION, ExecutionStatus, decode_notification, path,
};
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

/// Largest notification body accepted.
const MAX_BODY: usize = 64 * 1024;

/// Every route of the callback listener: the notification, and this listener's own
/// OpenAPI document (the API's does not describe it). [`router`] mounts exactly these, and
/// a test checks them against that document both ways.
pub(crate) fn routes() -> Vec<super::Route> {
    vec![
        super::post_at(path::HANDLE_DOWNLOAD_PROGRESS_INFO, handle),
        super::get_at("/openapi.json", super::openapi::callback_document),
    ]
}

/// The router of the callback listener.
pub fn router(state: Arc<AppState>) -> Router {
    routes()
        .into_iter()
        .fold(Router::new(), |r, (_, path, handler)| {
            r.route(path, handler)
        })
        .with_state(state)
}

/// Adds our `X-Admin-Protocol` (every ES2+ answer carries it, the 204 included).
fn with_admin_protocol(mut r: Response) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!("gsma/rsp/{ADMIN_PROTOCOL_VERSION}")) {
        r.headers_mut().insert(ADMIN_PROTOCOL_HEADER, v);
    }
    r
}

fn empty(status: StatusCode) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = status;
    with_admin_protocol(r)
}

fn bad_request(detail: String) -> Response {
    with_admin_protocol(ApiError::invalid_notification(detail).into_response())
}

/// Records a HandleDownloadProgressInfo and answers 204 once it is durable.
async fn handle(State(state): State<Arc<AppState>>, body: Body) -> Response {
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        state
            .metrics
            .es2_notifications_rejected
            .fetch_add(1, Relaxed);
        return bad_request(format!(
            "the body is larger than {MAX_BODY} bytes or was cut off"
        ));
    };
    let info = match decode_notification(&bytes) {
        Ok(i) => i,
        Err(e) => {
            state
                .metrics
                .es2_notifications_rejected
                .fetch_add(1, Relaxed);
            return bad_request(format!(
                "not a HandleDownloadProgressInfo (SGP.22 §5.3.5): {e}; nothing was recorded"
            ));
        }
    };
    let status = &info.point_status;
    let success = match status.status {
        ExecutionStatus::ExecutedSuccess | ExecutionStatus::ExecutedWithWarning => Some(true),
        ExecutionStatus::Failed => Some(false),
        ExecutionStatus::Expired | ExecutionStatus::Unknown(_) => None,
    };
    let n = crate::store::NotificationIn {
        iccid: info.iccid.clone(),
        point: info.point.id(),
        status: status.status.as_str().to_owned(),
        success,
        code: status
            .status_code_data
            .as_ref()
            .map(|c| format!("{}/{}", c.subject_code, c.reason_code)),
        timestamp: info.timestamp.as_str().to_owned(),
        tenants: state.config.esim.tenants.clone(),
        raw: String::from_utf8_lossy(&bytes).into_owned(),
        now_ms: state.clock.now_ms(),
    };
    match state.store.record_notification(n).await {
        Ok(outcome) => {
            use crate::store::NotificationOutcome as O;
            match &outcome {
                O::Duplicate => {
                    state
                        .metrics
                        .es2_notifications_duplicate
                        .fetch_add(1, Relaxed);
                }
                O::Applied { order } => {
                    state.metrics.es2_notifications.fetch_add(1, Relaxed);
                    tracing::info!(order = %order, point = info.point.id(), status = status.status.label(), "eSIM progress");
                }
                other => {
                    state.metrics.es2_notifications.fetch_add(1, Relaxed);
                    tracing::warn!(outcome = ?other, point = info.point.id(), "notification recorded but matches no order of a served tenant");
                }
            }
            empty(StatusCode::NO_CONTENT)
        }
        Err(e) => {
            // Not durable: the SM-DP+ retries anything but 204.
            tracing::error!(error = %e, "cannot record notification");
            let mut r = empty(StatusCode::SERVICE_UNAVAILABLE);
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            r
        }
    }
}

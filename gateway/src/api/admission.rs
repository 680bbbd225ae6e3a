//! Admission control on `POST /v1/activations` and lifecycle operations: a request takes
//! a place in the backlog before anything is reserved, or is refused with `503
//! backlog_full` and changes nothing.

use super::AppState;
use super::problem::ApiError;
use crate::admission::Slot;
use crate::order::Order;

/// What admission decided.
pub(super) enum Admission<'a> {
    /// Go ahead; hold the place until the engine has taken the order.
    Admitted(Slot<'a>),
    /// The backlog is full, but this key and body were accepted before: answer the replay.
    Replay(Box<Order>),
}

/// Takes a place in the backlog for `tenant`, or refuses. A retry of a request accepted
/// earlier is answered as a replay even when the backlog is full: a clerk must never read
/// "nothing happened" about an order that exists.
pub(super) async fn admit<'a>(
    state: &'a AppState,
    tenant: &str,
    key: &str,
    body_hash: &str,
) -> Result<Admission<'a>, ApiError> {
    let backlog = &state.metrics.backlog;
    let bound = match backlog.try_reserve(tenant, state.config.admission.limits()) {
        Ok(slot) => return Ok(Admission::Admitted(slot)),
        Err(bound) => bound,
    };
    let ttl_ms = state.config.engine.idempotency_ttl().as_millis() as u64;
    let cutoff_ms = state.clock.now_ms().saturating_sub(ttl_ms);
    if let Some(rec) = state.store.activation_idempotency(tenant, key).await? {
        if rec.created_at_ms >= cutoff_ms {
            return if rec.body_hash == body_hash {
                Ok(Admission::Replay(Box::new(rec.response)))
            } else {
                Err(ApiError::idempotency_key_reused())
            };
        }
    }
    backlog.refused(bound);
    Err(ApiError::backlog_full(
        bound,
        backlog.snapshot().retry_after_s(),
    ))
}

//! One step of a lifecycle order's saga: recorded as sent, performed on the HLR (or, for
//! an eSIM profile, at the SM-DP+) within the concurrency bound, and its answer recorded
//! with the order's outcome when it was the last step.

use super::Inner;
use super::driver::{StepKind, outcome_event};
use super::error::EngineError;
use super::machine::{self, Attempt, StepFailure};
use super::observe::{observe, observe_es2};
use super::report::{Before, report};
use crate::order::{Effect, Order, SagaOp, es2_call_id};
use crate::store::EventKind;
use adapters::es2plus::{CancelOrderRequest, FinalProfileStatus, MatchingId, RequestHeader};
use adapters::hlr::{Barring, HlrError, HlrProvisioner};

/// One attempt of step `index` of the plan (or of the compensation when `undo`).
pub(super) async fn run_saga_step(
    inner: &Inner,
    order: Order,
    undo: bool,
    index: usize,
    op: SagaOp,
    attempt: u32,
    now: u64,
) -> Result<Order, EngineError> {
    let order = machine::mark_saga_sent(order, undo, index, attempt, now);
    let sent = EventKind::StepSent {
        step: op.name().into(),
        attempt,
    };
    inner.persist(&order, Effect::None, sent).await?;
    let before = Before::of(&order);
    let (result, summary) = perform(inner, inner.hlr.as_ref(), &order.id, &op, attempt).await?;
    let at = Attempt::new(
        attempt,
        &inner.settings.policy,
        inner.jitter(),
        inner.clock.now_ms(),
    );
    let (next, effect) = machine::on_saga_answer(order, undo, index, at, result);
    let event = match effect {
        Effect::None => EventKind::StepAnswered {
            step: op.name().into(),
            attempt,
            result: summary,
        },
        _ => outcome_event(&next, &effect, StepKind::Provision, attempt, summary),
    };
    inner.persist(&next, effect.clone(), event).await?;
    report(&inner.metrics, &before, &next, &effect);
    Ok(next)
}

/// A step's answer and its one-line summary for the event log.
type Answer = (Result<&'static str, StepFailure>, String);

/// Performs one saga operation on `hlr` (or the SM-DP+) within the concurrency bounds;
/// `Ok` carries the short outcome the order records. Keys are opened in memory only.
pub(super) async fn perform(
    inner: &Inner,
    hlr: &dyn HlrProvisioner,
    order_id: &str,
    op: &SagaOp,
    attempt: u32,
) -> Result<Answer, EngineError> {
    let SagaOp::CancelProfile {
        iccid,
        eid,
        matching_id,
    } = op
    else {
        return hlr_step(inner, hlr, order_id, op).await;
    };
    {
        let Some(es) = inner.settings.esim.as_ref() else {
            return Err(EngineError::unusable(
                order_id,
                "it cancels an eSIM profile but no SM-DP+ is configured",
            ));
        };
        let matching_id = MatchingId::new(matching_id)
            .map_err(|_| EngineError::unusable(order_id, "invalid MatchingID"))?;
        let request = CancelOrderRequest {
            header: RequestHeader::new(
                es.requester_id.clone(),
                es2_call_id(order_id, "cancel", attempt),
            ),
            iccid: iccid.clone(),
            eid: eid.clone(),
            matching_id: Some(matching_id),
            final_profile_status_indicator: FinalProfileStatus::Unavailable,
        };
        let _permit = inner
            .es2_permits
            .acquire()
            .await
            .map_err(|_| EngineError::Stopped)?;
        let started = tokio::time::Instant::now();
        let r = es.client.cancel_order(&request).await;
        let summary = observe_es2(inner, &r, started);
        let result = match r {
            Ok(_) => Ok("cancelled"),
            Err(e) if e.retryable() => Err(StepFailure {
                retryable: true,
                message: e.to_string(),
            }),
            // Downloaded (or bound elsewhere) meanwhile: the profile is the device's now,
            // which ES2+ leaves to it; the line ends all the same.
            Err(_) => Ok("left_to_device"),
        };
        Ok((result, summary))
    }
}

/// Performs an HLR operation of a saga.
async fn hlr_step(
    inner: &Inner,
    hlr: &dyn HlrProvisioner,
    order_id: &str,
    op: &SagaOp,
) -> Result<Answer, EngineError> {
    let _permit = inner
        .permits
        .acquire()
        .await
        .map_err(|_| EngineError::Stopped)?;
    let started = tokio::time::Instant::now();
    let r: Result<&'static str, HlrError> = match op {
        SagaOp::Provision { line } => {
            let spec = inner.line_spec(order_id, line)?;
            hlr.provision(&spec).await.map(machine::provision_outcome)
        }
        SagaOp::Deprovision { line } => {
            let spec = inner.line_spec(order_id, line)?;
            hlr.deprovision(&spec)
                .await
                .map(machine::deprovision_outcome)
        }
        SagaOp::SetBarring { imsi, barred } => {
            let barring = Barring {
                outgoing: *barred,
                incoming: *barred,
            };
            hlr.set_barring(imsi, barring).await.map(|()| "set")
        }
        SagaOp::DetachMsisdn { imsi, msisdn } => {
            hlr.detach_msisdn(imsi, msisdn).await.map(|()| "detached")
        }
        SagaOp::ChangeMsisdn { imsi, from, to } => {
            hlr.change_msisdn(imsi, from, to).await.map(|()| "changed")
        }
        SagaOp::CancelProfile { .. } => {
            return Err(EngineError::unusable(
                order_id,
                "a CancelOrder is not an HLR step",
            ));
        }
    };
    let summary = observe(inner, &r, started);
    Ok((r.map_err(StepFailure::from), summary))
}

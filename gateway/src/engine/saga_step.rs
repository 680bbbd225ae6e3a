//! One step of a lifecycle order's saga: recorded as sent, performed on the HLR (or, for
//! an eSIM profile, at the SM-DP+; for a ported-in number's return, at the porting hub)
//! within the concurrency bound, and its answer recorded
//! with the order's outcome when it was the last step.

use super::Inner;
use super::driver::record_answer;
use super::error::EngineError;
use super::es2_step::unit;
use super::machine::{self, Attempt, StepDone, StepFailure, esim};
use super::observe::{observe, observe_es2};
use super::report::Before;
use crate::order::{Order, SagaOp, es2_call_id};
use adapters::es2plus::{
    ActivationCode, CancelOrderRequest, ConfirmOrderRequest, ConfirmationCode,
    DownloadOrderRequest, Es2CallError, FinalProfileStatus, MatchingId, ProfileSelector,
    RequestHeader,
};
use adapters::hlr::{Barring, HlrError, HlrProvisioner};

/// One attempt of step `index` of the plan (or of the compensation when `undo`), recorded
/// as sent first unless the commit that wrote `order` did (`recorded`).
pub(super) async fn run_saga_step(
    inner: &Inner,
    order: Order,
    (undo, index, op, attempt, recorded): (bool, usize, SagaOp, u32, bool),
    now: u64,
) -> Result<Order, EngineError> {
    let mark = |o| machine::mark_saga_sent(o, undo, index, attempt, now);
    let order = inner
        .record_sent(order, recorded, (op.name(), attempt), mark)
        .await?;
    let before = Before::of(&order);
    let (result, summary) = perform(inner, inner.hlr.as_ref(), &order, &op, attempt).await?;
    let at = Attempt::new(
        attempt,
        &inner.settings.policy,
        inner.jitter(),
        inner.clock.now_ms(),
    );
    let (next, effect) = machine::on_saga_answer(order, undo, index, at, result);
    record_answer(inner, &before, next, effect, op.name(), attempt, summary).await
}

/// A step's answer and its one-line summary for the event log.
type Answer = (Result<StepDone, StepFailure>, String);

/// Performs one saga operation of `order` on `hlr` (or the SM-DP+) within the
/// concurrency bounds. Keys and the confirmation code are opened in memory only.
pub(super) async fn perform(
    inner: &Inner,
    hlr: &dyn HlrProvisioner,
    order: &Order,
    op: &SagaOp,
    attempt: u32,
) -> Result<Answer, EngineError> {
    if op.on_hlr() {
        return hlr_step(inner, hlr, &order.id, op).await;
    }
    if let SagaOp::ReturnNumber {
        msisdn,
        port_ref,
        range_holder,
    } = op
    {
        let r = super::port_step::return_number(inner, &order.id, (msisdn, port_ref, range_holder))
            .await;
        let summary = match &r {
            Ok(_) => format!("number {msisdn} returned to {range_holder}"),
            Err(e) => e.message.clone(),
        };
        return Ok((r, summary));
    }
    let Some(es) = inner.settings.esim.as_ref() else {
        return Err(EngineError::unusable(
            &order.id,
            "it has an eSIM step but no SM-DP+ is configured",
        ));
    };
    let call_id = |step: &str| {
        RequestHeader::new(
            es.requester_id.clone(),
            es2_call_id(&order.id, step, attempt),
        )
    };
    let matching = |m: &str| {
        MatchingId::new(m).map_err(|_| EngineError::unusable(&order.id, "invalid MatchingID"))
    };
    let failure = |e: &Es2CallError| StepFailure {
        retryable: e.retryable(),
        message: e.to_string(),
    };
    let _permit = inner
        .es2_permits
        .acquire()
        .await
        .map_err(|_| EngineError::Stopped)?;
    let started = tokio::time::Instant::now();
    let client = &es.client;
    let (result, summary) = match op {
        SagaOp::ReserveProfile { iccid, eid } => {
            let r = client
                .download_order(&DownloadOrderRequest {
                    header: call_id("download"),
                    eid: eid.clone(),
                    profile: ProfileSelector::Iccid(iccid.clone()),
                })
                .await;
            let summary = observe_es2(inner, &r, started);
            (esim::on_saga_reserve(attempt, unit(&r)), summary)
        }
        SagaOp::ReleaseProfile {
            iccid,
            eid,
            matching_id,
        } => {
            let matching_id = matching(matching_id)?;
            let cc = crate::order::open_confirmation_code(&inner.keys, order)
                .map_err(|e| EngineError::unusable(&order.id, format!("confirmation code: {e}")))?
                .map(|text| {
                    ConfirmationCode::new(&text)
                        .map_err(|_| EngineError::unusable(&order.id, "invalid confirmation code"))
                })
                .transpose()?;
            let r = client
                .confirm_order(&ConfirmOrderRequest {
                    header: call_id("confirm"),
                    iccid: iccid.clone(),
                    eid: eid.clone(),
                    matching_id: Some(matching_id.clone()),
                    confirmation_code: cc.clone(),
                    smds_address: None,
                    release_flag: true,
                })
                .await;
            let summary = observe_es2(inner, &r, started);
            let result = match r {
                Ok(resp) => {
                    let smdp = resp.smdp_address_or(&es.smdp_address);
                    let code = match ActivationCode::new(smdp.as_str(), matching_id.as_str()) {
                        Ok(ac) => ac.with_cc_required(cc.is_some()),
                        Err(e) => Err(e),
                    };
                    code.map(|ac| StepDone {
                        activation_code: Some(ac.to_string()),
                        ..StepDone::from("released")
                    })
                    .map_err(|e| StepFailure {
                        retryable: false,
                        message: format!("cannot build the activation code: {e}"),
                    })
                }
                Err(e) => Err(failure(&e)),
            };
            (result, summary)
        }
        SagaOp::CancelReservation { iccid, eid } | SagaOp::CancelProfile { iccid, eid, .. } => {
            let (matching_id, status, what) = match op {
                SagaOp::CancelProfile { matching_id, .. } => (
                    Some(matching(matching_id)?),
                    FinalProfileStatus::Unavailable,
                    esim::SagaCancel::Released,
                ),
                _ => (
                    None,
                    FinalProfileStatus::Available,
                    esim::SagaCancel::Reservation,
                ),
            };
            let r = client
                .cancel_order(&CancelOrderRequest {
                    header: call_id("cancel"),
                    iccid: iccid.clone(),
                    eid: eid.clone(),
                    matching_id,
                    final_profile_status_indicator: status,
                })
                .await;
            let summary = observe_es2(inner, &r, started);
            (esim::on_saga_cancel(what, unit(&r)), summary)
        }
        _ => return hlr_step(inner, hlr, &order.id, op).await,
    };
    Ok((result, summary))
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
            let spec = inner.line_spec(order_id, line).await?;
            hlr.provision(&spec).await.map(machine::provision_outcome)
        }
        SagaOp::Deprovision { line } => {
            let spec = inner.line_spec(order_id, line).await?;
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
        SagaOp::ReserveProfile { .. }
        | SagaOp::ReleaseProfile { .. }
        | SagaOp::CancelReservation { .. }
        | SagaOp::CancelProfile { .. }
        | SagaOp::ReturnNumber { .. } => {
            return Err(EngineError::unusable(
                order_id,
                "an ES2+ or porting hub call is not an HLR step",
            ));
        }
    };
    let summary = observe(inner, &r, started);
    Ok((r.map(StepDone::from).map_err(StepFailure::from), summary))
}

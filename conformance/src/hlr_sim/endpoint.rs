//! The CAI3G endpoint: one HTTP exchange from body to envelope, with the injected delay,
//! fault, drop or hang decided by the fault planner wrapped around the actual processing.

use super::cai3g_faults;
use super::codec::{Header, Operation, Response, decode_request, encode_response};
use super::fault_plan::Disposition;
use super::provisioning::{classify, execute, outcome};
use super::simulator::Simulator;
use crate::common::http_util::{self, Abort, BodyError, HttpResponse};
use http::{HeaderMap, StatusCode};
use hyper::body::Incoming;
use sim_profiles::Imsi;
use std::sync::Arc;
use tokio::time::Instant;

/// Handles one POST to the CAI3G path. `Err(Abort)` closes the connection unanswered.
pub(crate) async fn handle(
    sim: Arc<Simulator>,
    req: http::Request<Incoming>,
) -> Result<HttpResponse, Abort> {
    let declared_action = soap_action_operation(req.headers());
    let body = match http_util::read_body(req).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => {
            sim.counts().oversized += 1;
            return Ok(http_util::too_large());
        }
        Err(BodyError::Broken) => return Err(Abort),
    };
    let (header, request) = match decode_request(&body) {
        Ok(decoded) => decoded,
        Err(e) => {
            // Codec errors name elements, never values, so they are safe to log.
            sim.counts().undecodable += 1;
            tracing::info!(error = %e, "undecodable CAI3G request");
            let fault = cai3g_faults::invalid_request("Request could not be decoded.");
            return Ok(envelope(&Header::default(), &Response::Fault(fault)));
        }
    };
    let (op, kind, imsi) = classify(&request);
    let imsi = imsi.map(Imsi::to_string);
    sim.counts().record(op, kind);
    if declared_action.is_some_and(|declared| declared != op) {
        tracing::debug!(?op, "SOAPAction names another operation");
        let fault = cai3g_faults::invalid_request("SOAPAction does not match the body.");
        return Ok(envelope(&header, &Response::Fault(fault)));
    }

    let plan = sim.faults().plan(op, kind);
    record_injection(&sim, plan.disposition, plan.delayed_by_rule);
    if !plan.delay.is_zero() {
        tokio::select! {
            () = tokio::time::sleep(plan.delay) => {}
            () = sim.shutdown_requested() => return Err(Abort),
        }
    }
    let response = match plan.disposition {
        Disposition::Fault(k) => {
            tracing::info!(?op, ?kind, imsi = imsi.as_deref(), fault = ?k, "CAI3G fault injected");
            return Ok(envelope(
                &header,
                &Response::Fault(cai3g_faults::injected(k)),
            ));
        }
        Disposition::Timeout => {
            tracing::info!(
                ?op,
                ?kind,
                imsi = imsi.as_deref(),
                "CAI3G request left unanswered"
            );
            return hold(&sim).await;
        }
        Disposition::Normal | Disposition::DropAfterApply | Disposition::HangAfterApply => {
            let (response, kept) = execute(&sim, &header, request, Instant::now());
            // Answered once the change is kept; one that could not be is answered as a
            // transient fault (a retry finds it applied; the writer retries the commit).
            if kept.written().await {
                response
            } else {
                Response::Fault(cai3g_faults::busy())
            }
        }
    };
    tracing::debug!(?op, ?kind, imsi = imsi.as_deref(), outcome = %outcome(&response), "CAI3G request");
    match plan.disposition {
        Disposition::DropAfterApply => {
            tracing::info!(
                ?op,
                ?kind,
                imsi = imsi.as_deref(),
                "CAI3G answer dropped after apply"
            );
            Err(Abort)
        }
        Disposition::HangAfterApply => {
            tracing::info!(
                ?op,
                ?kind,
                imsi = imsi.as_deref(),
                "CAI3G answer withheld after apply"
            );
            hold(&sim).await
        }
        _ => Ok(envelope(&header, &response)),
    }
}

/// The operation a `SOAPAction` header names (`"CAI3G#Create"`, quoted or not), if it names
/// one. Absent or unfamiliar values are accepted: the body decides.
fn soap_action_operation(headers: &HeaderMap) -> Option<Operation> {
    Operation::from_soap_action(headers.get("soapaction")?.to_str().ok()?)
}

fn record_injection(sim: &Simulator, disposition: Disposition, delayed_by_rule: bool) {
    let mut counts = sim.counts();
    let injected = &mut counts.injected;
    match disposition {
        Disposition::Normal => {}
        Disposition::Fault(k) => injected.fault(k),
        Disposition::Timeout => injected.timeout += 1,
        Disposition::DropAfterApply => injected.drop_after_apply += 1,
        Disposition::HangAfterApply => injected.hang_after_apply += 1,
    }
    if delayed_by_rule {
        injected.delay += 1;
    }
}

/// Holds the exchange without answering until the client gives up (hyper then drops this
/// future) or the simulator shuts down.
async fn hold(sim: &Simulator) -> Result<HttpResponse, Abort> {
    sim.shutdown_requested().await;
    Err(Abort)
}

/// The SOAP envelope for `response`, with the request's headers echoed.
fn envelope(header: &Header, response: &Response) -> HttpResponse {
    let (status, body) = encode_response(header, response);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    http_util::with_body(status, "text/xml; charset=utf-8", body)
}

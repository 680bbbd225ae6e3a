//! `POST /v1/verifications`: one exchange from headers and body to a decision and back.
//! Credential, media type and body are checked first; then a replay of a known request id
//! gets its first decision; injected faults fire around the checks of `checks::decide`.
//! Log lines carry the request id, the outcome and codes, never the name or ID number.

use super::checks::decide;
use super::faults::Action;
use super::replay::Seen;
use super::simulator::Simulator;
use crate::common::http_util::{self, Abort, BodyError, HttpResponse};
use adapters::identity::{
    IdentityCodecError, Token, Verdict, VerificationRequest, VerificationResponse, decode_request,
    encode_request, encode_response,
};
use http::header::{ALLOW, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use http::{HeaderMap, Method, StatusCode};
use hyper::body::Incoming;
use ring::digest::{SHA256, digest};
use serde_json::json;
use std::sync::Arc;

/// Handles one request to the verification path. `Err(Abort)` closes the connection
/// unanswered.
pub(crate) async fn handle(
    sim: Arc<Simulator>,
    req: http::Request<Incoming>,
) -> Result<HttpResponse, Abort> {
    sim.counts().requests += 1;
    if req.method() != Method::POST {
        let mut resp = refusal(
            &sim,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            None,
        );
        resp.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return Ok(resp);
    }
    if !authorized(&sim, req.headers()) {
        sim.counts().unauthorized += 1;
        tracing::info!("identity verification without the expected credential");
        return Ok(error(StatusCode::UNAUTHORIZED, "unauthorized", None));
    }
    let json_body = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
        });
    if !json_body {
        return Ok(refusal(
            &sim,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            None,
        ));
    }
    let idempotency_key = req.headers().get("idempotency-key").cloned();
    let body = match http_util::read_body(req).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => return Ok(http_util::too_large()),
        Err(BodyError::Broken) => return Err(Abort),
    };
    let request = match decode_request(&body) {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(error = %e, "identity verification request refused");
            return Ok(refusal(
                &sim,
                StatusCode::BAD_REQUEST,
                "invalid_request",
                field(&e),
            ));
        }
    };
    if idempotency_key.is_some_and(|k| k.as_bytes() != request.request_id.as_str().as_bytes()) {
        return Ok(refusal(
            &sim,
            StatusCode::BAD_REQUEST,
            "idempotency_key_mismatch",
            None,
        ));
    }
    let fingerprint = fingerprint(&request);
    let seen = sim.replay().seen(&request.request_id, &fingerprint);
    if seen == Seen::Conflict {
        sim.counts().conflicts += 1;
        tracing::info!(request_id = %request.request_id, "request id reused for another request");
        return Ok(error(StatusCode::CONFLICT, "request_id_reused", None));
    }
    let replay = matches!(seen, Seen::Replay(_));
    let fired = sim
        .rules()
        .fire(|r| r.matches(&request.id_number, replay))
        .map(|r| r.action);
    if let Some(a) = &fired {
        sim.counts().injected.record(a);
    }
    let id = &request.request_id;
    let forced = match fired {
        Some(Action::Delay(d)) => {
            tokio::select! {
                () = tokio::time::sleep(d) => None,
                () = sim.shutdown_requested() => return Err(Abort),
            }
        }
        Some(Action::Hang) => {
            tracing::info!(request_id = %id, "identity verification left unanswered");
            sim.shutdown_requested().await;
            return Err(Abort);
        }
        Some(Action::Status(status)) => return Ok(injected_status(id, status)),
        Some(Action::Malformed) => {
            let body = json!({"request_id": id.as_str(), "outcome": "maybe"});
            return Ok(http_util::json(StatusCode::OK, &body));
        }
        Some(Action::Reject(code)) => Some(Verdict::Reject(code)),
        Some(Action::Flag(reason)) => Some(Verdict::Flag(reason)),
        None => None,
    };
    if let Seen::Replay(first) = seen {
        sim.counts().replays += 1;
        tracing::info!(request_id = %id, outcome = first.verdict.outcome(), "identity verification replayed");
        return Ok(answer(&first));
    }
    let verdict = forced
        .unwrap_or_else(|| decide(&request, sim.settings.face_threshold, sim.settings.today()));
    let fresh = VerificationResponse {
        request_id: id.clone(),
        verdict,
        verification_id: Token::parse(&sim.next_verification_id(), "verification_id").ok(),
    };
    // A concurrent twin may have decided first: its decision is the one that counts.
    let kept = sim.replay().keep(id.clone(), fingerprint, fresh.clone());
    if kept == fresh {
        sim.counts().decided(&kept.verdict);
    }
    match &kept.verdict {
        Verdict::Pass => tracing::info!(request_id = %id, outcome = "pass", "identity verified"),
        Verdict::Reject(code) => {
            tracing::info!(request_id = %id, outcome = "reject", code = code.as_str(), "identity verified");
        }
        Verdict::Flag(reason) => {
            tracing::info!(request_id = %id, outcome = "flag", code = reason.as_str(), "identity verified");
        }
    }
    Ok(answer(&kept))
}

/// Whether the request carries the configured credential (always, if none is required).
fn authorized(sim: &Simulator, headers: &HeaderMap) -> bool {
    sim.settings
        .credential
        .as_ref()
        .is_none_or(|(name, value)| {
            headers
                .get(name.as_str())
                .is_some_and(|v| v.as_bytes() == value.as_bytes())
        })
}

/// SHA-256 of the canonical encoding, so spacing and member order do not matter.
fn fingerprint(req: &VerificationRequest) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, &encode_request(req)).as_ref());
    out
}

/// The JSON path a codec error names, if any.
fn field(e: &IdentityCodecError) -> Option<&'static str> {
    match e {
        IdentityCodecError::Missing { field } | IdentityCodecError::InvalidValue { field } => {
            Some(field)
        }
        _ => None,
    }
}

fn answer(resp: &VerificationResponse) -> HttpResponse {
    http_util::with_body(StatusCode::OK, "application/json", encode_response(resp))
}

/// An error answer `{"error": code, "field": path}`.
fn error(status: StatusCode, code: &'static str, field: Option<&'static str>) -> HttpResponse {
    let body = match field {
        Some(f) => json!({"error": code, "field": f}),
        None => json!({"error": code}),
    };
    http_util::json(status, &body)
}

/// An error answer for a request refused before a decision (counted as invalid).
fn refusal(
    sim: &Simulator,
    status: StatusCode,
    code: &'static str,
    field: Option<&'static str>,
) -> HttpResponse {
    sim.counts().invalid += 1;
    error(status, code, field)
}

/// The injected status; 429 and 503 ask for a retry after one second.
fn injected_status(id: &Token, status: u16) -> HttpResponse {
    tracing::info!(request_id = %id, status, "identity verification answered with an injected status");
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let mut resp = error(code, "injected", None);
    if matches!(code.as_u16(), 429 | 503) {
        resp.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    }
    resp
}

//! One request to the hub, from headers and body to the answer: method, media type and
//! client certificate; the body through the adapters' codec; `Idempotency-Key`; the
//! injected faults around the apply; then, under the simulator's lock, a repeat gets its
//! first answer, a reused id `409`, and a new request is applied to the hub, answered
//! once the change is in the state file (if any). Every request goes into the journal. Log lines carry the operation, request id, port
//! reference and status: never a body (it may hold a porting code).

use super::faults::{Action, Operation};
use super::hub::Refusal;
use super::journal::RequestRecord;
use super::replay::{Answer, Fingerprint, Seen};
use super::simulator::{Simulator, State};
use crate::common::http_util::{self, Abort, BodyError, HttpResponse};
use crate::common::server::Peer;
use adapters::porting::Code;
use adapters::porting::{
    Acknowledge, AnswerPortOut, CancelPort, HubErrorCode, HubMessage, HubProblem,
    PortingCodecError, Receipt, Ref, ReschedulePort, ReturnNumber, SubmitPortIn,
    decode_acknowledge, decode_answer_port_out, decode_cancel, decode_reschedule,
    decode_return_number, decode_submit_port_in, encode_acknowledge, encode_answer_port_out,
    encode_cancel, encode_problem, encode_receipt, encode_reschedule, encode_return_number,
    encode_submit_port_in,
};
use http::header::{ALLOW, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use http::{Method, StatusCode};
use hyper::body::Incoming;
use ring::digest::{SHA256, digest};
use std::sync::Arc;

/// A decoded request.
#[derive(Debug)]
enum Request {
    Submit(SubmitPortIn),
    Cancel(CancelPort),
    Reschedule(ReschedulePort),
    Answer(AnswerPortOut),
    Ack(Acknowledge),
    Return(ReturnNumber),
}

impl Request {
    fn decode(op: Operation, body: &[u8]) -> Result<Self, PortingCodecError> {
        Ok(match op {
            Operation::SubmitPortIn => Self::Submit(decode_submit_port_in(body)?),
            Operation::Cancel => Self::Cancel(decode_cancel(body)?),
            Operation::Reschedule => Self::Reschedule(decode_reschedule(body)?),
            Operation::AnswerPortOut => Self::Answer(decode_answer_port_out(body)?),
            Operation::Acknowledge => Self::Ack(decode_acknowledge(body)?),
            Operation::ReturnNumber => Self::Return(decode_return_number(body)?),
        })
    }

    fn request_id(&self) -> &Ref {
        match self {
            Self::Submit(r) => &r.request_id,
            Self::Cancel(r) => &r.request_id,
            Self::Reschedule(r) => &r.request_id,
            Self::Answer(r) => &r.request_id,
            Self::Ack(r) => &r.request_id,
            Self::Return(r) => &r.request_id,
        }
    }

    fn port_ref(&self) -> Option<&Ref> {
        match self {
            Self::Submit(_) => None,
            Self::Cancel(r) => Some(&r.port_ref),
            Self::Reschedule(r) => Some(&r.port_ref),
            Self::Answer(r) => Some(&r.port_ref),
            Self::Ack(r) => Some(&r.port_ref),
            Self::Return(r) => Some(&r.port_ref),
        }
    }

    /// SHA-256 of the path and the canonical encoding: spacing, member order and
    /// unknown members do not make a repeat a different request.
    fn fingerprint(&self, op: Operation) -> Fingerprint {
        let body = match self {
            Self::Submit(r) => encode_submit_port_in(r),
            Self::Cancel(r) => encode_cancel(r),
            Self::Reschedule(r) => encode_reschedule(r),
            Self::Answer(r) => encode_answer_port_out(r),
            Self::Ack(r) => encode_acknowledge(r),
            Self::Return(r) => encode_return_number(r),
        };
        let mut input = op.path().as_bytes().to_vec();
        input.push(0);
        input.extend_from_slice(&body);
        let mut out = [0u8; 32];
        out.copy_from_slice(digest(&SHA256, &input).as_ref());
        out
    }

    /// Applies a new request to the hub: the receipt's port, or the refusal.
    fn apply(
        &self,
        st: &mut State,
        caller: Option<&Ref>,
        now: u64,
        out: &mut Vec<HubMessage>,
    ) -> Result<Ref, Refusal> {
        let hub = &mut st.hub;
        match self {
            Self::Submit(r) => hub.submit(r, caller, now, out),
            Self::Cancel(r) => hub.cancel(r, caller, now, out).map(|()| r.port_ref.clone()),
            Self::Reschedule(r) => hub
                .reschedule(r, caller, now, out)
                .map(|()| r.port_ref.clone()),
            Self::Answer(r) => hub.answer(r, caller, now, out).map(|()| r.port_ref.clone()),
            Self::Ack(r) => hub
                .acknowledge(r, caller, now, out)
                .map(|()| r.port_ref.clone()),
            Self::Return(r) => hub
                .return_number(r, caller, now)
                .map(|()| r.port_ref.clone()),
        }
    }
}

/// What happened to one request, for the journal and the counters.
struct Outcome {
    answer: Answer,
    replay: bool,
    port_ref: Option<Ref>,
}

/// Handles one request to `op`'s path. `Err(Abort)` closes the connection unanswered.
pub(crate) async fn handle(
    sim: Arc<Simulator>,
    op: Operation,
    req: http::Request<Incoming>,
    peer: &Peer,
) -> Result<HttpResponse, Abort> {
    sim.counts().requests += 1;
    let mut record = RequestRecord {
        seq: 0,
        at: super::clock::utc(sim.now()).to_string(),
        operation: op.as_str().to_owned(),
        request_id: None,
        port_ref: None,
        status: None,
        code: None,
        replay: false,
        fault: None,
    };
    let request = match admit(&sim, op, req, peer).await? {
        Ok(r) => r,
        Err(answer) => {
            sim.counts().invalid += 1;
            return Ok(finish(&sim, record, answer));
        }
    };
    sim.counts().operation(op);
    record.request_id = Some(request.request_id().to_string());
    record.port_ref = request.port_ref().map(Ref::to_string);
    let plan = sim.faults().plan(op);
    if let Some(fired) = plan.fired {
        sim.counts().injected.request(fired);
        record.fault = Some(fired.name().to_owned());
    }
    if !plan.delay.is_zero() {
        tokio::select! {
            () = tokio::time::sleep(plan.delay) => {}
            () = sim.shutdown_requested() => return Err(Abort),
        }
    }
    match plan.action {
        Some(Action::Timeout) => {
            tracing::info!(operation = op.as_str(), request_id = %request.request_id(), "hub request held unanswered");
            sim.state().journal.push(record);
            sim.shutdown_requested().await;
            return Err(Abort);
        }
        Some(a @ (Action::Unavailable | Action::RateLimited)) => {
            let status = if a == Action::RateLimited { 429 } else { 503 };
            let mut resp = finish(
                &sim,
                record,
                Answer {
                    status,
                    body: Vec::new(),
                },
            );
            resp.headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("1"));
            return Ok(resp);
        }
        _ => {}
    }
    let caller = sim.caller(peer).ok().flatten();
    let outcome = apply(&sim, op, &request, caller.as_ref());
    record.replay = outcome.replay;
    record.port_ref = outcome.port_ref.as_ref().map(Ref::to_string);
    tracing::info!(
        operation = op.as_str(),
        request_id = %request.request_id(),
        port_ref = record.port_ref.as_deref(),
        status = outcome.answer.status,
        replay = outcome.replay,
        "hub request"
    );
    // Answered once the change and the messages it made are kept: a hub that forgot a
    // port it gave a receipt for would orphan the receiver's order.
    if !sim.written().written().await {
        let body = problem(&Refusal {
            status: 500,
            code: HubErrorCode::Other(code("unavailable")),
            field: None,
        });
        return Ok(finish(&sim, record, body));
    }
    match plan.action {
        Some(Action::ErrorAfterApply) => {
            let body = problem(&Refusal {
                status: 500,
                code: HubErrorCode::Other(code("unavailable")),
                field: None,
            });
            Ok(finish(&sim, record, body))
        }
        Some(Action::DropAfterApply) => {
            sim.state().journal.push(record);
            Err(Abort)
        }
        _ => Ok(finish(&sim, record, outcome.answer)),
    }
}

/// Checks the transport and decodes the body; `Ok(Err(answer))` is a refusal.
async fn admit(
    sim: &Simulator,
    op: Operation,
    req: http::Request<Incoming>,
    peer: &Peer,
) -> Result<Result<Request, Answer>, Abort> {
    let invalid = |status, field| {
        Ok(Err(problem(&Refusal {
            status,
            code: HubErrorCode::InvalidRequest,
            field,
        })))
    };
    if req.method() != Method::POST {
        return invalid(405, None);
    }
    if sim.caller(peer).is_err() {
        return Ok(Err(problem(&Refusal::forbidden())));
    }
    let json = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return invalid(415, None);
    }
    let key = req.headers().get("idempotency-key").cloned();
    let body = match http_util::read_body(req).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => return invalid(413, None),
        Err(BodyError::Broken) => return Err(Abort),
    };
    let request = match Request::decode(op, &body) {
        Ok(r) => r,
        Err(PortingCodecError::TooLarge { .. }) => return invalid(413, None),
        Err(e) => {
            tracing::debug!(operation = op.as_str(), error = %e, "hub request refused");
            let field = match e {
                PortingCodecError::Missing { field }
                | PortingCodecError::InvalidValue { field } => Some(field),
                _ => None,
            };
            return invalid(400, field);
        }
    };
    if key.is_some_and(|k| k.as_bytes() != request.request_id().as_str().as_bytes()) {
        return invalid(400, Some("Idempotency-Key"));
    }
    Ok(Ok(request))
}

/// Applies `request` under the simulator's lock, or answers it from the replay table.
fn apply(sim: &Simulator, op: Operation, request: &Request, caller: Option<&Ref>) -> Outcome {
    let id = request.request_id();
    let key = (caller.cloned(), id.clone());
    let fingerprint = request.fingerprint(op);
    let (outcome, counted) = sim.exchange(|st, now, out| {
        match st.replay.seen(&key, &fingerprint) {
            Seen::Replay(answer) => {
                let port_ref = request.port_ref().cloned();
                return (
                    Outcome {
                        answer,
                        replay: true,
                        port_ref,
                    },
                    Counted::Replay,
                );
            }
            Seen::Reused => {
                let answer = problem(&Refusal {
                    status: 409,
                    code: HubErrorCode::RequestIdReused,
                    field: None,
                });
                let port_ref = request.port_ref().cloned();
                return (
                    Outcome {
                        answer,
                        replay: false,
                        port_ref,
                    },
                    Counted::Reused,
                );
            }
            Seen::New => {}
        }
        let (answer, port_ref, counted) = match request.apply(st, caller, now, out) {
            Ok(port_ref) => {
                let receipt = Receipt {
                    request_id: id.clone(),
                    port_ref: port_ref.clone(),
                };
                let answer = Answer {
                    status: 202,
                    body: encode_receipt(&receipt),
                };
                (answer, Some(port_ref), Counted::Receipt)
            }
            Err(refusal) => (
                problem(&refusal),
                request.port_ref().cloned(),
                Counted::Refused,
            ),
        };
        st.replay.keep(key, fingerprint, answer.clone());
        (
            Outcome {
                answer,
                replay: false,
                port_ref,
            },
            counted,
        )
    });
    let mut c = sim.counts();
    match counted {
        Counted::Replay => c.replays += 1,
        Counted::Reused => c.reused += 1,
        Counted::Receipt => c.receipts += 1,
        Counted::Refused => c.refused += 1,
    }
    outcome
}

enum Counted {
    Replay,
    Reused,
    Receipt,
    Refused,
}

/// A problem answer.
fn problem(r: &Refusal) -> Answer {
    let body = encode_problem(&HubProblem {
        code: r.code.clone(),
        field: r.field.and_then(|f| Code::parse(f, "field").ok()),
    });
    Answer {
        status: r.status,
        body,
    }
}

fn code(s: &str) -> Code {
    Code::parse(s, "code").expect("a valid code literal")
}

/// Journals the request and builds its HTTP answer.
fn finish(sim: &Simulator, mut record: RequestRecord, answer: Answer) -> HttpResponse {
    record.status = Some(answer.status);
    if answer.status >= 400 {
        record.code = adapters::porting::decode_problem(&answer.body)
            .ok()
            .map(|p| p.code.to_string());
    }
    sim.state().journal.push(record);
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let content_type = if answer.status < 300 {
        "application/json"
    } else {
        "application/problem+json"
    };
    let mut resp = if answer.body.is_empty() {
        http_util::empty(status)
    } else {
        http_util::with_body(status, content_type, answer.body)
    };
    if status == StatusCode::METHOD_NOT_ALLOWED {
        resp.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
    }
    resp
}

//! The ES2+ endpoint: one HTTP exchange from headers and body to the state machine and
//! back, with the caller identified by its client certificate and the injected delay,
//! fault, drop or hang decided by the fault planner around the actual execution.

use super::clock;
use super::codes::{self, Code};
use super::config::{MalformedAnswer, SmdpAddressEcho, UnmappedCertPolicy};
use super::faults::{Action, Function};
use super::inventory::Inventory;
use super::simulator::Simulator;
use crate::common::http_util::{self, Abort, BodyError, HttpResponse};
use crate::common::server::Peer;
use crate::common::state_writer::Ticket;
use adapters::es2plus::{
    ADMIN_PROTOCOL_HEADER, CancelOrderRequest, ConfirmOrderRequest, ConfirmOrderResponse,
    DownloadOrderRequest, DownloadOrderResponse, Es2Error, ExecutionStatus,
    FunctionExecutionStatus, HeaderOnly, ReleaseProfileRequest, RequestHeader, Response,
    decode_cancel_order_request, decode_confirm_order_request, decode_download_order_request,
    decode_release_profile_request, encode_failure, encode_response, is_json_media_type,
    is_supported_admin_protocol,
};
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{HeaderMap, StatusCode};
use hyper::body::Incoming;
use serde_json::Value;
use std::sync::Arc;

/// The `X-Admin-Protocol` value of the injected protocol-version fault.
const WRONG_ADMIN_PROTOCOL: &str = "gsma/rsp/v1.0.0";

/// A decoded request of one of the four functions.
enum Request {
    Download(DownloadOrderRequest),
    Confirm(ConfirmOrderRequest),
    Cancel(CancelOrderRequest),
    Release(ReleaseProfileRequest),
}

impl Request {
    /// Decodes with the codec; a failure is mapped to its answer at once.
    fn decode(f: Function, body: &[u8]) -> Result<Self, Refusal> {
        let decoded = match f {
            Function::DownloadOrder => decode_download_order_request(body).map(Self::Download),
            Function::ConfirmOrder => decode_confirm_order_request(body).map(Self::Confirm),
            Function::CancelOrder => decode_cancel_order_request(body).map(Self::Cancel),
            Function::ReleaseProfile => decode_release_profile_request(body).map(Self::Release),
        };
        decoded.map_err(|e| refusal_for(&e))
    }

    /// The profile the request names, if it names one.
    fn iccid(&self) -> Option<&sim_profiles::Iccid> {
        match self {
            Self::Download(r) => r.profile.iccid(),
            Self::Confirm(r) => Some(&r.iccid),
            Self::Cancel(r) => Some(&r.iccid),
            Self::Release(r) => Some(&r.iccid),
        }
    }

    fn header(&self) -> &RequestHeader {
        match self {
            Self::Download(r) => &r.header,
            Self::Confirm(r) => &r.header,
            Self::Cancel(r) => &r.header,
            Self::Release(r) => &r.header,
        }
    }
}

/// What a successful function returns.
enum Output {
    Download(DownloadOrderResponse),
    Confirm(ConfirmOrderResponse),
    HeaderOnly,
}

impl Output {
    fn encode(self, status: FunctionExecutionStatus) -> Vec<u8> {
        match self {
            Self::Download(data) => encode_response(&Response { status, data }),
            Self::Confirm(data) => encode_response(&Response { status, data }),
            Self::HeaderOnly => encode_response(&Response {
                status,
                data: HeaderOnly {},
            }),
        }
    }
}

/// How a request that did not get as far as the state machine is answered.
enum Refusal {
    /// 200 + Failed with this code.
    Failed(Code),
    /// Unparseable or header-less: answered per the malformed-input setting.
    Malformed(Code),
}

/// Handles one POST to an ES2+ path. `Err(Abort)` closes the connection unanswered.
pub(crate) async fn handle(
    sim: Arc<Simulator>,
    f: Function,
    req: http::Request<Incoming>,
    peer: &Peer,
) -> Result<HttpResponse, Abort> {
    sim.counts().request(f);
    let header_check = check_headers(&sim, req.headers());
    let body = match http_util::read_body(req).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => return Ok(http_util::too_large()),
        Err(BodyError::Broken) => return Err(Abort),
    };
    let owner = peer
        .certificate
        .as_ref()
        .and_then(|c| sim.operator_for(c))
        .map(|o| o.name.clone());
    let Some(owner) = owner else {
        sim.counts().unmapped_certificate += 1;
        tracing::info!(function = ?f, "request from a certificate mapped to no operator");
        if sim.settings.unmapped_cert == UnmappedCertPolicy::Reject {
            return Err(Abort);
        }
        return Ok(refuse(
            &sim,
            f,
            Refusal::Failed(codes::REQUESTER_NOT_ALLOWED),
        ));
    };
    if let Err(code) = header_check {
        return Ok(refuse(&sim, f, Refusal::Failed(code)));
    }
    let request = match decode(&sim, f, &body) {
        Ok(r) => r,
        Err(refusal) => {
            sim.counts().malformed += 1;
            return Ok(refuse(&sim, f, refusal));
        }
    };
    if request.header().function_requester_identifier != owner {
        tracing::info!(function = ?f, operator = %owner, "requester identifier does not match the certificate");
        return Ok(refuse(
            &sim,
            f,
            Refusal::Failed(codes::REQUESTER_NOT_ALLOWED),
        ));
    }

    let plan = sim.faults().plan(f);
    if let Some(a) = plan.action {
        sim.counts().injected.record(a);
    }
    if !plan.delay.is_zero() {
        tokio::select! {
            () = tokio::time::sleep(plan.delay) => {}
            () = sim.shutdown_requested() => return Err(Abort),
        }
    }
    match plan.action {
        Some(Action::Timeout) => {
            tracing::info!(function = ?f, "ES2+ request left unanswered");
            sim.shutdown_requested().await;
            return Err(Abort);
        }
        Some(Action::ServerErrorBeforeCommit) => return Ok(server_error(&sim)),
        Some(Action::LoseReservation) => {
            if let Some(iccid) = request.iccid() {
                let lost = sim.inventory().lose_reservation(iccid, &clock::now());
                tracing::info!(function = ?f, lost, "ES2+ reservation dropped");
            }
            return Ok(server_error(&sim));
        }
        Some(Action::Expired) => {
            let status = FunctionExecutionStatus {
                status: ExecutionStatus::Expired,
                status_code_data: Some(codes::INJECTED_EXPIRY.status_code_data()),
            };
            return Ok(reply(&sim, encode_failure(&status), None));
        }
        _ => {}
    }
    let (result, kept) = execute(&sim, &owner, request);
    if !kept.written().await {
        // Applied in memory but not yet kept: a 500, so the operator retries (the writer
        // retries the commit).
        return Ok(server_error(&sim));
    }
    sim.counts().outcome(f, result.is_ok());
    let body = match result {
        Ok(output) => {
            let status = if plan.action == Some(Action::WithWarning) {
                FunctionExecutionStatus {
                    status: ExecutionStatus::ExecutedWithWarning,
                    status_code_data: Some(codes::INJECTED_WARNING.status_code_data()),
                }
            } else {
                FunctionExecutionStatus::success()
            };
            output.encode(status)
        }
        Err(code) => {
            tracing::debug!(function = ?f, %code, "ES2+ function failed");
            encode_failure(&code.failed())
        }
    };
    match plan.action {
        Some(Action::DropAfterCommit) => {
            tracing::info!(function = ?f, "ES2+ answer dropped after commit");
            Err(Abort)
        }
        Some(Action::ServerErrorAfterCommit) => Ok(server_error(&sim)),
        other => Ok(reply(&sim, body, other)),
    }
}

/// Checks `Content-Type` (media type only) and `X-Admin-Protocol`.
fn check_headers(sim: &Simulator, headers: &HeaderMap) -> Result<(), Code> {
    if let Some(ct) = headers.get(CONTENT_TYPE) {
        if !ct.to_str().is_ok_and(is_json_media_type) {
            return Err(codes::FORMAT_INVALID);
        }
    }
    match headers.get(ADMIN_PROTOCOL_HEADER) {
        Some(v) if !v.to_str().is_ok_and(is_supported_admin_protocol) => {
            Err(codes::VERSION_UNSUPPORTED)
        }
        None if !sim.settings.lenient => Err(codes::VERSION_MISSING),
        _ => Ok(()),
    }
}

/// Decodes the body (after fixing known misspellings in lenient mode).
fn decode(sim: &Simulator, f: Function, body: &[u8]) -> Result<Request, Refusal> {
    let fixed;
    let body = if sim.settings.lenient {
        fixed = fix_spellings(f, body);
        fixed.as_deref().unwrap_or(body)
    } else {
        body
    };
    Request::decode(f, body)
}

/// Renames member names real clients misspell (reference §1.4); `None` if nothing changed.
fn fix_spellings(f: Function, body: &[u8]) -> Option<Vec<u8>> {
    let Ok(Value::Object(mut obj)) = serde_json::from_slice::<Value>(body) else {
        return None;
    };
    let mut changed = false;
    let mut rename = |o: &mut serde_json::Map<String, Value>, from: &str, to: &str| {
        if !o.contains_key(to) {
            if let Some(v) = o.remove(from) {
                o.insert(to.to_owned(), v);
                changed = true;
            }
        }
    };
    rename(&mut obj, "comfirmationCode", "confirmationCode");
    if f == Function::ConfirmOrder {
        rename(&mut obj, "smdpAddress", "smdsAddress");
    }
    if let Some(Value::Object(h)) = obj.get_mut("header") {
        rename(
            h,
            "functionrequesterIDentifier",
            "functionRequesterIdentifier",
        );
        rename(
            h,
            "FunctionRequesterIdentifier",
            "functionRequesterIdentifier",
        );
        rename(h, "FunctionCallIdentifier", "functionCallIdentifier");
    }
    if !changed {
        return None;
    }
    serde_json::to_vec(&Value::Object(obj)).ok()
}

/// The code a decoding error is answered with (codec errors name members, never values).
fn refusal_for(e: &Es2Error) -> Refusal {
    match e {
        Es2Error::TooLarge { .. }
        | Es2Error::NotUtf8
        | Es2Error::Malformed { .. }
        | Es2Error::NotAnObject => Refusal::Malformed(codes::FORMAT_INVALID),
        Es2Error::Missing { field } if field.starts_with("header") => {
            Refusal::Malformed(codes::FORMAT_MISSING)
        }
        Es2Error::Missing { field } => Refusal::Failed(match *field {
            "iccid|profileType" => codes::ICCID_OR_TYPE_MISSING,
            "iccid" | "finalProfileStatusIndicator" => codes::ICCID_MANDATORY_MISSING,
            _ => codes::FORMAT_MISSING,
        }),
        Es2Error::InvalidValue { field } => Refusal::Failed(match *field {
            "iccid" | "finalProfileStatusIndicator" => codes::ICCID_INVALID,
            "eid" => codes::EID_INVALID,
            "matchingId" => codes::MATCHING_ID_INVALID,
            "confirmationCode" => codes::CC_INVALID,
            "smdsAddress" => codes::SMDS_INACCESSIBLE,
            _ => codes::FORMAT_INVALID,
        }),
        _ => Refusal::Failed(codes::FORMAT_INVALID),
    }
}

/// Runs the function against the inventory and hands what changed to the state file's
/// writer; answer once the ticket says it is kept.
fn execute(sim: &Simulator, owner: &str, request: Request) -> (Result<Output, Code>, Ticket) {
    let mut inv = sim.inventory();
    let result = apply(sim, &mut inv, owner, request);
    let kept = sim.write_changes(&mut inv, &[]);
    (result, kept)
}

/// Applies the function to the inventory.
fn apply(
    sim: &Simulator,
    inv: &mut Inventory,
    owner: &str,
    request: Request,
) -> Result<Output, Code> {
    let now = clock::now();
    match request {
        Request::Download(r) => inv
            .download_order(owner, &r, &now)
            .map(|iccid| Output::Download(DownloadOrderResponse { iccid })),
        Request::Confirm(r) => {
            let confirmed = inv.confirm_order(owner, &r, &now)?;
            let smdp_address = match &sim.settings.smdp_address_echo {
                SmdpAddressEcho::Absent => None,
                SmdpAddressEcho::Same => Some(sim.settings.smdp_address.clone()),
                SmdpAddressEcho::Other(host) => Some(host.clone()),
            };
            Ok(Output::Confirm(ConfirmOrderResponse {
                eid: confirmed.eid,
                matching_id: Some(confirmed.matching_id),
                smdp_address,
            }))
        }
        Request::Cancel(r) => inv
            .cancel_order(owner, &r, &now)
            .map(|()| Output::HeaderOnly),
        Request::Release(r) => inv
            .release_profile(owner, &r, &now)
            .map(|()| Output::HeaderOnly),
    }
}

/// Answers a request refused before execution.
fn refuse(sim: &Simulator, f: Function, refusal: Refusal) -> HttpResponse {
    sim.counts().outcome(f, false);
    match refusal {
        Refusal::Failed(code) => reply(sim, encode_failure(&code.failed()), None),
        Refusal::Malformed(code) => match sim.settings.malformed {
            MalformedAnswer::Failed => reply(sim, encode_failure(&code.failed()), None),
            MalformedAnswer::Http400 => with_protocol(
                sim,
                http_util::text(StatusCode::BAD_REQUEST, "malformed request\n"),
                None,
            ),
            MalformedAnswer::Http500 => with_protocol(
                sim,
                http_util::with_body(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "text/html; charset=utf-8",
                    "<html><body><h1>Internal Server Error</h1><pre>Traceback (most recent call last):\n  ValueError: request could not be parsed</pre></body></html>\n",
                ),
                None,
            ),
        },
    }
}

/// An HTTP 500 (injected).
fn server_error(sim: &Simulator) -> HttpResponse {
    with_protocol(
        sim,
        http_util::text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n"),
        None,
    )
}

/// 200 + JSON `body`, shaped by an injected header fault.
fn reply(sim: &Simulator, body: Vec<u8>, action: Option<Action>) -> HttpResponse {
    let content_type = if action == Some(Action::ContentTypeCharset) {
        "application/json;charset=UTF-8"
    } else {
        "application/json"
    };
    with_protocol(
        sim,
        http_util::with_body(StatusCode::OK, content_type, body),
        action,
    )
}

/// Adds `X-Admin-Protocol` (the configured version, or the injected wrong one).
pub(crate) fn with_protocol(
    sim: &Simulator,
    mut resp: HttpResponse,
    action: Option<Action>,
) -> HttpResponse {
    let value = if action == Some(Action::WrongAdminProtocol) {
        WRONG_ADMIN_PROTOCOL
    } else {
        sim.settings.admin_protocol.as_str()
    };
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(ADMIN_PROTOCOL_HEADER, v);
    }
    resp
}

//! Port-out (issue 12), where we are the donor: the credential a channel asks for after
//! authenticating the customer (`POST /v1/subscriptions/{msisdn}/port-out-credential`),
//! and the intake of the hub's `port_out_request` into a port-out order.
//!
//! The intake decides the request at once (`porting::port_out::decide`) and creates the
//! order with its decision in one commit (`create_lifecycle`, keyed by the hub's port
//! reference, so a redelivered request finds the same order); the engine then answers
//! before the deadline. A request no order can be opened for (no live line of ours, or
//! another order busy on it) is answered `reject` directly before the receiver's 204;
//! if that answer cannot be sent the receiver answers 503 and the hub's redelivery
//! repeats it (the same request id, so the hub sees one answer).

use super::AppState;
use super::auth::Permission;
use super::dto::{no_unknown, object};
use super::problem::ApiError;
use super::request::{PathParam, json_response};
use crate::crypto::base32;
use crate::order::{Actor, OrderKind, PortIn, PortOut, Step, port_credential_context};
use crate::porting::port_out::{self as rules, Issued, LineFacts, PortOutReject};
use crate::porting::{CredentialInput, MarketPorting};
use crate::store::{
    CredentialIssue, IssuedCredential, LifecycleOutcome, LifecycleRejection, NewLifecycle,
    Subscription, SubscriptionState,
};
use adapters::porting::{
    AnswerPortOut, HubMessage, PortOutDecision, PortOutRequest, Ref, RejectReason,
};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use ring::rand::SecureRandom;
use serde_json::{Value, json};
use sim_profiles::Msisdn;
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

/// How the channel authenticated the customer before asking for a credential (FCC 23-95
/// asks for secure authentication; the method is recorded and in the event).
const METHODS: &[&str] = &[
    "sms_otp",
    "in_store_id_check",
    "account_password",
    "app_login",
    "voice_callback",
];

/// Longest `authentication.reference` accepted.
const MAX_REFERENCE: usize = 128;

/// How long the receiver waits for a direct answer to the hub before it answers 503.
const DIRECT_ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// The port-out order of the hub's port `port_ref`: derived from it, so every later
/// message of the port (which carries no reference of ours) finds its order.
pub fn port_out_order_id(port_ref: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, port_ref.as_bytes());
    format!("ord_{}", base32(&d.as_ref()[..16]))
}

fn not_offered(detail: impl Into<String>) -> ApiError {
    ApiError::unsupported("port_out_not_offered", "", detail)
}

/// The authentication the body states: (method, reference).
fn parse_authentication(body: &Value) -> Result<String, ApiError> {
    let root = object(body, "")?;
    no_unknown(root, "", &["authentication"])?;
    let methods = METHODS.join(", ");
    let Some(auth) = root.get("authentication") else {
        return Err(ApiError::invalid(
            "missing_field",
            "authentication",
            format!(
                "`authentication` is required: how the customer proved who they are before the credential is issued, `{{\"method\": …}}` with one of {methods}"
            ),
        ));
    };
    let auth = object(auth, "authentication")?;
    no_unknown(auth, "authentication", &["method", "reference"])?;
    let method = match auth.get("method") {
        Some(Value::String(m)) if METHODS.contains(&m.as_str()) => m.clone(),
        _ => {
            return Err(ApiError::invalid(
                "invalid_value",
                "authentication.method",
                format!("`authentication.method` must be one of {methods}"),
            ));
        }
    };
    match auth.get("reference") {
        None | Some(Value::Null) => {}
        Some(Value::String(r)) if !r.is_empty() && r.len() <= MAX_REFERENCE => {}
        Some(_) => {
            return Err(ApiError::invalid(
                "invalid_value",
                "authentication.reference",
                format!(
                    "`authentication.reference` must be a string of 1 to {MAX_REFERENCE} characters (your own id of the check, e.g. the OTP transaction)"
                ),
            ));
        }
    }
    Ok(method)
}

/// Our two-character RIO operator code: the first two letters or digits of our operator
/// id at the hub (`[porting_hub] recipient`).
fn rio_operator(recipient: &str) -> [u8; 2] {
    let mut it = recipient
        .bytes()
        .filter(u8::is_ascii_alphanumeric)
        .map(|b| b.to_ascii_uppercase());
    [it.next().unwrap_or(b'S'), it.next().unwrap_or(b'G')]
}

fn random_u32(rng: &ring::rand::SystemRandom) -> u32 {
    let mut b = [0u8; 4];
    if rng.fill(&mut b).is_err() {
        return 0;
    }
    u32::from_le_bytes(b)
}

/// `POST /v1/subscriptions/{msisdn}/port-out-credential`: `201` with the credential,
/// shown this once (`Cache-Control: no-store`); only its keyed MAC is kept.
pub async fn issue_credential(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    msisdn: PathParam,
    body: Body,
) -> Result<Response, ApiError> {
    let (caller, msisdn, value) = super::verification::line_request(
        &state,
        &headers,
        msisdn,
        body,
        Permission::IssuePortOutCredential,
    )
    .await?;
    let method = parse_authentication(&value)?;
    let tenant = state
        .store
        .tenant(&caller.tenant)
        .await?
        .ok_or_else(ApiError::internal)?;
    let Some(market) = tenant.market else {
        return Err(not_offered(
            "port-out credentials follow the market's porting rules, and this tenant has no market: an operator sets it with `simgw tenant put --market cn|uk|us|eu-fr|eu-generic`",
        ));
    };
    let rules = state.config.porting.market(market);
    if rules.rules().port_out.is_none() {
        return Err(not_offered(format!(
            "the {} market has no port-out by credential",
            market.as_str()
        )));
    }
    let sub = state
        .store
        .subscription(&caller.tenant, msisdn.as_str())
        .await?
        .filter(|s| s.state != SubscriptionState::Terminated)
        .ok_or_else(ApiError::subscription_not_found)?;
    rules.check_portable(&msisdn).map_err(|e| {
        ApiError::unsupported(
            "number_not_portable",
            "",
            format!("{e}: this number cannot be ported out, so no credential is issued"),
        )
    })?;
    let rng = ring::rand::SystemRandom::new();
    let operator = rio_operator(&state.config.porting_hub.recipient);
    let Some(issued) = rules::issue(&rules, &msisdn, &sub.id, operator, &mut || random_u32(&rng))
    else {
        return Err(not_offered(format!(
            "the {} market's credential cannot be issued for this number",
            market.as_str()
        )));
    };
    let now = state.clock.now_ms();
    let (stored, data) = record(&state, &rules, &msisdn, &sub, &issued, method, now)?;
    let line = state
        .store
        .issue_port_out_credential(CredentialIssue {
            tenant: caller.tenant.clone(),
            msisdn: msisdn.clone(),
            issued: stored,
            data: data.clone(),
        })
        .await?
        .ok_or_else(ApiError::subscription_not_found)?;
    let mut out = data;
    out["subscription_id"] = json!(line.id);
    if let Some(code) = &issued.code {
        out["credential"] = json!(code.as_str());
    }
    if let (Some(account), Some(pin)) = (&issued.account_number, &issued.pin) {
        out["account_number"] = json!(account);
        out["pin"] = json!(pin.as_str());
    }
    let mut r = json_response(StatusCode::CREATED, &out);
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// What is stored for an issued credential, and the event's data (no secret).
fn record(
    state: &AppState,
    rules: &MarketPorting,
    msisdn: &Msisdn,
    sub: &Subscription,
    issued: &Issued,
    method: String,
    now: u64,
) -> Result<(IssuedCredential, Value), ApiError> {
    let parsed = rules
        .parse_credential(&issued.input(), msisdn)
        .map_err(|_| ApiError::internal())?;
    let mac = state
        .keys
        .fingerprint(&rules::credential_message(msisdn, &parsed));
    let expires = rules::expires_at(rules, now);
    let kind = parsed.kind().as_str().to_owned();
    let data = json!({
        "msisdn": msisdn,
        "subscription_id": sub.id,
        "market": rules.market(),
        "kind": kind,
        "authentication": {"method": method},
        "issued_at": crate::clock::rfc3339(now),
        "expires_at": expires.map(crate::clock::rfc3339),
    });
    let stored = IssuedCredential {
        kind,
        mac,
        authentication: method,
        issued_at_ms: now,
        expires_at_ms: expires,
    };
    Ok((stored, data))
}

/// Why the intake could not finish: the receiver answers 503 and the hub redelivers.
#[derive(Debug)]
pub struct IntakeFailed(pub String);

/// Takes in a port-out request: the order it opened (or found again), or `None` when it
/// was answered directly.
pub async fn intake(
    state: &AppState,
    m: &HubMessage,
    req: &PortOutRequest,
) -> Result<Option<String>, IntakeFailed> {
    let now = state.clock.now_ms();
    let port_ref = m.port_ref.as_str();
    let line = find_line(state, &req.number).await?;
    let Some((sub, rules)) = line else {
        return answer_directly(state, m, PortOutReject::LineNotActive).await;
    };
    let hub_by = req.respond_by.unix_ms();
    let respond_by = crate::porting::schedule::port_out_answer_deadline(&rules, now)
        .map_or(hub_by, |ours| ours.min(hub_by));
    let presented = presented(req);
    let facts = LineFacts {
        terminated: sub.state == SubscriptionState::Terminated,
        reasons: &sub.suspension_reasons,
        issued: sub
            .port_out_credential
            .as_ref()
            .map(|c| (c.mac.as_str(), c.expires_at_ms)),
        last_port_at_ms: sub.last_port_at_ms,
    };
    let input = CredentialInput {
        code: presented.0.as_deref().map(String::as_str),
        account_number: presented.1.as_deref().map(String::as_str),
        pin: presented.2.as_deref().map(String::as_str),
    };
    let decision = rules::decide(
        &rules,
        &req.number,
        facts,
        &input,
        |b| state.keys.fingerprint(b),
        (now, respond_by),
    );
    let order_id = port_out_order_id(port_ref);
    let sealed = state
        .keys
        .seal(&port_credential_context(&order_id), b"{}")
        .map_err(|e| IntakeFailed(e.to_string()))?;
    let mut port = PortIn::new(
        rules.market(),
        req.number.clone(),
        req.recipient.as_str().to_owned(),
        sealed,
        None,
        Some(req.requested_at.unix_ms()),
    );
    port.port_ref = Some(port_ref.to_owned());
    port.out = Some(PortOut {
        received_at_ms: now,
        respond_by_ms: respond_by,
        reject: decision.err().map(|r| r.as_str().to_owned()),
        answer: Step::Pending,
        timed_out: false,
    });
    let outcome = state
        .store
        .create_lifecycle(NewLifecycle {
            tenant: sub.tenant.clone(),
            msisdn: req.number.clone(),
            kind: OrderKind::PortOut,
            idempotency_key: format!("port-out/{port_ref}"),
            body_hash: state.keys.fingerprint(port_ref.as_bytes()),
            order_id: order_id.clone(),
            actor: Actor {
                key_prefix: "hub".into(),
                role: "porting_hub".into(),
            },
            reason: None,
            sim: None,
            number: None,
            port: Some(port),
            channel: None,
            now_ms: now,
            random: 0,
            idempotency_cutoff_ms: 0,
            plan: crate::engine::machine::plan,
            // Not sent ahead: recording the answer puts the request on the port's
            // timeline, whose `port_out.*` events only order writes after the create
            // publish (`store::port_events`); the answer's record is a commit of its own.
            send_ahead: None,
            verification: false,
        })
        .await
        .map_err(|e| IntakeFailed(e.to_string()))?;
    match outcome {
        LifecycleOutcome::Created(o) => {
            tracing::info!(order = %o.id, port = %port_ref, accept = decision.is_ok(),
                "port-out request taken in");
            state.engine.submit(o);
            Ok(Some(order_id))
        }
        LifecycleOutcome::Replayed(_) | LifecycleOutcome::KeyReused => Ok(Some(order_id)),
        LifecycleOutcome::Rejected(r) => {
            let reason = match r {
                LifecycleRejection::Busy(_) => PortOutReject::PendingOrder,
                _ => PortOutReject::LineNotActive,
            };
            answer_directly(state, m, reason).await
        }
    }
}

/// The credential the recipient presented, as given: (code, account number, PIN),
/// wiped from memory when dropped.
type Presented = (
    Option<Zeroizing<String>>,
    Option<Zeroizing<String>>,
    Option<Zeroizing<String>>,
);

fn presented(req: &PortOutRequest) -> Presented {
    let z = |s: &str| Zeroizing::new(s.to_owned());
    (
        req.credential.as_ref().map(|c| z(c.expose())),
        req.account.as_ref().map(|a| z(a.number.expose())),
        req.account.as_ref().map(|a| z(a.pin.expose())),
    )
}

/// The live line on `number` in any tenant with a market, and that market's rules.
async fn find_line(
    state: &AppState,
    number: &Msisdn,
) -> Result<Option<(Subscription, MarketPorting)>, IntakeFailed> {
    let failed = |e: crate::store::StoreError| IntakeFailed(e.to_string());
    for tenant in state.store.tenant_ids().await.map_err(failed)? {
        let Some(sub) = state
            .store
            .subscription(&tenant, number.as_str())
            .await
            .map_err(failed)?
            .filter(|s| s.state != SubscriptionState::Terminated)
        else {
            continue;
        };
        let market = state.store.tenant(&tenant).await.map_err(failed)?;
        return Ok(market
            .and_then(|t| t.market)
            .map(|m| (sub, state.config.porting.market(m))));
    }
    Ok(None)
}

/// Rejects a request no order could be opened for, straight to the hub.
async fn answer_directly(
    state: &AppState,
    m: &HubMessage,
    reason: PortOutReject,
) -> Result<Option<String>, IntakeFailed> {
    let Some(hub) = state.engine.porting_hub() else {
        return Err(IntakeFailed("no porting hub is configured".into()));
    };
    let port_ref = m.port_ref.as_str();
    let bad = |e: adapters::porting::PortingCodecError| IntakeFailed(e.to_string());
    let req = AnswerPortOut {
        request_id: Ref::parse(&format!("{port_ref}-answer"), "request_id").map_err(bad)?,
        port_ref: m.port_ref.clone(),
        decision: PortOutDecision::Reject(
            RejectReason::parse(reason.as_str(), "reason").map_err(bad)?,
        ),
    };
    match tokio::time::timeout(DIRECT_ANSWER_TIMEOUT, hub.answer_port_out(&req)).await {
        Ok(Ok(_)) => {
            tracing::info!(port = %port_ref, reason = reason.as_str(),
                "port-out request refused: no order could be opened for it");
            Ok(None)
        }
        Ok(Err(e)) if !e.retryable() => {
            tracing::warn!(port = %port_ref, error = %e,
                "the hub refused our rejection of a port-out request; it decides by its own rule");
            Ok(None)
        }
        Ok(Err(e)) => Err(IntakeFailed(e.to_string())),
        Err(_) => Err(IntakeFailed("the hub did not answer in time".into())),
    }
}

//! After-sales on the store terminal: any signed-in clerk looks a line up by its number
//! or its card; a supervisor also suspends a lost or stolen phone's line (and resumes it
//! when it is found) and swaps its SIM. Each is the API's own lifecycle order, with the
//! store channel of the session on the order.

use super::AppState;
use super::session::signed_in;
use crate::api::auth::Caller;
use crate::api::dto::{no_unknown, object};
use crate::api::lifecycle_dto::{parse_operation, render_subscription};
use crate::api::problem::ApiError;
use crate::api::request::{PathParam, idempotency_key, json_response, read_json};
use crate::api::subscriptions::operate_checked;
use crate::order::{OrderKind, SuspensionReason};
use crate::store::{Role, SubscriptionQuery};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// `GET /terminal/api/lines?msisdn=…` or `?iccid=…`: the tenant's line on that number or
/// card (the page never puts an ID number in a URL; these are not).
pub(super) async fn find(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let s = signed_in(&state, &headers, false).await?;
    let tenant = &s.device.tenant;
    let sub = match (q.get("msisdn"), q.get("iccid")) {
        (Some(m), None) => state.store.subscription(tenant, m.trim()).await?,
        (None, Some(i)) => {
            let iccid = i.trim().parse().map_err(|_| {
                ApiError::invalid(
                    "invalid_iccid",
                    "iccid",
                    "`iccid` must be the card's 19 or 20 digits",
                )
            })?;
            let query = SubscriptionQuery {
                iccid: Some(iccid),
                limit: 1,
                ..SubscriptionQuery::default()
            };
            state.store.subscriptions(tenant, &query).await?.data.pop()
        }
        _ => {
            return Err(ApiError::invalid(
                "invalid_value",
                "msisdn",
                "look a line up by `msisdn` or by `iccid`, one of them",
            ));
        }
    };
    let sub = sub.ok_or_else(ApiError::subscription_not_found)?;
    Ok(json_response(StatusCode::OK, &render_subscription(&sub)))
}

/// `POST /terminal/api/lines/{msisdn}/{suspend|resume|sim-swap}` with `Idempotency-Key`:
/// suspend and resume take no body (the reason is always `lost_or_stolen`); a SIM swap
/// takes `{"sim"}` as the API does.
pub(super) async fn operate(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    params: PathParam<(String, String)>,
    body: Body,
) -> Result<Response, ApiError> {
    let s = signed_in(&state, &headers, true).await?;
    let (msisdn, op) = params.value()?;
    if op == "verification" {
        return verify(&state, &s, &msisdn, &headers, body).await;
    }
    let kind = match op.as_str() {
        "suspend" => OrderKind::Suspend,
        "resume" => OrderKind::Resume,
        "sim-swap" => OrderKind::SimSwap,
        _ => return Err(ApiError::unknown_operation(&op)),
    };
    if !s.supervisor {
        return Err(ApiError::clerk_not_supervisor());
    }
    let key = idempotency_key(&headers)?;
    let key = format!("terminal/{}/{}/{key}", s.device.store, s.device.terminal);
    let value = match kind {
        OrderKind::SimSwap => read_json(&state, &headers, body).await?,
        _ => json!({"reason": SuspensionReason::LostOrStolen.as_str()}),
    };
    let req = parse_operation(kind, &value)?;
    // Operator rights for this one order, which the terminal restricts to these three
    // operations and the one reason.
    let caller = Caller {
        tenant: s.device.tenant.clone(),
        role: Role::Operator,
        key_prefix: terminal_key(&s),
    };
    let channel = store_channel(&s);
    operate_checked(
        &state,
        caller,
        &msisdn,
        kind,
        key,
        &value,
        req,
        Some(channel),
    )
    .await
}

/// `POST /terminal/api/lines/{msisdn}/verification` `{"risk_notice": "…", "face_match":
/// {…}}`: the customer's second real-person verification at the counter, by any
/// signed-in clerk. The gateway puts it to the identity verifier (the page never states a
/// result), with the session's store channel; the answer is the API's.
async fn verify(
    state: &AppState,
    s: &super::session::SignedIn,
    msisdn: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let msisdn = msisdn
        .parse()
        .map_err(|_| ApiError::subscription_not_found())?;
    let value = read_json(state, headers, body).await?;
    let root = object(&value, "")
        .map_err(|_| ApiError::invalid("invalid_type", "", "the body must be a JSON object"))?;
    no_unknown(root, "", &["risk_notice", "face_match"])?;
    let member = |k: &str| root.get(k).cloned().unwrap_or(Value::Null);
    let api_body = json!({
        "evidence": {"risk_notice": {"id": member("risk_notice")}, "face_match": member("face_match")},
        "channel": store_channel(s),
    });
    let caller = Caller {
        tenant: s.device.tenant.clone(),
        role: Role::Channel,
        key_prefix: terminal_key(s),
    };
    crate::api::verification::verify_checked(state, caller, msisdn, &api_body).await
}

/// The session's store channel, as orders and verifications carry it.
fn store_channel(s: &super::session::SignedIn) -> Value {
    json!({
        "kind": "store",
        "store_id": s.device.store,
        "terminal_id": s.device.terminal,
        "staff_id": s.clerk,
    })
}

/// Who acts, for audit records: the terminal.
fn terminal_key(s: &super::session::SignedIn) -> String {
    format!("terminal:{}/{}", s.device.store, s.device.terminal)
}

/// The page's view of a clerk's rights (in the session object).
pub(super) fn rights(supervisor: bool) -> Value {
    json!({"sell": true, "look_up": true, "after_sales": supervisor})
}

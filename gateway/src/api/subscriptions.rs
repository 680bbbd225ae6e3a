//! Subscriptions and lifecycle orders: `GET /v1/subscriptions[/{msisdn}[/history]]`,
//! `POST /v1/subscriptions/{msisdn}/{operation}` and `GET /v1/orders/{id}`.

use super::AppState;
use super::activations::new_esim_codes;
use super::admission::{Admission, admit};
use super::auth::{Caller, Permission, authenticate};
use super::dto::{MsisdnRequest, SimRequest, render_order};
use super::lifecycle_dto::{
    parse_operation, render_history, render_lifecycle, render_subscription,
};
use super::problem::ApiError;
use super::request::{
    PathParam, body_fingerprint, idempotency_key, json_response, limit_param, read_json_or_empty,
    replayed,
};
use crate::order::{Actor, Order, OrderKind, SuspensionReason};
use crate::store::{
    LifecycleOutcome, LifecycleRejection, NewLifecycle, NumberChoice, PortItemBody, Subscription,
    SubscriptionQuery, SubscriptionState, SwapSim,
};
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use ring::rand::SystemRandom;
use serde_json::{Value, json};
use sim_profiles::{Iccid, Msisdn};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

/// Largest page of `GET /v1/subscriptions`.
const MAX_LIMIT: usize = 500;

fn msisdn_param(p: PathParam) -> Result<Msisdn, ApiError> {
    p.value()?
        .parse::<Msisdn>()
        .map_err(|_| ApiError::subscription_not_found())
}

/// The caller's line with the number in the path (any role may read).
async fn line(
    state: &AppState,
    headers: &HeaderMap,
    msisdn: PathParam,
) -> Result<Subscription, ApiError> {
    let caller = authenticate(state, headers).await?;
    caller.require(Permission::Read)?;
    let m = msisdn_param(msisdn)?;
    state
        .store
        .subscription(&caller.tenant, m.as_str())
        .await?
        .ok_or_else(ApiError::subscription_not_found)
}

/// `GET /v1/subscriptions/{msisdn}`.
pub async fn get(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    msisdn: PathParam,
) -> Result<Response, ApiError> {
    let sub = line(&state, &headers, msisdn).await?;
    Ok(json_response(StatusCode::OK, &render_subscription(&sub)))
}

/// `GET /v1/subscriptions/{msisdn}/history`.
pub async fn history(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    msisdn: PathParam,
) -> Result<Response, ApiError> {
    let sub = line(&state, &headers, msisdn).await?;
    let data: Vec<Value> = sub.history.iter().map(render_history).collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({"msisdn": sub.msisdn, "subscription_id": sub.id, "data": data}),
    ))
}

/// `GET /v1/subscriptions?state=…&iccid=…&limit=…&cursor=…`.
pub async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Read)?;
    let (q, shown) = list_query(raw.as_deref().unwrap_or(""))?;
    let page = state.store.subscriptions(&caller.tenant, &q).await?;
    // The store files a line pending verification as active; the state shown tells them
    // apart (a page may then hold fewer lines than `limit`; `next_cursor` still pages on).
    let data: Vec<Value> = page
        .data
        .iter()
        .filter(|s| shown.is_none_or(|want| crate::store::api_state(s) == want))
        .map(render_subscription)
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({"data": data, "next_cursor": page.next}),
    ))
}

/// The store's query, and the `state` the lines shown must have (`pending_verification`
/// is stored as `active`).
fn list_query(raw: &str) -> Result<(SubscriptionQuery, Option<&'static str>), ApiError> {
    let mut q = SubscriptionQuery {
        limit: 50,
        ..SubscriptionQuery::default()
    };
    let mut shown = None;
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "state" => {
                let (stored, name) = match v {
                    "pending_verification" => (SubscriptionState::Active, "pending_verification"),
                    _ => {
                        let s = SubscriptionState::parse(v).ok_or_else(|| {
                            ApiError::invalid(
                                "invalid_value",
                                "state",
                                "`state` must be `active`, `pending_verification`, `suspended` or `terminated`",
                            )
                        })?;
                        (s, s.as_str())
                    }
                };
                q.state = Some(stored);
                shown = Some(name);
            }
            "iccid" => {
                q.iccid = Some(v.parse::<Iccid>().map_err(|e| {
                    ApiError::invalid(
                        "invalid_iccid",
                        "iccid",
                        format!("`iccid` is not a valid ICCID: {e}"),
                    )
                })?);
            }
            "limit" => q.limit = limit_param(Some(v), 50, MAX_LIMIT)?,
            "cursor" => {
                let ok = v.starts_with("sub_")
                    && v.len() <= 64
                    && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                if !ok {
                    return Err(ApiError::invalid(
                        "invalid_cursor",
                        "cursor",
                        "`cursor` must be a `next_cursor` value from a previous page",
                    ));
                }
                q.after = Some(v.to_owned());
            }
            _ => {
                let shown: String = k.chars().take(32).filter(char::is_ascii_graphic).collect();
                return Err(ApiError::invalid(
                    "unknown_parameter",
                    &shown,
                    format!(
                        "unknown query parameter `{shown}`; allowed: state, iccid, limit, cursor"
                    ),
                ));
            }
        }
    }
    Ok((q, shown))
}

/// `GET /v1/orders/{id}`: an order of any kind.
pub async fn get_order(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    id: PathParam,
) -> Result<Response, ApiError> {
    let order = caller_order(&state, &headers, id, Permission::Read).await?;
    Ok(json_response(
        StatusCode::OK,
        &render_any(&state, &order).await?,
    ))
}

/// Order `id` (any kind) of the caller's tenant, once the caller is authenticated and
/// holds `permission`: `404 order_not_found` for an unknown id and for another tenant's.
pub(super) async fn caller_order(
    state: &AppState,
    headers: &HeaderMap,
    id: PathParam,
    permission: Permission,
) -> Result<Order, ApiError> {
    let caller = authenticate(state, headers).await?;
    caller.require(permission)?;
    let id = id.value()?;
    state
        .store
        .get_order(&caller.tenant, &id)
        .await?
        .ok_or_else(ApiError::order_not_found)
}

/// Any order as the API shows it: an activation as on `/v1/activations/{id}` (with
/// `kind`), a lifecycle order with its saga.
async fn render_any(state: &AppState, order: &Order) -> Result<Value, ApiError> {
    let cc = crate::order::open_confirmation_code(&state.keys, order)
        .ok()
        .flatten();
    if order.kind != OrderKind::Activation {
        return Ok(render_lifecycle(order, cc.as_deref().map(|c| c.as_str())));
    }
    let progress = match order.esim {
        Some(_) => state.store.esim_progress(&order.id).await?,
        None => None,
    };
    let mut v = render_order(order, progress.as_ref(), cc.as_deref().map(|c| c.as_str()));
    v["kind"] = Value::String("activation".into());
    Ok(v)
}

/// `POST /v1/subscriptions/{msisdn}/{operation}`: answers `202` with the order once it
/// is durable (and what it needs reserved).
pub async fn operate(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    params: PathParam<(String, String)>,
    body: Body,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    let (msisdn, op) = params.value()?;
    let kind = OrderKind::from_operation(&op).ok_or_else(|| ApiError::unknown_operation(&op))?;
    caller.require(Permission::Lifecycle)?;
    let key = idempotency_key(&headers)?;
    let value = read_json_or_empty(&state, &headers, body).await?;
    let req = parse_operation(kind, &value)?;
    if kind == OrderKind::Resume && req.reason.is_some_and(|r| r.protected()) {
        caller.require(Permission::LiftProtectedSuspension)?;
    }
    operate_checked(&state, caller, &msisdn, kind, key, &value, req, None).await
}

/// A lifecycle order of `kind` on line `msisdn` for `caller`, whose rights the caller of
/// this function checked, from the parsed body `req` (`value` as sent) under
/// Idempotency-Key `key`; `channel`: the store channel it was asked from (the terminal).
#[allow(clippy::too_many_arguments)]
pub(super) async fn operate_checked(
    state: &AppState,
    caller: Caller,
    msisdn: &str,
    kind: OrderKind,
    key: String,
    value: &Value,
    req: super::lifecycle_dto::OperationRequest,
    channel: Option<Value>,
) -> Result<Response, ApiError> {
    let msisdn: Msisdn = msisdn
        .parse()
        .map_err(|_| ApiError::subscription_not_found())?;
    let order_id = crate::crypto::order_id(&SystemRandom::new(), "ord_", state.clock.now_ms())
        .map_err(|_| ApiError::internal())?;
    let sim = match req.sim {
        None => None,
        Some(SimRequest::Physical(i)) => Some(SwapSim::Physical(i)),
        Some(SimRequest::Esim(_)) if !state.engine.esim_enabled() => {
            return Err(ApiError::unsupported(
                "sim_type_unsupported",
                "sim.type",
                "eSIM is not enabled on this gateway (no SM-DP+ is configured); swap to a physical card",
            ));
        }
        Some(SimRequest::Esim(eid)) => {
            let wants_cc = state
                .store
                .tenant(&caller.tenant)
                .await?
                .is_some_and(|t| t.esim_confirmation_code);
            let (matching_id, confirmation_code) =
                new_esim_codes(wants_cc, &order_id, &state.keys)?;
            Some(SwapSim::Esim {
                eid,
                matching_id,
                confirmation_code,
            })
        }
    };
    let number = match req.msisdn {
        None => None,
        Some(MsisdnRequest::Auto) => Some(NumberChoice::Auto),
        Some(MsisdnRequest::Choose(m)) => Some(NumberChoice::Choose(m)),
        Some(MsisdnRequest::Reservation(id)) => Some(NumberChoice::Reservation(id)),
        Some(MsisdnRequest::PortIn(_)) => {
            return Err(ApiError::unsupported(
                "msisdn_mode_unsupported",
                "msisdn.mode",
                "a number change takes a number from your pool (`auto`, `choose` or `reservation`); porting a number in is not enabled on this gateway yet",
            ));
        }
    };
    // The operation and the line are part of what the key stands for.
    let body_hash = body_fingerprint(
        &state.keys,
        &json!({"operation": kind.as_str(), "msisdn": msisdn, "body": value}),
    )?;
    let _place = match admit(state, &caller.tenant, &key, &body_hash).await? {
        Admission::Admitted(place) => place,
        Admission::Replay(order) => {
            state.metrics.orders_replayed.fetch_add(1, Relaxed);
            return Ok(replayed(accepted(state, &order)));
        }
    };
    let now_ms = state.clock.now_ms();
    let ttl_ms = state.config.engine.idempotency_ttl().as_millis() as u64;
    let Caller {
        tenant,
        role,
        key_prefix,
    } = caller;
    let lost = kind == OrderKind::Suspend && req.reason == Some(SuspensionReason::LostOrStolen);
    let tenant_id = tenant.clone();
    let outcome = state
        .store
        .create_lifecycle(NewLifecycle {
            tenant,
            msisdn,
            kind,
            idempotency_key: key,
            body_hash,
            order_id,
            actor: Actor {
                key_prefix,
                role: role.as_str().into(),
            },
            reason: req.reason,
            sim,
            number,
            port: None,
            channel,
            now_ms,
            random: crate::crypto::random_u64(&SystemRandom::new()),
            idempotency_cutoff_ms: now_ms.saturating_sub(ttl_ms),
            plan: crate::engine::machine::plan,
            send_ahead: Some(crate::engine::machine::mark_next_sent),
            verification: false,
        })
        .await?;
    match outcome {
        LifecycleOutcome::Created(order) => {
            state.metrics.orders_created.fetch_add(1, Relaxed);
            let r = accepted(state, &order);
            state.engine.submit_created(order);
            Ok(r)
        }
        LifecycleOutcome::Replayed(order) => {
            state.metrics.orders_replayed.fetch_add(1, Relaxed);
            Ok(replayed(accepted(state, &order)))
        }
        LifecycleOutcome::KeyReused => Err(ApiError::idempotency_key_reused()),
        LifecycleOutcome::Rejected(LifecycleRejection::Busy(busy)) if lost => {
            Err(withdraw_port_out(state, &tenant_id, busy).await?)
        }
        LifecycleOutcome::Rejected(r) => Err(ApiError::lifecycle_rejection(r)),
    }
}

/// A line reported lost or stolen while a port-out of its number is open (a lost line may
/// not port out): before the lock point the port-out is withdrawn (an inbox item its
/// order applies: refused if not yet answered, else cancelled at the hub) and the caller
/// is told to repeat the suspend once that order has ended; otherwise the usual
/// `subscription_busy`. Returns the problem to answer.
async fn withdraw_port_out(
    state: &AppState,
    tenant: &str,
    busy: String,
) -> Result<ApiError, ApiError> {
    let now = state.clock.now_ms();
    let order = state.store.get_order(tenant, &busy).await?;
    match order {
        Some(o) if crate::engine::machine::port_out::withdrawable(&o, now) => {
            let key = crate::store::withdraw_item_key(&o.id);
            super::ports::queue_item(state, &o, key, PortItemBody::Withdraw, now).await?;
            Ok(ApiError::port_out_withdrawn(busy))
        }
        _ => Ok(ApiError::lifecycle_rejection(LifecycleRejection::Busy(
            busy,
        ))),
    }
}

/// `202` with the order and its `Location`.
fn accepted(state: &AppState, order: &Order) -> Response {
    let cc = crate::order::open_confirmation_code(&state.keys, order)
        .ok()
        .flatten();
    let body = render_lifecycle(order, cc.as_deref().map(|c| c.as_str()));
    let mut r = json_response(StatusCode::ACCEPTED, &body);
    if let Ok(loc) = HeaderValue::from_str(&format!("/v1/orders/{}", order.id)) {
        r.headers_mut().insert(header::LOCATION, loc);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_queries_are_checked() {
        let (q, shown) = list_query("state=suspended&limit=10&cursor=sub_ABC").expect("valid");
        assert_eq!(q.state, Some(SubscriptionState::Suspended));
        assert_eq!(shown, Some("suspended"));
        assert_eq!((q.limit, q.after.as_deref()), (10, Some("sub_ABC")));
        let (q, shown) = list_query("state=pending_verification").expect("valid");
        assert_eq!(
            (q.state, shown),
            (
                Some(SubscriptionState::Active),
                Some("pending_verification")
            )
        );
        for (raw, code) in [
            ("state=gone", "invalid_value"),
            ("limit=0", "invalid_value"),
            ("limit=501", "invalid_value"),
            ("cursor=x", "invalid_cursor"),
            ("iccid=12", "invalid_iccid"),
            ("foo=1", "unknown_parameter"),
        ] {
            assert_eq!(list_query(raw).expect_err(raw).code(), code, "{raw}");
        }
    }
}

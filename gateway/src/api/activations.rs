//! `POST /v1/activations` and `GET /v1/activations/{id}`.

use super::AppState;
use super::admission::{Admission, admit};
use super::auth::{Caller, Permission, authenticate};
use super::compliance_check;
use super::dto::{MsisdnRequest, SimRequest, parse_activation, render_order};
use super::problem::ApiError;
use super::request::{
    PathParam, body_fingerprint, idempotency_key, json_response, read_json, replayed,
};
use crate::engine::Asker;
use crate::order::{Order, OrderStatus};
use crate::store::{CreateOutcome, NewActivation, NumberChoice, SimChoice};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use ring::rand::SystemRandom;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

/// `202` with the order and its `Location`.
fn accepted(state: &AppState, order: &crate::order::Order) -> Response {
    let cc = confirmation_code(state, order);
    let mut r = json_response(
        StatusCode::ACCEPTED,
        &render_order(order, None, cc.as_deref().map(|c| c.as_str())),
    );
    if let Ok(loc) = HeaderValue::from_str(&format!("/v1/activations/{}", order.id)) {
        r.headers_mut().insert(header::LOCATION, loc);
    }
    r
}

/// Creates an activation order. Answers 202 once the order and its reservations are durable.
pub async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let started = tokio::time::Instant::now();
    let result = create_inner(&state, &headers, body).await;
    state
        .metrics
        .activation_post_latency
        .observe(started.elapsed());
    if result.as_ref().is_err_and(|e| {
        matches!(
            e.code(),
            "sim_not_available"
                | "unknown_iccid"
                | "msisdn_not_available"
                | "number_pool_exhausted"
                | "esim_stock_out"
        )
    }) {
        state.metrics.orders_rejected.fetch_add(1, Relaxed);
    }
    result
}

async fn create_inner(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let caller = authenticate(state, headers).await?;
    caller.require(Permission::Activate)?;
    let key = idempotency_key(headers)?;
    let value = read_json(state, headers, body).await?;
    create_checked(state, &caller, key, value).await
}

/// Creates an activation order for `caller`, whose right to activate is checked, from
/// the request body `value` under Idempotency-Key `key` (the API and the store terminal).
pub(super) async fn create_checked(
    state: &AppState,
    caller: &Caller,
    key: String,
    value: serde_json::Value,
) -> Result<Response, ApiError> {
    let req = parse_activation(&value)?;
    let tenant = compliance_check::tenant_of(state, caller).await?;
    let sim_kind = compliance_check::sim_kind(&req.sim);

    let order_id = crate::crypto::order_id(&SystemRandom::new(), "act_", state.clock.now_ms())
        .map_err(|_| ApiError::internal())?;
    let sim = match req.sim {
        SimRequest::Physical(i) => SimChoice::Physical(i),
        SimRequest::Esim(_) if !state.engine.esim_enabled() => {
            return Err(ApiError::unsupported(
                "sim_type_unsupported",
                "sim.type",
                "eSIM activations are not enabled on this gateway (no SM-DP+ is configured); use a physical SIM",
            ));
        }
        SimRequest::Esim(eid) => {
            let (matching_id, confirmation_code) =
                new_esim_codes(tenant.esim_confirmation_code, &order_id, &state.keys)?;
            SimChoice::Esim {
                eid,
                matching_id,
                confirmation_code,
            }
        }
    };
    let (number, port) = match req.msisdn {
        MsisdnRequest::Auto => (NumberChoice::Auto, None),
        MsisdnRequest::Choose(m) => (NumberChoice::Choose(m), None),
        MsisdnRequest::Reservation(id) => (NumberChoice::Reservation(id), None),
        MsisdnRequest::PortIn(port) => {
            // Every local check before anything is reserved or reaches the hub.
            let checked = super::port_in::check(&state.config.porting, &tenant, &port)?;
            if !state.engine.porting_enabled() {
                return Err(super::port_in::not_enabled());
            }
            let now = state.clock.now_ms();
            let (number, p) = super::port_in::build(&state.keys, &order_id, &port, &checked, now)?;
            (number, Some(p))
        }
    };
    let body_hash = body_fingerprint(&state.keys, &value)?;
    // Held until the engine has taken the order (it then counts the order itself).
    let _place = match admit(state, &caller.tenant, &key, &body_hash).await? {
        Admission::Admitted(place) => place,
        Admission::Replay(order) => {
            state.metrics.orders_replayed.fetch_add(1, Relaxed);
            return Ok(replayed(accepted(state, &order)));
        }
    };
    let check = compliance_check::checked(
        state,
        caller,
        &tenant,
        sim_kind,
        req.subscriber.as_ref(),
        req.channel.as_ref(),
    )?;
    let plain = req
        .subscriber
        .as_ref()
        .map(|s| compliance_check::sealed_form(&check, s))
        .transpose()?;
    let asker = Asker {
        order_id: &order_id,
        tenant: &caller.tenant,
        channel: req.channel.as_ref(),
    };
    let check = compliance_check::verified_first(
        state,
        asker,
        plain.as_deref().map(|p| p.as_slice()),
        check,
    )
    .await;
    let subscriber = match plain {
        Some(plain) => Some(
            state
                .keys
                .seal(&crate::order::subscriber_context(&order_id), &plain)
                .map_err(|_| ApiError::internal())?,
        ),
        None => None,
    };
    let now_ms = state.clock.now_ms();
    let ttl_ms = state.config.engine.idempotency_ttl().as_millis() as u64;
    let outcome = state
        .store
        .create_activation(NewActivation {
            tenant: caller.tenant.clone(),
            idempotency_key: key,
            body_hash,
            order_id,
            sim,
            number,
            product: req.product,
            channel: req.channel,
            subscriber,
            now_ms,
            random: crate::crypto::random_u64(&SystemRandom::new()),
            idempotency_cutoff_ms: now_ms.saturating_sub(ttl_ms),
            compliance: Some(check),
            port,
            send_ahead: Some(crate::engine::machine::mark_next_sent),
        })
        .await?;
    match outcome {
        CreateOutcome::Created(order) => {
            state.metrics.orders_created.fetch_add(1, Relaxed);
            let r = accepted(state, &order);
            state.engine.submit_created(order);
            Ok(r)
        }
        CreateOutcome::Replayed(order) => {
            state.metrics.orders_replayed.fetch_add(1, Relaxed);
            Ok(replayed(accepted(state, &order)))
        }
        CreateOutcome::KeyReused => Err(ApiError::idempotency_key_reused()),
        CreateOutcome::Rejected(r) => Err(ApiError::rejection(r)),
        CreateOutcome::Refused(r) => Err(ApiError::refusal(r.refusal)),
    }
}

/// `POST /v1/activations/validate`: every compliance check an order with this body
/// would meet in its create commit, reserving and counting nothing (a store terminal
/// asks before taking payment). `200 {"ok": true}` or the problem the order would get.
pub async fn validate(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Activate)?;
    let value = read_json(&state, &headers, body).await?;
    validate_checked(&state, &caller, &value).await
}

/// Every check of `POST /v1/activations/validate` for `caller`, whose right to activate
/// is checked (the API and the store terminal).
pub(super) async fn validate_checked(
    state: &AppState,
    caller: &Caller,
    value: &serde_json::Value,
) -> Result<Response, ApiError> {
    let req = parse_activation(value)?;
    let tenant = compliance_check::tenant_of(state, caller).await?;
    let check = compliance_check::checked(
        state,
        caller,
        &tenant,
        compliance_check::sim_kind(&req.sim),
        req.subscriber.as_ref(),
        req.channel.as_ref(),
    )?;
    if !tenant.products.contains_key(&req.product) {
        return Err(ApiError::rejection(crate::store::Rejection::UnknownProduct));
    }
    let now_ms = state.clock.now_ms();
    match state
        .store
        .validate_activation(&caller.tenant, &check, now_ms)
        .await?
    {
        crate::compliance::Decision::Allow(a) => Ok(json_response(
            StatusCode::OK,
            &serde_json::json!({
                "ok": true,
                "policy_version": check.policy.version,
                "verification_required": !a.risk_hits.is_empty(),
            }),
        )),
        crate::compliance::Decision::Refuse(r) => Err(ApiError::refusal(r.refusal)),
    }
}

/// Reads an order of the caller's tenant.
pub async fn get(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    id: PathParam,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Read)?;
    let id = id.value()?;
    let order = state
        .store
        .get_order(&caller.tenant, &id)
        .await?
        .filter(|o| o.kind == crate::order::OrderKind::Activation)
        .ok_or_else(ApiError::activation_not_found)?;
    Ok(json_response(StatusCode::OK, &view(&state, &order).await?))
}

/// The public JSON of an activation as `GET /v1/activations/{id}` shows it: with its
/// eSIM progress and its confirmation code.
pub(super) async fn view(state: &AppState, order: &Order) -> Result<serde_json::Value, ApiError> {
    let progress = match order.esim {
        Some(_) => state.store.esim_progress(&order.id).await?,
        None => None,
    };
    let cc = confirmation_code(state, order);
    Ok(render_order(
        order,
        progress.as_ref(),
        cc.as_deref().map(|c| c.as_str()),
    ))
}

/// The order's confirmation code in clear, for the reseller to deliver on a channel apart
/// from the activation code (never logged). `None` when the order has none.
fn confirmation_code(state: &AppState, order: &Order) -> Option<zeroize::Zeroizing<String>> {
    crate::order::open_confirmation_code(&state.keys, order)
        .ok()
        .flatten()
}

/// A fresh MatchingID for order `order_id` and, if the tenant uses them (`wants_cc`), a fresh
/// confirmation code sealed to the order (it never exists in clear beyond this call).
pub(super) fn new_esim_codes(
    wants_cc: bool,
    order_id: &str,
    keys: &crate::crypto::Keyring,
) -> Result<(String, Option<crate::crypto::Sealed>), ApiError> {
    let rng = SystemRandom::new();
    let confirmation_code = if wants_cc {
        let cc = zeroize::Zeroizing::new(new_confirmation_code(&rng)?);
        Some(
            keys.seal(
                &crate::order::confirmation_code_context(order_id),
                cc.as_bytes(),
            )
            .map_err(|_| ApiError::internal())?,
        )
    } else {
        None
    };
    Ok((new_matching_id(&rng)?, confirmation_code))
}

/// Symbols of generated MatchingIDs: digits and upper-case letters without I, L, O and U
/// (Crockford), which read back unambiguously; all are legal in a MatchingID and in the
/// QR alphanumeric mode.
const MATCHING_ID_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A fresh MatchingID: 20 symbols (100 random bits) in groups of four, e.g.
/// `K7QF-M3XH-8PZ2-R9DW-4T6C`. Generated here rather than by the SM-DP+ so that a
/// repeated ConfirmOrder is identical and the activation code is known in advance.
pub fn new_matching_id(rng: &SystemRandom) -> Result<String, ApiError> {
    let mut bytes = [0u8; 20];
    ring::rand::SecureRandom::fill(rng, &mut bytes).map_err(|_| ApiError::internal())?;
    let mut out = String::with_capacity(24);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(char::from(MATCHING_ID_ALPHABET[usize::from(b & 31)]));
    }
    Ok(out)
}

/// A fresh confirmation code: eight ASCII digits (SGP.22 §4.7; hashed as ASCII by LPAs).
fn new_confirmation_code(rng: &SystemRandom) -> Result<String, ApiError> {
    let mut bytes = [0u8; 8];
    ring::rand::SecureRandom::fill(rng, &mut bytes).map_err(|_| ApiError::internal())?;
    let n = u64::from_le_bytes(bytes) % 100_000_000;
    Ok(format!("{n:08}"))
}

/// The QR image format served.
#[derive(Clone, Copy)]
pub(super) enum QrFormat {
    Png,
    Svg,
}

async fn qr(
    state: &AppState,
    headers: &HeaderMap,
    id: PathParam,
    format: QrFormat,
) -> Result<Response, ApiError> {
    let caller = authenticate(state, headers).await?;
    caller.require(Permission::Read)?;
    let id = id.value()?;
    let order = state
        .store
        .get_order(&caller.tenant, &id)
        .await?
        .ok_or_else(ApiError::activation_not_found)?;
    qr_image(&order, format)
}

/// The activation-code QR of an eSIM order (`LPA:` + its code), once released.
pub(super) fn qr_image(order: &Order, format: QrFormat) -> Result<Response, ApiError> {
    let Some(e) = &order.esim else {
        return Err(ApiError::not_an_esim());
    };
    // Shown once released (an activation is then `active`; a SIM swap releases before
    // it moves the number), never once the order is being undone.
    let code = match (&e.activation_code, order.status) {
        (Some(c), s) if !matches!(s, OrderStatus::Compensating | OrderStatus::Failed) => c,
        _ => return Err(ApiError::activation_code_not_ready(order.status.as_str())),
    };
    let text = format!("LPA:{code}");
    let (body, content_type) = match format {
        QrFormat::Png => (
            crate::qr::qr_png(&text).map_err(|_| ApiError::internal())?,
            "image/png",
        ),
        QrFormat::Svg => (
            crate::qr::qr_svg(&text)
                .map_err(|_| ApiError::internal())?
                .into_bytes(),
            "image/svg+xml",
        ),
    };
    let mut r = Response::new(Body::from(body));
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // The code is a bearer credential: never cache it in shared caches.
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(r)
}

/// `GET /v1/activations/{id}/qr.png`: the activation code as a QR image (`LPA:` + code).
pub async fn qr_png(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    id: PathParam,
) -> Result<Response, ApiError> {
    qr(&state, &headers, id, QrFormat::Png).await
}

/// `GET /v1/activations/{id}/qr.svg`: the same QR as SVG.
pub async fn qr_svg(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    id: PathParam,
) -> Result<Response, ApiError> {
    qr(&state, &headers, id, QrFormat::Svg).await
}

//! A terminal's sales: the API's own activation code run for the signed-in clerk, with
//! the order's `channel` written from the sessions (store, terminal, clerk), and the
//! sales this terminal made, which only it can read.

use super::session::{SignedIn, signed_in};
use super::{AppState, Stored, load, remember};
use crate::api::activations::{self, QrFormat};
use crate::api::auth::Caller;
use crate::api::dto::{no_unknown, object};
use crate::api::problem::ApiError;
use crate::api::request::{PathParam, idempotency_key, json_response, read_json};
use crate::order::{Order, OrderKind};
use crate::store::Role;
use crate::terminal::records::{Recent, sales_key};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use std::sync::Arc;

/// At most this many sales are listed.
const LISTED: usize = 50;

/// The API caller a signed-in terminal acts as: a channel of its tenant, named after the
/// terminal in audit records.
fn caller(s: &SignedIn) -> Caller {
    Caller {
        tenant: s.device.tenant.clone(),
        role: Role::Channel,
        key_prefix: format!("terminal:{}/{}", s.device.store, s.device.terminal),
    }
}

/// The activation request of a sale: the page's body (without `channel`) plus the
/// channel of the session.
fn activation_body(s: &SignedIn, sale: Value) -> Result<Value, ApiError> {
    let m = object(&sale, "body")?;
    no_unknown(m, "", &["product", "sim", "msisdn", "subscriber"])?;
    // A number is picked through a hold (`/terminal/api/holds`, where the golden rule is
    // checked), never chosen outright; porting in is not sold on the terminal yet.
    let mode = m
        .get("msisdn")
        .and_then(|n| n.get("mode"))
        .and_then(Value::as_str);
    if !matches!(mode, None | Some("auto" | "reservation")) {
        return Err(ApiError::invalid(
            "invalid_value",
            "msisdn.mode",
            "on the store terminal `msisdn.mode` is `auto`, or `reservation` with the hold of the number picked",
        ));
    }
    let mut v = sale;
    v["channel"] = json!({
        "kind": "store",
        "store_id": s.device.store,
        "terminal_id": s.device.terminal,
        "staff_id": s.clerk,
    });
    Ok(v)
}

/// Whether `order` was sold by this terminal.
fn sold_here(s: &SignedIn, order: &Order) -> bool {
    let c = order.channel.as_ref();
    let field = |k: &str| c.and_then(|c| c.get(k)).and_then(Value::as_str);
    order.kind == OrderKind::Activation
        && field("store_id") == Some(s.device.store.as_str())
        && field("terminal_id") == Some(s.device.terminal.as_str())
}

/// `POST /terminal/api/sales/validate`: every check the sale would meet, reserving
/// nothing.
pub(super) async fn validate(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let s = signed_in(&state, &headers, true).await?;
    let sale = read_json(&state, &headers, body).await?;
    let value = activation_body(&s, sale)?;
    activations::validate_checked(&state, &caller(&s), &value).await
}

/// `POST /terminal/api/sales`: the sale as an activation order, idempotent by the page's
/// `Idempotency-Key` (scoped to this terminal), then listed in its recent sales.
pub(super) async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let s = signed_in(&state, &headers, true).await?;
    let key = scoped_key(&s, &idempotency_key(&headers)?);
    let sale = read_json(&state, &headers, body).await?;
    let value = activation_body(&s, sale)?;
    let resp = activations::create_checked(&state, &caller(&s), key, value).await?;
    let order_id = resp
        .headers()
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .and_then(|l| l.rsplit('/').next())
        .map(str::to_owned);
    if let Some(id) = order_id {
        // After the order's commit: a crash in between leaves the order (found by its
        // Idempotency-Key on the page's retry, which lists it then) but not the listing.
        let key = sales_key(&s.device.store, &s.device.terminal);
        remember(&state, &s, &key, &id, "terminal.sale").await?;
    }
    Ok(resp)
}

/// A page's Idempotency-Key as the store files it: scoped to this terminal, so no other
/// terminal's key can collide with it or find its sale.
fn scoped_key(s: &SignedIn, key: &str) -> String {
    format!("terminal/{}/{}/{key}", s.device.store, s.device.terminal)
}

/// `GET /terminal/api/sales/by-key/{key}`: the sale this terminal created under its
/// Idempotency-Key, if any. A page reloaded while its confirmation was in flight asks
/// this instead of keeping the request body (with the customer's ID) in the browser:
/// `200` the order (follow it), or `404 order_not_found` (nothing was created; confirm
/// again, with the same key).
pub(super) async fn by_key(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    key: PathParam,
) -> Result<Response, ApiError> {
    let s = signed_in(&state, &headers, false).await?;
    let key = key.value()?;
    let record = state
        .store
        .activation_idempotency(&s.device.tenant, &scoped_key(&s, &key))
        .await?
        .ok_or_else(ApiError::sale_not_found)?;
    let order = state
        .store
        .get_order(&s.device.tenant, &record.order_id)
        .await?
        .filter(|o| sold_here(&s, o))
        .ok_or_else(ApiError::sale_not_found)?;
    remember(
        &state,
        &s,
        &sales_key(&s.device.store, &s.device.terminal),
        &order.id,
        "terminal.sale",
    )
    .await?;
    Ok(json_response(
        StatusCode::OK,
        &activations::view(&state, &order).await?,
    ))
}

/// `GET /terminal/api/sales`: this terminal's sales of the last 24 hours, newest first.
pub(super) async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let s = signed_in(&state, &headers, false).await?;
    let key = sales_key(&s.device.store, &s.device.terminal);
    let recent: Option<Stored<Recent>> = load(&state, &s.device.tenant, &key).await?;
    let now = state.clock.now_ms();
    let mut sales = Vec::new();
    if let Some(r) = recent {
        for id in r.value.newest_first(now).into_iter().take(LISTED) {
            if let Some(o) = state.store.get_order(&s.device.tenant, id).await? {
                sales.push(activations::view(&state, &o).await?);
            }
        }
    }
    Ok(json_response(StatusCode::OK, &json!({"sales": sales})))
}

/// A sale of this terminal, or `404`.
async fn own_sale(state: &AppState, s: &SignedIn, id: PathParam) -> Result<Order, ApiError> {
    let id = id.value()?;
    state
        .store
        .get_order(&s.device.tenant, &id)
        .await?
        .filter(|o| sold_here(s, o))
        .ok_or_else(ApiError::sale_not_found)
}

/// `GET /terminal/api/sales/{id}`: the order, as `GET /v1/activations/{id}` shows it.
pub(super) async fn get(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    id: PathParam,
) -> Result<Response, ApiError> {
    let s = signed_in(&state, &headers, false).await?;
    let order = own_sale(&state, &s, id).await?;
    let mut r = json_response(StatusCode::OK, &activations::view(&state, &order).await?);
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(r)
}

/// `GET /terminal/api/sales/{id}/qr.svg`: the eSIM's activation-code QR.
pub(super) async fn qr_svg(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    id: PathParam,
) -> Result<Response, ApiError> {
    let s = signed_in(&state, &headers, false).await?;
    let order = own_sale(&state, &s, id).await?;
    activations::qr_image(&order, QrFormat::Svg)
}

//! `/terminal/…`: the store terminal's page and the calls it makes (docs/terminal.md).
//! The page authenticates with session cookies, never an API key: a device session from
//! a one-time pairing code, then a clerk session from a clerk's PIN. A sale becomes a
//! call of the API's own activation code under a `Caller` built from both sessions, with
//! the order's `channel` written from them, so attribution cannot come from the page.
//!
//! Every answer under `/terminal/` carries the page's Content-Security-Policy and the
//! other security headers (`terminal::assets`).

pub(super) mod devices;
mod lines;
mod numbers;
mod sales;
mod session;

use super::AppState;
use super::problem::ApiError;
use crate::compliance::audit::{Actor, AuditRecord, Outcome};
use crate::compliance::channel::{Member, Registration};
use crate::store::{ComplianceChange, ComplianceChangeOutcome, ComplianceQuery, RegistryEntry};
use crate::terminal::assets;
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// The routes under `/terminal`, with their security headers.
pub(crate) fn router(state: &Arc<AppState>) -> Router<Arc<AppState>> {
    let origin = crate::config::reader_origin(&state.config.terminal.id_reader_url)
        .unwrap_or("")
        .to_owned();
    let csp = HeaderValue::from_str(&assets::content_security_policy(&origin))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
    Router::new()
        .route(
            "/terminal",
            get(|| async { Redirect::permanent("/terminal/") }),
        )
        .route("/terminal/", get(asset))
        .route("/terminal/{*path}", get(asset))
        .route("/terminal/api/pair", post(session::pair))
        .route("/terminal/api/session", get(session::current))
        .route("/terminal/api/sign-in", post(session::sign_in))
        .route("/terminal/api/sign-out", post(session::sign_out))
        .route("/terminal/api/sales", get(sales::list).post(sales::create))
        .route("/terminal/api/sales/validate", post(sales::validate))
        .route("/terminal/api/sales/{id}", get(sales::get))
        .route("/terminal/api/sales/by-key/{key}", get(sales::by_key))
        .route("/terminal/api/sales/{id}/qr.svg", get(sales::qr_svg))
        .route("/terminal/api/numbers", get(numbers::page))
        .route("/terminal/api/lines", get(lines::find))
        .route(
            "/terminal/api/lines/{msisdn}/{operation}",
            post(lines::operate),
        )
        .route("/terminal/api/holds", post(numbers::hold))
        .route(
            "/terminal/api/holds/{id}",
            axum::routing::delete(numbers::release),
        )
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            let csp = csp.clone();
            async move {
                let mut resp = next.run(req).await;
                assets::security_headers(resp.headers_mut(), &csp);
                resp
            }
        }))
}

/// An embedded file of the page (`/terminal/` is `index.html`). The page changes with
/// the binary, so browsers revalidate (`no-cache`) rather than keep an old page.
async fn asset(path: Option<axum::extract::Path<String>>) -> Response {
    let path = path.map(|p| p.0).unwrap_or_default();
    if path.starts_with("api/") {
        return ApiError::route_not_found().into_response();
    }
    match assets::file(&path) {
        Some((content_type, bytes)) => {
            let mut r = Response::new(Body::from(bytes));
            let h = r.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            r
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// A terminal record and the bytes it was read from (what a swap must still find).
struct Stored<T> {
    value: T,
    raw: Vec<u8>,
}

/// The terminal record at `key`, if any.
async fn load<T: DeserializeOwned>(
    state: &AppState,
    tenant: &str,
    key: &str,
) -> Result<Option<Stored<T>>, ApiError> {
    let Some(raw) = state.store.terminal_record(tenant, key).await? else {
        return Ok(None);
    };
    let value = serde_json::from_slice(&raw).map_err(|e| {
        tracing::error!(%tenant, %key, error = %e, "unreadable terminal record");
        ApiError::internal()
    })?;
    Ok(Some(Stored { value, raw }))
}

/// Writes `value` (or removes the record) if it is still what `read` held, with `audit`
/// in the same commit. `false`: it changed meanwhile; nothing was written.
async fn swap<T: Serialize>(
    state: &AppState,
    tenant: &str,
    key: &str,
    read: Option<&[u8]>,
    value: Option<&T>,
    audit: AuditRecord,
) -> Result<bool, ApiError> {
    let value = value
        .map(serde_json::to_vec)
        .transpose()
        .map_err(|_| ApiError::internal())?;
    let change = ComplianceChange::TerminalSwap {
        tenant: tenant.to_owned(),
        key: key.to_owned(),
        expect: read.map(<[u8]>::to_vec),
        value,
    };
    match state.store.compliance_change(change, audit).await? {
        ComplianceChangeOutcome::Applied => Ok(true),
        ComplianceChangeOutcome::Stale => Ok(false),
        ComplianceChangeOutcome::Refused(_) | ComplianceChangeOutcome::NotFound => {
            Err(ApiError::internal())
        }
    }
}

/// How often a compare-and-swap is tried before the call gives up (`503`): only
/// concurrent changes of one record (two tabs of one terminal) make it retry.
const SWAP_TRIES: usize = 8;

/// An audit record of the terminal, by `actor`, about `action`.
fn audit(now_ms: u64, actor: Actor, action: &str, outcome: Outcome) -> AuditRecord {
    AuditRecord {
        at_ms: now_ms,
        actor,
        action: action.to_owned(),
        outcome,
        ..AuditRecord::default()
    }
}

/// The audit actor of a terminal (and clerk, once one is signed in).
fn actor(store: &str, terminal: &str, clerk: Option<&str>) -> Actor {
    Actor {
        key_id: format!("terminal:{store}/{terminal}"),
        channel: "store".to_owned(),
        store: Some(store.to_owned()),
        clerk: clerk.map(str::to_owned),
        device: Some(terminal.to_owned()),
    }
}

/// Lists `id` (an order, or a hold) in the terminal's recent list at `key` (once), audited
/// as `action` of its clerk.
async fn remember(
    state: &AppState,
    s: &session::SignedIn,
    key: &str,
    id: &str,
    action: &str,
) -> Result<(), ApiError> {
    for _ in 0..SWAP_TRIES {
        let now = state.clock.now_ms();
        let cur: Option<Stored<crate::terminal::records::Recent>> =
            load(state, &s.device.tenant, key).await?;
        if cur.as_ref().is_some_and(|c| c.value.contains(id)) {
            return Ok(());
        }
        let next = cur
            .as_ref()
            .map(|c| &c.value)
            .cloned()
            .unwrap_or_default()
            .with(id, now);
        let mut rec = audit(
            now,
            actor(&s.device.store, &s.device.terminal, Some(&s.clerk)),
            action,
            Outcome::Record,
        );
        rec.subject.order_id = Some(id.to_owned());
        let raw = cur.as_ref().map(|c| c.raw.as_slice());
        if swap(state, &s.device.tenant, key, raw, Some(&next), rec).await? {
            return Ok(());
        }
    }
    Err(ApiError::unavailable(
        "taken, but not listed on this terminal yet: look it up again",
    ))
}

/// The registry entries of `store` (the store itself, its terminals, clerks, readers).
async fn registry(
    state: &AppState,
    tenant: &str,
    store: &str,
) -> Result<Vec<RegistryEntry>, ApiError> {
    Ok(state
        .store
        .registry(
            tenant,
            &ComplianceQuery {
                store: Some(store.to_owned()),
                ..ComplianceQuery::default()
            },
        )
        .await?)
}

/// Whether `entries` hold member `id` of kind `member`, enabled.
fn enabled(entries: &[RegistryEntry], member: Member, id: &str) -> bool {
    entries
        .iter()
        .any(|e| e.member == member && e.id == id && e.status == Registration::Enabled)
}

//! The operator's side of the store terminal: pairing codes (`POST /v1/terminal/pairings`,
//! also `simgw terminal pair`), revoking a terminal's sessions, and clerks' PINs (set with
//! the clerk's registry entry, `PUT /v1/channels/clerks/…` with `"pin"`).

use super::session::{GLOBAL, bump_device, code_mac};
use super::{AppState, SWAP_TRIES, Stored, audit, enabled, load, registry, swap};
use crate::api::auth::{Permission, authenticate};
use crate::api::dto::{check_id, no_unknown, object};
use crate::api::problem::ApiError;
use crate::api::request::{PathParam, json_response, read_json};
use crate::clock::rfc3339;
use crate::compliance::audit::{Actor, Outcome};
use crate::compliance::channel::Member;
use crate::terminal::pin;
use crate::terminal::records::{self, ClerkCredential, PAIRING_TTL_MS, Pairing, clerk_key};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use std::sync::Arc;

/// `POST /v1/terminal/pairings` `{"store_id", "terminal_id"}`: a one-time code (10
/// minutes) that pairs a browser as this registered terminal. `201` with the code, shown
/// once: only its keyed MAC is stored.
pub async fn create_pairing(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Compliance)?;
    let v = read_json(&state, &headers, body).await?;
    let m = object(&v, "body")?;
    no_unknown(m, "", &["tenant", "store_id", "terminal_id"])?;
    // A client that names a tenant is told when its key belongs to another.
    if let Some(t) = m.get("tenant").and_then(Value::as_str) {
        if t != caller.tenant {
            return Err(ApiError::invalid(
                "tenant_mismatch",
                "tenant",
                format!(
                    "this key belongs to tenant `{}`, not `{t}`: use an operator key of `{t}`",
                    caller.tenant
                ),
            ));
        }
    }
    let field = |k: &str| {
        let s = m.get(k).and_then(Value::as_str).unwrap_or_default();
        check_id(k, s).map(|()| s.to_owned())
    };
    let (store, terminal) = (field("store_id")?, field("terminal_id")?);
    let reg = registry(&state, &caller.tenant, &store).await?;
    if !enabled(&reg, Member::Store, &store) || !enabled(&reg, Member::Terminal, &terminal) {
        return Err(ApiError::terminal_not_registered(&store, &terminal));
    }
    let mut random = [0u8; 5];
    state
        .keys
        .random(&mut random)
        .map_err(|_| ApiError::internal())?;
    let code = records::format_code(random);
    let plain = records::normalize_code(&code).ok_or_else(ApiError::internal)?;
    let now = state.clock.now_ms();
    let pairing = Pairing {
        tenant: caller.tenant.clone(),
        store: store.clone(),
        terminal: terminal.clone(),
        expires_at_ms: now + PAIRING_TTL_MS,
    };
    let mut rec = audit(
        now,
        crate::api::channels::operator(&caller),
        "terminal.pairing_create",
        Outcome::Record,
    );
    rec.attrs = vec![
        ("tenant".to_owned(), caller.tenant.clone()),
        ("store".to_owned(), store.clone()),
        ("terminal".to_owned(), terminal.clone()),
    ];
    let key = records::pairing_key(&code_mac(&state, &plain));
    // 40 random bits: a collision with a live code is not expected; refuse it if so.
    if !swap(&state, GLOBAL, &key, None, Some(&pairing), rec).await? {
        return Err(ApiError::unavailable("try again"));
    }
    let mut r = json_response(
        StatusCode::CREATED,
        &json!({
            "object": "terminal_pairing",
            "code": code,
            "store_id": store,
            "terminal_id": terminal,
            "expires_at": rfc3339(pairing.expires_at_ms),
        }),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// `POST /v1/terminal/devices/{store_id}/{terminal_id}/revoke`: signs every browser paired
/// as this terminal out at its next call; it needs a new pairing code to sell again.
pub async fn revoke(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ids: PathParam<(String, String)>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Compliance)?;
    let (store, terminal) = ids.value()?;
    check_id("store_id", &store)?;
    check_id("terminal_id", &terminal)?;
    let now = state.clock.now_ms();
    let generation = bump_device(&state, &caller.tenant, &store, &terminal, now, false).await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "object": "terminal_device",
            "store_id": store,
            "terminal_id": terminal,
            "paired": false,
            "generation": generation,
            "revoked_at": rfc3339(now),
        }),
    ))
}

/// Sets a clerk's PIN (hashed here, off the async threads; failures and any lock-out are
/// cleared and the clerk's sessions end) and/or their terminal role. `actor` is the
/// operator. A role without a PIN needs a PIN set before.
pub(in crate::api) async fn set_clerk(
    state: &AppState,
    actor: Actor,
    tenant: &str,
    store: &str,
    clerk: &str,
    pin_text: Option<zeroize::Zeroizing<String>>,
    supervisor: Option<bool>,
) -> Result<(), ApiError> {
    let hash = match pin_text {
        None => None,
        Some(p) if pin::acceptable(&p) => {
            let mut salt = [0u8; 16];
            state
                .keys
                .random(&mut salt)
                .map_err(|_| ApiError::internal())?;
            let h = tokio::task::spawn_blocking(move || pin::hash(&p, salt))
                .await
                .map_err(|_| ApiError::internal())?
                .ok_or_else(ApiError::internal)?;
            Some(h)
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "invalid_value",
                "pin",
                format!("`pin`: {}", pin::PIN_RULE),
            ));
        }
    };
    let key = clerk_key(store, clerk);
    for _ in 0..SWAP_TRIES {
        let now = state.clock.now_ms();
        let cur: Option<Stored<ClerkCredential>> = load(state, tenant, &key).await?;
        let current = cur.as_ref().map(|c| &c.value);
        let mut next = match (&hash, current) {
            (Some(h), _) => ClerkCredential::with_pin(current, h.clone()),
            (None, Some(c)) => c.clone(),
            (None, None) => {
                return Err(ApiError::invalid(
                    "missing_field",
                    "pin",
                    "this clerk has no PIN yet: set `pin` with `terminal_role`",
                ));
            }
        };
        if let Some(s) = supervisor {
            next.supervisor = s;
        }
        let action = if hash.is_some() {
            "terminal.pin_set"
        } else {
            "terminal.role_set"
        };
        let mut rec = audit(now, actor.clone(), action, Outcome::Record);
        rec.attrs = vec![
            ("tenant".to_owned(), tenant.to_owned()),
            ("store".to_owned(), store.to_owned()),
            ("clerk".to_owned(), clerk.to_owned()),
            ("supervisor".to_owned(), next.supervisor.to_string()),
        ];
        let raw = cur.as_ref().map(|c| c.raw.as_slice());
        if swap(state, tenant, &key, raw, Some(&next), rec).await? {
            return Ok(());
        }
    }
    Err(ApiError::unavailable("the clerk record is busy; try again"))
}

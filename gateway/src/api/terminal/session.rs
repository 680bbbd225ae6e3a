//! Pairing, the device and clerk sessions, and the checks every later call makes: the
//! device cookie still matches its terminal's generation and the terminal and store are
//! enabled; the clerk cookie belongs to this device session and the clerk's current PIN;
//! a state-changing call carries the session's CSRF token.

use super::{AppState, SWAP_TRIES, Stored, actor, audit, enabled, load, registry, swap};
use crate::api::dto::{no_unknown, object};
use crate::api::problem::ApiError;
use crate::api::request::{json_response, read_json};
use crate::clock::rfc3339;
use crate::compliance::CaptureMethod;
use crate::compliance::audit::Outcome;
use crate::compliance::channel::Member;
use crate::crypto::base32;
use crate::store::RegistryEntry;
use crate::terminal::cookie::{
    self, CLERK_COOKIE, CLERK_TTL_MS, ClerkClaims, DEVICE_COOKIE, DEVICE_TTL_MS, DeviceClaims,
};
use crate::terminal::pin;
use crate::terminal::records::{
    self, ClerkCredential, Device, LOCK_AFTER, Pairing, SignIn, clerk_key, device_key,
};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::{Arc, LazyLock};
use tokio::sync::Semaphore;

/// The tenant namespace of pairing codes: a code is redeemed before its tenant is known,
/// and no tenant id is empty.
pub(super) const GLOBAL: &str = "";

const DEVICE_PURPOSE: &str = "terminal-device";
const CLERK_PURPOSE: &str = "terminal-clerk";

/// PIN checks at once (each holds 19 MiB and a core for tens of ms): a flood of sign-ins
/// from paired devices queues here instead of exhausting memory.
static PIN_CHECKS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(2));

/// The keyed MAC a pairing code is stored under (the code itself is never stored).
pub(super) fn code_mac(state: &AppState, code: &str) -> String {
    let mut m = b"terminal-pairing\0".to_vec();
    m.extend_from_slice(code.as_bytes());
    state.keys.fingerprint(&m)
}

/// A device session checked against the store, with its store's registry entries as
/// read for the check (the clerk check and the session object use them too).
pub(super) struct Paired {
    /// The device session.
    pub claims: DeviceClaims,
    /// The registry entries of its store.
    registry: Vec<RegistryEntry>,
}

/// A clerk signed in on a device session.
struct Clerk {
    /// The clerk's id.
    id: String,
    /// Whether the clerk is a supervisor (after-sales).
    supervisor: bool,
}

/// The caller's device session, checked against the store.
pub(super) async fn device(state: &AppState, headers: &HeaderMap) -> Result<Paired, ApiError> {
    let now = state.clock.now_ms();
    let claims = cookie::cookie(headers, DEVICE_COOKIE)
        .and_then(|v| {
            cookie::open::<DeviceClaims>(&state.keys, DEVICE_PURPOSE, v, now, |c| c.expires_ms)
        })
        .ok_or_else(ApiError::terminal_not_paired)?;
    let d: Option<Stored<Device>> = load(
        state,
        &claims.tenant,
        &device_key(&claims.store, &claims.terminal),
    )
    .await?;
    if d.is_none_or(|d| !d.value.admits(claims.generation)) {
        return Err(ApiError::terminal_not_paired());
    }
    let registry = registry(state, &claims.tenant, &claims.store).await?;
    if !enabled(&registry, Member::Store, &claims.store)
        || !enabled(&registry, Member::Terminal, &claims.terminal)
    {
        return Err(ApiError::terminal_not_paired());
    }
    Ok(Paired { claims, registry })
}

/// Refuses a state-changing call without the device session's CSRF token.
pub(super) fn csrf(
    state: &AppState,
    headers: &HeaderMap,
    device: &DeviceClaims,
) -> Result<(), ApiError> {
    let want = cookie::csrf_token(&state.keys, &device.nonce);
    let got = headers
        .get("x-csrf-token")
        .map(HeaderValue::as_bytes)
        .unwrap_or_default();
    if cookie::same(want.as_bytes(), got) {
        Ok(())
    } else {
        Err(ApiError::csrf_token_invalid())
    }
}

/// The clerk signed in on this device session, if any (and still allowed).
async fn clerk_of(
    state: &AppState,
    headers: &HeaderMap,
    paired: &Paired,
) -> Result<Option<Clerk>, ApiError> {
    let device = &paired.claims;
    let now = state.clock.now_ms();
    let Some(claims) = cookie::cookie(headers, CLERK_COOKIE)
        .and_then(|v| {
            cookie::open::<ClerkClaims>(&state.keys, CLERK_PURPOSE, v, now, |c| c.expires_ms)
        })
        .filter(|c| c.device_nonce == device.nonce)
    else {
        return Ok(None);
    };
    let cred: Option<Stored<ClerkCredential>> = load(
        state,
        &device.tenant,
        &clerk_key(&device.store, &claims.clerk),
    )
    .await?;
    let Some(cred) = cred.filter(|c| c.value.generation == claims.generation) else {
        return Ok(None);
    };
    Ok(
        enabled(&paired.registry, Member::Clerk, &claims.clerk).then_some(Clerk {
            id: claims.clerk,
            supervisor: cred.value.supervisor,
        }),
    )
}

/// A signed-in terminal: its device session and clerk.
pub(super) struct SignedIn {
    /// The device session.
    pub device: DeviceClaims,
    /// The clerk.
    pub clerk: String,
    /// Whether the clerk is a supervisor (after-sales).
    pub supervisor: bool,
}

/// The device and clerk of a call that needs both; `changes`: the call changes state (it
/// must carry the CSRF token, checked before anything else is).
pub(super) async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
    changes: bool,
) -> Result<SignedIn, ApiError> {
    let paired = device(state, headers).await?;
    if changes {
        csrf(state, headers, &paired.claims)?;
    }
    let clerk = clerk_of(state, headers, &paired)
        .await?
        .ok_or_else(ApiError::clerk_not_signed_in)?;
    Ok(SignedIn {
        device: paired.claims,
        clerk: clerk.id,
        supervisor: clerk.supervisor,
    })
}

/// The session object the page starts from (docs/terminal.md).
async fn session_json(
    state: &AppState,
    device: &DeviceClaims,
    registry: &[RegistryEntry],
    clerk: Option<&Clerk>,
) -> Result<Value, ApiError> {
    let tenant = state
        .store
        .tenant(&device.tenant)
        .await?
        .ok_or_else(ApiError::terminal_not_paired)?;
    let policy = tenant.policy().map_err(|_| ApiError::internal())?;
    let rules = &policy.store;
    let esim = state.engine.esim_enabled() && rules.esim_allowed;
    let products: Vec<Value> = tenant
        .products
        .iter()
        .map(|(id, p)| json!({"id": id, "physical": true, "esim": esim && p.esim_profile_type.is_some()}))
        .collect();
    let manual = rules.capture.contains(&CaptureMethod::Manual);
    let clerk = match clerk {
        Some(Clerk { id, supervisor }) => {
            let name = registry
                .iter()
                .find(|e| e.member == Member::Clerk && e.id == *id)
                .and_then(|e| e.label.clone());
            json!({"id": id, "name": name, "role": if *supervisor { "supervisor" } else { "sales" },
                   "rights": super::lines::rights(*supervisor)})
        }
        None => Value::Null,
    };
    Ok(json!({
        "tenant": device.tenant,
        "market": policy.market.map(|m| m.as_str()),
        "store": device.store,
        "terminal": device.terminal,
        "csrf_token": cookie::csrf_token(&state.keys, &device.nonce),
        "clerk": clerk,
        "products": products,
        "identity": {
            "required": policy.identity_required,
            "capture": if manual { "manual" } else { "card_reader" },
            "face_match": rules.face_match_required,
        },
        "id_reader_url": state.config.terminal.id_reader_url.trim_end_matches('/'),
        "esim_confirmation_code": tenant.esim_confirmation_code,
    }))
}

fn with_cookies(mut r: Response, cookies: &[String]) -> Response {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `POST /terminal/api/pair` `{"code"}`: redeems a pairing code for a device session.
pub(super) async fn pair(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let v = read_json(&state, &headers, body).await?;
    let m = object(&v, "body")?;
    no_unknown(m, "", &["code"])?;
    let code = m
        .get("code")
        .and_then(Value::as_str)
        .and_then(records::normalize_code)
        .ok_or_else(ApiError::pairing_code_invalid)?;
    let key = records::pairing_key(&code_mac(&state, &code));
    let now = state.clock.now_ms();
    let p: Stored<Pairing> = load(&state, GLOBAL, &key)
        .await?
        .filter(|p: &Stored<Pairing>| now < p.value.expires_at_ms)
        .ok_or_else(ApiError::pairing_code_invalid)?;
    let Pairing {
        tenant,
        store,
        terminal,
        ..
    } = p.value;
    let reg = registry(&state, &tenant, &store).await?;
    if !enabled(&reg, Member::Store, &store) || !enabled(&reg, Member::Terminal, &terminal) {
        return Err(ApiError::terminal_not_registered(&store, &terminal));
    }
    // Spent first: of two pages racing with one code, one wins, the other is refused.
    let mut rec = audit(
        now,
        actor(&store, &terminal, None),
        "terminal.pair",
        Outcome::Allow,
    );
    rec.attrs = vec![("tenant".to_owned(), tenant.clone())];
    if !swap::<Pairing>(&state, GLOBAL, &key, Some(&p.raw), None, rec).await? {
        return Err(ApiError::pairing_code_invalid());
    }
    let generation = bump_device(&state, &tenant, &store, &terminal, now, true).await?;
    let mut nonce = [0u8; 16];
    state
        .keys
        .random(&mut nonce)
        .map_err(|_| ApiError::internal())?;
    let claims = DeviceClaims {
        tenant,
        store,
        terminal,
        generation,
        nonce: base32(&nonce),
        issued_ms: now,
        expires_ms: now + DEVICE_TTL_MS,
    };
    let body = session_json(&state, &claims, &reg, None).await?;
    Ok(with_cookies(
        json_response(StatusCode::OK, &body),
        &[
            cookie::set_cookie(
                DEVICE_COOKIE,
                &cookie::seal(&state.keys, DEVICE_PURPOSE, &claims),
                DEVICE_TTL_MS,
            ),
            cookie::clear_cookie(CLERK_COOKIE),
        ],
    ))
}

/// Moves a terminal's generation on (a pairing: `paired`; a revoke: not), ending every
/// earlier session of it. Returns the new generation.
pub(crate) async fn bump_device(
    state: &AppState,
    tenant: &str,
    store: &str,
    terminal: &str,
    now: u64,
    paired: bool,
) -> Result<u64, ApiError> {
    let key = device_key(store, terminal);
    for _ in 0..SWAP_TRIES {
        let cur: Option<Stored<Device>> = load(state, tenant, &key).await?;
        let next = if paired {
            Device::paired(cur.as_ref().map(|d| &d.value), now)
        } else {
            Device::revoked(cur.as_ref().map(|d| &d.value), now)
        };
        let action = if paired {
            "terminal.session_start"
        } else {
            "terminal.revoke"
        };
        let mut rec = audit(now, actor(store, terminal, None), action, Outcome::Record);
        rec.attrs = vec![
            ("tenant".to_owned(), tenant.to_owned()),
            ("generation".to_owned(), next.generation.to_string()),
        ];
        let raw = cur.as_ref().map(|d| d.raw.as_slice());
        if swap(state, tenant, &key, raw, Some(&next), rec).await? {
            return Ok(next.generation);
        }
    }
    Err(ApiError::unavailable(
        "the terminal record is busy; try again",
    ))
}

/// `GET /terminal/api/session`: who this device is (and its clerk, if signed in); renews
/// the device cookie past half its life.
pub(super) async fn current(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let paired = device(&state, &headers).await?;
    let clerk = clerk_of(&state, &headers, &paired).await?;
    let body = session_json(&state, &paired.claims, &paired.registry, clerk.as_ref()).await?;
    let device = paired.claims;
    let now = state.clock.now_ms();
    let mut cookies = Vec::new();
    if device.due_for_renewal(now) {
        let renewed = DeviceClaims {
            issued_ms: now,
            expires_ms: now + DEVICE_TTL_MS,
            ..device
        };
        let value = cookie::seal(&state.keys, DEVICE_PURPOSE, &renewed);
        cookies.push(cookie::set_cookie(DEVICE_COOKIE, &value, DEVICE_TTL_MS));
    }
    Ok(with_cookies(json_response(StatusCode::OK, &body), &cookies))
}

/// `POST /terminal/api/sign-in` `{"clerk", "pin"}`: a clerk of this store signs in.
pub(super) async fn sign_in(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Paired {
        claims: device,
        registry: reg,
    } = device(&state, &headers).await?;
    csrf(&state, &headers, &device)?;
    let v = read_json(&state, &headers, body).await?;
    let m = object(&v, "body")?;
    no_unknown(m, "", &["clerk", "pin"])?;
    let clerk = m.get("clerk").and_then(Value::as_str).unwrap_or_default();
    let pin = zeroize::Zeroizing::new(
        m.get("pin")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    );
    if crate::api::dto::check_id("clerk", clerk).is_err() {
        return Err(ApiError::clerk_sign_in_failed(LOCK_AFTER));
    }
    if reg
        .iter()
        .any(|e| e.member == Member::Clerk && e.id == clerk)
        && !enabled(&reg, Member::Clerk, clerk)
    {
        return Err(ApiError::clerk_disabled());
    }
    let key = clerk_key(&device.store, clerk);
    let mut checked: Option<(String, bool)> = None;
    for _ in 0..SWAP_TRIES {
        let now = state.clock.now_ms();
        let cred: Stored<ClerkCredential> = load(&state, &device.tenant, &key)
            .await?
            .filter(|_| enabled(&reg, Member::Clerk, clerk))
            .ok_or_else(|| ApiError::clerk_sign_in_failed(LOCK_AFTER))?;
        let pin_ok = match (&checked, cred.value.locked_at(now)) {
            // Locked: the PIN is not even hashed.
            (_, Some(_)) => false,
            (Some((hash, ok)), None) if *hash == cred.value.pin_hash => *ok,
            (_, None) => {
                let ok = verify_pin(&pin, &cred.value.pin_hash).await?;
                checked = Some((cred.value.pin_hash.clone(), ok));
                ok
            }
        };
        let (outcome, next) = cred.value.attempt(now, pin_ok);
        let mut rec = audit(
            now,
            actor(&device.store, &device.terminal, Some(clerk)),
            "terminal.sign_in",
            if outcome == SignIn::Ok {
                Outcome::Allow
            } else {
                Outcome::Refuse
            },
        );
        rec.reasons = match outcome {
            SignIn::Ok => vec![],
            SignIn::Wrong { .. } => vec!["wrong_pin".to_owned()],
            SignIn::Locked { .. } => vec!["clerk_locked".to_owned()],
        };
        // Written on success too: every sign-in is in the audit chain.
        if !swap(
            &state,
            &device.tenant,
            &key,
            Some(&cred.raw),
            Some(&next),
            rec,
        )
        .await?
        {
            continue;
        }
        return match outcome {
            SignIn::Wrong { left } => Err(ApiError::clerk_sign_in_failed(left)),
            SignIn::Locked { until_ms } => Err(ApiError::clerk_locked(
                &rfc3339(until_ms),
                u32::try_from(until_ms.saturating_sub(now).div_ceil(1000)).unwrap_or(u32::MAX),
            )),
            SignIn::Ok => {
                let claims = ClerkClaims {
                    device_nonce: device.nonce.clone(),
                    clerk: clerk.to_owned(),
                    generation: next.generation,
                    expires_ms: now + CLERK_TTL_MS,
                };
                let signed = Clerk {
                    id: clerk.to_owned(),
                    supervisor: next.supervisor,
                };
                let body = session_json(&state, &device, &reg, Some(&signed)).await?;
                let value = cookie::seal(&state.keys, CLERK_PURPOSE, &claims);
                Ok(with_cookies(
                    json_response(StatusCode::OK, &body),
                    &[cookie::set_cookie(CLERK_COOKIE, &value, CLERK_TTL_MS)],
                ))
            }
        };
    }
    Err(ApiError::unavailable("the clerk record is busy; try again"))
}

/// Checks a PIN against its hash off the async threads, a few at a time.
async fn verify_pin(pin: &zeroize::Zeroizing<String>, hash: &str) -> Result<bool, ApiError> {
    let _permit = PIN_CHECKS
        .acquire()
        .await
        .map_err(|_| ApiError::internal())?;
    let (pin, hash) = (pin.clone(), hash.to_owned());
    tokio::task::spawn_blocking(move || pin::verify(&pin, &hash))
        .await
        .map_err(|_| ApiError::internal())
}

/// `POST /terminal/api/sign-out`: ends the clerk session on this device.
pub(super) async fn sign_out(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let paired = device(&state, &headers).await?;
    csrf(&state, &headers, &paired.claims)?;
    Ok(with_cookies(
        StatusCode::NO_CONTENT.into_response(),
        &[cookie::clear_cookie(CLERK_COOKIE)],
    ))
}

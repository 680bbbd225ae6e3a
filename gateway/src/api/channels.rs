//! `/v1/channels/…`: the channel registry (stores, clerks, devices) an operator keeps per
//! tenant. Under a policy that requires it, a store order must name a registered,
//! enabled store, clerk and device; each entry's `status` is its kill switch and takes
//! effect on the next order. Every change is audited in its own commit.

use super::AppState;
use super::auth::{Caller, Permission, authenticate};
use super::dto::{check_id, no_unknown, object};
use super::problem::ApiError;
use super::request::{PathParam, json_response, read_json};
use crate::clock::rfc3339;
use crate::compliance::audit::Actor;
use crate::compliance::channel::{Member, Registration};
use crate::compliance::policy::StoreHours;
use crate::store::{ComplianceChange, ComplianceChangeOutcome, ComplianceQuery, RegistryEntry};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// The registry's member kinds as the API's path names them.
fn kind_of(path: &str) -> Option<&'static [Member]> {
    match path {
        "stores" => Some(&[Member::Store]),
        "clerks" => Some(&[Member::Clerk]),
        "devices" => Some(&[Member::Terminal, Member::Reader]),
        _ => None,
    }
}

fn entry_json(e: &RegistryEntry) -> Value {
    let mut v = json!({
        "object": "channel_member",
        "type": e.member.as_str(),
        "store_id": e.store,
        "id": e.id,
        "status": e.status.as_str(),
        "label": e.label,
        "updated_at": rfc3339(e.updated_at_ms),
    });
    if let Some(h) = &e.hours {
        v["hours"] = hours_json(h);
    }
    v
}

fn hhmm(min: u16) -> String {
    format!("{:02}:{:02}", min / 60, min % 60)
}

fn hours_json(h: &StoreHours) -> Value {
    let off = h.utc_offset_min;
    let sign = if off < 0 { '-' } else { '+' };
    json!({
        "open": hhmm(h.open_min),
        "close": hhmm(h.close_min),
        "utc_offset": format!("{sign}{}", hhmm(off.unsigned_abs())),
    })
}

/// `HH:MM` as minutes after midnight.
fn parse_hhmm(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

fn parse_hours(v: &Value) -> Result<StoreHours, ApiError> {
    let bad = || {
        ApiError::invalid(
            "invalid_value",
            "hours",
            "`hours` must be {\"open\": \"HH:MM\", \"close\": \"HH:MM\", \"utc_offset\": \"+HH:MM\"} in the store's local time",
        )
    };
    let m = object(v, "hours")?;
    no_unknown(m, "hours", &["open", "close", "utc_offset"])?;
    let field = |k: &str| m.get(k).and_then(Value::as_str).ok_or_else(bad);
    let open_min = parse_hhmm(field("open")?).ok_or_else(bad)?;
    let close_min = parse_hhmm(field("close")?).ok_or_else(bad)?;
    let off = field("utc_offset")?;
    let (neg, rest) = match off.as_bytes().first() {
        Some(b'+') => (false, &off[1..]),
        Some(b'-') => (true, &off[1..]),
        _ => return Err(bad()),
    };
    let mins = parse_hhmm(rest).filter(|m| *m <= 14 * 60).ok_or_else(bad)?;
    let mins = i16::try_from(mins).map_err(|_| bad())?;
    Ok(StoreHours {
        open_min,
        close_min,
        utc_offset_min: if neg { -mins } else { mins },
    })
}

/// The audit actor of an operator's API call.
pub(super) fn operator(caller: &Caller) -> Actor {
    Actor {
        key_id: caller.key_prefix.clone(),
        channel: "operator".to_owned(),
        ..Actor::default()
    }
}

/// `GET /v1/channels/{kind}?store_id=…`: the tenant's registered stores, clerks or
/// devices (terminals and ID readers).
pub async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    kind: PathParam,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Read)?;
    let kind = kind.value()?;
    let members = kind_of(&kind).ok_or_else(|| {
        ApiError::unknown_path_kind("/v1/channels/{kind}", &["stores", "clerks", "devices"])
    })?;
    let query = ComplianceQuery {
        store: q.get("store_id").cloned(),
        ..ComplianceQuery::default()
    };
    let rows = state.store.registry(&caller.tenant, &query).await?;
    let data: Vec<Value> = rows
        .iter()
        .filter(|e| members.contains(&e.member))
        .map(entry_json)
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({"object": "list", "data": data}),
    ))
}

/// `PUT /v1/channels/stores/{store_id}`.
pub async fn put_store(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    store: PathParam,
    body: Body,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Compliance)?;
    let store = store.value()?;
    let body = read_json(&state, &headers, body).await?;
    put(&state, &caller, Member::Store, store.clone(), store, &body).await
}

/// `PUT /v1/channels/clerks/{store_id}/{clerk_id}`.
pub async fn put_clerk(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ids: PathParam<(String, String)>,
    body: Body,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Compliance)?;
    let (store, clerk) = ids.value()?;
    let body = read_json(&state, &headers, body).await?;
    put(&state, &caller, Member::Clerk, store, clerk, &body).await
}

/// `PUT /v1/channels/devices/{store_id}/{device_id}` with `type` `terminal` or `reader`.
pub async fn put_device(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ids: PathParam<(String, String)>,
    body: Body,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Compliance)?;
    let (store, device) = ids.value()?;
    let body = read_json(&state, &headers, body).await?;
    let member = match object(&body, "body")?.get("type").and_then(Value::as_str) {
        Some("terminal") => Member::Terminal,
        Some("reader") => Member::Reader,
        _ => {
            return Err(ApiError::invalid(
                "invalid_value",
                "type",
                "`type` must be `terminal` (a store terminal) or `reader` (an ID-card reader, by serial)",
            ));
        }
    };
    put(&state, &caller, member, store, device, &body).await
}

async fn put(
    state: &AppState,
    caller: &Caller,
    member: Member,
    store: String,
    id: String,
    body: &Value,
) -> Result<Response, ApiError> {
    check_id("store_id", &store)?;
    check_id(&format!("{}_id", member.as_str()), &id)?;
    let m: &Map<String, Value> = object(body, "body")?;
    let mut allowed = vec!["status", "label"];
    match member {
        Member::Store => allowed.push("hours"),
        Member::Terminal | Member::Reader => allowed.push("type"),
        Member::Clerk => allowed.extend(["pin", "terminal_role"]),
    }
    no_unknown(m, "body", &allowed)?;
    // Only the two strings: a `status` of another type is refused, never read as absent.
    let status = match m.get("status") {
        None => Registration::Enabled,
        Some(Value::String(s)) if s == "enabled" => Registration::Enabled,
        Some(Value::String(s)) if s == "disabled" => Registration::Disabled,
        Some(_) => {
            return Err(ApiError::invalid(
                "invalid_value",
                "status",
                "`status` must be `enabled` or `disabled` (`enabled` also lifts a freeze)",
            ));
        }
    };
    let label = match m.get("label") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.chars().count() <= 200 => Some(s.clone()),
        Some(_) => {
            return Err(ApiError::invalid(
                "invalid_value",
                "label",
                "`label` must be a string of at most 200 characters",
            ));
        }
    };
    let hours = match m.get("hours") {
        None | Some(Value::Null) => None,
        Some(v) => Some(parse_hours(v)?),
    };
    // The store terminal's sign-in PIN and role: checked before anything is written.
    let supervisor = match m.get("terminal_role") {
        None | Some(Value::Null) => None,
        Some(Value::String(r)) if r == "sales" => Some(false),
        Some(Value::String(r)) if r == "supervisor" => Some(true),
        Some(_) => {
            return Err(ApiError::invalid(
                "invalid_value",
                "terminal_role",
                "`terminal_role` must be `sales` (sells, looks lines up) or `supervisor` (also suspends a lost phone's line and swaps SIMs)",
            ));
        }
    };
    let pin = match m.get("pin") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) if crate::terminal::pin::acceptable(p) => {
            Some(zeroize::Zeroizing::new(p.clone()))
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "invalid_value",
                "pin",
                format!("`pin`: {}, as a string", crate::terminal::pin::PIN_RULE),
            ));
        }
    };
    if supervisor.is_some() && pin.is_none() {
        let key = crate::terminal::records::clerk_key(&store, &id);
        if state
            .store
            .terminal_record(&caller.tenant, &key)
            .await?
            .is_none()
        {
            return Err(ApiError::invalid(
                "missing_field",
                "pin",
                "this clerk has no PIN yet: send `pin` with `terminal_role`",
            ));
        }
    }
    let now_ms = state.clock.now_ms();
    let entry = RegistryEntry {
        member,
        store,
        id,
        status,
        label,
        hours,
        updated_at_ms: now_ms,
    };
    let audit = entry.audit(&caller.tenant, operator(caller));
    let change = ComplianceChange::PutRegistry {
        tenant: caller.tenant.clone(),
        entry: entry.clone(),
    };
    match state.store.compliance_change(change, audit).await? {
        ComplianceChangeOutcome::Applied => {
            let mut body = entry_json(&entry);
            if pin.is_some() || supervisor.is_some() {
                // A second commit: a failure here leaves the entry put and the old PIN;
                // the operator's retry of this idempotent PUT sets it.
                let (store, id) = (&entry.store, &entry.id);
                let pin_set = pin.is_some();
                super::terminal::devices::set_clerk(
                    state,
                    operator(caller),
                    &caller.tenant,
                    store,
                    id,
                    pin,
                    supervisor,
                )
                .await?;
                if pin_set {
                    body["pin_set"] = Value::Bool(true);
                }
                if let Some(s) = supervisor {
                    body["terminal_role"] = Value::from(if s { "supervisor" } else { "sales" });
                }
            }
            Ok(json_response(StatusCode::OK, &body))
        }
        ComplianceChangeOutcome::Refused(r) => Err(ApiError::refusal(r)),
        ComplianceChangeOutcome::NotFound | ComplianceChangeOutcome::Stale => {
            Err(ApiError::internal())
        }
    }
}

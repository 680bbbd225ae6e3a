//! `/v1/blocklists`: the enterprise's blocklists of IDs (by keyed hash; the ID number is
//! hashed on arrival and never stored), stores, clerks, terminals, ID readers and handset
//! IMEIs. Operator keys only; every change is audited in its own commit. A hit answers
//! an order with a neutral `403 blocked` that does not say which list.

use super::AppState;
use super::auth::{Permission, authenticate};
use super::channels::operator;
use super::dto::check_id;
use super::dto::{no_unknown, object};
use super::problem::ApiError;
use super::request::{PathParam, json_response, read_json};
use crate::clock::rfc3339;
use crate::compliance::audit::{AuditRecord, Outcome};
use crate::compliance::blocklist::{ListKind, Span};
use crate::compliance::policy::DAY_MS;
use crate::compliance::subscriber::document;
use crate::store::{BlocklistEntry, ComplianceChange, ComplianceChangeOutcome, ComplianceQuery};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

fn entry_json(e: &BlocklistEntry, now_ms: u64) -> Value {
    json!({
        "object": "blocklist_entry",
        "list": e.list.as_str(),
        "value": e.value,
        "starts_at": rfc3339(e.span.start_ms),
        "expires_at": e.span.end_ms.map(rfc3339),
        "active": e.span.is_active(now_ms),
        "reason": e.reason,
        "created_at": rfc3339(e.created_at_ms),
    })
}

fn list_param(s: &str) -> Result<ListKind, ApiError> {
    ListKind::parse(s).ok_or_else(|| {
        ApiError::invalid(
            "invalid_value",
            "list",
            "`list` must be `id`, `store`, `clerk`, `terminal`, `reader` or `imei`",
        )
    })
}

/// Checks a non-ID subject: `store`; `store/clerk` and `store/terminal`; a reader's
/// serial; a 14 to 16 digit IMEI.
fn check_value(list: ListKind, v: &str) -> Result<(), ApiError> {
    match list {
        ListKind::Store | ListKind::Reader => check_id("value", v),
        ListKind::Clerk | ListKind::Terminal => match v.split_once('/') {
            Some((s, m)) => check_id("value", s).and(check_id("value", m)),
            None => Err(ApiError::invalid(
                "invalid_value",
                "value",
                format!(
                    "a {} entry is `<store_id>/<{}_id>`",
                    list.as_str(),
                    list.as_str()
                ),
            )),
        },
        ListKind::Imei if (14..=16).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(())
        }
        ListKind::Imei => Err(ApiError::invalid(
            "invalid_value",
            "value",
            "an `imei` entry is the handset's IMEI: 14 to 16 digits",
        )),
        ListKind::IdHash => Ok(()),
    }
}

async fn enterprise(state: &AppState, tenant: &str) -> Result<crate::store::Tenant, ApiError> {
    state
        .store
        .tenant(tenant)
        .await?
        .ok_or_else(ApiError::internal)
}

/// `GET /v1/blocklists?list=…`: the entries of the caller's enterprise, history included.
pub async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Compliance)?;
    let list = q.get("list").map(|s| list_param(s)).transpose()?;
    let tenant = enterprise(&state, &caller.tenant).await?;
    let query = ComplianceQuery {
        list,
        ..ComplianceQuery::default()
    };
    let now_ms = state.clock.now_ms();
    let rows = state.store.blocklist(tenant.enterprise(), &query).await?;
    let data: Vec<Value> = rows.iter().map(|e| entry_json(e, now_ms)).collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({"object": "list", "data": data}),
    ))
}

/// `POST /v1/blocklists`: `{"list", "value" | (for `id`) "id_type", "id_number",
/// "nationality", "days", "reason"}`. An ID entry must last within the policy's bounds
/// (`blocklist_entry_invalid` otherwise); other entries last `days`, or until removed.
pub async fn add(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Compliance)?;
    let body = read_json(&state, &headers, body).await?;
    let m = object(&body, "body")?;
    no_unknown(
        m,
        "body",
        &[
            "list",
            "value",
            "id_type",
            "id_number",
            "nationality",
            "days",
            "reason",
        ],
    )?;
    let list = match m.get("list").and_then(Value::as_str) {
        Some(s) => list_param(s)?,
        None => {
            return Err(ApiError::invalid(
                "missing_field",
                "list",
                "`list` is required",
            ));
        }
    };
    let value = if list == ListKind::IdHash {
        if m.contains_key("value") {
            return Err(ApiError::invalid(
                "invalid_value",
                "value",
                "an `id` entry names the document (`id_type`, `id_number`, `nationality`), not a `value`; it is stored as a keyed hash",
            ));
        }
        let (t, n, nationality) = document(m, "body").map_err(ApiError::refusal)?;
        state
            .id_hasher
            .hash_id(t, &n, nationality.as_deref())
            .to_string()
    } else {
        // A document's members belong to an `id` entry only; refused rather than ignored,
        // so a caller who meant an ID entry learns it (null is absent).
        if let Some(k) = ["id_type", "id_number", "nationality"]
            .into_iter()
            .find(|k| m.get(*k).is_some_and(|v| !v.is_null()))
        {
            return Err(ApiError::invalid(
                "invalid_value",
                k,
                "`id_type`, `id_number` and `nationality` name the document of an `id` entry; this list takes a `value`",
            ));
        }
        let v = m
            .get("value")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::invalid("missing_field", "value", "`value` is required"))?;
        check_value(list, v)?;
        v.to_owned()
    };
    let days = match m.get("days") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .filter(|d| (1..=3650).contains(d))
                .ok_or_else(|| {
                    ApiError::invalid(
                        "invalid_value",
                        "days",
                        "`days` must be a whole number of days from 1 to 3650",
                    )
                })?,
        ),
    };
    let reason = match m.get("reason").and_then(Value::as_str) {
        Some(r) if !r.trim().is_empty() && r.chars().count() <= 500 => r.to_owned(),
        _ => {
            return Err(ApiError::invalid(
                "invalid_value",
                "reason",
                "`reason` is required: why the entry is added (up to 500 characters; audited, never shown to a channel; no ID numbers or names)",
            ));
        }
    };
    let tenant = enterprise(&state, &caller.tenant).await?;
    let policy = tenant.policy().map_err(|_| ApiError::internal())?;
    let now_ms = state.clock.now_ms();
    let entry = BlocklistEntry {
        list,
        value,
        span: Span {
            start_ms: now_ms,
            end_ms: days.map(|d| now_ms.saturating_add(d.saturating_mul(DAY_MS))),
        },
        reason,
        created_at_ms: now_ms,
    };
    let audit = AuditRecord {
        at_ms: now_ms,
        actor: operator(&caller),
        action: "blocklist.add".to_owned(),
        outcome: Outcome::Record,
        subject: crate::compliance::audit::Subject {
            id_hash: (list == ListKind::IdHash).then(|| entry.value.clone()),
            ..Default::default()
        },
        reasons: vec![entry.reason.clone()],
        attrs: vec![
            ("list".to_owned(), list.as_str().to_owned()),
            ("value".to_owned(), entry.value.clone()),
            (
                "days".to_owned(),
                days.map(|d| d.to_string()).unwrap_or_default(),
            ),
        ],
        ..AuditRecord::default()
    };
    let change = ComplianceChange::AddBlock {
        enterprise: tenant.enterprise().to_owned(),
        entry: entry.clone(),
        rules: policy.blocklist,
    };
    match state.store.compliance_change(change, audit).await? {
        ComplianceChangeOutcome::Applied => Ok(json_response(
            StatusCode::CREATED,
            &entry_json(&entry, now_ms),
        )),
        ComplianceChangeOutcome::Refused(r) => Err(ApiError::refusal(r)),
        ComplianceChangeOutcome::NotFound | ComplianceChangeOutcome::Stale => {
            Err(ApiError::internal())
        }
    }
}

/// `DELETE /v1/blocklists/{list}/{value}`: ends every entry in force for the subject now
/// (the history stays). `204`, or `404` if none is in force.
pub async fn end(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ids: PathParam<(String, String)>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Compliance)?;
    let (list, value) = ids.value()?;
    let list = list_param(&list)?;
    let tenant = enterprise(&state, &caller.tenant).await?;
    let now_ms = state.clock.now_ms();
    let audit = AuditRecord {
        at_ms: now_ms,
        actor: operator(&caller),
        action: "blocklist.end".to_owned(),
        outcome: Outcome::Record,
        attrs: vec![
            ("list".to_owned(), list.as_str().to_owned()),
            ("value".to_owned(), value.clone()),
        ],
        ..AuditRecord::default()
    };
    let change = ComplianceChange::EndBlock {
        enterprise: tenant.enterprise().to_owned(),
        list,
        value,
        now_ms,
    };
    match state.store.compliance_change(change, audit).await? {
        ComplianceChangeOutcome::Applied => Ok(StatusCode::NO_CONTENT.into_response()),
        ComplianceChangeOutcome::NotFound => Err(ApiError::not_found(
            "blocklist_entry_not_found",
            "blocklist entry in force",
        )),
        ComplianceChangeOutcome::Refused(r) => Err(ApiError::refusal(r)),
        ComplianceChangeOutcome::Stale => Err(ApiError::internal()),
    }
}

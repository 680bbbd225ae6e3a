//! Inventory endpoints: batch import over HTTP (the same whole-or-nothing pipeline as the
//! CLI), batch status and CSV export, SIM lookup without keys, and number quarantine.

use super::AppState;
use super::auth::{Permission, authenticate};
use super::problem::ApiError;
use super::request::{PathParam, json_response, limit_param};
use crate::clock::rfc3339;
use crate::import::{self, Format, ImportError, ImportJob, Imported};
use crate::store::{BatchRecord, SimRecord};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use sim_profiles::batch::{Reject, RejectReason};
use std::collections::HashMap;
use std::sync::Arc;

fn batch_json(b: &BatchRecord) -> Value {
    json!({
        "id": b.id, "object": "batch", "status": b.status, "cards": b.cards, "format": b.format,
        "source": b.source, "file_sha256": b.file_sha256, "vendor_batch": b.vendor_batch,
        "transport_key_index": b.transport_key_index, "started_at": rfc3339(b.started_at_ms),
    })
}

fn sim_json(s: &SimRecord) -> Value {
    let (state, order) = s.state.label();
    json!({"iccid": s.iccid, "imsi": s.imsi, "state": state, "activation_id": order, "batch": s.batch,
           "has_opc": s.opc.is_some()})
}

/// `POST /v1/inventory/imports?format=vendor-out|csv[&iccid_length=19|20]`: the body is
/// the vendor file.
pub async fn import_batch(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    body: Body,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Import)?;
    let format = q
        .get("format")
        .and_then(|f| Format::parse(f))
        .ok_or_else(|| {
            ApiError::invalid(
                "invalid_value",
                "format",
                "query parameter `format` must be `vendor-out` or `csv`",
            )
        })?;
    let limit = state.config.api.max_import_bytes;
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::body_too_large(limit))?;
    let source = q.get("name").cloned().unwrap_or_else(|| "upload".into());
    let esim_profile_type = match q.get("esim_profile_type") {
        Some(t) if t.is_empty() || t.len() > 64 || t.chars().any(char::is_control) => {
            return Err(ApiError::invalid(
                "invalid_value",
                "esim_profile_type",
                "query parameter `esim_profile_type` must be 1 to 64 printable characters (the SM-DP+ profile type of the batch)",
            ));
        }
        other => other.cloned(),
    };
    let iccid_length = match q.get("iccid_length").map(String::as_str) {
        None => None,
        Some("19") => Some(19),
        Some("20") => Some(20),
        Some(_) => {
            return Err(ApiError::invalid(
                "invalid_value",
                "iccid_length",
                "query parameter `iccid_length` must be 19 or 20 (the issuer's ICCID length; leave it out to let the file decide)",
            ));
        }
    };
    let st = state.clone();
    // Parsing and sealing a file is CPU work: it runs on a blocking thread, waiting there
    // for each chunk's commit.
    let runtime = tokio::runtime::Handle::current();
    let result = tokio::task::spawn_blocking(move || {
        let job = ImportJob {
            tenant: &caller.tenant,
            format,
            source: &source,
            bytes: &bytes,
            esim_profile_type: esim_profile_type.as_deref(),
            iccid_length,
        };
        let result = runtime.block_on(import::import(
            st.store.as_ref(),
            &st.keys,
            &st.config,
            &job,
            |_, _| {},
            None,
        ));
        if let (Ok(Imported::Loaded(b)), Some(o)) = (&result, st.import_observer.get()) {
            runtime.block_on(o.batch_imported(b));
        }
        result
    })
    .await
    .map_err(|_| ApiError::internal())?;
    match result {
        Ok(Imported::Loaded(b)) => Ok(json_response(StatusCode::CREATED, &batch_json(&b))),
        Ok(Imported::AlreadyImported(b)) => Ok(super::request::replayed(json_response(
            StatusCode::OK,
            &batch_json(&b),
        ))),
        Err(ImportError::Rejected(rejects)) => Ok(rejected(&rejects).await),
        Err(ImportError::File(e)) => Err(ApiError::batch_invalid(format!(
            "the file cannot be imported: {e}"
        ))),
        Err(ImportError::TransportKey(e)) => Err(ApiError::transport_key(e)),
        Err(ImportError::UnknownTenant(_)) => Err(ApiError::unauthorized()),
        Err(ImportError::Store(e)) => Err(e.into()),
        Err(ImportError::Crypto(_)) => Err(ApiError::internal()),
    }
}

/// The 422 for a refused file: `batch_rejected` from [`ApiError`] with `reject_counts`
/// (per reason code) and `rejects`, every rejected line as `{line, code, reason}`. The list
/// is serialised straight from the importer's rejects, not through a JSON tree (hundreds of
/// bytes per line), so the answer costs about its own size: under 100 bytes per rejected
/// line, at most one per line of an upload that `max_import_bytes` bounds.
async fn rejected(rejects: &[Reject]) -> Response {
    struct Lines<'a>(&'a [Reject]);
    impl Serialize for Lines<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            #[derive(Serialize)]
            struct Line<'a> {
                line: usize,
                code: &'static str,
                reason: Reason<'a>,
            }
            struct Reason<'a>(&'a RejectReason);
            impl Serialize for Reason<'_> {
                fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                    s.collect_str(self.0)
                }
            }
            s.collect_seq(self.0.iter().map(|r| Line {
                line: r.line,
                code: r.reason.code(),
                reason: Reason(&r.reason),
            }))
        }
    }
    #[derive(Serialize)]
    struct Doc<'a> {
        #[serde(flatten)]
        problem: serde_json::Map<String, Value>,
        rejects: Lines<'a>,
    }
    let counts: serde_json::Map<String, Value> = import::report::counts(rejects)
        .into_iter()
        .map(|c| (c.code.to_owned(), json!(c.count)))
        .collect();
    let (mut parts, body) = ApiError::batch_rejected(rejects.len())
        .with("reject_counts", Value::Object(counts))
        .into_response()
        .into_parts();
    // The problem document without the list is small; re-read it to append the list.
    let problem = axum::body::to_bytes(body, 1 << 20)
        .await
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let bytes = serde_json::to_vec(&Doc {
        problem,
        rejects: Lines(rejects),
    })
    .unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes))
}

async fn owned_batch(state: &AppState, tenant: &str, id: &str) -> Result<BatchRecord, ApiError> {
    state
        .store
        .batch(id)
        .await?
        .filter(|b| b.tenant == tenant)
        .ok_or_else(|| ApiError::not_found("batch_not_found", "batch"))
}

/// `GET /v1/inventory/batches/{id}`.
pub async fn batch(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    id: PathParam,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Read)?;
    let id = id.value()?;
    Ok(json_response(
        StatusCode::OK,
        &batch_json(&owned_batch(&state, &caller.tenant, &id).await?),
    ))
}

/// `GET /v1/inventory/batches/{id}/sims.csv`: the state of every card of a batch (no keys).
pub async fn batch_csv(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    id: PathParam,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Read)?;
    let id = id.value()?;
    let b = owned_batch(&state, &caller.tenant, &id).await?;
    let csv = crate::admin::batch_csv(state.store.as_ref(), &b.id).await?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response())
}

/// `GET /v1/sims/{iccid}`: one SIM, without keys.
pub async fn sim(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    iccid: PathParam,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Read)?;
    let iccid = iccid.value()?;
    let iccid = iccid.parse().map_err(|e| {
        ApiError::invalid("invalid_iccid", "iccid", format!("not a valid ICCID: {e}"))
    })?;
    let s = state
        .store
        .get_sim(&iccid)
        .await?
        .filter(|s| s.tenant == caller.tenant)
        .ok_or_else(|| ApiError::not_found("sim_not_found", "SIM"))?;
    Ok(json_response(StatusCode::OK, &sim_json(&s)))
}

/// `GET /v1/sims?imsi=…`: look a SIM up by IMSI, without keys.
pub async fn sim_by_imsi(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Read)?;
    let imsi = q
        .get("imsi")
        .ok_or_else(|| {
            ApiError::invalid(
                "missing_field",
                "imsi",
                "query parameter `imsi` is required",
            )
        })?
        .parse()
        .map_err(|e| ApiError::invalid("invalid_imsi", "imsi", format!("not a valid IMSI: {e}")))?;
    let s = state
        .store
        .sim_by_imsi(&imsi)
        .await?
        .filter(|s| s.tenant == caller.tenant)
        .ok_or_else(|| ApiError::not_found("sim_not_found", "SIM"))?;
    Ok(json_response(StatusCode::OK, &sim_json(&s)))
}

/// Entries of the quarantine list when `limit` is not given, and the most it may ask for.
const QUARANTINE_LIMIT: (usize, usize) = (100, 10_000);

/// The `limit` query parameter of the quarantine list.
fn quarantine_limit(raw: Option<&str>) -> Result<usize, ApiError> {
    let (default, max) = QUARANTINE_LIMIT;
    limit_param(raw, default, max)
}

/// `GET /v1/numbers/quarantine`: numbers ageing before reuse, soonest release first.
pub async fn quarantine(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::Read)?;
    let limit = quarantine_limit(q.get("limit").map(String::as_str))?;
    let list: Vec<Value> = state
        .store
        .quarantined(&caller.tenant, limit)
        .await?
        .into_iter()
        .map(|(m, until)| json!({"msisdn": m, "release_at": rfc3339(until)}))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({"object": "list", "data": list}),
    ))
}

/// `POST /v1/numbers/{msisdn}/release`: ends a quarantine early (operator decision).
pub async fn release(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    msisdn: PathParam,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    caller.require(Permission::ReleaseQuarantine)?;
    let msisdn = msisdn.value()?;
    let m = msisdn.parse().map_err(|e| {
        ApiError::invalid(
            "invalid_msisdn",
            "msisdn",
            format!("not a valid E.164 number: {e}"),
        )
    })?;
    if !state.store.release_quarantine(&caller.tenant, &m).await? {
        return Err(ApiError::not_in_quarantine());
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({"msisdn": m, "status": "available"}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarantine_limit_takes_only_an_integer_in_range() {
        assert_eq!(quarantine_limit(None).ok(), Some(100));
        for (raw, want) in [("1", 1), ("100", 100), ("10000", 10_000), ("00007", 7)] {
            assert_eq!(quarantine_limit(Some(raw)).ok(), Some(want), "{raw}");
        }
        for raw in [
            "",
            "abc",
            "0",
            "-5",
            "+5",
            " 5",
            "10001",
            "99999999999",
            "1e3",
            "5.0",
        ] {
            let e = quarantine_limit(Some(raw)).expect_err(raw);
            assert_eq!(e.code(), "invalid_value", "{raw}");
        }
    }
}

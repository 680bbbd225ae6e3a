//! Bearer API keys. Only SHA-256 of each key is stored; keys are 160+ bits of randomness,
//! so a fast hash is enough (no password stretching needed) and lookups stay O(log n).

use super::AppState;
use super::problem::ApiError;
use crate::crypto::sha256;
use axum::http::HeaderMap;

/// The tenant a request acts for.
pub struct Tenant(pub String);

/// Resolves `Authorization: Bearer <key>` to its tenant.
pub fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Tenant, ApiError> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(ApiError::unauthorized)?;
    let value = value.to_str().map_err(|_| ApiError::unauthorized())?;
    let key = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(ApiError::unauthorized)?;
    let record = state
        .store
        .api_key(&sha256(key.as_bytes()))?
        .ok_or_else(ApiError::unauthorized)?;
    Ok(Tenant(record.tenant))
}

//! Request plumbing shared by the handlers: the `Idempotency-Key` header, path parameters,
//! bounded JSON bodies, keyed body fingerprints and JSON responses.

use super::AppState;
use super::problem::ApiError;
use crate::crypto::Keyring;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// The `Idempotency-Key` header: 1 to 255 visible ASCII characters.
pub fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let v = headers
        .get("idempotency-key")
        .ok_or_else(ApiError::idempotency_key_missing)?;
    let s = v
        .to_str()
        .map_err(|_| ApiError::idempotency_key_invalid())?;
    if s.is_empty() || s.len() > 255 || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::idempotency_key_invalid());
    }
    Ok(s.to_owned())
}

/// One text path parameter (`{id}`, `{iccid}`, ...), its extraction deferred.
///
/// axum's own `Path` refuses a parameter that is not UTF-8 once percent-decoded with a
/// plain-text 400, before the handler runs (so before authentication). This one never
/// rejects: the handler authenticates first and then takes the value, or the problem+json
/// refusal that names the parameter.
/// Several parameters are taken as a tuple: `PathParam<(String, String)>`.
pub struct PathParam<T = String>(Result<T, ApiError>);

impl<T> PathParam<T> {
    /// The decoded value, or the refusal naming the parameter.
    pub fn value(self) -> Result<T, ApiError> {
        self.0
    }
}

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> FromRequestParts<S> for PathParam<T> {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            Path::<T>::from_request_parts(parts, state)
                .await
                .map(|Path(v)| v)
                .map_err(path_rejection),
        ))
    }
}

/// Maps axum's path rejection to problem+json, naming the parameter where axum knows it.
fn path_rejection(e: PathRejection) -> ApiError {
    use axum::extract::path::ErrorKind;
    match e {
        PathRejection::FailedToDeserializePathParams(e) => match e.into_kind() {
            ErrorKind::InvalidUtf8InPathParam { key } => ApiError::invalid(
                "invalid_value",
                &key,
                format!(
                    "path parameter `{key}` is not UTF-8 once percent-decoded; send the id as returned by the API"
                ),
            ),
            ErrorKind::ParseErrorAtKey { key, .. } | ErrorKind::DeserializeError { key, .. } => {
                ApiError::invalid(
                    "invalid_value",
                    &key,
                    format!(
                        "path parameter `{key}` is malformed; send the id as returned by the API"
                    ),
                )
            }
            // Anything else is a route declared with the wrong parameters: a bug.
            _ => ApiError::internal(),
        },
        _ => ApiError::internal(),
    }
}

/// Reads a JSON body: content type checked, size bounded (413), syntax checked (400).
pub async fn read_json(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Value, ApiError> {
    read_body(state, headers, body, false).await
}

/// Like [`read_json`], but an empty body is `{}` (operations without parameters, such as
/// `POST …/terminate`, may be sent bare).
pub async fn read_json_or_empty(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Value, ApiError> {
    read_body(state, headers, body, true).await
}

async fn read_body(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    empty_is_object: bool,
) -> Result<Value, ApiError> {
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
        let mime = ct.split(';').next().unwrap_or_default().trim();
        if mime != "application/json" && !mime.ends_with("+json") {
            return Err(ApiError::unsupported_media_type());
        }
    }
    let limit = state.config.api.max_body_bytes;
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::body_too_large(limit))?;
    if empty_is_object && bytes.is_empty() {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    serde_json::from_slice(&bytes).map_err(|e| ApiError::malformed_json(e.line(), e.column()))
}

/// The keyed fingerprint of a JSON body's canonical form, for idempotency records.
/// serde_json's default map is ordered, so re-serialising canonicalises key order and
/// whitespace: the same logical body always gives the same fingerprint. It is an HMAC, not
/// a plain hash, because the body carries the subscriber's ID number and every other field
/// is in the store in clear: a plain hash could be matched by trying every ID number.
pub fn body_fingerprint(keys: &Keyring, value: &Value) -> Result<String, ApiError> {
    let canonical = serde_json::to_vec(value).map_err(|_| ApiError::internal())?;
    Ok(keys.fingerprint(&canonical))
}

/// Marks a response as the replay of an earlier request with the same `Idempotency-Key`.
pub fn replayed(mut r: Response) -> Response {
    r.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    r
}

/// A JSON response.
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut r = (status, serde_json::to_vec(body).unwrap_or_default()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// The `limit` query parameter: an integer from 1 to `max` (`default` when absent).
pub fn limit_param(raw: Option<&str>, default: usize, max: usize) -> Result<usize, ApiError> {
    let Some(raw) = raw else {
        return Ok(default);
    };
    raw.bytes()
        .all(|b| b.is_ascii_digit())
        .then_some(raw)
        .filter(|r| (1..=6).contains(&r.len()))
        .and_then(|r| r.parse::<usize>().ok())
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| {
            ApiError::invalid(
                "invalid_value",
                "limit",
                format!("query parameter `limit` must be an integer from 1 to {max}"),
            )
        })
}

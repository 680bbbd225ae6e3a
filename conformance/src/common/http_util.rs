//! Small HTTP helpers shared by the endpoints: bounded body reads and response builders.

use bytes::Bytes;
use http::header::{ALLOW, CONNECTION, CONTENT_TYPE, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Largest request body accepted; larger ones get HTTP 413.
pub(crate) const MAX_BODY_BYTES: usize = 1 << 20;

/// What every endpoint answers.
pub(crate) type HttpResponse = Response<Full<Bytes>>;

/// Returned by a handler to make hyper close the connection without writing a response
/// (dropped or abandoned exchanges).
#[derive(Debug)]
pub(crate) struct Abort;

impl std::fmt::Display for Abort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("exchange abandoned on purpose")
    }
}

impl std::error::Error for Abort {}

/// Why a body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// Longer than the cap ([`MAX_BODY_BYTES`] unless the reader set another).
    TooLarge,
    /// The client went away or sent a malformed body.
    Broken,
}

/// Reads the whole body, refusing more than [`MAX_BODY_BYTES`] (by `Content-Length` before
/// reading anything, and while reading for chunked bodies).
pub(crate) async fn read_body(req: Request<Incoming>) -> Result<Bytes, BodyError> {
    read_body_capped(req, MAX_BODY_BYTES).await
}

/// [`read_body`] with a cap of `max` bytes instead of [`MAX_BODY_BYTES`]
/// ([`BodyError::TooLarge`] names either).
pub(crate) async fn read_body_capped(
    req: Request<Incoming>,
    max: usize,
) -> Result<Bytes, BodyError> {
    let declared = req
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(BodyError::TooLarge);
    }
    match Limited::new(req.into_body(), max).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(BodyError::TooLarge),
        Err(_) => Err(BodyError::Broken),
    }
}

/// A response with `status`, a content type and a body.
pub(crate) fn with_body(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> HttpResponse {
    let mut resp = Response::new(Full::new(body.into()));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// An empty response.
pub(crate) fn empty(status: StatusCode) -> HttpResponse {
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = status;
    resp
}

/// A plain-text response.
pub(crate) fn text(status: StatusCode, body: &'static str) -> HttpResponse {
    with_body(status, "text/plain; charset=utf-8", body)
}

/// A JSON response.
pub(crate) fn json<T: Serialize>(status: StatusCode, value: &T) -> HttpResponse {
    match serde_json::to_vec(value) {
        Ok(body) => with_body(status, "application/json", body),
        Err(_) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot serialise response\n",
        ),
    }
}

/// 413, closing the connection so an unread remainder of the body is not parsed as a request.
pub(crate) fn too_large() -> HttpResponse {
    let mut resp = text(
        StatusCode::PAYLOAD_TOO_LARGE,
        "request body exceeds 1 MiB\n",
    );
    resp.headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// An error answer with the admin APIs' body `{"error": "..."}`.
pub(crate) fn error_json(status: StatusCode, error: impl Into<String>) -> HttpResponse {
    json(status, &serde_json::json!({ "error": error.into() }))
}

/// 400 with an explanation.
pub(crate) fn bad_request(error: impl Into<String>) -> HttpResponse {
    error_json(StatusCode::BAD_REQUEST, error)
}

/// 405 naming the allowed methods, or 404 when the path is unknown (`allow` is `None`).
pub(crate) fn not_routed(allow: Option<&'static str>) -> HttpResponse {
    match allow {
        Some(allow) => {
            let mut resp = error_json(StatusCode::METHOD_NOT_ALLOWED, format!("allowed: {allow}"));
            resp.headers_mut()
                .insert(ALLOW, HeaderValue::from_static(allow));
            resp
        }
        None => error_json(StatusCode::NOT_FOUND, "no such admin resource"),
    }
}

/// Reads a JSON body: `Ok(Ok(value))`, `Ok(Err(response))` for a client error, or
/// `Err(Abort)` if the client went away.
pub(crate) async fn read_json<T: DeserializeOwned>(
    req: Request<Incoming>,
) -> Result<Result<T, HttpResponse>, Abort> {
    match read_body(req).await {
        Ok(body) => Ok(serde_json::from_slice(&body).map_err(|e| bad_request(e.to_string()))),
        Err(BodyError::TooLarge) => Ok(Err(too_large())),
        Err(BodyError::Broken) => Err(Abort),
    }
}

/// Reads a JSON body holding one `T` or an array of them.
pub(crate) async fn read_json_list<T: DeserializeOwned>(
    req: Request<Incoming>,
) -> Result<Result<Vec<T>, HttpResponse>, Abort> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum OneOrMany<T> {
        One(T),
        Many(Vec<T>),
    }
    Ok(read_json::<OneOrMany<T>>(req).await?.map(|v| match v {
        OneOrMany::One(t) => vec![t],
        OneOrMany::Many(ts) => ts,
    }))
}

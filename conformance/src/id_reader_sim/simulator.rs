//! The state one running reader shares between its connections and its handle, and its
//! routing: CORS first (a refused origin gets nothing else), then the reader API and the
//! control API. Log lines name the route and the status, never a body or a raw path, so
//! no name or ID number reaches them. Locks are held only for synchronous steps.

use super::card::Card;
use super::config::{FaceMatchSetting, IdReaderSimConfig};
use super::control;
use super::cors::{self, Caller};
use crate::common::control::lock;
use crate::common::http_util::{self, Abort, BodyError, HttpResponse};
use crate::common::server::{Peer, Service};
use bytes::Bytes;
use http::header::{CONNECTION, HeaderValue};
use http::{Method, Request, StatusCode};
use hyper::body::Incoming;
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Largest request body accepted (a card is well under 1 KiB).
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024;

/// What a reset returns to.
#[derive(Debug)]
struct Initial {
    card: Option<Card>,
    face_match: FaceMatchSetting,
}

/// What tests change.
#[derive(Debug)]
struct Current {
    card: Option<Card>,
    face_match: FaceMatchSetting,
}

/// Shared simulator state.
#[derive(Debug)]
pub(crate) struct Simulator {
    reader_serial: String,
    initial: Initial,
    current: Mutex<Current>,
    /// Start time, so face-match ids differ across restarts as well.
    epoch_ms: u64,
    face_matches: AtomicU64,
}

impl Simulator {
    /// State for a validated `config`.
    pub(crate) fn new(config: &IdReaderSimConfig) -> Self {
        let epoch_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Self {
            reader_serial: config.reader_serial.clone(),
            initial: Initial {
                card: config.card.clone(),
                face_match: config.face_match,
            },
            current: Mutex::new(Current {
                card: config.card.clone(),
                face_match: config.face_match,
            }),
            epoch_ms,
            face_matches: AtomicU64::new(0),
        }
    }

    /// The reader's serial.
    pub(crate) fn reader_serial(&self) -> &str {
        &self.reader_serial
    }

    /// The card on the reader.
    pub(crate) fn card(&self) -> Option<Card> {
        lock(&self.current).card.clone()
    }

    /// Places `card` on the reader (`None` removes it).
    pub(crate) fn set_card(&self, card: Option<Card>) {
        lock(&self.current).card = card;
    }

    /// Sets what the face match answers.
    pub(crate) fn set_face_match(&self, setting: FaceMatchSetting) {
        lock(&self.current).face_match = setting;
    }

    /// Back to the configured card and face match.
    pub(crate) fn reset(&self) {
        let mut c = lock(&self.current);
        c.card = self.initial.card.clone();
        c.face_match = self.initial.face_match;
    }

    /// How many face matches were answered.
    pub(crate) fn face_matches(&self) -> u64 {
        self.face_matches.load(Ordering::Relaxed)
    }

    fn read_card(&self) -> HttpResponse {
        match self.card() {
            Some(card) => http_util::json(StatusCode::OK, &card.to_json()),
            None => no_card(),
        }
    }

    async fn face_match(&self, req: Request<Incoming>) -> Result<HttpResponse, Abort> {
        // The body (what the page sends along) is read and bounded, not interpreted.
        if let Err(resp) = read_capped(req).await? {
            return Ok(resp);
        }
        let setting = {
            let c = lock(&self.current);
            if c.card.is_none() {
                return Ok(no_card());
            }
            c.face_match
        };
        let n = self.face_matches.fetch_add(1, Ordering::Relaxed) + 1;
        let body = json!({
            "transaction_id": format!("fm-{}-{n}", self.epoch_ms),
            "score": setting.score,
            "liveness": setting.liveness,
        });
        Ok(http_util::json(StatusCode::OK, &body))
    }

    async fn route(&self, req: Request<Incoming>) -> Result<(&'static str, HttpResponse), Abort> {
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        Ok(match path.as_str() {
            "/v1/card" => match method {
                Method::GET => ("card", self.read_card()),
                _ => ("card", not_allowed("GET")),
            },
            "/v1/face-match" => match method {
                Method::POST => ("face-match", self.face_match(req).await?),
                _ => ("face-match", not_allowed("POST")),
            },
            "/control/card" => match method {
                Method::PUT => ("control/card", control::put_card(self, req).await?),
                Method::DELETE => {
                    self.set_card(None);
                    ("control/card", http_util::empty(StatusCode::NO_CONTENT))
                }
                _ => ("control/card", not_allowed("PUT, DELETE")),
            },
            "/control/face-match" => match method {
                Method::PUT => (
                    "control/face-match",
                    control::put_face_match(self, req).await?,
                ),
                _ => ("control/face-match", not_allowed("PUT")),
            },
            "/control/reset" => match method {
                Method::POST => {
                    self.reset();
                    ("control/reset", http_util::empty(StatusCode::NO_CONTENT))
                }
                _ => ("control/reset", not_allowed("POST")),
            },
            _ => ("unknown", code(StatusCode::NOT_FOUND, "not_found")),
        })
    }
}

impl Service for Simulator {
    async fn call(
        self: Arc<Self>,
        req: Request<Incoming>,
        _peer: Arc<Peer>,
    ) -> Result<HttpResponse, Abort> {
        let caller = cors::caller(req.headers());
        let method = req.method().clone();
        let (route, mut resp) = if caller == Caller::Refused {
            ("refused", code(StatusCode::FORBIDDEN, "origin_not_allowed"))
        } else if method == Method::OPTIONS {
            ("preflight", cors::preflight(req.headers()))
        } else {
            self.route(req).await?
        };
        cors::decorate(&mut resp, &caller);
        tracing::debug!(%method, route, status = resp.status().as_u16(), "id reader");
        Ok(resp)
    }
}

/// `{"code": code}` with `status`.
pub(crate) fn code(status: StatusCode, code: &str) -> HttpResponse {
    http_util::json(status, &json!({ "code": code }))
}

/// `404 {"code": "no_card"}`.
fn no_card() -> HttpResponse {
    code(StatusCode::NOT_FOUND, "no_card")
}

/// 405 naming the allowed methods.
fn not_allowed(allow: &'static str) -> HttpResponse {
    let mut resp = code(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    resp.headers_mut()
        .insert(http::header::ALLOW, HeaderValue::from_static(allow));
    resp
}

/// Reads the body up to [`MAX_BODY_BYTES`]: `Ok(Ok(body))`, `Ok(Err(413))`, or
/// `Err(Abort)` if the client went away.
pub(crate) async fn read_capped(
    req: Request<Incoming>,
) -> Result<Result<Bytes, HttpResponse>, Abort> {
    match http_util::read_body_capped(req, MAX_BODY_BYTES).await {
        Ok(body) => Ok(Ok(body)),
        Err(BodyError::TooLarge) => {
            let mut resp = code(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
            // An unread remainder must not be parsed as the next request.
            resp.headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
            Ok(Err(resp))
        }
        Err(BodyError::Broken) => Err(Abort),
    }
}

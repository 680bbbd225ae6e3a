//! Every API error, mapped to RFC 9457 problem+json in this one place. Codes are stable
//! snake_case identifiers clients can switch on; `detail` says what to do next.

mod compliance;
mod reconcile;
mod webhooks;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

mod lifecycle;
mod porting;
mod terminal;

/// The problem document.
#[derive(Debug, Serialize)]
pub struct Problem {
    /// URI identifying the problem type (`urn:simgw:problem:<code>`).
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short summary of the problem type.
    pub title: &'static str,
    /// HTTP status.
    pub status: u16,
    /// This occurrence, and what to do next.
    pub detail: String,
    /// Stable machine code.
    pub code: &'static str,
    /// The request field at fault, as a JSON path (`sim.iccid`), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Extension members (RFC 9457 §3.2), e.g. the rejected lines of a batch file.
    #[serde(flatten)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

/// An API failure.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: String,
    field: Option<String>,
    retry_after: Option<u32>,
    www_authenticate: bool,
    extensions: serde_json::Map<String, serde_json::Value>,
}

impl ApiError {
    fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code,
            title,
            detail: detail.into(),
            field: None,
            retry_after: None,
            www_authenticate: false,
            extensions: serde_json::Map::new(),
        }
    }

    /// Adds an extension member to the problem document.
    pub fn with(mut self, name: &str, value: serde_json::Value) -> Self {
        self.extensions.insert(name.to_owned(), value);
        self
    }

    /// 422: a batch file has bad lines (listed in `rejects`); nothing was imported.
    pub fn batch_rejected(count: usize) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "batch_rejected",
            "Batch file has bad lines",
            format!(
                "{count} line(s) are wrong (see `rejects`); nothing was imported; fix them and upload the whole file again"
            ),
        )
    }
    /// 422: the batch file as a whole is unusable.
    pub fn batch_invalid(detail: String) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "batch_invalid",
            "Batch file cannot be imported",
            detail,
        )
    }
    /// 422: encrypted keys without a usable transport key.
    pub fn transport_key(detail: String) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "transport_key_unavailable",
            "Transport key not configured",
            detail,
        )
    }
    /// 404: generic not found for a named thing.
    pub fn not_found(code: &'static str, what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            code,
            "Not found",
            format!("no {what} with this id exists for your tenant"),
        )
    }
    /// 409: the number is not in quarantine.
    pub fn not_in_quarantine() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "not_in_quarantine",
            "Number not in quarantine",
            "this number is not in your tenant's quarantine; list it with GET /v1/numbers/quarantine",
        )
    }

    /// Points at the request field at fault.
    pub fn at(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// The stable code (tests and metrics).
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The human-readable detail (tests).
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The request field at fault, if the problem names one.
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// 401: no or unknown API key.
    pub fn unauthorized() -> Self {
        let mut e = Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Missing or invalid API key",
            "send `Authorization: Bearer <api key>` with a key issued for your tenant",
        );
        e.www_authenticate = true;
        e
    }
    /// 403: the API key's role does not allow the operation; nothing changed. `doing` says
    /// what was refused, `roles` the roles that may, and `create` the command issuing one.
    pub fn forbidden_for_role(held: &str, doing: &str, roles: &[&str], create: &str) -> Self {
        fn article(role: &str) -> &'static str {
            if role.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            }
        }
        let needed = roles.join(" or ");
        let first = roles.first().copied().unwrap_or_default();
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden_for_role",
            "Not allowed for this key's role",
            format!(
                "this is {} {held} key; {doing} needs {} {needed} key; create one with `{create}`",
                article(held),
                article(first),
            ),
        )
        .with("role", serde_json::Value::from(held))
        .with("allowed_roles", serde_json::Value::from(roles.to_vec()))
    }
    /// 400: `Idempotency-Key` missing.
    pub fn idempotency_key_missing() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "idempotency_key_missing",
            "Idempotency-Key header required",
            "send an `Idempotency-Key` header (e.g. a UUID) so the request can be retried safely; reuse the same key only when retrying the same request",
        )
    }
    /// 400: `Idempotency-Key` malformed.
    pub fn idempotency_key_invalid() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "idempotency_key_invalid",
            "Idempotency-Key header is malformed",
            "use 1 to 255 visible ASCII characters, e.g. a UUID",
        )
    }
    /// 422: the key was used with another body.
    pub fn idempotency_key_reused() -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "Idempotency-Key reused with a different body",
            "this Idempotency-Key was already used within 24 hours for a different request; use a new key for a new request",
        )
    }
    /// 413.
    pub fn body_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "Request body too large",
            format!("the body exceeds {limit} bytes; send only the documented fields"),
        )
    }
    /// 415.
    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Body must be JSON",
            "send `Content-Type: application/json`",
        )
    }
    /// 400: JSON syntax.
    pub fn malformed_json(line: usize, column: usize) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            "Body is not valid JSON",
            format!(
                "the body is not valid JSON (line {line}, column {column}); fix the syntax and retry"
            ),
        )
    }
    /// 400: a field is wrong; `code` says how.
    pub fn invalid(code: &'static str, field: &str, detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            code,
            "Invalid request field",
            detail,
        )
        .at(field)
    }
    /// 422: the ICCID is not in the caller's inventory. Another tenant's card gets exactly
    /// this answer too, so no tenant can learn which ICCIDs exist at another brand (the
    /// code `sim_not_owned` that once told them apart is no longer sent).
    pub fn unknown_iccid() -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown_iccid", "Unknown ICCID",
            "no SIM with this ICCID is in inventory; re-scan the card, or check it was delivered to your stock").at("sim.iccid")
    }
    /// 409: the SIM is reserved or active.
    pub fn sim_not_available(state: &str) -> Self {
        Self::new(StatusCode::CONFLICT, "sim_not_available", "SIM not available",
            format!("this card is already {state} in another order; use a different card, or look up the existing activation")).at("sim.iccid")
    }
    /// 422: unknown product.
    pub fn unknown_product() -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown_product", "Unknown product",
            "this product code is not configured for your tenant; use one of your tenant's product codes").at("product")
    }
    /// 422: chosen number not in the pool.
    pub fn msisdn_not_in_pool() -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "msisdn_not_in_pool", "Number not in your pool",
            "the chosen number is not in your tenant's number pool; choose another number or use mode `auto`").at("msisdn.msisdn")
    }
    /// 409: chosen number taken.
    pub fn msisdn_not_available() -> Self {
        Self::new(StatusCode::CONFLICT, "msisdn_not_available", "Number not available",
            "the chosen number is already reserved or assigned; choose another number or use mode `auto`").at("msisdn.msisdn")
    }
    /// 409: pool empty.
    pub fn number_pool_exhausted() -> Self {
        Self::new(StatusCode::CONFLICT, "number_pool_exhausted", "No free numbers",
            "your tenant's number pool has no free number; ask your operations team to add a number block").at("msisdn")
    }
    /// 422: no such reservation.
    pub fn reservation_not_found() -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "reservation_not_found", "Unknown number reservation",
            "no number reservation with this id exists for your tenant; reserve a number first with POST /v1/numbers/reservations").at("msisdn.reservation_id")
    }
    /// 409: reservation lapsed or used.
    pub fn reservation_not_usable() -> Self {
        Self::new(StatusCode::CONFLICT, "reservation_not_usable", "Number reservation expired or used",
            "the reservation has expired or was already used by an activation; reserve a number again").at("msisdn.reservation_id")
    }
    /// 404: no such reservation (GET).
    pub fn reservation_missing() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "reservation_not_found",
            "Reservation not found",
            "no number reservation with this id exists for your tenant",
        )
    }
    /// Maps a store refusal to its problem (one place for every endpoint).
    pub fn rejection(r: crate::store::Rejection) -> Self {
        use crate::store::Rejection as R;
        match r {
            R::UnknownIccid | R::SimOfOtherTenant => Self::unknown_iccid(),
            R::SimNotAvailable { state } => Self::sim_not_available(state),
            R::UnknownProduct => Self::unknown_product(),
            R::NumberNotInPool => Self::msisdn_not_in_pool(),
            R::NumberNotAvailable => Self::msisdn_not_available(),
            R::NumberPoolExhausted => Self::number_pool_exhausted(),
            R::UnknownTenant => Self::unauthorized(),
            R::ReservationNotFound => Self::reservation_not_found(),
            R::ReservationNotUsable => Self::reservation_not_usable(),
            R::EsimNotOffered => Self::unsupported(
                "esim_not_offered",
                "product",
                "this product is not sold as an eSIM (no `esim_profile_type` is configured for it); use a physical SIM or another product",
            ),
            R::EsimStockOut { profile_type } => Self::new(
                StatusCode::CONFLICT,
                "esim_stock_out",
                "No eSIM profile left",
                format!(
                    "no eSIM profile of type `{profile_type}` is left in stock; import a new profile batch (`simgw inventory import --esim-profile-type {profile_type}`) or sell a physical SIM"
                ),
            )
            .at("sim.type"),
            R::NumberAlreadyOurs => Self::new(
                StatusCode::CONFLICT,
                "number_already_ours",
                "The number is already ours",
                "this number is already in your pools or on one of your lines, so there is nothing to port; to move it to this SIM, use the line's SIM swap (`POST /v1/subscriptions/{msisdn}/sim-swap`)",
            )
            .at("msisdn.number"),
            R::SimIsEsim => Self::invalid(
                "sim_is_esim",
                "sim.iccid",
                "this ICCID is an eSIM profile, not a physical card; order it with `{\"sim\": {\"type\": \"esim\"}}`",
            ),
        }
    }
    /// 400: an ES2+ notification body that is not a HandleDownloadProgressInfo.
    pub fn invalid_notification(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_notification",
            "Invalid notification",
            detail,
        )
    }
    /// 422: the activation is for a physical SIM; it has no activation code or QR.
    pub fn not_an_esim() -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_an_esim",
            "Not an eSIM activation",
            "this activation is for a physical SIM; only eSIM activations have an activation code and QR",
        )
    }
    /// 409: the eSIM activation code does not exist yet (or any more).
    pub fn activation_code_not_ready(status: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "activation_code_not_ready",
            "Activation code not available",
            format!(
                "the activation is `{status}`; the activation code and QR exist once the order is `active` (the profile released at the SM-DP+) and until it fails or expires; poll GET /v1/activations/{{id}}"
            ),
        )
    }
    /// 422: feature not available yet.
    pub fn unsupported(code: &'static str, field: &str, detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
            "Not supported",
            detail,
        )
        .at(field)
    }
    /// 404: no such activation for this tenant.
    pub fn activation_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "activation_not_found",
            "Activation not found",
            "no activation with this id exists for your tenant; check the id returned when it was created",
        )
    }
    /// 404: no such route.
    pub fn route_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "No such endpoint",
            "see /openapi.json for the available endpoints",
        )
    }
    /// 404: a path segment that names a kind of thing takes one of `allowed`.
    pub fn unknown_path_kind(path: &str, allowed: &[&str]) -> Self {
        let list: Vec<String> = allowed.iter().map(|a| format!("`{a}`")).collect();
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "No such endpoint",
            format!("`{path}`: the last part must be {}", list.join(", ")),
        )
    }
    /// 405.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Method not allowed",
            "see /openapi.json for the methods of this endpoint",
        )
    }
    /// 503: the store failed; safe to retry with the same Idempotency-Key.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            "Temporarily unavailable",
            detail,
        );
        e.retry_after = Some(1);
        e
    }
    /// 503: too many accepted orders are waiting for the host operator; nothing changed.
    pub fn backlog_full(bound: crate::admission::Full, retry_after_s: u32) -> Self {
        let whose = match bound {
            crate::admission::Full::Overall => "the gateway's",
            crate::admission::Full::Tenant => "your tenant's",
        };
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "backlog_full",
            "Too many orders waiting",
            format!(
                "{whose} backlog of orders waiting for the host operator is full; nothing was reserved; retry after {retry_after_s} s (Retry-After) with the same Idempotency-Key"
            ),
        )
        .with("bound", serde_json::Value::from(bound.as_str()));
        e.retry_after = Some(retry_after_s);
        e
    }
    /// 500: a bug. Logged; the client gets no internals.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Internal error",
            "an unexpected error occurred; retry with the same Idempotency-Key, and report it if it persists",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            type_uri: format!("urn:simgw:problem:{}", self.code),
            title: self.title,
            status: self.status.as_u16(),
            detail: self.detail,
            code: self.code,
            field: self.field,
            extensions: self.extensions,
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut resp = (self.status, bytes).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(s) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        if self.www_authenticate {
            h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        tracing::error!(error = %e, "store failure on the request path");
        Self::unavailable(
            "the gateway's store is temporarily unavailable; retry with the same Idempotency-Key",
        )
    }
}

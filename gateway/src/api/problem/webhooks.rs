//! The problems of the events API and webhook endpoints (a child module, so it builds on
//! the private constructor like every other problem).

use super::ApiError;
use crate::store::{EventType, MAX_ENDPOINTS_PER_TENANT};
use axum::http::StatusCode;

impl ApiError {
    /// 422: a webhook URL that is not a usable https URL.
    pub fn webhook_url_invalid(detail: String) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "webhook_url_invalid",
            "Webhook URL not usable",
            detail,
        )
        .at("url")
    }
    /// 422: a webhook URL naming an internal address (server-side request forgery).
    pub fn webhook_url_forbidden(detail: String) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "webhook_url_forbidden",
            "Webhook URL not allowed",
            detail,
        )
        .at("url")
    }
    /// 422: an event type that does not exist, in a filter or a query.
    pub fn unknown_event_type(field: &str) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_event_type",
            "Unknown event type",
            format!(
                "`{field}` names an event type that does not exist; valid types: {}",
                EventType::listing()
            ),
        )
        .at(field)
    }
    /// 409: the tenant has as many endpoints as it may.
    pub fn too_many_webhook_endpoints() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "too_many_webhook_endpoints",
            "Too many webhook endpoints",
            format!(
                "your tenant already has {MAX_ENDPOINTS_PER_TENANT} webhook endpoints; delete one (DELETE /v1/webhook-endpoints/{{id}}) or widen the event types of an existing one"
            ),
        )
    }
    /// 409: no enabled endpoint takes the event that was to be redelivered.
    pub fn no_matching_endpoint(event_type: EventType) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "no_matching_endpoint",
            "No endpoint for this event",
            format!(
                "no enabled webhook endpoint of your tenant takes `{}` events; create one with POST /v1/webhook-endpoints, or read the event with GET /v1/events",
                event_type.as_str()
            ),
        )
    }
    /// 400: a paging cursor that this API did not hand out.
    pub fn invalid_cursor(field: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_cursor",
            "Invalid cursor",
            format!(
                "query parameter `{field}` must be a cursor returned by this API (`next_cursor`) or an event id (`evt_…`); omit it to start from the beginning"
            ),
        )
        .at(field)
    }
    /// 400: a query parameter the endpoint does not know.
    pub fn unknown_parameter(name: &str, allowed: &[&str]) -> Self {
        let shown: String = name.chars().take(64).collect();
        Self::new(
            StatusCode::BAD_REQUEST,
            "unknown_parameter",
            "Unknown query parameter",
            format!(
                "unknown query parameter `{shown}`; allowed here: {}",
                allowed.join(", ")
            ),
        )
        .at(shown)
    }
}

//! The problem of a compliance refusal (a child module, so it builds on the private
//! constructor like every other problem). The compliance core decides status, code, title,
//! detail, field and extension members; this is the one place they become an `ApiError`.

use super::ApiError;
use crate::compliance::Refusal;
use axum::http::StatusCode;

impl ApiError {
    /// A compliance refusal as it is: its status, code, title, detail, field and extension
    /// members (`limit`, `active`, `window`, `retry_after`, `allowed`), and `Retry-After`
    /// from `retry_after`. The audit reason stays in the audit record: it may name the
    /// blocklist a neutral `blocked` must not reveal. A status that is not 4xx (a defect in
    /// the core) answers 422 rather than claim a server fault for a refusal.
    pub fn refusal(r: Refusal) -> Self {
        let status = StatusCode::from_u16(r.status)
            .ok()
            .filter(StatusCode::is_client_error)
            .unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
        let extensions = r.extensions();
        let mut e = Self::new(status, r.code, r.title, r.detail);
        e.field = r.field;
        e.retry_after = r
            .extras
            .retry_after_s
            .map(|s| u32::try_from(s).unwrap_or(u32::MAX));
        for (name, value) in extensions {
            e.extensions.insert(name.to_owned(), value);
        }
        e
    }
}

impl ApiError {
    /// 503: the tenant's market requires identity verification and this gateway has no
    /// verifier configured; nothing was reserved.
    pub fn identity_service_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "identity_service_unavailable",
            "Identity verification not available",
            "this tenant's market requires identity verification and the gateway has no verification service configured; the operator must set `[identity] url`",
        )
    }
}

impl ApiError {
    /// The verifier was asked about a line's second verification and gave no decision.
    pub fn identity_service_no_answer() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "identity_service_unavailable",
            "Identity verification not available",
            "the identity verifier gave no decision (unreachable, timed out or refused the call); nothing changed: send the verification again in a moment",
        )
    }
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        Self::refusal(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header;
    use axum::response::IntoResponse;
    use http_body_util::BodyExt;

    async fn answer(e: ApiError) -> (StatusCode, axum::http::HeaderMap, serde_json::Value) {
        let resp = e.into_response();
        let (parts, body) = resp.into_parts();
        let bytes = body.collect().await.expect("body").to_bytes();
        let json = serde_json::from_slice(&bytes).expect("problem+json");
        (parts.status, parts.headers, json)
    }

    #[tokio::test]
    async fn a_velocity_refusal_keeps_its_members_and_sets_retry_after() {
        let mut r = Refusal::new(
            429,
            "velocity_limit",
            "Too many activations",
            "the limit of 30 activations (clerk_per_hour) is reached; retry after 61 s".into(),
        )
        .at("channel.staff_id")
        .audit("velocity:clerk_per_hour:C1");
        r.extras.limit = Some(30);
        r.extras.window = Some("clerk_per_hour");
        r.extras.retry_after_s = Some(61);
        let (status, headers, body) = answer(ApiError::from(r)).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(headers[header::RETRY_AFTER], "61");
        assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
        assert_eq!(
            body,
            serde_json::json!({
                "type": "urn:simgw:problem:velocity_limit",
                "title": "Too many activations",
                "status": 429,
                "detail": "the limit of 30 activations (clerk_per_hour) is reached; retry after 61 s",
                "code": "velocity_limit",
                "field": "channel.staff_id",
                "limit": 30,
                "window": "clerk_per_hour",
                "retry_after": 61,
            })
        );
    }

    #[tokio::test]
    async fn a_blocked_answer_never_names_the_list() {
        let mut r = Refusal::new(
            403,
            "blocked",
            "Activation not possible",
            "this activation cannot be completed".into(),
        )
        .audit("blocklist:id_hash,device_imei");
        r.extras.allowed = vec!["x"];
        let (status, headers, body) = answer(ApiError::refusal(r)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(headers.get(header::RETRY_AFTER).is_none());
        assert_eq!(body["allowed"], serde_json::json!(["x"]));
        assert!(body.get("field").is_none());
        let text = body.to_string();
        for secret in ["blocklist", "id_hash", "device_imei", "audit"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }

    #[tokio::test]
    async fn a_status_that_is_not_a_refusal_answers_422() {
        for status in [200, 503, 1000] {
            let r = Refusal::new(status, "id_quota_exceeded", "t", "d".into());
            let (got, _, body) = answer(ApiError::refusal(r)).await;
            assert_eq!(got, StatusCode::UNPROCESSABLE_ENTITY, "{status}");
            assert_eq!(body["status"], 422);
        }
    }
}

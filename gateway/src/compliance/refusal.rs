//! A compliance refusal as a value: the stable problem code, the HTTP status, a detail that
//! says what to fix, and the typed extension members. `api::problem` turns it into
//! problem+json in one place; this module knows nothing of HTTP types.

/// Why an order (or a validation) was refused; nothing was reserved.
#[derive(Clone, Debug, PartialEq)]
pub struct Refusal {
    /// Stable snake_case code (`id_quota_exceeded`, `velocity_limit`, `blocked`, …).
    pub code: &'static str,
    /// HTTP status the API answers with.
    pub status: u16,
    /// Short summary of the problem type.
    pub title: &'static str,
    /// What happened and what to do next. Never echoes an ID number or a name.
    pub detail: String,
    /// The request field at fault (`subscriber.id_number`), when there is one.
    pub field: Option<String>,
    /// Extension members for the problem document (boxed: most refusals have none, and
    /// a small `Refusal` keeps `Result`s cheap).
    pub extras: Box<Extras>,
    /// Why, for the audit record only: may name a blocklist or a rule the channel must
    /// not learn (a `blocked` answer is neutral). Never sent to the caller.
    pub audit_reason: String,
}

/// Typed extension members of a refusal (RFC 9457 §3.2).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extras {
    /// The limit that was reached.
    pub limit: Option<u32>,
    /// How many count against it now (`id_quota_exceeded`: live lines of the ID).
    pub active: Option<u32>,
    /// The velocity window (`store_per_day`, …).
    pub window: Option<&'static str>,
    /// Seconds until a retry can pass (also the `Retry-After` header).
    pub retry_after_s: Option<u64>,
    /// The values the field accepts (`id_type`, capture methods).
    pub allowed: Vec<&'static str>,
}

impl Refusal {
    /// A refusal with no field and no extras; the audit reason is the code.
    pub fn new(status: u16, code: &'static str, title: &'static str, detail: String) -> Self {
        Self {
            code,
            status,
            title,
            detail,
            field: None,
            extras: Box::default(),
            audit_reason: code.to_owned(),
        }
    }

    /// Points at the request field at fault.
    pub fn at(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Replaces the audit reason (kept out of the answer).
    pub fn audit(mut self, reason: impl Into<String>) -> Self {
        self.audit_reason = reason.into();
        self
    }

    /// 400: a `subscriber` field is missing, of the wrong type or out of bounds.
    pub fn subscriber_invalid(field: &str, detail: String) -> Self {
        Self::new(
            400,
            "subscriber_invalid",
            "Invalid subscriber field",
            detail,
        )
        .at(field)
    }

    /// The extension members as JSON pairs, for the problem document.
    pub fn extensions(&self) -> Vec<(&'static str, serde_json::Value)> {
        let e = &self.extras;
        let mut out = Vec::new();
        if let Some(v) = e.limit {
            out.push(("limit", v.into()));
        }
        if let Some(v) = e.active {
            out.push(("active", v.into()));
        }
        if let Some(v) = e.window {
            out.push(("window", v.into()));
        }
        if let Some(v) = e.retry_after_s {
            out.push(("retry_after", v.into()));
        }
        if !e.allowed.is_empty() {
            out.push(("allowed", e.allowed.clone().into()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_carry_only_what_is_set() {
        let mut r = Refusal::new(429, "velocity_limit", "t", "d".into());
        assert!(r.extensions().is_empty());
        r.extras.limit = Some(5);
        r.extras.window = Some("clerk_per_hour");
        r.extras.retry_after_s = Some(60);
        let names: Vec<_> = r.extensions().into_iter().map(|(k, _)| k).collect();
        assert_eq!(names, ["limit", "window", "retry_after"]);
        assert_eq!(r.audit_reason, "velocity_limit");
    }
}

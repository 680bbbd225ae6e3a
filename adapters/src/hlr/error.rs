//! Normalised southbound faults, with a retry classification the engine acts on.

/// What kind of fault a host raised, independent of its dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultClass {
    /// The session was unknown or expired and re-login did not help.
    Session,
    /// Login itself was refused (credentials, or the host's session service failed).
    /// Retryable within the engine's budget: it says nothing about the subscriber, and a
    /// host fixing its accounts or session service lets the order through. Adapters space
    /// their Logins after a refusal so retries never hammer an account into a lockout.
    Authentication,
    /// The object already exists (only surfaced when the data could not be compared).
    AlreadyExists,
    /// The object exists with different data: never overwritten silently.
    Conflict,
    /// The object does not exist.
    NotFound,
    /// The host rejected the request as invalid.
    Validation,
    /// The network element refused the request for a business reason.
    External,
    /// The host reported a temporary condition (overload, busy).
    Transient,
    /// No answer within the configured timeout.
    Timeout,
    /// The connection failed or was dropped before a complete answer arrived.
    Connection,
    /// The answer could not be understood (not the dialect, or truncated).
    Protocol,
    /// The host stored the data but a network-side update failed; do not compensate by
    /// deleting, raise a follow-up action.
    PartialSuccess,
}

impl FaultClass {
    /// True if repeating the same (idempotent) operation later may succeed.
    pub fn retryable(self) -> bool {
        matches!(
            self,
            Self::Session
                | Self::Authentication
                | Self::Transient
                | Self::Timeout
                | Self::Connection
                | Self::Protocol
        )
    }

    /// Stable snake_case name, used in order errors, metrics and problem codes.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Session => "session",
            Self::Authentication => "authentication",
            Self::AlreadyExists => "already_exists",
            Self::Conflict => "conflict",
            Self::NotFound => "not_found",
            Self::Validation => "validation",
            Self::External => "external",
            Self::Transient => "transient",
            Self::Timeout => "timeout",
            Self::Connection => "connection",
            Self::Protocol => "protocol",
            Self::PartialSuccess => "partial_success",
        }
    }
}

/// A southbound fault. `message` comes from the host's error table or from our own text,
/// never from a request body, so it carries no key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation}: {} fault{}: {message}", class.as_str(), code.as_deref().map(|c| format!(" {c}")).unwrap_or_default())]
pub struct HlrError {
    /// The normalised class.
    pub class: FaultClass,
    /// Which operation failed, e.g. `"GsmAuc Create"`.
    pub operation: &'static str,
    /// The most specific host code, if any (e.g. the CAI3G code chain's first entry).
    pub code: Option<String>,
    /// Human-readable description.
    pub message: String,
}

impl HlrError {
    /// Builds an error.
    pub fn new(class: FaultClass, operation: &'static str, message: impl Into<String>) -> Self {
        Self {
            class,
            operation,
            code: None,
            message: message.into(),
        }
    }

    /// Attaches the host's code.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// True if the engine may retry the operation.
    pub fn retryable(&self) -> bool {
        self.class.retryable()
    }
}

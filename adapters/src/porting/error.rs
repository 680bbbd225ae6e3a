//! The porting adapter's errors: the codec's (which name a JSON path, never a value), the
//! client's set-up refusal, and what a call can end in, sorted by whether a retry may help.

use super::reason::HubErrorCode;
use crate::hlr::FaultClass;
use crate::http::HttpError;
use std::time::Duration;

/// Why a body could not be decoded or a value parsed. Messages name the JSON path at
/// fault and never quote the input (a body may hold a porting code or an account PIN).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortingCodecError {
    /// The body is larger than [`super::MAX_BODY_BYTES`].
    #[error("body exceeds {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body is not UTF-8.
    #[error("body is not UTF-8")]
    NotUtf8,
    /// The body is not JSON.
    #[error("body is not JSON (line {line}, column {column})")]
    Malformed {
        /// Line of the syntax error.
        line: usize,
        /// Column of the syntax error.
        column: usize,
    },
    /// The body is JSON but not an object.
    #[error("body is not a JSON object")]
    NotAnObject,
    /// A mandatory member is absent (or `null`).
    #[error("{field}: missing")]
    Missing {
        /// The JSON path.
        field: &'static str,
    },
    /// A member has the wrong type or an invalid value.
    #[error("{field}: invalid value")]
    InvalidValue {
        /// The JSON path.
        field: &'static str,
    },
}

/// Why [`super::PortingHubClient::new`] refused its configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortingConfigError {
    /// The base URL is not an absolute `https` URL without user info, query or fragment.
    #[error("porting hub base URL must be an absolute https URL without query or fragment")]
    InvalidBaseUrl,
    /// The TLS material is unusable (bad PEM, a key that does not match the certificate).
    #[error("porting hub client set-up failed: {0}")]
    Http(HttpError),
}

/// Why the hub could not be reached or answered nothing usable for now: worth retrying
/// with the same request (the request id makes the repeat safe).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    /// No complete answer within the call's timeout (the hub may have recorded the
    /// request; the repeat gets its first answer).
    #[error("timed out")]
    Timeout,
    /// The TCP connection could not be established.
    #[error("{0}")]
    Connect(String),
    /// The connection broke after it was established.
    #[error("{0}")]
    Io(String),
    /// The hub answered 5xx or 429.
    #[error("HTTP status {status}")]
    Status {
        /// The status.
        status: u16,
        /// The hub's `Retry-After` in seconds, if it sent one.
        retry_after: Option<Duration>,
    },
}

/// What a hub call can end in other than a receipt. Messages come from the transport, the
/// HTTP status and the hub's error code only, never from request or answer values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortingError {
    /// The hub is unavailable for now: repeat the same request (same `request_id`) under
    /// the caller's retry policy.
    #[error("porting hub unavailable: {0}")]
    Unavailable(Unavailable),
    /// The TLS handshake failed (certificate not trusted, our certificate refused):
    /// configuration, not luck, so a retry would meet the same refusal.
    #[error("porting hub TLS failed: {0}")]
    Tls(String),
    /// The hub refused the request (4xx other than 429), with its error code when the
    /// body carried a readable one. A repeat gets the same refusal.
    #[error("porting hub refused the request with HTTP status {status}{}", code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Refused {
        /// The status.
        status: u16,
        /// The hub's code, if the problem body had one.
        code: Option<HubErrorCode>,
    },
    /// A 2xx whose body is not a receipt for this request: the hub is broken or speaks
    /// another protocol. It may have acted on the request: reconcile, do not repeat blindly.
    #[error("porting hub answer unusable: {0}")]
    BadResponse(PortingCodecError),
    /// A status outside the protocol (1xx, 3xx, a 2xx other than 200 and 202).
    #[error("porting hub answered unexpected HTTP status {status}")]
    UnexpectedStatus {
        /// The status.
        status: u16,
    },
    /// The call could not be made with this client's configuration.
    #[error("porting hub call not possible: {0}")]
    Config(String),
}

impl PortingError {
    /// Whether repeating the same request (same request id, same body) later may succeed:
    /// only [`PortingError::Unavailable`]. The hub answers a repeat of a request it has
    /// recorded with its first answer, so a retry after a timeout never acts twice.
    pub fn retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }

    /// The shared fault class, for metrics and logs alongside the HLR's.
    pub fn class(&self) -> FaultClass {
        match self {
            Self::Unavailable(Unavailable::Timeout) => FaultClass::Timeout,
            Self::Unavailable(Unavailable::Connect(_) | Unavailable::Io(_)) => {
                FaultClass::Connection
            }
            Self::Unavailable(Unavailable::Status { .. }) => FaultClass::Transient,
            Self::Tls(_)
            | Self::Refused {
                status: 401 | 403, ..
            } => FaultClass::Authentication,
            Self::Refused { status: 404, .. } => FaultClass::NotFound,
            Self::Refused { status: 409, .. } => FaultClass::Conflict,
            Self::Refused { .. } | Self::Config(_) => FaultClass::Validation,
            Self::BadResponse(_) | Self::UnexpectedStatus { .. } => FaultClass::Protocol,
        }
    }

    /// The hub's error code, for a refusal that carried one.
    pub fn code(&self) -> Option<&HubErrorCode> {
        match self {
            Self::Refused { code, .. } => code.as_ref(),
            _ => None,
        }
    }

    /// The hub's `Retry-After`, if it asked for a pause.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Unavailable(Unavailable::Status { retry_after, .. }) => *retry_after,
            _ => None,
        }
    }

    /// Classifies a transport failure.
    pub(crate) fn from_transport(e: HttpError) -> Self {
        match e {
            HttpError::Timeout => Self::Unavailable(Unavailable::Timeout),
            HttpError::Connect(m) => Self::Unavailable(Unavailable::Connect(m)),
            HttpError::Io(m) => Self::Unavailable(Unavailable::Io(m)),
            HttpError::Tls(m) => Self::Tls(m),
            HttpError::BodyTooLarge { limit } => {
                Self::BadResponse(PortingCodecError::TooLarge { limit })
            }
            e
            @ (HttpError::InvalidUrl | HttpError::InvalidHeader { .. } | HttpError::Config(_)) => {
                Self::Config(e.to_string())
            }
        }
    }

    /// Classifies a status that is not a success, with the code of its problem body.
    pub(crate) fn from_status(
        status: u16,
        code: Option<HubErrorCode>,
        retry_after: Option<Duration>,
    ) -> Self {
        match status {
            429 | 500..=599 => Self::Unavailable(Unavailable::Status {
                status,
                retry_after,
            }),
            400..=499 => Self::Refused { status, code },
            _ => Self::UnexpectedStatus { status },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        let table = [
            (HttpError::Timeout, true, FaultClass::Timeout),
            (
                HttpError::Connect("refused".into()),
                true,
                FaultClass::Connection,
            ),
            (HttpError::Io("reset".into()), true, FaultClass::Connection),
            (
                HttpError::Tls("bad cert".into()),
                false,
                FaultClass::Authentication,
            ),
            (
                HttpError::BodyTooLarge { limit: 1 },
                false,
                FaultClass::Protocol,
            ),
            (HttpError::InvalidUrl, false, FaultClass::Validation),
        ];
        for (e, retryable, class) in table {
            let err = PortingError::from_transport(e.clone());
            assert_eq!(err.retryable(), retryable, "{e:?}");
            assert_eq!(err.class(), class, "{e:?}");
        }
        for (status, retryable, class) in [
            (503, true, FaultClass::Transient),
            (500, true, FaultClass::Transient),
            (429, true, FaultClass::Transient),
            (401, false, FaultClass::Authentication),
            (403, false, FaultClass::Authentication),
            (404, false, FaultClass::NotFound),
            (409, false, FaultClass::Conflict),
            (400, false, FaultClass::Validation),
            (204, false, FaultClass::Protocol),
            (302, false, FaultClass::Protocol),
        ] {
            let err = PortingError::from_status(status, None, None);
            assert_eq!(err.retryable(), retryable, "{status}");
            assert_eq!(err.class(), class, "{status}");
        }
        let pause = Some(Duration::from_secs(7));
        assert_eq!(
            PortingError::from_status(429, None, pause).retry_after(),
            pause
        );
        let locked = PortingError::from_status(409, Some(HubErrorCode::PortLocked), None);
        assert_eq!(locked.code(), Some(&HubErrorCode::PortLocked));
        assert_eq!(
            locked.to_string(),
            "porting hub refused the request with HTTP status 409 (port_locked)"
        );
    }
}

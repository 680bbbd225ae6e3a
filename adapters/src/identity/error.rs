//! The verification adapter's errors: the codec's (which name a field, never a value), the
//! client's set-up refusal, and what a call can end in, sorted by whether a retry may help.

use crate::hlr::FaultClass;
use crate::http::HttpError;
use std::time::Duration;

/// Why a body could not be decoded or a value parsed. Messages name the JSON path at
/// fault and never quote the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityCodecError {
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

/// Why [`super::IdentityClient::new`] refused its configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityConfigError {
    /// The base URL is not an absolute `https` URL without user info, query or fragment.
    #[error("identity verifier base URL must be an absolute https URL without query or fragment")]
    InvalidBaseUrl,
    /// The API key header name is not a valid header name, or a credential is not a valid
    /// header value (printable ASCII).
    #[error("identity verifier credential or its header name is invalid")]
    InvalidCredential,
    /// The TLS material is unusable.
    #[error("identity verifier client set-up failed: {0}")]
    Http(HttpError),
}

/// Why a verifier could not be reached or answered nothing usable: worth retrying later
/// (the request id makes the repeat safe).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    /// No complete answer within the call's timeout.
    #[error("timed out")]
    Timeout,
    /// The TCP connection could not be established.
    #[error("{0}")]
    Connect(String),
    /// The connection broke after it was established.
    #[error("{0}")]
    Io(String),
    /// The verifier answered 5xx or 429.
    #[error("HTTP status {status}")]
    Status {
        /// The status.
        status: u16,
        /// The verifier's `Retry-After` in seconds, if it sent one.
        retry_after: Option<Duration>,
    },
}

/// What a verification call can end in other than a decision. Messages come from the
/// transport and the HTTP status only, never from the request (no name, no ID number) or
/// from response bodies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// The verifier is unavailable for now: retry under the caller's policy, then fail
    /// the order with `identity_service_unavailable`.
    #[error("identity verifier unavailable: {0}")]
    Unavailable(Unavailable),
    /// The TLS handshake failed (certificate not trusted, our certificate refused):
    /// configuration, not luck, so a retry would meet the same refusal.
    #[error("identity verifier TLS failed: {0}")]
    Tls(String),
    /// The verifier refused the call at the HTTP layer (4xx other than 429): 401/403 are
    /// our credentials, 400/409/422 a request it will never accept.
    #[error("identity verifier refused the request with HTTP status {status}")]
    Refused {
        /// The status.
        status: u16,
    },
    /// A 200 whose body is not a valid answer to this request (or a status outside the
    /// protocol): the verifier is broken or not speaking this protocol.
    #[error("identity verifier answer unusable: {0}")]
    BadResponse(IdentityCodecError),
    /// An unexpected HTTP status (1xx, 3xx, a 2xx other than 200).
    #[error("identity verifier answered unexpected HTTP status {status}")]
    UnexpectedStatus {
        /// The status.
        status: u16,
    },
    /// The call could not be made with this client's configuration.
    #[error("identity verifier call not possible: {0}")]
    Config(String),
}

impl IdentityError {
    /// Whether repeating the same request (same request id) later may succeed: only
    /// [`IdentityError::Unavailable`]. Unlike [`FaultClass::retryable`], an unusable
    /// answer and refused credentials are permanent here: nothing was provisioned yet, so
    /// failing the order at once is cheaper than retrying a broken verifier.
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
            Self::Tls(_) | Self::Refused { status: 401 | 403 } => FaultClass::Authentication,
            Self::Refused { .. } | Self::Config(_) => FaultClass::Validation,
            Self::BadResponse(_) | Self::UnexpectedStatus { .. } => FaultClass::Protocol,
        }
    }

    /// The verifier's `Retry-After`, if it asked for a pause.
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
                Self::BadResponse(IdentityCodecError::TooLarge { limit })
            }
            e
            @ (HttpError::InvalidUrl | HttpError::InvalidHeader { .. } | HttpError::Config(_)) => {
                Self::Config(e.to_string())
            }
        }
    }

    /// Classifies a status other than 200.
    pub(crate) fn from_status(status: u16, retry_after: Option<Duration>) -> Self {
        match status {
            429 | 500..=599 => Self::Unavailable(Unavailable::Status {
                status,
                retry_after,
            }),
            400..=499 => Self::Refused { status },
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
            let err = IdentityError::from_transport(e.clone());
            assert_eq!(err.retryable(), retryable, "{e:?}");
            assert_eq!(err.class(), class, "{e:?}");
        }
        for (status, retryable, class) in [
            (503, true, FaultClass::Transient),
            (500, true, FaultClass::Transient),
            (429, true, FaultClass::Transient),
            (401, false, FaultClass::Authentication),
            (403, false, FaultClass::Authentication),
            (400, false, FaultClass::Validation),
            (409, false, FaultClass::Validation),
            (204, false, FaultClass::Protocol),
            (302, false, FaultClass::Protocol),
        ] {
            let err = IdentityError::from_status(status, None);
            assert_eq!(err.retryable(), retryable, "{status}");
            assert_eq!(err.class(), class, "{status}");
        }
        let pause = Some(Duration::from_secs(7));
        assert_eq!(IdentityError::from_status(429, pause).retry_after(), pause);
    }
}

//! Transport failures, split the way callers decide on retries.

/// Why an HTTP exchange failed. Messages come from the transport, never from bodies.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The URL is not an absolute `http`/`https` URL.
    #[error("invalid URL")]
    InvalidUrl,
    /// A request header name or value is invalid.
    #[error("invalid request header {name}")]
    InvalidHeader {
        /// The header name as given.
        name: String,
    },
    /// No complete answer within the request timeout.
    #[error("request timed out")]
    Timeout,
    /// The TCP connection could not be established.
    #[error("connect failed: {0}")]
    Connect(String),
    /// The TLS handshake failed (certificate, protocol version, client auth).
    #[error("TLS failed: {0}")]
    Tls(String),
    /// The connection broke or the peer spoke broken HTTP after connecting.
    #[error("I/O or protocol error: {0}")]
    Io(String),
    /// The response body exceeds the configured limit.
    #[error("response body exceeds {limit} bytes")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The client configuration is unusable (bad PEM, key mismatch).
    #[error("invalid HTTP client configuration: {0}")]
    Config(String),
}

/// Classifies a hyper client error by walking its source chain.
pub(super) fn from_client(err: &hyper_util::client::legacy::Error) -> HttpError {
    if let Some(tls) = find_tls(err) {
        return HttpError::Tls(tls);
    }
    if err.is_connect() {
        HttpError::Connect(chain(err))
    } else {
        HttpError::Io(chain(err))
    }
}

/// rustls errors reach us inside (possibly nested) `io::Error`s, whose `source()` skips
/// the wrapped error, so each `io::Error` is opened explicitly.
fn find_tls(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(t) = e.downcast_ref::<rustls::Error>() {
            return Some(t.to_string());
        }
        let wrapped = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref());
        cur = match wrapped {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
}

/// The error and its causes, joined, for operators.
pub(super) fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        out.push_str(": ");
        out.push_str(&e.to_string());
        cur = e.source();
    }
    out
}

//! Cross-origin rules of the reader service, as pure functions of request headers: which
//! page origins may call it (any `https` origin, and `http` on loopback), the headers every
//! answer carries, and the answer to a CORS / Private Network Access preflight.

use crate::common::http_util::{self, HttpResponse};
use http::StatusCode;
use http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_METHOD, ALLOW, HeaderMap, HeaderName,
    HeaderValue, ORIGIN, VARY,
};

/// The methods the service answers.
pub(crate) const METHODS: &str = "GET, POST, PUT, DELETE";

/// The request header of a Private Network Access preflight.
const REQUEST_PRIVATE_NETWORK: HeaderName =
    HeaderName::from_static("access-control-request-private-network");
/// Its answer.
const ALLOW_PRIVATE_NETWORK: HeaderName =
    HeaderName::from_static("access-control-allow-private-network");

/// Where a request comes from, as far as CORS is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Caller {
    /// No `Origin` header: not a browser's cross-origin call (curl, tests, the gateway).
    NoOrigin,
    /// A page origin allowed to call the reader; the header value to echo.
    Allowed(HeaderValue),
    /// A page origin that may not.
    Refused,
}

/// Classifies the request's `Origin`.
pub(crate) fn caller(headers: &HeaderMap) -> Caller {
    match headers.get(ORIGIN) {
        None => Caller::NoOrigin,
        Some(v) => match v.to_str() {
            Ok(s) if origin_allowed(s) => Caller::Allowed(v.clone()),
            _ => Caller::Refused,
        },
    }
}

/// Whether a serialised origin may call the reader: `https://host[:port]`, or
/// `http://` on `127.0.0.1`, `localhost` or `[::1]` (the page's own machine).
pub(crate) fn origin_allowed(origin: &str) -> bool {
    if let Some(rest) = origin.strip_prefix("https://") {
        return host_port(rest).is_some();
    }
    if let Some(rest) = origin.strip_prefix("http://") {
        return host_port(rest).is_some_and(|h| matches!(h, "127.0.0.1" | "localhost" | "[::1]"));
    }
    false
}

/// The host of `host[:port]` (an origin has no path, user info, query or fragment).
fn host_port(s: &str) -> Option<&str> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
    if s.is_empty() || !s.chars().all(ok_char) {
        return None;
    }
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && !p.contains(']') => (h, Some(p)),
        _ => (s, None),
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.parse::<u16>().is_ok());
    (port_ok && !host.is_empty()).then_some(host)
}

/// Adds what every answer carries: `Vary: Origin`, and the echoed origin when allowed.
pub(crate) fn decorate(resp: &mut HttpResponse, caller: &Caller) {
    let h = resp.headers_mut();
    h.insert(VARY, HeaderValue::from_static("Origin"));
    if let Caller::Allowed(origin) = caller {
        h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    }
}

/// The answer to `OPTIONS`: a preflight from an allowed origin gets `204` with the
/// methods, `content-type`, and the Private Network Access grant when asked for it; a
/// plain `OPTIONS` gets `204` with `Allow`. (`decorate` adds the origin afterwards.)
pub(crate) fn preflight(headers: &HeaderMap) -> HttpResponse {
    let mut resp = http_util::empty(StatusCode::NO_CONTENT);
    let h = resp.headers_mut();
    if !headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD) {
        h.insert(
            ALLOW,
            HeaderValue::from_static("GET, POST, PUT, DELETE, OPTIONS"),
        );
        return resp;
    }
    h.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(METHODS),
    );
    h.insert(
        ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type"),
    );
    h.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    let wants_private_network = headers
        .get(REQUEST_PRIVATE_NETWORK)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
    if wants_private_network {
        h.insert(ALLOW_PRIVATE_NETWORK, HeaderValue::from_static("true"));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_origins_may_call() {
        for ok in [
            "https://127.0.0.1:8443",
            "https://gw.example.com",
            "https://[::1]:443",
            "http://127.0.0.1:3000",
            "http://localhost",
            "http://[::1]:8080",
        ] {
            assert!(origin_allowed(ok), "{ok}");
        }
        for refused in [
            "null",
            "",
            "http://example.com",
            "http://127.0.0.2",
            "http://localhost.evil.com",
            "https://",
            "https://a.example/path",
            "https://a.example:99999",
            "https://a.example:",
            "https://user@a.example",
            "ftp://127.0.0.1",
            "file://",
        ] {
            assert!(!origin_allowed(refused), "{refused}");
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn the_caller_is_read_from_origin() {
        assert_eq!(caller(&headers(&[])), Caller::NoOrigin);
        assert_eq!(
            caller(&headers(&[("origin", "https://x.example")])),
            Caller::Allowed(HeaderValue::from_static("https://x.example"))
        );
        assert_eq!(
            caller(&headers(&[("origin", "http://x.example")])),
            Caller::Refused
        );
        let mut h = HeaderMap::new();
        h.insert(
            ORIGIN,
            HeaderValue::from_bytes(b"https://\xff").expect("opaque bytes are a header value"),
        );
        assert_eq!(caller(&h), Caller::Refused);
    }

    #[test]
    fn preflights_grant_the_private_network_only_when_asked() {
        let r = preflight(&headers(&[("access-control-request-method", "POST")]));
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        assert_eq!(r.headers()[ACCESS_CONTROL_ALLOW_METHODS], METHODS);
        assert_eq!(r.headers()[ACCESS_CONTROL_ALLOW_HEADERS], "content-type");
        assert!(!r.headers().contains_key(ALLOW_PRIVATE_NETWORK));
        let r = preflight(&headers(&[
            ("access-control-request-method", "GET"),
            ("access-control-request-private-network", "true"),
        ]));
        assert_eq!(r.headers()[ALLOW_PRIVATE_NETWORK], "true");
        let r = preflight(&headers(&[]));
        assert!(r.headers().contains_key(ALLOW));
        assert!(!r.headers().contains_key(ACCESS_CONTROL_ALLOW_METHODS));
    }
}

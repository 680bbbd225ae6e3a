//! The page's files, embedded at build time (`build.rs` lists `gateway/terminal/`), and
//! the headers every one of them is served with: a strict Content-Security-Policy (no
//! inline script or style; network only to the gateway and the terminal's own ID reader
//! service), no framing, no sniffing, no referrer.

use axum::http::{HeaderMap, HeaderValue, header};

/// `(path under /terminal/, content type, bytes)` of every embedded file.
const FILES: &[(&str, &str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/terminal_assets.rs"));

/// The embedded file at `path` (relative to `/terminal/`; empty: `index.html`).
pub fn file(path: &str) -> Option<(&'static str, &'static [u8])> {
    let path = if path.is_empty() { "index.html" } else { path };
    FILES
        .iter()
        .find(|(p, _, _)| *p == path)
        .map(|(_, ty, bytes)| (*ty, *bytes))
}

/// Every embedded path (tests walk them).
pub fn paths() -> impl Iterator<Item = &'static str> {
    FILES.iter().map(|(p, _, _)| *p)
}

/// The Content-Security-Policy of the page, allowing `reader_origin` besides itself.
pub fn content_security_policy(reader_origin: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
         connect-src 'self' {reader_origin}; font-src 'self'; manifest-src 'self'; \
         media-src 'self' blob:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The security headers of every answer under `/terminal/` (assets and API alike).
pub fn security_headers(headers: &mut HeaderMap, csp: &HeaderValue) {
    headers.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000"),
    );
    headers.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(self), microphone=(), geolocation=()"),
    );
}

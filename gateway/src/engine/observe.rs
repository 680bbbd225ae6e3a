//! Metrics of southbound calls: latency and outcome (ok, retryable, permanent) per call,
//! and the one-line summary each answer leaves in the event log.

use super::Inner;
use adapters::es2plus::Es2CallError;
use std::sync::atomic::Ordering::Relaxed;

/// Records metrics for an HLR answer and returns its one-line summary for the event log.
pub(super) fn observe<T: std::fmt::Debug>(
    inner: &Inner,
    result: &Result<T, adapters::hlr::HlrError>,
    started: tokio::time::Instant,
) -> String {
    let m = &inner.metrics;
    count_call(
        &m.hlr_latency,
        [&m.hlr_ok, &m.hlr_retryable, &m.hlr_permanent],
        started,
        result.as_ref().err().map(|e| e.retryable()),
    );
    match result {
        Ok(o) => format!("ok: {o:?}"),
        Err(e) => e.to_string(),
    }
}

/// Records one southbound call: its latency, and its outcome as ok, retryable or
/// permanent (`failure` is `None` for success, else whether it may be retried).
fn count_call(
    latency: &crate::metrics::Histogram,
    [ok, retryable, permanent]: [&std::sync::atomic::AtomicU64; 3],
    started: tokio::time::Instant,
    failure: Option<bool>,
) {
    latency.observe(started.elapsed());
    let c = match failure {
        None => ok,
        Some(true) => retryable,
        Some(false) => permanent,
    };
    c.fetch_add(1, Relaxed);
}

/// Records metrics for an identity verifier's answer (any decision counts as `ok`).
pub(super) fn observe_identity<T>(
    inner: &Inner,
    result: &Result<T, adapters::identity::IdentityError>,
    started: tokio::time::Instant,
) {
    let m = &inner.metrics;
    count_call(
        &m.identity_latency,
        [&m.identity_ok, &m.identity_retryable, &m.identity_permanent],
        started,
        result
            .as_ref()
            .err()
            .map(adapters::identity::IdentityError::retryable),
    );
}

/// Records metrics for an ES2+ answer and returns its one-line summary for the event log.
pub(super) fn observe_es2<T>(
    inner: &Inner,
    result: &Result<T, Es2CallError>,
    started: tokio::time::Instant,
) -> String {
    let m = &inner.metrics;
    count_call(
        &m.es2_latency,
        [&m.es2_ok, &m.es2_retryable, &m.es2_permanent],
        started,
        result.as_ref().err().map(Es2CallError::retryable),
    );
    match result {
        Ok(_) => "ok".into(),
        Err(e) => e.to_string(),
    }
}

//! The porting hub driver: one `POST` over mutual-TLS HTTPS per request. It owns the
//! [`HttpClient`] and nothing else; bodies come from the sans-IO codec, and failures are
//! sorted by [`PortingError::retryable`].

use super::acknowledge::{Acknowledge, encode_acknowledge};
use super::answer::{AnswerPortOut, encode_answer_port_out};
use super::cancel::{CancelPort, encode_cancel};
use super::error::{PortingCodecError, PortingConfigError, PortingError};
use super::number_return::{ReturnNumber, encode_return_number};
use super::receipt::{Receipt, decode_problem, decode_receipt};
use super::reschedule::{ReschedulePort, encode_reschedule};
use super::submit::{SubmitPortIn, encode_submit_port_in};
use super::values::Ref;
use super::{BoxFuture, ClientIdentity, MAX_BODY_BYTES, PortingHub, path};
use crate::http::HttpClient;
use bytes::Bytes;
use http::HeaderMap;
use http::header::RETRY_AFTER;
use std::fmt;
use std::time::Duration;

/// Idle connections kept by [`PortingHubClient::new`]; the gateway has no port engine
/// (and so no concurrency to size it by) yet.
pub const DEFAULT_POOL: usize = 32;
/// The longest TCP connect we wait for, so an unreachable hub shows as a connect failure
/// (nothing sent) rather than a timeout.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest `Retry-After` we pass on; a larger value is treated as this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// How to reach one porting hub.
#[derive(Clone, Debug)]
pub struct PortingHubClientConfig {
    /// The hub's base URL, `https` only; the request paths are appended.
    pub base_url: String,
    /// The CA certificate(s) that issue the hub's certificate (PEM).
    pub roots_pem: Vec<u8>,
    /// Our client certificate and key: the hub knows us (our operator id) by it.
    pub identity: ClientIdentity,
    /// Bound on one whole call (connect, send, read the answer).
    pub timeout: Duration,
}

/// A client for one porting hub. Cheap to clone.
#[derive(Clone)]
pub struct PortingHubClient {
    http: HttpClient,
    base_url: String,
}

impl fmt::Debug for PortingHubClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PortingHubClient")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl PortingHubClient {
    /// Builds the client: checks the URL and the TLS material; sends nothing yet.
    pub fn new(cfg: PortingHubClientConfig) -> Result<Self, PortingConfigError> {
        Self::with_pool(cfg, DEFAULT_POOL)
    }

    /// Builds the client keeping up to `max_idle` idle connections: at least the hub calls
    /// the engine runs at once, or each call beyond the pool pays a mutual-TLS handshake.
    pub fn with_pool(
        cfg: PortingHubClientConfig,
        max_idle: usize,
    ) -> Result<Self, PortingConfigError> {
        let base_url =
            crate::http::https_base_url(&cfg.base_url).ok_or(PortingConfigError::InvalidBaseUrl)?;
        let http = HttpClient::builder()
            .add_root_pem(&cfg.roots_pem)
            .identity_pem(&cfg.identity.cert_pem, &cfg.identity.key_pem)
            .request_timeout(cfg.timeout)
            .connect_timeout(cfg.timeout.min(MAX_CONNECT_TIMEOUT))
            .pool_max_idle_per_host(max_idle.max(1))
            .body_limit(MAX_BODY_BYTES)
            .build()
            .map_err(PortingConfigError::Http)?;
        Ok(Self { http, base_url })
    }

    /// Submits a port-in.
    pub async fn submit_port_in(&self, req: &SubmitPortIn) -> Result<Receipt, PortingError> {
        let body = encode_submit_port_in(req);
        self.call(
            "submit_port_in",
            path::PORT_INS,
            &req.request_id,
            None,
            body,
        )
        .await
    }

    /// Cancels a port.
    pub async fn cancel(&self, req: &CancelPort) -> Result<Receipt, PortingError> {
        let body = encode_cancel(req);
        let port = Some(&req.port_ref);
        self.call("cancel", path::CANCELLATIONS, &req.request_id, port, body)
            .await
    }

    /// Reschedules a port.
    pub async fn reschedule(&self, req: &ReschedulePort) -> Result<Receipt, PortingError> {
        let body = encode_reschedule(req);
        let port = Some(&req.port_ref);
        self.call("reschedule", path::RESCHEDULES, &req.request_id, port, body)
            .await
    }

    /// Answers a port-out request.
    pub async fn answer_port_out(&self, req: &AnswerPortOut) -> Result<Receipt, PortingError> {
        let body = encode_answer_port_out(req);
        let port = Some(&req.port_ref);
        let op = "answer_port_out";
        self.call(op, path::PORT_OUT_ANSWERS, &req.request_id, port, body)
            .await
    }

    /// Acknowledges a hub message.
    pub async fn acknowledge(&self, req: &Acknowledge) -> Result<Receipt, PortingError> {
        let body = encode_acknowledge(req);
        let port = Some(&req.port_ref);
        let op = "acknowledge";
        self.call(op, path::ACKNOWLEDGEMENTS, &req.request_id, port, body)
            .await
    }

    /// Returns a ported-in number to its range holder.
    pub async fn return_number(&self, req: &ReturnNumber) -> Result<Receipt, PortingError> {
        let body = encode_return_number(req);
        let port = Some(&req.port_ref);
        let op = "return_number";
        self.call(op, path::NUMBER_RETURNS, &req.request_id, port, body)
            .await
    }

    /// Sends one request and checks the receipt: it must echo the request id and, for a
    /// request about an existing port, that port. Logs carry the operation, the request
    /// id, the port reference and the error class only (bodies hold porting codes).
    async fn call(
        &self,
        operation: &'static str,
        path: &str,
        request_id: &Ref,
        port_ref: Option<&Ref>,
        body: Vec<u8>,
    ) -> Result<Receipt, PortingError> {
        let headers = [
            ("Content-Type", "application/json".to_owned()),
            ("Accept", "application/json".to_owned()),
            ("Idempotency-Key", request_id.as_str().to_owned()),
        ];
        let url = format!("{}{path}", self.base_url);
        let outcome = match self.http.post(&url, &headers, Bytes::from(body)).await {
            Err(e) => Err(PortingError::from_transport(e)),
            Ok(r) if matches!(r.status, 200 | 202) => decode_receipt(&r.body)
                .map_err(PortingError::BadResponse)
                .and_then(|receipt| check(receipt, request_id, port_ref)),
            Ok(r) => {
                let code = decode_problem(&r.body).ok().map(|p| p.code);
                Err(PortingError::from_status(
                    r.status,
                    code,
                    retry_after(&r.headers),
                ))
            }
        };
        let request_id = request_id.as_str();
        match &outcome {
            Ok(receipt) => tracing::debug!(
                operation,
                request_id,
                port_ref = receipt.port_ref.as_str(),
                "porting hub accepted the request"
            ),
            Err(e) => tracing::info!(
                operation,
                request_id,
                port_ref = port_ref.map(Ref::as_str),
                class = e.class().as_str(),
                retryable = e.retryable(),
                error = %e,
                "porting hub request failed"
            ),
        }
        outcome
    }
}

/// A receipt for another request, or about another port, is not an answer to ours.
fn check(
    receipt: Receipt,
    request_id: &Ref,
    port_ref: Option<&Ref>,
) -> Result<Receipt, PortingError> {
    let bad = |field| {
        Err(PortingError::BadResponse(PortingCodecError::InvalidValue {
            field,
        }))
    };
    if receipt.request_id != *request_id {
        return bad("request_id");
    }
    if port_ref.is_some_and(|p| *p != receipt.port_ref) {
        return bad("port_ref");
    }
    Ok(receipt)
}

impl PortingHub for PortingHubClient {
    fn submit_port_in<'a>(
        &'a self,
        req: &'a SubmitPortIn,
    ) -> BoxFuture<'a, Result<Receipt, PortingError>> {
        Box::pin(PortingHubClient::submit_port_in(self, req))
    }

    fn cancel<'a>(&'a self, req: &'a CancelPort) -> BoxFuture<'a, Result<Receipt, PortingError>> {
        Box::pin(PortingHubClient::cancel(self, req))
    }

    fn reschedule<'a>(
        &'a self,
        req: &'a ReschedulePort,
    ) -> BoxFuture<'a, Result<Receipt, PortingError>> {
        Box::pin(PortingHubClient::reschedule(self, req))
    }

    fn answer_port_out<'a>(
        &'a self,
        req: &'a AnswerPortOut,
    ) -> BoxFuture<'a, Result<Receipt, PortingError>> {
        Box::pin(PortingHubClient::answer_port_out(self, req))
    }

    fn acknowledge<'a>(
        &'a self,
        req: &'a Acknowledge,
    ) -> BoxFuture<'a, Result<Receipt, PortingError>> {
        Box::pin(PortingHubClient::acknowledge(self, req))
    }

    fn return_number<'a>(
        &'a self,
        req: &'a ReturnNumber,
    ) -> BoxFuture<'a, Result<Receipt, PortingError>> {
        Box::pin(PortingHubClient::return_number(self, req))
    }
}

/// `Retry-After` as delta-seconds (an HTTP date is ignored), capped at an hour.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn retry_after_header() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("999999"));
        assert_eq!(retry_after(&h), Some(MAX_RETRY_AFTER));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn receipts_must_answer_this_request() {
        let r = |s: &str| Ref::parse(s, "t").expect("ref");
        let receipt = Receipt {
            request_id: r("q1"),
            port_ref: r("P1"),
        };
        assert_eq!(check(receipt.clone(), &r("q1"), None), Ok(receipt.clone()));
        assert_eq!(
            check(receipt.clone(), &r("q1"), Some(&r("P1"))),
            Ok(receipt.clone())
        );
        let wrong = |field| {
            Err(PortingError::BadResponse(PortingCodecError::InvalidValue {
                field,
            }))
        };
        assert_eq!(check(receipt.clone(), &r("q2"), None), wrong("request_id"));
        assert_eq!(check(receipt, &r("q1"), Some(&r("P2"))), wrong("port_ref"));
    }
}

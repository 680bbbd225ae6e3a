//! The ES2+ driver: the four order functions over mutual-TLS HTTPS/1.1 to one SM-DP+.
//! It owns the [`HttpClient`] and nothing else; bodies come from the sans-IO codec, and
//! every failure is classified by what the caller may safely do next ([`Es2CallError`]).

use super::call_error::{Es2CallError, Es2TransportError};
use super::cancel_order::{CancelOrderRequest, encode_cancel_order_with};
use super::confirm_order::{ConfirmOrderRequest, ConfirmOrderResponse, encode_confirm_order_with};
use super::download_order::{
    DownloadOrderRequest, DownloadOrderResponse, encode_download_order_with,
};
use super::error::{Es2Error, safe_code};
use super::header::{
    ADMIN_PROTOCOL_HEADER, ADMIN_PROTOCOL_VERSION, ExecutionStatus, RequestHeader,
    is_json_media_type, is_supported_admin_protocol,
};
use super::iccid_form::IccidForm;
use super::json::MAX_MESSAGE_BYTES;
use super::path;
use super::release_profile::{ReleaseProfileRequest, encode_release_profile_with};
use super::response::{HeaderOnly, Response, ResponseBody, decode_response};
pub use crate::hlr::BoxFuture;
use crate::http::HttpClient;
use bytes::Bytes;
use http::HeaderMap;
use std::fmt;
use std::time::Duration;
use zeroize::Zeroizing;

/// Idle connections kept by [`Es2Client::new`] (the engine's default `[esim] concurrency`).
pub const DEFAULT_POOL: usize = 32;

/// The longest TCP connect we wait for (reference §9: about 5 s), so an unreachable
/// SM-DP+ is reported as not sent rather than as an ambiguous timeout.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How to reach one SM-DP+ over ES2+.
#[derive(Clone)]
pub struct Es2ClientConfig {
    /// The SM-DP+'s base URL; `https` only. The fixed ES2+ paths are appended to it.
    pub base_url: String,
    /// Our `functionRequesterIdentifier`, as agreed with the SM-DP+ (matches our certificate).
    pub requester_id: String,
    /// Our TLS client certificate chain (PEM).
    pub client_cert_pem: Vec<u8>,
    /// Our TLS client private key (PEM); zeroised on drop and never printed.
    pub client_key_pem: Zeroizing<Vec<u8>>,
    /// The CA certificate(s) that issue the SM-DP+'s server certificate (PEM).
    pub roots_pem: Vec<u8>,
    /// Send 19-digit ICCIDs with a trailing `F` (for peers that know only 20 characters).
    pub pad_iccid: bool,
    /// Bound on one whole exchange (connect, send, read the answer).
    pub timeout: Duration,
}

impl fmt::Debug for Es2ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Es2ClientConfig")
            .field("base_url", &self.base_url)
            .field("requester_id", &self.requester_id)
            .field(
                "client_cert_pem",
                &format_args!("{} bytes", self.client_cert_pem.len()),
            )
            .field("client_key_pem", &format_args!("<redacted>"))
            .field("roots_pem", &format_args!("{} bytes", self.roots_pem.len()))
            .field("pad_iccid", &self.pad_iccid)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// One SM-DP+, as the gateway's order engine sees it; implemented by [`Es2Client`] and
/// by test doubles.
pub trait SmdpClient: Send + Sync + 'static {
    /// `ES2+.DownloadOrder`: reserves a profile.
    fn download_order<'a>(
        &'a self,
        req: &'a DownloadOrderRequest,
    ) -> BoxFuture<'a, Result<DownloadOrderResponse, Es2CallError>>;

    /// `ES2+.ConfirmOrder`: confirms the reservation and binds MatchingID, EID and CC.
    fn confirm_order<'a>(
        &'a self,
        req: &'a ConfirmOrderRequest,
    ) -> BoxFuture<'a, Result<ConfirmOrderResponse, Es2CallError>>;

    /// `ES2+.CancelOrder`: ends the reservation.
    fn cancel_order<'a>(
        &'a self,
        req: &'a CancelOrderRequest,
    ) -> BoxFuture<'a, Result<(), Es2CallError>>;

    /// `ES2+.ReleaseProfile`: makes a confirmed profile downloadable (idempotent).
    fn release_profile<'a>(
        &'a self,
        req: &'a ReleaseProfileRequest,
    ) -> BoxFuture<'a, Result<(), Es2CallError>>;
}

/// An ES2+ client for one SM-DP+: mutual TLS (1.2 minimum), HTTP/1.1 only, pooled.
/// Cheap to clone.
#[derive(Clone)]
pub struct Es2Client {
    http: HttpClient,
    base_url: String,
    requester_id: String,
    iccid_form: IccidForm,
}

impl fmt::Debug for Es2Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Es2Client")
            .field("base_url", &self.base_url)
            .field("requester_id", &self.requester_id)
            .field("iccid_form", &self.iccid_form)
            .finish_non_exhaustive()
    }
}

/// Checks the base URL (`http::https_base_url`) and returns it without a trailing `/`.
fn base_url(url: &str) -> Result<String, Es2TransportError> {
    crate::http::https_base_url(url).ok_or(Es2TransportError::InvalidBaseUrl)
}

impl Es2Client {
    /// Builds the client with [`DEFAULT_POOL`] idle connections. Fails on a non-`https`
    /// base URL, an empty requester id, or unusable TLS material; nothing is sent yet.
    pub fn new(cfg: Es2ClientConfig) -> Result<Self, Es2TransportError> {
        Self::with_pool(cfg, DEFAULT_POOL)
    }

    /// Builds the client keeping up to `max_idle` idle connections: at least the ES2+ calls
    /// the engine runs at once, or each call beyond the pool pays a mutual-TLS handshake.
    pub fn with_pool(cfg: Es2ClientConfig, max_idle: usize) -> Result<Self, Es2TransportError> {
        let base_url = base_url(&cfg.base_url)?;
        let id = cfg.requester_id.as_str();
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
            return Err(Es2TransportError::InvalidRequesterId);
        }
        let http = HttpClient::builder()
            .add_root_pem(&cfg.roots_pem)
            .identity_pem(&cfg.client_cert_pem, &cfg.client_key_pem)
            .request_timeout(cfg.timeout)
            .connect_timeout(cfg.timeout.min(MAX_CONNECT_TIMEOUT))
            .body_limit(MAX_MESSAGE_BYTES)
            .pool_max_idle_per_host(max_idle.max(1))
            .http1_only()
            .build()
            .map_err(Es2TransportError::Http)?;
        Ok(Self {
            http,
            base_url,
            requester_id: cfg.requester_id,
            iccid_form: if cfg.pad_iccid {
                IccidForm::FPadded
            } else {
                IccidForm::Canonical
            },
        })
    }

    /// A request header with our requester id and the caller's call identifier (make it
    /// deterministic per order, step and attempt, e.g. `<order>-<step>-<n>`).
    pub fn request_header(&self, call_id: impl Into<String>) -> RequestHeader {
        RequestHeader::new(self.requester_id.clone(), call_id)
    }

    /// `ES2+.DownloadOrder`. If an ICCID was named, the answer must name the same one.
    /// The request's requester id is replaced by ours, as in every call.
    pub async fn download_order(
        &self,
        req: &DownloadOrderRequest,
    ) -> Result<DownloadOrderResponse, Es2CallError> {
        let body = self.body(
            req,
            &req.header,
            |r| &mut r.header,
            encode_download_order_with,
        );
        let resp: Response<DownloadOrderResponse> = self
            .call("DownloadOrder", path::DOWNLOAD_ORDER, &req.header, body)
            .await?;
        if req.profile.iccid().is_some_and(|i| *i != resp.data.iccid) {
            return Err(Es2CallError::Protocol(Es2Error::InvalidValue {
                field: "iccid",
            }));
        }
        Ok(resp.data)
    }

    /// `ES2+.ConfirmOrder`. The answer always carries a MatchingID: the returned one, else
    /// the one we sent; neither is a protocol error.
    pub async fn confirm_order(
        &self,
        req: &ConfirmOrderRequest,
    ) -> Result<ConfirmOrderResponse, Es2CallError> {
        let body = self.body(
            req,
            &req.header,
            |r| &mut r.header,
            encode_confirm_order_with,
        );
        let resp: Response<ConfirmOrderResponse> = self
            .call("ConfirmOrder", path::CONFIRM_ORDER, &req.header, body)
            .await?;
        let mut data = resp.data;
        let matching_id = data
            .matching_id_or(req.matching_id.as_ref())
            .map_err(Es2CallError::Protocol)?;
        data.matching_id = Some(matching_id);
        Ok(data)
    }

    /// `ES2+.CancelOrder` (header-only answer).
    pub async fn cancel_order(&self, req: &CancelOrderRequest) -> Result<(), Es2CallError> {
        let body = self.body(
            req,
            &req.header,
            |r| &mut r.header,
            encode_cancel_order_with,
        );
        self.call::<HeaderOnly>("CancelOrder", path::CANCEL_ORDER, &req.header, body)
            .await
            .map(|_| ())
    }

    /// `ES2+.ReleaseProfile` (header-only answer; already released is success).
    pub async fn release_profile(&self, req: &ReleaseProfileRequest) -> Result<(), Es2CallError> {
        let body = self.body(
            req,
            &req.header,
            |r| &mut r.header,
            encode_release_profile_with,
        );
        self.call::<HeaderOnly>("ReleaseProfile", path::RELEASE_PROFILE, &req.header, body)
            .await
            .map(|_| ())
    }

    /// Encodes `req` in our ICCID form, with our requester id in its header.
    fn body<R: Clone>(
        &self,
        req: &R,
        header: &RequestHeader,
        header_mut: fn(&mut R) -> &mut RequestHeader,
        encode: fn(&R, IccidForm) -> Vec<u8>,
    ) -> Vec<u8> {
        if header.function_requester_identifier == self.requester_id {
            return encode(req, self.iccid_form);
        }
        let mut own = req.clone();
        header_mut(&mut own).function_requester_identifier = self.requester_id.clone();
        encode(&own, self.iccid_form)
    }

    /// POSTs one function call and applies the client success test.
    async fn call<T: ResponseBody>(
        &self,
        function: &'static str,
        path: &'static str,
        header: &RequestHeader,
        body: Vec<u8>,
    ) -> Result<Response<T>, Es2CallError> {
        let call_id = header.function_call_identifier.as_str();
        let url = format!("{}{path}", self.base_url);
        let headers = [
            ("Content-Type", "application/json".to_owned()),
            (ADMIN_PROTOCOL_HEADER, ADMIN_PROTOCOL_VERSION.to_owned()),
        ];
        let outcome = match self.http.post(&url, &headers, Bytes::from(body)).await {
            Err(e) => Err(Es2CallError::from_transport(e)),
            Ok(resp) if resp.status != 200 => Err(Es2CallError::from_status(resp.status)),
            Ok(resp) => {
                check_headers(function, &resp.headers);
                decode_response::<T>(200, &resp.body).map_err(Es2CallError::from_decode)
            }
        };
        match &outcome {
            Ok(r) => {
                if r.status.status == ExecutionStatus::ExecutedWithWarning {
                    let (subject, reason) =
                        r.status.status_code_data.as_ref().map_or(("", ""), |d| {
                            (d.subject_code.as_str(), d.reason_code.as_str())
                        });
                    tracing::warn!(
                        function,
                        call_id,
                        subject = safe_code(subject),
                        reason = safe_code(reason),
                        "ES2+ executed with warning"
                    );
                } else {
                    tracing::debug!(function, call_id, "ES2+ executed");
                }
            }
            Err(e) => tracing::info!(function, call_id, error = %e, "ES2+ call failed"),
        }
        outcome
    }
}

/// Logs, without rejecting, a response whose `X-Admin-Protocol` is not v2/v3 or whose
/// `Content-Type` is not JSON (reference §1.2: real peers vary; the body decides).
fn check_headers(function: &'static str, headers: &HeaderMap) {
    match headers.get(ADMIN_PROTOCOL_HEADER).map(|v| v.to_str()) {
        Some(Ok(v)) if is_supported_admin_protocol(v) => {}
        Some(Ok(v)) => {
            let shown: String = v.chars().take(40).collect();
            tracing::warn!(function, x_admin_protocol = %shown, "unexpected X-Admin-Protocol; parsing anyway");
        }
        Some(Err(_)) => {
            tracing::warn!(function, "X-Admin-Protocol is not ASCII; parsing anyway");
        }
        None => tracing::warn!(
            function,
            "response without X-Admin-Protocol; parsing anyway"
        ),
    }
    let json = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_json_media_type);
    if !json {
        tracing::warn!(
            function,
            "response Content-Type is not JSON; parsing anyway"
        );
    }
}

impl SmdpClient for Es2Client {
    fn download_order<'a>(
        &'a self,
        req: &'a DownloadOrderRequest,
    ) -> BoxFuture<'a, Result<DownloadOrderResponse, Es2CallError>> {
        Box::pin(Es2Client::download_order(self, req))
    }

    fn confirm_order<'a>(
        &'a self,
        req: &'a ConfirmOrderRequest,
    ) -> BoxFuture<'a, Result<ConfirmOrderResponse, Es2CallError>> {
        Box::pin(Es2Client::confirm_order(self, req))
    }

    fn cancel_order<'a>(
        &'a self,
        req: &'a CancelOrderRequest,
    ) -> BoxFuture<'a, Result<(), Es2CallError>> {
        Box::pin(Es2Client::cancel_order(self, req))
    }

    fn release_profile<'a>(
        &'a self,
        req: &'a ReleaseProfileRequest,
    ) -> BoxFuture<'a, Result<(), Es2CallError>> {
        Box::pin(Es2Client::release_profile(self, req))
    }
}

//! The verification driver: one `POST /v1/verifications` over HTTPS per call. It owns the
//! [`HttpClient`] and nothing else; bodies come from the sans-IO codec, and failures are
//! sorted by [`IdentityError::retryable`].

use super::error::{IdentityCodecError, IdentityConfigError, IdentityError};
use super::request::VerificationRequest;
use super::request_codec::encode_request;
use super::response_codec::decode_response;
use super::verdict::VerificationResponse;
use super::{BoxFuture, IdentityVerifier, MAX_BODY_BYTES, VERIFICATIONS_PATH};
use crate::http::HttpClient;
use bytes::Bytes;
use http::HeaderMap;
use http::header::{HeaderName, HeaderValue, RETRY_AFTER};
use std::fmt;
use std::time::Duration;
use zeroize::Zeroizing;

/// Idle connections kept by [`IdentityClient::new`] (above the engine's default
/// `[identity] concurrency`, 32).
pub const DEFAULT_POOL: usize = 64;
/// The longest TCP connect we wait for, so an unreachable verifier shows as a connect
/// failure rather than a timeout.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest `Retry-After` we pass on; a larger value is treated as this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// How the client authenticates at the HTTP layer (mutual TLS is separate and optional).
#[derive(Clone, Default)]
pub enum ClientAuth {
    /// No credential header.
    #[default]
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(Zeroizing<String>),
    /// An API key in a header of the verifier's choosing (e.g. `X-Api-Key`).
    ApiKey {
        /// The header name.
        header: String,
        /// The key.
        key: Zeroizing<String>,
    },
}

impl fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::Bearer(_) => f.write_str("Bearer(***)"),
            Self::ApiKey { header, .. } => write!(f, "ApiKey({header}: ***)"),
        }
    }
}

/// A client certificate chain and key (PEM) for mutual TLS.
#[derive(Clone)]
pub struct ClientIdentity {
    /// The certificate chain.
    pub cert_pem: Vec<u8>,
    /// The private key; zeroised on drop and never printed.
    pub key_pem: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("cert_pem", &format_args!("{} bytes", self.cert_pem.len()))
            .field("key_pem", &format_args!("<redacted>"))
            .finish()
    }
}

/// How to reach one verification service.
#[derive(Clone, Debug)]
pub struct IdentityClientConfig {
    /// The service's base URL, `https` only; `/v1/verifications` is appended.
    pub base_url: String,
    /// The credential header, if any.
    pub auth: ClientAuth,
    /// The CA certificate(s) that issue the service's certificate (PEM).
    pub roots_pem: Vec<u8>,
    /// Our certificate for mutual TLS, if the service asks for one.
    pub identity: Option<ClientIdentity>,
    /// Bound on one whole call (connect, send, read the answer).
    pub timeout: Duration,
}

/// A client for one verification service. Cheap to clone.
#[derive(Clone)]
pub struct IdentityClient {
    http: HttpClient,
    url: String,
    credential: Option<(String, Zeroizing<String>)>,
}

impl fmt::Debug for IdentityClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityClient")
            .field("url", &self.url)
            .field(
                "credential",
                &self.credential.as_ref().map(|(h, _)| format!("{h}: ***")),
            )
            .finish_non_exhaustive()
    }
}

impl IdentityClient {
    /// Builds the client: checks the URL, the credential and the TLS material; sends
    /// nothing yet.
    pub fn new(cfg: IdentityClientConfig) -> Result<Self, IdentityConfigError> {
        Self::with_pool(cfg, DEFAULT_POOL)
    }

    /// Builds the client keeping up to `max_idle` idle connections: at least the
    /// verifications the engine runs at once.
    pub fn with_pool(
        cfg: IdentityClientConfig,
        max_idle: usize,
    ) -> Result<Self, IdentityConfigError> {
        let url = format!("{}{VERIFICATIONS_PATH}", base_url(&cfg.base_url)?);
        let credential = match cfg.auth {
            ClientAuth::None => None,
            ClientAuth::Bearer(token) => Some((
                "Authorization".to_owned(),
                Zeroizing::new(format!("Bearer {}", token.as_str())),
            )),
            ClientAuth::ApiKey { header, key } => Some((header, key)),
        };
        if let Some((name, value)) = &credential {
            let valid = HeaderName::from_bytes(name.as_bytes()).is_ok()
                && HeaderValue::from_str(value).is_ok()
                && !value.is_empty();
            if !valid {
                return Err(IdentityConfigError::InvalidCredential);
            }
        }
        let mut builder = HttpClient::builder()
            .add_root_pem(&cfg.roots_pem)
            .request_timeout(cfg.timeout)
            .connect_timeout(cfg.timeout.min(MAX_CONNECT_TIMEOUT))
            // Keep a connection for every call the engine may have in flight: a call
            // beyond the idle pool pays a full TLS handshake.
            .pool_max_idle_per_host(max_idle.max(1))
            .body_limit(MAX_BODY_BYTES);
        if let Some(id) = &cfg.identity {
            builder = builder.identity_pem(&id.cert_pem, &id.key_pem);
        }
        let http = builder.build().map_err(IdentityConfigError::Http)?;
        Ok(Self {
            http,
            url,
            credential,
        })
    }

    /// Verifies one identity. The answer must echo the request id. Logs carry the request
    /// id, the outcome and the error class only.
    pub async fn verify(
        &self,
        req: &VerificationRequest,
    ) -> Result<VerificationResponse, IdentityError> {
        let request_id = req.request_id.as_str();
        let mut headers = vec![
            ("Content-Type", "application/json".to_owned()),
            ("Accept", "application/json".to_owned()),
            ("Idempotency-Key", request_id.to_owned()),
        ];
        if let Some((name, value)) = &self.credential {
            headers.push((name.as_str(), value.as_str().to_owned()));
        }
        let body = Bytes::from(encode_request(req));
        let outcome = match self.http.post(&self.url, &headers, body).await {
            Err(e) => Err(IdentityError::from_transport(e)),
            Ok(r) if r.status != 200 => Err(IdentityError::from_status(
                r.status,
                retry_after(&r.headers),
            )),
            Ok(r) => decode_response(&r.body)
                .map_err(IdentityError::BadResponse)
                .and_then(|resp| {
                    if resp.request_id == req.request_id {
                        Ok(resp)
                    } else {
                        Err(IdentityError::BadResponse(
                            IdentityCodecError::InvalidValue {
                                field: "request_id",
                            },
                        ))
                    }
                }),
        };
        match &outcome {
            Ok(r) => tracing::debug!(
                request_id,
                outcome = r.verdict.outcome(),
                "identity verified"
            ),
            Err(e) => tracing::info!(
                request_id,
                class = e.class().as_str(),
                retryable = e.retryable(),
                error = %e,
                "identity verification failed"
            ),
        }
        outcome
    }
}

impl IdentityVerifier for IdentityClient {
    fn verify<'a>(
        &'a self,
        req: &'a VerificationRequest,
    ) -> BoxFuture<'a, Result<VerificationResponse, IdentityError>> {
        Box::pin(IdentityClient::verify(self, req))
    }
}

/// Checks the base URL (`http::https_base_url`) and returns it without a trailing `/`.
fn base_url(url: &str) -> Result<String, IdentityConfigError> {
    crate::http::https_base_url(url).ok_or(IdentityConfigError::InvalidBaseUrl)
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

    #[test]
    fn base_urls() {
        assert_eq!(
            base_url("https://idv.example:8443/api/").as_deref(),
            Ok("https://idv.example:8443/api")
        );
        for bad in [
            "http://idv.example",
            "https://user@idv.example",
            "https://idv.example/?q=1",
            "https://idv.example/#x",
            "/v1",
            "",
        ] {
            assert_eq!(
                base_url(bad),
                Err(IdentityConfigError::InvalidBaseUrl),
                "{bad}"
            );
        }
    }

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
    fn credentials_are_checked_and_never_printed() {
        let ca = rcgen::generate_simple_self_signed(vec!["idv.example".into()]).expect("ca");
        let cfg = |auth| IdentityClientConfig {
            base_url: "https://idv.example".into(),
            auth,
            roots_pem: ca.cert.pem().into_bytes(),
            identity: None,
            timeout: Duration::from_secs(1),
        };
        let bad_name = ClientAuth::ApiKey {
            header: "X Api Key".into(),
            key: Zeroizing::new("k".into()),
        };
        assert_eq!(
            IdentityClient::new(cfg(bad_name)).err(),
            Some(IdentityConfigError::InvalidCredential)
        );
        let bad_value = ClientAuth::Bearer(Zeroizing::new("line\nbreak".into()));
        assert_eq!(
            IdentityClient::new(cfg(bad_value)).err(),
            Some(IdentityConfigError::InvalidCredential)
        );
        let secret = "s3cr3t-token-value";
        let config = cfg(ClientAuth::Bearer(Zeroizing::new(secret.into())));
        assert!(!format!("{config:?}").contains(secret));
        let client = IdentityClient::new(config).expect("client");
        let shown = format!("{client:?}");
        assert!(!shown.contains(secret), "{shown}");
        assert!(shown.contains("Authorization: ***"), "{shown}");
    }
}

//! The one HTTP(S) client of the adapters (also used by the gateway's tests and the
//! conformance suite): a pooled hyper client over rustls, with a whole-exchange timeout
//! and a response-size cap.

mod error;
mod tls;

pub use error::HttpError;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Uri};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::time::Duration;
use zeroize::Zeroizing;

/// Default cap on a response body.
pub const DEFAULT_BODY_LIMIT: usize = 4 << 20;
/// Default whole-exchange timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A complete response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The response headers.
    pub headers: HeaderMap,
    /// The whole body (at most the configured limit).
    pub body: Bytes,
}

/// A pooled HTTP/1.1 + HTTP/2 client (HTTP/1.1 only if so built) for `http` and `https`
/// URLs. Cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    inner: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
    body_limit: usize,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("timeout", &self.timeout)
            .field("body_limit", &self.body_limit)
            .finish_non_exhaustive()
    }
}

/// Options for [`HttpClient`].
pub struct HttpClientBuilder {
    roots_pem: Vec<Vec<u8>>,
    identity: Option<(Vec<u8>, Zeroizing<Vec<u8>>)>,
    timeout: Duration,
    connect_timeout: Option<Duration>,
    pool_idle_timeout: Duration,
    max_idle_per_host: usize,
    body_limit: usize,
    http1_only: bool,
}

impl Default for HttpClientBuilder {
    fn default() -> Self {
        Self {
            roots_pem: Vec::new(),
            identity: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: None,
            pool_idle_timeout: Duration::from_secs(60),
            // A southbound client is sized to its caller's concurrency; this default only
            // keeps an unsized one from reconnecting (a TLS handshake) under load.
            max_idle_per_host: 64,
            body_limit: DEFAULT_BODY_LIMIT,
            http1_only: false,
        }
    }
}

impl HttpClientBuilder {
    /// Trusts the CA certificate(s) in this PEM. Without any, no HTTPS peer is trusted.
    pub fn add_root_pem(mut self, pem: &[u8]) -> Self {
        self.roots_pem.push(pem.to_vec());
        self
    }

    /// Presents this certificate chain and private key (PEM) for mutual TLS.
    pub fn identity_pem(mut self, cert_chain_pem: &[u8], key_pem: &[u8]) -> Self {
        self.identity = Some((cert_chain_pem.to_vec(), Zeroizing::new(key_pem.to_vec())));
        self
    }

    /// Bounds each exchange: connect, send, and reading the whole body.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Bounds the TCP connect on its own, so an unreachable peer gives
    /// [`HttpError::Connect`] (nothing sent) rather than [`HttpError::Timeout`]. Defaults
    /// to the request timeout; only a shorter value changes anything.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Speaks HTTP/1.1 only: TLS offers no ALPN, so a server can never select h2
    /// (required by peers such as ES2+ SM-DP+s).
    pub fn http1_only(mut self) -> Self {
        self.http1_only = true;
        self
    }

    /// Closes pooled connections idle for longer than this.
    pub fn pool_idle_timeout(mut self, idle: Duration) -> Self {
        self.pool_idle_timeout = idle;
        self
    }

    /// Keeps at most this many idle connections per host.
    pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.max_idle_per_host = max;
        self
    }

    /// Refuses response bodies larger than this.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Builds the client. Fails on unusable PEM or a key that does not match.
    pub fn build(self) -> Result<HttpClient, HttpError> {
        let identity = self
            .identity
            .as_ref()
            .map(|(c, k)| (c.as_slice(), k.as_slice()));
        let tls = tls::client_config(&self.roots_pem, identity)?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(self.connect_timeout.unwrap_or(self.timeout)));
        let protocols = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1();
        // HTTP/1.1 only leaves ALPN empty; with h2 enabled ALPN offers `h2, http/1.1`.
        let connector = if self.http1_only {
            protocols.wrap_connector(http)
        } else {
            protocols.enable_http2().wrap_connector(http)
        };
        let inner = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(self.pool_idle_timeout)
            .pool_max_idle_per_host(self.max_idle_per_host)
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .build(connector);
        Ok(HttpClient {
            inner,
            timeout: self.timeout,
            body_limit: self.body_limit,
        })
    }
}

impl HttpClient {
    /// Starts a builder with the defaults (no trusted roots, 30 s timeout, 4 MiB bodies).
    pub fn builder() -> HttpClientBuilder {
        HttpClientBuilder::default()
    }

    /// Sends one request and reads the whole response within the timeout.
    pub async fn request(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, String)],
        body: Bytes,
    ) -> Result<HttpResponse, HttpError> {
        let request = build_request(method, url, headers, body)?;
        tokio::time::timeout(self.timeout, self.exchange(request))
            .await
            .unwrap_or(Err(HttpError::Timeout))
    }

    /// `POST`s `body`.
    pub async fn post(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: Bytes,
    ) -> Result<HttpResponse, HttpError> {
        self.request(Method::POST, url, headers, body).await
    }

    /// `GET`s `url`.
    pub async fn get(
        &self,
        url: &str,
        headers: &[(&str, String)],
    ) -> Result<HttpResponse, HttpError> {
        self.request(Method::GET, url, headers, Bytes::new()).await
    }

    async fn exchange(&self, request: Request<Full<Bytes>>) -> Result<HttpResponse, HttpError> {
        let response = self
            .inner
            .request(request)
            .await
            .map_err(|e| error::from_client(&e))?;
        let (parts, body) = response.into_parts();
        let declared = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > self.body_limit as u64) {
            return Err(HttpError::BodyTooLarge {
                limit: self.body_limit,
            });
        }
        let body = Limited::new(body, self.body_limit)
            .collect()
            .await
            .map_err(|e| {
                if e.downcast_ref::<LengthLimitError>().is_some() {
                    HttpError::BodyTooLarge {
                        limit: self.body_limit,
                    }
                } else {
                    HttpError::Io(error::chain(e.as_ref()))
                }
            })?;
        Ok(HttpResponse {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: body.to_bytes(),
        })
    }
}

/// Parses the URL (absolute `http`/`https` only) and assembles the request.
fn build_request(
    method: Method,
    url: &str,
    headers: &[(&str, String)],
    body: Bytes,
) -> Result<Request<Full<Bytes>>, HttpError> {
    let uri: Uri = url.parse().map_err(|_| HttpError::InvalidUrl)?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.authority().is_none() {
        return Err(HttpError::InvalidUrl);
    }
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .body(Full::new(body))
        .map_err(|_| HttpError::InvalidUrl)?;
    let map = request.headers_mut();
    for (name, value) in headers {
        let invalid = || HttpError::InvalidHeader {
            name: (*name).to_owned(),
        };
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
        let value = HeaderValue::from_str(value).map_err(|_| invalid())?;
        map.append(name, value);
    }
    Ok(request)
}

/// Checks that `url` is an absolute `http`/`https` URL (for validating configuration early).
pub fn validate_url(url: &str) -> Result<(), HttpError> {
    build_request(Method::GET, url, &[], Bytes::new()).map(|_| ())
}

/// A peer's base URL, checked (absolute `https`, a host, no user info, query or fragment)
/// and without a trailing `/`, so a client appends its paths; `None` if unfit.
pub fn https_base_url(url: &str) -> Option<String> {
    let uri: Uri = url.parse().ok()?;
    let ok = uri.scheme_str() == Some("https")
        && uri
            .authority()
            .is_some_and(|a| !a.host().is_empty() && !a.as_str().contains('@'))
        && uri.query().is_none()
        && !url.contains('#');
    ok.then(|| url.trim_end_matches('/').to_owned())
}

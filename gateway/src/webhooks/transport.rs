//! Posting one signed delivery. `Transport` is what the dispatcher needs (tests script
//! it); `HttpTransport` is the real one: it checks the URL, resolves the host itself,
//! checks every address, connects to a checked address (so DNS rebinding cannot bypass
//! the check), speaks HTTP/1.1 over rustls, follows no redirect and reads at most a small
//! part of the answer, all within one time limit.

use super::url_policy::{Target, UrlError, UrlPolicy, check_ip, check_url};
use adapters::hlr::BoxFuture;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;

/// The receiver's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The start of the body (at most the transport's cap).
    pub body_head: Vec<u8>,
}

/// Why no answer came.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The URL or an address it resolves to is not allowed.
    #[error("refused: {0}")]
    Refused(UrlError),
    /// The host name did not resolve.
    #[error("cannot resolve {0}")]
    Resolve(String),
    /// No connection could be made.
    #[error("cannot connect: {0}")]
    Connect(String),
    /// The TLS handshake failed (certificate, protocol).
    #[error("TLS: {0}")]
    Tls(String),
    /// The HTTP exchange failed.
    #[error("HTTP: {0}")]
    Http(String),
    /// No answer within the time limit.
    #[error("no answer within {0} s")]
    Timeout(u64),
}

/// Posts a delivery and returns the answer.
pub trait Transport: Send + Sync {
    /// `POST url` with `headers` and `body`.
    fn post<'a>(
        &'a self,
        url: &'a str,
        headers: Vec<(&'static str, String)>,
        body: Bytes,
    ) -> BoxFuture<'a, Result<Answer, SendError>>;
}

/// Where trusted roots come from when `[webhooks] ca_file` is not set: the system bundle
/// (Debian/Ubuntu/Alpine, then Fedora/RHEL). No roots crate is in the dependency tree.
pub const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
];

/// The real transport.
pub struct HttpTransport {
    policy: UrlPolicy,
    tls: Option<Arc<rustls::ClientConfig>>,
    timeout: Duration,
    body_cap: usize,
    /// Most idle connections kept per host: the dispatcher's concurrency, so that a
    /// receiver taking every delivery in flight is never reconnected to.
    idle_per_host: usize,
    pool: Mutex<HashMap<PoolKey, Vec<Idle>>>,
}

/// Connections are reused per scheme, host and port, and only to an address the host
/// resolves to (and is checked) at the time of the delivery.
type PoolKey = (bool, String, u16);

/// A kept-alive connection.
struct Idle {
    peer: SocketAddr,
    sender: Sender,
    since: tokio::time::Instant,
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// How long an idle connection is kept.
const POOL_IDLE: Duration = Duration::from_secs(30);

impl HttpTransport {
    /// A transport that trusts the PEM certificates of `ca_file` (else the system bundle;
    /// with neither, `https` deliveries fail with a TLS error saying so) and keeps up to
    /// `concurrency` idle connections per host (the most deliveries in flight).
    pub fn new(
        policy: UrlPolicy,
        ca_file: Option<&Path>,
        timeout: Duration,
        concurrency: usize,
    ) -> Result<Self, String> {
        let pem = match ca_file {
            Some(p) => Some(std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?),
            None => SYSTEM_BUNDLES.iter().find_map(|p| std::fs::read(p).ok()),
        };
        let tls = match pem {
            Some(pem) => Some(Arc::new(client_config(&pem)?)),
            None => None,
        };
        Ok(Self {
            policy,
            tls,
            timeout,
            body_cap: 1024,
            idle_per_host: concurrency.max(1),
            pool: Mutex::default(),
        })
    }

    /// An idle connection to one of `addrs`, if one is still open.
    fn checkout(&self, key: &PoolKey, addrs: &[SocketAddr]) -> Option<Idle> {
        let mut pool = self.pool.lock().ok()?;
        let list = pool.get_mut(key)?;
        while let Some(c) = list.pop() {
            if addrs.contains(&c.peer) && !c.sender.is_closed() && c.since.elapsed() < POOL_IDLE {
                return Some(c);
            }
        }
        None
    }

    fn checkin(&self, key: PoolKey, c: Idle) {
        if let Ok(mut pool) = self.pool.lock() {
            let list = pool.entry(key).or_default();
            if list.len() < self.idle_per_host {
                list.push(c);
            }
        }
    }

    async fn exchange(
        &self,
        url: &str,
        headers: Vec<(&'static str, String)>,
        body: Bytes,
    ) -> Result<Answer, SendError> {
        let target = check_url(url, self.policy).map_err(SendError::Refused)?;
        let addrs = self.resolve(&target).await?;
        let key = (target.tls, target.host.clone(), target.port);
        if let Some(mut idle) = self.checkout(&key, &addrs) {
            let req = request(&target, headers.clone(), body.clone())?;
            // A kept-alive connection the receiver closed meanwhile fails before any
            // answer: then a fresh connection is used. `ready` waits for the connection
            // to have finished with the previous exchange.
            let sent = match idle.sender.ready().await {
                Ok(()) => idle.sender.send_request(req).await.ok(),
                Err(_) => None,
            };
            if let Some(resp) = sent {
                let (answer, reusable) = self.read(resp).await;
                if reusable {
                    idle.since = tokio::time::Instant::now();
                    self.checkin(key, idle);
                }
                return Ok(answer);
            }
        }
        let mut last = String::from("no address");
        let mut tcp = None;
        for a in &addrs {
            match TcpStream::connect(*a).await {
                Ok(s) => {
                    tcp = Some((*a, s));
                    break;
                }
                Err(e) => last = format!("{a}: {e}"),
            }
        }
        let (peer, tcp) = tcp.ok_or(SendError::Connect(last))?;
        let _ = tcp.set_nodelay(true);
        let mut sender = if target.tls {
            let config = self.tls.clone().ok_or_else(|| {
                SendError::Tls(
                    "no trusted root certificates: set `[webhooks] ca_file` to a PEM bundle".into(),
                )
            })?;
            let name = match target.ip {
                Some(ip) => ServerName::IpAddress(ip.into()),
                None => ServerName::try_from(target.host.clone())
                    .map_err(|e| SendError::Tls(e.to_string()))?,
            };
            let stream = tokio_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await
                .map_err(|e| SendError::Tls(e.to_string()))?;
            handshake(TokioIo::new(stream)).await?
        } else {
            handshake(TokioIo::new(tcp)).await?
        };
        let req = request(&target, headers, body)?;
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| SendError::Http(e.to_string()))?;
        let (answer, reusable) = self.read(resp).await;
        if reusable {
            let since = tokio::time::Instant::now();
            self.checkin(
                key,
                Idle {
                    peer,
                    sender,
                    since,
                },
            );
        }
        Ok(answer)
    }

    /// The addresses to try, every one of them allowed (a name with any forbidden address
    /// is refused whole: it is either misconfigured or an attempt to reach inside).
    async fn resolve(&self, t: &Target) -> Result<Vec<SocketAddr>, SendError> {
        let ips: Vec<IpAddr> = match t.ip {
            Some(ip) => vec![ip],
            None => tokio::net::lookup_host((t.host.as_str(), t.port))
                .await
                .map_err(|_| SendError::Resolve(t.host.clone()))?
                .map(|a| a.ip())
                .collect(),
        };
        if ips.is_empty() {
            return Err(SendError::Resolve(t.host.clone()));
        }
        for ip in &ips {
            check_ip(*ip, self.policy).map_err(SendError::Refused)?;
        }
        Ok(ips
            .into_iter()
            .map(|ip| SocketAddr::new(ip, t.port))
            .collect())
    }

    /// The status and the start of the body; `true` if the connection may carry another
    /// delivery (the whole body was read and the receiver did not ask to close).
    async fn read(&self, resp: hyper::Response<hyper::body::Incoming>) -> (Answer, bool) {
        let status = resp.status().as_u16();
        let close = resp
            .headers()
            .get(http::header::CONNECTION)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
        let mut body = resp.into_body();
        let mut head = Vec::new();
        let mut complete = false;
        while head.len() < self.body_cap {
            match body.frame().await {
                Some(Ok(f)) => {
                    if let Some(d) = f.data_ref() {
                        let take = d.len().min(self.body_cap - head.len());
                        head.extend_from_slice(&d[..take]);
                    }
                }
                // The status is what counts; a body cut short does not change it.
                Some(Err(_)) => break,
                None => {
                    complete = true;
                    break;
                }
            }
        }
        // A longer body is not wanted: the connection is dropped with it.
        let answer = Answer {
            status,
            body_head: head,
        };
        (answer, complete && !close)
    }
}

/// An HTTP/1.1 client connection; its driver runs until the sender is dropped.
async fn handshake<I>(io: I) -> Result<Sender, SendError>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| SendError::Http(e.to_string()))?;
    tokio::spawn(conn);
    Ok(sender)
}

impl Transport for HttpTransport {
    fn post<'a>(
        &'a self,
        url: &'a str,
        headers: Vec<(&'static str, String)>,
        body: Bytes,
    ) -> BoxFuture<'a, Result<Answer, SendError>> {
        Box::pin(async move {
            tokio::time::timeout(self.timeout, self.exchange(url, headers, body))
                .await
                .unwrap_or(Err(SendError::Timeout(self.timeout.as_secs())))
        })
    }
}

fn request(
    t: &Target,
    headers: Vec<(&'static str, String)>,
    body: Bytes,
) -> Result<http::Request<Full<Bytes>>, SendError> {
    let default_port = if t.tls { 443 } else { 80 };
    let host = if t.port == default_port {
        t.host.clone()
    } else {
        format!("{}:{}", t.host, t.port)
    };
    let mut b = http::Request::post(t.path.as_str())
        .header(http::header::HOST, host)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(
            http::header::USER_AGENT,
            concat!("simgw-webhooks/", env!("CARGO_PKG_VERSION")),
        )
        .header(http::header::CONTENT_LENGTH, body.len());
    for (k, v) in headers {
        b = b.header(k, v);
    }
    b.body(Full::new(body))
        .map_err(|e| SendError::Http(e.to_string()))
}

fn client_config(pem: &[u8]) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| format!("CA bundle: {e}"))?;
        // A bundle may hold certificates rustls cannot use; the others still count.
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        return Err("the CA bundle holds no usable certificate".into());
    }
    let mut c = rustls::ClientConfig::builder_with_provider(crate::tls::provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    c.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A receiver on loopback answering 204 to everything; counts the connections it
    /// accepted.
    async fn counting_receiver() -> (SocketAddr, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(|_req| async {
                        let mut r = hyper::Response::new(Full::new(Bytes::new()));
                        *r.status_mut() = http::StatusCode::NO_CONTENT;
                        Ok::<_, std::convert::Infallible>(r)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tcp), svc)
                        .await;
                });
            }
        });
        (addr, accepted)
    }

    /// With more deliveries in flight than the old fixed pool of 32, every connection of
    /// one round is kept for the next: three rounds of 48 at once open 48 connections,
    /// not 48 and then 16 more per round.
    #[tokio::test]
    async fn as_many_connections_are_kept_as_deliveries_run_at_once() {
        const AT_ONCE: usize = 48;
        let (addr, accepted) = counting_receiver().await;
        let policy = UrlPolicy {
            allow_private: false,
            sandbox: true,
        };
        let t = Arc::new(
            HttpTransport::new(policy, None, Duration::from_secs(10), AT_ONCE).expect("transport"),
        );
        let url = format!("http://{addr}/hook");
        for round in 1..=3 {
            // Each round's posts all take their connection before any of them ends (one
            // test thread: every task runs up to its first wait in turn).
            let mut posts = tokio::task::JoinSet::new();
            for _ in 0..AT_ONCE {
                let (t, url) = (t.clone(), url.clone());
                posts.spawn(async move {
                    t.post(&url, Vec::new(), Bytes::from_static(b"{}"))
                        .await
                        .map(|a| a.status)
                });
            }
            while let Some(status) = posts.join_next().await {
                assert_eq!(status.expect("task").expect("answer"), 204, "round {round}");
            }
        }
        assert_eq!(accepted.load(Ordering::SeqCst), AT_ONCE);
    }
}

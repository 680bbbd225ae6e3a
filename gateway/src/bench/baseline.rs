//! The bare endpoint `simgw bench` measures first: hyper over rustls in this process, with
//! the gateway's own TLS setup (TLS 1.3 preferred, ALPN h2 and http/1.1, keep-alive), that
//! answers every request `202` with a fixed JSON body the size of a real activation
//! answer. Driven by the same client at the same concurrency, its requests per second are
//! what this machine's HTTP and TLS stack can do, so activations/s over it is a figure
//! that holds across machines.

use super::load::{Post, post_all};
use super::report::{BaselineFigures, Latency, rate};
use super::{BenchError, err};
use adapters::http::HttpClient;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

/// A running baseline endpoint; stops when dropped.
pub(super) struct BaselineServer {
    /// `https://127.0.0.1:PORT/v1/activations`.
    pub(super) url: String,
    _stop: watch::Sender<bool>,
}

/// A JSON object of exactly `size` bytes (at least the bare object's), shaped like an
/// order: an id, a status, and padding.
pub(super) fn answer_body(size: usize) -> Vec<u8> {
    let bare = r#"{"id":"ord_baseline","status":"reserved","pad":""}"#;
    let pad = size.saturating_sub(bare.len());
    format!(
        r#"{{"id":"ord_baseline","status":"reserved","pad":"{}"}}"#,
        "x".repeat(pad)
    )
    .into_bytes()
}

/// Starts the endpoint on an ephemeral loopback port with the certificate `tls` serves.
pub(super) async fn start(
    tls: Arc<rustls::ServerConfig>,
    body: Bytes,
) -> Result<BaselineServer, BenchError> {
    let listener = TcpListener::bind("127.0.0.1:0").await.map_err(err)?;
    let addr = listener.local_addr().map_err(err)?;
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(accept_loop(listener, TlsAcceptor::from(tls), body, stopped));
    Ok(BaselineServer {
        url: format!("https://{addr}/v1/activations"),
        _stop: stop,
    })
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    body: Bytes,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let (tcp, _) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(_) => continue,
            },
            // The sender dropped or said stop: either way the run is over.
            _ = stop.changed() => return,
        };
        let _ = tcp.set_nodelay(true);
        let (acceptor, body, mut stop) = (acceptor.clone(), body.clone(), stop.clone());
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let body = body.clone();
                async move {
                    // Read the request body whole, as the gateway does before answering.
                    let _ = req.into_body().collect().await;
                    let mut resp = Response::new(Full::new(body));
                    *resp.status_mut() = hyper::StatusCode::ACCEPTED;
                    resp.headers_mut().insert(
                        hyper::header::CONTENT_TYPE,
                        hyper::header::HeaderValue::from_static("application/json"),
                    );
                    Ok::<_, Infallible>(resp)
                }
            });
            let builder = Builder::new(TokioExecutor::new());
            let conn = builder.serve_connection(TokioIo::new(tls), service);
            tokio::select! {
                _ = conn => {}
                _ = stop.changed() => {}
            }
        });
    }
}

/// Sends `requests` POSTs (the bodies of `posts`, in turn) to the endpoint from
/// `concurrency` clients of `client`, and measures them.
pub(super) async fn measure(
    client: &HttpClient,
    auth: &str,
    server: &BaselineServer,
    posts: &[Post],
    requests: usize,
    concurrency: usize,
    body_bytes: usize,
) -> Result<BaselineFigures, BenchError> {
    if posts.is_empty() {
        return Err(BenchError(
            "the baseline needs at least one request body".into(),
        ));
    }
    let sent: Vec<Post> = (0..requests)
        .map(|i| {
            let p = &posts[i % posts.len()];
            Post {
                url: server.url.clone(),
                idempotency_key: format!("baseline-{i}"),
                body: p.body.clone(),
            }
        })
        .collect();
    let posted = post_all(client, auth, sent, concurrency).await?;
    Ok(BaselineFigures {
        requests,
        answered: posted.ids.len(),
        requests_per_s: rate(posted.ids.len(), posted.took),
        body_bytes,
        latency: Latency::of(&posted.latency),
    })
}

/// The probe and the baseline, before the timed load: one real activation (on the SIM
/// kept apart for it) gives the size of an activation answer and opens the client's
/// connection; then `args.baseline_requests` POSTs with the run's own bodies go to the
/// bare endpoint. `None` when the baseline is switched off (`--baseline-requests 0`).
pub(super) async fn run(
    args: &super::BenchArgs,
    sb: &crate::sandbox::Sandbox,
    client: &HttpClient,
    probe_iccid: Option<&str>,
) -> Result<Option<BaselineFigures>, BenchError> {
    if args.baseline_requests == 0 {
        return Ok(None);
    }
    let auth = format!("Bearer {}", sb.info.api_key);
    let iccid = probe_iccid.ok_or_else(|| BenchError("no SIM left for the probe".into()))?;
    let probe = Post {
        url: format!("{}/v1/activations", sb.info.base_url),
        idempotency_key: "bench-probe".into(),
        body: format!(
            r#"{{"sim":{{"type":"physical","iccid":"{iccid}"}},"product":"{}"}}"#,
            sb.info.product
        ),
    };
    let started = tokio::time::Instant::now();
    let answered = post_all(client, &auth, vec![probe], 1).await?;
    let settled = super::load::await_terminal(
        sb,
        &answered.ids,
        crate::order::OrderStatus::Active,
        started,
        std::time::Duration::from_secs(args.deadline_s),
    )
    .await?;
    let (Some(body_bytes), 1) = (answered.body_bytes, settled.succeeded) else {
        return Err(BenchError(format!(
            "the probe activation did not succeed (refused {}, failed {:?}, open {:?})",
            answered.failures, settled.failed, settled.open
        )));
    };
    let dir = sb.gateway.config.data_dir.join("tls");
    let ca = crate::tls::DevCa::load_or_create(&dir).map_err(err)?;
    let id = ca
        .issue("simgw bench baseline", &["localhost", "127.0.0.1"])
        .map_err(err)?;
    let tls =
        crate::tls::server_config_from_pem(id.cert_pem.as_bytes(), id.key_pem.as_bytes(), &dir)
            .map_err(err)?;
    let server = start(Arc::new(tls), Bytes::from(answer_body(body_bytes))).await?;
    let posts = super::activation_posts(args, sb);
    let figures = measure(
        client,
        &auth,
        &server,
        &posts,
        args.baseline_requests,
        args.concurrency,
        body_bytes,
    )
    .await?;
    println!(
        "baseline   {:>7} in the same client to a bare hyper+rustls endpoint ({} B answers) = {:>8.0} requests/s",
        figures.answered, figures.body_bytes, figures.requests_per_s
    );
    println!("baseline latency   {}", figures.latency.line());
    if figures.answered < figures.requests {
        return Err(BenchError(format!(
            "the baseline endpoint answered {} of {} requests",
            figures.answered, figures.requests
        )));
    }
    Ok(Some(figures))
}

#[cfg(test)]
mod tests {
    use super::answer_body;

    #[test]
    fn the_answer_has_the_asked_size_and_is_json() {
        for size in [0, 10, 50, 51, 600, 1_234] {
            let body = answer_body(size);
            assert_eq!(body.len(), size.max(50), "size {size}");
            let v: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
            assert_eq!(v["id"], "ord_baseline");
        }
    }
}

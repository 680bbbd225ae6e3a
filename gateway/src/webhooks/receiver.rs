//! A minimal local webhook receiver (plain HTTP/1.1 on loopback): `simgw webhooks listen`,
//! the benchmark's receiver and the tests hand each request to a function that says which
//! status to answer. Bodies are bounded.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Largest delivery body the receiver reads.
pub const MAX_BODY: usize = 1 << 20;

/// One request as received.
#[derive(Clone, Debug)]
pub struct Received {
    /// Path and query.
    pub path: String,
    /// The headers.
    pub headers: http::HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl Received {
    /// A header's value as text ("" when absent or not text).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

/// What to answer: a status and optional headers (e.g. `location`).
pub type Reply = (u16, Vec<(&'static str, String)>);

/// Decides the answer to each request.
pub type Handler = Arc<dyn Fn(Received) -> Reply + Send + Sync>;

/// Serves `listener` until `stop` turns true.
pub async fn serve(listener: TcpListener, handler: Handler, mut stop: watch::Receiver<bool>) {
    loop {
        let (tcp, _) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(_) => continue,
            },
            _ = stop.changed() => return,
        };
        let handler = handler.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req: hyper::Request<Incoming>| {
                let handler = handler.clone();
                async move { Ok::<_, Infallible>(answer(req, &handler).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), svc)
                .await;
        });
    }
}

async fn answer(req: hyper::Request<Incoming>, handler: &Handler) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let (status, headers) = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => handler(Received {
            path,
            headers: parts.headers,
            body: b.to_bytes(),
        }),
        Err(_) => (413, Vec::new()),
    };
    let mut resp = hyper::Response::new(Full::new(Bytes::new()));
    *resp.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in headers {
        if let Ok(v) = http::HeaderValue::from_str(&v) {
            resp.headers_mut().insert(k, v);
        }
    }
    resp
}

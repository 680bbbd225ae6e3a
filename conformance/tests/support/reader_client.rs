//! One request at a time to an ID reader simulator on a fresh connection (the tests of
//! `id_reader_sim.rs` and `id_reader_sim_logs.rs`).
#![allow(dead_code)]

use bytes::Bytes;
use conformance::id_reader_sim::{self, IdReaderSimConfig, IdReaderSimHandle};
use http::{Method, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// A simulator of reader `R-7` on a free loopback port.
pub async fn sim() -> IdReaderSimHandle {
    id_reader_sim::start(IdReaderSimConfig::with_serial("R-7"))
        .await
        .expect("start")
}

/// One request on a fresh connection.
pub async fn call(
    sim: &IdReaderSimHandle,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Response<Bytes> {
    let stream = TcpStream::connect(sim.addr()).await.expect("connect");
    let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", sim.addr().to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = send
        .send_request(req.body(Full::new(body.into())).expect("request"))
        .await
        .expect("response");
    let (parts, body) = resp.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    Response::from_parts(parts, body)
}

/// `GET path`.
pub async fn get(sim: &IdReaderSimHandle, path: &str) -> Response<Bytes> {
    call(sim, Method::GET, path, &[], Bytes::new()).await
}

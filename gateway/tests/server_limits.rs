//! The listener's limits over real sockets on loopback: idle HTTP/2 connections and slow
//! TLS handshakes are closed by the server and do not starve a normal client, HTTP/2
//! peers are pinged, connections per client address are capped, and refusals sent before
//! an upload finished still reach the uploading client.

mod common;
mod raw;

use common::Harness;
use gateway::config::Config;
use http_body_util::Empty;
use raw::{H2_PING, H2_PREFACE, connector, tcp_from, tcp_uploader, tls, until_closed, upload};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::task::JoinSet;

/// Failure bound of every wait on the server: far above each configured deadline, so
/// it only trips when the server would never act.
const BOUND: Duration = Duration::from_secs(30);
const IDLE_H2: usize = 300;
const SLOW_TLS: usize = 100;
const CLIENT_A: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));
const CLIENT_B: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

fn ca(h: &Harness) -> Vec<u8> {
    std::fs::read(h.gw().ca_cert.as_ref().expect("dev CA")).expect("ca")
}

/// What became of one flood connection.
#[derive(Debug, PartialEq)]
enum Fate {
    ClosedByServer,
    StillOpen,
    Failed(String),
}

async fn wait_closed<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> Fate {
    match tokio::time::timeout(BOUND, until_closed(s)).await {
        Ok(_) => Fate::ClosedByServer,
        Err(_) => Fate::StillOpen,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_h2_connections_and_slow_handshakes_are_closed_while_healthz_stays_fast() {
    let h = Harness::start_with(1, |c: &mut Config| {
        c.api.tls_handshake_timeout_ms = 5_000;
        c.api.header_read_timeout_ms = 4_000;
        c.api.idle_timeout_ms = 4_000;
        // Pings alone would also close a peer that never answers; keep them out of the
        // way so the first-request deadline is what is tested.
        c.api.keep_alive_interval_ms = 600_000;
        c.api.keep_alive_timeout_ms = 1_000;
        c.api.max_connections_per_ip = 10_000;
    })
    .await;
    let addr = h.gw().addr;
    let h2_only = connector(&ca(&h), &[b"h2"], None);
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(IDLE_H2 + SLOW_TLS);
    let mut flood = JoinSet::new();
    for _ in 0..IDLE_H2 {
        let (c, ready) = (h2_only.clone(), ready_tx.clone());
        flood.spawn(async move {
            let setup = async {
                let tcp = tcp_from(CLIENT_A, addr)
                    .await
                    .map_err(|e| format!("connect: {e}"))?;
                let mut s = tls(&c, tcp).await.map_err(|e| format!("TLS: {e}"))?;
                assert_eq!(s.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
                s.write_all(H2_PREFACE)
                    .await
                    .map_err(|e| format!("preface: {e}"))?;
                s.flush().await.map_err(|e| format!("preface: {e}"))?;
                Ok::<_, String>(s)
            };
            let mut s = match tokio::time::timeout(BOUND, setup).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => return ("idle h2 setup failed", Fate::Failed(e)),
                Err(_) => return ("idle h2 setup hung", Fate::StillOpen),
            };
            ready.send(()).await.expect("ready");
            ("idle h2", wait_closed(&mut s).await)
        });
    }
    for i in 0..SLOW_TLS {
        let ready = ready_tx.clone();
        flood.spawn(async move {
            let mut tcp = match tcp_from(CLIENT_A, addr).await {
                Ok(t) => t,
                Err(e) => return ("slow TLS connect failed", Fate::Failed(e.to_string())),
            };
            if i % 2 == 1 {
                // The first bytes of a ClientHello record, and no more.
                tcp.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00])
                    .await
                    .expect("partial hello");
            }
            ready.send(()).await.expect("ready");
            ("slow TLS", wait_closed(&mut tcp).await)
        });
    }
    drop(ready_tx);
    // Every flood connection is set up (or its task has ended, which the fates report).
    let mut established = 0;
    while established < IDLE_H2 + SLOW_TLS {
        match tokio::time::timeout(BOUND, ready_rx.recv()).await {
            Ok(Some(())) => established += 1,
            Ok(None) | Err(_) => break,
        }
    }

    // A normal client, while the flood holds its connections.
    let healthz = format!("{}/healthz", h.base);
    assert_eq!(
        h.client.get(&healthz, &[]).await.expect("warm-up").status,
        200
    );
    let mut latencies = Vec::new();
    for _ in 0..200 {
        let t = std::time::Instant::now();
        let r = h.client.get(&healthz, &[]).await.expect("healthz");
        latencies.push(t.elapsed());
        assert_eq!(r.status, 200);
    }
    latencies.sort();
    let p99 = latencies[latencies.len() * 99 / 100 - 1];
    assert!(
        p99 < Duration::from_millis(100),
        "healthz p99 {p99:?} under the flood"
    );

    let mut wrong = std::collections::BTreeMap::<String, usize>::new();
    while let Some(r) = flood.join_next().await {
        let (what, fate) = r.expect("flood task");
        if fate != Fate::ClosedByServer {
            *wrong.entry(format!("{what}: {fate:?}")).or_default() += 1;
        }
    }
    assert!(
        wrong.is_empty(),
        "flood connections not closed by the server (of {established} established): {wrong:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_h2_peer_is_pinged_and_closed_when_it_does_not_answer() {
    let h = Harness::start_with(1, |c: &mut Config| {
        c.api.header_read_timeout_ms = 600_000;
        c.api.idle_timeout_ms = 600_000;
        c.api.keep_alive_interval_ms = 300;
        c.api.keep_alive_timeout_ms = 300;
    })
    .await;
    let c = connector(&ca(&h), &[b"h2"], None);
    let mut s = tls(&c, tcp_from(CLIENT_A, h.gw().addr).await.expect("connect"))
        .await
        .expect("TLS");
    s.write_all(H2_PREFACE).await.expect("preface");
    s.flush().await.expect("flush");
    let out = tokio::time::timeout(BOUND, until_closed(&mut s))
        .await
        .expect("the server never closed a peer that ignores its pings");
    let frames = raw::h2_frames(&out);
    assert!(
        frames
            .iter()
            .any(|&(t, flags)| t == H2_PING && flags & 1 == 0),
        "no PING from the server before it closed: {frames:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_idle_after_a_request_is_closed_in_both_protocols() {
    let h = Harness::start_with(1, |c: &mut Config| {
        c.api.header_read_timeout_ms = 600_000;
        c.api.idle_timeout_ms = 500;
        // The HTTP/2 client answers pings: they must not keep an idle connection open.
        c.api.keep_alive_interval_ms = 100;
        c.api.keep_alive_timeout_ms = 1_000;
    })
    .await;
    let ca = ca(&h);

    // HTTP/2 through hyper's client, which acknowledges pings as a real client does.
    let c = connector(&ca, &[b"h2"], None);
    let s = tls(&c, tcp_from(CLIENT_A, h.gw().addr).await.expect("connect"))
        .await
        .expect("TLS");
    let (mut send, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(s),
    )
    .await
    .expect("h2 handshake");
    let conn = tokio::spawn(conn);
    let req = http::Request::get(format!("{}/healthz", h.base))
        .body(Empty::<bytes::Bytes>::new())
        .expect("request");
    let resp = send.send_request(req).await.expect("h2 healthz");
    assert_eq!(resp.status(), 200);
    drop(resp);
    let ended = tokio::time::timeout(BOUND, conn).await;
    assert!(
        ended.is_ok(),
        "an idle HTTP/2 connection that answers pings was never closed"
    );

    // HTTP/1.1 keep-alive.
    let c = connector(&ca, &[b"http/1.1"], None);
    let mut s = tls(&c, tcp_from(CLIENT_A, h.gw().addr).await.expect("connect"))
        .await
        .expect("TLS");
    assert_eq!(
        raw::get(&mut s, "/healthz")
            .await
            .expect("h1 healthz")
            .status,
        200
    );
    assert_eq!(
        wait_closed(&mut s).await,
        Fate::ClosedByServer,
        "an idle HTTP/1.1 keep-alive connection was never closed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_per_address_cap_are_closed_at_once() {
    let h = Harness::start_with(1, |c: &mut Config| {
        c.api.max_connections_per_ip = 3;
        c.api.header_read_timeout_ms = 600_000;
    })
    .await;
    let c = connector(&ca(&h), &[b"http/1.1"], None);
    let addr = h.gw().addr;
    let mut held = Vec::new();
    for _ in 0..3 {
        let s = tls(&c, tcp_from(CLIENT_A, addr).await.expect("connect"))
            .await
            .expect("within the cap");
        held.push(s);
    }
    let extra = tokio::time::timeout(BOUND, async {
        tls(&c, tcp_from(CLIENT_A, addr).await?).await
    })
    .await
    .expect("the server neither served nor closed the extra connection");
    assert!(
        extra.is_err(),
        "a fourth connection from one address was served"
    );
    // Another client address is not affected, and the held ones still work.
    let mut other = tls(&c, tcp_from(CLIENT_B, addr).await.expect("connect"))
        .await
        .expect("another address");
    assert_eq!(
        raw::get(&mut other, "/healthz")
            .await
            .expect("healthz")
            .status,
        200
    );
    assert_eq!(
        raw::get(&mut held[0], "/healthz")
            .await
            .expect("healthz")
            .status,
        200
    );
}

/// More than the body limit and bigger than the socket buffers, so the client is still
/// writing when the refusal is sent.
const UPLOAD: usize = 1536 * 1024;

/// A case name, the request headers, and the status and `code` expected.
type Refusal<'a> = (&'a str, Vec<(&'a str, &'a str)>, u16, &'a str);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_before_the_body_is_read_reach_a_client_still_uploading() {
    let h = Harness::start(1).await;
    let c = connector(&ca(&h), &[b"http/1.1"], None);
    let key = format!("Bearer {}", h.api_key);
    let cases: [Refusal; 3] = [
        (
            "413",
            vec![
                ("authorization", &key),
                ("content-type", "application/json"),
                ("idempotency-key", "drain-413"),
            ],
            413,
            "body_too_large",
        ),
        (
            "401",
            vec![
                ("authorization", "Bearer sk_wrong"),
                ("content-type", "application/json"),
            ],
            401,
            "unauthorized",
        ),
        (
            "415",
            vec![
                ("authorization", &key),
                ("content-type", "text/plain"),
                ("idempotency-key", "drain-415"),
            ],
            415,
            "unsupported_media_type",
        ),
    ];
    for (name, headers, status, code) in cases {
        let mut s = tls(
            &c,
            tcp_uploader(CLIENT_A, h.gw().addr).await.expect("connect"),
        )
        .await
        .expect("TLS");
        let r = upload(&mut s, "POST /v1/activations", &headers, UPLOAD, b' ')
            .await
            .unwrap_or_else(|e| {
                panic!("{name}: the uploading client got {e} instead of the answer")
            });
        assert_eq!(r.status, status, "{name}");
        assert_eq!(
            r.header("content-type"),
            Some("application/problem+json"),
            "{name}"
        );
        assert_eq!(r.json()["code"], code, "{name}: {}", r.json());
        // The remainder was drained, not cut: the connection still serves.
        let again = raw::get(&mut s, "/healthz").await;
        assert_eq!(
            again.expect("keep-alive after the refusal").status,
            200,
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_es2_receivers_refusal_reaches_an_smdp_still_uploading() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = Config {
        data_dir: dir.path().to_owned(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..Config::default()
    };
    cfg.sandbox.physical_sims = 2;
    cfg.sandbox.esim_profiles = 2;
    cfg.sandbox.numbers = 10;
    let sb = gateway::sandbox::start(cfg).await.expect("sandbox");
    let ca = std::fs::read(&sb.info.ca_cert).expect("ca");
    let (cert, key) = gateway::sandbox_smdp::notifier_files(&sb.gateway.config);
    let (cert, key) = (
        std::fs::read(cert).expect("cert"),
        std::fs::read(key).expect("key"),
    );
    let c = connector(&ca, &[b"http/1.1"], Some((&cert, &key)));
    let addr = sb.gateway.callback_addr.expect("callback listener");
    let mut s = tls(&c, tcp_uploader(CLIENT_A, addr).await.expect("connect"))
        .await
        .expect("mutual TLS");
    let r = upload(
        &mut s,
        "POST /gsma/rsp2/es2plus/handleDownloadProgressInfo",
        &[("content-type", "application/json")],
        UPLOAD,
        b' ',
    )
    .await
    .unwrap_or_else(|e| panic!("the uploading SM-DP+ got {e} instead of the answer"));
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], "invalid_notification", "{}", r.json());
    sb.gateway.shutdown().await;
    if let Some(s) = sb.smdp_sim {
        s.shutdown().await;
    }
    if let Some(s) = sb.hlr_sim {
        s.shutdown().await;
    }
}

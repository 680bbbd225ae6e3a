//! The shared HTTP(S) client against in-test servers: plain, TLS, mTLS, limits, timeouts.

mod support;

use adapters::http::{HttpClient, HttpError};
use bytes::Bytes;
use std::time::Duration;
use support::{reply, self_signed, serve, server_tls};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn posts_and_reads_the_whole_answer() {
    let addr = serve(None, |parts, body| async move {
        let action = parts
            .headers
            .get("soapaction")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mut r = reply(
            201,
            format!(
                "{} {action} {}",
                parts.method,
                String::from_utf8_lossy(&body)
            ),
        );
        r.headers_mut()
            .insert("x-test", http::HeaderValue::from_static("yes"));
        r
    })
    .await;
    let client = HttpClient::builder().build().expect("client");
    let resp = client
        .post(
            &format!("http://{addr}/p"),
            &[("SOAPAction", "\"CAI3G#Get\"".into())],
            Bytes::from("hi"),
        )
        .await
        .expect("answer");
    assert_eq!(resp.status, 201);
    assert_eq!(resp.body, Bytes::from("POST \"CAI3G#Get\" hi"));
    assert_eq!(
        resp.headers.get("x-test").map(|v| v.as_bytes()),
        Some(&b"yes"[..])
    );
    let resp = client
        .get(&format!("http://{addr}/g"), &[])
        .await
        .expect("answer");
    assert_eq!(resp.body, Bytes::from("GET  "));
}

#[tokio::test]
async fn declared_oversized_body_is_refused() {
    let addr = serve(None, |_, _| async { reply(200, vec![b'x'; 10_000]) }).await;
    let client = HttpClient::builder()
        .body_limit(1024)
        .build()
        .expect("client");
    let err = client
        .get(&format!("http://{addr}/"), &[])
        .await
        .expect_err("too large");
    assert_eq!(err, HttpError::BodyTooLarge { limit: 1024 });
}

#[tokio::test]
async fn chunked_oversized_body_is_refused() {
    // A raw server: hyper would add a Content-Length, and this must exercise streaming.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.expect("accept");
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf).await;
        let chunk = "x".repeat(4000);
        let mut out = String::from("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
        for _ in 0..4 {
            out.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
        }
        out.push_str("0\r\n\r\n");
        let _ = s.write_all(out.as_bytes()).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    });
    let client = HttpClient::builder()
        .body_limit(5000)
        .build()
        .expect("client");
    let err = client
        .get(&format!("http://{addr}/"), &[])
        .await
        .expect_err("too large");
    assert_eq!(err, HttpError::BodyTooLarge { limit: 5000 });
}

#[tokio::test]
async fn slow_server_times_out() {
    let addr = serve(None, |_, _| async {
        tokio::time::sleep(Duration::from_secs(10)).await;
        reply(200, "late")
    })
    .await;
    let client = HttpClient::builder()
        .request_timeout(Duration::from_millis(200))
        .build()
        .expect("client");
    let started = std::time::Instant::now();
    let err = client
        .get(&format!("http://{addr}/"), &[])
        .await
        .expect_err("timeout");
    assert_eq!(err, HttpError::Timeout);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn refused_connection_is_a_connect_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let client = HttpClient::builder().build().expect("client");
    let err = client
        .get(&format!("http://{addr}/"), &[])
        .await
        .expect_err("refused");
    assert!(matches!(err, HttpError::Connect(_)), "{err:?}");
}

#[tokio::test]
async fn invalid_urls_and_headers_are_rejected() {
    let client = HttpClient::builder().build().expect("client");
    for url in ["not a url", "ftp://127.0.0.1/", "/relative", ""] {
        assert_eq!(
            client.get(url, &[]).await,
            Err(HttpError::InvalidUrl),
            "{url}"
        );
    }
    let err = client
        .get("http://127.0.0.1:1/", &[("bad header", "v".into())])
        .await;
    assert_eq!(
        err,
        Err(HttpError::InvalidHeader {
            name: "bad header".into()
        })
    );
}

#[tokio::test]
async fn https_trusts_only_the_given_roots() {
    let server = self_signed();
    let addr = serve(Some(server_tls(&server, None)), |_, _| async {
        reply(200, "tls")
    })
    .await;
    let url = format!("https://127.0.0.1:{}/", addr.port());
    let trusting = HttpClient::builder()
        .add_root_pem(server.cert_pem.as_bytes())
        .build()
        .expect("c");
    assert_eq!(
        trusting.get(&url, &[]).await.expect("ok").body,
        Bytes::from("tls")
    );
    let other = self_signed();
    let stranger = HttpClient::builder()
        .add_root_pem(other.cert_pem.as_bytes())
        .build()
        .expect("c");
    let err = stranger.get(&url, &[]).await.expect_err("untrusted");
    assert!(matches!(err, HttpError::Tls(_)), "{err:?}");
    let no_roots = HttpClient::builder().build().expect("c");
    assert!(matches!(
        no_roots.get(&url, &[]).await,
        Err(HttpError::Tls(_))
    ));
}

#[tokio::test]
async fn mutual_tls_presents_the_client_identity() {
    let server = self_signed();
    let client_id = self_signed();
    let tls = server_tls(&server, Some(&client_id));
    let addr = serve(Some(tls), |_, _| async { reply(200, "mtls") }).await;
    let url = format!("https://127.0.0.1:{}/", addr.port());
    let with_id = HttpClient::builder()
        .add_root_pem(server.cert_pem.as_bytes())
        .identity_pem(client_id.cert_pem.as_bytes(), client_id.key_pem.as_bytes())
        .build()
        .expect("client");
    assert_eq!(
        with_id.get(&url, &[]).await.expect("ok").body,
        Bytes::from("mtls")
    );
    let without = HttpClient::builder()
        .add_root_pem(server.cert_pem.as_bytes())
        .build()
        .expect("client");
    let err = without
        .get(&url, &[])
        .await
        .expect_err("client cert required");
    assert!(
        matches!(err, HttpError::Tls(_) | HttpError::Io(_)),
        "{err:?}"
    );
}

#[test]
fn unusable_pem_is_a_config_error() {
    let err = HttpClient::builder()
        .add_root_pem(b"not pem")
        .build()
        .expect_err("bad pem");
    assert!(matches!(err, HttpError::Config(_)), "{err:?}");
    let cert = self_signed();
    let err = HttpClient::builder()
        .identity_pem(cert.cert_pem.as_bytes(), b"no key here")
        .build()
        .expect_err("bad key");
    assert!(matches!(err, HttpError::Config(_)), "{err:?}");
}

//! A raw client for tests that watch the wire: chosen ALPN and source address, partial
//! writes, HTTP/2 frames, and the moment the server closes.
#![allow(dead_code)]

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// The HTTP/2 client preface followed by an empty SETTINGS frame.
pub const H2_PREFACE: &[u8] =
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";
/// HTTP/2 frame type PING.
pub const H2_PING: u8 = 6;
/// HTTP/2 frame type GOAWAY.
pub const H2_GOAWAY: u8 = 7;

/// A TLS connector trusting `ca_pem`, offering `alpn`, presenting `identity` if given.
pub fn connector(ca_pem: &[u8], alpn: &[&[u8]], identity: Option<(&[u8], &[u8])>) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem) {
        roots.add(c.expect("CA pem")).expect("CA");
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots);
    let mut cfg = match identity {
        Some((cert, key)) => builder
            .with_client_auth_cert(
                CertificateDer::pem_slice_iter(cert)
                    .map(|c| c.expect("cert pem"))
                    .collect(),
                PrivateKeyDer::from_pem_slice(key).expect("key pem"),
            )
            .expect("client identity"),
        None => builder.with_no_client_auth(),
    };
    cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    TlsConnector::from(Arc::new(cfg))
}

/// A TCP connection to `to` from the loopback address `src` (each 127.x address is a
/// distinct client to the server).
pub async fn tcp_from(src: IpAddr, to: SocketAddr) -> io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(src, 0))?;
    socket.connect(to).await
}

/// Like `tcp_from`, with a small send buffer: an upload cannot vanish into the kernel's
/// buffers, so the client is still writing when the server answers early.
pub async fn tcp_uploader(src: IpAddr, to: SocketAddr) -> io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.set_send_buffer_size(16 * 1024)?;
    socket.bind(SocketAddr::new(src, 0))?;
    socket.connect(to).await
}

/// TLS over `tcp`, for `localhost`.
pub async fn tls(connector: &TlsConnector, tcp: TcpStream) -> io::Result<TlsStream<TcpStream>> {
    connector
        .connect(ServerName::try_from("localhost").expect("name"), tcp)
        .await
}

/// Reads until the server closes (EOF, or a reset); returns everything read.
pub async fn until_closed<S: AsyncRead + Unpin>(s: &mut S) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return all,
            Ok(n) => all.extend_from_slice(&buf[..n]),
        }
    }
}

/// The (type, flags) of each whole HTTP/2 frame in `bytes` (a server's output).
pub fn h2_frames(bytes: &[u8]) -> Vec<(u8, u8)> {
    let mut out = Vec::new();
    let mut at = 0;
    while bytes.len() >= at + 9 {
        let len = usize::from(bytes[at]) << 16
            | usize::from(bytes[at + 1]) << 8
            | usize::from(bytes[at + 2]);
        out.push((bytes[at + 3], bytes[at + 4]));
        at += 9 + len;
    }
    out
}

/// One HTTP/1.1 response: status, lower-cased headers, body.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

/// Reads one HTTP/1.1 response with a `Content-Length` body.
pub async fn read_response<S: AsyncRead + Unpin>(s: &mut S) -> io::Result<Response> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "closed in the response head: {:?}",
                    String::from_utf8_lossy(&buf)
                ),
            ));
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| io::Error::other(format!("bad status line in {head:?}")))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).await?;
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// Sends a request whose body (`body_len` bytes of `fill`) goes out in 64 KiB writes,
/// each flushed, the way a client uploads a file; then reads the answer. Any write or
/// read error (a reset) is returned.
pub async fn upload<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    method_path: &str,
    headers: &[(&str, &str)],
    body_len: usize,
    fill: u8,
) -> io::Result<Response> {
    let mut head =
        format!("{method_path} HTTP/1.1\r\nhost: localhost\r\ncontent-length: {body_len}\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).await?;
    let chunk = vec![fill; 64 * 1024];
    let mut left = body_len;
    while left > 0 {
        let n = left.min(chunk.len());
        s.write_all(&chunk[..n]).await?;
        s.flush().await?;
        left -= n;
        tokio::task::yield_now().await;
    }
    read_response(s).await
}

/// A GET with no body on an open HTTP/1.1 connection.
pub async fn get<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S, path: &str) -> io::Result<Response> {
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: localhost\r\n\r\n").as_bytes())
        .await?;
    s.flush().await?;
    read_response(s).await
}

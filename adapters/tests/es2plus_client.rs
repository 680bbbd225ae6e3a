//! The ES2+ HTTPS client against a scripted in-test SM-DP+ (mutual TLS, HTTP/1.1): the
//! exact requests on the wire, F-padding, and how each kind of answer or failure is
//! classified for retries.

mod support;

use adapters::es2plus::*;
use adapters::http::HttpError;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use sim_profiles::{Eid, Iccid};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{TestCert, self_signed};
use tokio::net::TcpListener;
use zeroize::Zeroizing;

const ICCID: &str = "8986990999000001013";
const ICCID2: &str = "8986990999000001021";
const EID: &str = "89044040000000000000000001234565";
const MATCHING_ID: &str = "K7QF-M3XH-8PZ2-R9DW";
const CC: &str = "482916";
const REQUESTER: &str = "mvno-gw-prod";

/// What the SM-DP+ saw of one request.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    headers: http::HeaderMap,
    body: String,
    alpn: Option<Vec<u8>>,
    peer_cert: Option<Vec<u8>>,
}

/// What the SM-DP+ does with the next request.
enum Action {
    /// Answers with this status, headers and body.
    Reply(u16, Vec<(&'static str, &'static str)>, String),
    /// Reads the request, then closes the connection without answering.
    Close,
}

/// A scripted SM-DP+ on 127.0.0.1:0. Unscripted requests get a header-only success.
struct Smdp {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Mutex<VecDeque<Action>>>,
}

impl Smdp {
    fn push(&self, action: Action) {
        self.script.lock().expect("lock").push_back(action);
    }

    fn reply(&self, status: u16, body: &str) {
        self.push(Action::Reply(status, es2_headers(), body.to_owned()));
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.addr.port())
    }
}

fn es2_headers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("content-type", "application/json"),
        ("x-admin-protocol", "gsma/rsp/v2.2.0"),
    ]
}

const SUCCESS: &str = r#"{"header":{"functionExecutionStatus":{"status":"Executed-Success"}}}"#;

/// A server config presenting `server`, requiring a client certificate issued by
/// `client_ca`, and offering `h2` first over ALPN (so an h2-capable client would get it).
fn server_config(
    server: &TestCert,
    client_ca: &TestCert,
    tls12_only: bool,
) -> rustls::ServerConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = if tls12_only {
        &[&rustls::version::TLS12]
    } else {
        &[&rustls::version::TLS13, &rustls::version::TLS12]
    };
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(client_ca.cert_pem.as_bytes()) {
        roots.add(c.expect("client ca pem")).expect("client root");
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .expect("verifier");
    let chain = CertificateDer::pem_slice_iter(server.cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .expect("server pem");
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(server.key_pem.as_bytes())
        .expect("server key");
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .expect("versions")
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .expect("server cert");
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    cfg
}

async fn start(cfg: rustls::ServerConfig) -> Smdp {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let script: Arc<Mutex<VecDeque<Action>>> = Arc::default();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let (seen2, script2) = (seen.clone(), script.clone());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, seen, script) = (acceptor.clone(), seen2.clone(), script2.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let conn = tls.get_ref().1;
                let alpn = conn.alpn_protocol().map(<[u8]>::to_vec);
                let peer_cert = conn
                    .peer_certificates()
                    .and_then(|c| c.first())
                    .map(|c| c.as_ref().to_vec());
                let svc = service_fn(move |req: http::Request<Incoming>| {
                    let (seen, script) = (seen.clone(), script.clone());
                    let (alpn, peer_cert) = (alpn.clone(), peer_cert.clone());
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map_err(std::io::Error::other)?
                            .to_bytes();
                        seen.lock().expect("lock").push(Seen {
                            method: parts.method.to_string(),
                            path: parts.uri.path().to_owned(),
                            headers: parts.headers,
                            body: String::from_utf8_lossy(&body).into_owned(),
                            alpn,
                            peer_cert,
                        });
                        let action = script.lock().expect("lock").pop_front();
                        let (status, headers, body) = match action {
                            Some(Action::Close) => {
                                return Err(std::io::Error::other("scripted close"));
                            }
                            Some(Action::Reply(s, h, b)) => (s, h, b),
                            None => (200, es2_headers(), SUCCESS.to_owned()),
                        };
                        let mut r = http::Response::new(Full::new(Bytes::from(body)));
                        *r.status_mut() = http::StatusCode::from_u16(status).expect("status");
                        for (k, v) in headers {
                            r.headers_mut().insert(k, http::HeaderValue::from_static(v));
                        }
                        Ok::<_, std::io::Error>(r)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    Smdp { addr, seen, script }
}

/// The three parties' certificates.
struct Pki {
    server: TestCert,
    client: TestCert,
}

fn pki() -> Pki {
    Pki {
        server: self_signed(),
        client: self_signed(),
    }
}

/// An SM-DP+ that trusts `pki.client`, speaking TLS 1.3 and 1.2.
async fn smdp(pki: &Pki) -> Smdp {
    start(server_config(&pki.server, &pki.client, false)).await
}

fn config(pki: &Pki, base_url: String, pad_iccid: bool) -> Es2ClientConfig {
    Es2ClientConfig {
        base_url,
        requester_id: REQUESTER.into(),
        client_cert_pem: pki.client.cert_pem.clone().into_bytes(),
        client_key_pem: Zeroizing::new(pki.client.key_pem.clone().into_bytes()),
        roots_pem: pki.server.cert_pem.clone().into_bytes(),
        pad_iccid,
        timeout: Duration::from_secs(5),
    }
}

fn client(pki: &Pki, smdp: &Smdp, pad_iccid: bool) -> Es2Client {
    Es2Client::new(config(pki, smdp.url(), pad_iccid)).expect("client")
}

fn iccid(s: &str) -> Iccid {
    s.parse().expect("iccid")
}

fn eid() -> Eid {
    EID.parse().expect("eid")
}

fn download(c: &Es2Client, icc: &str) -> DownloadOrderRequest {
    DownloadOrderRequest {
        header: c.request_header("ord-1-dl-1"),
        eid: Some(eid()),
        profile: ProfileSelector::Iccid(iccid(icc)),
    }
}

fn confirm(c: &Es2Client, icc: &str) -> ConfirmOrderRequest {
    ConfirmOrderRequest {
        header: c.request_header("ord-1-confirm-1"),
        iccid: iccid(icc),
        eid: Some(eid()),
        matching_id: Some(MatchingId::new(MATCHING_ID).expect("mid")),
        confirmation_code: Some(ConfirmationCode::new(CC).expect("cc")),
        smds_address: None,
        release_flag: false,
    }
}

fn cancel(c: &Es2Client, icc: &str) -> CancelOrderRequest {
    CancelOrderRequest {
        header: c.request_header("ord-1-cancel-1"),
        iccid: iccid(icc),
        eid: Some(eid()),
        matching_id: Some(MatchingId::new(MATCHING_ID).expect("mid")),
        final_profile_status_indicator: FinalProfileStatus::Available,
    }
}

fn release(c: &Es2Client, icc: &str) -> ReleaseProfileRequest {
    ReleaseProfileRequest {
        header: c.request_header("ord-1-release-1"),
        iccid: iccid(icc),
    }
}

fn header<'a>(s: &'a Seen, name: &str) -> Option<&'a str> {
    s.headers.get(name).and_then(|v| v.to_str().ok())
}

fn failed(status: &str, subject: &str, reason: &str) -> String {
    format!(
        r#"{{"header":{{"functionExecutionStatus":{{"status":"{status}","statusCodeData":{{"subjectCode":"{subject}","reasonCode":"{reason}","subjectIdentifier":"{ICCID}","message":"profile {ICCID} for {EID}"}}}}}}}}"#
    )
}

#[tokio::test]
async fn download_order_sends_exact_path_headers_and_body() {
    let pki = pki();
    let smdp = smdp(&pki).await;
    let c = client(&pki, &smdp, false);
    smdp.reply(
        200,
        r#"{"header":{"functionExecutionStatus":{"status":"Executed-Success"}},"iccid":"8986990999000001021F"}"#,
    );
    let resp = c.download_order(&download(&c, ICCID2)).await.expect("ok");
    assert_eq!(resp.iccid, iccid(ICCID2), "trailing F normalised");
    let seen = smdp.seen();
    let [s] = seen.as_slice() else {
        panic!("one request: {seen:?}")
    };
    assert_eq!(s.method, "POST");
    assert_eq!(s.path, "/gsma/rsp2/es2plus/downloadOrder");
    assert_eq!(header(s, "x-admin-protocol"), Some("gsma/rsp/v2.2.0"));
    assert_eq!(header(s, "content-type"), Some("application/json"));
    assert_eq!(
        s.body,
        r#"{"header":{"functionRequesterIdentifier":"mvno-gw-prod","functionCallIdentifier":"ord-1-dl-1"},"eid":"89044040000000000000000001234565","iccid":"8986990999000001021"}"#
    );
    // HTTP/1.1 only: the server offered h2 first, yet nothing was negotiated.
    assert_eq!(s.alpn, None);
    // The server required a client certificate and got ours.
    let ours = CertificateDer::from_pem_slice(pki.client.cert_pem.as_bytes()).expect("pem");
    assert_eq!(s.peer_cert.as_deref(), Some(ours.as_ref()));
}

#[tokio::test]
async fn base_url_path_prefix_is_kept_and_requester_id_is_ours() {
    let pki = pki();
    let smdp = smdp(&pki).await;
    let c = Es2Client::new(config(&pki, format!("{}/smdp/", smdp.url()), false)).expect("c");
    let mut req = release(&c, ICCID);
    req.header = RequestHeader::new("someone-else", "call-7");
    c.release_profile(&req).await.expect("ok");
    let seen = smdp.seen();
    assert_eq!(seen[0].path, "/smdp/gsma/rsp2/es2plus/releaseProfile");
    assert_eq!(
        seen[0].body,
        r#"{"header":{"functionRequesterIdentifier":"mvno-gw-prod","functionCallIdentifier":"call-7"},"iccid":"8986990999000001013"}"#
    );
}

/// The four requests' exact bodies, F-padded or not.
async fn four_bodies(pad: bool, icc: &str) -> Vec<(String, String)> {
    let pki = pki();
    let smdp = smdp(&pki).await;
    let c = client(&pki, &smdp, pad);
    let echoed = format!(
        r#"{{"header":{{"functionExecutionStatus":{{"status":"Executed-Success"}}}},"iccid":"{icc}"}}"#
    );
    smdp.push(Action::Reply(200, es2_headers(), echoed));
    c.download_order(&download(&c, icc)).await.expect("dl");
    c.confirm_order(&confirm(&c, icc)).await.expect("confirm");
    c.cancel_order(&cancel(&c, icc)).await.expect("cancel");
    c.release_profile(&release(&c, icc)).await.expect("release");
    smdp.seen().into_iter().map(|s| (s.path, s.body)).collect()
}

fn expected_bodies(wire_iccid: &str) -> Vec<(String, String)> {
    let h = |call: &str| {
        format!(
            r#"{{"header":{{"functionRequesterIdentifier":"mvno-gw-prod","functionCallIdentifier":"{call}"}}"#
        )
    };
    vec![
        (
            "/gsma/rsp2/es2plus/downloadOrder".into(),
            format!(
                r#"{},"eid":"{EID}","iccid":"{wire_iccid}"}}"#,
                h("ord-1-dl-1")
            ),
        ),
        (
            "/gsma/rsp2/es2plus/confirmOrder".into(),
            format!(
                r#"{},"iccid":"{wire_iccid}","eid":"{EID}","matchingId":"{MATCHING_ID}","confirmationCode":"{CC}","releaseFlag":false}}"#,
                h("ord-1-confirm-1")
            ),
        ),
        (
            "/gsma/rsp2/es2plus/cancelOrder".into(),
            format!(
                r#"{},"iccid":"{wire_iccid}","eid":"{EID}","matchingId":"{MATCHING_ID}","finalProfileStatusIndicator":"Available"}}"#,
                h("ord-1-cancel-1")
            ),
        ),
        (
            "/gsma/rsp2/es2plus/releaseProfile".into(),
            format!(r#"{},"iccid":"{wire_iccid}"}}"#, h("ord-1-release-1")),
        ),
    ]
}

#[tokio::test]
async fn iccids_are_sent_canonical_without_padding() {
    assert_eq!(four_bodies(false, ICCID).await, expected_bodies(ICCID));
}

#[tokio::test]
async fn pad_iccid_pads_every_19_digit_iccid_sent() {
    assert_eq!(
        four_bodies(true, ICCID).await,
        expected_bodies(&format!("{ICCID}F"))
    );
}

#[tokio::test]
async fn pad_iccid_leaves_20_digit_iccids_alone() {
    let twenty = Iccid::from_payload("8986990999000001013").expect("20 digits");
    assert_eq!(twenty.as_str().len(), 20);
    assert_eq!(
        four_bodies(true, twenty.as_str()).await,
        expected_bodies(twenty.as_str())
    );
}

#[tokio::test]
async fn executed_with_warning_and_lenient_headers_are_success() {
    let pki = pki();
    let smdp = smdp(&pki).await;
    let c = client(&pki, &smdp, false);
    let warning = r#"{"header":{"functionExecutionStatus":{"status":"Executed-WithWarning","statusCodeData":{"subjectCode":"8.2.1","reasonCode":"3.3"}}},"eid":"89044040000000000000000001234565","matchingId":"K7QF-M3XH-8PZ2-R9DW","smdpAddress":"SMDP.EXAMPLE.NET","extra":1}"#;
    smdp.push(Action::Reply(
        200,
        vec![
            ("content-type", "application/json;charset=UTF-8"),
            ("x-admin-protocol", "gsma/rsp/v3.1.0"),
        ],
        warning.into(),
    ));
    let resp = c
        .confirm_order(&confirm(&c, ICCID))
        .await
        .expect("warning is success");
    assert_eq!(
        resp.matching_id.as_ref().map(MatchingId::as_str),
        Some(MATCHING_ID)
    );
    assert_eq!(
        resp.smdp_address.as_ref().map(Fqdn::as_str),
        Some("SMDP.EXAMPLE.NET")
    );
    assert_eq!(resp.eid, Some(eid()));
    // Missing or foreign X-Admin-Protocol and a missing Content-Type: logged, still parsed.
    smdp.push(Action::Reply(200, vec![], SUCCESS.into()));
    c.release_profile(&release(&c, ICCID))
        .await
        .expect("no headers");
    smdp.push(Action::Reply(
        200,
        vec![("x-admin-protocol", "gsma/rsp/v1.0.0")],
        SUCCESS.into(),
    ));
    c.release_profile(&release(&c, ICCID)).await.expect("v1");
}

#[tokio::test]
async fn confirm_without_matching_id_uses_ours_or_is_a_protocol_error() {
    let pki = pki();
    let smdp = smdp(&pki).await;
    let c = client(&pki, &smdp, false);
    smdp.reply(200, SUCCESS);
    let resp = c.confirm_order(&confirm(&c, ICCID)).await.expect("ours");
    assert_eq!(
        resp.matching_id.as_ref().map(MatchingId::as_str),
        Some(MATCHING_ID)
    );
    let mut without = confirm(&c, ICCID);
    without.matching_id = None;
    smdp.reply(200, SUCCESS);
    assert_eq!(
        c.confirm_order(&without).await,
        Err(Es2CallError::Protocol(Es2Error::Missing {
            field: "matchingId"
        }))
    );
}

#[tokio::test]
async fn failed_is_a_function_error_with_codes_and_classification() {
    let pki = pki();
    let smdp = smdp(&pki).await;
    let c = client(&pki, &smdp, false);
    smdp.reply(200, &failed("Failed", "8.2.5", "3.7"));
    let err = c
        .download_order(&download(&c, ICCID))
        .await
        .expect_err("stock-out");
    assert_eq!(err.codes(), Some(("8.2.5", "3.7")));
    assert!(!err.retryable());
    let Es2CallError::Function(Es2Error::Failed {
        status,
        subject_identifier,
        message,
        ..
    }) = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*status, ExecutionStatus::Failed);
    assert_eq!(subject_identifier.as_deref(), Some(ICCID));
    assert_eq!(
        message.as_deref(),
        Some(format!("profile {ICCID} for {EID}").as_str())
    );

    smdp.reply(200, &failed("Failed", "8.9", "4.2"));
    let err = c
        .confirm_order(&confirm(&c, ICCID))
        .await
        .expect_err("sm-ds");
    assert_eq!(err.codes(), Some(("8.9", "4.2")));
    assert!(err.retryable(), "SM-DS execution error is retryable");

    smdp.reply(200, &failed("Expired", "8.2.1", "4.2"));
    let err = c
        .release_profile(&release(&c, ICCID))
        .await
        .expect_err("expired");
    assert!(matches!(
        &err,
        Es2CallError::Function(Es2Error::Failed {
            status: ExecutionStatus::Expired,
            ..
        })
    ));
    assert!(!err.retryable(), "Expired is permanent");
}

#[tokio::test]
async fn http_statuses_are_classified() {
    let pki = pki();
    let smdp = smdp(&pki).await;
    let c = client(&pki, &smdp, false);
    let cases = [
        (
            500,
            Es2CallError::Ambiguous(AmbiguousCause::HttpStatus(500)),
            true,
        ),
        (
            503,
            Es2CallError::Ambiguous(AmbiguousCause::HttpStatus(503)),
            true,
        ),
        (
            202,
            Es2CallError::Ambiguous(AmbiguousCause::HttpStatus(202)),
            true,
        ),
        (404, Es2CallError::Rejected { status: 404 }, false),
        (400, Es2CallError::Rejected { status: 400 }, false),
        (302, Es2CallError::Rejected { status: 302 }, false),
    ];
    for (status, expected, retryable) in cases {
        smdp.push(Action::Reply(
            status,
            vec![("content-type", "text/html")],
            "<html>oops</html>".into(),
        ));
        let err = c
            .release_profile(&release(&c, ICCID))
            .await
            .expect_err("non-200");
        assert_eq!(err, expected, "{status}");
        assert_eq!(err.retryable(), retryable, "{status}");
        assert_eq!(err.codes(), None);
    }
}

#[tokio::test]
async fn unusable_200_bodies_are_protocol_errors() {
    let pki = pki();
    let smdp = smdp(&pki).await;
    let c = client(&pki, &smdp, false);
    smdp.push(Action::Reply(
        200,
        vec![("content-type", "text/html")],
        "<html>Traceback</html>".into(),
    ));
    let err = c
        .release_profile(&release(&c, ICCID))
        .await
        .expect_err("html");
    assert!(
        matches!(err, Es2CallError::Protocol(Es2Error::Malformed { .. })),
        "{err:?}"
    );
    assert!(!err.retryable());
    smdp.reply(200, SUCCESS);
    assert_eq!(
        c.download_order(&download(&c, ICCID)).await,
        Err(Es2CallError::Protocol(Es2Error::Missing { field: "iccid" }))
    );
    // The SM-DP+ reserved a different profile than the one named.
    smdp.reply(
        200,
        r#"{"header":{"functionExecutionStatus":{"status":"Executed-Success"}},"iccid":"8986990999000001021"}"#,
    );
    assert_eq!(
        c.download_order(&download(&c, ICCID)).await,
        Err(Es2CallError::Protocol(Es2Error::InvalidValue {
            field: "iccid"
        }))
    );
}

#[tokio::test]
async fn refused_connection_is_not_sent() {
    let pki = pki();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let c = Es2Client::new(config(
        &pki,
        format!("https://127.0.0.1:{}", addr.port()),
        false,
    ))
    .expect("c");
    let err = c
        .release_profile(&release(&c, ICCID))
        .await
        .expect_err("refused");
    assert!(
        matches!(err, Es2CallError::NotSent(HttpError::Connect(_))),
        "{err:?}"
    );
    assert!(err.retryable());
    assert!(!err.is_ambiguous());
}

#[tokio::test]
async fn connection_closed_after_the_request_is_ambiguous() {
    let pki = pki();
    let smdp = smdp(&pki).await;
    let c = client(&pki, &smdp, false);
    smdp.push(Action::Close);
    let err = c
        .confirm_order(&confirm(&c, ICCID))
        .await
        .expect_err("closed");
    assert!(
        matches!(
            err,
            Es2CallError::Ambiguous(AmbiguousCause::Transport(HttpError::Io(_)))
        ),
        "{err:?}"
    );
    assert!(err.retryable() && err.is_ambiguous());
    assert_eq!(smdp.seen().len(), 1, "the SM-DP+ did read the request");
}

#[tokio::test]
async fn read_timeout_is_ambiguous() {
    let pki = pki();
    // A TLS peer that completes the handshake, reads the request, and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let acceptor =
        tokio_rustls::TlsAcceptor::from(Arc::new(server_config(&pki.server, &pki.client, false)));
    tokio::spawn(async move {
        if let Ok((tcp, _)) = listener.accept().await {
            if let Ok(mut tls) = acceptor.accept(tcp).await {
                let mut buf = [0u8; 4096];
                let _ = tokio::io::AsyncReadExt::read(&mut tls, &mut buf).await;
                tokio::time::sleep(Duration::from_secs(10)).await;
            }
        }
    });
    let mut cfg = config(&pki, format!("https://127.0.0.1:{}", addr.port()), false);
    cfg.timeout = Duration::from_millis(500);
    let c = Es2Client::new(cfg).expect("c");
    let err = c
        .release_profile(&release(&c, ICCID))
        .await
        .expect_err("slow");
    assert_eq!(
        err,
        Es2CallError::Ambiguous(AmbiguousCause::Transport(HttpError::Timeout))
    );
}

#[tokio::test]
async fn untrusted_client_certificate_fails_at_tls_and_is_not_sent() {
    let pki = pki();
    let stranger = Pki {
        server: TestCert {
            cert_pem: pki.server.cert_pem.clone(),
            key_pem: pki.server.key_pem.clone(),
        },
        client: self_signed(),
    };
    // TLS 1.2 (what most SM-DP+s speak): the server refuses our certificate inside the
    // handshake, before any request byte is sent.
    let smdp12 = start(server_config(&pki.server, &pki.client, true)).await;
    let c = Es2Client::new(config(&stranger, smdp12.url(), false)).expect("c");
    let err = c
        .release_profile(&release(&c, ICCID))
        .await
        .expect_err("untrusted");
    assert!(
        matches!(err, Es2CallError::NotSent(HttpError::Tls(_))),
        "{err:?}"
    );
    assert!(err.retryable());
    assert!(smdp12.seen().is_empty());
    // TLS 1.3: the refusal arrives as an alert after our Finished; still never ambiguous
    // in practice, and never reaches the server's HTTP layer.
    let smdp13 = smdp(&pki).await;
    let c = Es2Client::new(config(&stranger, smdp13.url(), false)).expect("c");
    let err = c
        .release_profile(&release(&c, ICCID))
        .await
        .expect_err("untrusted");
    assert!(
        matches!(
            err,
            Es2CallError::NotSent(HttpError::Tls(_))
                | Es2CallError::Ambiguous(AmbiguousCause::Transport(HttpError::Io(_)))
        ),
        "{err:?}"
    );
    assert!(smdp13.seen().is_empty());
}

#[tokio::test]
async fn untrusted_server_certificate_is_not_sent() {
    let pki = pki();
    let smdp = smdp(&pki).await;
    let other = Pki {
        server: self_signed(),
        client: TestCert {
            cert_pem: pki.client.cert_pem.clone(),
            key_pem: pki.client.key_pem.clone(),
        },
    };
    let c = Es2Client::new(config(&other, smdp.url(), false)).expect("c");
    let err = c
        .release_profile(&release(&c, ICCID))
        .await
        .expect_err("untrusted");
    assert!(
        matches!(err, Es2CallError::NotSent(HttpError::Tls(_))),
        "{err:?}"
    );
    assert!(smdp.seen().is_empty());
}

#[test]
fn plain_http_and_malformed_base_urls_are_rejected_at_new() {
    let pki = pki();
    for url in [
        "http://127.0.0.1:8443",
        "HTTP://smdp.example",
        "ftp://smdp.example",
        "smdp.example",
        "/gsma",
        "",
        "https://",
        "https://smdp.example/?x=1",
        "https://smdp.example/#frag",
        "https://user:pw@smdp.example",
    ] {
        assert_eq!(
            Es2Client::new(config(&pki, url.into(), false)).map(|_| ()),
            Err(Es2TransportError::InvalidBaseUrl),
            "{url}"
        );
    }
    let mut cfg = config(&pki, "https://smdp.example".into(), false);
    cfg.requester_id = String::new();
    assert_eq!(
        Es2Client::new(cfg).map(|_| ()),
        Err(Es2TransportError::InvalidRequesterId)
    );
    let mut cfg = config(&pki, "https://smdp.example".into(), false);
    cfg.client_key_pem =
        Zeroizing::new(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".to_vec());
    let err = Es2Client::new(cfg).expect_err("bad key");
    assert!(
        matches!(err, Es2TransportError::Http(HttpError::Config(_))),
        "{err:?}"
    );
    assert!(!err.to_string().contains("AAAA"));
}

#[tokio::test]
async fn trait_object_dispatches_to_the_client() {
    let pki = pki();
    let smdp = smdp(&pki).await;
    let c = client(&pki, &smdp, false);
    let req = release(&c, ICCID);
    let dynamic: Arc<dyn SmdpClient> = Arc::new(c);
    dynamic.release_profile(&req).await.expect("ok");
    assert_eq!(smdp.seen()[0].path, path::RELEASE_PROFILE);
}

#[tokio::test]
async fn no_secret_in_any_error_display_or_config_debug() {
    let pki = pki();
    let smdp = smdp(&pki).await;
    let c = client(&pki, &smdp, true);
    let mut errors = Vec::new();
    smdp.reply(200, &failed("Failed", "8.2.6", "3.3"));
    errors.push(c.confirm_order(&confirm(&c, ICCID)).await.expect_err("f"));
    smdp.reply(200, &failed("Failed", ICCID, EID));
    errors.push(c.confirm_order(&confirm(&c, ICCID)).await.expect_err("f"));
    smdp.reply(500, &failed("Failed", "8.2.6", "3.3"));
    errors.push(c.confirm_order(&confirm(&c, ICCID)).await.expect_err("500"));
    smdp.reply(404, "");
    errors.push(c.confirm_order(&confirm(&c, ICCID)).await.expect_err("404"));
    smdp.push(Action::Close);
    errors.push(
        c.confirm_order(&confirm(&c, ICCID))
            .await
            .expect_err("close"),
    );
    smdp.reply(
        200,
        &format!(r#"{{"header":{{"functionExecutionStatus":{{"status":"Executed-Success"}}}},"matchingId":"{MATCHING_ID}x","eid":"{EID}"}}"#),
    );
    errors.push(
        c.confirm_order(&confirm(&c, ICCID))
            .await
            .expect_err("bad mid"),
    );
    smdp.reply(200, &format!(r#"{{"header":{ICCID}"#));
    errors.push(
        c.confirm_order(&confirm(&c, ICCID))
            .await
            .expect_err("malformed"),
    );
    let secrets = [ICCID, EID, MATCHING_ID, CC, &pki.client.key_pem[40..80]];
    for e in &errors {
        let shown = e.to_string();
        for s in secrets {
            assert!(!shown.contains(s), "{shown:?} shows a secret");
        }
    }
    let cfg = format!("{:?}", config(&pki, smdp.url(), false));
    assert!(!cfg.contains(&pki.client.key_pem[40..80]), "{cfg}");
    assert!(cfg.contains("<redacted>"));
}

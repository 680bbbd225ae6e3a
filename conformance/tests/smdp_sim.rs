//! Black-box tests of the SM-DP+ simulator over real sockets with mutual TLS: an operator
//! client speaking ES2+ through the codec, and a small operator receiver for the
//! HandleDownloadProgressInfo notifications the simulator sends.

mod common;

use adapters::es2plus::{
    ADMIN_PROTOCOL_HEADER, ConfirmOrderRequest, ConfirmOrderResponse, ConfirmationCode,
    DownloadOrderRequest, DownloadOrderResponse, Es2Error, ExecutionStatus, FinalProfileStatus,
    HeaderOnly, MatchingId, NotificationPoint, ProfileSelector, ReleaseProfileRequest,
    RequestHeader, ResultDataKind, decode_notification, decode_response, encode_cancel_order,
    encode_confirm_order, encode_download_order, encode_release_profile, path,
};
use adapters::http::{HttpClient, HttpResponse};
use bytes::Bytes;
use common::{Id, Pki};
use conformance::smdp_sim::{
    self, Action, CustomerAction, Function, InstallResult, MalformedAnswer, NotifierIdentity,
    OperatorAccount, ProfileSeed, ProfileState, Quirks, RetryPolicy, Rule, SmdpAddressEcho,
    SmdpSimConfig, SmdpSimHandle, UnmappedCertPolicy, cert_fingerprint_pem, server_tls_config,
};
use http_body_util::BodyExt;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use sim_profiles::profile::{Package, validate};
use sim_profiles::{Eid, Iccid, Imsi, Key128};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

const OP: &str = "mvno-a";
const TYPE: &str = "CONSUMER_V1";
const WAIT: Duration = Duration::from_secs(5);

/// Everything one test needs: the PKI, the identities and a receiver.
struct World {
    pki: Pki,
    smdp_server: Id,
    operator: Id,
    stranger: Id,
    smdp_client: Id,
    receiver: Receiver,
}

impl World {
    async fn new(script: Vec<u16>) -> Self {
        let pki = Pki::new("test CA");
        let receiver_id = pki.issue("operator receiver");
        let smdp_client = pki.issue("smdp notifier");
        let tls = server_tls_config(
            receiver_id.cert_pem.as_bytes(),
            receiver_id.key_pem.as_bytes(),
            pki.ca_pem.as_bytes(),
        )
        .expect("receiver tls");
        let receiver = Receiver::start(tls, script).await;
        Self {
            smdp_server: pki.issue("smdp"),
            operator: pki.issue(OP),
            stranger: pki.issue("stranger"),
            smdp_client,
            receiver,
            pki,
        }
    }

    fn config(&self) -> SmdpSimConfig {
        let tls = server_tls_config(
            self.smdp_server.cert_pem.as_bytes(),
            self.smdp_server.key_pem.as_bytes(),
            self.pki.ca_pem.as_bytes(),
        )
        .expect("smdp tls");
        let mut config = SmdpSimConfig::new(
            tls,
            adapters::es2plus::Fqdn::new("smdp.example.com").expect("fqdn"),
        );
        config.operators = vec![OperatorAccount {
            name: OP.to_owned(),
            cert_sha256: cert_fingerprint_pem(self.operator.cert_pem.as_bytes()).expect("fp"),
            notification_url: Some(format!(
                "https://127.0.0.1:{}{}",
                self.receiver.addr.port(),
                path::HANDLE_DOWNLOAD_PROGRESS_INFO
            )),
        }];
        config.notifier = Some(NotifierIdentity {
            cert_pem: self.smdp_client.cert_pem.clone().into_bytes(),
            key_pem: self.smdp_client.key_pem.clone().into_bytes(),
            root_ca_pem: self.pki.ca_pem.clone().into_bytes(),
        });
        config.notification_retry = RetryPolicy {
            attempts: 3,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(20),
            timeout: Duration::from_secs(5),
        };
        let mut seed = ProfileSeed::new(iccid(1), TYPE, OP);
        seed.imsi = Some("001010000000001".parse::<Imsi>().expect("imsi"));
        seed.ki = Some(Key128::from_hex("465B5CE8B199B49FAA5F0A2EE238A6BC").expect("ki"));
        seed.opc = Some(Key128::from_hex("CD63CB71954A9F4E48A5994E37A02BAF").expect("opc"));
        config.profiles = vec![
            seed,
            ProfileSeed::new(iccid(2), TYPE, OP),
            ProfileSeed::new(iccid(3), TYPE, OP),
        ];
        config
    }

    fn client(&self, id: Option<&Id>) -> HttpClient {
        let mut b = HttpClient::builder()
            .add_root_pem(self.pki.ca_pem.as_bytes())
            .request_timeout(Duration::from_secs(5));
        if let Some(id) = id {
            b = b.identity_pem(id.cert_pem.as_bytes(), id.key_pem.as_bytes());
        }
        b.build().expect("client")
    }
}

fn iccid(n: u32) -> Iccid {
    Iccid::from_payload(&format!("8986990999{n:08}")).expect("iccid")
}

fn eid() -> Eid {
    Eid::from_body("890440400000000000000000000001").expect("eid")
}

fn header() -> RequestHeader {
    RequestHeader::new(OP, "call-1")
}

// ---------------------------------------------------------------------------------------
// The operator's notification receiver

struct Receiver {
    addr: SocketAddr,
    bodies: Arc<Mutex<Vec<String>>>,
}

impl Receiver {
    /// Answers each notification with the next status of `script`, then 204.
    async fn start(tls: Arc<rustls::ServerConfig>, script: Vec<u16>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let acceptor = TlsAcceptor::from(tls);
        let seen = Arc::clone(&bodies);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let seen = Arc::clone(&seen);
                let script = Arc::clone(&script);
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let svc = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let seen = Arc::clone(&seen);
                        let script = Arc::clone(&script);
                        async move {
                            let body = req.into_body().collect().await?.to_bytes();
                            seen.lock()
                                .expect("lock")
                                .push(String::from_utf8_lossy(&body).into_owned());
                            let status = script.lock().expect("lock").pop_front().unwrap_or(204);
                            let mut resp =
                                http::Response::new(http_body_util::Full::new(Bytes::new()));
                            *resp.status_mut() =
                                http::StatusCode::from_u16(status).expect("status");
                            resp.headers_mut().insert(
                                ADMIN_PROTOCOL_HEADER,
                                http::HeaderValue::from_static("gsma/rsp/v2.2.0"),
                            );
                            Ok::<_, hyper::Error>(resp)
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), svc)
                        .await;
                });
            }
        });
        Self { addr, bodies }
    }

    fn bodies(&self) -> Vec<String> {
        self.bodies.lock().expect("lock").clone()
    }
}

// ---------------------------------------------------------------------------------------
// ES2+ client helpers

async fn post(client: &HttpClient, sim: &SmdpSimHandle, path: &str, body: Vec<u8>) -> HttpResponse {
    try_post(client, sim, path, body).await.expect("exchange")
}

async fn try_post(
    client: &HttpClient,
    sim: &SmdpSimHandle,
    path: &str,
    body: Vec<u8>,
) -> Result<HttpResponse, adapters::http::HttpError> {
    let headers = [
        ("Content-Type", "application/json".to_owned()),
        (ADMIN_PROTOCOL_HEADER, "gsma/rsp/v2.2.0".to_owned()),
    ];
    client
        .post(&format!("{}{path}", sim.url()), &headers, Bytes::from(body))
        .await
}

fn download_order(n: u32) -> Vec<u8> {
    encode_download_order(&DownloadOrderRequest {
        header: header(),
        eid: Some(eid()),
        profile: ProfileSelector::Iccid(iccid(n)),
    })
}

fn confirm_order(n: u32, cc: Option<&str>) -> Vec<u8> {
    encode_confirm_order(&ConfirmOrderRequest {
        header: header(),
        iccid: iccid(n),
        eid: None,
        matching_id: Some(MatchingId::new(&format!("MID-{n}")).expect("mid")),
        confirmation_code: cc.map(|c| ConfirmationCode::new(c).expect("cc")),
        smds_address: None,
        release_flag: true,
    })
}

/// DownloadOrder + ConfirmOrder(releaseFlag true) for profile `n`.
async fn reserve_and_release(client: &HttpClient, sim: &SmdpSimHandle, n: u32, cc: Option<&str>) {
    let r = post(client, sim, path::DOWNLOAD_ORDER, download_order(n)).await;
    decode_response::<DownloadOrderResponse>(r.status, &r.body).expect("download order");
    let r = post(client, sim, path::CONFIRM_ORDER, confirm_order(n, cc)).await;
    decode_response::<ConfirmOrderResponse>(r.status, &r.body).expect("confirm order");
}

fn failed_codes(r: &HttpResponse) -> (String, String) {
    match decode_response::<HeaderOnly>(r.status, &r.body) {
        Err(Es2Error::Failed {
            subject_code,
            reason_code,
            ..
        }) => (subject_code, reason_code),
        other => panic!("expected Failed, got {other:?}"),
    }
}

fn pair(s: &str, r: &str) -> (String, String) {
    (s.to_owned(), r.to_owned())
}

// ---------------------------------------------------------------------------------------
// Tests

#[tokio::test]
async fn full_cycle_with_notifications_and_a_personalised_package() {
    let world = World::new(vec![]).await;
    let mut config = world.config();
    config.smdp_address_echo = SmdpAddressEcho::Same;
    let sim = smdp_sim::start(config).await.expect("start");
    let client = world.client(Some(&world.operator));

    let r = post(&client, &sim, path::DOWNLOAD_ORDER, download_order(1)).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.headers
            .get(ADMIN_PROTOCOL_HEADER)
            .and_then(|v| v.to_str().ok()),
        Some("gsma/rsp/v2.2.0")
    );
    let dl = decode_response::<DownloadOrderResponse>(r.status, &r.body).expect("ok");
    assert_eq!(dl.data.iccid, iccid(1));
    assert_eq!(
        sim.profile(&iccid(1)).map(|p| p.state),
        Some(ProfileState::Linked)
    );

    let r = post(
        &client,
        &sim,
        path::CONFIRM_ORDER,
        confirm_order(1, Some("482916")),
    )
    .await;
    let co = decode_response::<ConfirmOrderResponse>(r.status, &r.body).expect("ok");
    assert_eq!(
        co.data.matching_id.as_ref().map(MatchingId::as_str),
        Some("MID-1")
    );
    assert_eq!(co.data.eid, Some(eid()));
    assert_eq!(
        co.data.smdp_address.as_ref().map(|f| f.as_str()),
        Some("smdp.example.com")
    );
    assert_eq!(
        sim.profile(&iccid(1)).map(|p| p.state),
        Some(ProfileState::Released)
    );

    // The customer: CC, download, install.
    assert_eq!(
        sim.download(&iccid(1)).err(),
        Some(smdp_sim::codes::CC_MISSING)
    );
    let out = sim.cc_attempt(&iccid(1), "482916").expect("cc");
    assert_eq!(out.refused, None);
    sim.download(&iccid(1)).expect("download");
    sim.install(&iccid(1), InstallResult::Success)
        .expect("install");
    assert_eq!(
        sim.profile(&iccid(1)).map(|p| p.state),
        Some(ProfileState::Installed)
    );

    let sent = sim.wait_for_notifications(2, WAIT).await;
    assert_eq!(sent.len(), 2);
    assert!(
        sent.iter()
            .all(|n| n.delivered && n.statuses == vec![Some(204)])
    );
    let bodies = world.receiver.bodies();
    assert_eq!(bodies.len(), 2);
    let three = decode_notification(bodies[0].as_bytes()).expect("point 3");
    let four = decode_notification(bodies[1].as_bytes()).expect("point 4");
    assert_eq!(three.point, NotificationPoint::BppDownload);
    assert_eq!(four.point, NotificationPoint::BppInstallation);
    assert_eq!(four.iccid, iccid(1));
    assert_eq!(four.profile_type.as_deref(), Some(TYPE));
    assert!(four.point_status.status.is_success());
    match four.result_data.map(|r| r.kind) {
        Some(ResultDataKind::FinalResult(der)) => assert_eq!(der[2], 0xA0),
        other => panic!("resultData {other:?}"),
    }

    // The package recorded at download decodes, validates and carries the seeded values.
    let der = sim.package(&iccid(1)).expect("package");
    let package = Package::decode(&der).expect("decodes");
    assert_eq!(validate(&package), vec![]);
    assert_eq!(package.header().map(|h| h.iccid.clone()), Some(iccid(1)));
    assert_eq!(package.mf().and_then(|m| m.iccid().ok()), Some(iccid(1)));
    assert_eq!(
        package
            .usim()
            .and_then(|u| u.imsi().ok())
            .map(|i| i.to_string()),
        Some("001010000000001".to_owned())
    );
    // And the admin API serves the same bytes.
    let got = client
        .get(
            &format!("{}/sim/profiles/{}/package", sim.url(), iccid(1)),
            &[],
        )
        .await
        .expect("get");
    assert_eq!((got.status, got.body.to_vec()), (200, der));
    sim.shutdown().await;
}

#[tokio::test]
async fn release_profile_cancel_order_and_failures_over_the_wire() {
    let world = World::new(vec![]).await;
    let sim = smdp_sim::start(world.config()).await.expect("start");
    let client = world.client(Some(&world.operator));
    let r = post(&client, &sim, path::DOWNLOAD_ORDER, download_order(2)).await;
    decode_response::<DownloadOrderResponse>(r.status, &r.body).expect("ok");
    // Duplicate order: 8.2.1/3.3.
    let r = post(&client, &sim, path::DOWNLOAD_ORDER, download_order(2)).await;
    assert_eq!(failed_codes(&r), pair("8.2.1", "3.3"));
    // Release before confirm: 8.2.1/3.5.
    let release = encode_release_profile(&ReleaseProfileRequest {
        header: header(),
        iccid: iccid(2),
    });
    let r = post(&client, &sim, path::RELEASE_PROFILE, release.clone()).await;
    assert_eq!(failed_codes(&r), pair("8.2.1", "3.5"));
    let cancel = encode_cancel_order(&adapters::es2plus::CancelOrderRequest {
        header: header(),
        iccid: iccid(2),
        eid: Some(eid()),
        matching_id: None,
        final_profile_status_indicator: FinalProfileStatus::Unavailable,
    });
    let r = post(&client, &sim, path::CANCEL_ORDER, cancel).await;
    decode_response::<HeaderOnly>(r.status, &r.body).expect("cancel ok");
    assert_eq!(
        sim.profile(&iccid(2)).map(|p| p.state),
        Some(ProfileState::Unavailable)
    );
    // Unknown ICCID: 8.2.1/3.9; missing indicator: 8.2.1/2.2; neither iccid nor type: 8.2.1/2.3.
    let r = post(&client, &sim, path::DOWNLOAD_ORDER, download_order(77)).await;
    assert_eq!(failed_codes(&r), pair("8.2.1", "3.9"));
    let body = format!(
        r#"{{"header":{{"functionRequesterIdentifier":"mvno-a","functionCallIdentifier":"x"}},"iccid":"{}"}}"#,
        iccid(3)
    );
    let r = post(&client, &sim, path::CANCEL_ORDER, body.into_bytes()).await;
    assert_eq!(failed_codes(&r), pair("8.2.1", "2.2"));
    let body =
        br#"{"header":{"functionRequesterIdentifier":"mvno-a","functionCallIdentifier":"x"}}"#;
    let r = post(&client, &sim, path::DOWNLOAD_ORDER, body.to_vec()).await;
    assert_eq!(failed_codes(&r), pair("8.2.1", "2.3"));
    // Requester identifier not matching the certificate: 1.1/1.2.
    let body = br#"{"header":{"functionRequesterIdentifier":"mvno-z","functionCallIdentifier":"x"},"profileType":"CONSUMER_V1"}"#;
    let r = post(&client, &sim, path::DOWNLOAD_ORDER, body.to_vec()).await;
    assert_eq!(failed_codes(&r), pair("1.1", "1.2"));
    assert_eq!(sim.counts().requests.get(Function::DownloadOrder), 5);
    sim.shutdown().await;
}

#[tokio::test]
async fn malformed_input_answers() {
    let world = World::new(vec![]).await;
    let sim = smdp_sim::start(world.config()).await.expect("start");
    let client = world.client(Some(&world.operator));
    let r = post(&client, &sim, path::CONFIRM_ORDER, b"{not json".to_vec()).await;
    assert_eq!(failed_codes(&r), pair("1.3.1", "2.1"));
    assert!(r.headers.contains_key(ADMIN_PROTOCOL_HEADER));
    let r = post(
        &client,
        &sim,
        path::CONFIRM_ORDER,
        br#"{"iccid":"x"}"#.to_vec(),
    )
    .await;
    assert_eq!(failed_codes(&r), pair("1.3.1", "2.2"));
    // Content-Type compared by media type: a charset is fine, text/plain is not.
    let headers = [
        ("Content-Type", "application/json; charset=UTF-8".to_owned()),
        (ADMIN_PROTOCOL_HEADER, "gsma/rsp/v2.2.0".to_owned()),
    ];
    let url = format!("{}{}", sim.url(), path::DOWNLOAD_ORDER);
    let r = client
        .post(&url, &headers, Bytes::from(download_order(3)))
        .await
        .expect("post");
    decode_response::<DownloadOrderResponse>(r.status, &r.body).expect("charset accepted");
    let headers = [
        ("Content-Type", "text/plain".to_owned()),
        (ADMIN_PROTOCOL_HEADER, "gsma/rsp/v2.2.0".to_owned()),
    ];
    let r = client
        .post(&url, &headers, Bytes::from(download_order(3)))
        .await
        .expect("post");
    assert_eq!(failed_codes(&r), pair("1.3.1", "2.1"));
    // GET on an ES2+ path: 405 with the protocol header.
    let r = client.get(&url, &[]).await.expect("get");
    assert_eq!(r.status, 405);
    assert!(r.headers.contains_key(ADMIN_PROTOCOL_HEADER));
    sim.shutdown().await;

    let mut config = world.config();
    config.malformed = MalformedAnswer::Http400;
    let sim = smdp_sim::start(config).await.expect("start");
    let r = post(&client, &sim, path::CONFIRM_ORDER, b"{not json".to_vec()).await;
    assert_eq!(r.status, 400);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_client_without_certificate_is_refused_at_tls() {
    let world = World::new(vec![]).await;
    let sim = smdp_sim::start(world.config()).await.expect("start");
    let anonymous = world.client(None);
    let err = try_post(&anonymous, &sim, path::DOWNLOAD_ORDER, download_order(1))
        .await
        .expect_err("refused");
    assert!(
        matches!(
            err,
            adapters::http::HttpError::Tls(_) | adapters::http::HttpError::Io(_)
        ),
        "{err:?}"
    );
    assert_eq!(sim.counts().requests.get(Function::DownloadOrder), 0);
    assert_eq!(
        sim.profile(&iccid(1)).map(|p| p.state),
        Some(ProfileState::Available)
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn an_unmapped_certificate_gets_1_1_1_2_or_is_rejected() {
    let world = World::new(vec![]).await;
    let sim = smdp_sim::start(world.config()).await.expect("start");
    let stranger = world.client(Some(&world.stranger));
    let r = post(&stranger, &sim, path::DOWNLOAD_ORDER, download_order(1)).await;
    assert_eq!(failed_codes(&r), pair("1.1", "1.2"));
    assert_eq!(sim.counts().unmapped_certificate, 1);
    assert_eq!(
        sim.profile(&iccid(1)).map(|p| p.state),
        Some(ProfileState::Available)
    );
    sim.shutdown().await;

    let mut config = world.config();
    config.unmapped_cert = UnmappedCertPolicy::Reject;
    let sim = smdp_sim::start(config).await.expect("start");
    assert!(
        try_post(&stranger, &sim, path::DOWNLOAD_ORDER, download_order(1))
            .await
            .is_err()
    );
    assert_eq!(sim.counts().requests.get(Function::DownloadOrder), 0);
    // The operator's own certificate still works.
    let client = world.client(Some(&world.operator));
    let r = post(&client, &sim, path::DOWNLOAD_ORDER, download_order(1)).await;
    decode_response::<DownloadOrderResponse>(r.status, &r.body).expect("ok");
    sim.shutdown().await;
}

#[tokio::test]
async fn commit_then_drop_leaves_the_state_changed() {
    let world = World::new(vec![]).await;
    let sim = smdp_sim::start(world.config()).await.expect("start");
    let client = world.client(Some(&world.operator));
    let r = post(&client, &sim, path::DOWNLOAD_ORDER, download_order(1)).await;
    decode_response::<DownloadOrderResponse>(r.status, &r.body).expect("ok");
    sim.push_rule(Rule::once(Function::ConfirmOrder, Action::DropAfterCommit));
    let lost = try_post(&client, &sim, path::CONFIRM_ORDER, confirm_order(1, None)).await;
    assert!(lost.is_err(), "{lost:?}");
    assert_eq!(
        sim.profile(&iccid(1)).map(|p| p.state),
        Some(ProfileState::Released)
    );
    assert_eq!(sim.counts().injected.drop_after_commit, 1);
    // The retry with identical parameters replays (idempotent rule).
    let r = post(&client, &sim, path::CONFIRM_ORDER, confirm_order(1, None)).await;
    decode_response::<ConfirmOrderResponse>(r.status, &r.body).expect("replay");
    sim.shutdown().await;
}

#[tokio::test]
async fn injected_response_faults() {
    let world = World::new(vec![]).await;
    let sim = smdp_sim::start(world.config()).await.expect("start");
    let client = world.client(Some(&world.operator));
    sim.push_rule(Rule::once(
        Function::DownloadOrder,
        Action::ServerErrorBeforeCommit,
    ));
    let r = post(&client, &sim, path::DOWNLOAD_ORDER, download_order(1)).await;
    assert_eq!(r.status, 500);
    assert_eq!(
        sim.profile(&iccid(1)).map(|p| p.state),
        Some(ProfileState::Available)
    );
    sim.push_rule(Rule::once(
        Function::DownloadOrder,
        Action::ServerErrorAfterCommit,
    ));
    let r = post(&client, &sim, path::DOWNLOAD_ORDER, download_order(1)).await;
    assert_eq!(r.status, 500);
    assert_eq!(
        sim.profile(&iccid(1)).map(|p| p.state),
        Some(ProfileState::Linked)
    );
    sim.push_rule(Rule::once(Function::DownloadOrder, Action::Expired));
    let r = post(&client, &sim, path::DOWNLOAD_ORDER, download_order(2)).await;
    match decode_response::<DownloadOrderResponse>(r.status, &r.body) {
        Err(Es2Error::Failed { status, .. }) => assert_eq!(status, ExecutionStatus::Expired),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        sim.profile(&iccid(2)).map(|p| p.state),
        Some(ProfileState::Available)
    );
    sim.push_rule(Rule::once(Function::DownloadOrder, Action::WithWarning));
    let r = post(&client, &sim, path::DOWNLOAD_ORDER, download_order(2)).await;
    let ok =
        decode_response::<DownloadOrderResponse>(r.status, &r.body).expect("warning is success");
    assert_eq!(ok.status.status, ExecutionStatus::ExecutedWithWarning);
    sim.push_rule(Rule::once(
        Function::DownloadOrder,
        Action::WrongAdminProtocol,
    ));
    let r = post(&client, &sim, path::DOWNLOAD_ORDER, download_order(3)).await;
    assert_eq!(
        r.headers
            .get(ADMIN_PROTOCOL_HEADER)
            .and_then(|v| v.to_str().ok()),
        Some("gsma/rsp/v1.0.0")
    );
    sim.push_rule(Rule::once(
        Function::CancelOrder,
        Action::ContentTypeCharset,
    ));
    let body = encode_cancel_order(&adapters::es2plus::CancelOrderRequest {
        header: header(),
        iccid: iccid(3),
        eid: None,
        matching_id: None,
        final_profile_status_indicator: FinalProfileStatus::Available,
    });
    let r = post(&client, &sim, path::CANCEL_ORDER, body).await;
    assert_eq!(
        r.headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/json;charset=UTF-8")
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn quirky_notifications_are_emitted_as_configured() {
    let world = World::new(vec![]).await;
    let sim = smdp_sim::start(world.config()).await.expect("start");
    let client = world.client(Some(&world.operator));
    reserve_and_release(&client, &sim, 2, None).await;
    sim.set_quirks(Quirks {
        timestamp_camel_case: true,
        point_id_as_string: true,
        pad_iccid: true,
        omit_eid: true,
        vendor_members: true,
        duplicate: true,
        install_before_download: true,
        extra_points: vec![5, 100],
    });
    sim.download(&iccid(2)).expect("download");
    sim.install(&iccid(2), InstallResult::Success)
        .expect("install");
    let sent = sim.wait_for_notifications(8, WAIT).await;
    let points: Vec<u32> = sent.iter().map(|n| n.point).collect();
    assert_eq!(points, vec![4, 4, 5, 5, 100, 100, 3, 3]);
    let bodies = world.receiver.bodies();
    assert_eq!(bodies.len(), 8);
    for body in &bodies {
        let v: serde_json::Value = serde_json::from_str(body).expect("json");
        assert!(
            v.get("timeStamp").is_some() && v.get("timestamp").is_none(),
            "{body}"
        );
        assert!(v["notificationPointId"].is_string(), "{body}");
        assert_eq!(v["iccid"].as_str().map(|s| s.ends_with('F')), Some(true));
        assert!(v.get("eid").is_none());
        assert!(v.get("deviceInfo").is_some());
        // Still acceptable to a lenient receiver.
        let n = decode_notification(body.as_bytes()).expect("lenient decode");
        assert_eq!(n.iccid, iccid(2));
    }
    assert_eq!(bodies[0], bodies[1], "duplicates are identical");
    sim.shutdown().await;
}

#[tokio::test]
async fn notifications_are_retried_until_204() {
    let world = World::new(vec![500, 503]).await;
    let sim = smdp_sim::start(world.config()).await.expect("start");
    let client = world.client(Some(&world.operator));
    reserve_and_release(&client, &sim, 3, None).await;
    let out = sim
        .act(&iccid(3), CustomerAction::Eligibility(false))
        .expect("eligibility");
    assert_eq!(out.refused, Some(smdp_sim::codes::NOT_ELIGIBLE));
    let sent = sim.wait_for_notifications(1, WAIT).await;
    assert_eq!(sent[0].statuses, vec![Some(500), Some(503), Some(204)]);
    assert!(sent[0].delivered);
    assert_eq!(world.receiver.bodies().len(), 3);
    let n = decode_notification(world.receiver.bodies()[2].as_bytes()).expect("decode");
    assert_eq!(n.point, NotificationPoint::EligibilityAndRetryLimit);
    assert_eq!(
        n.point_status
            .status_code_data
            .map(|d| (d.subject_code, d.reason_code)),
        Some(pair("8.2.5", "4.3"))
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn admin_api_drives_customer_actions_and_dumps_state() {
    let world = World::new(vec![]).await;
    let sim = smdp_sim::start(world.config()).await.expect("start");
    let client = world.client(Some(&world.operator));
    reserve_and_release(&client, &sim, 1, Some("1234")).await;
    let base = sim.url();
    let json = [("Content-Type", "application/json".to_owned())];
    let r = client
        .post(
            &format!("{base}/sim/profiles/{}/download", iccid(1)),
            &json,
            Bytes::new(),
        )
        .await
        .expect("post");
    assert_eq!(r.status, 409, "CC not verified yet");
    let r = client
        .post(
            &format!("{base}/sim/profiles/{}/cc", iccid(1)),
            &json,
            Bytes::from_static(br#"{"code":"1234"}"#),
        )
        .await
        .expect("post");
    assert_eq!(r.status, 200);
    for (action, body) in [
        ("download", ""),
        (
            "install",
            r#"{"failure":{"bpp_command_id":5,"error_reason":10}}"#,
        ),
    ] {
        let r = client
            .post(
                &format!("{base}/sim/profiles/{}/{action}", iccid(1)),
                &json,
                Bytes::from(body.to_owned()),
            )
            .await
            .expect("post");
        assert_eq!(r.status, 200, "{action}: {:?}", r.body);
    }
    let r = client
        .get(&format!("{base}/sim/state"), &[])
        .await
        .expect("state");
    let dump: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
    let p = &dump["profiles"][0];
    assert_eq!(p["state"], "Error");
    assert_eq!(p["cc_required"], true);
    assert!(
        !String::from_utf8_lossy(&r.body).contains("1234"),
        "no CC in the dump"
    );
    let sent = sim.wait_for_notifications(2, WAIT).await;
    let four = decode_notification(sent[1].body.as_bytes()).expect("decode");
    assert_eq!(
        four.point_status
            .status_code_data
            .map(|d| (d.subject_code, d.reason_code)),
        Some(pair("8.1", "4.8"))
    );
    match four.result_data.map(|r| r.kind) {
        Some(ResultDataKind::FinalResult(der)) => {
            assert_eq!(
                der,
                vec![0xA2, 0x08, 0xA1, 0x06, 0x80, 0x01, 5, 0x81, 0x01, 10]
            );
        }
        other => panic!("{other:?}"),
    }
    // Faults and quirks through the admin API.
    let r = client
        .request(
            http::Method::PUT,
            &format!("{base}/sim/faults"),
            &json,
            Bytes::from_static(br#"{"latency_ms": 1, "expired": 0.5}"#),
        )
        .await
        .expect("put");
    assert_eq!(r.status, 204);
    assert_eq!(sim.faults().expired, 0.5);
    let r = client
        .post(
            &format!("{base}/sim/rules"),
            &json,
            Bytes::from_static(br#"{"function":"release_profile","action":"timeout","times":2}"#),
        )
        .await
        .expect("post");
    assert_eq!(r.status, 204);
    assert_eq!(
        sim.rules(),
        vec![Rule {
            function: Some(Function::ReleaseProfile),
            action: Action::Timeout,
            times: 2
        }]
    );
    let r = client
        .request(
            http::Method::PUT,
            &format!("{base}/sim/quirks"),
            &json,
            Bytes::from_static(br#"{"pad_iccid": true}"#),
        )
        .await
        .expect("put");
    assert_eq!(r.status, 204);
    assert!(sim.quirks().pad_iccid);
    sim.shutdown().await;
}

#[tokio::test]
async fn timers_run_on_the_tokio_clock() {
    let world = World::new(vec![]).await;
    let mut config = world.config();
    config.notifier = None;
    config.error_recovery = Some(Duration::from_secs(3600));
    let sim = smdp_sim::start(config).await.expect("start");
    let client = world.client(Some(&world.operator));
    reserve_and_release(&client, &sim, 1, None).await;
    reserve_and_release(&client, &sim, 2, None).await;
    tokio::time::pause();
    sim.schedule_download_install(&iccid(1), Duration::from_secs(600));
    sim.act(
        &iccid(2),
        CustomerAction::CancelSession(smdp_sim::CancelReason::EndUserRejection),
    )
    .expect("cancel session");
    assert_eq!(
        sim.profile(&iccid(2)).map(|p| p.state),
        Some(ProfileState::Error)
    );
    tokio::time::advance(Duration::from_secs(599)).await;
    assert_eq!(
        sim.profile(&iccid(1)).map(|p| p.state),
        Some(ProfileState::Released)
    );
    tokio::time::advance(Duration::from_secs(2)).await;
    settle().await;
    assert_eq!(
        sim.profile(&iccid(1)).map(|p| p.state),
        Some(ProfileState::Installed)
    );
    tokio::time::advance(Duration::from_secs(3600)).await;
    settle().await;
    let p = sim.profile(&iccid(2)).expect("profile");
    assert_eq!((p.state, p.matching_id), (ProfileState::Available, None));
    // Logged without a URL: nothing was sent.
    assert!(
        sim.notifications()
            .iter()
            .all(|n| n.url.is_none() && !n.delivered)
    );
    tokio::time::resume();
    sim.shutdown().await;
}

/// Lets woken tasks run (paused clock, current-thread runtime).
async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn strict_and_lenient_parsing_and_padded_iccids() {
    let world = World::new(vec![]).await;
    let client = world.client(Some(&world.operator));
    let misspelt = |n: u32| {
        format!(
            r#"{{"header":{{"functionRequesterIdentifier":"mvno-a","functionCallIdentifier":"c"}},
                "iccid":"{}F","releaseFlag":false,"matchingId":"MID-{n}","comfirmationCode":"1234"}}"#,
            iccid(n)
        )
    };
    for lenient in [false, true] {
        let mut config = world.config();
        config.lenient = lenient;
        let sim = smdp_sim::start(config).await.expect("start");
        // A trailing F names the same profile.
        let body = format!(
            r#"{{"header":{{"functionRequesterIdentifier":"mvno-a","functionCallIdentifier":"d"}},"iccid":"{}F"}}"#,
            iccid(1)
        );
        let r = post(&client, &sim, path::DOWNLOAD_ORDER, body.into_bytes()).await;
        let dl = decode_response::<DownloadOrderResponse>(r.status, &r.body).expect("ok");
        assert_eq!(dl.data.iccid, iccid(1));
        let r = post(&client, &sim, path::CONFIRM_ORDER, misspelt(1).into_bytes()).await;
        decode_response::<ConfirmOrderResponse>(r.status, &r.body).expect("confirmed");
        let p = sim.profile(&iccid(1)).expect("profile");
        assert_eq!(
            p.cc_hash.is_some(),
            lenient,
            "misspelt CC read only when lenient"
        );
        // No X-Admin-Protocol: refused 1.3.2/2.2 when strict, accepted when lenient.
        let url = format!("{}{}", sim.url(), path::DOWNLOAD_ORDER);
        let headers = [("Content-Type", "application/json".to_owned())];
        let r = client
            .post(&url, &headers, Bytes::from(download_order(2)))
            .await
            .expect("post");
        if lenient {
            decode_response::<DownloadOrderResponse>(r.status, &r.body).expect("accepted");
        } else {
            assert_eq!(failed_codes(&r), pair("1.3.2", "2.2"));
        }
        sim.shutdown().await;
    }
}

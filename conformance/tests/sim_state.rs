//! Simulators that keep their state: the HLR and SM-DP+ simulators started on a state
//! file, driven over real sockets, stopped, and started again on the same file resume as
//! they were (subscribers with their keys; profile states and bindings; notifications not
//! yet delivered are delivered after the restart). Without a file, a restart starts empty.

mod common;

use adapters::cai3g::codec::Password;
use adapters::cai3g::{Cai3gConfig, Cai3gHlr};
use adapters::es2plus::{
    ADMIN_PROTOCOL_HEADER, ConfirmOrderRequest, ConfirmOrderResponse, DownloadOrderRequest,
    DownloadOrderResponse, MatchingId, ProfileSelector, RequestHeader, decode_notification,
    decode_response, encode_confirm_order, encode_download_order, path,
};
use adapters::hlr::{
    AuthData, Barring, FaultClass, HlrProfile, HlrProvisioner, KiMaterial, SubscriberSpec,
};
use adapters::http::HttpClient;
use bytes::Bytes;
use common::{Id, Pki};
use conformance::hlr_sim::{self, HlrSimConfig};
use conformance::smdp_sim::{
    self, NotifierIdentity, OperatorAccount, ProfileSeed, ProfileState, RetryPolicy, SmdpSimConfig,
    SmdpSimHandle, cert_fingerprint_pem, server_tls_config,
};
use http_body_util::BodyExt;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use sim_profiles::{Iccid, Imsi, Key128, Msisdn};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

const USER: &str = "gw";
const PWD: &str = "pw";

fn spec(imsi: &str, number: Option<&str>, ki: KiMaterial) -> SubscriberSpec {
    SubscriberSpec {
        imsi: imsi.parse().expect("IMSI"),
        msisdn: number.map(|n| n.parse().expect("MSISDN")),
        auth: AuthData {
            ki,
            opc: None,
            fsetind: 1,
        },
        profile: HlrProfile { profile_id: 12 },
        barring: Barring::default(),
    }
}

async fn hlr_on(file: Option<&Path>) -> (hlr_sim::HlrSimHandle, Cai3gHlr) {
    let mut config = HlrSimConfig::new(USER, PWD);
    config.state_file = file.map(Path::to_owned);
    let sim = hlr_sim::start(config).await.expect("HLR simulator");
    let mut c = Cai3gConfig::new(sim.url(), USER, Password::new(PWD.into()));
    c.request_timeout = Duration::from_secs(5);
    (sim, Cai3gHlr::new(c).expect("adapter"))
}

#[tokio::test]
async fn hlr_subscribers_and_their_keys_survive_a_restart_on_the_state_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("sims").join("hlr.state");
    let clear = spec(
        "001010000000001",
        Some("4915100000001"),
        KiMaterial::Clear(Key128::from_bytes([1; 16])),
    );
    let wrapped = spec(
        "001010000000002",
        Some("4915100000002"),
        KiMaterial::Encrypted {
            ciphertext: Key128::from_bytes([2; 16]),
            a4ind: 2,
            adkey: 7,
        },
    );
    let gone = spec(
        "001010000000003",
        Some("4915100000003"),
        KiMaterial::Clear(Key128::from_bytes([3; 16])),
    );

    let (sim, hlr) = hlr_on(Some(&file)).await;
    assert!(!sim.resumed(), "a new file holds nothing to resume");
    for s in [&clear, &wrapped, &gone] {
        hlr.provision(s).await.expect("provision");
    }
    let barred = Barring {
        outgoing: true,
        incoming: true,
    };
    hlr.set_barring(&clear.imsi, barred).await.expect("bar");
    let new_number: Msisdn = "4915100000009".parse().expect("MSISDN");
    let old_number = wrapped.msisdn.clone().expect("number");
    hlr.change_msisdn(&wrapped.imsi, &old_number, &new_number)
        .await
        .expect("number change");
    hlr.deprovision(&gone).await.expect("deprovision");
    let before = sim.subscribers();
    assert_eq!(before.len(), 2, "{before:?}");
    hlr.shutdown().await;
    sim.shutdown().await;

    let (sim, hlr) = hlr_on(Some(&file)).await;
    assert!(sim.resumed());
    assert_eq!(
        sim.subscribers(),
        before,
        "every object as it was, keys included"
    );
    let h = sim.hlr(&clear.imsi).expect("subscription");
    assert!(h.obo && h.obi, "barring kept");
    // The adapter compares before it writes: the same card is "already there", a card
    // with another key is a conflict, so the keys were kept exactly.
    hlr.provision(&clear).await.expect("same data: idempotent");
    let mut other_key = clear.clone();
    other_key.auth.ki = KiMaterial::Clear(Key128::from_bytes([9; 16]));
    let e = hlr.provision(&other_key).await.expect_err("another Ki");
    assert_eq!(e.class, FaultClass::Conflict, "{e}");
    // The freed number is free, the moved one is held.
    let mut takes_old = gone.clone();
    takes_old.msisdn = Some(old_number);
    hlr.provision(&takes_old)
        .await
        .expect("the old number is free");

    // A reset empties the file too.
    sim.reset();
    hlr.shutdown().await;
    sim.shutdown().await;
    let (sim, _hlr) = hlr_on(Some(&file)).await;
    assert!(sim.subscribers().is_empty(), "{:?}", sim.subscribers());
    sim.shutdown().await;

    // Without a file: memory only.
    let (sim, hlr) = hlr_on(None).await;
    hlr.provision(&clear).await.expect("provision");
    sim.shutdown().await;
    let (sim, _hlr) = hlr_on(None).await;
    assert!(!sim.resumed() && sim.subscribers().is_empty());
}

// ---------------------------------------------------------------------------------------
// SM-DP+

const OP: &str = "mvno-a";
const TYPE: &str = "CONSUMER_V1";

fn iccid(n: u32) -> Iccid {
    Iccid::from_payload(&format!("8986990999{n:08}")).expect("iccid")
}

/// A receiver of notifications that records the bodies and answers 204.
async fn receiver(pki: &Pki) -> (u16, Arc<Mutex<Vec<String>>>) {
    let id = pki.issue("operator receiver");
    let tls = server_tls_config(
        id.cert_pem.as_bytes(),
        id.key_pem.as_bytes(),
        pki.ca_pem.as_bytes(),
    )
    .expect("receiver tls");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&bodies);
    let acceptor = TlsAcceptor::from(tls);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (acceptor, seen) = (acceptor.clone(), Arc::clone(&seen));
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let svc = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let seen = Arc::clone(&seen);
                    async move {
                        let body = req.into_body().collect().await?.to_bytes();
                        seen.lock()
                            .expect("lock")
                            .push(String::from_utf8_lossy(&body).into_owned());
                        let mut resp = http::Response::new(http_body_util::Full::new(Bytes::new()));
                        *resp.status_mut() = http::StatusCode::NO_CONTENT;
                        Ok::<_, hyper::Error>(resp)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    (port, bodies)
}

struct Smdp {
    pki: Pki,
    server: Id,
    operator: Id,
    notifier: Id,
}

impl Smdp {
    fn new() -> Self {
        let pki = Pki::new("test CA");
        Self {
            server: pki.issue("smdp"),
            operator: pki.issue(OP),
            notifier: pki.issue("smdp notifier"),
            pki,
        }
    }

    /// The simulator on `file`, notifying `https://127.0.0.1:{port}`.
    async fn start(&self, file: &Path, port: u16) -> SmdpSimHandle {
        let tls = server_tls_config(
            self.server.cert_pem.as_bytes(),
            self.server.key_pem.as_bytes(),
            self.pki.ca_pem.as_bytes(),
        )
        .expect("tls");
        let fqdn = adapters::es2plus::Fqdn::new("smdp.example.com").expect("fqdn");
        let mut c = SmdpSimConfig::new(tls, fqdn);
        c.operators = vec![OperatorAccount {
            name: OP.into(),
            cert_sha256: cert_fingerprint_pem(self.operator.cert_pem.as_bytes()).expect("fp"),
            notification_url: Some(format!(
                "https://127.0.0.1:{port}{}",
                path::HANDLE_DOWNLOAD_PROGRESS_INFO
            )),
        }];
        c.notifier = Some(NotifierIdentity {
            cert_pem: self.notifier.cert_pem.clone().into_bytes(),
            key_pem: self.notifier.key_pem.clone().into_bytes(),
            root_ca_pem: self.pki.ca_pem.clone().into_bytes(),
        });
        c.notification_retry = RetryPolicy {
            attempts: 1_000,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(50),
            timeout: Duration::from_secs(5),
        };
        let mut seed = ProfileSeed::new(iccid(1), TYPE, OP);
        seed.imsi = Some("001010000000001".parse::<Imsi>().expect("imsi"));
        seed.ki = Some(Key128::from_bytes([5; 16]));
        seed.opc = Some(Key128::from_bytes([6; 16]));
        c.profiles = vec![seed, ProfileSeed::new(iccid(2), TYPE, OP)];
        c.state_file = Some(file.to_owned());
        smdp_sim::start(c).await.expect("SM-DP+ simulator")
    }

    fn client(&self) -> HttpClient {
        HttpClient::builder()
            .add_root_pem(self.pki.ca_pem.as_bytes())
            .identity_pem(
                self.operator.cert_pem.as_bytes(),
                self.operator.key_pem.as_bytes(),
            )
            .build()
            .expect("client")
    }
}

async fn es2(client: &HttpClient, sim: &SmdpSimHandle, path: &str, body: Vec<u8>) -> (u16, Bytes) {
    let headers = [
        ("Content-Type", "application/json".to_owned()),
        (ADMIN_PROTOCOL_HEADER, "gsma/rsp/v2.2.0".to_owned()),
    ];
    let r = client
        .post(&format!("{}{path}", sim.url()), &headers, Bytes::from(body))
        .await
        .expect("ES2+ exchange");
    (r.status, r.body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn released_profiles_and_undelivered_notifications_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("smdp.state");
    let smdp = Smdp::new();
    // First run: the operator's receiver is down (a port nothing listens on).
    let dead = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let dead_port = dead.local_addr().expect("addr").port();
    drop(dead);
    let sim = smdp.start(&file, dead_port).await;
    let client = smdp.client();
    let header = RequestHeader::new(OP, "call-1");
    let (s, b) = es2(
        &client,
        &sim,
        path::DOWNLOAD_ORDER,
        encode_download_order(&DownloadOrderRequest {
            header: header.clone(),
            eid: None,
            profile: ProfileSelector::ProfileType(TYPE.into()),
        }),
    )
    .await;
    let got = decode_response::<DownloadOrderResponse>(s, &b).expect("download order");
    assert_eq!(got.data.iccid, iccid(1), "the lowest available profile");
    let confirm = ConfirmOrderRequest {
        header,
        iccid: iccid(1),
        eid: None,
        matching_id: None,
        confirmation_code: None,
        smds_address: None,
        release_flag: true,
    };
    let (s, b) = es2(
        &client,
        &sim,
        path::CONFIRM_ORDER,
        encode_confirm_order(&confirm),
    )
    .await;
    let confirmed = decode_response::<ConfirmOrderResponse>(s, &b).expect("confirm order");
    let matching_id: MatchingId = confirmed.data.matching_id.expect("generated MatchingID");
    // The customer downloads; the notification cannot be delivered yet.
    sim.download(&iccid(1)).expect("download");
    assert!(sim.notifications().is_empty(), "nothing handled yet");
    let before = sim.profile(&iccid(1)).expect("profile");
    sim.shutdown().await;

    // Second run: the receiver is up, on another port (as the sandbox's callback is).
    let (port, bodies) = receiver(&smdp.pki).await;
    let sim = smdp.start(&file, port).await;
    let after = sim.profile(&iccid(1)).expect("profile");
    assert_eq!(after.state, ProfileState::Downloaded);
    assert_eq!(after.matching_id.as_ref(), Some(&matching_id));
    assert_eq!(
        after, before,
        "state, bindings, keys (from the seed) and package"
    );
    assert_eq!(
        sim.profile(&iccid(2)).map(|p| p.state),
        Some(ProfileState::Available)
    );
    // The notification left undelivered goes out now.
    let sent = sim.wait_for_notifications(1, Duration::from_secs(10)).await;
    assert!(sent.first().is_some_and(|n| n.delivered), "{sent:?}");
    let body = bodies
        .lock()
        .expect("lock")
        .first()
        .cloned()
        .expect("a body");
    let n = decode_notification(body.as_bytes()).expect("notification");
    assert_eq!(n.iccid, iccid(1));
    // The second profile's order gets a MatchingID the restart did not hand out again.
    let (s, b) = es2(
        &client,
        &sim,
        path::DOWNLOAD_ORDER,
        encode_download_order(&DownloadOrderRequest {
            header: RequestHeader::new(OP, "call-2"),
            eid: None,
            profile: ProfileSelector::Iccid(iccid(2)),
        }),
    )
    .await;
    decode_response::<DownloadOrderResponse>(s, &b).expect("download order 2");
    let confirm2 = ConfirmOrderRequest {
        iccid: iccid(2),
        ..confirm
    };
    let (s, b) = es2(
        &client,
        &sim,
        path::CONFIRM_ORDER,
        encode_confirm_order(&confirm2),
    )
    .await;
    let second = decode_response::<ConfirmOrderResponse>(s, &b).expect("confirm order 2");
    assert_ne!(second.data.matching_id, Some(matching_id));
    sim.install(&iccid(1), smdp_sim::InstallResult::Success)
        .expect("install");
    sim.shutdown().await;

    // Third run: the install and the second order are there.
    let sim = smdp.start(&file, port).await;
    assert_eq!(
        sim.profile(&iccid(1)).map(|p| p.state),
        Some(ProfileState::Installed)
    );
    assert_eq!(
        sim.profile(&iccid(2)).map(|p| p.state),
        Some(ProfileState::Released)
    );
    sim.shutdown().await;
}

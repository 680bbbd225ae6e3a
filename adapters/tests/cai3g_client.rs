//! The CAI3G client and `Cai3gHlr` against a small in-test CAI3G fake on 127.0.0.1:0:
//! session handling (login, single-flight, re-login once and replay), fault and transport
//! classification, and the idempotent multi-step operations.

mod support;

use adapters::cai3g::codec::{
    AucSubscription, Cai3gFault, GetResult, Header, HlrSubscription, KiWire, MoBody, MoId, MoKind,
    Operation, Password, Request, Response, decode_request, encode_response,
};
use adapters::cai3g::{Cai3gClient, Cai3gConfig, Cai3gHlr};
use adapters::hlr::{
    AuthData, Barring, DeprovisionOutcome, FaultClass, HlrProfile, HlrProvisioner, KiMaterial,
    ProvisionOutcome, SubscriberSpec,
};
use sim_profiles::{Imsi, Key128};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{Reply, reply, serve};

/// One request as the fake saw it.
#[derive(Clone, Debug)]
struct Call {
    path: String,
    soap_action: String,
    content_type: String,
    header: Header,
    op: Operation,
    kind: Option<MoKind>,
}

/// A minimal CAI3G host: sessions, an AUC and an HLR table, and scripted misbehaviour.
#[derive(Default)]
struct Fake {
    logins: usize,
    sessions: HashSet<String>,
    /// Answer this many provisioning calls with a session fault, whatever the session.
    session_faults: usize,
    /// Answer this many Logins with a session fault (a glitch of the host's session service).
    login_faults: usize,
    /// Sleep this long before answering provisioning calls.
    delay: Option<Duration>,
    /// Answer provisioning calls with this raw status and body instead.
    raw: Option<(u16, &'static str)>,
    auc: HashMap<Imsi, AucSubscription>,
    hlr: HashMap<Imsi, HlrSubscription>,
    calls: Vec<Call>,
}

type Shared = Arc<Mutex<Fake>>;

const PASSWORD: &str = "pw-correct";

fn fault(soap: &str, code: &str, reason: &str) -> Cai3gFault {
    Cai3gFault {
        soap_faultcode: soap.into(),
        faultstring: reason.into(),
        cai3g_code: Some(code.into()),
        reason: Some(reason.into()),
        role: Some("MF".into()),
        ..Cai3gFault::default()
    }
}

fn session_fault() -> Cai3gFault {
    Cai3gFault {
        pg_code: Some("1010".into()),
        pg_message: Some("Invalid sessionId.".into()),
        ..fault("Client", "1001", "Invalid sessionId.")
    }
}

fn external(resp: &str, text: &str) -> Cai3gFault {
    Cai3gFault {
        resp_code: Some(resp.into()),
        resp_description: Some(text.into()),
        ..fault("Server", "4006", "External Error")
    }
}

fn exists() -> Cai3gFault {
    external("301", "SUBSCRIPTION ALREADY EXISTS")
}

fn not_found() -> Cai3gFault {
    external("13020", "SUBSCRIPTION NOT FOUND")
}

fn handle(
    fake: &Shared,
    parts: &http::request::Parts,
    body: &[u8],
) -> (Response, Option<Duration>) {
    let Ok((header, request)) = decode_request(body) else {
        return (
            Response::Fault(fault("Client", "4001", "undecodable")),
            None,
        );
    };
    let mut f = fake.lock().expect("lock");
    let text = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    f.calls.push(Call {
        path: parts.uri.path().to_owned(),
        soap_action: text("soapaction"),
        content_type: text("content-type"),
        header: header.clone(),
        op: request.operation(),
        kind: request.mo_kind(),
    });
    match request {
        Request::Login { pwd, .. } => {
            f.logins += 1;
            if f.login_faults > 0 {
                f.login_faults -= 1;
                return (Response::Fault(session_fault()), None);
            }
            if pwd.expose() != PASSWORD {
                let refused = Cai3gFault {
                    pg_code: Some("1004".into()),
                    ..fault("Client", "3014", "Login failed.")
                };
                return (Response::Fault(refused), None);
            }
            let id = format!("sess-{}", f.logins);
            f.sessions.insert(id.clone());
            let base = 1000 * f.logins as u64;
            (
                Response::Login {
                    session_id: id,
                    base_sequence_id: base,
                },
                None,
            )
        }
        Request::Logout { session_id } => {
            f.sessions.remove(&session_id);
            (Response::Logout, None)
        }
        request => {
            let live = header
                .session_id
                .as_ref()
                .is_some_and(|s| f.sessions.contains(s));
            if !live || f.session_faults > 0 {
                f.session_faults = f.session_faults.saturating_sub(1);
                return (Response::Fault(session_fault()), None);
            }
            let delay = f.delay;
            (apply(&mut f, request), delay)
        }
    }
}

fn apply(f: &mut Fake, request: Request) -> Response {
    match request {
        Request::Create(MoBody::Auc(a)) if f.auc.contains_key(&a.imsi) => Response::Fault(exists()),
        Request::Create(MoBody::Auc(a)) => {
            f.auc.insert(a.imsi.clone(), a);
            Response::Create
        }
        Request::Create(MoBody::HlrMsisdn { .. }) => Response::Fault(not_found()),
        Request::Create(MoBody::Hlr(h)) => {
            let msisdn_taken = f.hlr.values().any(|o| o.msisdn == h.msisdn);
            if f.hlr.contains_key(&h.imsi) || msisdn_taken {
                return Response::Fault(exists());
            }
            f.hlr.insert(h.imsi.clone(), h);
            Response::Create
        }
        Request::Get(id) => {
            let found = match id.kind {
                MoKind::GsmAuc => id
                    .imsi
                    .and_then(|i| f.auc.get(&i).cloned())
                    .map(GetResult::Auc),
                MoKind::GsmHlr => f
                    .hlr
                    .values()
                    .find(|h| {
                        id.imsi.as_ref().is_none_or(|i| *i == h.imsi)
                            && id.msisdn.as_ref().is_none_or(|m| *m == h.msisdn)
                    })
                    .cloned()
                    .map(GetResult::Hlr),
            };
            found.map_or_else(|| Response::Fault(not_found()), Response::Get)
        }
        Request::Set {
            body: MoBody::Hlr(h),
            ..
        } if f.hlr.contains_key(&h.imsi) => {
            f.hlr.insert(h.imsi.clone(), h);
            Response::Set
        }
        Request::Set { .. } => Response::Fault(not_found()),
        Request::Delete(id) => {
            let imsi = id.imsi.expect("tests delete by IMSI");
            let gone = match id.kind {
                MoKind::GsmAuc => f.auc.remove(&imsi).is_some(),
                MoKind::GsmHlr => f.hlr.remove(&imsi).is_some(),
            };
            if gone {
                Response::Delete
            } else {
                Response::Fault(not_found())
            }
        }
        Request::Login { .. } | Request::Logout { .. } => unreachable!("handled above"),
    }
}

async fn start() -> (Shared, SocketAddr) {
    let fake: Shared = Arc::new(Mutex::new(Fake::default()));
    let state = fake.clone();
    let addr = serve(None, move |parts, body| {
        let state = state.clone();
        async move {
            let raw = state.lock().expect("lock").raw;
            let action = parts
                .headers
                .get("soapaction")
                .and_then(|v| v.to_str().ok());
            let is_session_call =
                action.is_some_and(|a| a.contains("Login") || a.contains("Logout"));
            if let (Some((status, text)), false) = (raw, is_session_call) {
                return reply(status, text);
            }
            let (response, delay) = handle(&state, &parts, &body);
            if let Some(d) = delay {
                tokio::time::sleep(d).await;
            }
            let (status, xml) = encode_response(&Header::default(), &response);
            with_xml(reply(status, xml))
        }
    })
    .await;
    (fake, addr)
}

fn with_xml(mut r: Reply) -> Reply {
    r.headers_mut().insert(
        "content-type",
        http::HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    r
}

fn config(addr: SocketAddr, password: &str) -> Cai3gConfig {
    let mut c = Cai3gConfig::new(
        format!("http://{addr}/cai3g"),
        "gw",
        Password::new(password.into()),
    );
    c.request_timeout = Duration::from_secs(5);
    c
}

fn client(addr: SocketAddr) -> Cai3gClient {
    Cai3gClient::new(config(addr, PASSWORD)).expect("client")
}

fn imsi(n: u32) -> Imsi {
    format!("00101{n:010}").parse().expect("imsi")
}

fn spec(n: u32) -> SubscriberSpec {
    SubscriberSpec {
        imsi: imsi(n),
        msisdn: Some(format!("49170{n:07}").parse().expect("msisdn")),
        auth: AuthData {
            ki: KiMaterial::Encrypted {
                ciphertext: Key128::from_bytes([n as u8; 16]),
                a4ind: 2,
                adkey: 7,
            },
            opc: None,
            fsetind: 1,
        },
        profile: HlrProfile { profile_id: 46 },
        barring: Barring::default(),
    }
}

fn auc(n: u32) -> MoBody {
    MoBody::Auc(AucSubscription {
        imsi: imsi(n),
        ki: KiWire::Clear(Key128::from_bytes([1; 16])),
        fsetind: 0,
    })
}

fn calls(fake: &Shared) -> Vec<Call> {
    fake.lock().expect("lock").calls.clone()
}

#[tokio::test]
async fn logs_in_once_and_numbers_calls_within_the_session() {
    let (fake, addr) = start().await;
    let c = client(addr);
    c.create(auc(1)).await.expect("create 1");
    c.create(auc(2)).await.expect("create 2");
    assert_eq!(fake.lock().expect("lock").logins, 1);
    let calls = calls(&fake);
    assert_eq!(calls[0].op, Operation::Login);
    assert_eq!(calls[0].header, Header::default());
    let creates: Vec<&Call> = calls.iter().filter(|c| c.op == Operation::Create).collect();
    assert_eq!(creates.len(), 2);
    for (i, call) in creates.iter().enumerate() {
        assert_eq!(call.header.session_id.as_deref(), Some("sess-1"));
        assert_eq!(call.header.sequence_id, Some((1001 + i).to_string()));
        assert!(
            call.header
                .transaction_id
                .as_deref()
                .is_some_and(|t| t.bytes().all(|b| b.is_ascii_digit()))
        );
        assert_eq!(call.soap_action, "\"CAI3G#Create\"");
        assert!(call.content_type.starts_with("text/xml"));
        assert_eq!(call.path, "/cai3g");
    }
    assert_ne!(
        creates[0].header.transaction_id,
        creates[1].header.transaction_id
    );
}

#[tokio::test]
async fn expired_session_is_replaced_once_and_the_call_replayed() {
    let (fake, addr) = start().await;
    let c = client(addr);
    c.create(auc(1)).await.expect("first");
    fake.lock().expect("lock").sessions.clear(); // the host forgets the session
    c.create(auc(2)).await.expect("replayed after re-login");
    let f = fake.lock().expect("lock");
    assert_eq!(f.logins, 2);
    assert!(f.auc.contains_key(&imsi(2)));
    let second: Vec<&Call> = f
        .calls
        .iter()
        .filter(|c| c.op == Operation::Create)
        .skip(1)
        .collect();
    assert_eq!(second.len(), 2, "the refused call and its replay");
    assert_eq!(second[0].header.session_id.as_deref(), Some("sess-1"));
    assert_eq!(second[1].header.session_id.as_deref(), Some("sess-2"));
    assert_eq!(second[1].header.sequence_id.as_deref(), Some("2001"));
}

#[tokio::test]
async fn a_second_session_fault_surfaces_instead_of_looping() {
    let (fake, addr) = start().await;
    fake.lock().expect("lock").session_faults = 100;
    let err = client(addr)
        .create(auc(1))
        .await
        .expect_err("session fault twice");
    assert_eq!(err.class, FaultClass::Session);
    assert_eq!(err.operation, "GsmAuc Create");
    assert_eq!(err.code.as_deref(), Some("1010"));
    let f = fake.lock().expect("lock");
    assert_eq!(f.logins, 2);
    assert_eq!(
        f.calls.iter().filter(|c| c.op == Operation::Create).count(),
        2
    );
}

#[tokio::test]
async fn refused_login_is_retryable_but_the_host_is_not_asked_again_at_once() {
    let (fake, addr) = start().await;
    let c = Cai3gClient::new(config(addr, "wrong"))
        .expect("client")
        .with_login_backoff(Duration::from_secs(3_600));
    for _ in 0..3 {
        let err = c
            .get(MoId::by_imsi(MoKind::GsmAuc, imsi(1)))
            .await
            .expect_err("refused");
        assert_eq!(err.class, FaultClass::Authentication);
        assert_eq!(err.operation, "CAI3G Login");
        assert_eq!(err.code.as_deref(), Some("1004"));
        assert!(
            err.retryable(),
            "a Login refusal must not fail an order for good"
        );
        assert!(!err.to_string().contains("wrong"), "password leaked: {err}");
    }
    // Within the pause, callers share the refusal: one Login, no account lockout.
    assert_eq!(fake.lock().expect("lock").logins, 1);
}

#[tokio::test]
async fn a_session_fault_on_login_is_retryable_and_passes_once_the_host_recovers() {
    let (fake, addr) = start().await;
    fake.lock().expect("lock").login_faults = 1;
    let hlr = Cai3gHlr::from_client(client(addr).with_login_backoff(Duration::ZERO));
    let err = hlr.provision(&spec(1)).await.expect_err("login fault");
    assert_eq!(err.operation, "CAI3G Login");
    assert_eq!(err.class, FaultClass::Authentication);
    assert_eq!(err.code.as_deref(), Some("1010"));
    assert!(err.retryable(), "{err}");
    // The glitch is over: the next attempt logs in and provisions.
    assert_eq!(
        hlr.provision(&spec(1)).await.expect("provisioned"),
        ProvisionOutcome::Created
    );
    let f = fake.lock().expect("lock");
    assert_eq!(f.logins, 2);
    assert!(f.auc.contains_key(&imsi(1)) && f.hlr.contains_key(&imsi(1)));
}

#[tokio::test]
async fn concurrent_calls_share_one_login() {
    let (fake, addr) = start().await;
    let c = Arc::new(client(addr));
    let tasks: Vec<_> = (0..12)
        .map(|n| {
            let c = c.clone();
            tokio::spawn(async move { c.get(MoId::by_imsi(MoKind::GsmAuc, imsi(n))).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.expect("task").expect("get"), None);
    }
    assert_eq!(fake.lock().expect("lock").logins, 1);
    let mut seqs: Vec<String> = calls(&fake)
        .into_iter()
        .filter_map(|c| c.header.sequence_id)
        .collect();
    seqs.sort();
    seqs.dedup();
    assert_eq!(seqs.len(), 12, "sequence ids are unique within the session");
}

#[tokio::test]
async fn slow_answer_is_a_timeout() {
    let (fake, addr) = start().await;
    let mut cfg = config(addr, PASSWORD);
    cfg.request_timeout = Duration::from_millis(300);
    let c = Cai3gClient::new(cfg).expect("client");
    c.create(auc(1)).await.expect("fast create");
    fake.lock().expect("lock").delay = Some(Duration::from_secs(10));
    let err = c
        .get(MoId::by_imsi(MoKind::GsmAuc, imsi(1)))
        .await
        .expect_err("slow");
    assert_eq!(err.class, FaultClass::Timeout);
    assert!(err.retryable());
}

#[tokio::test]
async fn proxy_errors_and_garbage_classify_by_status() {
    let (fake, addr) = start().await;
    let c = client(addr);
    let id = || MoId::by_imsi(MoKind::GsmHlr, imsi(1));
    fake.lock().expect("lock").raw = Some((502, "<html>Bad Gateway</html>"));
    assert_eq!(
        c.get(id()).await.expect_err("502").class,
        FaultClass::Transient
    );
    fake.lock().expect("lock").raw = Some((200, "not xml at all"));
    assert_eq!(
        c.get(id()).await.expect_err("garbage").class,
        FaultClass::Protocol
    );
    fake.lock().expect("lock").raw = None;
    assert_eq!(c.get(id()).await.expect("ok"), None);
}

#[tokio::test]
async fn separate_auc_and_session_endpoints_are_used() {
    let (fake, addr) = start().await;
    let mut cfg = config(addr, PASSWORD);
    cfg.auc_url = Some(format!("http://{addr}/auc"));
    cfg.session_url = Some(format!("http://{addr}/session"));
    let c = Cai3gClient::new(cfg).expect("client");
    c.create(auc(1)).await.expect("auc");
    c.get(MoId::by_imsi(MoKind::GsmHlr, imsi(1)))
        .await
        .expect("hlr");
    c.logout().await;
    let paths: Vec<(Operation, String)> =
        calls(&fake).into_iter().map(|c| (c.op, c.path)).collect();
    assert_eq!(
        paths,
        [
            (Operation::Login, "/session".to_owned()),
            (Operation::Create, "/auc".to_owned()),
            (Operation::Get, "/cai3g".to_owned()),
            (Operation::Logout, "/session".to_owned()),
        ]
    );
}

#[tokio::test]
async fn provision_is_idempotent_and_never_overwrites() {
    let (fake, addr) = start().await;
    let hlr = Cai3gHlr::new(config(addr, PASSWORD)).expect("hlr");
    let s = spec(1);
    assert_eq!(
        hlr.provision(&s).await.expect("created"),
        ProvisionOutcome::Created
    );
    assert_eq!(
        hlr.provision(&s).await.expect("repeat"),
        ProvisionOutcome::AlreadyPresent
    );
    // Same IMSI, another Ki: the AUC entry must not be overwritten.
    let mut other_key = s.clone();
    other_key.auth.ki = KiMaterial::Clear(Key128::from_bytes([9; 16]));
    let err = hlr.provision(&other_key).await.expect_err("conflict");
    assert_eq!(
        (err.class, err.operation),
        (FaultClass::Conflict, "GsmAuc Create")
    );
    // Another card on the same MSISDN.
    let mut taken = spec(2);
    taken.msisdn = s.msisdn.clone();
    let err = hlr.provision(&taken).await.expect_err("msisdn conflict");
    assert_eq!(
        (err.class, err.operation),
        (FaultClass::Conflict, "GsmHlr Create")
    );
    let f = fake.lock().expect("lock");
    assert_eq!(
        f.auc[&s.imsi].ki,
        KiWire::Encrypted {
            ciphertext: Key128::from_bytes([1; 16]),
            a4ind: 2,
            adkey: 7
        }
    );
    assert_eq!(Some(&f.hlr[&s.imsi].msisdn), s.msisdn.as_ref());
}

#[tokio::test]
async fn deprovision_removes_own_objects_and_leaves_foreign_ones() {
    let (fake, addr) = start().await;
    let hlr = Cai3gHlr::new(config(addr, PASSWORD)).expect("hlr");
    let s = spec(3);
    hlr.provision(&s).await.expect("provision");
    assert_eq!(
        hlr.deprovision(&s).await.expect("delete"),
        DeprovisionOutcome::Deleted
    );
    assert_eq!(
        hlr.deprovision(&s).await.expect("again"),
        DeprovisionOutcome::NotPresent
    );
    assert_eq!(hlr.query(&s.imsi).await.expect("query"), None);
    hlr.provision(&s).await.expect("provision again");
    let mut other = s.clone();
    other.profile.profile_id = 99;
    assert_eq!(
        hlr.deprovision(&other).await.expect("foreign"),
        DeprovisionOutcome::LeftForeign
    );
    let f = fake.lock().expect("lock");
    assert!(f.hlr.contains_key(&s.imsi) && f.auc.contains_key(&s.imsi));
}

#[tokio::test]
async fn barring_rewrites_only_the_hlr_subscription() {
    let (fake, addr) = start().await;
    let hlr = Cai3gHlr::new(config(addr, PASSWORD)).expect("hlr");
    let s = spec(4);
    hlr.provision(&s).await.expect("provision");
    let barred = Barring {
        outgoing: true,
        incoming: false,
    };
    hlr.set_barring(&s.imsi, barred).await.expect("bar");
    hlr.set_barring(&s.imsi, barred)
        .await
        .expect("unchanged: no write");
    let state = hlr.query(&s.imsi).await.expect("query").expect("present");
    assert_eq!(state.hlr.expect("hlr").barring, barred);
    assert_eq!(state.auc.expect("auc").fsetind, Some(1));
    let sets: Vec<Option<MoKind>> = calls(&fake)
        .into_iter()
        .filter(|c| c.op == Operation::Set)
        .map(|c| c.kind)
        .collect();
    assert_eq!(sets, [Some(MoKind::GsmHlr)]);
    let err = hlr
        .set_barring(&imsi(77), barred)
        .await
        .expect_err("absent");
    assert_eq!(err.class, FaultClass::NotFound);
}

#[tokio::test]
async fn shutdown_logs_out_the_session() {
    let (fake, addr) = start().await;
    let hlr = Cai3gHlr::new(config(addr, PASSWORD)).expect("hlr");
    hlr.query(&imsi(5)).await.expect("query");
    hlr.shutdown().await;
    let f = fake.lock().expect("lock");
    let logout = f
        .calls
        .iter()
        .find(|c| c.op == Operation::Logout)
        .expect("logout sent");
    assert_eq!(logout.header.session_id.as_deref(), Some("sess-1"));
    assert!(f.sessions.is_empty());
}

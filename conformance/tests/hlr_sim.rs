//! Black-box tests of the CAI3G HLR simulator: real sockets on 127.0.0.1, hand-written
//! SOAP requests as a carrier would send them, and assertions on the raw bytes that come
//! back plus the state seen through the in-process handle.

use conformance::hlr_sim::{
    self, Action, FaultConfig, FaultKind, HlrSimConfig, HlrSimHandle, KiWire, MoKind, Operation,
    Rule,
};
use sim_profiles::{Imsi, Key128, Msisdn};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

const USER: &str = "gw-prov-01";
const PWD: &str = "pw-Zq81-never-logged";
const PATH: &str = "/CAI3G1.2/services/CAI3G1.2";
const IMSI: &str = "001010000000001";
const IMSI2: &str = "001010000000002";
const MSISDN: &str = "4915100000001";
const MSISDN2: &str = "4915100000002";
const KI: &str = "465B5CE8B199B49FAA5F0A2EE238A6BC";
const AUC_TYPE: &str = "Subscription@http://schemas.ericsson.com/ema/UserProvisioning/GsmAuc/";
const HLR_TYPE: &str = "Subscription@http://schemas.ericsson.com/ema/UserProvisioning/GsmHlr/";

// ---------------------------------------------------------------------------------------
// Wire helpers

/// What a raw exchange produced.
#[derive(Debug)]
enum Outcome {
    /// A complete HTTP response.
    Reply(Reply),
    /// The server closed the connection without sending a byte.
    Closed,
    /// Nothing arrived before the client gave up.
    TimedOut,
}

#[derive(Debug)]
struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// The text of the first `<tag>...</tag>` in the body.
    fn text(&self, tag: &str) -> Option<&str> {
        let open = format!("<{tag}>");
        let start = self.body.find(&open)? + open.len();
        let len = self.body[start..].find(&format!("</{tag}>"))?;
        Some(&self.body[start..start + len])
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("JSON body")
    }
}

impl Outcome {
    fn reply(self) -> Reply {
        match self {
            Outcome::Reply(r) => r,
            other => panic!("expected an HTTP response, got {other:?}"),
        }
    }
}

fn parse_reply(raw: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("HTTP head");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    Reply {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

/// Writes `request` and reads until the server closes (requests say `Connection: close`).
async fn exchange_on<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    request: &[u8],
    give_up: Option<Duration>,
) -> Outcome {
    stream.write_all(request).await.expect("write request");
    let mut buf = Vec::new();
    let read = stream.read_to_end(&mut buf);
    let result = match give_up {
        Some(limit) => match tokio::time::timeout(limit, read).await {
            Ok(r) => r,
            Err(_) => return Outcome::TimedOut,
        },
        None => read.await,
    };
    result.expect("read response");
    if buf.is_empty() {
        Outcome::Closed
    } else {
        Outcome::Reply(parse_reply(&buf))
    }
}

async fn exchange(addr: SocketAddr, request: &[u8], give_up: Option<Duration>) -> Outcome {
    let stream = TcpStream::connect(addr).await.expect("connect");
    exchange_on(stream, request, give_up).await
}

fn http_request(method: &str, path: &str, extra_headers: &str, body: &str) -> Vec<u8> {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: hlr-sim\r\n{extra_headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn soap_post(soap_action: Option<&str>, envelope: &str) -> Vec<u8> {
    let action = soap_action
        .map(|a| format!("SOAPAction: {a}\r\n"))
        .unwrap_or_default();
    let headers = format!("Content-Type: text/xml; charset=utf-8\r\n{action}");
    http_request("POST", PATH, &headers, envelope)
}

/// One CAI3G exchange with a 10 s safety limit (real time).
async fn call(addr: SocketAddr, envelope: &str) -> Reply {
    exchange(
        addr,
        &soap_post(None, envelope),
        Some(Duration::from_secs(10)),
    )
    .await
    .reply()
}

/// One CAI3G exchange without any timer (for tests on a paused clock).
async fn call_untimed(addr: SocketAddr, envelope: &str) -> Reply {
    exchange(addr, &soap_post(None, envelope), None)
        .await
        .reply()
}

// ---------------------------------------------------------------------------------------
// CAI3G messages, written by hand as a carrier's client would send them

fn envelope(header: &str, body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"
            xmlns:c="http://schemas.ericsson.com/cai3g1.2/"
            xmlns:h="http://schemas.ericsson.com/ema/UserProvisioning/GsmHlr/"
            xmlns:a="http://schemas.ericsson.com/ema/UserProvisioning/GsmAuc/">
  <S:Header>{header}</S:Header>
  <S:Body>{body}</S:Body>
</S:Envelope>"#
    )
}

fn session(sid: &str) -> String {
    format!(
        "<c:SessionId>{sid}</c:SessionId><c:TransactionId>900017</c:TransactionId><c:SequenceId>5001</c:SequenceId>"
    )
}

fn login_msg(user: &str, pwd: &str) -> String {
    envelope(
        "",
        &format!("<c:Login><c:userId>{user}</c:userId><c:pwd>{pwd}</c:pwd></c:Login>"),
    )
}

fn logout_msg(sid: &str) -> String {
    envelope(
        &session(sid),
        &format!("<c:Logout><c:sessionId>{sid}</c:sessionId></c:Logout>"),
    )
}

fn create_auc_msg(sid: &str, imsi: &str) -> String {
    envelope(
        &session(sid),
        &format!(
            r#"<c:Create><c:MOType>{AUC_TYPE}</c:MOType><c:MOId><a:imsi>{imsi}</a:imsi></c:MOId>
<c:MOAttributes><a:createSubscription imsi="{imsi}"><a:imsi>{imsi}</a:imsi><a:ki>{KI}</a:ki><a:fsetind>0</a:fsetind></a:createSubscription></c:MOAttributes></c:Create>"#
        ),
    )
}

fn create_auc_encrypted_msg(sid: &str, imsi: &str) -> String {
    envelope(
        &session(sid),
        &format!(
            r#"<c:Create><c:MOType>{AUC_TYPE}</c:MOType><c:MOId><a:imsi>{imsi}</a:imsi></c:MOId>
<c:MOAttributes><a:createSubscription imsi="{imsi}"><a:imsi>{imsi}</a:imsi><a:ki>{KI}</a:ki><a:fsetind>1</a:fsetind><a:a4ind>2</a:a4ind><a:adkey>7</a:adkey></a:createSubscription></c:MOAttributes></c:Create>"#
        ),
    )
}

fn hlr_body(op: &str, wrapper: &str, imsi: &str, msisdn: &str, obo: u8) -> String {
    format!(
        r#"<c:{op}><c:MOType>{HLR_TYPE}</c:MOType><c:MOId><h:msisdn>{msisdn}</h:msisdn><h:imsi>{imsi}</h:imsi></c:MOId>
<c:MOAttributes><h:{wrapper} msisdn="{msisdn}" imsi="{imsi}"><h:msisdn>{msisdn}</h:msisdn><h:imsi>{imsi}</h:imsi><h:profileId>12</h:profileId><h:nam><h:prov>0</h:prov></h:nam><h:obo>{obo}</h:obo><h:obi>0</h:obi></h:{wrapper}></c:MOAttributes></c:{op}>"#
    )
}

fn create_hlr_msg(sid: &str, imsi: &str, msisdn: &str) -> String {
    envelope(
        &session(sid),
        &hlr_body("Create", "createSubscription", imsi, msisdn, 0),
    )
}

fn set_hlr_msg(sid: &str, imsi: &str, msisdn: &str, obo: u8) -> String {
    envelope(
        &session(sid),
        &hlr_body("Set", "setSubscription", imsi, msisdn, obo),
    )
}

/// The number change: `MOId` names the subscription by IMSI and current MSISDN,
/// `setSubscription` carries the new MSISDN.
fn change_msisdn_msg(sid: &str, imsi: &str, from: &str, to: &str) -> String {
    envelope(
        &session(sid),
        &format!(
            r#"<c:Set><c:MOType>{HLR_TYPE}</c:MOType><c:MOId><h:msisdn>{from}</h:msisdn><h:imsi>{imsi}</h:imsi></c:MOId>
<c:MOAttributes><h:setSubscription msisdn="{from}" imsi="{imsi}"><h:msisdn>{to}</h:msisdn><h:imsi>{imsi}</h:imsi><h:profileId>12</h:profileId><h:obo>0</h:obo><h:obi>0</h:obi></h:setSubscription></c:MOAttributes></c:Set>"#
        ),
    )
}

/// Get or Delete of `mo_type` addressed by the given `MOId` children.
fn by_id_msg(sid: &str, op: &str, mo_type: &str, mo_id: &str) -> String {
    envelope(
        &session(sid),
        &format!("<c:{op}><c:MOType>{mo_type}</c:MOType><c:MOId>{mo_id}</c:MOId></c:{op}>"),
    )
}

fn auc_id(imsi: &str) -> String {
    format!("<a:imsi>{imsi}</a:imsi>")
}

fn hlr_imsi_id(imsi: &str) -> String {
    format!("<h:imsi>{imsi}</h:imsi>")
}

fn hlr_msisdn_id(msisdn: &str) -> String {
    format!("<h:msisdn>{msisdn}</h:msisdn>")
}

// ---------------------------------------------------------------------------------------
// Fixtures and assertions

async fn start(config: HlrSimConfig) -> HlrSimHandle {
    hlr_sim::start(config).await.expect("simulator starts")
}

async fn sim() -> HlrSimHandle {
    start(HlrSimConfig::new(USER, PWD)).await
}

async fn login(addr: SocketAddr) -> String {
    let r = call(addr, &login_msg(USER, PWD)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.text("cai3g:sessionId").expect("sessionId").to_owned()
}

fn imsi(s: &str) -> Imsi {
    s.parse().expect("IMSI")
}

fn msisdn(s: &str) -> Msisdn {
    s.parse().expect("MSISDN")
}

/// Asserts a SOAP fault with the given SOAP code, CAI3G code and subordinate code.
#[track_caller]
fn assert_fault(r: &Reply, soap: &str, cai3g: &str, sub: Option<&str>) {
    assert_eq!(r.status, 500, "{}", r.body);
    assert!(
        r.header("content-type")
            .is_some_and(|v| v.starts_with("text/xml")),
        "{}",
        r.head
    );
    assert_eq!(
        r.text("faultcode"),
        Some(format!("SOAP-ENV:{soap}").as_str()),
        "{}",
        r.body
    );
    assert_eq!(r.text("cai3g:faultcode"), Some(cai3g), "{}", r.body);
    if let Some(sub) = sub {
        let found = r.text("pg:errorcode").or(r.text("ema:respCode"));
        assert_eq!(found, Some(sub), "{}", r.body);
    }
}

#[track_caller]
fn assert_session_fault(r: &Reply) {
    assert_fault(r, "Client", "1001", Some("1010"));
    assert_eq!(r.text("cai3g:reasonText"), Some("Invalid sessionId."));
    assert_eq!(r.text("cai3g:faultrole"), Some("MF"));
}

#[track_caller]
fn assert_ok(r: &Reply, element: &str) {
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(&format!("<cai3g:{element}")), "{}", r.body);
}

// ---------------------------------------------------------------------------------------
// Provisioning

#[tokio::test]
async fn provisioning_round_trip_over_the_wire() {
    let sim = sim().await;
    let addr = sim.addr();
    assert_eq!(sim.url(), format!("http://{addr}{PATH}"));

    // Login, with the SOAPAction quoted as SOAP 1.1 wants.
    let r = exchange(
        addr,
        &soap_post(Some("\"CAI3G#Login\""), &login_msg(USER, PWD)),
        None,
    )
    .await
    .reply();
    assert_ok(&r, "LoginResponse");
    let sid = r.text("cai3g:sessionId").expect("sessionId").to_owned();
    assert_eq!(sid.len(), 32);
    let base: u64 = r
        .text("cai3g:baseSequenceId")
        .and_then(|s| s.parse().ok())
        .expect("base");
    assert!(base > 0);
    assert!(!r.body.contains(PWD));

    // AUC create, SOAPAction unquoted; the headers are echoed.
    let r = exchange(
        addr,
        &soap_post(Some("CAI3G#Create"), &create_auc_msg(&sid, IMSI)),
        None,
    )
    .await
    .reply();
    assert_ok(&r, "CreateResponse");
    assert_eq!(r.text("cai3g:SessionId"), Some(sid.as_str()));
    assert_eq!(r.text("cai3g:TransactionId"), Some("900017"));
    assert_eq!(r.text("cai3g:SequenceId"), Some("5001"));
    let auc = sim.auc(&imsi(IMSI)).expect("AUC entry stored");
    assert_eq!(auc.ki, KiWire::Clear(Key128::from_hex(KI).expect("hex")));
    assert_eq!(auc.fsetind, 0);

    // HLR create, no SOAPAction at all.
    assert_ok(
        &call(addr, &create_hlr_msg(&sid, IMSI, MSISDN)).await,
        "CreateResponse",
    );
    let hlr = sim.hlr(&imsi(IMSI)).expect("HLR subscription stored");
    assert_eq!(
        (hlr.msisdn.as_str(), hlr.profile_id, hlr.obo, hlr.obi),
        (MSISDN, 12, false, false)
    );

    // Get both, the HLR one by MSISDN; the fake returns the key.
    let r = call(
        addr,
        &by_id_msg(&sid, "Get", HLR_TYPE, &hlr_msisdn_id(MSISDN)),
    )
    .await;
    assert_ok(&r, "GetResponse");
    assert_eq!(r.text("gsmhlr:imsi"), Some(IMSI));
    assert_eq!(r.text("gsmhlr:profileId"), Some("12"));
    let r = call(addr, &by_id_msg(&sid, "Get", AUC_TYPE, &auc_id(IMSI))).await;
    assert_ok(&r, "GetResponse");
    assert_eq!(r.text("gsmauc:ki"), Some(KI));

    // Set bars outgoing calls.
    assert_ok(
        &call(addr, &set_hlr_msg(&sid, IMSI, MSISDN, 1)).await,
        "SetResponse",
    );
    assert!(sim.hlr(&imsi(IMSI)).expect("still there").obo);

    let subs = sim.subscribers();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].msisdn.as_ref(), Some(&msisdn(MSISDN)));
    assert_eq!(subs[0].profile_id, Some(12));

    // Delete the HLR subscription by MSISDN, then the AUC entry.
    let r = call(
        addr,
        &by_id_msg(&sid, "Delete", HLR_TYPE, &hlr_msisdn_id(MSISDN)),
    )
    .await;
    assert_ok(&r, "DeleteResponse");
    assert!(sim.hlr(&imsi(IMSI)).is_none());
    let r = call(addr, &by_id_msg(&sid, "Delete", AUC_TYPE, &auc_id(IMSI))).await;
    assert_ok(&r, "DeleteResponse");
    assert!(sim.subscribers().is_empty());

    let counts = sim.counts();
    assert_eq!(counts.login, 1);
    assert_eq!(counts.requests(Operation::Create, None), 2);
    assert_eq!(counts.get.gsm_hlr + counts.get.gsm_auc, 2);
    assert_eq!(counts.requests(Operation::Set, Some(MoKind::GsmHlr)), 1);
    assert_eq!(counts.delete.gsm_auc, 1);
    assert_eq!(counts.injected.total(), 0);
    let creates = sim.applied_creates();
    assert_eq!(
        creates
            .iter()
            .map(|c| (c.kind, c.imsi.as_str()))
            .collect::<Vec<_>>(),
        [(MoKind::GsmAuc, IMSI), (MoKind::GsmHlr, IMSI)]
    );

    // Logout ends the session.
    assert_ok(&call(addr, &logout_msg(&sid)).await, "LogoutResponse");
    assert_session_fault(&call(addr, &by_id_msg(&sid, "Get", AUC_TYPE, &auc_id(IMSI))).await);
    sim.shutdown().await;
}

#[tokio::test]
async fn hlr_delete_by_imsi() {
    let sim = sim().await;
    let sid = login(sim.addr()).await;
    assert_ok(
        &call(sim.addr(), &create_auc_msg(&sid, IMSI)).await,
        "CreateResponse",
    );
    assert_ok(
        &call(sim.addr(), &create_hlr_msg(&sid, IMSI, MSISDN)).await,
        "CreateResponse",
    );
    let r = call(
        sim.addr(),
        &by_id_msg(&sid, "Delete", HLR_TYPE, &hlr_imsi_id(IMSI)),
    )
    .await;
    assert_ok(&r, "DeleteResponse");
    assert!(sim.hlr(&imsi(IMSI)).is_none());
    assert!(sim.auc(&imsi(IMSI)).is_some());
}

#[tokio::test]
async fn provisioning_without_a_valid_session_is_a_session_fault() {
    let sim = sim().await;
    let addr = sim.addr();
    let no_header = envelope(
        "",
        &format!(
            r#"<c:Create><c:MOType>{AUC_TYPE}</c:MOType><c:MOId><a:imsi>{IMSI}</a:imsi></c:MOId><c:MOAttributes><a:createSubscription imsi="{IMSI}"><a:ki>{KI}</a:ki><a:fsetind>0</a:fsetind></a:createSubscription></c:MOAttributes></c:Create>"#
        ),
    );
    assert_session_fault(&call(addr, &no_header).await);
    let r = call(addr, &create_auc_msg("deadbeef", IMSI)).await;
    assert_session_fault(&r);
    assert_eq!(r.text("pg:errormessage"), Some("Invalid sessionId."));
    // Headers are echoed on faults too.
    assert_eq!(r.text("cai3g:SessionId"), Some("deadbeef"));
    assert!(sim.auc(&imsi(IMSI)).is_none());
    assert!(sim.applied_creates().is_empty());
    assert_eq!(sim.counts().create.gsm_auc, 2);
}

#[tokio::test]
async fn login_with_wrong_credentials_is_3014_with_pg_1004() {
    let sim = sim().await;
    let r = call(sim.addr(), &login_msg(USER, "wrong-password-xyz")).await;
    assert_fault(&r, "Client", "3014", Some("1004"));
    assert!(!r.body.contains("wrong-password-xyz") && !r.body.contains(PWD));
    let r = call(sim.addr(), &login_msg("someone-else", PWD)).await;
    assert_fault(&r, "Client", "3014", Some("1004"));
    assert_eq!(sim.counts().login, 2);
}

#[tokio::test]
async fn duplicate_create_is_301_already_exists() {
    let sim = sim().await;
    let sid = login(sim.addr()).await;
    assert_ok(
        &call(sim.addr(), &create_auc_msg(&sid, IMSI)).await,
        "CreateResponse",
    );
    let r = call(sim.addr(), &create_auc_msg(&sid, IMSI)).await;
    assert_fault(&r, "Server", "4006", Some("301"));
    assert_eq!(
        r.text("ema:respDescription"),
        Some("SUBSCRIPTION ALREADY EXISTS")
    );
    assert_eq!(r.text("cai3g:faultrole"), Some("NEF"));

    assert_ok(
        &call(sim.addr(), &create_hlr_msg(&sid, IMSI, MSISDN)).await,
        "CreateResponse",
    );
    let r = call(sim.addr(), &create_hlr_msg(&sid, IMSI, MSISDN)).await;
    assert_fault(&r, "Server", "4006", Some("301"));
    assert_eq!(
        r.text("ema:respDescription"),
        Some("SUBSCRIPTION ALREADY EXISTS")
    );
    assert_eq!(sim.applied_creates().len(), 2);
}

#[tokio::test]
async fn msisdn_is_unique_across_imsis() {
    let sim = sim().await;
    let sid = login(sim.addr()).await;
    for i in [IMSI, IMSI2] {
        assert_ok(
            &call(sim.addr(), &create_auc_msg(&sid, i)).await,
            "CreateResponse",
        );
    }
    assert_ok(
        &call(sim.addr(), &create_hlr_msg(&sid, IMSI, MSISDN)).await,
        "CreateResponse",
    );
    let r = call(sim.addr(), &create_hlr_msg(&sid, IMSI2, MSISDN)).await;
    assert_fault(&r, "Server", "4006", Some("301"));
    let description = r.text("ema:respDescription").expect("description");
    assert_ne!(description, "SUBSCRIPTION ALREADY EXISTS");
    assert!(description.contains("MSISDN"), "{description}");
    assert!(sim.hlr(&imsi(IMSI2)).is_none());

    // Set may not steal the MSISDN either; a free one is fine.
    assert_ok(
        &call(sim.addr(), &create_hlr_msg(&sid, IMSI2, MSISDN2)).await,
        "CreateResponse",
    );
    let r = call(sim.addr(), &set_hlr_msg(&sid, IMSI2, MSISDN, 0)).await;
    assert_fault(&r, "Server", "4006", Some("301"));
    assert_eq!(
        sim.hlr(&imsi(IMSI2)).map(|h| h.msisdn),
        Some(msisdn(MSISDN2))
    );
}

#[tokio::test]
async fn number_change_and_detach_keep_msisdns_unique() {
    const MSISDN3: &str = "4915100000003";
    let sim = sim().await;
    let sid = login(sim.addr()).await;
    for (i, m) in [(IMSI, MSISDN), (IMSI2, MSISDN2)] {
        assert_ok(
            &call(sim.addr(), &create_auc_msg(&sid, i)).await,
            "CreateResponse",
        );
        assert_ok(
            &call(sim.addr(), &create_hlr_msg(&sid, i, m)).await,
            "CreateResponse",
        );
    }
    let holder = |m: &str| {
        sim.subscribers()
            .into_iter()
            .filter(|s| s.msisdn.as_ref().map(Msisdn::as_str) == Some(m))
            .map(|s| s.imsi)
            .collect::<Vec<_>>()
    };
    // Another IMSI's number: 301, nothing changes.
    let r = call(sim.addr(), &change_msisdn_msg(&sid, IMSI, MSISDN, MSISDN2)).await;
    assert_fault(&r, "Server", "4006", Some("301"));
    assert_eq!(holder(MSISDN), [imsi(IMSI)]);
    assert_eq!(holder(MSISDN2), [imsi(IMSI2)]);
    // A free number: applied, the old one freed.
    assert_ok(
        &call(sim.addr(), &change_msisdn_msg(&sid, IMSI, MSISDN, MSISDN3)).await,
        "SetResponse",
    );
    assert_eq!(holder(MSISDN3), [imsi(IMSI)]);
    assert!(holder(MSISDN).is_empty());
    let r = call(
        sim.addr(),
        &by_id_msg(&sid, "Get", HLR_TYPE, &hlr_msisdn_id(MSISDN)),
    )
    .await;
    assert_fault(&r, "Server", "4006", Some("13020"));
    // The same Set again: its MOId no longer names the subscription.
    let r = call(sim.addr(), &change_msisdn_msg(&sid, IMSI, MSISDN, MSISDN3)).await;
    assert_fault(&r, "Server", "4006", Some("13020"));
    assert_eq!(holder(MSISDN3), [imsi(IMSI)]);

    // Detach: a Delete by both keys only matches the pair as it is.
    let wrong_pair = format!("{}{}", hlr_msisdn_id(MSISDN3), hlr_imsi_id(IMSI2));
    let r = call(
        sim.addr(),
        &by_id_msg(&sid, "Delete", HLR_TYPE, &wrong_pair),
    )
    .await;
    assert_fault(&r, "Server", "4006", Some("13020"));
    let pair = format!("{}{}", hlr_msisdn_id(MSISDN2), hlr_imsi_id(IMSI2));
    assert_ok(
        &call(sim.addr(), &by_id_msg(&sid, "Delete", HLR_TYPE, &pair)).await,
        "DeleteResponse",
    );
    assert!(sim.hlr(&imsi(IMSI2)).is_none());
    assert!(sim.auc(&imsi(IMSI2)).is_some(), "the AUC entry stays");
    // The freed number can move to the other IMSI.
    assert_ok(
        &call(sim.addr(), &change_msisdn_msg(&sid, IMSI, MSISDN3, MSISDN2)).await,
        "SetResponse",
    );
    assert_eq!(holder(MSISDN2), [imsi(IMSI)]);
}

#[tokio::test]
async fn hlr_create_without_auc_is_13004() {
    let sim = sim().await;
    let sid = login(sim.addr()).await;
    let r = call(sim.addr(), &create_hlr_msg(&sid, IMSI, MSISDN)).await;
    assert_fault(&r, "Server", "4006", Some("13004"));
    assert_eq!(r.text("ema:respDescription"), Some("AUC DATA MISSING"));
    assert!(sim.subscribers().is_empty());
}

#[tokio::test]
async fn absent_objects_are_13020_not_found() {
    let sim = sim().await;
    let sid = login(sim.addr()).await;
    let requests = [
        by_id_msg(&sid, "Get", AUC_TYPE, &auc_id(IMSI)),
        by_id_msg(&sid, "Get", HLR_TYPE, &hlr_msisdn_id(MSISDN)),
        by_id_msg(&sid, "Delete", AUC_TYPE, &auc_id(IMSI)),
        by_id_msg(&sid, "Delete", HLR_TYPE, &hlr_imsi_id(IMSI)),
        set_hlr_msg(&sid, IMSI, MSISDN, 1),
    ];
    for request in requests {
        let r = call(sim.addr(), &request).await;
        assert_fault(&r, "Server", "4006", Some("13020"));
        assert_eq!(
            r.text("ema:respDescription"),
            Some("SUBSCRIPTION NOT FOUND")
        );
    }
}

#[tokio::test]
async fn undecodable_body_is_a_client_fault_4001() {
    let sim = sim().await;
    let r = call(sim.addr(), "<not-soap").await;
    assert_fault(&r, "Client", "4001", None);
    let r = call(sim.addr(), &envelope("", "<c:Frobnicate/>")).await;
    assert_fault(&r, "Client", "4001", None);
    assert_eq!(sim.counts().undecodable, 2);
}

#[tokio::test]
async fn soap_action_naming_another_operation_is_rejected() {
    let sim = sim().await;
    let sid = login(sim.addr()).await;
    let request = soap_post(Some("\"CAI3G#Delete\""), &create_auc_msg(&sid, IMSI));
    let r = exchange(sim.addr(), &request, Some(Duration::from_secs(10)))
        .await
        .reply();
    assert_fault(&r, "Client", "4001", None);
    assert!(sim.auc(&imsi(IMSI)).is_none());
}

// ---------------------------------------------------------------------------------------
// Fault injection

#[tokio::test]
async fn each_fault_kind_via_scripted_rules() {
    let sim = sim().await;
    let sid = login(sim.addr()).await;
    let cases = [
        (FaultKind::Busy, "Server", "4005", None),
        (FaultKind::Session, "Client", "1001", Some("1010")),
        (FaultKind::External, "Server", "4006", Some("13001")),
        (FaultKind::Invalid, "Client", "4001", None),
    ];
    for (kind, soap, code, sub) in cases {
        sim.push_rule(Rule::once(
            Operation::Create,
            MoKind::GsmAuc,
            Action::Fault(kind),
        ));
        let r = call(sim.addr(), &create_auc_msg(&sid, IMSI)).await;
        assert_fault(&r, soap, code, sub);
        assert!(
            sim.auc(&imsi(IMSI)).is_none(),
            "{kind:?} must not apply the request"
        );
    }
    let busy = call(sim.addr(), &{
        sim.push_rule(Rule::any(Action::Fault(FaultKind::Busy), 1));
        create_auc_msg(&sid, IMSI)
    })
    .await;
    assert_eq!(
        busy.text("cai3g:reasonText"),
        Some("Temporarily overloaded")
    );
    let external = call(sim.addr(), &{
        sim.push_rule(Rule::any(Action::Fault(FaultKind::External), 1));
        create_auc_msg(&sid, IMSI)
    })
    .await;
    assert_eq!(
        external.text("ema:respDescription"),
        Some("SERVICE NOT DEFINED")
    );

    // Rules are used up: the next create goes through.
    assert!(sim.rules().is_empty());
    assert_ok(
        &call(sim.addr(), &create_auc_msg(&sid, IMSI)).await,
        "CreateResponse",
    );
    let injected = sim.counts().injected;
    assert_eq!(
        (
            injected.busy,
            injected.session,
            injected.external,
            injected.invalid
        ),
        (2, 1, 2, 1)
    );
}

#[tokio::test]
async fn rules_match_only_their_operation_and_kind() {
    let sim = sim().await;
    let sid = login(sim.addr()).await;
    sim.push_rule(Rule::once(
        Operation::Create,
        MoKind::GsmHlr,
        Action::Fault(FaultKind::Busy),
    ));
    // An AUC create does not match the HLR rule.
    assert_ok(
        &call(sim.addr(), &create_auc_msg(&sid, IMSI)).await,
        "CreateResponse",
    );
    assert_eq!(sim.rules().len(), 1);
    let r = call(sim.addr(), &create_hlr_msg(&sid, IMSI, MSISDN)).await;
    assert_fault(&r, "Server", "4005", None);
    sim.push_rule(Rule::any(Action::Fault(FaultKind::Busy), 3));
    sim.clear_rules();
    assert_ok(
        &call(sim.addr(), &create_hlr_msg(&sid, IMSI, MSISDN)).await,
        "CreateResponse",
    );
}

#[tokio::test]
async fn drop_after_apply_applies_then_closes_without_response() {
    let sim = sim().await;
    let sid = login(sim.addr()).await;
    sim.push_rule(Rule::once(
        Operation::Create,
        MoKind::GsmAuc,
        Action::DropAfterApply,
    ));
    let outcome = exchange(
        sim.addr(),
        &soap_post(None, &create_auc_msg(&sid, IMSI)),
        Some(Duration::from_secs(10)),
    )
    .await;
    assert!(matches!(outcome, Outcome::Closed), "{outcome:?}");
    assert!(sim.auc(&imsi(IMSI)).is_some(), "the change was applied");
    assert_eq!(sim.counts().injected.drop_after_apply, 1);
    // The client's retry learns that the object exists.
    let r = call(sim.addr(), &create_auc_msg(&sid, IMSI)).await;
    assert_fault(&r, "Server", "4006", Some("301"));
    assert_eq!(sim.applied_creates().len(), 1);
}

#[tokio::test]
async fn hang_after_apply_holds_the_connection_until_shutdown() {
    let sim = sim().await;
    let sid = login(sim.addr()).await;
    sim.push_rule(Rule::once(
        Operation::Create,
        MoKind::GsmAuc,
        Action::HangAfterApply,
    ));
    let mut stream = TcpStream::connect(sim.addr()).await.expect("connect");
    stream
        .write_all(&soap_post(None, &create_auc_msg(&sid, IMSI)))
        .await
        .expect("write");
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(300), stream.read(&mut buf)).await;
    assert!(early.is_err(), "no answer while hanging");
    assert!(sim.auc(&imsi(IMSI)).is_some(), "the change was applied");
    assert_eq!(sim.counts().injected.hang_after_apply, 1);

    // Shutdown releases held connections: the client sees EOF without a response.
    tokio::time::timeout(Duration::from_secs(10), sim.shutdown())
        .await
        .expect("shutdown finishes");
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
        .await
        .expect("closed after shutdown")
        .unwrap_or(0);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn timeout_neither_answers_nor_applies() {
    let sim = sim().await;
    let sid = login(sim.addr()).await;
    sim.push_rule(Rule::once(
        Operation::Create,
        MoKind::GsmAuc,
        Action::Timeout,
    ));
    let outcome = exchange(
        sim.addr(),
        &soap_post(None, &create_auc_msg(&sid, IMSI)),
        Some(Duration::from_millis(300)),
    )
    .await;
    assert!(matches!(outcome, Outcome::TimedOut), "{outcome:?}");
    assert!(sim.auc(&imsi(IMSI)).is_none());
    assert_eq!(sim.counts().injected.timeout, 1);
    // The connection the client gave up on does not block other clients.
    assert_ok(
        &call(sim.addr(), &create_auc_msg(&sid, IMSI)).await,
        "CreateResponse",
    );
}

#[tokio::test]
async fn delay_rule_and_latency_delay_the_answer() {
    let sim = sim().await;
    let sid = login(sim.addr()).await;
    sim.push_rule(Rule::once(
        Operation::Create,
        MoKind::GsmAuc,
        Action::Delay(Duration::from_millis(250)),
    ));
    let t0 = std::time::Instant::now();
    assert_ok(
        &call(sim.addr(), &create_auc_msg(&sid, IMSI)).await,
        "CreateResponse",
    );
    assert!(
        t0.elapsed() >= Duration::from_millis(250),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(sim.counts().injected.delay, 1);

    let latency = FaultConfig {
        latency: Duration::from_millis(200),
        ..FaultConfig::default()
    };
    sim.set_faults(latency).expect("valid");
    let t0 = std::time::Instant::now();
    let r = call(sim.addr(), &by_id_msg(&sid, "Get", AUC_TYPE, &auc_id(IMSI))).await;
    assert_ok(&r, "GetResponse");
    assert!(
        t0.elapsed() >= Duration::from_millis(200),
        "{:?}",
        t0.elapsed()
    );
}

#[tokio::test]
async fn random_faults_follow_rates_and_replay_from_the_seed() {
    async fn run(seed: u64) -> Vec<u16> {
        let faults = FaultConfig {
            busy: 0.5,
            ..FaultConfig::default()
        };
        let sim = start(HlrSimConfig {
            seed,
            faults,
            ..HlrSimConfig::new(USER, PWD)
        })
        .await;
        let sid = login(sim.addr()).await;
        let mut statuses = Vec::new();
        for _ in 0..24 {
            let r = call(sim.addr(), &by_id_msg(&sid, "Get", AUC_TYPE, &auc_id(IMSI))).await;
            // Busy answers 4005; a real answer is 13020 (nothing stored).
            let code = r
                .text("cai3g:faultcode")
                .and_then(|c| c.parse().ok())
                .expect("a fault");
            statuses.push(code);
        }
        assert_eq!(
            sim.counts().injected.busy,
            statuses.iter().filter(|c| **c == 4005).count() as u64
        );
        sim.shutdown().await;
        statuses
    }
    let a = run(42).await;
    assert_eq!(a, run(42).await, "same seed, same faults");
    let busy = a.iter().filter(|c| **c == 4005).count();
    assert!((4..=20).contains(&busy), "about half busy: {a:?}");
    assert!(a.iter().all(|c| *c == 4005 || *c == 4006));
}

#[tokio::test]
async fn invalid_fault_config_is_refused() {
    let faults = FaultConfig {
        busy: 0.7,
        timeout: 0.7,
        ..FaultConfig::default()
    };
    let err = hlr_sim::start(HlrSimConfig {
        faults,
        ..HlrSimConfig::new(USER, PWD)
    })
    .await;
    assert!(err.is_err());
    let sim = sim().await;
    assert!(
        sim.set_faults(FaultConfig {
            session: 1.5,
            ..FaultConfig::default()
        })
        .is_err()
    );
    assert_eq!(sim.faults(), FaultConfig::default());
}

// ---------------------------------------------------------------------------------------
// Sessions

#[tokio::test(start_paused = true)]
async fn sessions_expire_after_the_idle_lifetime() {
    let sim = sim().await;
    let addr = sim.addr();
    let r = call_untimed(addr, &login_msg(USER, PWD)).await;
    let sid = r.text("cai3g:sessionId").expect("sessionId").to_owned();

    // Each use restarts the ten-minute idle timer.
    tokio::time::advance(Duration::from_secs(9 * 60)).await;
    assert_ok(
        &call_untimed(addr, &create_auc_msg(&sid, IMSI)).await,
        "CreateResponse",
    );
    tokio::time::advance(Duration::from_secs(9 * 60)).await;
    let get = by_id_msg(&sid, "Get", AUC_TYPE, &auc_id(IMSI));
    assert_ok(&call_untimed(addr, &get).await, "GetResponse");

    tokio::time::advance(Duration::from_secs(10 * 60 + 1)).await;
    assert_session_fault(&call_untimed(addr, &get).await);

    // A new login works and sees the same data.
    let r = call_untimed(addr, &login_msg(USER, PWD)).await;
    let sid2 = r.text("cai3g:sessionId").expect("sessionId").to_owned();
    assert_ne!(sid, sid2);
    assert_ok(
        &call_untimed(addr, &by_id_msg(&sid2, "Get", AUC_TYPE, &auc_id(IMSI))).await,
        "GetResponse",
    );
}

#[tokio::test]
async fn expiring_all_sessions_forces_a_relogin() {
    let sim = sim().await;
    let sid = login(sim.addr()).await;
    let sid2 = login(sim.addr()).await;
    assert_eq!(sim.expire_sessions(), 2);
    assert_session_fault(&call(sim.addr(), &create_auc_msg(&sid, IMSI)).await);
    assert_session_fault(&call(sim.addr(), &logout_msg(&sid2)).await);
    let sid = login(sim.addr()).await;
    assert_ok(
        &call(sim.addr(), &create_auc_msg(&sid, IMSI)).await,
        "CreateResponse",
    );
}

// ---------------------------------------------------------------------------------------
// Admin API

async fn admin(addr: SocketAddr, method: &str, path: &str, body: &str) -> Reply {
    let headers = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/json\r\n"
    };
    exchange(
        addr,
        &http_request(method, path, headers, body),
        Some(Duration::from_secs(10)),
    )
    .await
    .reply()
}

#[tokio::test]
async fn admin_api_json_round_trip() {
    let sim = sim().await;
    let addr = sim.addr();
    let sid = login(addr).await;
    assert_ok(
        &call(addr, &create_auc_encrypted_msg(&sid, IMSI)).await,
        "CreateResponse",
    );
    assert_ok(
        &call(addr, &create_hlr_msg(&sid, IMSI, MSISDN)).await,
        "CreateResponse",
    );
    assert_ok(
        &call(addr, &create_auc_msg(&sid, IMSI2)).await,
        "CreateResponse",
    );

    // State, keys masked.
    let r = admin(addr, "GET", "/sim/state", "").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(
        !r.body.contains(KI),
        "keys never leave through the admin API"
    );
    assert_eq!(
        r.json(),
        serde_json::json!({
            "subscribers": [
                {
                    "imsi": IMSI, "msisdn": MSISDN, "profile_id": 12,
                    "auc": {"ki": "***", "encrypted": true, "a4ind": 2, "adkey": 7, "fsetind": 1},
                    "hlr": {"msisdn": MSISDN, "profile_id": 12, "obo": false, "obi": false}
                },
                {
                    "imsi": IMSI2, "msisdn": null, "profile_id": null,
                    "auc": {"ki": "***", "encrypted": false, "a4ind": null, "adkey": null, "fsetind": 0},
                    "hlr": null
                }
            ],
            "sessions": 1
        })
    );

    // Stats.
    let stats = admin(addr, "GET", "/sim/stats", "").await.json();
    assert_eq!(stats["login"], 1);
    assert_eq!(
        stats["create"],
        serde_json::json!({"gsm_hlr": 1, "gsm_auc": 2})
    );
    assert_eq!(stats["injected"]["busy"], 0);

    // Faults: replace, read back, take effect, refuse nonsense.
    let r = admin(
        addr,
        "PUT",
        "/sim/faults",
        r#"{"latency_ms": 1, "external": 1.0}"#,
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let faults = admin(addr, "GET", "/sim/faults", "").await.json();
    assert_eq!(faults["external"], 1.0);
    assert_eq!(faults["latency_ms"], 1);
    assert_eq!(faults["busy"], 0.0);
    assert_eq!(sim.faults().external, 1.0);
    let r = call(addr, &by_id_msg(&sid, "Get", AUC_TYPE, &auc_id(IMSI))).await;
    assert_fault(&r, "Server", "4006", Some("13001"));
    for bad in [
        r#"{"busy": 2}"#,
        r#"{"bussy": 0.1}"#,
        r#"{"busy": 0.6, "timeout": 0.6}"#,
        "nope",
    ] {
        let r = admin(addr, "PUT", "/sim/faults", bad).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert!(r.json()["error"].is_string());
    }
    assert_eq!(admin(addr, "PUT", "/sim/faults", "{}").await.status, 204);
    assert_eq!(sim.faults(), FaultConfig::default());

    // Rules: one or many, listed, applied in order, cleared.
    let rules = r#"[{"op": "get", "kind": "gsm_auc", "action": {"fault": "busy"}, "times": 2},
                    {"action": "drop_after_apply"}]"#;
    assert_eq!(admin(addr, "POST", "/sim/rules", rules).await.status, 204);
    let one = r#"{"op": "login", "action": {"delay_ms": 5}}"#;
    assert_eq!(admin(addr, "POST", "/sim/rules", one).await.status, 204);
    let listed = admin(addr, "GET", "/sim/rules", "").await.json();
    assert_eq!(
        listed,
        serde_json::json!([
            {"op": "get", "kind": "gsm_auc", "action": {"fault": "busy"}, "times": 2},
            {"op": null, "kind": null, "action": "drop_after_apply", "times": 1},
            {"op": "login", "kind": null, "action": {"delay_ms": 5}, "times": 1}
        ])
    );
    assert_eq!(sim.rules().len(), 3);
    let r = call(addr, &by_id_msg(&sid, "Get", AUC_TYPE, &auc_id(IMSI))).await;
    assert_fault(&r, "Server", "4005", None);
    let bad_rule = admin(addr, "POST", "/sim/rules", r#"{"action": "explode"}"#).await;
    assert_eq!(bad_rule.status, 400);
    assert_eq!(admin(addr, "DELETE", "/sim/rules", "").await.status, 204);
    assert!(sim.rules().is_empty());
    assert_eq!(
        admin(addr, "GET", "/sim/rules", "").await.json(),
        serde_json::json!([])
    );

    // Sessions.
    let r = admin(addr, "POST", "/sim/sessions/expire", "").await;
    assert_eq!(r.json(), serde_json::json!({"expired": 1}));
    assert_session_fault(&call(addr, &by_id_msg(&sid, "Get", AUC_TYPE, &auc_id(IMSI))).await);

    // Reset.
    assert_eq!(admin(addr, "DELETE", "/sim/state", "").await.status, 204);
    assert!(sim.subscribers().is_empty());
    assert_eq!(
        admin(addr, "GET", "/sim/state", "").await.json()["subscribers"],
        serde_json::json!([])
    );

    // Unknown resources and methods.
    assert_eq!(admin(addr, "GET", "/sim/nope", "").await.status, 404);
    let r = admin(addr, "POST", "/sim/state", "").await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, DELETE"));
}

// ---------------------------------------------------------------------------------------
// HTTP plumbing

#[tokio::test]
async fn oversized_body_is_413() {
    let sim = sim().await;
    // Declared too large: refused before any of the body is read.
    let head = format!(
        "POST {PATH} HTTP/1.1\r\nHost: hlr-sim\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n",
        2 * 1024 * 1024
    );
    let r = exchange(sim.addr(), head.as_bytes(), Some(Duration::from_secs(10)))
        .await
        .reply();
    assert_eq!(r.status, 413);
    assert_eq!(sim.counts().oversized, 1);
    // Exactly at the limit is still read (and then rejected by the codec's own cap or
    // decoded), never 413.
    let body = " ".repeat(1024 * 1024);
    let r = exchange(
        sim.addr(),
        &soap_post(None, &body),
        Some(Duration::from_secs(10)),
    )
    .await
    .reply();
    assert_ne!(r.status, 413);
    assert_eq!(sim.counts().oversized, 1);
}

#[tokio::test]
async fn only_post_on_the_endpoint_path() {
    let sim = sim().await;
    let r = exchange(
        sim.addr(),
        &http_request("GET", PATH, "", ""),
        Some(Duration::from_secs(10)),
    )
    .await
    .reply();
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST"));
    let r = exchange(
        sim.addr(),
        &http_request("POST", "/elsewhere", "", &login_msg(USER, PWD)),
        Some(Duration::from_secs(10)),
    )
    .await
    .reply();
    assert_eq!(r.status, 404);
    assert_eq!(sim.counts().login, 0);
}

#[tokio::test]
async fn custom_path_and_keep_alive() {
    let config = HlrSimConfig {
        path: "/Provisioning".to_owned(),
        ..HlrSimConfig::new(USER, PWD)
    };
    let sim = start(config).await;
    assert!(sim.url().ends_with("/Provisioning"));
    // Two exchanges on one connection.
    let mut stream = TcpStream::connect(sim.addr()).await.expect("connect");
    let body = login_msg(USER, PWD);
    let first = format!(
        "POST /Provisioning HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(first.as_bytes()).await.expect("write");
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = Vec::new();
    while !String::from_utf8_lossy(&got).contains("</SOAP-ENV:Envelope>") {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("first answer")
            .expect("read");
        assert!(n > 0, "closed early");
        got.extend_from_slice(&buf[..n]);
    }
    let sid = parse_reply(&got)
        .text("cai3g:sessionId")
        .expect("sessionId")
        .to_owned();
    let second = String::from_utf8(soap_post(None, &create_auc_msg(&sid, IMSI)))
        .expect("utf8")
        .replace(PATH, "/Provisioning");
    let r = exchange_on(stream, second.as_bytes(), Some(Duration::from_secs(10)))
        .await
        .reply();
    assert_ok(&r, "CreateResponse");
    assert!(
        hlr_sim::start(HlrSimConfig {
            path: "/sim/x".to_owned(),
            ..HlrSimConfig::new(USER, PWD)
        })
        .await
        .is_err()
    );
}

#[tokio::test]
async fn shutdown_closes_the_listener() {
    let sim = sim().await;
    let addr = sim.addr();
    let _sid = login(addr).await;
    sim.shutdown().await;
    sim.shutdown().await; // idempotent
    assert!(TcpStream::connect(addr).await.is_err(), "listener closed");
}

#[tokio::test]
async fn serves_https_with_a_rustls_config() {
    use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
    use std::sync::Arc;

    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("cert");
    let cert_der = cert.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert_der.clone()], key)
        .expect("server config");
    let sim = start(HlrSimConfig {
        tls: Some(Arc::new(server)),
        ..HlrSimConfig::new(USER, PWD)
    })
    .await;
    assert!(sim.url().starts_with("https://"));

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert_der).expect("root");
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    let tcp = TcpStream::connect(sim.addr()).await.expect("connect");
    let name = ServerName::try_from("localhost").expect("name");
    let tls = connector.connect(name, tcp).await.expect("TLS handshake");
    let r = exchange_on(
        tls,
        &soap_post(None, &login_msg(USER, PWD)),
        Some(Duration::from_secs(10)),
    )
    .await
    .reply();
    assert_ok(&r, "LoginResponse");

    sim.shutdown().await;
}

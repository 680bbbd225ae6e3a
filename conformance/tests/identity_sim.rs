//! The identity-verification client (`adapters::identity`) against the simulator over real
//! sockets and TLS: each decision, each injected fault and how the client classifies it,
//! TLS and credential refusals, idempotent replays, and that neither the name nor the ID
//! number reaches a log line, an error or a `Debug`.

mod common;

#[path = "support/captured.rs"]
mod captured;

use adapters::http::HttpClient;
use adapters::identity::{
    Capture, ChannelContext, CivilDate, ClientAuth, ClientIdentity, Code, Evidence, FaceMatch,
    IdNumber, IdType, IdentityClient, IdentityClientConfig, IdentityError, IdentityVerifier,
    PersonName, RejectCode, Requirements, Score, Token, Unavailable, VERIFICATIONS_PATH, Verdict,
    VerificationRequest,
};
use captured::Captured;
use common::Pki;
use conformance::identity_sim::{
    self, Action, IdentitySimConfig, IdentitySimHandle, Rule, server_tls_config,
};
use std::time::Duration;

/// The worked example of GB 11643-1999: well-formed, check character `X`.
const ID: &str = "11010519491231002X";
/// Another well-formed number (Shenzhen, born 1990-03-07).
const OTHER_ID: &str = "440304199003074510";
const NAME: &str = "张三丰";
const TOKEN: &str = "test-bearer-token";

// ---------------------------------------------------------------------------------------
// Set-up

/// A running simulator, its PKI and a client for it.
struct World {
    pki: Pki,
    sim: IdentitySimHandle,
    client: IdentityClient,
}

impl World {
    /// A simulator without client certificates, requiring the bearer token; today is
    /// fixed at 2025-06-13.
    async fn new() -> Self {
        Self::with(false, |_| {}).await
    }

    async fn with(mutual: bool, edit: impl FnOnce(&mut IdentitySimConfig)) -> Self {
        let pki = Pki::new("identity test CA");
        let server = pki.issue("idv");
        let client_ca = mutual.then_some(pki.ca_pem.as_bytes());
        let tls = server_tls_config(
            server.cert_pem.as_bytes(),
            server.key_pem.as_bytes(),
            client_ca,
        )
        .expect("tls");
        let mut config = IdentitySimConfig::new(tls);
        config.auth = ClientAuth::Bearer(String::from(TOKEN).into());
        config.today = CivilDate::new(2025, 6, 13);
        edit(&mut config);
        let sim = identity_sim::start(config).await.expect("start");
        let client = IdentityClient::new(client_config(&sim, &pki, None)).expect("client");
        Self { pki, sim, client }
    }

    fn client_with(&self, edit: impl FnOnce(&mut IdentityClientConfig)) -> IdentityClient {
        let mut cfg = client_config(&self.sim, &self.pki, None);
        edit(&mut cfg);
        IdentityClient::new(cfg).expect("client")
    }
}

fn client_config(
    sim: &IdentitySimHandle,
    pki: &Pki,
    identity: Option<ClientIdentity>,
) -> IdentityClientConfig {
    IdentityClientConfig {
        base_url: sim.url(),
        auth: ClientAuth::Bearer(String::from(TOKEN).into()),
        roots_pem: pki.ca_pem.clone().into_bytes(),
        identity,
        timeout: Duration::from_secs(10),
    }
}

fn tok(s: &str) -> Token {
    Token::parse(s, "test").expect("token")
}

fn face(score: f64, liveness: bool) -> Option<Evidence> {
    Some(Evidence::FaceMatch(FaceMatch {
        transaction_id: tok("fm-1"),
        score: Score::new(score).expect("score"),
        liveness,
    }))
}

/// A China store request with a card read and a good face match.
fn request(request_id: &str) -> VerificationRequest {
    VerificationRequest {
        request_id: tok(request_id),
        name: PersonName::parse(NAME).expect("name"),
        id_type: IdType::ResidentId,
        id_number: IdNumber::parse(ID).expect("id"),
        nationality: None,
        id_expiry: CivilDate::new(2030, 1, 1),
        capture: Capture::CardReader {
            reader_serial: tok("R-1"),
            payload_ref: None,
        },
        evidence: face(0.93, true),
        channel: ChannelContext {
            tenant: Some(tok("cn")),
            store: Some(tok("SZ-0042")),
            clerk: Some(tok("C1")),
            device: Some(tok("T7")),
        },
        requirements: Requirements {
            evidence_required: true,
            manual_capture_allowed: false,
        },
    }
}

async fn verdict(client: &IdentityClient, req: &VerificationRequest) -> Verdict {
    client.verify(req).await.expect("decision").verdict
}

// ---------------------------------------------------------------------------------------
// Decisions

#[tokio::test]
async fn well_formed_evidence_passes_by_default() {
    let w = World::new().await;
    let verifier: &dyn IdentityVerifier = &w.client;
    let resp = verifier.verify(&request("r-pass")).await.expect("decision");
    assert_eq!(resp.verdict, Verdict::Pass);
    assert_eq!(resp.request_id, tok("r-pass"));
    assert!(resp.verification_id.is_some());
    let counts = w.sim.counts();
    assert_eq!(
        (counts.requests, counts.passed, counts.decisions()),
        (1, 1, 1)
    );
    w.sim.shutdown().await;
}

/// A name, a change to a good request, and the code it must be rejected with.
type Case = (&'static str, fn(&mut VerificationRequest), RejectCode);

#[tokio::test]
async fn each_check_rejects_with_its_code() {
    let w = World::new().await;
    let cases: [Case; 6] = [
        (
            "mismatch",
            |r| r.id_number = IdNumber::parse("110105194912310021").expect("id"),
            RejectCode::IdentityMismatch,
        ),
        (
            "low score",
            |r| r.evidence = face(0.42, true),
            RejectCode::FaceCheckFailed,
        ),
        (
            "no liveness",
            |r| r.evidence = face(0.99, false),
            RejectCode::FaceCheckFailed,
        ),
        (
            "no evidence",
            |r| r.evidence = None,
            RejectCode::FaceCheckRequired,
        ),
        (
            "manual",
            |r| r.capture = Capture::Manual,
            RejectCode::IdCaptureMethodNotAllowed,
        ),
        (
            "expired",
            |r| r.id_expiry = CivilDate::new(2025, 6, 12),
            RejectCode::IdExpired,
        ),
    ];
    for (what, edit, code) in cases {
        let mut req = request(&format!("r-{}", what.replace(' ', "-")));
        edit(&mut req);
        assert_eq!(
            verdict(&w.client, &req).await,
            Verdict::Reject(code),
            "{what}"
        );
    }
    let counts = w.sim.counts();
    assert_eq!(counts.rejected.get(RejectCode::FaceCheckFailed), 2);
    for code in RejectCode::ALL {
        assert!(counts.rejected.get(code) >= 1, "{code}");
    }
    assert_eq!(counts.passed, 0);
    w.sim.shutdown().await;
}

#[tokio::test]
async fn injected_reject_for_one_id_number_and_flag_for_all() {
    let w = World::new().await;
    w.sim.push_rule(
        Rule::always(Action::Reject(RejectCode::IdentityMismatch))
            .for_id(IdNumber::parse(ID).expect("id")),
    );
    assert_eq!(
        verdict(&w.client, &request("r-1")).await,
        Verdict::Reject(RejectCode::IdentityMismatch)
    );
    let mut other = request("r-2");
    other.id_number = IdNumber::parse(OTHER_ID).expect("id");
    assert_eq!(verdict(&w.client, &other).await, Verdict::Pass);
    let shown = format!("{:?}", w.sim.rules());
    assert!(!shown.contains(ID), "{shown}");

    w.sim.clear_rules();
    let reason = Code::parse("watchlist_near_match", "t").expect("code");
    w.sim.push_rule(Rule::once(Action::Flag(reason.clone())));
    assert_eq!(
        verdict(&w.client, &request("r-3")).await,
        Verdict::Flag(reason)
    );
    assert_eq!(verdict(&w.client, &request("r-4")).await, Verdict::Pass);
    let counts = w.sim.counts();
    assert_eq!(
        (counts.injected.reject, counts.injected.flag, counts.flagged),
        (1, 1, 1)
    );
    w.sim.shutdown().await;
}

#[tokio::test]
async fn a_repeated_request_id_gets_the_first_decision_and_a_reused_one_is_refused() {
    let w = World::new().await;
    w.sim
        .push_rule(Rule::once(Action::Reject(RejectCode::FaceCheckFailed)));
    let first = w.client.verify(&request("r-same")).await.expect("first");
    let again = w.client.verify(&request("r-same")).await.expect("again");
    assert_eq!(first, again);
    assert_eq!(first.verdict, Verdict::Reject(RejectCode::FaceCheckFailed));
    let mut changed = request("r-same");
    changed.evidence = face(0.99, true);
    assert_eq!(
        w.client.verify(&changed).await,
        Err(IdentityError::Refused { status: 409 })
    );
    let counts = w.sim.counts();
    assert_eq!(
        (counts.decisions(), counts.replays, counts.conflicts),
        (1, 1, 1)
    );
    w.sim.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// Failures and their classification

#[tokio::test]
async fn unavailable_then_retry_with_the_same_request_succeeds() {
    let w = World::new().await;
    w.sim.push_rule(Rule::once(Action::Status(503)));
    let req = request("r-retry");
    let err = w.client.verify(&req).await.expect_err("503");
    assert_eq!(
        err,
        IdentityError::Unavailable(Unavailable::Status {
            status: 503,
            retry_after: Some(Duration::from_secs(1)),
        })
    );
    assert!(err.retryable());
    assert_eq!(verdict(&w.client, &req).await, Verdict::Pass);
    w.sim.push_rule(Rule::once(Action::Status(429)));
    let err = w.client.verify(&request("r-429")).await.expect_err("429");
    assert!(err.retryable(), "{err}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    let counts = w.sim.counts();
    assert_eq!((counts.injected.status, counts.passed), (2, 1));
    w.sim.shutdown().await;
}

#[tokio::test]
async fn a_hung_verifier_is_a_retryable_timeout() {
    let w = World::new().await;
    w.sim.push_rule(Rule::once(Action::Hang));
    let client = w.client_with(|c| c.timeout = Duration::from_millis(300));
    let err = client
        .verify(&request("r-hang"))
        .await
        .expect_err("timeout");
    assert_eq!(err, IdentityError::Unavailable(Unavailable::Timeout));
    assert!(err.retryable());
    assert_eq!(w.sim.counts().injected.hang, 1);
    assert_eq!(verdict(&client, &request("r-hang")).await, Verdict::Pass);
    w.sim.shutdown().await;
}

#[tokio::test]
async fn a_broken_answer_is_permanent() {
    let w = World::new().await;
    w.sim.push_rule(Rule::once(Action::Malformed));
    let err = w.client.verify(&request("r-bad")).await.expect_err("bad");
    assert!(matches!(err, IdentityError::BadResponse(_)), "{err:?}");
    assert!(!err.retryable());
    w.sim.push_rule(Rule::once(Action::Status(400)));
    let err = w.client.verify(&request("r-400")).await.expect_err("400");
    assert_eq!(err, IdentityError::Refused { status: 400 });
    assert!(!err.retryable());
    w.sim.shutdown().await;
}

#[tokio::test]
async fn wrong_or_missing_credentials_are_refused_permanently() {
    let w = World::new().await;
    let wrong = w.client_with(|c| c.auth = ClientAuth::Bearer(String::from("nope").into()));
    let none = w.client_with(|c| c.auth = ClientAuth::None);
    for client in [&wrong, &none] {
        let err = client.verify(&request("r-auth")).await.expect_err("401");
        assert_eq!(err, IdentityError::Refused { status: 401 });
        assert!(!err.retryable());
    }
    assert_eq!(w.sim.counts().unauthorized, 2);
    assert_eq!(w.sim.counts().decisions(), 0);
    w.sim.shutdown().await;

    let w = World::with(false, |c| {
        c.auth = ClientAuth::ApiKey {
            header: "X-Api-Key".into(),
            key: String::from("k-123").into(),
        };
    })
    .await;
    let keyed = w.client_with(|c| {
        c.auth = ClientAuth::ApiKey {
            header: "x-api-key".into(),
            key: String::from("k-123").into(),
        };
    });
    assert_eq!(verdict(&keyed, &request("r-key")).await, Verdict::Pass);
    w.sim.shutdown().await;
}

#[tokio::test]
async fn an_untrusted_server_certificate_is_a_permanent_tls_error() {
    let w = World::new().await;
    let stranger = Pki::new("another CA");
    let client = w.client_with(|c| c.roots_pem = stranger.ca_pem.clone().into_bytes());
    let err = client.verify(&request("r-tls")).await.expect_err("tls");
    assert!(matches!(err, IdentityError::Tls(_)), "{err:?}");
    assert!(!err.retryable());
    assert_eq!(w.sim.counts().requests, 0);
    w.sim.shutdown().await;
}

#[tokio::test]
async fn mutual_tls_admits_only_a_certificate_from_the_client_ca() {
    let w = World::with(true, |_| {}).await;
    let without = w
        .client
        .verify(&request("r-no-cert"))
        .await
        .expect_err("no cert");
    // The refusal is a TLS alert; should the server's close win the race against our
    // write, it is a broken connection instead. Either way no request got through.
    assert!(
        matches!(
            without,
            IdentityError::Tls(_) | IdentityError::Unavailable(Unavailable::Io(_))
        ),
        "{without:?}"
    );
    let id = w.pki.issue("gateway");
    let with = IdentityClient::new(client_config(
        &w.sim,
        &w.pki,
        Some(ClientIdentity {
            cert_pem: id.cert_pem.into_bytes(),
            key_pem: id.key_pem.into_bytes().into(),
        }),
    ))
    .expect("client");
    assert_eq!(verdict(&with, &request("r-cert")).await, Verdict::Pass);
    assert_eq!(w.sim.counts().requests, 1);
    w.sim.shutdown().await;
}

#[tokio::test]
async fn a_request_the_simulator_cannot_read_is_refused_naming_the_member() {
    let w = World::new().await;
    let http = HttpClient::builder()
        .add_root_pem(w.pki.ca_pem.as_bytes())
        .build()
        .expect("http");
    let url = format!("{}{VERIFICATIONS_PATH}", w.sim.url());
    let auth = ("Authorization", format!("Bearer {TOKEN}"));
    let json = ("Content-Type", "application/json".to_owned());
    let body = format!(
        r#"{{"request_id":"r-x","subject":{{"name":"{NAME}","id_type":"resident_id","id_number":"{ID}-"}},"capture":{{"method":"manual"}},"requirements":{{"evidence_required":false,"manual_capture_allowed":true}}}}"#
    );
    let resp = http
        .post(&url, &[auth.clone(), json.clone()], body.clone().into())
        .await
        .expect("answer");
    assert_eq!(resp.status, 400);
    let text = String::from_utf8_lossy(&resp.body);
    assert_eq!(
        text,
        r#"{"error":"invalid_request","field":"subject.id_number"}"#
    );
    let plain = ("Content-Type", "text/plain".to_owned());
    let resp = http
        .post(&url, &[auth.clone(), plain], body.into())
        .await
        .expect("answer");
    assert_eq!(resp.status, 415);
    let resp = http.get(&url, &[auth]).await.expect("answer");
    assert_eq!(resp.status, 405);
    assert_eq!(w.sim.counts().invalid, 3);
    w.sim.shutdown().await;
}

#[tokio::test]
async fn the_admin_api_steers_the_simulator_over_the_wire() {
    let w = World::new().await;
    let http = HttpClient::builder()
        .add_root_pem(w.pki.ca_pem.as_bytes())
        .build()
        .expect("http");
    let rules = format!("{}/sim/rules", w.sim.url());
    let rule = format!(r#"{{"action":"reject","code":"id_expired","id_number":"{ID}","times":1}}"#);
    let resp = http.post(&rules, &[], rule.into()).await.expect("post");
    assert_eq!(resp.status, 204);
    let listed = http.get(&rules, &[]).await.expect("get");
    assert_eq!(
        String::from_utf8_lossy(&listed.body),
        r#"[{"action":"reject","code":"id_expired","id_number":"***","times":1}]"#
    );
    assert_eq!(
        verdict(&w.client, &request("r-admin")).await,
        Verdict::Reject(RejectCode::IdExpired)
    );
    let bad = http
        .post(&rules, &[], r#"{"action":"flag","code":"Bad Code"}"#.into())
        .await
        .expect("post");
    assert_eq!(bad.status, 400);
    let stats = http
        .get(&format!("{}/sim/stats", w.sim.url()), &[])
        .await
        .expect("stats");
    let stats: serde_json::Value = serde_json::from_slice(&stats.body).expect("json");
    assert_eq!(stats["rejected"]["id_expired"], 1);
    assert_eq!(stats["injected"]["reject"], 1);
    let hang = http
        .post(&rules, &[], r#"[{"action":"hang","times":3}]"#.into())
        .await
        .expect("post");
    assert_eq!((hang.status, w.sim.rules().len()), (204, 1));
    let cleared = http
        .request(http::Method::DELETE, &rules, &[], Default::default())
        .await
        .expect("delete");
    assert_eq!(cleared.status, 204);
    assert!(w.sim.rules().is_empty());
    w.sim.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// Privacy

/// Runs every kind of exchange at trace level on this thread (the current-thread
/// runtime runs the simulator's tasks here too) and checks that neither the name nor the
/// ID number appears in a log line, an error or a `Debug`.
#[tokio::test]
async fn names_and_id_numbers_reach_no_log_error_or_debug() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let w = World::new().await;
    let mut shown = Vec::new();
    w.sim.push_rule(Rule::once(Action::Status(503)));
    w.sim.push_rule(Rule::once(Action::Malformed));
    w.sim.push_rule(
        Rule::once(Action::Reject(RejectCode::IdentityMismatch))
            .for_id(IdNumber::parse(ID).expect("id")),
    );
    let mut reqs = vec![
        request("p-1"),
        request("p-1"),
        request("p-2"),
        request("p-3"),
        request("p-3"),
    ];
    reqs[4].evidence = None; // a reused request id: 409
    let mut manual = request("p-4");
    manual.capture = Capture::Manual;
    reqs.push(manual);
    for req in &reqs {
        let outcome = w.client.verify(req).await;
        shown.push(format!("{req:?} {outcome:?}"));
        if let Err(e) = &outcome {
            shown.push(e.to_string());
        }
    }
    let timeout = w.client_with(|c| c.timeout = Duration::from_millis(200));
    w.sim.push_rule(Rule::once(Action::Hang));
    let hung = timeout.verify(&request("p-5")).await;
    shown.push(format!("{hung:?}"));
    let wrong = w.client_with(|c| c.auth = ClientAuth::Bearer(String::from("nope").into()));
    shown.push(format!(
        "{wrong:?} {:?}",
        wrong.verify(&request("p-6")).await
    ));
    shown.push(format!("{:?} {:?}", w.sim.rules(), w.sim.counts()));
    w.sim.shutdown().await;

    let logs = captured.text();
    assert!(
        logs.contains("p-1") && logs.contains("identity"),
        "logs were captured: {logs}"
    );
    let all = format!("{logs}\n{}", shown.join("\n"));
    for secret in [ID, &ID.to_ascii_lowercase(), "110105194912310", NAME, TOKEN] {
        assert!(!all.contains(secret), "{secret} leaked:\n{all}");
    }
}

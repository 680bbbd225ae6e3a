//! The ID card reader simulator over a real socket: reading the card, no card, the face
//! match, CORS and Private Network Access preflights, the control API, bounded bodies,
//! the CLI's bound URL; and that the identity simulator the sandbox uses passes what the
//! reader read. That the card's personal members reach no log line is
//! `id_reader_sim_logs.rs` (its own binary: it installs the process's subscriber).

mod common;
#[path = "support/reader_client.rs"]
mod reader_client;

use bytes::Bytes;
use conformance::id_reader_sim::{self, IdReaderSimConfig, TEST_ID_NUMBER};
use http::{Method, Response, StatusCode};
use reader_client::{call, get, sim};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PAGE: &str = "https://127.0.0.1:8443";

fn json_of(resp: &Response<Bytes>) -> Value {
    serde_json::from_slice(resp.body()).expect("JSON body")
}

fn header<'a>(resp: &'a Response<Bytes>, name: &str) -> Option<&'a str> {
    resp.headers().get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn reads_the_default_card() {
    let sim = sim().await;
    assert!(sim.url().starts_with("http://127.0.0.1:"), "{}", sim.url());
    let resp = get(&sim, "/v1/card").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "content-type"), Some("application/json"));
    let card = json_of(&resp);
    assert_eq!(card["reader_serial"], "R-7");
    assert_eq!(card["name"], "张三");
    assert_eq!(card["id_type"], "resident_id");
    assert_eq!(card["id_number"], TEST_ID_NUMBER);
    assert_eq!(card["nationality"], "CHN");
    for member in [
        "sex",
        "birth_date",
        "address",
        "issuer",
        "valid_from",
        "valid_until",
    ] {
        assert!(card[member].is_string(), "{member}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn no_card_on_the_reader() {
    let sim = sim().await;
    let resp = call(&sim, Method::DELETE, "/control/card", &[], Bytes::new()).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = get(&sim, "/v1/card").await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(json_of(&resp), json!({"code": "no_card"}));
    let resp = call(&sim, Method::POST, "/v1/face-match", &[], "{}").await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(json_of(&resp), json!({"code": "no_card"}));
    assert!(sim.card().is_none());
}

#[tokio::test]
async fn face_matches_pass_with_fresh_ids() {
    let sim = sim().await;
    let first = call(&sim, Method::POST, "/v1/face-match", &[], "{}").await;
    assert_eq!(first.status(), StatusCode::OK);
    let first = json_of(&first);
    assert_eq!(first["score"], 0.93);
    assert_eq!(first["liveness"], true);
    // The gateway's verifier accepts a face match at or above its threshold, live.
    let score = first["score"].as_f64().expect("score");
    assert!(score >= conformance::identity_sim::DEFAULT_FACE_THRESHOLD);
    let id = first["transaction_id"].as_str().expect("transaction_id");
    assert!(
        !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic()),
        "{id}"
    );
    let second = json_of(&call(&sim, Method::POST, "/v1/face-match", &[], "").await);
    assert_ne!(second["transaction_id"], first["transaction_id"]);
    assert_eq!(sim.face_matches(), 2);
}

#[tokio::test]
async fn cors_echoes_allowed_origins_and_answers_preflights() {
    let sim = sim().await;
    let resp = call(
        &sim,
        Method::GET,
        "/v1/card",
        &[("origin", PAGE)],
        Bytes::new(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "access-control-allow-origin"), Some(PAGE));
    assert_eq!(header(&resp, "vary"), Some("Origin"));

    // Without an Origin: served, no grant, still Vary.
    let resp = get(&sim, "/v1/card").await;
    assert_eq!(header(&resp, "access-control-allow-origin"), None);
    assert_eq!(header(&resp, "vary"), Some("Origin"));

    // A refusal answer carries the grant too, so the page can read it.
    call(&sim, Method::DELETE, "/control/card", &[], Bytes::new()).await;
    let resp = call(
        &sim,
        Method::GET,
        "/v1/card",
        &[("origin", PAGE)],
        Bytes::new(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(header(&resp, "access-control-allow-origin"), Some(PAGE));

    let preflight = [
        ("origin", "http://localhost:3000"),
        ("access-control-request-method", "POST"),
        ("access-control-request-headers", "content-type"),
        ("access-control-request-private-network", "true"),
    ];
    let resp = call(
        &sim,
        Method::OPTIONS,
        "/v1/face-match",
        &preflight,
        Bytes::new(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        header(&resp, "access-control-allow-origin"),
        Some("http://localhost:3000")
    );
    assert_eq!(
        header(&resp, "access-control-allow-methods"),
        Some("GET, POST, PUT, DELETE")
    );
    assert_eq!(
        header(&resp, "access-control-allow-headers"),
        Some("content-type")
    );
    assert_eq!(
        header(&resp, "access-control-allow-private-network"),
        Some("true")
    );
    assert_eq!(header(&resp, "vary"), Some("Origin"));

    // No private-network grant unless asked for.
    let resp = call(
        &sim,
        Method::OPTIONS,
        "/v1/card",
        &preflight[..2],
        Bytes::new(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&resp, "access-control-allow-private-network"), None);

    // Another site's page gets nothing.
    for method in [Method::GET, Method::OPTIONS] {
        let resp = call(
            &sim,
            method,
            "/v1/card",
            &[
                ("origin", "http://evil.example"),
                ("access-control-request-method", "GET"),
            ],
            Bytes::new(),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        assert_eq!(json_of(&resp), json!({"code": "origin_not_allowed"}));
        assert_eq!(header(&resp, "access-control-allow-origin"), None);
        assert_eq!(header(&resp, "access-control-allow-private-network"), None);
    }
}

#[tokio::test]
async fn the_control_api_places_cards_and_sets_the_face_match() {
    let sim = sim().await;
    let card =
        json!({"name": "李四", "id_number": "440304199003074510", "valid_until": "2020-01-01"});
    let resp = call(&sim, Method::PUT, "/control/card", &[], card.to_string()).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let read = json_of(&get(&sim, "/v1/card").await);
    assert_eq!(read["name"], "李四");
    assert_eq!(read["id_number"], "440304199003074510");
    assert_eq!(read["birth_date"], "1990-03-07");
    assert_eq!(read["valid_until"], "2020-01-01");
    assert_eq!(read["reader_serial"], "R-7");

    let resp = call(
        &sim,
        Method::PUT,
        "/control/face-match",
        &[],
        r#"{"score": 0.41, "liveness": false}"#,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let fm = json_of(&call(&sim, Method::POST, "/v1/face-match", &[], "{}").await);
    assert_eq!(
        (fm["score"].clone(), fm["liveness"].clone()),
        (json!(0.41), json!(false))
    );

    // Refusals name the member, never the value.
    for (body, detail) in [
        (r#"{"name": "王五"}"#, "id_number: missing"),
        ("not json", "the body is not JSON"),
        (
            r#"{"name": "王五", "id_number": 7}"#,
            "id_number: not a string",
        ),
    ] {
        let resp = call(&sim, Method::PUT, "/control/card", &[], body).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            json_of(&resp),
            json!({"code": "invalid_request", "detail": detail})
        );
    }
    let resp = call(
        &sim,
        Method::PUT,
        "/control/face-match",
        &[],
        r#"{"score": 2}"#,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // A refused placement left the card as it was.
    assert_eq!(json_of(&get(&sim, "/v1/card").await)["name"], "李四");

    let resp = call(&sim, Method::POST, "/control/reset", &[], Bytes::new()).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        json_of(&get(&sim, "/v1/card").await)["id_number"],
        TEST_ID_NUMBER
    );
    let fm = json_of(&call(&sim, Method::POST, "/v1/face-match", &[], "{}").await);
    assert_eq!(fm["score"], 0.93);
}

#[tokio::test]
async fn wrong_methods_and_unknown_paths() {
    let sim = sim().await;
    let resp = call(&sim, Method::POST, "/v1/card", &[], Bytes::new()).await;
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&resp, "allow"), Some("GET"));
    let resp = get(&sim, "/v1/face-match").await;
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    let resp = get(&sim, "/v1/cards/11010519491231002X").await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(json_of(&resp), json!({"code": "not_found"}));
}

#[tokio::test]
async fn bodies_over_64_kib_are_refused() {
    let sim = sim().await;
    let big = vec![b' '; 64 * 1024 + 1];
    for path in ["/control/card", "/v1/face-match"] {
        let method = if path == "/v1/face-match" {
            Method::POST
        } else {
            Method::PUT
        };
        let resp = call(&sim, method, path, &[("origin", PAGE)], big.clone()).await;
        assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        assert_eq!(json_of(&resp), json!({"code": "body_too_large"}));
        assert_eq!(header(&resp, "access-control-allow-origin"), Some(PAGE));
    }
    // Exactly 64 KiB is read (and, not being JSON, refused as such).
    let at_cap = vec![b' '; 64 * 1024];
    let resp = call(&sim, Method::PUT, "/control/card", &[], at_cap).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    // A chunked body without a length is cut at the cap too.
    let mut stream = TcpStream::connect(sim.addr()).await.expect("connect");
    let chunk = vec![b'a'; 70 * 1024];
    let mut raw = format!(
        "PUT /control/card HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n",
        chunk.len()
    )
    .into_bytes();
    raw.extend_from_slice(&chunk);
    raw.extend_from_slice(b"\r\n0\r\n\r\n");
    // The server may close before reading all of it; only its answer matters.
    let _ = stream.write_all(&raw).await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 413"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

#[tokio::test]
async fn garbage_on_the_wire_does_not_stop_the_reader() {
    let sim = sim().await;
    for raw in [
        &b"\x00\xff\xfe garbage\r\n\r\n"[..],
        b"GET /v1/card HTTP/1.1\r\nhost: x\r\norigin: \xff\xfe\r\n\r\n",
        b"PUT /control/card HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\n\xff\xfe\xfd\xfc\xfb",
    ] {
        let mut stream = TcpStream::connect(sim.addr()).await.expect("connect");
        let _ = stream.write_all(raw).await;
        let _ = stream.shutdown().await;
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer).await;
    }
    assert_eq!(get(&sim, "/v1/card").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn serves_on_a_listener_it_is_given() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let sim = id_reader_sim::serve(listener, IdReaderSimConfig::new()).expect("serve");
    assert_eq!(sim.addr(), addr);
    assert_eq!(
        json_of(&get(&sim, "/v1/card").await)["reader_serial"],
        "R-1"
    );
    assert!(
        id_reader_sim::start(IdReaderSimConfig::with_serial("has space"))
            .await
            .is_err()
    );
}

#[test]
fn the_cli_prints_the_bound_url() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_simgw-conformance"))
        .args([
            "id-reader-sim",
            "--listen",
            "127.0.0.1:0",
            "--reader-serial",
            "R-42",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout");
    BufReader::new(stdout).read_line(&mut line).expect("line");
    let _ = child.kill();
    let _ = child.wait();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"));
    let port: u16 = url
        .trim_start_matches("http://127.0.0.1:")
        .parse()
        .expect("port");
    assert_ne!(port, 0);
}

/// What the page sends after reading the card and matching the face (as
/// `docs/terminal.md` says) passes the identity simulator of the sandbox.
#[tokio::test]
async fn the_identity_simulator_passes_what_the_reader_read() {
    use adapters::identity::{
        Capture, ChannelContext, CivilDate, ClientAuth, Evidence, FaceMatch, IdNumber, IdType,
        IdentityClient, IdentityClientConfig, PersonName, Requirements, Score, Token, Verdict,
        VerificationRequest,
    };
    use conformance::identity_sim::{self, IdentitySimConfig, server_tls_config};
    let reader = sim().await;
    let card = json_of(&get(&reader, "/v1/card").await);
    let fm = json_of(&call(&reader, Method::POST, "/v1/face-match", &[], "{}").await);

    let pki = common::Pki::new("reader test CA");
    let server = pki.issue("idv");
    let tls = server_tls_config(server.cert_pem.as_bytes(), server.key_pem.as_bytes(), None)
        .expect("tls");
    let idv = identity_sim::start(IdentitySimConfig::new(tls))
        .await
        .expect("identity sim");
    let client = IdentityClient::new(IdentityClientConfig {
        base_url: idv.url(),
        auth: ClientAuth::None,
        roots_pem: pki.ca_pem.clone().into_bytes(),
        identity: None,
        timeout: std::time::Duration::from_secs(10),
    })
    .expect("client");
    let text = |v: &Value| v.as_str().expect("string").to_owned();
    let tok = |s: &str| Token::parse(s, "t").expect("token");
    let date = |v: &Value| {
        let s = text(v);
        let n = |r: std::ops::Range<usize>| s[r].parse::<u16>().expect("digits");
        CivilDate::new(
            n(0..4),
            u8::try_from(n(5..7)).expect("month"),
            u8::try_from(n(8..10)).expect("day"),
        )
    };
    let request = VerificationRequest {
        request_id: tok("act-1-idv"),
        name: PersonName::parse(&text(&card["name"])).expect("name"),
        id_type: IdType::ResidentId,
        id_number: IdNumber::parse_as(IdType::ResidentId, &text(&card["id_number"]))
            .expect("a well-formed resident ID"),
        nationality: None,
        id_expiry: date(&card["valid_until"]),
        capture: Capture::CardReader {
            reader_serial: tok(&text(&card["reader_serial"])),
            payload_ref: None,
        },
        evidence: Some(Evidence::FaceMatch(FaceMatch {
            transaction_id: tok(&text(&fm["transaction_id"])),
            score: Score::new(fm["score"].as_f64().expect("score")).expect("score"),
            liveness: fm["liveness"].as_bool().expect("liveness"),
        })),
        channel: ChannelContext::default(),
        requirements: Requirements {
            evidence_required: true,
            manual_capture_allowed: false,
        },
    };
    let decision = client.verify(&request).await.expect("decision");
    assert_eq!(decision.verdict, Verdict::Pass);
    idv.shutdown().await;
}

//! Contract tests of the CAI3G codec: golden messages, fault shapes, and round-trip and
//! robustness properties. Fixtures live in `tests/fixtures/cai3g/`; run with
//! `UPDATE_GOLDEN=1` to rewrite the `encoded_*` goldens after an intended wire change.

use adapters::cai3g::codec::{
    AucSubscription, Cai3gFault, CodecError, GetResult, Header, HlrSubscription, KiWire, MoBody,
    MoId, MoKind, Operation, Password, Request, Response, decode_request, decode_response,
    encode_request, encode_response,
};
use proptest::prelude::*;
use sim_profiles::{Imsi, Key128, Msisdn};
use std::path::PathBuf;

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cai3g")
        .join(name)
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).expect("fixture exists")
}

/// Compares `actual` with a golden file, or rewrites it under `UPDATE_GOLDEN=1`.
fn check_golden(name: &str, actual: &str) {
    let path = fixture_path(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, format!("{actual}\n")).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(&path).expect("golden exists");
    assert_eq!(
        actual,
        expected.trim_end_matches('\n'),
        "golden {name} differs"
    );
}

fn imsi(s: &str) -> Imsi {
    s.parse().expect("valid IMSI")
}

fn msisdn(s: &str) -> Msisdn {
    s.parse().expect("valid MSISDN")
}

fn header(session: &str, txn: &str, seq: &str) -> Header {
    Header {
        session_id: Some(session.into()),
        transaction_id: Some(txn.into()),
        sequence_id: Some(seq.into()),
    }
}

fn reference_hlr() -> HlrSubscription {
    HlrSubscription {
        imsi: imsi("460009990000123"),
        msisdn: msisdn("8617050000123"),
        profile_id: 12,
        obo: false,
        obi: false,
    }
}

#[test]
fn golden_login_request_decodes() {
    let (h, req) = decode_request(&fixture("login_request.xml")).expect("decodes");
    assert_eq!(h, Header::default());
    assert_eq!(
        req,
        Request::Login {
            user_id: "gw-prov-01".into(),
            pwd: Password::new("********".into())
        }
    );
}

#[test]
fn golden_login_response_decodes() {
    let (_, resp) = decode_response(200, &fixture("login_response.xml"), Operation::Login, None)
        .expect("decodes");
    assert_eq!(
        resp,
        Response::Login {
            session_id: "b71e04c2a9".into(),
            base_sequence_id: 5000
        }
    );
}

#[test]
fn golden_create_hlr_request_decodes_ignoring_unknown_elements() {
    let (h, req) = decode_request(&fixture("create_hlr_request.xml")).expect("decodes");
    assert_eq!(h, header("b71e04c2a9", "900017", "5001"));
    assert_eq!(req, Request::Create(MoBody::Hlr(reference_hlr())));
}

#[test]
fn golden_external_fault_decodes() {
    let (_, resp) =
        decode_response(500, &fixture("fault_external.xml"), Operation::Create, None).expect("ok");
    let Response::Fault(f) = resp else {
        panic!("expected a fault, got {resp:?}")
    };
    assert_eq!(
        f,
        Cai3gFault {
            soap_faultcode: "Server".into(),
            faultstring: "External Error".into(),
            cai3g_code: Some("4006".into()),
            reason: Some("External Error".into()),
            role: Some("NEF".into()),
            pg_code: None,
            pg_message: None,
            resp_code: Some("NNNNN".into()),
            resp_description: Some("text from the HLR's subordinate error table".into()),
        }
    );
    assert_eq!(f.code_chain(), ["NNNNN", "4006", "Server"]);
    assert_eq!(
        f.best_message(),
        "text from the HLR's subordinate error table"
    );
}

#[test]
fn session_fault_with_default_namespace_decodes() {
    let (_, resp) = decode_response(
        500,
        &fixture("fault_session.xml"),
        Operation::Get,
        Some(MoKind::GsmHlr),
    )
    .expect("ok");
    let Response::Fault(f) = resp else {
        panic!("expected a fault, got {resp:?}")
    };
    assert_eq!(f.cai3g_code.as_deref(), Some("1001"));
    assert_eq!(f.pg_code.as_deref(), Some("1010"));
    assert_eq!(f.role.as_deref(), Some("MF"));
    assert_eq!(f.code_chain(), ["1010", "1001", "Server"]);
    assert_eq!(f.best_message(), "Session does not exist");
}

#[test]
fn golden_encodings_are_stable() {
    let login = Request::Login {
        user_id: "gw-prov-01".into(),
        pwd: Password::new("s3cr&t".into()),
    };
    check_golden(
        "encoded_login_request.xml",
        &encode_request(&Header::default(), &login),
    );
    let create = Request::Create(MoBody::Hlr(reference_hlr()));
    check_golden(
        "encoded_create_hlr_request.xml",
        &encode_request(&header("b71e04c2a9", "900017", "5001"), &create),
    );
    let auc = Request::Create(MoBody::Auc(AucSubscription {
        imsi: imsi("460009990000123"),
        ki: KiWire::Encrypted {
            ciphertext: Key128::from_hex("000102030405060708090A0B0C0D0E0F").expect("hex"),
            a4ind: 2,
            adkey: 2,
        },
        fsetind: 0,
    }));
    check_golden(
        "encoded_create_auc_request.xml",
        &encode_request(&header("b71e04c2a9", "900018", "5002"), &auc),
    );
    check_golden(
        "encoded_change_msisdn_request.xml",
        &encode_request(&header("b71e04c2a9", "900019", "5003"), &number_change()),
    );
    check_golden(
        "encoded_change_msisdn_alone_request.xml",
        &encode_request(
            &header("b71e04c2a9", "900020", "5004"),
            &number_change_alone(),
        ),
    );
    let (status, fault) = encode_response(&Header::default(), &Response::Fault(session_fault()));
    assert_eq!(status, 500);
    check_golden("encoded_session_fault.xml", &fault);
}

/// The number change: `MOId` names the subscription by IMSI and current MSISDN,
/// `setSubscription` carries the new MSISDN (its key attributes repeat the `MOId`).
fn number_change() -> Request {
    Request::Set {
        id: MoId {
            kind: MoKind::GsmHlr,
            imsi: Some(imsi("460009990000123")),
            msisdn: Some(msisdn("8617050000123")),
        },
        body: MoBody::Hlr(HlrSubscription {
            msisdn: msisdn("8617050000999"),
            ..reference_hlr()
        }),
    }
}

/// The number change as the client sends it: `setSubscription` with the new MSISDN alone
/// (and the IMSI, a key), so the host keeps the profile and barring it has.
fn number_change_alone() -> Request {
    let Request::Set { id, .. } = number_change() else {
        unreachable!("a Set")
    };
    Request::Set {
        id,
        body: MoBody::HlrMsisdn {
            imsi: imsi("460009990000123"),
            msisdn: msisdn("8617050000999"),
        },
    }
}

#[test]
fn a_set_of_the_msisdn_alone_carries_no_other_attribute_and_a_create_cannot() {
    let wire = encode_request(&Header::default(), &number_change_alone());
    let attrs = &wire[wire.find("<gsmhlr:setSubscription").expect("wrapper")..];
    assert!(
        attrs.contains("<gsmhlr:msisdn>8617050000999</gsmhlr:msisdn>"),
        "{wire}"
    );
    for absent in ["profileId", "obo", "obi"] {
        assert!(!attrs.contains(absent), "{absent} in {wire}");
    }
    assert_eq!(
        decode_request(wire.as_bytes()),
        Ok((Header::default(), number_change_alone()))
    );
    // One attribute beside the MSISDN makes it a whole subscription, which needs its
    // profile.
    let with_barring = wire.replace(
        "</gsmhlr:setSubscription>",
        "<gsmhlr:obo>1</gsmhlr:obo></gsmhlr:setSubscription>",
    );
    assert_eq!(
        decode_request(with_barring.as_bytes()),
        Err(CodecError::Missing { path: "profileId" })
    );
    // A Create names the whole subscription.
    let create = wire
        .replace("<cai3g:Set>", "<cai3g:Create>")
        .replace("</cai3g:Set>", "</cai3g:Create>")
        .replace("setSubscription", "createSubscription");
    assert_eq!(
        decode_request(create.as_bytes()),
        Err(CodecError::Missing { path: "profileId" })
    );
}

#[test]
fn number_change_set_keeps_the_old_msisdn_in_moid_and_the_new_in_the_body() {
    let wire = encode_request(&Header::default(), &number_change());
    let moid = &wire[wire.find("MOId>").expect("MOId")..wire.find("</cai3g:MOId>").expect("end")];
    assert!(moid.contains("8617050000123") && !moid.contains("8617050000999"));
    assert!(
        wire.contains("<gsmhlr:msisdn>8617050000999</gsmhlr:msisdn>"),
        "{wire}"
    );
    assert_eq!(
        decode_request(wire.as_bytes()),
        Ok((Header::default(), number_change()))
    );
    // A Set addressed by its own keys is what `Request::set` builds.
    let barring = Request::set(MoBody::Hlr(reference_hlr()));
    let Request::Set { id, .. } = &barring else {
        panic!("a Set")
    };
    assert_eq!(id.msisdn, Some(reference_hlr().msisdn));
}

#[test]
fn only_a_gsmhlr_set_may_carry_another_msisdn_and_nothing_changes_the_imsi() {
    let other_imsi = Request::Set {
        id: MoId::by_imsi(MoKind::GsmHlr, imsi("460009990000124")),
        body: MoBody::Hlr(reference_hlr()),
    };
    let wire = encode_request(&Header::default(), &other_imsi);
    assert_eq!(
        decode_request(wire.as_bytes()),
        Err(CodecError::Inconsistent { field: "imsi" })
    );
    // A Create names what it creates: its MOId and body must agree on the MSISDN.
    let create = encode_request(
        &Header::default(),
        &Request::Create(MoBody::Hlr(reference_hlr())),
    )
    .replace(
        "<cai3g:MOId><gsmhlr:msisdn>8617050000123</gsmhlr:msisdn>",
        "<cai3g:MOId><gsmhlr:msisdn>8617050000999</gsmhlr:msisdn>",
    );
    assert_eq!(
        decode_request(create.as_bytes()),
        Err(CodecError::Inconsistent { field: "msisdn" })
    );
}

fn session_fault() -> Cai3gFault {
    Cai3gFault {
        soap_faultcode: "Server".into(),
        faultstring: "Invalid sessionId.".into(),
        cai3g_code: Some("1001".into()),
        reason: Some("Invalid sessionId.".into()),
        role: Some("MF".into()),
        pg_code: Some("1010".into()),
        pg_message: Some("Session does not exist".into()),
        ..Cai3gFault::default()
    }
}

#[test]
fn session_fault_round_trips_with_status_500() {
    let (status, body) = encode_response(&Header::default(), &Response::Fault(session_fault()));
    assert_eq!(status, 500);
    let (_, resp) =
        decode_response(status, body.as_bytes(), Operation::Create, None).expect("decodes");
    assert_eq!(resp, Response::Fault(session_fault()));
}

#[test]
fn code_chain_follows_extraction_order() {
    let f = Cai3gFault {
        soap_faultcode: "Client".into(),
        faultstring: "fs".into(),
        cai3g_code: Some("4006".into()),
        reason: Some("reason".into()),
        pg_code: Some("1010".into()),
        pg_message: Some("pg".into()),
        resp_code: Some("301".into()),
        resp_description: Some("resp".into()),
        role: None,
    };
    assert_eq!(f.code_chain(), ["1010", "301", "4006", "Client"]);
    assert_eq!(f.best_message(), "pg");
    let f = Cai3gFault {
        pg_code: None,
        pg_message: None,
        ..f
    };
    assert_eq!(f.code_chain(), ["301", "4006", "Client"]);
    assert_eq!(f.best_message(), "resp");
    let f = Cai3gFault {
        resp_code: None,
        resp_description: None,
        ..f
    };
    assert_eq!(f.best_message(), "reason");
    let f = Cai3gFault {
        cai3g_code: None,
        reason: None,
        ..f
    };
    assert_eq!(f.code_chain(), ["Client"]);
    assert_eq!(f.best_message(), "fs");
}

#[test]
fn ki_is_on_the_wire_but_not_in_debug_output() {
    let hex = "8F3A0C1D2E4B5A69788796A5B4C3D2E1";
    let req = Request::Create(MoBody::Auc(AucSubscription {
        imsi: imsi("001010000000001"),
        ki: KiWire::Clear(Key128::from_hex(hex).expect("hex")),
        fsetind: 1,
    }));
    let wire = encode_request(&Header::default(), &req);
    assert!(
        wire.contains(&format!(">{hex}<")),
        "the AUC needs the Ki on the wire"
    );
    let debug = format!("{req:?}");
    assert!(
        !debug.to_ascii_uppercase().contains(hex),
        "Debug leaked the Ki: {debug}"
    );
    assert!(debug.contains("***"));
}

#[test]
fn password_is_on_the_wire_but_not_in_debug_output() {
    let req = Request::Login {
        user_id: "u".into(),
        pwd: Password::new("hunter2-pw".into()),
    };
    assert!(encode_request(&Header::default(), &req).contains("hunter2-pw"));
    assert!(!format!("{req:?}").contains("hunter2-pw"));
}

#[test]
fn wrong_body_namespace_is_an_error() {
    let body = String::from_utf8(fixture("create_hlr_request.xml"))
        .expect("utf8")
        .replace(
            "xmlns:c=\"http://schemas.ericsson.com/cai3g1.2/\"",
            "xmlns:c=\"urn:other\"",
        );
    assert_eq!(
        decode_request(body.as_bytes()).map(|_| ()),
        Err(CodecError::WrongNamespace { element: "Create" })
    );
}

#[test]
fn missing_required_child_is_an_error() {
    let body = String::from_utf8(fixture("create_hlr_request.xml"))
        .expect("utf8")
        .replace("<h:profileId>12</h:profileId>", "");
    assert_eq!(
        decode_request(body.as_bytes()).map(|_| ()),
        Err(CodecError::Missing { path: "profileId" })
    );
}

#[test]
fn non_digit_transaction_id_is_tolerated() {
    let body = String::from_utf8(fixture("create_hlr_request.xml"))
        .expect("utf8")
        .replace("900017", "?");
    let (h, _) = decode_request(body.as_bytes()).expect("decodes");
    assert_eq!(h.transaction_id.as_deref(), Some("?"));
}

#[test]
fn wrong_response_element_is_an_error() {
    let (_, body) = encode_response(&Header::default(), &Response::Delete);
    assert_eq!(
        decode_response(200, body.as_bytes(), Operation::Create, None),
        Err(CodecError::UnexpectedElement {
            expected: "CreateResponse",
            found: "DeleteResponse".into()
        })
    );
}

#[test]
fn get_answer_of_the_other_mo_kind_is_an_error() {
    let (_, body) = encode_response(
        &Header::default(),
        &Response::Get(GetResult::Hlr(reference_hlr())),
    );
    assert_eq!(
        decode_response(200, body.as_bytes(), Operation::Get, Some(MoKind::GsmAuc)),
        Err(CodecError::WrongNamespace {
            element: "getResponseSubscription"
        })
    );
}

#[test]
fn get_answer_without_ki_is_partial() {
    let body = r#"<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>
        <GetResponse xmlns="http://schemas.ericsson.com/cai3g1.2/"><MOAttributes>
        <a:getResponseSubscription xmlns:a="http://schemas.ericsson.com/ema/UserProvisioning/GsmAuc/" imsi="001010000000001">
        <a:fsetind>3</a:fsetind></a:getResponseSubscription></MOAttributes></GetResponse></e:Body></e:Envelope>"#;
    let (_, resp) =
        decode_response(200, body.as_bytes(), Operation::Get, Some(MoKind::GsmAuc)).expect("ok");
    assert_eq!(
        resp,
        Response::Get(GetResult::AucPartial {
            imsi: imsi("001010000000001"),
            ki: None,
            fsetind: Some(3)
        })
    );
}

#[test]
fn proxy_error_page_is_an_http_status_error() {
    let html = b"<html><body>502 Bad Gateway</body></html>";
    assert_eq!(
        decode_response(502, html, Operation::Get, None),
        Err(CodecError::HttpStatus { status: 502 })
    );
    assert!(matches!(
        decode_response(200, html, Operation::Get, None),
        Err(CodecError::UnexpectedElement {
            expected: "Envelope",
            ..
        })
    ));
}

#[test]
fn errors_do_not_echo_values() {
    let body = String::from_utf8(fixture("create_hlr_request.xml"))
        .expect("utf8")
        .replace(
            "<h:profileId>12</h:profileId>",
            "<h:profileId>SECRETVALUE</h:profileId>",
        );
    let err = decode_request(body.as_bytes()).expect_err("invalid");
    assert_eq!(err, CodecError::InvalidValue { field: "profileId" });
    assert!(!err.to_string().contains("SECRETVALUE"));
}

#[test]
fn soap_action_accepts_quoted_and_bare_values() {
    for op in Operation::ALL {
        assert_eq!(Operation::from_soap_action(op.soap_action()), Some(op));
        assert_eq!(
            Operation::from_soap_action(&format!("\"{}\"", op.soap_action())),
            Some(op)
        );
    }
    assert_eq!(Operation::from_soap_action("CAI3G#Search"), None);
}

// ---- property tests -------------------------------------------------------------------

fn arb_imsi() -> impl Strategy<Value = Imsi> {
    "[0-9]{6,15}".prop_map(|s| s.parse().expect("generated IMSI"))
}

fn arb_msisdn() -> impl Strategy<Value = Msisdn> {
    "[1-9][0-9]{6,14}".prop_map(|s| s.parse().expect("generated MSISDN"))
}

fn arb_key() -> impl Strategy<Value = Key128> {
    any::<[u8; 16]>().prop_map(Key128::from_bytes)
}

fn arb_ki() -> impl Strategy<Value = KiWire> {
    prop_oneof![
        arb_key().prop_map(KiWire::Clear),
        (arb_key(), any::<u8>(), any::<u16>()).prop_map(|(ciphertext, a4ind, adkey)| {
            KiWire::Encrypted {
                ciphertext,
                a4ind,
                adkey,
            }
        }),
    ]
}

fn arb_auc() -> impl Strategy<Value = AucSubscription> {
    (arb_imsi(), arb_ki(), any::<u8>()).prop_map(|(imsi, ki, fsetind)| AucSubscription {
        imsi,
        ki,
        fsetind,
    })
}

fn arb_hlr() -> impl Strategy<Value = HlrSubscription> {
    (
        arb_imsi(),
        arb_msisdn(),
        any::<u32>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(imsi, msisdn, profile_id, obo, obi)| HlrSubscription {
            imsi,
            msisdn,
            profile_id,
            obo,
            obi,
        })
}

fn arb_body() -> impl Strategy<Value = MoBody> {
    prop_oneof![
        arb_auc().prop_map(MoBody::Auc),
        arb_hlr().prop_map(MoBody::Hlr)
    ]
}

fn arb_id() -> impl Strategy<Value = MoId> {
    prop_oneof![
        arb_imsi().prop_map(|i| MoId::by_imsi(MoKind::GsmAuc, i)),
        (
            proptest::option::of(arb_imsi()),
            arb_msisdn(),
            any::<bool>()
        )
            .prop_map(|(imsi, msisdn, with_msisdn)| MoId {
                kind: MoKind::GsmHlr,
                msisdn: (with_msisdn || imsi.is_none()).then_some(msisdn),
                imsi,
            }),
    ]
}

/// A Set addressed by the body's own keys, by fewer of them, or (GsmHlr) by the IMSI and
/// another, current MSISDN: the number change.
fn arb_set() -> impl Strategy<Value = Request> {
    (arb_body(), arb_msisdn(), 0u8..4).prop_map(|(body, current, shape)| {
        let mut id = body.id();
        if let MoBody::Hlr(_) = body {
            match shape {
                1 => id.imsi = None,
                2 => id.msisdn = None,
                3 => id.msisdn = Some(current),
                _ => {}
            }
        }
        Request::Set { id, body }
    })
}

/// A Set of a GsmHlr MSISDN alone, addressed by the IMSI and, or not, a current MSISDN.
fn arb_set_msisdn() -> impl Strategy<Value = Request> {
    (arb_imsi(), arb_msisdn(), proptest::option::of(arb_msisdn())).prop_map(
        |(imsi, msisdn, current)| Request::Set {
            id: MoId {
                kind: MoKind::GsmHlr,
                imsi: Some(imsi.clone()),
                msisdn: current,
            },
            body: MoBody::HlrMsisdn { imsi, msisdn },
        },
    )
}

/// Text that survives the decoder's trimming: printable, no surrounding whitespace.
fn arb_text() -> impl Strategy<Value = String> {
    "\\PC{0,24}".prop_map(|s| s.trim().to_owned())
}

fn arb_token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{1,32}"
}

fn arb_header() -> impl Strategy<Value = Header> {
    let field = || proptest::option::of(arb_token());
    (field(), field(), field()).prop_map(|(session_id, transaction_id, sequence_id)| Header {
        session_id,
        transaction_id,
        sequence_id,
    })
}

fn arb_request() -> impl Strategy<Value = Request> {
    prop_oneof![
        (arb_text(), "[\\PC\t\n\r ]{0,24}").prop_map(|(user_id, pwd)| Request::Login {
            user_id,
            pwd: Password::new(pwd)
        }),
        arb_token().prop_map(|session_id| Request::Logout { session_id }),
        arb_body().prop_map(Request::Create),
        arb_set(),
        arb_set_msisdn(),
        arb_id().prop_map(Request::Get),
        arb_id().prop_map(Request::Delete),
    ]
}

fn arb_fault() -> impl Strategy<Value = Cai3gFault> {
    let opt = || proptest::option::of(arb_text());
    (
        "([A-Za-z][A-Za-z0-9.]{0,12})?",
        arb_text(),
        (opt(), opt(), opt()),
        (opt(), opt(), opt(), opt()),
    )
        .prop_map(
            |(
                soap_faultcode,
                faultstring,
                (cai3g_code, reason, role),
                (pg_code, pg_message, resp_code, resp_description),
            )| {
                Cai3gFault {
                    soap_faultcode,
                    faultstring,
                    cai3g_code,
                    reason,
                    role,
                    pg_code,
                    pg_message,
                    resp_code,
                    resp_description,
                }
            },
        )
}

fn arb_get_result() -> impl Strategy<Value = GetResult> {
    prop_oneof![
        arb_auc().prop_map(GetResult::Auc),
        arb_hlr().prop_map(GetResult::Hlr),
        (
            arb_imsi(),
            proptest::option::of(arb_ki()),
            proptest::option::of(any::<u8>())
        )
            .prop_filter("complete entries decode as Auc", |(_, k, f)| k.is_none()
                || f.is_none())
            .prop_map(|(imsi, ki, fsetind)| GetResult::AucPartial { imsi, ki, fsetind }),
    ]
}

fn arb_response() -> impl Strategy<Value = Response> {
    prop_oneof![
        (arb_token(), any::<u64>()).prop_map(|(session_id, base_sequence_id)| Response::Login {
            session_id,
            base_sequence_id
        }),
        Just(Response::Logout),
        Just(Response::Create),
        Just(Response::Set),
        Just(Response::Delete),
        arb_get_result().prop_map(Response::Get),
        arb_fault().prop_map(Response::Fault),
    ]
}

fn expected_op(resp: &Response) -> (Operation, Option<MoKind>) {
    match resp {
        Response::Login { .. } => (Operation::Login, None),
        Response::Logout => (Operation::Logout, None),
        Response::Create | Response::Fault(_) => (Operation::Create, None),
        Response::Set => (Operation::Set, None),
        Response::Delete => (Operation::Delete, None),
        Response::Get(GetResult::Hlr(_)) => (Operation::Get, Some(MoKind::GsmHlr)),
        Response::Get(_) => (Operation::Get, Some(MoKind::GsmAuc)),
    }
}

/// Byte-level damage to a valid envelope: flips, cuts and splices.
fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    for &(pos, op, val) in edits {
        if bytes.is_empty() {
            break;
        }
        let at = pos % bytes.len();
        match op % 4 {
            0 => bytes[at] = val,
            1 => bytes.truncate(at),
            2 => bytes.insert(at, val),
            _ => {
                let end = (at + usize::from(val)).min(bytes.len());
                bytes.drain(at..end);
            }
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn requests_round_trip(h in arb_header(), req in arb_request()) {
        let wire = encode_request(&h, &req);
        prop_assert_eq!(decode_request(wire.as_bytes()), Ok((h, req)));
    }

    #[test]
    fn responses_round_trip(h in arb_header(), resp in arb_response(), with_kind in any::<bool>()) {
        let (status, wire) = encode_response(&h, &resp);
        prop_assert_eq!(status, if matches!(resp, Response::Fault(_)) { 500 } else { 200 });
        let (op, kind) = expected_op(&resp);
        let kind = kind.filter(|_| with_kind);
        prop_assert_eq!(decode_response(status, wire.as_bytes(), op, kind), Ok((h, resp)));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), status in any::<u16>()) {
        let _ = decode_request(&bytes);
        for op in Operation::ALL {
            let _ = decode_response(status, &bytes, op, None);
        }
    }

    #[test]
    fn mutated_envelopes_never_panic(
        req in arb_request(),
        resp in arb_response(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8),
    ) {
        let wire = encode_request(&Header::default(), &req).into_bytes();
        let _ = decode_request(&mutate(wire, &edits));
        let (status, wire) = encode_response(&Header::default(), &resp);
        let damaged = mutate(wire.into_bytes(), &edits);
        for op in Operation::ALL {
            let _ = decode_response(status, &damaged, op, None);
            let _ = decode_response(status, &damaged, op, Some(MoKind::GsmAuc));
        }
    }
}

//! Contract tests of the ES2+ codec: golden request bodies (fixtures inline, written from
//! the reference's examples), the status classification table, lenient notification
//! variants, the Activation Code, and round-trip and robustness properties.

use adapters::es2plus::status::{KnownFailure, known_failure};
use adapters::es2plus::*;
use proptest::prelude::*;
use sim_profiles::{Eid, Iccid};

const ICCID: &str = "8986990999000001013";
const ICCID2: &str = "8986990999000001021";
const EID: &str = "89044040000000000000000001234565";

fn iccid(s: &str) -> Iccid {
    s.parse().expect("valid ICCID")
}

fn eid() -> Eid {
    EID.parse().expect("valid EID")
}

fn hdr(call: &str) -> RequestHeader {
    RequestHeader::new("mvno-gw-prod", call)
}

fn text(b: &[u8]) -> &str {
    std::str::from_utf8(b).expect("utf8")
}

#[test]
fn golden_download_order() {
    let req = DownloadOrderRequest {
        header: hdr("ord-7f3c2a-dl-1"),
        eid: Some(eid()),
        profile: ProfileSelector::Iccid(iccid(ICCID2)),
    };
    let body = encode_download_order(&req);
    assert_eq!(
        text(&body),
        r#"{"header":{"functionRequesterIdentifier":"mvno-gw-prod","functionCallIdentifier":"ord-7f3c2a-dl-1"},"eid":"89044040000000000000000001234565","iccid":"8986990999000001021"}"#
    );
    assert_eq!(decode_download_order_request(&body), Ok(req));

    let by_type = DownloadOrderRequest {
        header: hdr("c"),
        eid: None,
        profile: ProfileSelector::ProfileType("MVNO_CONSUMER_V1".into()),
    };
    assert_eq!(
        text(&encode_download_order(&by_type)),
        r#"{"header":{"functionRequesterIdentifier":"mvno-gw-prod","functionCallIdentifier":"c"},"profileType":"MVNO_CONSUMER_V1"}"#
    );
    let neither = br#"{"header":{"functionRequesterIdentifier":"a","functionCallIdentifier":"b"}}"#;
    assert_eq!(
        decode_download_order_request(neither),
        Err(Es2Error::Missing {
            field: "iccid|profileType"
        })
    );
}

#[test]
fn golden_download_order_response_accepts_trailing_f() {
    let body = br#"{"header":{"functionExecutionStatus":{"status":"Executed-Success"}},"iccid":"8986990999000001021F"}"#;
    let r = decode_response::<DownloadOrderResponse>(200, body).expect("success");
    assert_eq!(r.data.iccid, iccid(ICCID2));
    assert!(r.status.status.is_success());
    let again = encode_response(&r);
    assert_eq!(
        text(&again),
        r#"{"header":{"functionExecutionStatus":{"status":"Executed-Success"}},"iccid":"8986990999000001021"}"#
    );
}

#[test]
fn golden_confirm_order() {
    let req = ConfirmOrderRequest {
        header: hdr("ord-7f3c2a-confirm-1"),
        iccid: iccid(ICCID),
        eid: Some(eid()),
        matching_id: Some(MatchingId::new("K7QF-M3XH-8PZ2-R9DW").expect("mid")),
        confirmation_code: Some(ConfirmationCode::new("482916").expect("cc")),
        smds_address: None,
        release_flag: false,
    };
    let body = encode_confirm_order(&req);
    assert_eq!(
        text(&body),
        r#"{"header":{"functionRequesterIdentifier":"mvno-gw-prod","functionCallIdentifier":"ord-7f3c2a-confirm-1"},"iccid":"8986990999000001013","eid":"89044040000000000000000001234565","matchingId":"K7QF-M3XH-8PZ2-R9DW","confirmationCode":"482916","releaseFlag":false}"#
    );
    assert_eq!(decode_confirm_order_request(&body), Ok(req.clone()));
    assert!(!format!("{req:?}").contains("482916"), "CC never printed");

    let minimal = br#"{"header":{"functionRequesterIdentifier":"mvno-gw-prod","functionCallIdentifier":"ord-7f3c2a-confirm-1"},"iccid":"8986990999000001013","releaseFlag":false}"#;
    let d = decode_confirm_order_request(minimal).expect("decodes");
    assert!(d.matching_id.is_none() && !d.release_flag);
    let string_flag = br#"{"header":{"functionRequesterIdentifier":"a","functionCallIdentifier":"b"},"iccid":"8986990999000001013","releaseFlag":"false"}"#;
    assert_eq!(
        decode_confirm_order_request(string_flag),
        Err(Es2Error::InvalidValue {
            field: "releaseFlag"
        })
    );
}

#[test]
fn confirm_order_response_fallbacks() {
    let body = br#"{"header":{"functionExecutionStatus":{"status":"Executed-Success"}},"eid":"89044040000000000000000001234565","matchingId":"K7QF","smdpAddress":"SMDP.EXAMPLE.NET","vendorExtra":{"x":1}}"#;
    let r = decode_response::<ConfirmOrderResponse>(200, body).expect("success");
    assert_eq!(
        r.data.smdp_address.as_ref().map(Fqdn::as_str),
        Some("SMDP.EXAMPLE.NET")
    );
    let bare = br#"{"header":{"functionExecutionStatus":{"status":"Executed-Success"}}}"#;
    let r = decode_response::<ConfirmOrderResponse>(200, bare).expect("success");
    let ours = MatchingId::new("OURS-1").expect("mid");
    assert_eq!(r.data.matching_id_or(Some(&ours)), Ok(ours));
    assert_eq!(
        r.data.matching_id_or(None),
        Err(Es2Error::Missing {
            field: "matchingId"
        })
    );
    let default = Fqdn::new("smdp.default.example").expect("fqdn");
    assert_eq!(r.data.smdp_address_or(&default), &default);
}

#[test]
fn golden_cancel_and_release() {
    let cancel = CancelOrderRequest {
        header: hdr("ord-1-cancel-1"),
        iccid: iccid(ICCID),
        eid: None,
        matching_id: Some(MatchingId::new("K7QF").expect("mid")),
        final_profile_status_indicator: FinalProfileStatus::Available,
    };
    let body = encode_cancel_order(&cancel);
    assert_eq!(
        text(&body),
        r#"{"header":{"functionRequesterIdentifier":"mvno-gw-prod","functionCallIdentifier":"ord-1-cancel-1"},"iccid":"8986990999000001013","matchingId":"K7QF","finalProfileStatusIndicator":"Available"}"#
    );
    assert_eq!(decode_cancel_order_request(&body), Ok(cancel));
    let no_indicator = br#"{"header":{"functionRequesterIdentifier":"a","functionCallIdentifier":"b"},"iccid":"8986990999000001013"}"#;
    assert_eq!(
        decode_cancel_order_request(no_indicator),
        Err(Es2Error::Missing {
            field: "finalProfileStatusIndicator"
        })
    );

    let release = ReleaseProfileRequest {
        header: hdr("ord-1-release-1"),
        iccid: iccid(ICCID),
    };
    let body = encode_release_profile(&release);
    assert_eq!(
        text(&body),
        r#"{"header":{"functionRequesterIdentifier":"mvno-gw-prod","functionCallIdentifier":"ord-1-release-1"},"iccid":"8986990999000001013"}"#
    );
    assert_eq!(decode_release_profile_request(&body), Ok(release));
    let ok = br#"{"header":{"functionExecutionStatus":{"status":"Executed-WithWarning","statusCodeData":{"subjectCode":"8.2.1","reasonCode":"3.5"}}}}"#;
    let r = decode_response::<HeaderOnly>(200, ok).expect("warning is success");
    assert_eq!(r.status.status, ExecutionStatus::ExecutedWithWarning);
}

#[test]
fn missing_header_members_are_named() {
    let body = br#"{"header":{"functionRequesterIdentifier":"a"},"iccid":"8986990999000001013"}"#;
    assert_eq!(
        decode_release_profile_request(body),
        Err(Es2Error::Missing {
            field: "header.functionCallIdentifier"
        })
    );
    assert_eq!(
        decode_release_profile_request(br#"{"iccid":"8986990999000001013"}"#),
        Err(Es2Error::Missing { field: "header" })
    );
    assert_eq!(
        decode_release_profile_request(b"[1]"),
        Err(Es2Error::NotAnObject)
    );
    assert!(matches!(
        decode_release_profile_request(b"{\"header\":"),
        Err(Es2Error::Malformed { .. })
    ));
}

fn failed(status: &str, subject: &str, reason: &str) -> Vec<u8> {
    format!(
        r#"{{"header":{{"functionExecutionStatus":{{"status":"{status}","statusCodeData":{{"subjectCode":"{subject}","reasonCode":"{reason}","subjectIdentifier":"MVNO_CONSUMER_V1","message":"secret text"}}}}}}}}"#
    )
    .into_bytes()
}

#[test]
fn status_classification_table() {
    // (status, subject, reason, retryable, known)
    let table: &[(&str, &str, &str, bool, Option<KnownFailure>)] = &[
        (
            "Failed",
            "8.2.1",
            "3.9",
            false,
            Some(KnownFailure::IccidUnknown),
        ),
        (
            "Failed",
            "8.2.1",
            "1.2",
            false,
            Some(KnownFailure::IccidNotAllowed),
        ),
        (
            "Failed",
            "8.2.1",
            "3.3",
            false,
            Some(KnownFailure::IccidAlreadyInUse),
        ),
        (
            "Failed",
            "8.2.1",
            "3.5",
            false,
            Some(KnownFailure::InvalidTransition),
        ),
        (
            "Failed",
            "8.2.1",
            "3.10",
            false,
            Some(KnownFailure::IccidEidMismatch),
        ),
        ("Failed", "8.2.1", "3.1", false, None),
        (
            "Failed",
            "8.2.5",
            "3.9",
            false,
            Some(KnownFailure::ProfileTypeUnknown),
        ),
        (
            "Failed",
            "8.2.5",
            "1.2",
            false,
            Some(KnownFailure::ProfileTypeNotAllowed),
        ),
        (
            "Failed",
            "8.2.5",
            "3.7",
            false,
            Some(KnownFailure::ProfileTypeStockOut),
        ),
        (
            "Failed",
            "8.2.5",
            "3.8",
            false,
            Some(KnownFailure::ProfileTypeMismatch),
        ),
        (
            "Failed",
            "8.2.6",
            "3.3",
            false,
            Some(KnownFailure::MatchingIdInUse),
        ),
        (
            "Failed",
            "8.2.6",
            "3.10",
            false,
            Some(KnownFailure::MatchingIdMismatch),
        ),
        (
            "Failed",
            "8.1.1",
            "2.2",
            false,
            Some(KnownFailure::EidMissing),
        ),
        (
            "Failed",
            "8.1.1",
            "3.10",
            false,
            Some(KnownFailure::EidInvalidAssociation),
        ),
        (
            "Failed",
            "8.9",
            "5.1",
            true,
            Some(KnownFailure::SmdsInaccessible),
        ),
        (
            "Failed",
            "8.9",
            "4.2",
            true,
            Some(KnownFailure::SmdsExecutionError),
        ),
        (
            "Failed",
            "1.1",
            "1.2",
            false,
            Some(KnownFailure::RequesterNotAllowed),
        ),
        (
            "Failed",
            "1.3.1",
            "2.1",
            false,
            Some(KnownFailure::ProtocolFormat),
        ),
        ("Failed", "1.6", "2.1", false, None),
        ("Failed", "1.2", "4.2", true, None),
        (
            "Expired",
            "8.2.1",
            "3.9",
            false,
            Some(KnownFailure::IccidUnknown),
        ),
        // Expired is a permanent failure even with a processing reason.
        ("Expired", "1.2", "4.2", false, None),
        ("Bogus-Status", "8.2.1", "4.2", false, None),
    ];
    for (status, subject, reason, retryable, known) in table {
        let err = decode_response::<HeaderOnly>(200, &failed(status, subject, reason))
            .expect_err("not a success");
        assert_eq!(err.retryable(), *retryable, "{status} {subject}/{reason}");
        assert_eq!(err.codes(), Some((*subject, *reason)));
        assert_eq!(known_failure(subject, reason), *known, "{subject}/{reason}");
        let shown = err.to_string();
        assert!(!shown.contains("secret text") && !shown.contains("MVNO_CONSUMER"));
        if let Es2Error::Failed {
            message,
            subject_identifier,
            ..
        } = &err
        {
            assert_eq!(message.as_deref(), Some("secret text"));
            assert_eq!(subject_identifier.as_deref(), Some("MVNO_CONSUMER_V1"));
        }
    }
    // Codes compare as strings: 3.10 is not 3.1.
    assert_ne!(
        known_failure("8.2.1", "3.1"),
        known_failure("8.2.1", "3.10")
    );
    // Failed without statusCodeData is tolerated and permanent.
    let bare = br#"{"header":{"functionExecutionStatus":{"status":"Failed"}}}"#;
    let err = decode_response::<HeaderOnly>(200, bare).expect_err("failed");
    assert_eq!(err.codes(), Some(("", "")));
    assert!(!err.retryable());
    // Non-200 is an HTTP error; 5xx is retryable (ambiguous), 4xx is not.
    assert_eq!(
        decode_response::<HeaderOnly>(500, b""),
        Err(Es2Error::HttpStatus { status: 500 })
    );
    assert!(Es2Error::HttpStatus { status: 503 }.retryable());
    assert!(!Es2Error::HttpStatus { status: 404 }.retryable());
    // A non-dotted code is never echoed by Display.
    let err = decode_response::<HeaderOnly>(200, &failed("Failed", "8986990999000001013x", "1"))
        .expect_err("failed");
    assert!(!err.to_string().contains("8986990999000001013"));
}

#[test]
fn simulator_failure_encoding_round_trips() {
    let st = FunctionExecutionStatus::failed("8.2.5", "3.7");
    let body = encode_failure(&st);
    assert_eq!(
        text(&body),
        r#"{"header":{"functionExecutionStatus":{"status":"Failed","statusCodeData":{"subjectCode":"8.2.5","reasonCode":"3.7"}}}}"#
    );
    let err = decode_response::<DownloadOrderResponse>(200, &body).expect_err("failed");
    assert_eq!(err.codes(), Some(("8.2.5", "3.7")));
}

const NOTIF_HDR: &str =
    r#""header":{"functionRequesterIdentifier":"smdp.example","functionCallIdentifier":"n-1"}"#;

fn notif(rest: &str) -> Vec<u8> {
    format!("{{{NOTIF_HDR},{rest}}}").into_bytes()
}

#[test]
fn notification_canonical_and_lenient_variants() {
    let canonical = notif(
        r#""eid":"89044040000000000000000001234565","iccid":"8986990999000001013","profileType":"P","timestamp":"2024-05-01T10:00:00Z","notificationPointId":4,"notificationPointStatus":{"status":"Executed-Success"},"resultData":"ogOgAQA=""#,
    );
    let n = decode_notification(&canonical).expect("canonical");
    assert_eq!(n.point, NotificationPoint::BppInstallation);
    assert_eq!(n.eid, Some(NotifiedEid::Valid(eid())));
    assert!(matches!(
        n.result_data.as_ref().map(|r| &r.kind),
        Some(ResultDataKind::FinalResult(_))
    ));
    assert_eq!(decode_notification(&encode_notification(&n)), Ok(n.clone()));

    // timeStamp spelling, string id, F-padded ICCID, malformed EID, unknown status,
    // unknown members, fractional seconds with an offset.
    let quirky = notif(
        r#""eid":"8904404000000000000000000123456","iccid":"8986990999000001013F","profileType":"P","timeStamp":"2024-05-01T10:00:00.123+02:00","notificationPointId":"4","notificationPointStatus":{"status":"Weird"},"deviceImei":"35","x":{"y":[1,2]}"#,
    );
    let q = decode_notification(&quirky).expect("lenient");
    assert_eq!(q.iccid, iccid(ICCID));
    assert_eq!(q.point, NotificationPoint::BppInstallation);
    assert!(matches!(q.eid, Some(NotifiedEid::Malformed(_))));
    assert_eq!(
        q.point_status.status,
        ExecutionStatus::Unknown("Weird".into())
    );
    assert_eq!(q.timestamp.as_str(), "2024-05-01T10:00:00.123+02:00");
    assert!(
        encode_notification(&q)
            .windows(11)
            .any(|w| w == b"\"timestamp\"")
    );

    // No EID, no resultData at point 4, no profileType, failure codes, vendor ids.
    for (id, want) in [
        ("1", NotificationPoint::EligibilityAndRetryLimit),
        ("2", NotificationPoint::ConfirmationFailure),
        ("3", NotificationPoint::BppDownload),
        ("0", NotificationPoint::Reserved(0)),
        ("7", NotificationPoint::Reserved(7)),
        ("99", NotificationPoint::Reserved(99)),
        ("100", NotificationPoint::VendorSpecific(100)),
        ("\"250\"", NotificationPoint::VendorSpecific(250)),
        ("\"0004\"", NotificationPoint::BppInstallation),
        // JSON Schema's integer: a number without a fractional part, however written.
        ("4.0", NotificationPoint::BppInstallation),
        ("1e2", NotificationPoint::VendorSpecific(100)),
        ("-0.0", NotificationPoint::Reserved(0)),
        ("4294967295.0", NotificationPoint::VendorSpecific(u32::MAX)),
    ] {
        let b = notif(&format!(
            r#""iccid":"8986990999000001013","timestamp":"2024-05-01T10:00:00Z","notificationPointId":{id},"notificationPointStatus":{{"status":"Failed","statusCodeData":{{"subjectCode":"8.8.5","reasonCode":"6.4"}}}}"#
        ));
        let d = decode_notification(&b).expect("decodes");
        assert_eq!(d.point, want, "{id}");
        assert!(d.eid.is_none() && d.result_data.is_none() && d.profile_type.is_none());
        assert_eq!(
            d.point_status.status_code_data.map(|c| c.reason_code),
            Some("6.4".into())
        );
    }

    // resultData sniffing.
    for (b64, kind) in [("vzcA", "whole"), ("MAA=", "other"), ("!!!", "not")] {
        let b = notif(&format!(
            r#""iccid":"8986990999000001013","timestamp":"2024-05-01T10:00:00Z","notificationPointId":4,"notificationPointStatus":{{"status":"Executed-Success"}},"resultData":"{b64}""#
        ));
        let d = decode_notification(&b).expect("decodes");
        let k = d.result_data.map(|r| r.kind);
        match kind {
            "whole" => assert!(matches!(k, Some(ResultDataKind::InstallationResult(_)))),
            "other" => assert_eq!(k, Some(ResultDataKind::Other(vec![0x30, 0x00]))),
            _ => assert_eq!(k, Some(ResultDataKind::NotBase64)),
        }
    }
}

#[test]
fn notification_rejections() {
    let base = r#""iccid":"8986990999000001013","timestamp":"2024-05-01T10:00:00Z","notificationPointStatus":{"status":"Executed-Success"}"#;
    for (id, field) in [
        ("-1", "notificationPointId"),
        ("\"4a\"", "notificationPointId"),
        ("4.5", "notificationPointId"),
        ("-1.0", "notificationPointId"),
        ("4294967296.0", "notificationPointId"),
        ("1e300", "notificationPointId"),
        ("99999999999", "notificationPointId"),
        ("\"99999999999\"", "notificationPointId"),
        ("\"\"", "notificationPointId"),
        ("\"+4\"", "notificationPointId"),
    ] {
        let b = notif(&format!(r#"{base},"notificationPointId":{id}"#));
        assert_eq!(
            decode_notification(&b),
            Err(Es2Error::InvalidValue { field })
        );
    }
    let no_ts = notif(
        r#""iccid":"8986990999000001013","notificationPointId":1,"notificationPointStatus":{"status":"Failed"}"#,
    );
    assert_eq!(
        decode_notification(&no_ts),
        Err(Es2Error::Missing { field: "timestamp" })
    );
    let bad_ts = notif(
        r#""iccid":"8986990999000001013","timestamp":"2024-13-01 10:00","notificationPointId":1,"notificationPointStatus":{"status":"Failed"}"#,
    );
    assert_eq!(
        decode_notification(&bad_ts),
        Err(Es2Error::InvalidValue { field: "timestamp" })
    );
}

#[test]
fn activation_code_format_and_parse() {
    let ac = ActivationCode::new("SMDP.EXAMPLE.NET", "K7QF-M3XH-8PZ2-R9DW").expect("ac");
    assert_eq!(ac.to_string(), "1$SMDP.EXAMPLE.NET$K7QF-M3XH-8PZ2-R9DW");
    assert_eq!(
        ac.to_qr_string(),
        "LPA:1$SMDP.EXAMPLE.NET$K7QF-M3XH-8PZ2-R9DW"
    );
    let cc = ac.clone().with_cc_required(true).expect("cc");
    assert_eq!(cc.to_string(), "1$SMDP.EXAMPLE.NET$K7QF-M3XH-8PZ2-R9DW$$1");
    let oid = ac.clone().with_oid("1.3.6.1.4.1.99999.1").expect("oid");
    assert_eq!(
        oid.to_string(),
        "1$SMDP.EXAMPLE.NET$K7QF-M3XH-8PZ2-R9DW$1.3.6.1.4.1.99999.1"
    );
    let both = oid.clone().with_cc_required(true).expect("both");
    assert_eq!(
        both.to_string(),
        "1$SMDP.EXAMPLE.NET$K7QF-M3XH-8PZ2-R9DW$1.3.6.1.4.1.99999.1$1"
    );
    for a in [&ac, &cc, &oid, &both] {
        assert_eq!(a.to_string().parse::<ActivationCode>().as_ref(), Ok(a));
        assert_eq!(a.to_qr_string().parse::<ActivationCode>().as_ref(), Ok(a));
    }
    let empty = ActivationCode::new("smdp.example", "").expect("empty token allowed");
    assert_eq!(empty.to_string(), "1$smdp.example$");
    assert_eq!(
        "1$smdp.example$AB$$1$extra$x"
            .parse::<ActivationCode>()
            .map(|a| a.cc_required()),
        Ok(true)
    );
    assert!("2$smdp.example$AB".parse::<ActivationCode>().is_err());
    assert!("1$smdp.example".parse::<ActivationCode>().is_err());
    assert!("1$smdp.example$AB$$2".parse::<ActivationCode>().is_err());
    assert!(ActivationCode::new("smdp$x", "AB").is_err());
    assert!(ActivationCode::new("smdp.example", "lower").is_err());
    let long = "A".repeat(241);
    assert!(
        ActivationCode::new("smdp.example", &long).is_err(),
        "> 255 chars"
    );
    assert!(
        ActivationCode::new("s.e", &"A".repeat(249)).is_ok(),
        "exactly 255"
    );
}

#[test]
fn transport_header_rules() {
    assert!(is_supported_admin_protocol("gsma/rsp/v2.2.0"));
    assert!(is_supported_admin_protocol("gsma/rsp/v3.1.0"));
    assert!(!is_supported_admin_protocol("gsma/rsp/v1.0"));
    assert!(is_json_media_type("application/json;charset=UTF-8"));
    assert!(is_json_media_type("Application/JSON"));
    assert!(!is_json_media_type("text/html"));
    assert_eq!(ADMIN_PROTOCOL_VERSION, "gsma/rsp/v2.2.0");
}

// ---- properties ----

fn arb_iccid() -> impl Strategy<Value = Iccid> {
    "89[0-9]{16,17}".prop_map(|p| Iccid::from_payload(&p).expect("payload"))
}

fn arb_eid() -> impl Strategy<Value = Eid> {
    "[0-9]{30}".prop_map(|b| Eid::from_body(&b).expect("body"))
}

fn arb_header() -> impl Strategy<Value = RequestHeader> {
    ("\\PC{0,20}", "[ -~]{0,30}").prop_map(|(a, b)| RequestHeader::new(a, b))
}

fn arb_mid() -> impl Strategy<Value = MatchingId> {
    "[0-9A-Z-]{0,30}".prop_map(|s| MatchingId::new(&s).expect("mid"))
}

fn arb_fqdn() -> impl Strategy<Value = Fqdn> {
    "[a-zA-Z0-9-]{1,20}(\\.[a-zA-Z0-9-]{1,20}){0,3}".prop_map(|s| Fqdn::new(&s).expect("fqdn"))
}

fn arb_selector() -> impl Strategy<Value = ProfileSelector> {
    prop_oneof![
        arb_iccid().prop_map(ProfileSelector::Iccid),
        "\\PC{0,20}".prop_map(ProfileSelector::ProfileType),
        (arb_iccid(), "\\PC{0,20}").prop_map(|(iccid, profile_type)| ProfileSelector::Both {
            iccid,
            profile_type
        }),
    ]
}

fn arb_status() -> impl Strategy<Value = FunctionExecutionStatus> {
    (
        prop_oneof![
            Just(ExecutionStatus::ExecutedSuccess),
            Just(ExecutionStatus::ExecutedWithWarning),
            Just(ExecutionStatus::Failed),
            Just(ExecutionStatus::Expired),
            "[a-z]{1,8}".prop_map(ExecutionStatus::Unknown),
        ],
        proptest::option::of((
            "[0-9.]{1,8}",
            "[0-9.]{1,8}",
            proptest::option::of("\\PC{0,10}"),
            proptest::option::of("\\PC{0,10}"),
        )),
    )
        .prop_map(|(status, d)| FunctionExecutionStatus {
            status,
            status_code_data: d.map(|(s, r, i, m)| StatusCodeData {
                subject_code: s,
                reason_code: r,
                subject_identifier: i,
                message: m,
            }),
        })
}

proptest! {
    #[test]
    fn download_order_round_trips(header in arb_header(), eid in proptest::option::of(arb_eid()), profile in arb_selector()) {
        let req = DownloadOrderRequest { header, eid, profile };
        prop_assert_eq!(decode_download_order_request(&encode_download_order(&req)), Ok(req));
    }

    #[test]
    fn confirm_order_round_trips(
        header in arb_header(), iccid in arb_iccid(), eid in proptest::option::of(arb_eid()),
        mid in proptest::option::of(arb_mid()), cc in proptest::option::of("[0-9]{4,8}"),
        smds in proptest::option::of(arb_fqdn()), release_flag in any::<bool>(),
    ) {
        let req = ConfirmOrderRequest {
            header, iccid, eid, matching_id: mid,
            confirmation_code: cc.map(|c| ConfirmationCode::new(&c).expect("cc")),
            smds_address: smds, release_flag,
        };
        prop_assert_eq!(decode_confirm_order_request(&encode_confirm_order(&req)), Ok(req));
    }

    #[test]
    fn cancel_and_release_round_trip(
        header in arb_header(), iccid in arb_iccid(), eid in proptest::option::of(arb_eid()),
        mid in proptest::option::of(arb_mid()), available in any::<bool>(),
    ) {
        let req = CancelOrderRequest {
            header: header.clone(), iccid: iccid.clone(), eid, matching_id: mid,
            final_profile_status_indicator: if available { FinalProfileStatus::Available } else { FinalProfileStatus::Unavailable },
        };
        prop_assert_eq!(decode_cancel_order_request(&encode_cancel_order(&req)), Ok(req));
        let rel = ReleaseProfileRequest { header, iccid };
        prop_assert_eq!(decode_release_profile_request(&encode_release_profile(&rel)), Ok(rel));
    }

    #[test]
    fn responses_round_trip(
        status in arb_status(), iccid in arb_iccid(), eid in proptest::option::of(arb_eid()),
        mid in proptest::option::of(arb_mid()), smdp in proptest::option::of(arb_fqdn()),
    ) {
        let success = status.status.is_success();
        let dl = Response { status: status.clone(), data: DownloadOrderResponse { iccid } };
        let got = decode_response::<DownloadOrderResponse>(200, &encode_response(&dl));
        if success { prop_assert_eq!(got, Ok(dl)); } else { let is_failed = matches!(got, Err(Es2Error::Failed { .. })); prop_assert!(is_failed); }
        let co = Response { status, data: ConfirmOrderResponse { eid, matching_id: mid, smdp_address: smdp } };
        let got = decode_response::<ConfirmOrderResponse>(200, &encode_response(&co));
        if success { prop_assert_eq!(got, Ok(co)); } else { prop_assert!(got.is_err()); }
    }

    #[test]
    fn notification_round_trips(
        header in arb_header(), iccid in arb_iccid(), eid in proptest::option::of(arb_eid()),
        profile_type in proptest::option::of("\\PC{0,10}"), id in any::<u32>(),
        status in arb_status(), der in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64)),
    ) {
        let info = DownloadProgressInfo {
            header, eid: eid.map(NotifiedEid::Valid), iccid, profile_type,
            timestamp: Timestamp::new("2024-05-01T10:00:00Z").expect("ts"),
            point: NotificationPoint::from_id(id), point_status: status,
            result_data: der.map(|d| ResultData::from_der(&d)),
        };
        prop_assert_eq!(info.point.id(), id);
        prop_assert_eq!(decode_notification(&encode_notification(&info)), Ok(info));
    }

    #[test]
    fn result_data_base64_round_trips(der in proptest::collection::vec(any::<u8>(), 0..64)) {
        let r = ResultData::from_der(&der);
        let bytes = match r.kind {
            ResultDataKind::FinalResult(b) | ResultDataKind::InstallationResult(b) | ResultDataKind::Other(b) => b,
            ResultDataKind::NotBase64 => Vec::new(),
        };
        prop_assert_eq!(bytes, der);
    }

    #[test]
    fn activation_code_round_trips(smdp in arb_fqdn(), mid in arb_mid(), cc in any::<bool>(), oid in proptest::option::of("[0-9]{1,3}(\\.[0-9]{1,3}){0,5}")) {
        let mut ac = ActivationCode::new(smdp.as_str(), mid.as_str()).expect("ac").with_cc_required(cc).expect("cc");
        if let Some(o) = oid { ac = ac.with_oid(&o).expect("oid"); }
        prop_assert!(ac.to_string().len() <= MAX_ACTIVATION_CODE_CHARS);
        prop_assert_eq!(ac.to_string().parse::<ActivationCode>(), Ok(ac));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), status in any::<u16>()) {
        let _ = decode_download_order_request(&bytes);
        let _ = decode_confirm_order_request(&bytes);
        let _ = decode_cancel_order_request(&bytes);
        let _ = decode_release_profile_request(&bytes);
        let _ = decode_notification(&bytes);
        let _ = decode_response::<DownloadOrderResponse>(200, &bytes);
        let _ = decode_response::<ConfirmOrderResponse>(200, &bytes);
        let _ = decode_response::<HeaderOnly>(status, &bytes);
        if let Ok(s) = std::str::from_utf8(&bytes) {
            let _ = s.parse::<ActivationCode>();
            let _ = Timestamp::new(s);
            let _ = ResultData::from_base64(s);
        }
    }

    #[test]
    fn arbitrary_json_never_panics(s in "\\{(\"[a-zA-Z]{1,12}\":(\"[^\"\\\\]{0,12}\"|[0-9-]{1,12}|true|null|\\{\\}|\\[\\]),?){0,8}\\}") {
        let b = s.as_bytes();
        let _ = decode_download_order_request(b);
        let _ = decode_confirm_order_request(b);
        let _ = decode_cancel_order_request(b);
        let _ = decode_notification(b);
        let _ = decode_response::<ConfirmOrderResponse>(200, b);
    }
}

#[test]
fn oversized_bodies_are_rejected() {
    let big = vec![b' '; MAX_MESSAGE_BYTES + 1];
    assert_eq!(
        decode_notification(&big),
        Err(Es2Error::TooLarge {
            limit: MAX_MESSAGE_BYTES
        })
    );
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(matches!(
        decode_notification(deep.as_bytes()),
        Err(Es2Error::Malformed { .. })
    ));
}

#[test]
fn f_padded_encoders_pad_19_digit_iccids_and_decode_back() {
    let dl = DownloadOrderRequest {
        header: hdr("c"),
        eid: None,
        profile: ProfileSelector::Both {
            iccid: iccid(ICCID),
            profile_type: "MVNO_CONSUMER_V1".into(),
        },
    };
    let body = encode_download_order_with(&dl, IccidForm::FPadded);
    assert!(text(&body).contains(r#""iccid":"8986990999000001013F","profileType""#));
    assert_eq!(decode_download_order_request(&body), Ok(dl.clone()));
    assert_eq!(
        encode_download_order_with(&dl, IccidForm::Canonical),
        encode_download_order(&dl)
    );

    let release = ReleaseProfileRequest {
        header: hdr("c"),
        iccid: iccid(ICCID),
    };
    let body = encode_release_profile_with(&release, IccidForm::FPadded);
    assert_eq!(
        text(&body),
        r#"{"header":{"functionRequesterIdentifier":"mvno-gw-prod","functionCallIdentifier":"c"},"iccid":"8986990999000001013F"}"#
    );
    assert_eq!(decode_release_profile_request(&body), Ok(release));

    let cancel = CancelOrderRequest {
        header: hdr("c"),
        iccid: iccid(ICCID),
        eid: None,
        matching_id: None,
        final_profile_status_indicator: FinalProfileStatus::Unavailable,
    };
    let body = encode_cancel_order_with(&cancel, IccidForm::FPadded);
    assert!(
        text(&body).contains(
            r#""iccid":"8986990999000001013F","finalProfileStatusIndicator":"Unavailable""#
        )
    );
    assert_eq!(decode_cancel_order_request(&body), Ok(cancel));

    // A 20-digit ICCID has no padding to add.
    let twenty = Iccid::from_payload(ICCID).expect("20 digits");
    let confirm = ConfirmOrderRequest {
        header: hdr("c"),
        iccid: twenty.clone(),
        eid: None,
        matching_id: None,
        confirmation_code: None,
        smds_address: None,
        release_flag: true,
    };
    let body = encode_confirm_order_with(&confirm, IccidForm::FPadded);
    assert!(text(&body).contains(&format!(r#""iccid":"{twenty}","releaseFlag":true"#)));
    assert_eq!(body, encode_confirm_order(&confirm));
    assert_eq!(decode_confirm_order_request(&body), Ok(confirm));
}

//! The callback listener's document against its receiver, request side: a
//! HandleDownloadProgressInfo the document calls valid is exactly one the listener takes
//! (it answers 400 precisely when `decode_notification` refuses), less an ICCID's Luhn
//! digit, which no pattern can say; every notification the SM-DP+ simulator sends, quirks
//! included, is valid and taken; and Schemathesis fails its run of this document on a
//! validation mismatch.

use crate::common::json_schema::Validator;
use crate::common::openapi_check::OpenApi;
use adapters::es2plus::{
    DownloadProgressInfo, FunctionExecutionStatus, NotificationPoint, NotifiedEid, RequestHeader,
    ResultData, Timestamp, decode_notification, encode_notification,
    path::HANDLE_DOWNLOAD_PROGRESS_INFO as PATH,
};
use adapters::http::HttpClient;
use bytes::Bytes;
use conformance::smdp_sim::{InstallResult, Quirks, apply_quirks, final_result_der};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value, json};
use sim_profiles::{Eid, Iccid, IdentError};

const EID: &str = "89044040000000000000000001234565";
/// Not a profile of the sandbox: the listener records it and answers 204 all the same.
const ICCID: &str = "8986990999000001013";

/// The document's verdict on a notification body: JSON Schema validity. Members the
/// schema does not name are allowed in a request (the receiver ignores them), so the
/// checker's undocumented-member reports do not count here.
fn documented(v: &Validator, body: &Value) -> Result<(), Vec<String>> {
    let schema =
        &v.root()["paths"][PATH]["post"]["requestBody"]["content"]["application/json"]["schema"];
    let errors: Vec<String> = v
        .validate(schema, body)
        .into_iter()
        .filter(|e| !e.ends_with(": member not in the schema"))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Holds `body` to both sides: what the receiver decodes is valid by the document, and what
/// is valid decodes unless its ICCID's check digit alone is wrong. Returns whether it
/// decoded.
fn agree(v: &Validator, body: &Value) -> bool {
    let verdict = documented(v, body);
    match decode_notification(body.to_string().as_bytes()) {
        Ok(_) => {
            assert_eq!(
                verdict,
                Ok(()),
                "accepted but invalid by the document: {body}"
            );
            true
        }
        Err(e) if verdict.is_ok() => {
            let iccid = body["iccid"].as_str().unwrap_or_default();
            assert!(
                matches!(iccid.parse::<Iccid>(), Err(IdentError::Luhn)),
                "valid by the document but refused ({e}): {body}"
            );
            let mut fixed = body.clone();
            fixed["iccid"] = json!(ICCID);
            assert!(
                decode_notification(fixed.to_string().as_bytes()).is_ok(),
                "refused for more than its ICCID's check digit: {body}"
            );
            false
        }
        Err(_) => false,
    }
}

/// POSTs `body` as the SM-DP+ and records the answer against the document.
async fn post(doc: &OpenApi, smdp: &HttpClient, base: &str, body: &Value) -> u16 {
    let r = smdp
        .post(
            &format!("{base}{PATH}"),
            &[("content-type", "application/json".into())],
            Bytes::from(body.to_string()),
        )
        .await
        .expect("POST");
    let ct = r
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    doc.record("POST", PATH, r.status, &ct, &r.body);
    r.status
}

/// Every notification the simulator builds (the ES2+ codec's encoding, then each set of
/// its body quirks) is valid by the document, and the listener takes it (204).
pub async fn simulator_notifications(doc: &OpenApi, smdp: &HttpClient, base: &str) {
    let v = Validator::new(doc.doc().clone());
    let eid: Eid = EID.parse().expect("eid");
    let iccid: Iccid = ICCID.parse().expect("iccid");
    let install_failed = InstallResult::Failure {
        bpp_command_id: 5,
        error_reason: 10,
    };
    let steps = [
        (3, FunctionExecutionStatus::success(), None),
        (
            4,
            FunctionExecutionStatus::success(),
            Some(final_result_der(InstallResult::Success)),
        ),
        (
            4,
            FunctionExecutionStatus::failed("8.2.10", "4.2"),
            Some(final_result_der(install_failed)),
        ),
        (1, FunctionExecutionStatus::failed("8.8.5", "6.4"), None),
        (150, FunctionExecutionStatus::success(), None),
    ];
    let mut n = 0;
    for (point, status, result) in steps {
        let info = DownloadProgressInfo {
            header: RequestHeader::new("SMDP.SANDBOX.INVALID", format!("sim-{n}")),
            eid: Some(NotifiedEid::Valid(eid.clone())),
            iccid: iccid.clone(),
            profile_type: Some("SANDBOX-CONSUMER-V1".into()),
            timestamp: Timestamp::new("2026-03-01T12:34:56Z").expect("timestamp"),
            point: NotificationPoint::from_id(point),
            point_status: status,
            result_data: result.as_deref().map(ResultData::from_der),
        };
        for mask in 0..32u8 {
            let quirks = Quirks {
                timestamp_camel_case: mask & 1 != 0,
                point_id_as_string: mask & 2 != 0,
                pad_iccid: mask & 4 != 0,
                omit_eid: mask & 8 != 0,
                vendor_members: mask & 16 != 0,
                ..Quirks::default()
            };
            let sent = apply_quirks(encode_notification(&info), &quirks, n);
            let sent: Value = serde_json::from_slice(&sent).expect("json");
            assert_eq!(documented(&v, &sent), Ok(()), "{sent}");
            assert!(agree(&v, &sent), "refused: {sent}");
            assert_eq!(post(doc, smdp, base, &sent).await, 204, "{sent}");
            n += 1;
        }
    }
}

/// A canonical notification with `(name, value)` members set (`None`: removed).
fn body(changes: &[(&str, Option<Value>)]) -> Value {
    let mut b = json!({
        "header": {"functionRequesterIdentifier": "SMDP.SANDBOX.INVALID", "functionCallIdentifier": "edge"},
        "eid": EID, "iccid": ICCID, "profileType": "P", "timestamp": "2026-01-01T00:00:00Z",
        "notificationPointId": 3, "notificationPointStatus": {"status": "Executed-Success"}});
    for (name, value) in changes {
        match value {
            Some(v) => b[*name] = v.clone(),
            None => {
                if let Some(o) = b.as_object_mut() {
                    o.remove(*name);
                }
            }
        }
    }
    b
}

/// Members at their edges, each side of the line: the document, the decoder and the
/// listener's status agree.
pub async fn edge_cases(doc: &OpenApi, smdp: &HttpClient, base: &str) {
    let v = Validator::new(doc.doc().clone());
    let status = |s: Value| Some(json!({"status": "Failed", "statusCodeData": s}));
    let cases: Vec<(Value, bool)> = vec![
        (body(&[]), true),
        (
            body(&[("eid", Some(json!("8904404000000000000000000123456")))]),
            true,
        ),
        (
            body(&[("eid", Some(json!("89044040000000000000000001234566")))]),
            true,
        ),
        (body(&[("eid", Some(json!({"x": 1})))]), true),
        (
            body(&[("eid", None), ("profileType", Some(json!(7)))]),
            true,
        ),
        (
            body(&[("iccid", Some(json!("8986990999000001013f")))]),
            true,
        ),
        (
            body(&[("iccid", Some(json!("89860099001000000001")))]),
            true,
        ),
        (
            body(&[("iccid", Some(json!("8986990999000001014")))]),
            false,
        ),
        (body(&[("iccid", Some(json!("898699099900000101")))]), false),
        (
            body(&[("iccid", Some(json!(8986990999000001013_u64)))]),
            false,
        ),
        (body(&[("timestamp", None)]), false),
        (body(&[("timestamp", Some(Value::Null))]), false),
        (
            body(&[
                ("timestamp", None),
                ("timeStamp", Some(json!("2026-01-01t00:00:00.5-05:30"))),
            ]),
            true,
        ),
        (
            body(&[
                ("timestamp", Some(Value::Null)),
                ("timeStamp", Some(json!("2026-02-31T23:59:60z"))),
            ]),
            true,
        ),
        (
            body(&[
                ("timestamp", None),
                ("timeStamp", Some(json!("2026-01-01"))),
            ]),
            false,
        ),
        (
            body(&[
                ("timestamp", Some(json!("2026-01-01 00:00:00Z"))),
                ("timeStamp", Some(json!("2026-01-01T00:00:00Z"))),
            ]),
            false,
        ),
        (body(&[("timeStamp", Some(json!(1)))]), true),
        (
            body(&[("timestamp", Some(json!("2026-01-01T00:00:00")))]),
            false,
        ),
        (
            body(&[("timestamp", Some(json!("2026-13-01T00:00:00Z")))]),
            false,
        ),
        (
            body(&[("timestamp", Some(json!("2026-01-01T00:00:00+24:00")))]),
            false,
        ),
        (
            body(&[("notificationPointId", Some(json!(4294967295_u64)))]),
            true,
        ),
        (
            body(&[("notificationPointId", Some(json!(4294967296_u64)))]),
            false,
        ),
        (body(&[("notificationPointId", Some(json!(4.0)))]), true),
        (body(&[("notificationPointId", Some(json!(4.5)))]), false),
        (body(&[("notificationPointId", Some(json!(-1)))]), false),
        (
            body(&[("notificationPointId", Some(json!("0004294967295")))]),
            true,
        ),
        (
            body(&[("notificationPointId", Some(json!("4294967296")))]),
            false,
        ),
        (body(&[("notificationPointId", Some(json!("")))]), false),
        (body(&[("notificationPointId", Some(json!("+4")))]), false),
        (
            body(&[("notificationPointStatus", Some(json!({"status": null})))]),
            false,
        ),
        (
            body(&[(
                "notificationPointStatus",
                Some(json!({"status": "Odd", "statusCodeData": null})),
            )]),
            true,
        ),
        (
            body(&[(
                "notificationPointStatus",
                status(json!({"subjectCode": "8"})),
            )]),
            false,
        ),
        (
            body(&[(
                "notificationPointStatus",
                status(json!({"subjectCode": "8", "reasonCode": "4.2", "message": 1})),
            )]),
            false,
        ),
        (
            body(&[(
                "notificationPointStatus",
                status(json!({"subjectCode": "8", "reasonCode": "4.2", "message": null, "x": 1})),
            )]),
            true,
        ),
        (body(&[("resultData", Some(json!("!!!")))]), true),
        (body(&[("resultData", Some(json!(1)))]), false),
        (
            body(&[("header", Some(json!({"functionRequesterIdentifier": "x"})))]),
            false,
        ),
        (
            body(&[(
                "header",
                Some(
                    json!({"functionRequesterIdentifier": "x", "functionCallIdentifier": "y", "z": 0}),
                ),
            )]),
            true,
        ),
        (body(&[("header", Some(Value::Null))]), false),
        (
            body(&[("vendorReference", Some(json!("SIMREF-000001")))]),
            true,
        ),
    ];
    for (i, (mut b, decodes)) in cases.into_iter().enumerate() {
        if let Some(call) = b["header"].get_mut("functionCallIdentifier") {
            *call = json!(format!("edge-{i}"));
        }
        assert_eq!(agree(&v, &b), decodes, "{b}");
        let want = if decodes { 204 } else { 400 };
        assert_eq!(post(doc, smdp, base, &b).await, want, "{b}");
    }
}

// Generated notifications: each member valid most of the time, else absent, null, of
// another type, or near its form.

fn scalar() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        (-1.0e3..1.0e3f64).prop_map(|f| json!(f)),
        "[a-z0-9 ]{0,4}".prop_map(Value::String),
        Just(json!({})),
        Just(json!([1])),
    ]
    .boxed()
}

fn member(form: BoxedStrategy<Value>) -> BoxedStrategy<Option<Value>> {
    prop_oneof![20 => form.prop_map(Some), 1 => scalar().prop_map(Some), 1 => Just(None)].boxed()
}

fn string() -> BoxedStrategy<Value> {
    "[A-Za-z0-9.]{0,6}".prop_map(Value::String).boxed()
}

fn datetime() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => "[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]{1,3})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])",
        1 => "[0-9]{3,4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,2})?([Zz]|[+-][0-9]{2}:[0-9]{2}|)",
    ]
    .prop_map(Value::String)
    .boxed()
}

fn iccid() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => ("[0-9]{18,19}", "(F|f|)").prop_map(|(payload, pad)| {
            let s = Iccid::from_payload(&payload).expect("payload").to_string();
            json!(if s.len() == 19 { s + &pad } else { s })
        }),
        1 => "[0-9Ff]{17,21}".prop_map(Value::String),
    ]
    .boxed()
}

fn point_id() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => any::<u32>().prop_map(|n| json!(n)),
        1 => any::<u64>().prop_map(|n| json!(n)),
        1 => any::<i64>().prop_map(|n| json!(n)),
        1 => any::<u32>().prop_map(|n| json!(f64::from(n))),
        3 => "0{0,3}[0-9]{1,11}".prop_map(Value::String),
        1 => "[0-9+ a-]{0,4}".prop_map(Value::String),
    ]
    .boxed()
}

fn object(members: Vec<(&'static str, Option<Value>)>) -> Value {
    let members = members
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_owned(), v?)));
    Value::Object(members.collect::<Map<String, Value>>())
}

fn status() -> BoxedStrategy<Value> {
    let data = (
        member(string()),
        member(string()),
        member(string()),
        member(string()),
    )
        .prop_map(|(s, r, i, m)| {
            object(vec![
                ("subjectCode", s),
                ("reasonCode", r),
                ("subjectIdentifier", i),
                ("message", m),
            ])
        })
        .boxed();
    (member(string()), member(data))
        .prop_map(|(s, d)| object(vec![("status", s), ("statusCodeData", d)]))
        .boxed()
}

fn header() -> BoxedStrategy<Value> {
    (
        member(string()),
        member(string()),
        proptest::option::of(scalar()),
    )
        .prop_map(|(r, c, x)| {
            object(vec![
                ("functionRequesterIdentifier", r),
                ("functionCallIdentifier", c),
                ("x", x),
            ])
        })
        .boxed()
}

fn notification() -> impl Strategy<Value = Value> {
    let eid = prop_oneof![Just(json!(EID)), "[0-9]{30,33}".prop_map(Value::String)].boxed();
    let result = "[A-Za-z0-9+/=!]{0,8}".prop_map(Value::String).boxed();
    (
        (
            member(header()),
            member(eid),
            member(iccid()),
            member(string()),
        ),
        (member(datetime()), member(datetime()), member(point_id())),
        (
            member(status()),
            member(result),
            proptest::option::of(scalar()),
        ),
    )
        .prop_map(|((h, e, i, p), (ts, ts2, id), (st, rd, x))| {
            object(vec![
                ("header", h),
                ("eid", e),
                ("iccid", i),
                ("profileType", p),
                ("timestamp", ts),
                ("timeStamp", ts2),
                ("notificationPointId", id),
                ("notificationPointStatus", st),
                ("resultData", rd),
                ("deviceInfo", x),
            ])
        })
}

/// Generated notifications: the document and the decoder agree on each, and the generator
/// reaches both answers (a good share is accepted, a good share refused).
pub fn generated(doc: &OpenApi) {
    let v = Validator::new(doc.doc().clone());
    let mut runner = TestRunner::new(Config {
        cases: 2000,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&notification(), |b| {
        agree(&v, &b);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let mut runner = TestRunner::deterministic();
    let strategy = notification();
    let accepted = (0..1000)
        .filter(|_| agree(&v, &strategy.new_tree(&mut runner).expect("tree").current()))
        .count();
    assert!((50..950).contains(&accepted), "{accepted} of 1000 accepted");
}

/// `scripts/schemathesis` fails its run of this document on a validation mismatch (every
/// valid notification it generated refused): its config names the document by title.
pub fn schemathesis_fails_on_a_mismatch(doc: &OpenApi) {
    let config = include_str!("../../../scripts/schemathesis.toml");
    let title = doc.doc()["info"]["title"].as_str().expect("title");
    let project = format!(
        "[[project]]\ntitle = \"{title}\"\nwarnings = {{ fail-on = [\"validation_mismatch\"] }}"
    );
    assert!(
        config.contains(&project),
        "scripts/schemathesis.toml lacks {project}"
    );
}

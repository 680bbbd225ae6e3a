//! Second real-person verification (二次实人认证) end to end over HTTPS against the
//! sandbox and its CAI3G HLR simulator, with a China tenant whose risk rule flags every
//! line whatever the time of day (`id_near_limit` with a margin of 4, store hours off):
//! a flagged line shows `pending_verification`; refusals change nothing; a failed
//! verification suspends it for `regulatory` (barred on the HLR), a later pass resumes it;
//! a pass in time clears a line with no suspension; events and the audit chain record it.
//! The identity verifier's `flag` on an activation opens the line pending too. The
//! deadline passing is shown under the paused clock (`engine_clock/reverify.rs`).

mod common;

use adapters::identity::Code;
use common::market::{Client, resident_id, sale, sandbox, tight_tenant};
use common::sandbox::shutdown;
use conformance::identity_sim::{Action, Rule};
use gateway::compliance::overrides::{Limit, PolicyOverride, RiskOverride};
use gateway::sandbox::Sandbox;
use http::Method;
use serde_json::{Value, json};

/// A refused verification: who sends it, for which number, the body, and the answer's
/// status, code and field.
type Case<'a> = (&'a Client, &'a str, Value, u16, &'a str, Option<&'a str>);

/// The tenant: China defaults, every line flagged, 48 hours to verify.
fn flag_every_line() -> PolicyOverride {
    PolicyOverride {
        reverify_hours: Some(48),
        risk: RiskOverride {
            id_near_limit: Some(Limit::At(4)),
            outside_store_hours: Some(false),
            ..RiskOverride::default()
        },
        ..PolicyOverride::default()
    }
}

/// Opens a line for ID `n` on card `iccid`; returns its number and IMSI.
async fn open_line(c: &Client, iccid: &str, n: u32) -> (String, String) {
    let (s, o) = c.order(&sale(iccid, &resident_id(n), "C1")).await;
    assert_eq!(s, 202, "{o}");
    let done = c
        .settle(&format!(
            "/v1/activations/{}",
            o["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(done["status"], "active", "{done}");
    (
        done["msisdn"].as_str().expect("msisdn").to_owned(),
        done["imsi"].as_str().expect("imsi").to_owned(),
    )
}

async fn verify(c: &Client, msisdn: &str, body: &Value) -> (u16, Value) {
    let path = format!("/v1/subscriptions/{msisdn}/verification");
    let (s, v, _) = c.send(Method::POST, &path, None, Some(body)).await;
    (s, v)
}

/// A store verification with the signed risk notice.
fn in_store(result: &str) -> Value {
    json!({
        "evidence": {"risk_notice": {"id": "rn-2025-0001"}},
        "channel": {"kind": "store", "store_id": "SZ-0042", "terminal_id": "T7", "staff_id": "C1"},
        "result": result, "transaction_id": "idv-77"
    })
}

/// Operator barring of `imsi` on the HLR simulator: (outgoing, incoming).
fn barred(sb: &Sandbox, imsi: &str) -> (bool, bool) {
    let h = sb
        .hlr_sim
        .as_ref()
        .expect("HLR simulator")
        .hlr(&imsi.parse().expect("imsi"))
        .expect("on the HLR");
    (h.obo, h.obi)
}

/// Runs the order a verification started to its end.
async fn finish(c: &Client, answer: &Value) -> Value {
    let id = answer["order"]["id"].as_str().expect("an order");
    let o = c.settle(&format!("/v1/orders/{id}")).await;
    assert_eq!(o["status"], "completed", "{o}");
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flagged_line_is_verified_suspended_and_resumed_over_the_api() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = sandbox(dir.path()).await;
    let (c, iccids) = tight_tenant(&sb, "reverify-cn", 5, flag_every_line()).await;
    let (msisdn, imsi) = open_line(&c, &iccids[0], 200).await;
    let line_path = format!("/v1/subscriptions/{msisdn}");
    let line = c.get(&line_path).await;
    assert_eq!(line["state"], "pending_verification", "{line}");
    assert_eq!(line["verification"]["state"], "pending");
    assert_eq!(line["verification"]["rules"], json!(["id_near_limit"]));
    assert!(line["verification"]["deadline"].is_string(), "{line}");
    assert_eq!(barred(&sb, &imsi), (false, false), "in service meanwhile");
    let listed = c.get("/v1/subscriptions?state=pending_verification").await;
    assert_eq!(listed["data"][0]["msisdn"], msisdn.as_str(), "{listed}");

    // Refusals change nothing.
    let as_channel = Client::channel(&sb, "reverify-cn").await;
    let mut no_evidence = in_store("passed");
    no_evidence.as_object_mut().map(|b| b.remove("evidence"));
    let mut video_in_store = in_store("passed");
    video_in_store["evidence"] = json!({"video": {"id": "v-1"}});
    let mut no_result = in_store("passed");
    no_result.as_object_mut().map(|b| b.remove("result"));
    let cases: Vec<Case> = vec![
        (
            &as_channel,
            &msisdn,
            in_store("passed"),
            403,
            "forbidden_for_role",
            None,
        ),
        (
            &c,
            &msisdn,
            no_evidence,
            422,
            "verification_evidence_required",
            Some("evidence.risk_notice.id"),
        ),
        (
            &c,
            &msisdn,
            video_in_store,
            422,
            "verification_evidence_required",
            Some("evidence.risk_notice.id"),
        ),
        // Without `result` the gateway asks the verifier, which in store checks a face.
        (
            &c,
            &msisdn,
            no_result,
            400,
            "missing_field",
            Some("evidence.face_match"),
        ),
        (
            &c,
            "8617000000000",
            in_store("passed"),
            404,
            "subscription_not_found",
            None,
        ),
    ];
    for (who, m, body, status, code, field) in cases {
        let (s, p) = verify(who, m, &body).await;
        assert_eq!((s, p["code"].as_str()), (status, Some(code)), "{body}: {p}");
        if let Some(f) = field {
            assert_eq!(p["field"], f, "{p}");
        }
    }
    assert_eq!(c.get(&line_path).await, line, "refusals changed the line");

    // The verifier fails the subscriber: the line is suspended for `regulatory` at once.
    let (s, failed) = verify(&c, &msisdn, &in_store("failed")).await;
    assert_eq!(s, 200, "{failed}");
    assert_eq!(failed["order"]["kind"], "suspend", "{failed}");
    assert_eq!(failed["order"]["reason"], "regulatory");
    finish(&c, &failed).await;
    let line = c.get(&line_path).await;
    assert_eq!(line["state"], "suspended", "{line}");
    assert_eq!(line["suspension_reasons"], json!(["regulatory"]));
    assert_eq!(line["regulatory_by"], json!(["verification"]));
    assert_eq!(
        (
            &line["verification"]["state"],
            &line["verification"]["cause"]
        ),
        (&json!("suspended"), &json!("failed"))
    );
    assert_eq!(barred(&sb, &imsi), (true, true), "barred on the HLR");

    // Verified later (online, with the video): resumed.
    let (s, passed) = verify(
        &c,
        &msisdn,
        &json!({"evidence": {"video": {"id": "v-2025-9"}}, "result": "passed", "transaction_id": "idv-78"}),
    )
    .await;
    assert_eq!(s, 200, "{passed}");
    assert_eq!(
        (&passed["order"]["kind"], &passed["verification"]["state"]),
        (&json!("resume"), &json!("clear"))
    );
    finish(&c, &passed).await;
    let line = c.get(&line_path).await;
    assert_eq!(line["state"], "active", "{line}");
    assert_eq!(line["regulatory_by"], json!([]));
    assert_eq!(barred(&sb, &imsi), (false, false), "unbarred");
    let (s, p) = verify(&c, &msisdn, &in_store("passed")).await;
    assert_eq!(
        (s, p["code"].as_str()),
        (409, Some("verification_not_pending")),
        "{p}"
    );

    // A second line verified in time: cleared, never suspended.
    let (second, second_imsi) = open_line(&c, &iccids[1], 201).await;
    let (s, v) = verify(&c, &second, &in_store("passed")).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!((&v["state"], &v["order"]), (&json!("active"), &Value::Null));
    let history = c.get(&format!("/v1/subscriptions/{second}/history")).await;
    assert_eq!(
        history["data"].as_array().map(Vec::len),
        Some(1),
        "{history}"
    );
    assert_eq!(barred(&sb, &second_imsi), (false, false));

    let required = c
        .get("/v1/events?type=subscription.verification_required")
        .await;
    assert_eq!(
        required["data"].as_array().map(Vec::len),
        Some(2),
        "{required}"
    );
    assert_eq!(
        required["data"][0]["data"]["verification"]["rules"],
        json!(["id_near_limit"])
    );
    let verified = c.get("/v1/events?type=subscription.verified").await;
    assert_eq!(
        verified["data"].as_array().map(Vec::len),
        Some(2),
        "{verified}"
    );
    let suspended = c.get("/v1/events?type=subscription.suspended").await;
    assert_eq!(
        suspended["data"][0]["data"]["suspension_reasons"],
        json!(["regulatory"])
    );

    let data_dir = sb.gateway.config.data_dir.clone();
    shutdown(sb).await;
    common::cli::assert_audit_intact(&data_dir);
}

/// A store verification at the counter, sent for the gateway to put to the verifier: the
/// signed notice and the customer's face match, no `result`.
fn at_counter(liveness: bool) -> Value {
    json!({
        "evidence": {
            "risk_notice": {"id": "rn-2025-0002"},
            "face_match": {"transaction_id": "fm-77", "score": 0.91, "liveness": liveness}
        },
        "channel": {"kind": "store", "store_id": "SZ-0042", "terminal_id": "T7", "staff_id": "C1"}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_key_has_the_verifier_decide_a_second_verification() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = sandbox(dir.path()).await;
    let (c, iccids) = tight_tenant(&sb, "reverify-ask", 5, flag_every_line()).await;
    let clerk = Client::channel(&sb, "reverify-ask").await;
    let (msisdn, imsi) = open_line(&c, &iccids[0], 300).await;
    let line_path = format!("/v1/subscriptions/{msisdn}");
    let pending = c.get(&line_path).await;
    assert_eq!(pending["state"], "pending_verification", "{pending}");
    let asked_before = sb.identity.sim.counts().requests;

    // The verifier gives no decision: nothing changes.
    sb.identity
        .sim
        .push_rule(conformance::identity_sim::Rule::always(Action::Status(401)));
    let (s, p) = verify(&clerk, &msisdn, &at_counter(true)).await;
    assert_eq!(
        (s, p["code"].as_str()),
        (503, Some("identity_service_unavailable")),
        "{p}"
    );
    sb.identity.sim.clear_rules();
    assert_eq!(
        c.get(&line_path).await,
        pending,
        "no decision changed the line"
    );

    // The face does not pass the verifier's check: failed, suspended for `regulatory`.
    let (s, failed) = verify(&clerk, &msisdn, &at_counter(false)).await;
    assert_eq!(s, 200, "{failed}");
    assert_eq!(
        failed["verifier"],
        json!({"outcome": "reject", "code": "face_check_failed"})
    );
    assert_eq!(failed["order"]["kind"], "suspend", "{failed}");
    finish(&c, &failed).await;
    assert_eq!(barred(&sb, &imsi), (true, true), "barred on the HLR");

    // Back at the counter, the face passes: resumed.
    let (s, passed) = verify(&clerk, &msisdn, &at_counter(true)).await;
    assert_eq!(s, 200, "{passed}");
    assert_eq!(passed["verifier"], json!({"outcome": "pass", "code": null}));
    assert_eq!(
        (&passed["order"]["kind"], &passed["verification"]["state"]),
        (&json!("resume"), &json!("clear"))
    );
    finish(&c, &passed).await;
    assert_eq!(barred(&sb, &imsi), (false, false), "unbarred");
    assert!(
        sb.identity.sim.counts().requests >= asked_before + 3,
        "the verifier was asked each time"
    );

    // Online, the video is the evidence; a line with nothing pending is refused before the
    // verifier is asked.
    let (second, _) = open_line(&c, &iccids[1], 301).await;
    let video = json!({"evidence": {"video": {"id": "v-2025-10"}}});
    let (s, v) = verify(&clerk, &second, &video).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!((&v["state"], &v["order"]), (&json!("active"), &Value::Null));
    let asked = sb.identity.sim.counts().requests;
    let (s, p) = verify(&clerk, &second, &video).await;
    assert_eq!(
        (s, p["code"].as_str()),
        (409, Some("verification_not_pending"))
    );
    assert_eq!(sb.identity.sim.counts().requests, asked);

    // Each pass is published; the chain stays intact.
    let verified = c.get("/v1/events?type=subscription.verified").await;
    assert_eq!(
        verified["data"].as_array().map(Vec::len),
        Some(2),
        "{verified}"
    );
    let data_dir = sb.gateway.config.data_dir.clone();
    shutdown(sb).await;
    common::cli::assert_audit_intact(&data_dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verifier_flag_opens_the_line_pending_verification() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = sandbox(dir.path()).await;
    // Only the verifier's flag can ask for a verification here.
    let o = PolicyOverride {
        risk: RiskOverride {
            id_near_limit: Some(Limit::Off(gateway::compliance::overrides::Off::Off)),
            outside_store_hours: Some(false),
            ..RiskOverride::default()
        },
        ..PolicyOverride::default()
    };
    let (c, iccids) = tight_tenant(&sb, "reverify-flag", 6, o).await;
    let reason = Code::parse("watchlist_near_match", "code").expect("code");
    sb.identity.sim.push_rule(Rule::once(Action::Flag(reason)));
    let (flagged, _) = open_line(&c, &iccids[0], 210).await;
    let line = c.get(&format!("/v1/subscriptions/{flagged}")).await;
    assert_eq!(line["state"], "pending_verification", "{line}");
    assert_eq!(line["verification"]["rules"], json!(["verifier_flag"]));
    let (clear, _) = open_line(&c, &iccids[1], 211).await;
    let line = c.get(&format!("/v1/subscriptions/{clear}")).await;
    assert_eq!(
        (&line["state"], &line["verification"]["state"]),
        (&json!("active"), &json!("clear")),
        "{line}"
    );
    shutdown(sb).await;
}

async fn report(c: &Client, msisdn: &str, imei: &str) -> (u16, Value) {
    let path = format!("/v1/subscriptions/{msisdn}/handset");
    let (s, v, _) = c
        .send(Method::POST, &path, None, Some(&json!({ "imei": imei })))
        .await;
    (s, v)
}

/// The network's handset feed (`POST /v1/subscriptions/{msisdn}/handset`): operator keys
/// only; the first report is the baseline and a repeat writes nothing; another handset
/// (the tenant's `imei_change` rule on) and a blocklisted IMEI (`blocked_imei`) flag the
/// line for its second verification; a sale's `channel.imei` is the line's first handset;
/// the IMEI is never shown back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_networks_handset_reports_flag_a_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = sandbox(dir.path()).await;
    let rules = PolicyOverride {
        risk: RiskOverride {
            imei_change: Some(true),
            outside_store_hours: Some(false),
            ..RiskOverride::default()
        },
        ..PolicyOverride::default()
    };
    let (c, iccids) = tight_tenant(&sb, "handset-cn", 6, rules).await;
    let (a, _) = open_line(&c, &iccids[0], 210).await;
    let (b, _) = open_line(&c, &iccids[1], 211).await;
    let line_a = c.get(&format!("/v1/subscriptions/{a}")).await;
    assert_eq!(
        (&line_a["state"], &line_a["handset"]),
        (&json!("active"), &Value::Null),
        "{line_a}"
    );

    // Refusals change nothing.
    let as_channel = Client::channel(&sb, "handset-cn").await;
    let path = format!("/v1/subscriptions/{a}/handset");
    let (s, p, _) = as_channel
        .send(
            Method::POST,
            &path,
            None,
            Some(&json!({"imei": "490154203237518"})),
        )
        .await;
    assert_eq!(
        (s, p["code"].as_str()),
        (403, Some("forbidden_for_role")),
        "{p}"
    );
    for (body, code, field) in [
        (json!({"imei": "4901542"}), "invalid_value", "imei"),
        (json!({}), "missing_field", "imei"),
        (
            json!({"imei": "490154203237518", "imsi": "1"}),
            "unknown_field",
            "imsi",
        ),
    ] {
        let (s, p, _) = c.send(Method::POST, &path, None, Some(&body)).await;
        assert_eq!(
            (s, p["code"].as_str(), p["field"].as_str()),
            (400, Some(code), Some(field)),
            "{p}"
        );
    }
    let (s, p) = report(&c, "8613999999999", "490154203237518").await;
    assert_eq!(
        (s, p["code"].as_str()),
        (404, Some("subscription_not_found")),
        "{p}"
    );
    assert_eq!(c.get(&format!("/v1/subscriptions/{a}")).await, line_a);

    // The baseline (the network's 15 digits end in 0), then the same handset as an IMEISV.
    let (s, first) = report(&c, &a, "490154203237510").await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(
        first["report"],
        json!({"recorded": true, "changed": false, "rules": []})
    );
    assert_eq!(first["handset"]["tac"], "49015420");
    assert!(
        !first.to_string().contains("4901542032375"),
        "the IMEI shown back: {first}"
    );
    let (s, same) = report(&c, &a, "4901542032375107").await;
    assert_eq!(
        (s, &same["report"]["recorded"]),
        (200, &json!(false)),
        "{same}"
    );

    // Another handset: `imei_change` flags the line.
    let (s, moved) = report(&c, &a, "356938035643809").await;
    assert_eq!(s, 200, "{moved}");
    assert_eq!(
        moved["report"],
        json!({"recorded": true, "changed": true, "rules": ["imei_change"]})
    );
    assert_eq!(moved["state"], "pending_verification", "{moved}");
    assert_eq!(moved["verification"]["rules"], json!(["imei_change"]));
    assert_eq!(moved["handset"]["tac"], "35693803");

    // A handset on the blocklist (entered with its check digit): `blocked_imei`.
    let (s, e, _) = c
        .send(
            Method::POST,
            "/v1/blocklists",
            None,
            Some(&json!({"list": "imei", "value": "353456789012348", "reason": "reported stolen"})),
        )
        .await;
    assert_eq!(s, 201, "{e}");
    let (s, stolen) = report(&c, &b, "35345678901234").await;
    assert_eq!(s, 200, "{stolen}");
    assert_eq!(
        stolen["report"]["rules"],
        json!(["blocked_imei"]),
        "{stolen}"
    );
    assert_eq!(stolen["state"], "pending_verification");

    // A sale that names the customer's handset (`channel.imei`): the line's baseline, so
    // the network's first report of that handset (any form of it) records nothing.
    let mut body = sale(&iccids[2], &resident_id(212), "C1");
    body["channel"]["imei"] = json!("490154203237518");
    let (s, o) = c.order(&body).await;
    assert_eq!(s, 202, "{o}");
    let sold = c
        .settle(&format!(
            "/v1/activations/{}",
            o["id"].as_str().expect("id")
        ))
        .await;
    let m = sold["msisdn"].as_str().expect("msisdn").to_owned();
    let line = c.get(&format!("/v1/subscriptions/{m}")).await;
    assert_eq!(line["handset"]["tac"], "49015420", "{line}");
    let (s, same) = report(&c, &m, "49015420323751").await;
    assert_eq!(
        (s, &same["report"]["recorded"]),
        (200, &json!(false)),
        "{same}"
    );

    let events = c
        .get("/v1/events?type=subscription.verification_required")
        .await;
    let flagged: Vec<&str> = events["data"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["data"]["msisdn"].as_str())
        .collect();
    assert!(
        flagged.contains(&a.as_str()) && flagged.contains(&b.as_str()),
        "{events}"
    );
}

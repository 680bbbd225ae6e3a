//! `POST /v1/subscriptions/{msisdn}/verification`: a line's second real-person
//! verification (二次实人认证) with its evidence (the signed risk notice in store, the
//! recorded video online) and the identity verifier's result. A pass clears a pending
//! line, or resumes one the deadline suspended; a failure suspends it (`regulatory`).
//!
//! Without `result`, the gateway asks the tenant's identity verifier with the new evidence
//! and the identity the line was sold on (`verification_ask`): channel keys may send that
//! (a store's clerk verifies the customer at the counter). With `result` (and
//! `transaction_id`), an operator states a decision the verifier gave elsewhere.

use super::AppState;
use super::auth::{Caller, Permission, authenticate};
use super::dto::{channel_request, no_unknown, object};
use super::lifecycle_dto::{render_lifecycle, render_subscription};
use super::problem::ApiError;
use super::request::{PathParam, json_response, read_json};
use crate::compliance::audit::Actor as AuditActor;
use crate::compliance::reverify::{VerificationEvidence, evidence_required};
use crate::compliance::{ChannelKind, ChannelRef};
use crate::order::Actor;
use crate::store::{NewVerification, VerificationOutcome, VerifierResult};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use ring::rand::SystemRandom;
use serde_json::{Map, Value};
use sim_profiles::Msisdn;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

/// Longest evidence or transaction id accepted.
const MAX_ID: usize = 128;

/// A validated verification body.
#[derive(Debug, PartialEq)]
pub struct VerificationRequest {
    /// Where the subscriber verified (`channel`, as on activations).
    pub channel: ChannelRef,
    /// The evidence.
    pub evidence: VerificationEvidence,
    /// The verifier's result, as the caller states it.
    pub result: Option<VerifierResult>,
    /// The verifier's reference for it.
    pub transaction_id: Option<String>,
    /// In store, the face match of the customer at the counter, for the verifier.
    pub face_match: Option<adapters::identity::FaceMatch>,
}

/// What the verifier decided, and its reference.
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    /// Passed or failed.
    pub result: VerifierResult,
    /// The verifier's reference.
    pub reference: Option<String>,
    /// When the gateway asked the verifier: its `outcome` and `code`, for the answer.
    pub verifier: Option<Value>,
}

/// The result an operator states (`None` when the body has none).
fn stated(req: &VerificationRequest) -> Option<Answer> {
    Some(Answer {
        result: req.result?,
        reference: req.transaction_id.clone(),
        verifier: None,
    })
}

/// What a `POST` on one line starts with: the caller (allowed `permission`), the line's
/// number (a malformed one is no line: `404 subscription_not_found`) and the JSON body.
pub(super) async fn line_request(
    state: &AppState,
    headers: &HeaderMap,
    msisdn: PathParam,
    body: Body,
    permission: Permission,
) -> Result<(Caller, Msisdn, Value), ApiError> {
    let caller = authenticate(state, headers).await?;
    caller.require(permission)?;
    let msisdn: Msisdn = msisdn
        .value()?
        .parse()
        .map_err(|_| ApiError::subscription_not_found())?;
    let value = read_json(state, headers, body).await?;
    Ok((caller, msisdn, value))
}

/// `POST /v1/subscriptions/{msisdn}/verification`: `200` with the line after the result
/// and the `regulatory` resume or suspend order it started (`order`, else `null`).
pub async fn record(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    msisdn: PathParam,
    body: Body,
) -> Result<Response, ApiError> {
    let (caller, msisdn, value) = line_request(
        &state,
        &headers,
        msisdn,
        body,
        Permission::RequestVerification,
    )
    .await?;
    verify_checked(&state, caller, msisdn, &value).await
}

/// A verification of `caller`'s line `msisdn` with body `value`, the caller allowed to
/// send one: what the API and the store terminal (`terminal/api/lines/…/verification`,
/// the session's store channel, never a stated result) share.
pub(crate) async fn verify_checked(
    state: &AppState,
    caller: Caller,
    msisdn: Msisdn,
    value: &Value,
) -> Result<Response, ApiError> {
    let req = parse_verification(value)?;
    let answer = match stated(&req) {
        Some(a) => {
            caller.require(Permission::RecordVerification)?;
            a
        }
        None => {
            super::verification_ask::asked(state, &caller, &msisdn, &req, value.get("channel"))
                .await?
        }
    };
    let order_id = crate::crypto::order_id(&SystemRandom::new(), "ord_", state.clock.now_ms())
        .map_err(|_| ApiError::internal())?;
    let audit_actor = audit_actor(&caller, &req.channel);
    let Caller {
        tenant,
        role,
        key_prefix,
    } = caller;
    let outcome = state
        .store
        .record_verification(NewVerification {
            tenant,
            msisdn,
            evidence: req.evidence,
            channel: req.channel.kind(),
            result: answer.result,
            verifier_ref: answer.reference,
            actor: Actor {
                key_prefix,
                role: role.as_str().into(),
            },
            audit_actor,
            order_id,
            now_ms: state.clock.now_ms(),
            plan: crate::engine::machine::plan,
        })
        .await?;
    match outcome {
        VerificationOutcome::Recorded {
            subscription,
            order,
        } => {
            let mut body = render_subscription(&subscription);
            if let Some(v) = answer.verifier {
                body["verifier"] = v;
            }
            body["order"] = match &order {
                Some(o) => render_lifecycle(o, None),
                None => Value::Null,
            };
            if let Some(o) = order {
                state.metrics.orders_created.fetch_add(1, Relaxed);
                state.engine.submit(*o);
            }
            Ok(json_response(StatusCode::OK, &body))
        }
        VerificationOutcome::Rejected(r) => Err(ApiError::lifecycle_rejection(r)),
        VerificationOutcome::Refused(r) => Err(ApiError::refusal(r)),
    }
}

/// Who asks, for the audit record: the key and where the subscriber verified.
fn audit_actor(caller: &Caller, channel: &ChannelRef) -> AuditActor {
    let (name, store) = match channel {
        ChannelRef::Store(s) => ("store", Some(s)),
        ChannelRef::Online => ("online", None),
    };
    AuditActor {
        key_id: caller.key_prefix.clone(),
        channel: name.to_owned(),
        store: store.map(|s| s.store.clone()).filter(|s| !s.is_empty()),
        clerk: store.and_then(|s| s.clerk.clone()),
        device: store.and_then(|s| s.terminal.clone()),
    }
}

/// Validates the body: `evidence` (`{"risk_notice": {"id"}}` or `{"video": {"id"}}`),
/// `result`, optional `transaction_id` and `channel`. Missing evidence is refused with
/// `verification_evidence_required`, naming what the channel must send.
pub fn parse_verification(body: &Value) -> Result<VerificationRequest, ApiError> {
    let root = object(body, "")
        .map_err(|_| ApiError::invalid("invalid_type", "", "the body must be a JSON object"))?;
    no_unknown(
        root,
        "",
        &["evidence", "result", "transaction_id", "channel"],
    )?;
    let channel = match channel_request(root.get("channel"))? {
        None => ChannelRef::Online,
        Some(c) => {
            let member = |k: &str| c.get(k).and_then(Value::as_str);
            ChannelRef::from_request(
                member("kind"),
                member("store_id"),
                member("staff_id"),
                member("terminal_id"),
            )
        }
    };
    let evidence_value = root.get("evidence");
    let evidence = evidence(evidence_value, channel.kind())?;
    let face_match = match evidence_value.and_then(|e| e.get("face_match")) {
        None | Some(Value::Null) => None,
        Some(f) if matches!(evidence, VerificationEvidence::RiskNotice(_)) => {
            Some(super::verification_ask::face_match(f)?)
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "invalid_value",
                "evidence.face_match",
                "`face_match` goes with a store's signed `risk_notice`; online, the `video` is the evidence",
            ));
        }
    };
    let result = match root.get("result") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s == "passed" => Some(VerifierResult::Passed),
        Some(Value::String(s)) if s == "failed" => Some(VerifierResult::Failed),
        Some(_) => {
            return Err(ApiError::invalid(
                "invalid_value",
                "result",
                "`result` must be `passed` or `failed`",
            ));
        }
    };
    let transaction_id = match root.get("transaction_id") {
        None | Some(Value::Null) => None,
        Some(v) => Some(token(v, "transaction_id")?),
    };
    Ok(VerificationRequest {
        channel,
        evidence,
        result,
        transaction_id,
        face_match,
    })
}

fn evidence(v: Option<&Value>, channel: ChannelKind) -> Result<VerificationEvidence, ApiError> {
    let m: &Map<String, Value> = match v {
        None | Some(Value::Null) => return Err(ApiError::refusal(evidence_required(channel))),
        Some(v) => object(v, "evidence")?,
    };
    no_unknown(m, "evidence", &["risk_notice", "video", "face_match"])?;
    let id_of = |kind: &str| -> Result<Option<String>, ApiError> {
        let Some(e) = m.get(kind) else {
            return Ok(None);
        };
        let path = format!("evidence.{kind}");
        let e = object(e, &path)?;
        no_unknown(e, &path, &["id"])?;
        let id = e.get("id").ok_or_else(|| {
            ApiError::invalid(
                "missing_field",
                &format!("{path}.id"),
                format!("`{path}.id` is required"),
            )
        })?;
        match id {
            // An empty id is the machine's refusal (`verification_evidence_required`).
            Value::String(s) if s.trim().is_empty() => Ok(Some(String::new())),
            _ => token(id, &format!("{path}.id")).map(Some),
        }
    };
    match (id_of("risk_notice")?, id_of("video")?) {
        (Some(id), None) => Ok(VerificationEvidence::RiskNotice(id)),
        (None, Some(id)) => Ok(VerificationEvidence::Video(id)),
        (None, None) => Err(ApiError::refusal(evidence_required(channel))),
        (Some(_), Some(_)) => Err(ApiError::invalid(
            "invalid_value",
            "evidence",
            "send one kind of evidence: `risk_notice` (in store) or `video` (online)",
        )),
    }
}

/// An id: 1 to 128 printable ASCII characters without spaces (never echoed).
fn token(v: &Value, field: &str) -> Result<String, ApiError> {
    match v {
        Value::String(s)
            if !s.is_empty() && s.len() <= MAX_ID && s.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            Ok(s.clone())
        }
        _ => Err(ApiError::invalid(
            "invalid_value",
            field,
            format!("`{field}` must be 1 to {MAX_ID} printable ASCII characters without spaces"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn code(body: Value) -> (&'static str, Option<String>) {
        let e = parse_verification(&body).expect_err("refused");
        (e.code(), e.field().map(str::to_owned))
    }

    #[test]
    fn a_store_verification_with_its_notice() {
        let r = parse_verification(&json!({
            "evidence": {"risk_notice": {"id": "rn-1"}},
            "channel": {"kind": "store", "store_id": "SZ-0042", "staff_id": "C1"},
            "result": "passed", "transaction_id": "tx-9"
        }))
        .expect("valid");
        assert_eq!(r.channel.kind(), ChannelKind::Store);
        assert_eq!(r.evidence, VerificationEvidence::RiskNotice("rn-1".into()));
        let a = stated(&r).expect("answer");
        assert_eq!(
            (a.result, a.reference),
            (VerifierResult::Passed, Some("tx-9".into()))
        );
    }

    #[test]
    fn a_face_match_goes_with_the_notice_for_the_verifier() {
        let r = parse_verification(&json!({
            "evidence": {"risk_notice": {"id": "rn-1"},
                "face_match": {"transaction_id": "fm-1", "score": 0.9, "liveness": true}},
            "channel": {"kind": "store", "store_id": "SZ-0042"}
        }))
        .expect("valid");
        assert!(stated(&r).is_none(), "no result: the verifier is asked");
        let f = r.face_match.expect("face match");
        assert_eq!(
            (f.transaction_id.as_str(), f.score.get(), f.liveness),
            ("fm-1", 0.9, true)
        );
        let face = |f: Value| json!({"evidence": {"risk_notice": {"id": "rn-1"}, "face_match": f}});
        for (body, field) in [
            (
                json!({"evidence": {"video": {"id": "v"}, "face_match": {}}}),
                "evidence.face_match",
            ),
            (
                face(json!({"transaction_id": "fm", "score": 1.5, "liveness": true})),
                "evidence.face_match.score",
            ),
            (
                face(json!({"transaction_id": "f m", "score": 0.5, "liveness": true})),
                "evidence.face_match.transaction_id",
            ),
            (
                face(json!({"transaction_id": "fm", "score": 0.5})),
                "evidence.face_match.liveness",
            ),
            (
                face(json!({"transaction_id": "fm", "score": 0.5, "liveness": true, "x": 1})),
                "evidence.face_match.x",
            ),
        ] {
            assert_eq!(code(body).1.as_deref(), Some(field));
        }
    }

    #[test]
    fn refusals_name_the_field() {
        let missing = json!({"result": "passed"});
        assert_eq!(
            code(missing),
            (
                "verification_evidence_required",
                Some("evidence.video.id".into())
            )
        );
        let in_store = json!({"channel": {"kind": "store", "store_id": "S"}, "result": "failed"});
        assert_eq!(
            code(in_store),
            (
                "verification_evidence_required",
                Some("evidence.risk_notice.id".into())
            )
        );
        for (body, want) in [
            (json!([]), ("invalid_type", Some(String::new()))),
            (
                json!({"evidence": {"video": {"id": "v"}}, "x": 1}),
                ("unknown_field", Some("x".into())),
            ),
            (
                json!({"evidence": {"video": {"id": "v"}, "risk_notice": {"id": "r"}}}),
                ("invalid_value", Some("evidence".into())),
            ),
            (
                json!({"evidence": {"video": {}}}),
                ("missing_field", Some("evidence.video.id".into())),
            ),
            (
                json!({"evidence": {"video": {"id": "a b"}}}),
                ("invalid_value", Some("evidence.video.id".into())),
            ),
            (
                json!({"evidence": {"video": {"id": "v"}}, "result": "ok"}),
                ("invalid_value", Some("result".into())),
            ),
            (
                json!({"evidence": {"video": {"id": "v"}}, "transaction_id": 7}),
                ("invalid_value", Some("transaction_id".into())),
            ),
        ] {
            assert_eq!(code(body.clone()), want, "{body}");
        }
        let no_result =
            parse_verification(&json!({"evidence": {"video": {"id": "v"}}})).expect("valid");
        assert!(stated(&no_result).is_none(), "the verifier is asked");
    }

    #[test]
    fn an_empty_id_reaches_the_machine() {
        let r = parse_verification(&json!({"evidence": {"video": {"id": " "}}})).expect("valid");
        assert_eq!(r.evidence, VerificationEvidence::Video(String::new()));
    }
}

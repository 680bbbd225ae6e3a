//! The second verification the gateway puts to the tenant's identity verifier itself
//! (`POST /v1/subscriptions/{msisdn}/verification` without `result`): the line must be
//! pending (or suspended by its deadline), the evidence goes to the verifier with the
//! identity the line was sold on, and the verifier's decision is the result: `pass`
//! passes; `reject` and `flag` fail (the line is not cleared of its risk). No decision
//! (the verifier down or slow) changes nothing.

use super::AppState;
use super::auth::Caller;
use super::dto::{no_unknown, object};
use super::problem::ApiError;
use super::verification::{Answer, VerificationRequest};
use crate::compliance::reverify::{Verification, VerificationEvidence, not_pending};
use crate::engine::{LineCheck, SecondCheckError};
use crate::store::VerifierResult;
use adapters::identity::{Evidence, FaceMatch, Score, Token, Verdict};
use serde_json::{Map, Value, json};
use sim_profiles::Msisdn;

/// Parses `evidence.face_match` (`transaction_id`, `score` 0.0–1.0, `liveness`).
pub fn face_match(v: &Value) -> Result<FaceMatch, ApiError> {
    const P: &str = "evidence.face_match";
    let m: &Map<String, Value> = object(v, P)?;
    no_unknown(m, P, &["transaction_id", "score", "liveness"])?;
    let invalid = |field: &str, detail: &str| {
        ApiError::invalid("invalid_value", &format!("{P}.{field}"), detail.to_owned())
    };
    let transaction_id = m
        .get("transaction_id")
        .and_then(Value::as_str)
        .and_then(|t| Token::parse(t, "transaction_id").ok())
        .ok_or_else(|| {
            invalid(
                "transaction_id",
                "`evidence.face_match.transaction_id` must be the face-match vendor's id: 1 to 128 printable ASCII characters without spaces",
            )
        })?;
    let score = m
        .get("score")
        .and_then(Value::as_f64)
        .and_then(Score::new)
        .ok_or_else(|| {
            invalid(
                "score",
                "`evidence.face_match.score` must be a number from 0.0 to 1.0",
            )
        })?;
    let liveness = m.get("liveness").and_then(Value::as_bool).ok_or_else(|| {
        invalid(
            "liveness",
            "`evidence.face_match.liveness` must be true or false",
        )
    })?;
    Ok(FaceMatch {
        transaction_id,
        score,
        liveness,
    })
}

/// A result is needed from the caller: `why` says why the verifier cannot give it.
fn result_needed(why: &str) -> ApiError {
    ApiError::invalid(
        "missing_field",
        "result",
        format!("{why}: an operator key states the verifier's `result` (`passed` or `failed`)"),
    )
}

/// The evidence as the verifier takes it: the face match at the counter, the video
/// online.
fn verifier_evidence(req: &VerificationRequest) -> Result<Evidence, ApiError> {
    match (&req.evidence, &req.face_match) {
        (VerificationEvidence::RiskNotice(_), Some(f)) => Ok(Evidence::FaceMatch(f.clone())),
        (VerificationEvidence::RiskNotice(_), None) => Err(ApiError::invalid(
            "missing_field",
            "evidence.face_match",
            "in store the verifier checks the customer's face: send `evidence.face_match` (`transaction_id`, `score`, `liveness`) beside the signed `risk_notice`",
        )),
        (VerificationEvidence::Video(id), _) => Token::parse(id, "video")
            .map(|id| Evidence::Video { id })
            .map_err(|_| {
                ApiError::invalid(
                    "invalid_value",
                    "evidence.video.id",
                    "`evidence.video.id` must be 1 to 128 printable ASCII characters without spaces",
                )
            }),
    }
}

/// Asks the verifier about the caller's line `msisdn` with the evidence of `req`
/// (`channel`: the request's channel object as sent).
pub async fn asked(
    state: &AppState,
    caller: &Caller,
    msisdn: &Msisdn,
    req: &VerificationRequest,
    channel: Option<&Value>,
) -> Result<Answer, ApiError> {
    if !state.engine.identity_enabled() {
        return Err(result_needed("this gateway has no identity verifier"));
    }
    let evidence = verifier_evidence(req)?;
    let line = state
        .store
        .subscription(&caller.tenant, msisdn.as_str())
        .await?
        .ok_or_else(ApiError::subscription_not_found)?;
    if line.verification == Verification::Clear {
        return Err(ApiError::refusal(not_pending()));
    }
    let opened_by = state
        .store
        .get_order(&caller.tenant, &line.activation_id)
        .await?
        .ok_or_else(|| {
            tracing::error!(line = %line.id, order = %line.activation_id, "the order that opened the line is missing");
            ApiError::internal()
        })?;
    let now = state.clock.now_ms();
    let check_id = crate::crypto::order_id(&ring::rand::SystemRandom::new(), "rv_", now)
        .map_err(|_| ApiError::internal())?;
    let check = LineCheck {
        opened_by: &opened_by,
        check_id: &check_id,
        channel,
        evidence,
    };
    let answer = match state.engine.verify_line(check).await {
        Ok(a) => a,
        Err(SecondCheckError::NotConfigured) => {
            return Err(result_needed("this gateway has no identity verifier"));
        }
        Err(SecondCheckError::Unsendable(why)) => {
            return Err(result_needed(&format!(
                "the verifier cannot be asked about this line ({why})"
            )));
        }
        Err(SecondCheckError::Unavailable(e)) => {
            tracing::warn!(line = %line.id, error = %e, "second verification: no decision from the verifier");
            return Err(ApiError::identity_service_no_answer());
        }
        Err(SecondCheckError::Keys(e)) => {
            tracing::error!(line = %line.id, error = %e, "second verification: the line's subscriber does not open");
            return Err(ApiError::internal());
        }
    };
    let (result, code) = match &answer.verdict {
        Verdict::Pass => (VerifierResult::Passed, None),
        Verdict::Reject(c) => (VerifierResult::Failed, Some(c.as_str().to_owned())),
        Verdict::Flag(c) => (VerifierResult::Failed, Some(c.as_str().to_owned())),
    };
    Ok(Answer {
        result,
        reference: Some(
            answer
                .verification_id
                .as_ref()
                .map_or(check_id.clone(), |v| v.as_str().to_owned()),
        ),
        verifier: Some(json!({"outcome": answer.verdict.outcome(), "code": code})),
    })
}

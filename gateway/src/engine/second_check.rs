//! A line's second real-person verification (二次实人认证) put to the tenant's identity
//! verifier by the gateway itself: the identity is the one the line was sold on (the
//! activation's sealed subscriber, opened in memory only), the evidence is the new one
//! the channel sends (a face match at the counter, the recorded video online). One call
//! under the verifier's concurrency bound; no write: the caller records the decision with
//! the line's verification (`Store::record_verification`), or changes nothing when no
//! decision was learned.

use super::identity_request::{Asker, request_from_clear};
use super::identity_step::{log_answer, verify_within};
use crate::order::{Order, VerifyTerms, subscriber_context};
use adapters::identity::{Evidence, VerificationResponse};
use serde_json::Value;

/// Longest the channel waits for a decision, a free slot among the verifier's calls in
/// flight included (the client's own timeout bounds the call itself).
const ANSWER_WITHIN: std::time::Duration = std::time::Duration::from_secs(20);

/// What the verifier is asked about.
pub struct LineCheck<'a> {
    /// The order that opened the line: its sealed subscriber and its verification terms.
    pub opened_by: &'a Order,
    /// This check's id (the verifier's request id derives from it; a fresh one per check).
    pub check_id: &'a str,
    /// The channel object the verification came through, as sent.
    pub channel: Option<&'a Value>,
    /// The new real-person evidence.
    pub evidence: Evidence,
}

/// Why no decision came back.
#[derive(Debug)]
pub enum SecondCheckError {
    /// This gateway has no identity verifier.
    NotConfigured,
    /// The line holds nothing the verifier can be asked about (the field at fault, never
    /// its value): an order sold without a typed subscriber.
    Unsendable(String),
    /// The verifier gave no decision (down, timed out, refused the call); nothing changed.
    Unavailable(String),
    /// The stored subscriber does not open (keys): an operator must look.
    Keys(String),
}

impl super::Engine {
    /// Asks the verifier about `line` once (the client's own retries aside).
    pub async fn verify_line(
        &self,
        line: LineCheck<'_>,
    ) -> Result<VerificationResponse, SecondCheckError> {
        if self.inner.settings.identity.is_none() {
            return Err(SecondCheckError::NotConfigured);
        }
        let order = line.opened_by;
        let sealed = order.subscriber.as_ref().ok_or_else(|| {
            SecondCheckError::Unsendable(
                "the order that opened the line holds no `subscriber`".into(),
            )
        })?;
        let clear = self
            .inner
            .keys
            .open(&subscriber_context(&order.id), sealed)
            .map_err(|e| SecondCheckError::Keys(format!("order {}: {e}", order.id)))?;
        let terms = VerifyTerms {
            evidence_required: true,
            ..order.verify_terms().copied().unwrap_or(VerifyTerms {
                required: true,
                evidence_required: true,
                manual_capture_allowed: false,
                flag_reverifies: true,
            })
        };
        let asker = Asker {
            order_id: line.check_id,
            tenant: &order.tenant,
            channel: line.channel,
        };
        let mut request =
            request_from_clear(asker, &clear, &terms).map_err(SecondCheckError::Unsendable)?;
        drop(clear);
        request.evidence = Some(line.evidence);
        let Some(result) = verify_within(&self.inner, &request, ANSWER_WITHIN).await else {
            return Err(SecondCheckError::Unavailable(format!(
                "no answer within {} s (the verifier's calls in flight included)",
                ANSWER_WITHIN.as_secs()
            )));
        };
        drop(request);
        log_answer(line.check_id, 1, &result);
        result.map_err(|e| SecondCheckError::Unavailable(e.to_string()))
    }
}

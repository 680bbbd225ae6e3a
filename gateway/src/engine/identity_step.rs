//! One identity verification attempt of an activation: the subscriber opened in memory
//! only, the request built (`identity_request`), the call within the verifier's
//! concurrency bound, and the answer handed to the pure machine (`machine::identity`).
//! A verification is a repeatable query (one request id; the verifier answers a repeat
//! with its first decision), so neither its attempt nor a decision that lets the order go
//! on needs a commit of its own: the attempt is written with its answer, and a pass or a
//! flag with the answer of the HLR call that the create commit recorded ahead of it (or,
//! for an order whose first call is not that one, with the `sent` record of its first
//! southbound step), which is the order's next write. A refusal, a failure or a retry
//! wait is written at once. The name and the ID number live only in the request for the
//! call's duration; the event and the log carry the outcome and its code.

use super::Inner;
use super::driver::record_answer;
use super::error::EngineError;
use super::identity_request::{Asker, request_from_clear};
use super::machine::{self, Attempt, identity::STEP};
use super::observe::observe_identity;
use super::report::{Before, report};
use crate::metrics::BeforeCreate;
use crate::order::{Effect, IdentityStep, Order, VerifyTerms};
use adapters::identity::{IdentityError, Verdict, VerificationRequest, VerificationResponse};

/// Why no request could be built.
enum NoRequest {
    /// The subscriber cannot be put to the verifier (the field at fault, never its value):
    /// the order fails.
    Unsendable(String),
    /// The order's data cannot be opened (keys): an operator must look; the order waits.
    Engine(EngineError),
}

/// One attempt of the verification: ask the verifier, record the answer (a reject or a
/// final failure releases the order's inventory in the same commit, or first undoes an HLR
/// call recorded ahead of the verification that may have been made: `ahead`).
pub(super) async fn run_verify(
    inner: &Inner,
    order: Order,
    (attempt, ahead): (u32, machine::CallAhead),
    now: u64,
) -> Result<Order, EngineError> {
    let before = Before::of(&order);
    let Some(settings) = inner.settings.identity.as_ref() else {
        let (next, effect) = machine::on_no_verifier(order, now, ahead);
        return record_answer(inner, &before, next, effect, STEP, 0, "no verifier".into()).await;
    };
    let request = match request_of(inner, &order) {
        Ok(r) => r,
        Err(NoRequest::Unsendable(problem)) => {
            let (next, effect) = machine::on_unsendable(order, now, &problem, ahead);
            return record_answer(inner, &before, next, effect, STEP, 0, problem).await;
        }
        Err(NoRequest::Engine(e)) => return Err(e),
    };
    let window_ms = u64::try_from(settings.give_up_after.as_millis()).unwrap_or(u64::MAX);
    // Not written before the call: the answer's commit records the attempt too
    // (`machine::begin_verify` says why that is safe for a verification).
    let order = machine::begin_verify(order, attempt, now, window_ms);
    let permit = inner
        .identity_permits
        .acquire()
        .await
        .map_err(|_| EngineError::Stopped)?;
    let started = tokio::time::Instant::now();
    let result = settings.verifier.verify(&request).await;
    observe_identity(inner, &result, started);
    drop(permit);
    drop(request);
    let summary = summary(&result);
    log_answer(&order.id, attempt, &result);
    let at = Attempt::new(
        attempt,
        &inner.settings.policy,
        inner.jitter(),
        inner.clock.now_ms(),
    );
    let stored = order.version;
    let (mut next, effect) = machine::on_verify(order, at, result, ahead);
    if effect == Effect::None && machine::identity_concluded(&next) {
        // The order goes on to its first southbound step: the HLR call recorded ahead of
        // the verification, made at once and answered in the order's next write, or the
        // `sent` record of another first call. The decision rides on that write, so the
        // answer is not a version of its own. Until it lands the verification is simply
        // asked again after a restart (same request id).
        next.version = stored;
        report(&inner.metrics, &before, &next, &effect);
        return Ok(next);
    }
    record_answer(inner, &before, next, effect, STEP, attempt, summary).await
}

impl super::Engine {
    /// Asks the identity verifier about order `asker` before its create commit, with the
    /// subscriber as it will be sealed (`clear`) and the terms the commit will record, so
    /// that the commit can record the decision and send the first southbound call ahead
    /// (one durable write fewer per order). Bounded by `[identity] before_create_wait_ms`
    /// (the permit included). `Some` for a pass or a flag; `None` when not configured,
    /// not in time, unavailable or a reject: the engine then asks after the commit, under
    /// the same request id, as it always did (the verifier answers a repeat with its first
    /// decision, so a decision is never bought twice).
    pub async fn verify_before_create(
        &self,
        asker: Asker<'_>,
        clear: &[u8],
        terms: &VerifyTerms,
    ) -> Option<IdentityStep> {
        let settings = self.inner.settings.identity.as_ref()?;
        if settings.before_create_wait.is_zero() {
            return None;
        }
        let request = request_from_clear(asker, clear, terms).ok()?;
        let counts = &self.inner.metrics.identity_before_create;
        let answered = verify_within(&self.inner, &request, settings.before_create_wait).await;
        let Some(result) = answered else {
            counts.count(BeforeCreate::TimedOut);
            tracing::debug!(order = %asker.order_id,
                "identity verification before the create commit not answered in time; asked after it");
            return None;
        };
        drop(request);
        log_answer(asker.order_id, 1, &result);
        let Ok(answer) = result else {
            counts.count(BeforeCreate::Failed);
            return None;
        };
        let step = machine::identity::decided_before_create(asker.order_id, answer, terms);
        counts.count(match step {
            Some(_) => BeforeCreate::Recorded,
            None => BeforeCreate::Rejected,
        });
        step
    }
}

/// One call to the verifier while a caller waits: within the verifier's concurrency bound,
/// counted, and `None` unless answered within `wait` (a free slot among the calls in
/// flight included).
pub(super) async fn verify_within(
    inner: &Inner,
    request: &VerificationRequest,
    wait: std::time::Duration,
) -> Option<Result<VerificationResponse, IdentityError>> {
    let settings = inner.settings.identity.as_ref()?;
    let call = async {
        let _permit = inner.identity_permits.acquire().await.ok()?;
        let started = tokio::time::Instant::now();
        let result = settings.verifier.verify(request).await;
        observe_identity(inner, &result, started);
        Some(result)
    };
    tokio::time::timeout(wait, call).await.ok().flatten()
}

/// Opens the order's sealed subscriber in memory and builds the request.
fn request_of(inner: &Inner, order: &Order) -> Result<VerificationRequest, NoRequest> {
    let Some(terms) = order.verify_terms() else {
        return Err(NoRequest::Engine(EngineError::unusable(
            &order.id,
            "an identity verification without terms",
        )));
    };
    let Some(sealed) = order.subscriber.as_ref() else {
        return Err(NoRequest::Unsendable(
            "the order carries no `subscriber`".into(),
        ));
    };
    let clear = inner
        .keys
        .open(&crate::order::subscriber_context(&order.id), sealed)
        .map_err(|e| {
            NoRequest::Engine(EngineError::unusable(
                &order.id,
                format!("its subscriber does not open: {e}"),
            ))
        })?;
    request_from_clear(Asker::of(order), &clear, terms).map_err(NoRequest::Unsendable)
}

/// The answer's one-line summary for the event log: the outcome and its code, or the
/// error's class and message (which never hold the request's personal data).
fn summary(r: &Result<VerificationResponse, IdentityError>) -> String {
    match r {
        Ok(a) => match &a.verdict {
            Verdict::Pass => "pass".into(),
            Verdict::Reject(c) => format!("reject: {c}"),
            Verdict::Flag(c) => format!("flag: {c}"),
        },
        Err(e) => e.to_string(),
    }
}

pub(super) fn log_answer(
    order: &str,
    attempt: u32,
    r: &Result<VerificationResponse, IdentityError>,
) {
    match r {
        Ok(a) => {
            tracing::info!(order = %order, attempt, outcome = %a.verdict.outcome(), answer = %summary(r),
                "identity verification answered");
        }
        Err(e) => {
            tracing::info!(order = %order, attempt, class = %e.class().as_str(), retryable = e.retryable(),
                error = %e, "identity verification failed");
        }
    }
}

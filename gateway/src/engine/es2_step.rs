//! One ES2+ step of an order: the request built from the persisted order (MatchingID,
//! confirmation code opened in memory, call id persisted before sending), the call within
//! the SM-DP+ concurrency bound, and the answer handed to the pure eSIM machine.

use super::Inner;
use super::driver::record_answer;
use super::error::EngineError;
use super::machine::Attempt;
use super::machine::esim::{self, Es2Call, Es2Failure};
use super::observe::observe_es2;
use super::report::Before;
use super::requests::{self, Es2Request};
use crate::order::{Effect, Order};
use adapters::es2plus::{ActivationCode, ConfirmationCode, Es2CallError, Fqdn};

impl From<&Es2CallError> for Es2Failure {
    fn from(e: &Es2CallError) -> Self {
        Self {
            retryable: e.retryable(),
            codes: e.codes().map(|(s, r)| (s.to_owned(), r.to_owned())),
            message: e.to_string(),
        }
    }
}

/// One attempt of an ES2+ call: record it as sent (with its call id; unless the commit that
/// wrote `order` did: `recorded`), make the call within
/// the SM-DP+ concurrency bound, then record the answer and any inventory effect.
pub(super) async fn run_es2(
    inner: &Inner,
    order: Order,
    call: Es2Call,
    (attempt, recorded): (u32, bool),
    now: u64,
) -> Result<Order, EngineError> {
    let Some(es) = inner.settings.esim.as_ref() else {
        return Err(EngineError::unusable(
            &order.id,
            "it is an eSIM order but no SM-DP+ is configured",
        ));
    };
    let mark = |o| esim::mark_es2_sent(o, call, attempt, now);
    let order = inner
        .record_sent(order, recorded, (call.name(), attempt), mark)
        .await?;
    let before = Before::of(&order);
    let clear_cc = crate::order::open_confirmation_code(&inner.keys, &order)
        .map_err(|err| EngineError::unusable(&order.id, format!("confirmation code: {err}")))?;
    let cc = clear_cc
        .map(|text| {
            ConfirmationCode::new(&text)
                .map_err(|_| EngineError::unusable(&order.id, "invalid confirmation code"))
        })
        .transpose()?;
    let matching_id = requests::matching_id(&order)?;
    let request = requests::es2_request(&order, call, &es.requester_id, cc.clone())?;
    let code_for = |smdp: &Fqdn| -> Result<String, Es2Failure> {
        let ac = match ActivationCode::new(smdp.as_str(), matching_id.as_str()) {
            Ok(ac) => ac.with_cc_required(cc.is_some()),
            Err(err) => Err(err),
        };
        match ac {
            Ok(ac) => Ok(ac.to_string()),
            Err(err) => Err(Es2Failure {
                retryable: false,
                codes: None,
                message: format!("cannot build the activation code: {err}"),
            }),
        }
    };
    let policy = inner.settings.policy;
    let permit = inner
        .es2_permits
        .acquire()
        .await
        .map_err(|_| EngineError::Stopped)?;
    let started = tokio::time::Instant::now();
    let terms = esim::ReleaseTerms {
        replayed_code: code_for(&es.smdp_address).unwrap_or_default(),
        expiry_ms: es.expiry.map(|d| d.as_millis() as u64),
    };
    let (jitter, client) = (inner.jitter(), &es.client);
    // Taken once the SM-DP+ has answered.
    let answered_at = || Attempt::new(attempt, &policy, jitter, inner.clock.now_ms());
    let (next, effect, summary) = match request {
        Es2Request::Download(req) => {
            let r = client.download_order(&req).await;
            let summary = observe_es2(inner, &r, started);
            let at = answered_at();
            let (o, eff) = if call == Es2Call::Download {
                esim::on_download(order, at, unit(&r))
            } else {
                esim::on_reorder(order, at, unit(&r))
            };
            (o, eff, summary)
        }
        Es2Request::Confirm(req) => {
            let r = client.confirm_order(&req).await;
            let summary = observe_es2(inner, &r, started);
            let code = match &r {
                Ok(resp) => code_for(resp.smdp_address_or(&es.smdp_address)),
                Err(err) => Err(Es2Failure::from(err)),
            };
            let (o, eff) = esim::on_confirm(order, answered_at(), code, &terms);
            (o, eff, summary)
        }
        Es2Request::Release(req) => {
            let r = client.release_profile(&req).await;
            let summary = observe_es2(inner, &r, started);
            let (o, eff) = esim::on_release_check(order, answered_at(), unit(&r), &terms);
            (o, eff, summary)
        }
        Es2Request::Cancel(req) => {
            let r = client.cancel_order(&req).await;
            let summary = observe_es2(inner, &r, started);
            let (o, eff) = esim::on_cancel(order, answered_at(), unit(&r));
            (o, eff, summary)
        }
    };
    if effect == Effect::Activate && next.esim.as_ref().and_then(|e| e.expires_at_ms).is_some() {
        inner.esim_wake.notify_one();
    }
    drop(permit);
    record_answer(inner, &before, next, effect, call.name(), attempt, summary).await
}

/// An answer reduced to what the machine decides on when the output does not matter.
pub(super) fn unit<T>(r: &Result<T, Es2CallError>) -> Result<(), Es2Failure> {
    r.as_ref().map(|_| ()).map_err(Es2Failure::from)
}

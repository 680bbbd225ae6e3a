//! The port steps of an order (issue 12): the hub calls (submit, cancel, acknowledge,
//! reschedule, a port-out's answer) and putting the ported number on the HLR line, each
//! recorded as sent before it is made and its answer recorded after (in a commit that
//! takes the order onward: `port_onward`); the port actions that are one commit of their
//! own (`settle`). Also a lifecycle saga's one hub step: a ported-in number returned to
//! its range holder.

use super::Inner;
use super::error::EngineError;
use super::port_onward::{Applied, Onward, commit_onward, ending, with_waiting};
use super::report::Before;
use crate::engine::driver::{outcome_event, record_answer};
use crate::engine::machine::port_order::{self, PortAnswer, PortOp};
use crate::engine::machine::port_out;
use crate::engine::machine::{Action, Attempt, StepDone, StepFailure};
use crate::order::{Effect, Order, PortIn};
use adapters::hlr::{HlrError, SubscriberSpec};
use adapters::porting::{
    Account, AccountNumber, AccountPin, Acknowledge, AnswerPortOut, CancelPort, Credential,
    PortOutDecision, PortingError, PortingHub, Ref, RejectReason, ReschedulePort, ReturnNumber,
    SubmitPortIn, UtcTime,
};
use serde::{Deserialize, Serialize};
use sim_profiles::Msisdn;
use std::sync::Arc;

/// How the engine reaches the porting hub.
#[derive(Clone)]
pub struct PortingSettings {
    /// The hub.
    pub hub: Arc<dyn PortingHub>,
    /// Our operator id at the hub (the recipient of our port-ins).
    pub recipient: String,
    /// Bounds the hub calls in flight (`[porting_hub] concurrency`).
    pub permits: Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for PortingSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortingSettings")
            .field("recipient", &self.recipient)
            .finish_non_exhaustive()
    }
}

/// A port-in's credential as sealed on the order (context [`credential_context`]).
#[derive(Default, Serialize, Deserialize)]
pub struct SealedCredential {
    /// The porting code (PAC, 授权码, RIO…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The donor account number (US).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_number: Option<String>,
    /// The donor account PIN (US).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<String>,
}

impl Drop for SealedCredential {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for v in [&mut self.code, &mut self.account_number, &mut self.pin]
            .into_iter()
            .flatten()
        {
            v.zeroize();
        }
    }
}

fn hub_ref(s: &str, field: &'static str) -> Result<Ref, String> {
    Ref::parse(s, field).map_err(|e| e.to_string())
}

impl Inner {
    fn porting(&self) -> Option<&PortingSettings> {
        self.settings.porting.as_ref()
    }

    /// The submission of `order`'s port, its credential opened in memory only.
    fn submission(&self, order: &Order, p: &PortIn) -> Result<SubmitPortIn, String> {
        let recipient = self.porting().map_or("", |s| s.recipient.as_str());
        let plain = self
            .keys
            .open(
                &crate::order::port_credential_context(&order.id),
                &p.credential,
            )
            .map_err(|e| format!("the port's credential cannot be opened: {e}"))?;
        let c: SealedCredential = serde_json::from_slice(&plain)
            .map_err(|_| "the port's sealed credential is not readable".to_owned())?;
        let secret = |e: adapters::porting::PortingCodecError| e.to_string();
        let account = match (&c.account_number, &c.pin) {
            (Some(n), Some(pin)) => Some(Account {
                number: AccountNumber::parse(n, "account_number").map_err(secret)?,
                pin: AccountPin::parse(pin, "pin").map_err(secret)?,
            }),
            _ => None,
        };
        Ok(SubmitPortIn {
            request_id: hub_ref(&format!("{}-port-submit", order.id), "request_id")?,
            reference: hub_ref(&order.id, "reference")?,
            market: wire_market(p.market),
            number: p.number.clone(),
            donor: hub_ref(&p.donor, "donor")?,
            recipient: hub_ref(recipient, "recipient")?,
            credential: c
                .code
                .as_deref()
                .map(|s| Credential::parse(s, "credential"))
                .transpose()
                .map_err(secret)?,
            account,
            requested_at: p.requested_at_ms.and_then(UtcTime::from_unix_ms),
        })
    }
}

/// The hub's name of a market.
pub fn wire_market(m: crate::compliance::Market) -> adapters::porting::Market {
    use crate::compliance::Market as M;
    use adapters::porting::Market as W;
    match m {
        M::Cn => W::Cn,
        M::Uk => W::Uk,
        M::Us => W::Us,
        M::EuFr => W::EuFr,
        M::EuGeneric => W::EuGeneric,
    }
}

/// A saga's `number_return` step: gives a ported-in number back to its range holder
/// (request id `<order>-number-return`, so a repeat after a crash is the same request).
/// Without a porting hub the step fails retryably: the number must go back, so the order
/// waits (flagged for an operator once its budget is spent) until one is configured.
pub(super) async fn return_number(
    inner: &Inner,
    order_id: &str,
    (msisdn, port_ref, range_holder): (&Msisdn, &str, &str),
) -> Result<StepDone, StepFailure> {
    let refused = |message: String| StepFailure {
        retryable: false,
        message,
    };
    let Some(porting) = inner.porting() else {
        return Err(StepFailure {
            retryable: true,
            message: "no porting hub is configured ([porting_hub]); the number waits to be \
                      returned to its range holder"
                .into(),
        });
    };
    let req = ReturnNumber {
        request_id: hub_ref(&format!("{order_id}-number-return"), "request_id").map_err(refused)?,
        port_ref: hub_ref(port_ref, "port_ref").map_err(refused)?,
        number: msisdn.clone(),
        range_holder: hub_ref(range_holder, "range_holder").map_err(refused)?,
    };
    let _permit = porting
        .permits
        .acquire()
        .await
        .map_err(|_| EngineError::Stopped)
        .map_err(|e| StepFailure {
            retryable: true,
            message: e.to_string(),
        })?;
    match porting.hub.return_number(&req).await {
        Ok(_) => Ok(StepDone::from("returned")),
        Err(e) => Err(StepFailure {
            retryable: e.retryable(),
            message: e.to_string(),
        }),
    }
}

fn hub_answer(r: Result<adapters::porting::Receipt, PortingError>, op: PortOp) -> PortAnswer {
    match r {
        Ok(receipt) => PortAnswer::Done(match op {
            PortOp::Submit => receipt.port_ref.as_str().to_owned(),
            _ => "accepted".into(),
        }),
        Err(e) if e.retryable() => PortAnswer::Retryable(e.to_string()),
        Err(PortingError::Refused {
            code: Some(code), ..
        }) => PortAnswer::Refused(code.as_str().to_owned()),
        Err(e) => PortAnswer::Refused(e.to_string()),
    }
}

/// An answer as the step's event tells it.
fn said(answer: &PortAnswer) -> String {
    match answer {
        PortAnswer::Done(o) => format!("ok: {o}"),
        PortAnswer::Refused(e) | PortAnswer::Retryable(e) => e.clone(),
    }
}

fn hlr_answer(r: Result<String, HlrError>) -> PortAnswer {
    match r {
        Ok(outcome) => PortAnswer::Done(outcome),
        Err(e) if e.retryable() => PortAnswer::Retryable(e.to_string()),
        Err(e) => PortAnswer::Refused(e.to_string()),
    }
}

/// One attempt of a port step: record it as sent (unless the commit that wrote `order`
/// did: `recorded`, see `machine::ahead`), make the call, then record the answer and
/// apply the port items that arrived meanwhile in one commit that takes the order onward
/// (`port_onward::commit_onward`: parked when it then only waits, ended when the answer
/// or an item ends the port, or its next call sent ahead).
pub(super) async fn run_port_step(
    inner: &Inner,
    order: Order,
    spec: Option<&SubscriberSpec>,
    (op, attempt, recorded): (PortOp, u32, bool),
    now: u64,
) -> Result<Applied, EngineError> {
    let mark = |o| port_order::mark_port_sent(o, op, attempt, now);
    let order = inner
        .record_sent(order, recorded, (op.name(), attempt), mark)
        .await?;
    let before = Before::of(&order);
    let answer = call(inner, &order, spec, op).await;
    let summary = said(&answer);
    // Attempt `n` as answered now.
    let answered_at = |n| {
        Attempt::new(
            n,
            &inner.settings.policy,
            inner.jitter(),
            inner.clock.now_ms(),
        )
    };
    let version = order.version;
    let now = inner.clock.now_ms();
    let answered = port_order::on_port_answer(order, op, answered_at(attempt), answer);
    let (answered, summary, now) = match port_order::ack_after_activation(&answered, op) {
        // The acknowledgement recorded with the number activation: made now, and both
        // answers go in the one commit below.
        Some(n) => {
            let answer = call(inner, &answered, None, PortOp::Acknowledge).await;
            let summary = format!(
                "{summary}; {} attempt {n}: {}",
                PortOp::Acknowledge.name(),
                said(&answer)
            );
            let acked =
                port_order::on_port_answer(answered, PortOp::Acknowledge, answered_at(n), answer);
            (acked, summary, inner.clock.now_ms())
        }
        None => (answered, summary, now),
    };
    let said = (op.name(), attempt, summary);
    answered_onward(inner, (&before, version), answered, said, now).await
}

/// Records `answered` (a call's answer applied to the order held at `version`) in one
/// commit that takes the order onward, with the port items that arrived during the call
/// applied after the answer; `said`: the step's name, attempt and answer, for the
/// order's history.
async fn answered_onward(
    inner: &Inner,
    (before, version): (&Before, u64),
    answered: Order,
    (step, attempt, summary): (&str, u32, String),
    now: u64,
) -> Result<Applied, EngineError> {
    let (next, keys) = with_waiting(inner, answered, now).await?;
    let result = match keys.as_slice() {
        [] => summary,
        keys => format!("{summary}; then applied {}", keys.join(" ")),
    };
    let onward = Onward {
        version,
        keys,
        event: outcome_event(&next, &Effect::None, step, attempt, result),
    };
    commit_onward(inner, before, next, onward, now).await
}

/// A port-in's line is up (`answered`: its HLR answer applied, not yet recorded) and its
/// submission was recorded with the line's call (`port_order::submit_with_line`): make
/// attempt `n` of the submission now, then record both answers, and the port items that
/// arrived meanwhile, in one commit that takes the order onward (usually parked: the hub
/// decides). `line`: the HLR step's name, attempt and answer, for the order's history;
/// `version`: the order's as stored before the line's call.
pub(super) async fn submit_after_line(
    inner: &Inner,
    held: (&Before, u64),
    answered: Order,
    (step, attempt, line): (&str, u32, String),
    n: u32,
) -> Result<Applied, EngineError> {
    let answer = call(inner, &answered, None, PortOp::Submit).await;
    let summary = format!(
        "{line}; {} attempt {n}: {}",
        PortOp::Submit.name(),
        said(&answer)
    );
    let now = inner.clock.now_ms();
    let at = Attempt::new(n, &inner.settings.policy, inner.jitter(), now);
    let submitted = port_order::on_port_answer(answered, PortOp::Submit, at, answer);
    answered_onward(inner, held, submitted, (step, attempt, summary), now).await
}

/// Whether attempt `op` of `order` provisions the line (a port whose number goes on the
/// HLR at cutover without a temporary line to change: it needs the subscriber spec).
pub(super) fn needs_spec(order: &Order, op: PortOp) -> bool {
    op == PortOp::ActivateNumber
        && order
            .port
            .as_ref()
            .is_some_and(|p| !p.is_out() && p.temporary.is_none())
}

async fn call(
    inner: &Inner,
    order: &Order,
    spec: Option<&SubscriberSpec>,
    op: PortOp,
) -> PortAnswer {
    let Some(p) = &order.port else {
        return PortAnswer::Refused("not a port order".into());
    };
    if op == PortOp::ActivateNumber && p.is_out() {
        // A port-out's side of the cutover is its saga, done by now: record it.
        return PortAnswer::Done("deprovisioned".into());
    }
    if op == PortOp::ActivateNumber {
        let Ok(_permit) = inner.permits.acquire().await else {
            return PortAnswer::Retryable("engine stopping".into());
        };
        return hlr_answer(match (&p.temporary, spec) {
            (Some(temp), _) => inner
                .hlr
                .change_msisdn(&order.imsi, temp, &p.number)
                .await
                .map(|()| "number_changed".to_owned()),
            (None, Some(spec)) => inner
                .hlr
                .provision(spec)
                .await
                .map(|o| crate::engine::machine::provision_outcome(o).to_owned()),
            (None, None) => return PortAnswer::Refused("no subscriber spec".into()),
        });
    }
    let Some(hub) = inner.porting().map(|s| s.hub.clone()) else {
        return PortAnswer::Retryable(
            "no porting hub is configured ([porting] hub_url); the port waits".into(),
        );
    };
    let port_ref = || hub_ref(p.port_ref.as_deref().unwrap_or_default(), "port_ref");
    let permits = inner.porting().map(|s| s.permits.clone());
    let _permit = match &permits {
        Some(p) => match p.acquire().await {
            Ok(permit) => Some(permit),
            Err(_) => return PortAnswer::Retryable("engine stopping".into()),
        },
        None => None,
    };
    let r = match op {
        PortOp::Submit => match inner.submission(order, p) {
            Ok(req) => hub.submit_port_in(&req).await,
            Err(e) => return PortAnswer::Refused(e),
        },
        PortOp::Cancel => {
            let req = match (
                hub_ref(&format!("{}-port-cancel", order.id), "request_id"),
                port_ref(),
            ) {
                (Ok(request_id), Ok(port_ref)) => CancelPort {
                    request_id,
                    port_ref,
                },
                (Err(e), _) | (_, Err(e)) => return PortAnswer::Refused(e),
            };
            hub.cancel(&req).await
        }
        PortOp::Reschedule => {
            let Some(at) = p.reschedule.as_ref().map(|r| r.requested_at_ms) else {
                return PortAnswer::Refused("no reschedule asked".into());
            };
            let Some(requested_at) = UtcTime::from_unix_ms(at) else {
                return PortAnswer::Refused("the day asked is out of range".into());
            };
            let req = match (
                hub_ref(&format!("{}-reschedule-{at}", order.id), "request_id"),
                port_ref(),
            ) {
                (Ok(request_id), Ok(port_ref)) => ReschedulePort {
                    request_id,
                    port_ref,
                    requested_at,
                },
                (Err(e), _) | (_, Err(e)) => return PortAnswer::Refused(e),
            };
            hub.reschedule(&req).await
        }
        PortOp::Acknowledge => {
            let message = p.cutover_message.as_deref().unwrap_or_default();
            let ids = (
                hub_ref(&format!("{}-ack-{message}", order.id), "request_id"),
                port_ref(),
                hub_ref(message, "message_id"),
            );
            let req = match ids {
                (Ok(request_id), Ok(port_ref), Ok(message_id)) => Acknowledge {
                    request_id,
                    port_ref,
                    message_id,
                },
                (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                    return PortAnswer::Refused(e);
                }
            };
            hub.acknowledge(&req).await
        }
        PortOp::Answer => match answer(order, p) {
            Ok(req) => hub.answer_port_out(&req).await,
            Err(e) => return PortAnswer::Refused(e),
        },
        PortOp::ActivateNumber => return PortAnswer::Refused("not a hub call".into()),
    };
    hub_answer(r, op)
}

/// Our answer to the port-out request of `order`.
fn answer(order: &Order, p: &PortIn) -> Result<AnswerPortOut, String> {
    let out = p.out.as_ref().ok_or("not a port-out")?;
    let decision = match &out.reject {
        None => PortOutDecision::Accept,
        Some(code) => {
            PortOutDecision::Reject(RejectReason::parse(code, "reason").map_err(|e| e.to_string())?)
        }
    };
    Ok(AnswerPortOut {
        request_id: hub_ref(&port_out::answer_request_id(order), "request_id")?,
        port_ref: hub_ref(p.port_ref.as_deref().unwrap_or_default(), "port_ref")?,
        decision,
    })
}

/// Performs a port action that is one commit: release, complete, deadline, park.
/// `Ok(None)`: the order is parked (its task ends).
pub(super) async fn settle(
    inner: &Inner,
    order: Order,
    action: Action,
    now: u64,
) -> Result<Option<Order>, EngineError> {
    let before = Before::of(&order);
    let (next, effect, step) = match action {
        a @ (Action::PortRelease | Action::PortComplete) => ending(order, &a, now),
        Action::PortDeadline => (
            port_order::on_deadline(order, now),
            Effect::None,
            "port_deadline",
        ),
        Action::Park(due) => {
            let parked = port_order::park(order.clone(), due, now);
            return Ok(if inner.store.park_port(parked).await? {
                // Its deadline may be the earliest now.
                inner.port_wake.notify_one();
                None
            } else {
                // An item arrived meanwhile: apply it first (nothing was written).
                Some(order)
            });
        }
        _ => return Ok(Some(order)),
    };
    record_answer(inner, &before, next, effect, step, 0, String::new())
        .await
        .map(Some)
}

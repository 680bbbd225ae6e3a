//! The port-in steps of an order (issue 12): the hub calls (submit, cancel, acknowledge)
//! and putting the ported number on the HLR line, each recorded as sent before it is
//! made and answered after; the port items (hub messages, a channel's cancel) applied one
//! per commit; and parking the order while it waits. Also a lifecycle saga's one hub
//! step: a ported-in number returned to its range holder.

use super::Inner;
use super::error::EngineError;
use super::report::{Before, report};
use crate::crypto::Sealed;
use crate::engine::driver::{outcome_event, record_answer};
use crate::engine::machine::port_order::{self, PortAnswer, PortOp};
use crate::engine::machine::port_out;
use crate::engine::machine::{Action, Attempt, StepDone, StepFailure};
use crate::order::{Effect, Order, OrderKind, PortIn};
use crate::store::{EventKind, OnArrival, PortInboxItem, PortItemBody, hub_message_context};
use adapters::hlr::{HlrError, SubscriberSpec};
use adapters::porting::{
    Account, AccountNumber, AccountPin, Acknowledge, AnswerPortOut, CancelPort, Credential,
    PortOutDecision, PortingError, PortingHub, Ref, RejectReason, ReschedulePort, ReturnNumber,
    SubmitPortIn, UtcTime, decode_callback,
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

fn hlr_answer(r: Result<String, HlrError>) -> PortAnswer {
    match r {
        Ok(outcome) => PortAnswer::Done(outcome),
        Err(e) if e.retryable() => PortAnswer::Retryable(e.to_string()),
        Err(e) => PortAnswer::Refused(e.to_string()),
    }
}

/// One attempt of a port step: record it as sent (unless the commit that wrote `order`
/// did: `recorded`, see `machine::ahead`), make the call, record the answer.
pub(super) async fn run_port_step(
    inner: &Inner,
    order: Order,
    spec: Option<&SubscriberSpec>,
    (op, attempt, recorded): (PortOp, u32, bool),
    now: u64,
) -> Result<Order, EngineError> {
    let mark = |o| port_order::mark_port_sent(o, op, attempt, now);
    let order = inner
        .record_sent(order, recorded, (op.name(), attempt), mark)
        .await?;
    let before = Before::of(&order);
    let answer = call(inner, &order, spec, op).await;
    let summary = match &answer {
        PortAnswer::Done(o) => format!("ok: {o}"),
        PortAnswer::Refused(e) | PortAnswer::Retryable(e) => e.clone(),
    };
    let at = Attempt::new(
        attempt,
        &inner.settings.policy,
        inner.jitter(),
        inner.clock.now_ms(),
    );
    let next = port_order::on_port_answer(order, op, at, answer);
    record_answer(
        inner,
        &before,
        next,
        Effect::None,
        op.name(),
        attempt,
        summary,
    )
    .await
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

/// Whether the driver reads `order`'s port inbox before its next step: a port order in
/// flight does before each, except a call the commit that wrote the order recorded as
/// sent (`recorded`: made first, the items after it; see `machine::ahead`). Before a
/// park too: the store refuses a park while an item waits, but a refused park is a
/// writer operation where the read is not.
pub(super) fn reads_inbox(order: &Order, recorded: bool) -> bool {
    order.port.is_some() && !order.status.is_terminal() && !recorded
}

/// What applying the waiting port items did.
pub(super) enum Applied {
    /// The order is in flight; with whether the commit sent its next call ahead.
    Driving(Box<Order>, bool),
    /// The machine only has to wait: the commit parked the order (its task ends).
    Parked,
}

/// Applies every unapplied port item of the order, in arrival order, in one commit;
/// `None` when none waits. That commit also parks the order when the machine then only
/// has to wait (unless another item arrived meanwhile: the store keeps it in flight),
/// ends the port when the items end it (completed, released: `ending`), or sends its
/// next call ahead (`machine::ahead`).
pub(super) async fn apply_pending(
    inner: &Inner,
    order: &Order,
    now: u64,
) -> Result<Option<Applied>, EngineError> {
    let items = inner.store.pending_port_items(&order.id).await?;
    if items.is_empty() {
        return Ok(None);
    }
    let before = Before::of(order);
    let applied = items
        .iter()
        .fold(order.clone(), |o, item| apply_item(inner, o, item, now));
    let (mut next, park) = port_order::after_applying(applied, order.version, now);
    let keys: Vec<String> = items.into_iter().map(|i| i.key).collect();
    let mut event = EventKind::Port {
        what: format!("applied {}", keys.join(" ")),
    };
    let mut effect = Effect::None;
    let action = crate::engine::machine::next_action(&next, now);
    if !park && is_ending(&action) {
        let (o, e, step) = ending(next, &action, now);
        (next, effect) = (o, e);
        next.version = order.version + 1;
        event = outcome_event(&next, &effect, step, 0, String::new());
    }
    let ahead = !park && !inner.stopping();
    if ahead {
        next = crate::engine::machine::mark_next_sent(next, now);
    }
    let parked = inner
        .store
        .apply_port_items(next.clone(), keys, effect.clone(), event)
        .await?;
    report(&inner.metrics, &before, &next, &effect);
    Ok(Some(match (park, parked) {
        (true, true) => {
            // Its deadline may be the earliest now.
            inner.port_wake.notify_one();
            Applied::Parked
        }
        // An item arrived meanwhile: the store wrote the order in flight.
        (true, false) => Applied::Driving(Box::new(crate::store::unparked(&next)), false),
        _ => Applied::Driving(Box::new(next), ahead),
    }))
}

fn apply_item(inner: &Inner, order: Order, item: &PortInboxItem, now: u64) -> Order {
    let input = match &item.body {
        PortItemBody::Hub { raw } => {
            open_message(inner, &item.key, raw).map(|m| ItemInput::Hub(Box::new(m)))
        }
        body => ItemInput::of(body).ok_or_else(|| "not a channel's item".to_owned()),
    };
    match input {
        Ok(input) => input.apply(order, now),
        Err(e) => {
            tracing::warn!(order = %order.id, item = %item.key, error = %e,
                "a recorded port item cannot be read; it is skipped");
            crate::engine::machine::touch(order, now)
        }
    }
}

/// A port item as the machine reads it (a hub message opened and decoded).
#[derive(Clone, Debug)]
pub enum ItemInput {
    /// A hub message.
    Hub(Box<adapters::porting::HubMessage>),
    /// A channel's cancel.
    Cancel,
    /// The withdrawal of a port-out (the line was reported lost or stolen).
    Withdraw,
    /// A channel's move to another day.
    Reschedule {
        /// The day asked (Unix ms).
        requested_at_ms: u64,
    },
}

impl ItemInput {
    /// The input of a channel's item; `None` for a hub message (sealed: the receiver
    /// has it decoded already, and the engine opens it).
    pub fn of(body: &PortItemBody) -> Option<Self> {
        match body {
            PortItemBody::Cancel => Some(Self::Cancel),
            PortItemBody::Withdraw => Some(Self::Withdraw),
            PortItemBody::Reschedule { requested_at_ms } => Some(Self::Reschedule {
                requested_at_ms: *requested_at_ms,
            }),
            PortItemBody::Hub { .. } => None,
        }
    }

    /// `order` (in flight) with this item applied.
    fn apply(&self, order: Order, now: u64) -> Order {
        match self {
            Self::Cancel => port_order::apply_cancel(order, now),
            Self::Withdraw => port_out::withdraw(order, now),
            Self::Reschedule { requested_at_ms } => {
                port_order::apply_reschedule(order, *requested_at_ms, now)
            }
            Self::Hub(m) => port_order::apply_hub(order, m, now),
        }
    }

    /// The store's step for this item when it arrives while its order is parked, run in
    /// the commit that records it: what the engine would do in three commits (wake the
    /// order, apply the item, park it again if the machine only has to wait), so a hub
    /// message that moves a waiting port along costs one commit and no task.
    /// An order that goes back into flight has its next call sent ahead in that commit
    /// (`machine::ahead`; the caller hands it to `Engine::submit_woken`).
    pub fn on_arrival(self) -> OnArrival {
        OnArrival::Apply(Arc::new(move |order, now| {
            let o = port_order::on_arrival(order, now, |o| self.apply(o, now));
            crate::engine::machine::mark_next_sent(o, now)
        }))
    }
}

fn open_message(
    inner: &Inner,
    key: &str,
    raw: &Sealed,
) -> Result<adapters::porting::HubMessage, String> {
    let plain = inner
        .keys
        .open(&hub_message_context(key), raw)
        .map_err(|e| e.to_string())?;
    decode_callback(&plain).map_err(|e| e.to_string())
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

/// Whether `action` ends the port in one commit (`ending`).
fn is_ending(action: &Action) -> bool {
    matches!(action, Action::PortRelease | Action::PortComplete)
}

/// A port's ending (`PortRelease`, `PortComplete`: see `is_ending`) as one write: the
/// order, its inventory effect and the step's name.
fn ending(order: Order, action: &Action, now: u64) -> (Order, Effect, &'static str) {
    let out = order.kind == OrderKind::PortOut;
    match (action, out) {
        (Action::PortRelease, true) => {
            let (o, e) = port_out::release(order, now);
            (o, e, "port_release")
        }
        (Action::PortRelease, false) => {
            let (o, e) = port_order::release(order, now);
            (o, e, "port_release")
        }
        (_, true) => {
            let (o, e) = port_out::complete(order, now);
            (o, e, "port_complete")
        }
        (_, false) => {
            let (o, e) = port_order::complete(order, now);
            (o, e, "port_complete")
        }
    }
}

//! The per-order driver: asks the pure machine for the next action, persists each
//! decision before acting on it, performs HLR steps (ES2+ steps are in `es2_step`), and
//! records every answer with the event it implies.

use super::Inner;
use super::error::EngineError;
use super::es2_step::run_es2;
use super::identity_step::run_verify;
use super::machine::{self, Action, Attempt, Es2Call, port_order};
use super::observe::observe;
use super::port_onward::{self, Applied};
use super::port_step;
use super::report::{Before, report};
use super::saga_step::run_saga_step;
use crate::order::{Effect, Order, OrderKind};
use crate::store::{EventKind, StoreError};
use adapters::hlr::{BoxFuture, HlrError, SubscriberSpec};
use std::time::Duration;

impl Inner {
    /// Persists a decision. A failed commit applied nothing, so the same write is retried
    /// (disk full, IO error) with capped backoff until it lands or the engine stops: the
    /// order must neither act on a decision that is not durable nor stall until a restart.
    pub(super) async fn persist(
        &self,
        order: &Order,
        effect: Effect,
        event: EventKind,
    ) -> Result<(), StoreError> {
        self.retrying(&order.id, || {
            self.store
                .advance_order(order.clone(), effect.clone(), event.clone())
        })
        .await
    }

    /// Runs `write` (a commit for order `id`) until it lands, fails otherwise than in the
    /// backend, or the engine stops, with capped backoff (see [`Inner::persist`]).
    pub(super) async fn retrying<T, F>(
        &self,
        id: &str,
        write: impl Fn() -> F,
    ) -> Result<T, StoreError>
    where
        F: std::future::Future<Output = Result<T, StoreError>>,
    {
        let mut delay = Duration::from_millis(50);
        loop {
            match write().await {
                Err(StoreError::Backend(e) | StoreError::Unavailable(e)) if !self.stopping() => {
                    tracing::error!(order = %id, error = %e, retry_in_ms = delay.as_millis() as u64,
                        "cannot record order progress; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
                other => return other,
            }
        }
    }

    /// `order` with attempt `attempt` of `step` recorded as about to be sent: marked by
    /// `mark` and persisted, unless the commit that wrote `order` recorded it already
    /// (`recorded`: sent ahead, see `machine::sent_ahead`).
    pub(super) async fn record_sent(
        &self,
        order: Order,
        recorded: bool,
        (step, attempt): (&str, u32),
        mark: impl FnOnce(Order) -> Order,
    ) -> Result<Order, StoreError> {
        if recorded {
            return Ok(order);
        }
        let order = mark(order);
        let sent = EventKind::StepSent {
            step: step.into(),
            attempt,
        };
        self.persist(&order, Effect::None, sent).await?;
        Ok(order)
    }
}

/// The southbound steps of the activation saga.
#[derive(Clone, Copy, Debug)]
pub(super) enum StepKind {
    /// Create the subscriber on the HLR/AUC.
    Provision,
    /// Compensation: remove what provisioning created.
    Deprovision,
    /// An ES2+ call to the SM-DP+.
    Es2(Es2Call),
}

impl StepKind {
    fn name(self) -> &'static str {
        match self {
            Self::Provision => "hlr_provision",
            Self::Deprovision => "hlr_deprovision",
            Self::Es2(c) => c.name(),
        }
    }
}

/// Drives one order until it is terminal, the engine stops, or the store fails.
/// `presented`: `order` comes straight from the commit that created it, which may have
/// recorded its first call as sent (`machine::mark_next_sent`), as each answer's commit
/// below may record the next; an order resumed after a restart or read back from the
/// store is not presented, and a call it holds as sent is made again as a new attempt.
pub(super) async fn drive(
    inner: &Inner,
    mut order: Order,
    mut presented: bool,
) -> Result<(), EngineError> {
    let mut spec = LineSpec::default();
    let mut stop = inner.stop.subscribe();
    // An HLR call that the create commit recorded ahead of the verification was not made
    // when this driver holds the order since that commit; read back, it may have been.
    let call_ahead = match presented {
        true => machine::CallAhead::NotMade,
        false => machine::CallAhead::MaybeMade,
    };
    loop {
        if inner.lost_lease(&order.id) {
            // A lease renewal that ran just after this order's last commit took it out of
            // flight finds no lease row: that order is not another node's, only done.
            if !order.status.is_terminal() {
                tracing::warn!(order = %order.id, "another node took this order over; stopping here");
            }
            return Ok(());
        }
        let now = inner.clock.now_ms();
        // The commit that wrote `order` may have recorded its next call as sent: make
        // that attempt now rather than record another.
        let ahead = std::mem::take(&mut presented)
            .then(|| machine::sent_ahead(&order, now))
            .flatten();
        let recorded = ahead.is_some();
        let action = ahead.unwrap_or_else(|| machine::next_action(&order, now));
        if port_onward::reads_inbox(&order, recorded) {
            // Hub messages and cancels first, all waiting in one commit (which may park
            // the order or send its next call ahead); a call sent ahead is made before
            // them.
            match port_onward::apply_pending(inner, &order, now).await? {
                Some(Applied::Driving(next, ahead)) => {
                    order = *next;
                    presented = ahead;
                    continue;
                }
                Some(Applied::Parked) => return Ok(()),
                None => {}
            }
        }
        let (kind, attempt) = match action {
            Action::Finished => return Ok(()),
            Action::WaitUntil(at) => {
                tokio::select! {
                    () = tokio::time::sleep_until(inner.clock.instant_at(at)) => {}
                    _ = stop.changed() => return Ok(()),
                }
                continue;
            }
            Action::Verify { attempt } => {
                if inner.stopping() {
                    return Ok(());
                }
                order = run_verify(inner, order, (attempt, call_ahead), now).await?;
                presented = true;
                continue;
            }
            Action::Provision { attempt } => (StepKind::Provision, attempt),
            Action::Deprovision { attempt } => (StepKind::Deprovision, attempt),
            Action::Es2 { call, attempt } => (StepKind::Es2(call), attempt),
            Action::Saga {
                undo,
                index,
                op,
                attempt,
            } => {
                let step = (undo, index, op, attempt, recorded);
                order = run_saga_step(inner, order, step, now).await?;
                presented = true;
                continue;
            }
            Action::Port { op, attempt } => {
                if inner.stopping() {
                    return Ok(());
                }
                let step = (op, attempt, recorded);
                let spec = match port_step::needs_spec(&order, op) {
                    true => Some(spec.of(inner, &order).await?),
                    false => None,
                };
                match port_step::run_port_step(inner, order, spec, step, now).await? {
                    Applied::Driving(next, ahead) => {
                        order = *next;
                        presented = ahead;
                        continue;
                    }
                    Applied::Parked => return Ok(()),
                }
            }
            a @ (Action::PortRelease
            | Action::PortComplete
            | Action::PortDeadline
            | Action::Park(_)) => {
                let park = matches!(a, Action::Park(_));
                match port_step::settle(inner, order, a, now).await? {
                    Some(next) => {
                        order = next;
                        // A refused park wrote nothing (an item waits: read next); any
                        // other settle is a commit that may have sent the next call ahead.
                        presented = !park;
                        continue;
                    }
                    None => return Ok(()),
                }
            }
            Action::Conclude => {
                let before = Before::of(&order);
                let (next, effect) = machine::conclude(order, now);
                order = record_answer(inner, &before, next, effect, "conclude", 0, String::new())
                    .await?;
                presented = true;
                continue;
            }
        };
        if inner.stopping() {
            return Ok(());
        }
        if order.kind != OrderKind::Activation {
            return Err(EngineError::unusable(
                &order.id,
                "an activation step on a lifecycle order",
            ));
        }
        let step = (attempt, recorded);
        let applied = match kind {
            StepKind::Es2(call) => Applied::Driving(
                Box::new(run_es2(inner, order, call, step, now).await?),
                true,
            ),
            StepKind::Provision => {
                let spec = spec.of(inner, &order).await?;
                run_step(inner, order, spec, false, step, now).await?
            }
            StepKind::Deprovision => {
                let spec = spec.of(inner, &order).await?;
                run_step(inner, order, spec, true, step, now).await?
            }
        };
        match applied {
            Applied::Driving(next, ahead) => {
                order = *next;
                presented = ahead;
            }
            Applied::Parked => return Ok(()),
        }
    }
}

/// The HLR subscriber spec of an activation's line, opened when a step first needs it
/// (the card's Ki and OPc are read and opened in memory then, not for a drive that makes
/// no such call, such as a port woken to change its number), and again once the order's
/// number or card is no longer the one it was opened for (a port's cutover).
#[derive(Default)]
struct LineSpec(Option<SubscriberSpec>);

impl LineSpec {
    /// The spec of `order`'s line now.
    async fn of(&mut self, inner: &Inner, order: &Order) -> Result<&SubscriberSpec, EngineError> {
        let current = self
            .0
            .as_ref()
            .is_some_and(|s| s.imsi == order.imsi && s.msisdn.as_ref() == Some(&order.msisdn));
        let spec = match self.0.take() {
            Some(spec) if current => spec,
            _ => inner.spec(order).await?,
        };
        Ok(self.0.insert(spec))
    }
}

/// One attempt of a step: record it as sent (unless the commit that wrote `order` did:
/// `recorded`), call the HLR within the concurrency bound, then record the answer (and
/// any inventory effect) in one commit. A port-in's submission recorded with its line
/// (`port_order::submit_with_line`) is made straight after the line's answer when the
/// line is up, and that commit records both answers (`port_step::submit_after_line`).
async fn run_step(
    inner: &Inner,
    order: Order,
    spec: &SubscriberSpec,
    undo: bool,
    (attempt, recorded): (u32, bool),
    now: u64,
) -> Result<Applied, EngineError> {
    let (kind, mark): (_, fn(Order, u32, u64) -> Order) = if undo {
        (StepKind::Deprovision, machine::mark_undo_sent)
    } else {
        (StepKind::Provision, machine::mark_sent)
    };
    let step = (kind.name(), attempt);
    let order = inner
        .record_sent(order, recorded, step, |o| mark(o, attempt, now))
        .await?;
    let before = Before::of(&order);
    let version = order.version;
    let permit = inner
        .permits
        .acquire()
        .await
        .map_err(|_| EngineError::Stopped)?;
    let (next, effect, summary) = if undo {
        let call = inner.hlr.deprovision(spec);
        hlr_answer(inner, order, attempt, call, machine::on_deprovision).await
    } else {
        let call = inner.hlr.provision(spec);
        hlr_answer(inner, order, attempt, call, machine::on_provision_any).await
    };
    drop(permit);
    let next = match (undo, recorded) {
        (false, true) => match port_order::submit_after_line(&next) {
            Some(n) => {
                let line = (kind.name(), attempt, summary);
                let held = (&before, version);
                return port_step::submit_after_line(inner, held, next, line, n).await;
            }
            // The call this driver made as recorded: a submission recorded with it was
            // not made, and the line is not up.
            None => port_order::submission_not_made(next),
        },
        _ => next,
    };
    let order = record_answer(inner, &before, next, effect, kind.name(), attempt, summary).await?;
    Ok(Applied::Driving(Box::new(order), true))
}

/// How the machine applies one kind of HLR answer (`on_provision`, `on_deprovision`).
type ApplyHlr<T> = fn(Order, Attempt, Result<T, HlrError>) -> (Order, Effect);

/// Awaits an HLR call, records its metrics, and hands its answer to the machine.
async fn hlr_answer<T: std::fmt::Debug>(
    inner: &Inner,
    order: Order,
    attempt: u32,
    call: BoxFuture<'_, Result<T, HlrError>>,
    apply: ApplyHlr<T>,
) -> (Order, Effect, String) {
    let started = tokio::time::Instant::now();
    let r = call.await;
    let summary = observe(inner, &r, started);
    let at = Attempt::new(
        attempt,
        &inner.settings.policy,
        inner.jitter(),
        inner.clock.now_ms(),
    );
    let (next, effect) = apply(order, at, r);
    (next, effect, summary)
}

/// Persists a step's answer with the event it implies, then reports what changed since
/// `before` (log and metrics).
pub(super) async fn record_answer(
    inner: &Inner,
    before: &Before,
    next: Order,
    effect: Effect,
    step: &str,
    attempt: u32,
    summary: String,
) -> Result<Order, EngineError> {
    let event = outcome_event(&next, &effect, step, attempt, summary);
    // The same commit records the next call as sent when one is due at once.
    let next = if inner.stopping() {
        next
    } else {
        machine::mark_next_sent(next, inner.clock.now_ms())
    };
    inner.persist(&next, effect.clone(), event).await?;
    report(&inner.metrics, before, &next, &effect);
    Ok(next)
}

/// The event a recorded answer implies: the order's outcome, or the step's answer.
pub(super) fn outcome_event(
    next: &Order,
    effect: &Effect,
    step: &str,
    attempt: u32,
    summary: String,
) -> EventKind {
    match effect {
        Effect::Activate => EventKind::OrderActive,
        Effect::Complete => EventKind::OrderCompleted,
        Effect::Release => EventKind::OrderFailed {
            code: next
                .error
                .as_ref()
                .map_or_else(String::new, |e| e.code.clone()),
        },
        Effect::None => EventKind::StepAnswered {
            step: step.into(),
            attempt,
            result: summary,
        },
    }
}

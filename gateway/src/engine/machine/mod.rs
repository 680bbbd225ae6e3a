//! The order state machines as pure functions: given the persisted order, an answer and
//! `now`, compute the next persisted order. No IO and no clock reads here, so every
//! transition (including crash-resume paths) is unit-tested without sockets or sleeps.
//!
//! One machine per order kind: `activation` (with its identity verification in `identity`
//! and its eSIM half in `esim`), and the lifecycle kinds, whose plans (`barring` for
//! suspend and resume, `terminate`, `sim_swap`, `number_change`) run on the shared saga
//! runner (`saga`). This file holds what they share: the retry policy, the answered
//! [`Attempt`], the driver's [`Action`] and the step bookkeeping.

pub mod activation;
mod ahead;
mod barring;
pub mod esim;
pub mod identity;
mod number_change;
pub mod port_in;
pub mod port_order;
pub mod port_out;
mod port_outcome;
pub mod port_reschedule;
pub mod saga;
mod sim_swap;
mod terminate;

#[cfg(test)]
use crate::order::OrderStatus;
use crate::order::{Lifecycle, Order, OrderKind, SagaOp, SagaStep, Step};
pub use activation::{
    deprovision_outcome, mark_sent, mark_undo_sent, on_deprovision, on_provision, provision_outcome,
};
pub use ahead::{mark_next_sent, mark_sent_as, sent_ahead};
pub use esim::{
    Es2Call, Es2Failure, ReleaseTerms, expire, mark_es2_sent, on_cancel, on_confirm, on_download,
    on_release_check, on_reorder,
};
pub use identity::{
    CallAhead, begin_verify, identity_concluded, on_no_verifier, on_unsendable, on_verify,
};
pub use saga::{StepDone, StepFailure, conclude, mark_saga_sent, on_saga_answer};

/// Retry policy for southbound steps.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Attempts before giving up (the order then fails and is compensated).
    pub max_attempts: u32,
    /// First backoff in ms.
    pub base_ms: u64,
    /// Backoff cap in ms.
    pub max_ms: u64,
}

impl RetryPolicy {
    /// Exponential backoff with full jitter: uniform in `[0, min(max, base * 2^(attempt-1))]`.
    /// `jitter` is a uniform random `u32` supplied by the caller (keeps this pure).
    pub fn delay_ms(&self, attempt: u32, jitter: u32) -> u64 {
        let exp = self
            .base_ms
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(32));
        let ceiling = exp.min(self.max_ms).max(1);
        // Keep at least a tenth of the ceiling so retries never hammer back-to-back.
        let floor = ceiling / 10;
        floor + (u64::from(jitter) * (ceiling - floor)) / u64::from(u32::MAX)
    }
}

/// An answered attempt of a step, with what its retry depends on: the policy, a uniform
/// random `jitter` supplied by the caller, and `now_ms`, the time of the answer.
#[derive(Clone, Copy, Debug)]
pub struct Attempt<'a> {
    /// Which attempt of the step answered (from 1).
    pub n: u32,
    /// The retry budget and backoff.
    pub policy: &'a RetryPolicy,
    /// Spreads the backoff (keeps the machines pure).
    pub jitter: u32,
    /// When the answer arrived, Unix ms.
    pub now_ms: u64,
}

impl<'a> Attempt<'a> {
    /// Attempt `n` of a step answered at `now_ms`.
    pub fn new(n: u32, policy: &'a RetryPolicy, jitter: u32, now_ms: u64) -> Self {
        Self {
            n,
            policy,
            jitter,
            now_ms,
        }
    }

    /// Whether the retry budget allows another attempt.
    pub fn may_retry(&self) -> bool {
        self.n < self.policy.max_attempts
    }

    /// The step waiting out this attempt's backoff, after `last_error`.
    pub fn wait(&self, last_error: String) -> Step {
        Step::RetryWait {
            attempt: self.n,
            retry_at_ms: self.now_ms + self.policy.delay_ms(self.n, self.jitter),
            last_error,
        }
    }
}

/// What the driver must do next for an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Ask the identity verifier (`begin_verify`), then persist the attempt with its
    /// answer (an activation's first step, when its create commit asked for one).
    Verify {
        /// The attempt about to be made.
        attempt: u32,
    },
    /// Persist `mark_sent`, then call `provision`.
    Provision {
        /// The attempt about to be made.
        attempt: u32,
    },
    /// Persist `mark_undo_sent`, then call `deprovision`.
    Deprovision {
        /// The attempt about to be made.
        attempt: u32,
    },
    /// Persist `mark_es2_sent`, then make this ES2+ call.
    Es2 {
        /// Which call.
        call: Es2Call,
        /// The attempt about to be made.
        attempt: u32,
    },
    /// Persist `mark_saga_sent`, then perform step `index` of a lifecycle order's plan (or
    /// of its compensation when `undo`).
    Saga {
        /// Compensation rather than the plan.
        undo: bool,
        /// Which step.
        index: usize,
        /// What it does.
        op: SagaOp,
        /// The attempt about to be made.
        attempt: u32,
    },
    /// A lifecycle saga has no step left: persist `conclude`.
    Conclude,
    /// Persist `port_order::mark_port_sent`, then perform a port step.
    Port {
        /// Which step.
        op: port_order::PortOp,
        /// The attempt about to be made.
        attempt: u32,
    },
    /// A port-in ended before its lock point: persist `port_order::release`.
    PortRelease,
    /// A port-in completed: persist `port_order::complete`.
    PortComplete,
    /// A port-in's deadline came: persist `port_order::on_deadline`.
    PortDeadline,
    /// A port-in waits for the hub or until this Unix ms (`u64::MAX`: no deadline):
    /// park it (`port_order::park`) out of flight.
    Park(u64),
    /// Sleep until this Unix ms, then ask again.
    WaitUntil(u64),
    /// Terminal: nothing more to do.
    Finished,
}

/// Decides the next action from persisted state and `now`, whatever the order's kind.
pub fn next_action(o: &Order, now_ms: u64) -> Action {
    if o.status.is_terminal() {
        return Action::Finished;
    }
    match o.kind {
        OrderKind::Activation if o.port.is_some() => port_order::next_action(o, now_ms),
        OrderKind::PortOut => port_out::next_action(o, now_ms),
        OrderKind::Activation => activation::next_action(o, now_ms),
        _ => saga::next_action(o, now_ms),
    }
}

/// The saga plan of a lifecycle order of `kind` on the line described by `l` (the store
/// calls it inside the commit that creates the order, so the plan matches the line as it
/// was then). An activation has no saga.
pub fn plan(kind: OrderKind, l: &Lifecycle) -> Vec<SagaStep> {
    match kind {
        OrderKind::Activation => Vec::new(),
        OrderKind::Suspend => barring::suspend(l),
        OrderKind::Resume => barring::resume(l),
        OrderKind::Terminate => terminate::plan(l),
        OrderKind::SimSwap => sim_swap::plan(l),
        OrderKind::NumberChange => number_change::plan(l),
        OrderKind::PortOut => port_out::plan(l),
    }
}

/// The attempt to make of a current step, or what to do instead: wait out its backoff,
/// or nothing (it is finished). A step recorded as `Sent` (its answer never recorded,
/// e.g. after a crash) is simply repeated: every southbound step is idempotent.
fn next_attempt(step: &Step, now_ms: u64) -> Result<u32, Action> {
    match step {
        Step::Pending => Ok(1),
        Step::Sent { attempt } => Ok(attempt + 1),
        Step::RetryWait { retry_at_ms, .. } if *retry_at_ms > now_ms => {
            Err(Action::WaitUntil(*retry_at_ms))
        }
        Step::RetryWait { attempt, .. } => Ok(attempt + 1),
        Step::Done { .. } | Step::Failed { .. } => Err(Action::Finished),
    }
}

fn finished(s: &Step) -> bool {
    matches!(s, Step::Done { .. } | Step::Failed { .. })
}

fn open(s: Option<&Step>) -> Option<&Step> {
    s.filter(|s| !finished(s))
}

/// Applies a provisioning answer to any activation: a port-in's line on its temporary
/// number stays open for the port (`port_order::after_provision`).
pub fn on_provision_any(
    o: Order,
    at: Attempt,
    result: Result<adapters::hlr::ProvisionOutcome, adapters::hlr::HlrError>,
) -> (Order, crate::order::Effect) {
    let (o, effect) = on_provision(o, at, result);
    port_order::after_provision(o, effect)
}

/// Stamps a new version of `o` at `now_ms`.
pub(crate) fn touch(mut o: Order, now_ms: u64) -> Order {
    o.updated_at_ms = now_ms;
    o.version += 1;
    o
}

/// A physical order fresh from creation, for state-machine tests.
#[cfg(test)]
pub(crate) fn fixture_order() -> Order {
    Order {
        id: "act_x".into(),
        kind: OrderKind::Activation,
        lifecycle: None,
        port: None,
        tenant: "t".into(),
        status: OrderStatus::Reserved,
        iccid: "8988211000000530082".parse().expect("iccid"),
        imsi: "001010000000001".parse().expect("imsi"),
        msisdn: "8617000000001".parse().expect("msisdn"),
        msisdn_mode: crate::order::MsisdnMode::Auto,
        product: "p".into(),
        hlr_profile_id: 1,
        channel: None,
        subscriber: None,
        compliance: None,
        hlr: Step::Pending,
        undo: None,
        error: None,
        needs_attention: false,
        attention: Vec::new(),
        esim: None,
        created_at_ms: 0,
        updated_at_ms: 0,
        version: 1,
        identity: None,
    }
}

/// The retry policy of state-machine tests.
#[cfg(test)]
pub(crate) const FIXTURE_POLICY: RetryPolicy = RetryPolicy {
    max_attempts: 3,
    base_ms: 100,
    max_ms: 1_000,
};

/// Attempt `n` answered at `now_ms` under [`FIXTURE_POLICY`], with no jitter.
#[cfg(test)]
pub(crate) fn at(n: u32, now_ms: u64) -> Attempt<'static> {
    Attempt::new(n, &FIXTURE_POLICY, 0, now_ms)
}

//! One commit that takes a port order onward (issue 12): the port items waiting for
//! it (hub messages, a channel's cancel or move) applied, after a port step's answer when
//! there is one (a hub call, the number on the HLR), and in the same commit the order
//! parked when the machine then only has to wait, the port ended when it ends, or its
//! next call sent ahead.

use super::Inner;
use super::error::EngineError;
use super::report::{Before, report};
use crate::crypto::Sealed;
use crate::engine::driver::outcome_event;
use crate::engine::machine::Action;
use crate::engine::machine::port_order;
use crate::engine::machine::port_out;
use crate::order::{Effect, Order, OrderKind};
use crate::store::{
    Arrived, Ended, EventKind, OnArrival, PortInboxItem, PortItemBody, hub_message_context,
};
use adapters::porting::decode_callback;
use std::sync::Arc;

/// Whether the driver reads `order`'s port inbox before its next step: a port order in
/// flight does before each, except a call the commit that wrote the order recorded as
/// sent (`recorded`: made first, the items after it; see `machine::ahead`; a port
/// step's answer takes the items that came meanwhile: `port_step::run_port_step`).
/// Before a park too: the store refuses a park while an item waits, but a refused park
/// is a writer operation where the read is not.
pub(super) fn reads_inbox(order: &Order, recorded: bool) -> bool {
    order.port.is_some() && !order.status.is_terminal() && !recorded
}

/// What an onward commit ([`commit_onward`]) did with the order.
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
    let before = Before::of(order);
    let (applied, keys) = with_waiting(inner, order.clone(), now).await?;
    if keys.is_empty() {
        return Ok(None);
    }
    let event = EventKind::Port {
        what: format!("applied {}", keys.join(" ")),
    };
    let step = Onward {
        version: order.version,
        keys,
        event,
    };
    commit_onward(inner, &before, applied, step, now)
        .await
        .map(Some)
}

/// `order` with the port items waiting for it applied, in arrival order, and their keys
/// (none: `order` as it was).
pub(super) async fn with_waiting(
    inner: &Inner,
    order: Order,
    now: u64,
) -> Result<(Order, Vec<String>), EngineError> {
    let items = inner.store.pending_port_items(&order.id).await?;
    let keys = items.iter().map(|i| i.key.clone()).collect();
    let applied = items
        .iter()
        .fold(order, |o, item| apply_item(inner, o, item, now));
    Ok((applied, keys))
}

/// What one onward commit records besides the order (see [`commit_onward`]).
pub(super) struct Onward {
    /// The order's version before the change (the commit moves it once).
    pub version: u64,
    /// The port items the change applied (marked applied in the commit).
    pub keys: Vec<String>,
    /// The change's event (an ending's outcome event replaces it).
    pub event: EventKind,
}

/// Writes `next` (the order at `step.version` with port items applied or a call's answer
/// recorded) in one commit that takes it as far as it goes without a call: parked when
/// the machine then only has to wait (unless an item for it is waiting: the store
/// writes it in flight instead), the port ended when it ends (completed, released:
/// `ending`), or its next call sent ahead (`machine::ahead`). A failed commit applied
/// nothing and is retried as `Inner::persist` retries.
pub(super) async fn commit_onward(
    inner: &Inner,
    before: &Before,
    next: Order,
    step: Onward,
    now: u64,
) -> Result<Applied, EngineError> {
    let Onward {
        version,
        keys,
        mut event,
    } = step;
    let (mut next, park) = port_order::after_applying(next, version, now);
    let mut effect = Effect::None;
    let action = crate::engine::machine::next_action(&next, now);
    if !park && is_ending(&action) {
        (next, effect, event) = ended_at(next, &action, version, now);
    }
    let ahead = !park && !inner.stopping();
    if ahead {
        // Asked again: an ending may have changed what comes next (a release removes the
        // line on its temporary number first).
        next = crate::engine::machine::mark_next_sent(next, now);
    }
    let parked = inner
        .retrying(&next.id, || {
            inner
                .store
                .apply_port_items(next.clone(), keys.clone(), effect.clone(), event.clone())
        })
        .await?;
    report(&inner.metrics, before, &next, &effect);
    Ok(match (park, parked) {
        (true, true) => {
            // Its deadline may be the earliest now.
            inner.port_wake.notify_one();
            Applied::Parked
        }
        // An item arrived meanwhile: the store wrote the order in flight.
        (true, false) => Applied::Driving(Box::new(crate::store::unparked(&next)), false),
        _ => Applied::Driving(Box::new(next), ahead),
    })
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
    /// (`machine::ahead`; the caller hands it to `Engine::submit_woken`); a port the item
    /// completes ends there (`Arrived::Ended`: the caller reports it with
    /// `Engine::ended_on_arrival`).
    pub fn on_arrival(self) -> OnArrival {
        OnArrival::Apply(Arc::new(move |order, now| {
            let (version, before) = (order.version, Before::of(&order).parts());
            let o = port_order::on_arrival(order, now, |o| self.apply(o, now));
            let action = crate::engine::machine::next_action(&o, now);
            if !matches!(action, Action::PortComplete) {
                let o = crate::engine::machine::mark_sent_as(o, &action, now);
                return Arrived::Order(Box::new(o));
            }
            let (o, effect, event) = ended_at(o, &action, version, now);
            let ended = Ended {
                order: o,
                effect,
                before,
            };
            Arrived::Ended(Box::new(ended), event)
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

/// Whether `action` ends the port in one commit (`ending`).
pub(super) fn is_ending(action: &Action) -> bool {
    matches!(action, Action::PortRelease | Action::PortComplete)
}

/// A port's ending folded into the one write of the order at `version` (which moves the
/// version once): the order, its inventory effect and the outcome's event.
fn ended_at(order: Order, action: &Action, version: u64, now: u64) -> (Order, Effect, EventKind) {
    let (mut o, effect, step) = ending(order, action, now);
    o.version = version + 1;
    let event = outcome_event(&o, &effect, step, 0, String::new());
    (o, effect, event)
}

/// A port's ending (`PortRelease`, `PortComplete`: see `is_ending`) as one write: the
/// order, its inventory effect and the step's name.
pub(super) fn ending(order: Order, action: &Action, now: u64) -> (Order, Effect, &'static str) {
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

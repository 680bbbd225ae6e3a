//! What the store keeps for porting beside the orders (issue 12): the durable inbox of
//! port items (hub messages and channels' cancel requests), written before the caller is
//! answered and deduplicated by key, and what receiving one did.

use super::{EventKind, EventType};
use crate::crypto::Sealed;
use crate::order::{AttentionReason, Effect, Order, PortState};
use serde::{Deserialize, Serialize};

/// One item for a port order, applied by the engine (the only writer of a port's state)
/// in its own commit, in arrival order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortInboxItem {
    /// Dedupe key: `hub/<message id>` for a hub message, `cancel/<order id>` for a
    /// channel's cancel (a repeated cancel is the same item).
    pub key: String,
    /// The order it is for (`None`: none of ours, e.g. an unknown reference).
    pub order_id: Option<String>,
    /// The tenant of that order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// Unix ms of its arrival.
    pub received_at_ms: u64,
    /// What it says.
    pub body: PortItemBody,
    /// Whether the engine applied it.
    #[serde(default)]
    pub applied: bool,
}

/// How an unapplied item's stored JSON ends: `applied` is its last member.
const UNAPPLIED_END: &[u8] = b"\"applied\":false}";
/// How an applied one's does.
const APPLIED_END: &[u8] = b"\"applied\":true}";

impl PortInboxItem {
    /// The item's stored JSON as not applied, encoded by the caller's task before the
    /// store's writer receives it: the writer then only marks it ([`Self::mark_applied`])
    /// instead of encoding a hub message's sealed body (hex, about two thirds of the row)
    /// in its one thread.
    pub fn unapplied_row(&self) -> serde_json::Result<Vec<u8>> {
        let mut row = serde_json::to_vec(self)?;
        if self.applied {
            Self::mark_unapplied(&mut row);
        }
        Ok(row)
    }

    /// Turns a stored row of [`Self::unapplied_row`] into the row of the same item
    /// applied, in place; `false` (the row left as it was) if it does not end as such a
    /// row does.
    pub fn mark_applied(row: &mut Vec<u8>) -> bool {
        swap_end(row, UNAPPLIED_END, APPLIED_END)
    }

    fn mark_unapplied(row: &mut Vec<u8>) -> bool {
        swap_end(row, APPLIED_END, UNAPPLIED_END)
    }
}

fn swap_end(row: &mut Vec<u8>, from: &[u8], to: &[u8]) -> bool {
    if !row.ends_with(from) {
        return false;
    }
    row.truncate(row.len() - from.len());
    row.extend_from_slice(to);
    true
}

/// What a port item says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PortItemBody {
    /// A hub message exactly as it arrived, sealed (a port-out request carries the
    /// customer's credential). Context: [`hub_message_context`].
    Hub {
        /// The raw JSON body.
        raw: Sealed,
    },
    /// The channel asked to cancel the port (`POST /v1/orders/{id}/cancel`).
    Cancel,
    /// The line of a port-out was reported lost or stolen before the port locked: the
    /// port-out is stopped (refused if not yet answered, else cancelled at the hub).
    Withdraw,
    /// The channel asked to move the port (`POST /v1/orders/{id}/reschedule`).
    Reschedule {
        /// The cutover asked for (Unix ms).
        requested_at_ms: u64,
    },
}

/// The sealing context of a hub message's raw body.
pub fn hub_message_context(key: &str) -> String {
    format!("port-inbox/{key}")
}

/// The dedupe key of a hub message.
pub fn hub_item_key(message_id: &str) -> String {
    format!("hub/{message_id}")
}

/// The dedupe key of a channel's reschedule of `order_id` to `requested_at_ms` (the same
/// day asked twice is one item).
pub fn reschedule_item_key(order_id: &str, requested_at_ms: u64) -> String {
    format!("reschedule/{order_id}/{requested_at_ms}")
}

/// The dedupe key of the withdrawal of port-out `order_id`.
pub fn withdraw_item_key(order_id: &str) -> String {
    format!("withdraw/{order_id}")
}

/// The dedupe key of a channel's cancel of `order_id`.
pub fn cancel_item_key(order_id: &str) -> String {
    format!("cancel/{order_id}")
}

/// What receiving a port item did.
#[derive(Clone, Debug, PartialEq)]
pub enum PortReceived {
    /// The key was seen before: nothing changed.
    Duplicate,
    /// Recorded. `woken`: its order was parked and is now in flight again, for the
    /// engine to drive (an order in flight picks the item up before it parks).
    Queued {
        /// The order taken back into flight.
        woken: Option<Box<Order>>,
    },
    /// Recorded and applied to its parked order by [`OnArrival::Apply`], in the same
    /// commit; the order waits again, until `until` (Unix ms; `u64::MAX`: no deadline).
    Settled {
        /// The order's new deadline on the parked-port index.
        until: u64,
    },
    /// Recorded and applied to its parked order by [`OnArrival::Apply`], which ended the
    /// port in the same commit ([`Arrived::Ended`]: the item completed it).
    Ended(Box<Ended>),
}

/// A port an arriving item ended, as the commit that recorded the item wrote it.
#[derive(Clone, Debug, PartialEq)]
pub struct Ended {
    /// The order as written (terminal).
    pub order: Order,
    /// Its inventory effect, applied in that commit.
    pub effect: Effect,
    /// What the parked order needed attention for before the item, and whether it had
    /// failed (what the engine's report compares the ended order with).
    pub before: (Vec<AttentionReason>, bool),
}

/// What an item's step ([`OnArrival::Apply`]) made of its parked order, written in the
/// commit that records the item.
#[derive(Clone, Debug, PartialEq)]
pub enum Arrived {
    /// The order with the item applied: parked again, or in flight for the engine to
    /// drive; the write's event is the arrival's.
    Order(Box<Order>),
    /// The item ended the port: the order with its effect, and the event of that outcome.
    Ended(Box<Ended>, EventKind),
}

/// What the store does, in the commit that records a port item, to the item's order when
/// that order is parked (an order in flight picks its items up itself).
#[derive(Clone)]
pub enum OnArrival {
    /// Take the order back into flight with this transition; the engine applies the item.
    Wake(crate::store::Reopen),
    /// The engine's pure step for this item: takes the parked order and the time, and
    /// gives the order with the item applied, parked again (its `port.parked` set) when
    /// the machine only has to wait, or in flight for the engine to drive. The item is
    /// recorded applied. Saves the engine a wake, an apply and a park (three commits)
    /// for every hub message that only moves a waiting port along, and ends a port the
    /// item ends (a wake, an apply and the ending). It may run more than once (a backend
    /// that retries its transaction), so it is `Fn` and pure.
    Apply(std::sync::Arc<dyn Fn(Order, u64) -> Arrived + Send + Sync>),
}

impl std::fmt::Debug for OnArrival {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Wake(_) => "Wake",
            Self::Apply(_) => "Apply",
        })
    }
}

/// `order` in flight: what `PortingStore::apply_port_items` writes instead of a parked
/// order while another item waits for it (the engine does the same with its copy).
pub fn unparked(order: &Order) -> Order {
    let mut o = order.clone();
    if let Some(p) = o.port.as_mut() {
        p.parked = None;
    }
    o
}

/// The order-history event of an arrival that changed a parked order.
pub fn arrival_event(key: &str, applied: bool) -> EventKind {
    let what = if applied {
        format!("applied on arrival {key}")
    } else {
        format!("woken by {key}")
    };
    EventKind::Port { what }
}

/// A parked order that consecutive items of one batch moved along and left parked, not
/// written yet: `PortingStore::receive_port_items` writes it once, after the last of them,
/// and writes each item's event in the order's history as it goes.
#[derive(Debug)]
pub struct Held {
    /// The order as the last item's step left it, at the version of its one write.
    pub order: Order,
    /// That item's event: written with the order, or before the next item's.
    pub event: EventKind,
}

impl Held {
    /// What the batch holds after an item that moved its order to `next` (the item
    /// `key`, `applied` or not), with what receiving it answers; or `next` back when it
    /// must be written now. An order is held only when the batch's next item is for it
    /// too (`next_same`), it is parked, it did not end (so no inventory effect), and its
    /// status and identity status are what they were before the batch (`before`; what a
    /// write's status-keyed records compare, such as the audit's, so one write of the
    /// whole run records what one write per item would). The order moves into the
    /// batch's hands, not copied.
    pub fn hold(
        next: Arrived,
        (key, applied): (&str, bool),
        before: Option<Standing>,
        next_same: bool,
    ) -> Result<(Self, PortReceived), Arrived> {
        match next {
            Arrived::Order(order) if next_same && before == Some(Self::standing(&order)) => {
                match order.port_parked() {
                    Some(until) => Ok((
                        Self {
                            order: *order,
                            event: arrival_event(key, applied),
                        },
                        PortReceived::Settled { until },
                    )),
                    None => Err(Arrived::Order(order)),
                }
            }
            other => Err(other),
        }
    }

    /// `o`'s [`Standing`].
    pub fn standing(o: &Order) -> Standing {
        (o.status, o.identity.as_ref().map(|i| i.status))
    }

    /// Whether the item after the `i`-th of a batch is for the same order.
    pub fn next_same(items: &[(PortInboxItem, OnArrival)], i: usize) -> bool {
        let this = items.get(i).and_then(|(item, _)| item.order_id.as_ref());
        this.is_some() && items.get(i + 1).and_then(|(n, _)| n.order_id.as_ref()) == this
    }

    /// The order as the next item's step takes it: at its stored version, so that the
    /// step moves the version once, to that of the one write.
    pub fn resumed(&self) -> Order {
        at_stored_version(self.order.clone())
    }

    /// [`Self::resumed`] without a copy, with the held item's event and the time it is
    /// for (when the batch no longer needs the held order itself).
    pub fn resume(self) -> (Order, EventKind, u64) {
        let at = self.order.updated_at_ms;
        (at_stored_version(self.order), self.event, at)
    }
}

/// A held order at the version stored before the batch moved it.
fn at_stored_version(mut o: Order) -> Order {
    o.version = o.version.saturating_sub(1);
    o
}

/// An order's status and identity status (see [`Held::hold`]).
pub type Standing = (
    crate::order::OrderStatus,
    Option<crate::order::IdentityStatus>,
);

/// What receiving an item tells the caller once its parked order is written as `next`.
pub fn arrival_outcome(next: Arrived) -> PortReceived {
    match next {
        Arrived::Ended(ended, _) => PortReceived::Ended(ended),
        Arrived::Order(o) => match o.port_parked() {
            Some(until) => PortReceived::Settled { until },
            None => PortReceived::Queued { woken: Some(o) },
        },
    }
}

impl Arrived {
    /// The order to write, its inventory effect and the write's event (the arrival of
    /// item `key`, `applied` or only waking the order, unless the item ended the port).
    pub fn write(&self, key: &str, applied: bool) -> (&Order, &Effect, EventKind) {
        match self {
            Self::Order(o) => (o, &Effect::None, arrival_event(key, applied)),
            Self::Ended(e, event) => (&e.order, &e.effect, event.clone()),
        }
    }
}

impl OnArrival {
    /// What an item arriving at `now_ms` does to `order`, its open port order if it has
    /// one: the order to write (only a parked one changes here) and whether the item is
    /// recorded applied (an item for no open port is kept, so a redelivery stays a
    /// duplicate, but applied to nothing; one for an order in flight waits for the
    /// engine).
    pub fn decide(&self, order: Option<Order>, now_ms: u64) -> (Option<Arrived>, bool) {
        match order {
            Some(o) if o.port_parked().is_some() => match self {
                Self::Wake(wake) => (Some(Arrived::Order(Box::new(wake(o, now_ms)))), false),
                Self::Apply(apply) => (Some(apply(o, now_ms)), true),
            },
            Some(_) => (None, false),
            None => (None, true),
        }
    }
}

/// The `port.*` events of an order write: one per port state entered since `current`
/// (a transition that keeps the state, such as the donor's acceptance, is on the
/// order's timeline only). Each carries who caused it, the reason code and the hub's
/// reference, the promised time and the completion time (§1.6), never the credential.
pub fn port_events<'o>(current: &Order, order: &'o Order) -> Vec<(EventType, PortEventData<'o>)> {
    let Some(p) = &order.port else {
        return Vec::new();
    };
    let seen = current.port.as_ref().map_or(0, |c| c.timeline.len());
    let mut state = current
        .port
        .as_ref()
        .and_then(|c| c.timeline.last().map(|t| t.state));
    let mut out = Vec::new();
    for t in p.timeline.iter().skip(seen) {
        if Some(t.state) == state {
            continue;
        }
        state = Some(t.state);
        let kind = if p.is_out() {
            port_out_event_type(t.state)
        } else {
            port_event_type(t.state)
        };
        let Some(kind) = kind else {
            continue;
        };
        let data = PortEventData {
            actor: t.actor,
            at: crate::clock::rfc3339(t.at_ms),
            completed_at: p.completed_at_ms.map(crate::clock::rfc3339),
            external_ref: t.external_ref.as_deref().or(p.port_ref.as_deref()),
            market: p.market,
            number: &p.number,
            order_id: &order.id,
            promised_at: p.due_at_ms.map(crate::clock::rfc3339),
            reason_code: t.reason_code.as_deref(),
            state: t.state.as_str(),
            status: order.status_name(),
            temporary_number: p.temporary.as_ref(),
        };
        out.push((kind, data));
    }
    out
}

/// A `port.*` event's payload, encoded by the store straight into the event it writes
/// (no JSON tree between). Its members in the order of their names, as every other
/// event's payload (serde_json's objects are sorted).
#[derive(Clone, Debug, Serialize)]
pub struct PortEventData<'o> {
    actor: crate::order::PortActor,
    at: String,
    completed_at: Option<String>,
    external_ref: Option<&'o str>,
    market: crate::compliance::Market,
    number: &'o sim_profiles::Msisdn,
    order_id: &'o str,
    promised_at: Option<String>,
    reason_code: Option<&'o str>,
    state: &'static str,
    status: &'static str,
    temporary_number: Option<&'o sim_profiles::Msisdn>,
}

fn port_out_event_type(s: PortState) -> Option<EventType> {
    Some(match s {
        PortState::Validating => EventType::PortOutRequested,
        PortState::Submitted => EventType::PortOutAccepted,
        PortState::Scheduled => EventType::PortOutScheduled,
        PortState::Locked => EventType::PortOutLocked,
        PortState::Completed => EventType::PortOutCompleted,
        PortState::Rejected => EventType::PortOutRejected,
        PortState::Cancelled => EventType::PortOutCancelled,
        PortState::Expired => EventType::PortOutExpired,
        PortState::Conflict
        | PortState::CancelPending
        | PortState::Activating
        | PortState::Failed => {
            return None;
        }
    })
}

fn port_event_type(s: PortState) -> Option<EventType> {
    Some(match s {
        PortState::Validating => return None,
        PortState::Submitted => EventType::PortSubmitted,
        PortState::Conflict => EventType::PortConflict,
        PortState::Scheduled => EventType::PortScheduled,
        PortState::CancelPending => EventType::PortCancelRequested,
        PortState::Locked => EventType::PortLocked,
        PortState::Activating => EventType::PortActivating,
        PortState::Completed => EventType::PortCompleted,
        PortState::Rejected => EventType::PortRejected,
        PortState::Cancelled => EventType::PortCancelled,
        PortState::Expired => EventType::PortExpired,
        PortState::Failed => EventType::PortFailed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::Market;
    use crate::order::{PortActor, PortIn, PortTransition};
    use serde_json::json;

    /// A port event's payload as the store writes it: every member, by name, with the
    /// hub's reference standing in for a transition that has none of its own.
    #[test]
    fn port_event_payloads_carry_the_transition_and_the_promise() {
        let mut current = crate::engine::machine::fixture_order();
        let sealed = crate::crypto::Sealed {
            kid: "k1".into(),
            nonce: "00".into(),
            ct: "00".into(),
        };
        let number = "447911000001".parse().expect("msisdn");
        let temporary = current.msisdn.clone();
        let mut p = PortIn::new(Market::Uk, number, "EE".into(), sealed, None, None)
            .running_on(Some(temporary.clone()));
        p.port_ref = Some("P-1".into());
        current.port = Some(p.clone());
        let mut order = current.clone();
        p.due_at_ms = Some(1_795_420_800_000);
        for (state, reason, external, at_ms) in [
            (PortState::Submitted, None, None, 1_000),
            (PortState::Submitted, None, Some("D-9"), 2_000),
            (
                PortState::Rejected,
                Some("contract_lock"),
                Some("D-9"),
                3_000,
            ),
        ] {
            p.timeline.push(PortTransition {
                state,
                actor: PortActor::Hub,
                reason_code: reason.map(str::to_owned),
                external_ref: external.map(str::to_owned),
                at_ms,
            });
        }
        order.port = Some(p);
        let events: Vec<_> = port_events(&current, &order)
            .into_iter()
            .map(|(t, d)| (t, serde_json::to_value(d).expect("encode")))
            .collect();
        let data = |state: &str, reason: Option<&str>, external: &str, at: &str| {
            json!({
                "actor": "hub",
                "at": at,
                "completed_at": null,
                "external_ref": external,
                "market": "uk",
                "number": "447911000001",
                "order_id": order.id,
                "promised_at": "2026-11-23T08:00:00.000Z",
                "reason_code": reason,
                "state": state,
                "status": order.status_name(),
                "temporary_number": temporary.as_str(),
            })
        };
        // The second transition keeps the state: on the timeline only.
        assert_eq!(
            events,
            [
                (
                    EventType::PortSubmitted,
                    data("submitted", None, "P-1", "1970-01-01T00:00:01.000Z")
                ),
                (
                    EventType::PortRejected,
                    data(
                        "rejected",
                        Some("contract_lock"),
                        "D-9",
                        "1970-01-01T00:00:03.000Z"
                    )
                ),
            ]
        );
        // What the previous write had already published is not published again.
        assert!(port_events(&order, &order).is_empty());
    }

    /// A row encoded before the writer and marked there decodes as the item with
    /// `applied` as marked, whatever the body; a row that does not end as one is left be.
    #[test]
    fn an_unapplied_row_marked_applied_is_the_applied_item() {
        let sealed = Sealed {
            kid: "dk-1".into(),
            nonce: "00".repeat(12),
            ct: "ab\"}".into(),
        };
        for body in [
            PortItemBody::Hub { raw: sealed },
            PortItemBody::Cancel,
            PortItemBody::Reschedule { requested_at_ms: 7 },
        ] {
            for tenant in [None, Some("t".to_owned())] {
                let mut item = PortInboxItem {
                    key: "hub/m-1".into(),
                    order_id: Some("act_1".into()),
                    tenant,
                    received_at_ms: 5,
                    body: body.clone(),
                    applied: true,
                };
                let mut row = item.unapplied_row().expect("encode");
                item.applied = false;
                let back: PortInboxItem = serde_json::from_slice(&row).expect("decode");
                assert_eq!(back, item, "encoded as not applied");
                assert!(PortInboxItem::mark_applied(&mut row));
                item.applied = true;
                let back: PortInboxItem = serde_json::from_slice(&row).expect("decode");
                assert_eq!(back, item, "marked applied");
                assert!(!PortInboxItem::mark_applied(&mut row), "already applied");
                assert_eq!(
                    back,
                    serde_json::from_slice::<PortInboxItem>(&row).expect("decode")
                );
            }
        }
    }
}

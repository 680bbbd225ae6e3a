//! One port as the hub keeps it: its parties, state, timetable, the one timer that is
//! pending, and its timeline of messages. Every message of the port gets the next
//! `sequence` and repeats the port's current facts (`reference`, `due_at`, `lock_at`).

use super::clock::utc;
use super::donor::{Behaviour, Resolution};
use super::timetable::Timetable;
use adapters::porting::{Actor, HubEvent, HubMessage, Market, Ref};
use serde::{Deserialize, Serialize};
use sim_profiles::Msisdn;

/// Where a port stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PortState {
    /// A port-in waiting for the donor's answer.
    Received,
    /// A port-out request waiting for the receiver's (the donor's) answer.
    AwaitingAnswer,
    /// Accepted and scheduled, before the lock.
    Scheduled,
    /// Disputed by the donor (US); the hub settles it when the window ends.
    Conflict,
    /// The other side asked to cancel; waiting for the receiver's concurrence.
    CancelPending,
    /// No more cancel or reschedule.
    Locked,
    /// The cutover was announced; waiting for the receiver's acknowledgement.
    Cutover,
    /// The number has moved.
    Completed,
    /// Refused for good.
    Rejected,
    /// Cancelled.
    Cancelled,
}

impl PortState {
    /// Whether the port is finished.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Rejected | Self::Cancelled)
    }

    /// Whether the port may no longer be cancelled or rescheduled (`port_locked`).
    pub fn is_locked(self) -> bool {
        self.is_final() || matches!(self, Self::Locked | Self::Cutover)
    }
}

/// Which side of the port the receiver (the gateway) is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The receiver submitted it: it is the recipient.
    In,
    /// The hub asked the receiver for one of its numbers: it is the donor.
    Out,
}

impl Direction {
    /// The receiver's role in this port.
    pub(crate) fn receiver_actor(self) -> Actor {
        match self {
            Self::In => Actor::Recipient,
            Self::Out => Actor::Donor,
        }
    }

    /// The simulated other side's role.
    pub(crate) fn other_actor(self) -> Actor {
        match self {
            Self::In => Actor::Donor,
            Self::Out => Actor::Recipient,
        }
    }
}

/// The hub event a timer fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    /// The donor answers a port-in.
    DonorAnswer,
    /// The port locks.
    Lock,
    /// The number moves.
    Cutover,
    /// A conflict is settled.
    ConflictEnd,
    /// An unanswered cancel request's windows close.
    CancelWindowEnd,
    /// A port-out request's `respond_by` passes.
    RespondBy,
}

/// One message of the port's timeline, without secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// The message's sequence.
    pub sequence: u64,
    /// Its id.
    pub message_id: String,
    /// Its kind.
    pub kind: String,
    /// When it happened at the hub.
    pub at: String,
    /// Who caused it.
    pub actor: String,
    /// A rejection's reason or a conflict's cause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Port {
    pub(crate) port_ref: Ref,
    pub(crate) direction: Direction,
    pub(crate) market: Market,
    pub(crate) number: Msisdn,
    pub(crate) donor: Ref,
    pub(crate) recipient: Ref,
    /// The receiver's order id (port-ins).
    pub(crate) reference: Option<Ref>,
    pub(crate) state: PortState,
    /// The due time asked for.
    pub(crate) requested_at: Option<u64>,
    pub(crate) timetable: Option<Timetable>,
    pub(crate) timer: Option<(u64, Timer)>,
    /// The donor's behaviour, fixed when the port-in arrived.
    pub(crate) behaviour: Behaviour,
    /// A port-out request's deadline.
    pub(crate) respond_by: Option<u64>,
    /// How the hub settles the port's conflict when its window ends.
    pub(crate) resolution: Resolution,
    pub(crate) cutover_message: Option<Ref>,
    pub(crate) acknowledged: Vec<Ref>,
    pub(crate) completed_at: Option<u64>,
    /// When the receiver gave the ported-in number back to its range holder.
    pub(crate) returned_at: Option<u64>,
    pub(crate) sequence: u64,
    pub(crate) timeline: Vec<TimelineEntry>,
}

impl Port {
    /// Appends the next message of this port and returns it for delivery.
    pub(crate) fn message(
        &mut self,
        message_id: Ref,
        event: HubEvent,
        at: u64,
        actor: Actor,
    ) -> HubMessage {
        self.sequence += 1;
        let time = utc;
        let m = HubMessage {
            message_id,
            port_ref: self.port_ref.clone(),
            sequence: self.sequence,
            at: time(at),
            actor,
            reference: self.reference.clone(),
            due_at: self.timetable.map(|t| time(t.due_at)),
            lock_at: self.timetable.map(|t| time(t.lock_at)),
            range_holder: (self.direction == Direction::In && event == HubEvent::Accepted)
                .then(|| self.range_holder().clone()),
            event,
        };
        self.timeline.push(TimelineEntry {
            sequence: m.sequence,
            message_id: m.message_id.to_string(),
            kind: m.event.kind().to_owned(),
            at: m.at.to_string(),
            actor: actor.as_str().to_owned(),
            reason: m.event.reason_code().map(str::to_owned),
        });
        m
    }

    /// Who holds the number's range: the donor book's, else the donor.
    pub(crate) fn range_holder(&self) -> &Ref {
        self.behaviour.range_holder.as_ref().unwrap_or(&self.donor)
    }

    /// Whether `message_id` is one of this port's messages.
    pub(crate) fn has_message(&self, message_id: &Ref) -> bool {
        self.timeline
            .iter()
            .any(|e| e.message_id == message_id.as_str())
    }
}

/// The admin view of a port (no credential or account).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortView {
    /// The hub's port reference.
    pub port_ref: String,
    /// `in` (the receiver is the recipient) or `out` (the donor).
    pub direction: Direction,
    /// The market.
    pub market: String,
    /// The number.
    pub number: String,
    /// The losing provider.
    pub donor: String,
    /// The gaining provider.
    pub recipient: String,
    /// The receiver's order id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The state.
    pub state: PortState,
    /// The due time asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_at: Option<String>,
    /// When the port locks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_at: Option<String>,
    /// When the number moves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<String>,
    /// The completion the market promises.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complete_by: Option<String>,
    /// When it completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    /// Who holds the number's range (a port-in's `range_holder`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range_holder: Option<String>,
    /// When the receiver returned the ported-in number to its range holder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returned_at: Option<String>,
    /// A port-out request's deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub respond_by: Option<String>,
    /// When the pending timer fires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_event_at: Option<String>,
    /// Message ids the receiver acknowledged.
    pub acknowledged: Vec<String>,
    /// Every message, in sequence order.
    pub timeline: Vec<TimelineEntry>,
}

impl From<&Port> for PortView {
    fn from(p: &Port) -> Self {
        let time = |ms: u64| Some(utc(ms).to_string());
        Self {
            port_ref: p.port_ref.to_string(),
            direction: p.direction,
            market: p.market.as_str().to_owned(),
            number: p.number.as_str().to_owned(),
            donor: p.donor.to_string(),
            recipient: p.recipient.to_string(),
            reference: p.reference.as_ref().map(Ref::to_string),
            state: p.state,
            requested_at: p.requested_at.and_then(time),
            lock_at: p.timetable.and_then(|t| time(t.lock_at)),
            due_at: p.timetable.and_then(|t| time(t.due_at)),
            complete_by: p.timetable.and_then(|t| time(t.complete_by)),
            completed_at: p.completed_at.and_then(time),
            range_holder: (p.direction == Direction::In).then(|| p.range_holder().to_string()),
            returned_at: p.returned_at.and_then(time),
            respond_by: p.respond_by.and_then(time),
            next_event_at: p.timer.and_then(|(at, _)| time(at)),
            acknowledged: p.acknowledged.iter().map(Ref::to_string).collect(),
            timeline: p.timeline.clone(),
        }
    }
}

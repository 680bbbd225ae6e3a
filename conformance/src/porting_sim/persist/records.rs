//! The JSON records of the hub simulator's state file, kept apart from the hub's own
//! types so the file's form is fixed here: a port, the donor book, the clock, a kept
//! answer and a pending message. Each decodes back to the hub's type or names the field
//! at fault, never its value.

use super::super::clock::{ClockMode, SimClock};
use super::super::donor::{Behaviour, DonorBook, Resolution, WireBehaviour};
use super::super::port::{Direction, Port, PortState, TimelineEntry, Timer};
use super::super::replay::{Answer, Kept};
use super::super::timetable::Timetable;
use adapters::porting::{Market, Ref};
use serde::{Deserialize, Serialize};
use sim_profiles::Msisdn;
use std::collections::BTreeMap;

/// What the file keeps of a port: all of it (a port holds no credential).
#[derive(Serialize, Deserialize)]
pub(super) struct PortRecord {
    port_ref: String,
    direction: Direction,
    market: String,
    number: Msisdn,
    donor: String,
    recipient: String,
    #[serde(default)]
    reference: Option<String>,
    state: PortState,
    #[serde(default)]
    requested_at: Option<u64>,
    #[serde(default)]
    timetable: Option<TimetableRecord>,
    #[serde(default)]
    timer: Option<TimerRecord>,
    behaviour: WireBehaviour,
    #[serde(default)]
    respond_by: Option<u64>,
    #[serde(default)]
    resolution: Resolution,
    #[serde(default)]
    cutover_message: Option<String>,
    #[serde(default)]
    acknowledged: Vec<String>,
    #[serde(default)]
    completed_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    returned_at: Option<u64>,
    sequence: u64,
    #[serde(default)]
    timeline: Vec<TimelineEntry>,
}

/// A port's timetable, Unix milliseconds.
#[derive(Serialize, Deserialize)]
struct TimetableRecord {
    lock_at: u64,
    due_at: u64,
    complete_by: u64,
}

/// The pending timer: when, and what it fires.
#[derive(Serialize, Deserialize)]
struct TimerRecord {
    at: u64,
    fires: TimerKind,
}

/// [`Timer`]'s names in the file.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum TimerKind {
    DonorAnswer,
    Lock,
    Cutover,
    ConflictEnd,
    CancelWindowEnd,
    RespondBy,
}

impl From<Timer> for TimerKind {
    fn from(t: Timer) -> Self {
        match t {
            Timer::DonorAnswer => Self::DonorAnswer,
            Timer::Lock => Self::Lock,
            Timer::Cutover => Self::Cutover,
            Timer::ConflictEnd => Self::ConflictEnd,
            Timer::CancelWindowEnd => Self::CancelWindowEnd,
            Timer::RespondBy => Self::RespondBy,
        }
    }
}

impl From<TimerKind> for Timer {
    fn from(t: TimerKind) -> Self {
        match t {
            TimerKind::DonorAnswer => Self::DonorAnswer,
            TimerKind::Lock => Self::Lock,
            TimerKind::Cutover => Self::Cutover,
            TimerKind::ConflictEnd => Self::ConflictEnd,
            TimerKind::CancelWindowEnd => Self::CancelWindowEnd,
            TimerKind::RespondBy => Self::RespondBy,
        }
    }
}

/// A reference the file holds; `Err` names the field.
fn reference(s: &str, field: &'static str) -> Result<Ref, &'static str> {
    Ref::parse(s, field).map_err(|_| field)
}

impl PortRecord {
    /// The record of `p`.
    pub(super) fn of(p: &Port) -> Self {
        Self {
            port_ref: p.port_ref.to_string(),
            direction: p.direction,
            market: p.market.as_str().to_owned(),
            number: p.number.clone(),
            donor: p.donor.to_string(),
            recipient: p.recipient.to_string(),
            reference: p.reference.as_ref().map(Ref::to_string),
            state: p.state,
            requested_at: p.requested_at,
            timetable: p.timetable.map(|t| TimetableRecord {
                lock_at: t.lock_at,
                due_at: t.due_at,
                complete_by: t.complete_by,
            }),
            timer: p.timer.map(|(at, t)| TimerRecord {
                at,
                fires: t.into(),
            }),
            behaviour: WireBehaviour::from(&p.behaviour),
            respond_by: p.respond_by,
            resolution: p.resolution,
            cutover_message: p.cutover_message.as_ref().map(Ref::to_string),
            acknowledged: p.acknowledged.iter().map(Ref::to_string).collect(),
            completed_at: p.completed_at,
            returned_at: p.returned_at,
            sequence: p.sequence,
            timeline: p.timeline.clone(),
        }
    }

    /// The port; `Err` names the field that does not decode.
    pub(super) fn into_port(self) -> Result<Port, &'static str> {
        Ok(Port {
            port_ref: reference(&self.port_ref, "port_ref")?,
            direction: self.direction,
            market: Market::from_wire(&self.market).ok_or("market")?,
            number: self.number,
            donor: reference(&self.donor, "donor")?,
            recipient: reference(&self.recipient, "recipient")?,
            reference: self
                .reference
                .map(|r| reference(&r, "reference"))
                .transpose()?,
            state: self.state,
            requested_at: self.requested_at,
            timetable: self.timetable.map(|t| Timetable {
                lock_at: t.lock_at,
                due_at: t.due_at,
                complete_by: t.complete_by,
            }),
            timer: self.timer.map(|t| (t.at, t.fires.into())),
            behaviour: Behaviour::try_from(self.behaviour).map_err(|_| "behaviour")?,
            respond_by: self.respond_by,
            resolution: self.resolution,
            cutover_message: self
                .cutover_message
                .map(|m| reference(&m, "cutover_message"))
                .transpose()?,
            acknowledged: self
                .acknowledged
                .iter()
                .map(|m| reference(m, "acknowledged"))
                .collect::<Result<_, _>>()?,
            completed_at: self.completed_at,
            returned_at: self.returned_at,
            sequence: self.sequence,
            timeline: self.timeline,
        })
    }
}

/// The donor book: the default and every number's behaviour.
#[derive(Serialize, Deserialize)]
pub(super) struct DonorsRecord {
    default: WireBehaviour,
    #[serde(default)]
    numbers: BTreeMap<String, WireBehaviour>,
}

impl DonorsRecord {
    /// The record of `book`.
    pub(super) fn of(book: &DonorBook) -> Self {
        let (default, numbers) = book.list();
        Self {
            default: WireBehaviour::from(&default),
            numbers: numbers
                .iter()
                .map(|(n, b)| (n.clone(), WireBehaviour::from(b)))
                .collect(),
        }
    }

    /// The book; `Err` names the number (or `default`) whose behaviour does not decode.
    pub(super) fn into_book(self) -> Result<DonorBook, String> {
        let default = Behaviour::try_from(self.default).map_err(|_| "default".to_owned())?;
        let mut numbers = BTreeMap::new();
        for (n, w) in self.numbers {
            let b = Behaviour::try_from(w).map_err(|_| n.clone())?;
            numbers.insert(n, b);
        }
        Ok(DonorBook::restore(default, numbers))
    }
}

/// The clock: its mode and the hub's time when it was last moved, with the wall clock's
/// then, so a real-time clock goes on by the time the simulator was down.
#[derive(Serialize, Deserialize)]
pub(super) struct ClockRecord {
    mode: ClockMode,
    now_ms: u64,
    wall_ms: u64,
}

impl ClockRecord {
    /// The record of `clock` at wall time `wall_ms`.
    pub(super) fn of(clock: &SimClock, wall_ms: u64) -> Self {
        Self {
            mode: clock.mode(),
            now_ms: clock.now(),
            wall_ms,
        }
    }

    /// The mode and the hub's time at wall time `wall_now`: a driven clock where it
    /// stood, a real-time one moved on by the wall time since (never back).
    pub(super) fn resume(&self, wall_now: u64) -> (ClockMode, u64) {
        let now = match self.mode {
            ClockMode::Driven => self.now_ms,
            ClockMode::RealTime => self
                .now_ms
                .saturating_add(wall_now.saturating_sub(self.wall_ms)),
        };
        (self.mode, now)
    }
}

/// A first answer to a request id: a receipt or a problem body (no credential).
#[derive(Serialize, Deserialize)]
pub(super) struct AnswerRecord {
    /// The provider the request id belongs to (none: no operators configured).
    #[serde(default)]
    operator: Option<String>,
    request_id: String,
    /// Hex of the request's SHA-256 fingerprint.
    fingerprint: String,
    status: u16,
    body: String,
}

impl AnswerRecord {
    /// The record of `k`.
    pub(super) fn of(k: &Kept) -> Self {
        Self {
            operator: k.key.0.as_ref().map(Ref::to_string),
            request_id: k.key.1.to_string(),
            fingerprint: sim_profiles::secret::encode_hex_upper(&k.fingerprint),
            status: k.answer.status,
            body: String::from_utf8_lossy(&k.answer.body).into_owned(),
        }
    }

    /// The kept answer numbered `seq`; `Err` names the field that does not decode.
    pub(super) fn into_kept(self, seq: u64) -> Result<Kept, &'static str> {
        let mut fingerprint = [0u8; 32];
        sim_profiles::secret::decode_hex_into(&self.fingerprint, &mut fingerprint)
            .map_err(|_| "fingerprint")?;
        let operator = self
            .operator
            .map(|o| reference(&o, "operator"))
            .transpose()?;
        Ok(Kept {
            seq,
            key: (operator, reference(&self.request_id, "request_id")?),
            fingerprint,
            answer: Answer {
                status: self.status,
                body: self.body.into_bytes(),
            },
        })
    }
}

/// A hub message waiting for delivery, exactly as it will be sent. No `Debug`: a
/// port-out request's body holds the subscriber's credential (the file is 0600, like the
/// HLR simulator's, and a redelivery must be the same message).
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Pending {
    /// The message's id.
    pub(crate) message_id: String,
    /// Its port.
    pub(crate) port_ref: String,
    /// Its sequence in the port.
    pub(crate) sequence: u64,
    /// Its kind.
    pub(crate) kind: String,
    /// The exact body (JSON).
    pub(crate) body: String,
    /// An injected second copy.
    #[serde(default)]
    pub(crate) duplicate: bool,
    /// Held back behind a later message of its port.
    #[serde(default)]
    pub(crate) reordered: bool,
}

//! The hub itself, as a pure state machine over its ports: the six requests, the two
//! admin commands (a port-out request, a cancel request) and, in `timers.rs`, time
//! passing. No IO and no clock: every function takes `now` (Unix ms) and appends the
//! messages it produces to `out`, for the driver to deliver.
//!
//! What the hub itself checks (before the donor): the market's credential or account is
//! present (else `rejected`: `credential_invalid`, `account_mismatch`), no other port of
//! the number is open (`pending_port_exists`), a requested time can be scheduled (`422
//! date_not_available`), the port is the caller's (`404 unknown_port`), it is not locked
//! (`409 port_locked`) and takes the request now (`409 invalid_state`).

use super::donor::{DonorBook, Resolution};
use super::port::{Direction, Port, PortState, Timer};
use super::timetable::{self, DEFAULT_RESPOND_MS, DateRefused};
use adapters::porting::{Account, Credential};
use adapters::porting::{
    Acknowledge, Actor, AnswerPortOut, CancelPort, HubErrorCode, HubEvent, HubMessage, Market,
    PortOutDecision, PortOutRequest, Ref, RejectReason, ReschedulePort, ReturnNumber, SubmitPortIn,
};
use sim_profiles::Msisdn;
use std::collections::{BTreeSet, HashMap};

/// A refused request: the status and the problem body's code and field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) status: u16,
    pub(crate) code: HubErrorCode,
    pub(crate) field: Option<&'static str>,
}

impl Refusal {
    fn new(status: u16, code: HubErrorCode) -> Self {
        Self {
            status,
            code,
            field: None,
        }
    }

    pub(crate) fn forbidden() -> Self {
        Self::new(403, HubErrorCode::Forbidden)
    }

    fn unknown_port() -> Self {
        Self::new(404, HubErrorCode::UnknownPort)
    }

    fn port_locked() -> Self {
        Self::new(409, HubErrorCode::PortLocked)
    }

    fn invalid_state() -> Self {
        Self::new(409, HubErrorCode::InvalidState)
    }

    fn date(_why: DateRefused) -> Self {
        Self {
            field: Some("requested_at"),
            ..Self::new(422, HubErrorCode::DateNotAvailable)
        }
    }
}

/// The admin command that makes the hub ask the receiver for one of its numbers.
#[derive(Debug, Clone)]
pub struct PortOutCommand {
    /// The market.
    pub market: Market,
    /// The receiver's number the recipient wants.
    pub number: Msisdn,
    /// The gaining provider (default `SIM-RECIPIENT`).
    pub recipient: Option<Ref>,
    /// The receiver's operator id (default: the only configured operator, else `SIMGW`).
    pub donor: Option<Ref>,
    /// The porting code the subscriber gave the recipient.
    pub credential: Option<Credential>,
    /// The account the recipient names (US).
    pub account: Option<Account>,
    /// When the recipient wants the port (default: the market's earliest due time).
    pub requested_at: Option<u64>,
    /// The answer's deadline (default: one hour from now).
    pub respond_by: Option<u64>,
}

/// Every port, in creation order, and the id counters.
#[derive(Debug, Default)]
pub(crate) struct Hub {
    ports: Vec<Port>,
    index: HashMap<Ref, usize>,
    /// Positions of each number's ports (a submission asks whether one is open).
    by_number: HashMap<Msisdn, Vec<usize>>,
    /// Pending timers by instant and position; an entry whose port's timer changed since
    /// is stale and dropped when met (`timers.rs`).
    pub(super) timers: BTreeSet<(u64, usize)>,
    /// Ports touched since their timers were last indexed.
    pub(super) retimed: BTreeSet<usize>,
    pub(crate) ids: Ids,
    /// The donor's behaviour per number.
    pub(crate) donors: DonorBook,
    /// What changed since the last [`Hub::take_changes`], when something keeps the hub.
    changes: Option<Changed>,
}

/// What changed in a tracked hub since the last [`Hub::take_changes`]: what its state
/// file has to rewrite.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Changed {
    /// Positions (creation order) of the ports that changed or were created.
    pub(crate) ports: BTreeSet<usize>,
    /// Positions below this were forgotten by a reset (removed before `ports` are written).
    pub(crate) forgotten: usize,
    /// Whether the donor book changed.
    pub(crate) donors: bool,
}

impl Hub {
    /// An empty hub that records its changes for [`Hub::take_changes`].
    pub(crate) fn tracked() -> Self {
        Self {
            changes: Some(Changed::default()),
            ..Self::default()
        }
    }

    /// A tracked hub holding `ports` (in creation order), with its counters and donors.
    pub(crate) fn restore(ports: Vec<Port>, ids: Ids, donors: DonorBook) -> Self {
        let mut hub = Self {
            ids,
            donors,
            ..Self::tracked()
        };
        for port in ports {
            hub.place(port);
        }
        hub
    }

    /// What changed since the last call (nothing when untracked).
    pub(crate) fn take_changes(&mut self) -> Changed {
        let donors = self.donors.take_changed();
        match &mut self.changes {
            None => Changed::default(),
            Some(c) => Changed {
                donors,
                ..std::mem::take(c)
            },
        }
    }

    /// Forgets every port and donor behaviour; the id counters go on.
    pub(crate) fn reset(&mut self) {
        if let Some(c) = &mut self.changes {
            c.forgotten = c.forgotten.max(self.ports.len());
            c.ports.clear();
        }
        self.ports.clear();
        self.index.clear();
        self.by_number.clear();
        self.timers.clear();
        self.retimed.clear();
        self.donors.clear();
    }

    /// Notes that the port at `i` changed.
    fn touch(&mut self, i: usize) {
        self.retimed.insert(i);
        if let Some(c) = &mut self.changes {
            c.ports.insert(i);
        }
    }

    /// Every port, oldest first.
    pub(crate) fn ports(&self) -> &[Port] {
        &self.ports
    }

    /// One port.
    pub(crate) fn port(&self, port_ref: &str) -> Option<&Port> {
        let r = Ref::parse(port_ref, "port_ref").ok()?;
        self.index.get(&r).and_then(|&i| self.ports.get(i))
    }

    /// Submits a port-in; the receipt's port reference.
    pub(crate) fn submit(
        &mut self,
        req: &SubmitPortIn,
        caller: Option<&Ref>,
        now: u64,
        out: &mut Vec<HubMessage>,
    ) -> Result<Ref, Refusal> {
        if caller.is_some_and(|op| *op != req.recipient) {
            return Err(Refusal::forbidden());
        }
        if let Some(asked) = req.requested_at {
            timetable::requested(req.market, now, asked.unix_ms()).map_err(Refusal::date)?;
        }
        let hub_check = if req.market == Market::Us {
            req.account
                .is_none()
                .then_some(RejectReason::AccountMismatch)
        } else {
            req.credential
                .is_none()
                .then_some(RejectReason::CredentialInvalid)
        };
        let hub_check = hub_check.or_else(|| {
            self.is_open(&req.number)
                .then_some(RejectReason::PendingPortExists)
        });
        let port_ref = self.ids.port_ref(req.market);
        let behaviour = self.donors.get(req.number.as_str());
        let mut port = Port {
            port_ref: port_ref.clone(),
            direction: Direction::In,
            market: req.market,
            number: req.number.clone(),
            donor: req.donor.clone(),
            recipient: req.recipient.clone(),
            reference: Some(req.reference.clone()),
            state: PortState::Received,
            requested_at: req.requested_at.map(|t| t.unix_ms()),
            timetable: None,
            timer: None,
            respond_by: None,
            resolution: Resolution::default(),
            cutover_message: None,
            acknowledged: Vec::new(),
            completed_at: None,
            returned_at: None,
            sequence: 0,
            timeline: Vec::new(),
            behaviour,
        };
        match hub_check {
            Some(reason) => {
                port.state = PortState::Rejected;
                out.push(port.message(
                    self.ids.message(),
                    HubEvent::Rejected { reason },
                    now,
                    Actor::Hub,
                ));
            }
            None => {
                let at = now.saturating_add(port.behaviour.delay_ms);
                port.timer = Some((at, Timer::DonorAnswer));
            }
        }
        self.insert(port);
        self.advance(now, out);
        Ok(port_ref)
    }

    /// Cancels a port before its lock.
    pub(crate) fn cancel(
        &mut self,
        req: &CancelPort,
        caller: Option<&Ref>,
        now: u64,
        out: &mut Vec<HubMessage>,
    ) -> Result<(), Refusal> {
        let (port, ids) = self.find(&req.port_ref, caller)?;
        if port.state.is_locked() {
            return Err(Refusal::port_locked());
        }
        port.state = PortState::Cancelled;
        port.timer = None;
        let actor = port.direction.receiver_actor();
        out.push(port.message(ids.message(), HubEvent::Cancelled, now, actor));
        Ok(())
    }

    /// Moves a scheduled port to a new due time.
    pub(crate) fn reschedule(
        &mut self,
        req: &ReschedulePort,
        caller: Option<&Ref>,
        now: u64,
        out: &mut Vec<HubMessage>,
    ) -> Result<(), Refusal> {
        let (port, ids) = self.find(&req.port_ref, caller)?;
        if port.state.is_locked() {
            return Err(Refusal::port_locked());
        }
        if port.state != PortState::Scheduled {
            return Err(Refusal::invalid_state());
        }
        let asked = req.requested_at.unix_ms();
        let tt = timetable::requested(port.market, now, asked).map_err(Refusal::date)?;
        port.requested_at = Some(asked);
        port.timetable = Some(tt);
        port.timer = Some((tt.lock_at, Timer::Lock));
        out.push(port.message(ids.message(), HubEvent::Scheduled, now, Actor::Hub));
        Ok(())
    }

    /// The receiver's answer to a port-out request, before `respond_by`.
    pub(crate) fn answer(
        &mut self,
        req: &AnswerPortOut,
        caller: Option<&Ref>,
        now: u64,
        out: &mut Vec<HubMessage>,
    ) -> Result<(), Refusal> {
        let (port, ids) = self.find(&req.port_ref, caller)?;
        let open = port.direction == Direction::Out
            && port.state == PortState::AwaitingAnswer
            && port.respond_by.is_some_and(|by| now < by);
        if !open {
            return Err(Refusal::invalid_state());
        }
        match &req.decision {
            PortOutDecision::Accept => schedule(port, ids.message(), now, Actor::Hub, out),
            PortOutDecision::Reject(reason) => {
                port.state = PortState::Rejected;
                port.timer = None;
                let event = HubEvent::Rejected {
                    reason: reason.clone(),
                };
                out.push(port.message(ids.message(), event, now, Actor::Donor));
            }
        }
        // China locks at once.
        self.advance(now, out);
        Ok(())
    }

    /// Records an acknowledgement; the receiver's acknowledgement of the cutover
    /// completes the port (the simulated other side acknowledges at once).
    pub(crate) fn acknowledge(
        &mut self,
        req: &Acknowledge,
        caller: Option<&Ref>,
        now: u64,
        out: &mut Vec<HubMessage>,
    ) -> Result<(), Refusal> {
        let (port, ids) = self.find(&req.port_ref, caller)?;
        if !port.has_message(&req.message_id) {
            return Err(Refusal::new(404, HubErrorCode::UnknownMessage));
        }
        if !port.acknowledged.contains(&req.message_id) {
            port.acknowledged.push(req.message_id.clone());
        }
        if port.state == PortState::Cutover
            && port.cutover_message.as_ref() == Some(&req.message_id)
        {
            port.state = PortState::Completed;
            port.completed_at = Some(now);
            out.push(port.message(ids.message(), HubEvent::Completed, now, Actor::Hub));
        }
        Ok(())
    }

    /// Records the receiver giving a ported-in number back to its range holder: only for
    /// a completed port-in of the caller, with that port's number and range holder. A
    /// second return of the same port keeps the first time.
    pub(crate) fn return_number(
        &mut self,
        req: &ReturnNumber,
        caller: Option<&Ref>,
        now: u64,
    ) -> Result<(), Refusal> {
        let (port, _) = self.find(&req.port_ref, caller)?;
        if port.direction != Direction::In || port.state != PortState::Completed {
            return Err(Refusal::invalid_state());
        }
        let invalid = |field| Refusal {
            field: Some(field),
            ..Refusal::new(422, HubErrorCode::InvalidRequest)
        };
        if port.number != req.number {
            return Err(invalid("number"));
        }
        if *port.range_holder() != req.range_holder {
            return Err(invalid("range_holder"));
        }
        port.returned_at.get_or_insert(now);
        Ok(())
    }

    /// Opens a port-out: the hub asks the receiver for `cmd.number`.
    pub(crate) fn port_out_request(
        &mut self,
        cmd: PortOutCommand,
        default_donor: &Ref,
        now: u64,
        out: &mut Vec<HubMessage>,
    ) -> Result<Ref, String> {
        if self.is_open(&cmd.number) {
            return Err("number: another port of this number is open".into());
        }
        let respond_by = cmd.respond_by.unwrap_or(now + DEFAULT_RESPOND_MS);
        if respond_by <= now {
            return Err("respond_by: not after the simulator's time".into());
        }
        let requested_at = cmd
            .requested_at
            .unwrap_or_else(|| timetable::earliest(cmd.market, now).due_at);
        let recipient = match cmd.recipient {
            Some(r) => r,
            None => Ref::parse("SIM-RECIPIENT", "recipient").map_err(|e| e.to_string())?,
        };
        let port_ref = self.ids.port_ref(cmd.market);
        let mut port = Port {
            port_ref: port_ref.clone(),
            direction: Direction::Out,
            market: cmd.market,
            number: cmd.number.clone(),
            donor: cmd.donor.unwrap_or_else(|| default_donor.clone()),
            recipient: recipient.clone(),
            reference: None,
            state: PortState::AwaitingAnswer,
            requested_at: Some(requested_at),
            timetable: None,
            timer: Some((respond_by, Timer::RespondBy)),
            behaviour: Default::default(),
            respond_by: Some(respond_by),
            resolution: Resolution::default(),
            cutover_message: None,
            acknowledged: Vec::new(),
            completed_at: None,
            returned_at: None,
            sequence: 0,
            timeline: Vec::new(),
        };
        let request = PortOutRequest {
            market: cmd.market,
            number: cmd.number,
            recipient,
            credential: cmd.credential,
            account: cmd.account,
            requested_at: super::clock::utc(requested_at),
            respond_by: super::clock::utc(respond_by),
        };
        let event = HubEvent::PortOutRequest(Box::new(request));
        out.push(port.message(self.ids.message(), event, now, Actor::Recipient));
        self.insert(port);
        Ok(port_ref)
    }

    /// The other side asks to cancel `port_ref`: the receiver may concur with a cancel
    /// until the windows close (at the lock at the latest).
    pub(crate) fn cancel_request(
        &mut self,
        port_ref: &str,
        now: u64,
        out: &mut Vec<HubMessage>,
    ) -> Result<(), String> {
        let i = Ref::parse(port_ref, "port_ref")
            .ok()
            .and_then(|r| self.index.get(&r).copied())
            .ok_or("port: unknown")?;
        self.touch(i);
        let port = self.ports.get_mut(i).ok_or("port: unknown")?;
        if !matches!(
            port.state,
            PortState::Received | PortState::Scheduled | PortState::Conflict
        ) {
            return Err("port: no cancel request in this state".into());
        }
        let mut closes = now.saturating_add(timetable::CANCEL_WINDOWS_MS);
        if port.state == PortState::Scheduled {
            closes = closes.min(port.timetable.map_or(closes, |t| t.lock_at));
        }
        port.state = PortState::CancelPending;
        port.timer = Some((closes, Timer::CancelWindowEnd));
        let actor = port.direction.other_actor();
        out.push(port.message(self.ids.message(), HubEvent::CancelRequest, now, actor));
        Ok(())
    }

    /// Whether a port of `number` is open.
    fn is_open(&self, number: &Msisdn) -> bool {
        self.by_number.get(number).is_some_and(|at| {
            at.iter()
                .filter_map(|&i| self.ports.get(i))
                .any(|p| !p.state.is_final())
        })
    }

    /// The caller's port `port_ref` (any port when no operators are configured), and
    /// the id counters beside it.
    fn find(
        &mut self,
        port_ref: &Ref,
        caller: Option<&Ref>,
    ) -> Result<(&mut Port, &mut Ids), Refusal> {
        let i = *self.index.get(port_ref).ok_or_else(Refusal::unknown_port)?;
        let port = self.ports.get(i).ok_or_else(Refusal::unknown_port)?;
        let party = match port.direction {
            Direction::In => &port.recipient,
            Direction::Out => &port.donor,
        };
        if caller.is_some_and(|op| op != party) {
            return Err(Refusal::unknown_port());
        }
        self.touch(i);
        let port = self.ports.get_mut(i).ok_or_else(Refusal::unknown_port)?;
        Ok((port, &mut self.ids))
    }

    fn insert(&mut self, port: Port) {
        self.touch(self.ports.len());
        self.place(port);
    }

    /// Appends `port` and indexes it by reference and number.
    fn place(&mut self, port: Port) {
        let i = self.ports.len();
        self.index.insert(port.port_ref.clone(), i);
        self.by_number
            .entry(port.number.clone())
            .or_default()
            .push(i);
        self.retimed.insert(i);
        self.ports.push(port);
    }
}

/// The hub's id counters: port references and message ids are never reused.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ids {
    ports: u64,
    messages: u64,
}

impl Ids {
    /// Counters that go on from `ports` port references and `messages` message ids.
    pub(crate) fn resume(ports: u64, messages: u64) -> Self {
        Self { ports, messages }
    }

    /// How many port references and message ids were handed out.
    pub(crate) fn counts(self) -> (u64, u64) {
        (self.ports, self.messages)
    }

    /// A fresh port reference, prefixed per market (`HUB-UK-000001`, `NPAC-SV-000002`).
    fn port_ref(&mut self, market: Market) -> Ref {
        self.ports += 1;
        let prefix = match market {
            Market::Cn => "HUB-CN",
            Market::Uk => "HUB-UK",
            Market::Us => "NPAC-SV",
            Market::EuFr => "EGP-FR",
            Market::EuGeneric => "HUB-EU",
        };
        make_ref(&format!("{prefix}-{:06}", self.ports))
    }

    /// A fresh message id (`m-000001`, …).
    pub(crate) fn message(&mut self) -> Ref {
        self.messages += 1;
        make_ref(&format!("m-{:06}", self.messages))
    }
}

/// Accepts a port: schedules it (as asked if still possible, else the earliest) and
/// arms the lock; China's lock is the processing time, so it fires at once.
pub(crate) fn schedule(port: &mut Port, id: Ref, at: u64, actor: Actor, out: &mut Vec<HubMessage>) {
    let tt = timetable::requested_or_earliest(port.market, at, port.requested_at);
    port.timetable = Some(tt);
    port.state = PortState::Scheduled;
    port.timer = Some((tt.lock_at, Timer::Lock));
    out.push(port.message(id, HubEvent::Scheduled, at, actor));
}

/// A reference the simulator generated: short printable ASCII, so always valid.
fn make_ref(s: &str) -> Ref {
    Ref::parse(s, "ref").expect("generated references are short printable ASCII")
}

#[path = "timers.rs"]
mod timers;

#[cfg(test)]
#[path = "hub_tests.rs"]
pub(crate) mod tests;

//! Time passing at the hub: every port has at most one pending timer; [`Hub::advance`]
//! fires the due ones in time order (each message stamped with its timer's instant, not
//! with the time the clock was moved to), so a jump of a week replays the week. The
//! pending timers are indexed by instant (a tick costs what fires, not a scan of every
//! port): a port's entry is (re)made after it is touched and a stale one dropped when met.
//!
//! | Timer | Fires | Then |
//! |---|---|---|
//! | donor answer | the donor's delay after the submit | `accepted` + `scheduled`; `rejected`; or `accepted` + `scheduled` + `conflict` |
//! | lock | `lock_at` | `locked` |
//! | cutover | `due_at` | `cutover` (completes on the receiver's acknowledgement) |
//! | conflict end | 6 h after the `conflict` | a new `scheduled` (from then), or `cancelled` |
//! | cancel windows | 18 h after a `cancel_request`, the lock at the latest | US: `conflict` (cause `cancel_window_expired`, then cancelled); elsewhere `cancelled` |
//! | `respond_by` | the port-out request's deadline, unanswered | the hub's rule: the port goes ahead (`scheduled`) |

use super::super::donor::{Outcome, Resolution};
use super::super::port::{PortState, Timer};
use super::super::timetable::CONFLICT_MS;
use super::{Hub, schedule};
use adapters::porting::{Actor, Code, HubEvent, HubMessage, Market};

impl Hub {
    /// Fires every timer due at or before `now`, earliest first.
    pub(crate) fn advance(&mut self, now: u64, out: &mut Vec<HubMessage>) {
        while let Some((i, at, timer)) = self.next_due(now) {
            self.fire(i, at, timer, out);
        }
    }

    /// When the next timer fires, if any.
    #[cfg(test)]
    pub(crate) fn next_timer(&self) -> Option<u64> {
        self.ports
            .iter()
            .filter_map(|p| p.timer.map(|(at, _)| at))
            .min()
    }

    /// The earliest timer due at or before `now` (the lowest position first among
    /// equals), taken out of the index.
    fn next_due(&mut self, now: u64) -> Option<(usize, u64, Timer)> {
        let (at, i, timer) = self.earliest().filter(|(at, ..)| *at <= now)?;
        self.timers.pop_first();
        Some((i, at, timer))
    }

    /// The earliest pending timer, from the index brought up to date: the ports touched
    /// since are (re)indexed and stale entries met first are dropped.
    pub(crate) fn earliest(&mut self) -> Option<(u64, usize, Timer)> {
        for i in std::mem::take(&mut self.retimed) {
            if let Some((at, _)) = self.ports.get(i).and_then(|p| p.timer) {
                self.timers.insert((at, i));
            }
        }
        while let Some(&(at, i)) = self.timers.first() {
            match self.ports.get(i).and_then(|p| p.timer) {
                Some((set, timer)) if set == at => return Some((at, i, timer)),
                // Stale: the port's timer changed or went since this entry.
                _ => {
                    self.timers.pop_first();
                }
            }
        }
        None
    }

    fn fire(&mut self, i: usize, at: u64, timer: Timer, out: &mut Vec<HubMessage>) {
        self.touch(i);
        let Some(port) = self.ports.get_mut(i) else {
            return;
        };
        let ids = &mut self.ids;
        port.timer = None;
        match timer {
            Timer::DonorAnswer => match port.behaviour.outcome.clone() {
                Outcome::Accept => {
                    out.push(port.message(ids.message(), HubEvent::Accepted, at, Actor::Donor));
                    schedule(port, ids.message(), at, Actor::Hub, out);
                }
                Outcome::Reject(reason) => {
                    port.state = PortState::Rejected;
                    let event = HubEvent::Rejected { reason };
                    out.push(port.message(ids.message(), event, at, Actor::Donor));
                }
                Outcome::Conflict { cause, resolution } => {
                    out.push(port.message(ids.message(), HubEvent::Accepted, at, Actor::Donor));
                    schedule(port, ids.message(), at, Actor::Hub, out);
                    port.state = PortState::Conflict;
                    port.resolution = resolution;
                    port.timer = Some((at.saturating_add(CONFLICT_MS), Timer::ConflictEnd));
                    let event = HubEvent::Conflict { cause };
                    out.push(port.message(ids.message(), event, at, Actor::Donor));
                }
            },
            Timer::Lock => {
                port.state = PortState::Locked;
                if let Some(tt) = port.timetable {
                    port.timer = Some((tt.due_at, Timer::Cutover));
                }
                out.push(port.message(ids.message(), HubEvent::Locked, at, Actor::Hub));
            }
            Timer::Cutover => {
                port.state = PortState::Cutover;
                let id = ids.message();
                port.cutover_message = Some(id.clone());
                out.push(port.message(id, HubEvent::Cutover, at, Actor::Hub));
            }
            Timer::ConflictEnd => match port.resolution {
                Resolution::Resolve => {
                    // The dispute is settled: the earliest schedule from now.
                    port.requested_at = None;
                    schedule(port, ids.message(), at, Actor::Hub, out);
                }
                Resolution::Cancel => {
                    port.state = PortState::Cancelled;
                    out.push(port.message(ids.message(), HubEvent::Cancelled, at, Actor::Hub));
                }
            },
            Timer::CancelWindowEnd => {
                if port.market == Market::Us {
                    port.state = PortState::Conflict;
                    port.resolution = Resolution::Cancel;
                    port.timer = Some((at.saturating_add(CONFLICT_MS), Timer::ConflictEnd));
                    let cause = Code::parse("cancel_window_expired", "cause")
                        .expect("a valid code literal");
                    let event = HubEvent::Conflict { cause };
                    out.push(port.message(ids.message(), event, at, Actor::Hub));
                } else {
                    port.state = PortState::Cancelled;
                    out.push(port.message(ids.message(), HubEvent::Cancelled, at, Actor::Hub));
                }
            }
            Timer::RespondBy => {
                // Unanswered: the hub's rule lets the port go ahead (a UK PAC or a US
                // WPR past T2 is the donor's consent).
                schedule(port, ids.message(), at, Actor::Hub, out);
            }
        }
    }
}

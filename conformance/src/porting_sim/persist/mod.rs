//! The porting hub simulator's state file: every port (its state, timetable, pending
//! timer, donor behaviour, sequence, timeline and acknowledged messages), the id counters,
//! the donor book, the clock (its mode and the hub's time, so a driven clock stays where
//! it was set and a real-time one keeps its offset from the wall clock), the first answer
//! to every request id still remembered (a request repeated after a restart gets it
//! back), and the hub messages not yet delivered.
//!
//! What one step under the simulator's lock changed is handed to the writer in one go,
//! with the messages it made, before those are queued for delivery; an answer waits until
//! it is kept. A message leaves the file once delivered or given up, so a restart
//! redelivers what was in flight (at least once: the receiver dedupes by message id).
//!
//! Faults, counters, the request journal, the delivery log and the receiver URL belong to
//! one run (the sandbox's receiver port changes between runs).

mod records;

pub(crate) use records::Pending;

use super::clock::{ClockMode, SimClock, wall_ms};
use super::donor::DonorBook;
use super::hub::{Hub, Ids};
use super::replay::{Kept, ReplayCache};
use crate::common::state_file::{Change, StateFile, StateFileError, Table};
use records::{AnswerRecord, ClockRecord, DonorsRecord, PortRecord};
use std::path::Path;

/// Ports by their position in creation order (zero-padded, so key order is that order).
const PORTS: Table = Table::new("ports");
/// First answers by their arrival number (zero-padded).
const ANSWERS: Table = Table::new("answers");
/// Messages to deliver by a zero-padded sequence number (their order).
const PENDING: Table = Table::new("pending_messages");
/// The clock, under [`ONLY`].
const CLOCK: Table = Table::new("clock");
/// The donor book, under [`ONLY`].
const DONORS: Table = Table::new("donors");
/// The key of a table's one record.
const ONLY: &str = "current";
/// The meta counters holding the id counters.
const PORT_IDS: &str = "port_ids";
const MESSAGE_IDS: &str = "message_ids";

/// What a state file gives back at start.
pub(crate) struct Resumed {
    /// The file.
    pub(crate) file: StateFile,
    /// The hub's part.
    pub(crate) kept: KeptHub,
    /// Messages not yet delivered, in order, with their keys.
    pub(crate) pending: Vec<(u64, Pending)>,
}

/// The hub, its answers and its clock as a state file kept them.
pub(crate) struct KeptHub {
    /// The ports, counters and donors (empty for a new file), tracked for the file.
    pub(crate) hub: Hub,
    /// The first answers kept.
    pub(crate) answers: Vec<Kept>,
    /// The clock's mode and the hub's time now, if the file had a clock.
    pub(crate) clock: Option<(ClockMode, u64)>,
}

/// Opens (or creates) the file at `path` and reads it whole.
pub(crate) fn open(path: &Path) -> Result<Resumed, StateFileError> {
    let file = StateFile::open(path)?;
    let bad = |what: String| StateFileError::Format {
        path: path.to_owned(),
        reason: what,
    };
    let mut ports = Vec::new();
    for (key, record) in file.load::<PortRecord>(PORTS)? {
        if key != port_key(ports.len()) {
            return Err(bad(format!("port {key}: out of creation order")));
        }
        let port = record
            .into_port()
            .map_err(|field| bad(format!("port {key}: {field} does not decode")))?;
        ports.push(port);
    }
    let donors = match file.load::<DonorsRecord>(DONORS)?.pop() {
        None => DonorBook::default(),
        Some((_, record)) => record
            .into_book()
            .map_err(|n| bad(format!("donors: the behaviour of {n} does not decode")))?,
    };
    let ids = Ids::resume(file.counter(PORT_IDS)?, file.counter(MESSAGE_IDS)?);
    let mut answers = Vec::new();
    for (key, record) in file.load::<AnswerRecord>(ANSWERS)? {
        let seq = number(&key).ok_or_else(|| bad(format!("answer {key}: not a number")))?;
        let kept = record
            .into_kept(seq)
            .map_err(|field| bad(format!("answer {key}: {field} does not decode")))?;
        answers.push(kept);
    }
    let mut pending = Vec::new();
    for (key, record) in file.load::<Pending>(PENDING)? {
        let seq = number(&key).ok_or_else(|| bad(format!("message {key}: not a number")))?;
        pending.push((seq, record));
    }
    let clock = file
        .load::<ClockRecord>(CLOCK)?
        .pop()
        .map(|(_, c)| c.resume(wall_ms()));
    Ok(Resumed {
        file,
        kept: KeptHub {
            hub: Hub::restore(ports, ids, donors),
            answers,
            clock,
        },
        pending,
    })
}

fn number(key: &str) -> Option<u64> {
    key.parse().ok()
}

/// The key of the port at `position`.
fn port_key(position: usize) -> String {
    format!("{position:010}")
}

/// The key of a kept answer or a pending message.
fn seq_key(seq: u64) -> String {
    format!("{seq:020}")
}

/// The records of what changed in the hub, the answers and the clock since the last
/// call, and of the `pending` messages just planned, for one commit.
pub(crate) fn changes(
    hub: &mut Hub,
    replay: &mut ReplayCache,
    clock: &mut SimClock,
    pending: impl IntoIterator<Item = (u64, Pending)>,
) -> Vec<Change> {
    let mut out = hub_changes(hub);
    let answers = replay.take_changes();
    out.extend(
        answers
            .kept
            .iter()
            .filter_map(|k| Change::put(ANSWERS, seq_key(k.seq), &AnswerRecord::of(k))),
    );
    out.extend(
        answers
            .dropped
            .iter()
            .map(|&seq| Change::delete(ANSWERS, seq_key(seq))),
    );
    if clock.take_changed() {
        out.extend(Change::put(CLOCK, ONLY, &ClockRecord::of(clock, wall_ms())));
    }
    out.extend(
        pending
            .into_iter()
            .filter_map(|(seq, p)| Change::put(PENDING, seq_key(seq), &p)),
    );
    out
}

/// The records of what changed in `hub`: forgotten ports first, then every port that
/// changed, the id counters with them, and the donor book.
fn hub_changes(hub: &mut Hub) -> Vec<Change> {
    let changed = hub.take_changes();
    let mut out: Vec<Change> = (0..changed.forgotten)
        .map(|i| Change::delete(PORTS, port_key(i)))
        .collect();
    out.extend(changed.ports.iter().filter_map(|&i| {
        let port = hub.ports().get(i)?;
        Change::put(PORTS, port_key(i), &PortRecord::of(port))
    }));
    if !changed.ports.is_empty() {
        let (ports, messages) = hub.ids.counts();
        out.push(StateFile::set_counter(PORT_IDS, ports));
        out.push(StateFile::set_counter(MESSAGE_IDS, messages));
    }
    if changed.donors {
        out.extend(Change::put(DONORS, ONLY, &DonorsRecord::of(&hub.donors)));
    }
    out
}

/// The removal of pending message `seq`, once it was delivered or given up.
pub(crate) fn delivered(seq: u64) -> Change {
    Change::delete(PENDING, seq_key(seq))
}

#[cfg(test)]
mod tests;

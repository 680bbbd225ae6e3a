//! Every request that reached a hub endpoint, in arrival order, without secrets: so a
//! test can assert what was (or was not) sent. Bounded: the oldest entries go first.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Entries kept.
const CAPACITY: usize = 100_000;

/// One request as the hub saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    /// Arrival order, from 0.
    pub seq: u64,
    /// The hub's time when it arrived.
    pub at: String,
    /// The operation (`submit_port_in`, `cancel`, …).
    pub operation: String,
    /// The request's id, if the body decoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The port it names (a submit's: the new port), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_ref: Option<String>,
    /// The HTTP status answered; `None` when the connection was held or cut.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The problem code of a refusal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Whether it was a repeat answered with its first answer.
    pub replay: bool,
    /// The injected fault, if one fired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
}

/// The journal.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    entries: VecDeque<RequestRecord>,
    next: u64,
}

impl Journal {
    /// Appends `r`, numbering it.
    pub(crate) fn push(&mut self, mut r: RequestRecord) {
        r.seq = self.next;
        self.next += 1;
        if self.entries.len() >= CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back(r);
    }

    /// Every entry kept, oldest first.
    pub(crate) fn entries(&self) -> Vec<RequestRecord> {
        self.entries.iter().cloned().collect()
    }
}

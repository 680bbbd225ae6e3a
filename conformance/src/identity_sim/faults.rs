//! What can be injected: scripted rules, tried in insertion order; the first that matches
//! fires and counts down. A rule may be limited to one ID number (which prints as `***`).

use adapters::identity::{Code, IdNumber, RejectCode};
use std::time::Duration;

/// What a firing rule does to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Decide `reject` with this code, whatever the checks say.
    Reject(RejectCode),
    /// Decide `flag` with this reason code.
    Flag(Code),
    /// Never answer; the connection is held until the client gives up (a timeout).
    Hang,
    /// Answer this HTTP status (e.g. 503 or 429, sent with `Retry-After: 1`; or 401)
    /// without deciding anything.
    Status(u16),
    /// Answer 200 with a body that is not a valid answer.
    Malformed,
    /// Wait this long, then proceed normally.
    Delay(Duration),
}

impl Action {
    /// Whether the action is a decision (kept for replays) rather than a transport fault.
    pub(crate) fn is_decision(&self) -> bool {
        matches!(self, Self::Reject(_) | Self::Flag(_))
    }
}

/// A scripted injection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// What to do.
    pub action: Action,
    /// Only requests for this ID number (any when `None`).
    pub id_number: Option<IdNumber>,
    /// How many matching requests it applies to; 0 never fires, `u32::MAX` is for good.
    pub times: u32,
}

impl Rule {
    /// A rule firing on the next request.
    pub fn once(action: Action) -> Self {
        Self::times(action, 1)
    }

    /// A rule firing on the next `times` requests.
    pub fn times(action: Action, times: u32) -> Self {
        Self {
            action,
            id_number: None,
            times,
        }
    }

    /// A rule firing on every request from now on (until cleared).
    pub fn always(action: Action) -> Self {
        Self::times(action, u32::MAX)
    }

    /// Limits the rule to requests for `id_number`.
    pub fn for_id(mut self, id_number: IdNumber) -> Self {
        self.id_number = Some(id_number);
        self
    }

    /// Whether the rule applies to a request for `id`; decisions never apply to replays,
    /// which get their first decision back.
    pub(crate) fn matches(&self, id: &IdNumber, replay: bool) -> bool {
        self.id_number.as_ref().is_none_or(|n| n == id) && !(replay && self.action.is_decision())
    }
}

impl crate::common::fault_rates::CountedRule for Rule {
    fn remaining(&mut self) -> &mut u32 {
        &mut self.times
    }
}

//! Counters, for test assertions: requests by operation and outcome, injected faults,
//! messages produced and what became of their deliveries.

use super::faults::{Action, CallbackAction, Operation};
use serde::{Deserialize, Serialize};

/// Requests per operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationCounts {
    /// `submit_port_in`.
    pub submit_port_in: u64,
    /// `cancel`.
    pub cancel: u64,
    /// `reschedule`.
    pub reschedule: u64,
    /// `answer_port_out`.
    pub answer_port_out: u64,
    /// `acknowledge`.
    pub acknowledge: u64,
    /// `return_number`.
    #[serde(default)]
    pub return_number: u64,
}

impl OperationCounts {
    fn slot(&mut self, op: Operation) -> &mut u64 {
        match op {
            Operation::SubmitPortIn => &mut self.submit_port_in,
            Operation::Cancel => &mut self.cancel,
            Operation::Reschedule => &mut self.reschedule,
            Operation::AnswerPortOut => &mut self.answer_port_out,
            Operation::Acknowledge => &mut self.acknowledge,
            Operation::ReturnNumber => &mut self.return_number,
        }
    }
}

/// Injected faults that fired.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InjectedCounts {
    /// Delayed requests.
    pub delay: u64,
    /// Requests held unanswered.
    pub timeout: u64,
    /// Requests answered 503.
    pub unavailable: u64,
    /// Requests answered 429.
    pub rate_limited: u64,
    /// Requests applied, then answered 500.
    pub error_after_apply: u64,
    /// Requests applied, then cut off.
    pub drop_after_apply: u64,
    /// Messages delivered twice.
    pub duplicate: u64,
    /// Messages held back behind the next.
    pub reorder: u64,
}

impl InjectedCounts {
    pub(crate) fn request(&mut self, a: Action) {
        *match a {
            Action::Delay { .. } => &mut self.delay,
            Action::Timeout => &mut self.timeout,
            Action::Unavailable => &mut self.unavailable,
            Action::RateLimited => &mut self.rate_limited,
            Action::ErrorAfterApply => &mut self.error_after_apply,
            Action::DropAfterApply => &mut self.drop_after_apply,
        } += 1;
    }

    pub(crate) fn callback(&mut self, a: CallbackAction) {
        *match a {
            CallbackAction::Duplicate => &mut self.duplicate,
            CallbackAction::Reorder => &mut self.reorder,
        } += 1;
    }
}

/// Everything counted since start (or the last reset).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortingCounts {
    /// Requests to the hub's paths (any method).
    pub requests: u64,
    /// Decoded requests, per operation.
    pub operations: OperationCounts,
    /// New requests answered with a receipt.
    pub receipts: u64,
    /// New requests refused (4xx with a code, after decoding).
    pub refused: u64,
    /// Repeats answered with their first answer.
    pub replays: u64,
    /// Request ids reused for another request (409).
    pub reused: u64,
    /// Refused before decoding or for the transport (400, 403, 405, 413, 415).
    pub invalid: u64,
    /// Messages the hub produced.
    pub messages: u64,
    /// Deliveries answered 2xx (messages, each counted once however many shared a POST).
    pub delivered: u64,
    /// POSTs answered 2xx: one per message sent alone, one per batch.
    #[serde(default)]
    pub delivered_posts: u64,
    /// Deliveries given up (attempts exhausted, 400, or no receiver URL).
    pub undelivered: u64,
    /// Injected faults.
    pub injected: InjectedCounts,
}

impl PortingCounts {
    pub(crate) fn operation(&mut self, op: Operation) {
        *self.operations.slot(op) += 1;
    }
}

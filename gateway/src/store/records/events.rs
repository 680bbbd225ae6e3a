//! The event log.

use serde::{Deserialize, Serialize};

/// What happened, for the event log (audit trail and, later, webhooks).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// Order created and inventory reserved.
    OrderCreated,
    /// A southbound step is about to be attempted.
    StepSent {
        /// Step name.
        step: String,
        /// Attempt number.
        attempt: u32,
    },
    /// A southbound step answered.
    StepAnswered {
        /// Step name.
        step: String,
        /// Attempt number.
        attempt: u32,
        /// `ok: <outcome>` or the error.
        result: String,
    },
    /// The order reached `active`.
    OrderActive,
    /// A lifecycle order reached `completed`.
    OrderCompleted,
    /// The order reached `failed` (after compensation).
    OrderFailed {
        /// The error code.
        code: String,
    },
    /// The SM-DP+ reported download progress for the order's profile.
    EsimProgress {
        /// Notification point id.
        point: u32,
        /// Status as sent.
        status: String,
        /// `subject/reason` of a failure.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
    },
    /// A released eSIM was never downloaded: the order is being undone.
    EsimExpired,
    /// A port-in's bookkeeping (parked, woken by an item or its deadline, an item
    /// applied).
    Port {
        /// What happened.
        what: String,
    },
    /// An administrative change.
    Admin {
        /// What changed.
        what: String,
    },
}

/// One event-log entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Global, gap-free sequence number.
    pub seq: u64,
    /// Unix ms.
    pub at_ms: u64,
    /// Tenant concerned.
    pub tenant: String,
    /// Order concerned, if any.
    pub order_id: Option<String>,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

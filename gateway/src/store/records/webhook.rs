//! Webhook endpoints and the delivery outbox: one delivery row per (endpoint, event),
//! written in the commit that records the event, updated by every attempt.

use super::public_event::{EventType, WireEvent};
use crate::crypto::Sealed;
use serde::{Deserialize, Serialize};

/// A tenant's webhook endpoint (`webhook_endpoints` table).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    /// `we_` + 26 base32 characters.
    pub id: String,
    /// Owning tenant.
    pub tenant: String,
    /// Where deliveries are posted.
    pub url: String,
    /// Types delivered; empty means every type.
    pub event_types: Vec<EventType>,
    /// Signing secrets, oldest first; each sealed under the data key, never in clear.
    pub secrets: Vec<EndpointSecret>,
    /// Set once the endpoint was disabled (deliveries kept failing).
    pub disabled: Option<Disabled>,
    /// Unix ms of creation.
    pub created_at_ms: u64,
}

/// One signing secret of an endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointSecret {
    /// The key bytes, sealed with [`secret_context`].
    pub sealed: Sealed,
    /// Unix ms it was created.
    pub created_at_ms: u64,
    /// Unix ms after which it no longer signs (set when a newer secret replaces it).
    pub expires_at_ms: Option<u64>,
}

/// Why and when an endpoint stopped receiving deliveries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disabled {
    /// What happened, for the operator.
    pub reason: String,
    /// Unix ms.
    pub at_ms: u64,
}

impl WebhookEndpoint {
    /// True if events of type `t` go to this endpoint (enabled or not).
    pub fn wants(&self, t: EventType) -> bool {
        self.event_types.is_empty() || self.event_types.contains(&t)
    }

    /// The secrets that sign at `now_ms`, newest first.
    pub fn live_secrets(&self, now_ms: u64) -> impl Iterator<Item = &EndpointSecret> {
        self.secrets
            .iter()
            .rev()
            .filter(move |s| s.expires_at_ms.is_none_or(|at| at > now_ms))
    }
}

/// The sealing context of an endpoint's secrets: a sealed secret copied onto another
/// endpoint does not open.
pub fn secret_context(endpoint_id: &str) -> String {
    format!("webhook/{endpoint_id}/secret")
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its turn or its next attempt.
    Pending,
    /// A 2xx answer acknowledged it.
    Delivered,
    /// Given up: the retry schedule ran out, or the endpoint was disabled or deleted.
    Failed,
}

impl DeliveryStatus {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }
}

/// One attempt to post an event to an endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptRecord {
    /// Unix ms the attempt started.
    pub at_ms: u64,
    /// The HTTP status, when an answer came.
    pub http_status: Option<u16>,
    /// How long it took, ms.
    pub latency_ms: u64,
    /// Why it failed (never secrets).
    pub error: Option<String>,
    /// The start of the receiver's answer (bounded, lossy UTF-8).
    pub response: Option<String>,
}

/// One event bound for one endpoint (`webhook_deliveries`, key `(endpoint, tenant_seq)`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// The endpoint.
    pub endpoint: String,
    /// The event's tenant sequence number.
    pub event_seq: u64,
    /// The event's id.
    pub event_id: String,
    /// The event's type.
    pub event_type: EventType,
    /// The ordering queue it waits in (the event's subject, or its id when it has none).
    pub queue: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made, over all redeliveries.
    pub attempts: u32,
    /// Attempts made in the current run of the retry schedule (reset by a redelivery).
    pub schedule_attempts: u32,
    /// When the next attempt is due, while it heads its queue.
    pub next_attempt_at_ms: Option<u64>,
    /// The latest attempts, oldest first (bounded by [`MAX_ATTEMPT_RECORDS`]).
    pub log: Vec<AttemptRecord>,
    /// Unix ms the row was written (the event's commit).
    pub created_at_ms: u64,
    /// Unix ms of the last change.
    pub updated_at_ms: u64,
}

/// Most attempts kept per delivery row.
pub const MAX_ATTEMPT_RECORDS: usize = 16;

/// Identifies a delivery.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DeliveryKey {
    /// The endpoint id.
    pub endpoint: String,
    /// The event's tenant sequence number.
    pub event_seq: u64,
}

/// What the dispatcher needs for one attempt, read in one snapshot.
#[derive(Clone, Debug)]
pub struct DeliveryJob {
    /// The delivery row.
    pub delivery: Delivery,
    /// The event to send, as it goes on the wire.
    pub event: WireEvent,
    /// The endpoint (secrets sealed), shared by the jobs of one read.
    pub endpoint: std::sync::Arc<WebhookEndpoint>,
}

/// An attempt's result, as the dispatcher reports it to the store.
#[derive(Clone, Debug)]
pub struct AttemptOutcome {
    /// Which delivery.
    pub key: DeliveryKey,
    /// What happened.
    pub record: AttemptRecord,
    /// A 2xx within the time limit.
    pub delivered: bool,
    /// When to try again after a failure; `None` after a failure gives up and disables
    /// the endpoint.
    pub retry_at_ms: Option<u64>,
    /// Unix ms now.
    pub now_ms: u64,
}

/// The answer to a redelivery request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Redelivery {
    /// Queued for these endpoints.
    Queued(Vec<String>),
    /// No event with that id for the tenant.
    NoEvent,
    /// No enabled endpoint of the tenant takes the event's type.
    NoEndpoint,
}

/// Most webhook endpoints one tenant may have.
pub const MAX_ENDPOINTS_PER_TENANT: usize = 16;

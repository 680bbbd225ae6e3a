//! The activation order: its persisted form and public status. The order is the unit of
//! durability: every state change is one record rewrite committed before anyone acts on it.

use crate::crypto::Sealed;
use serde::{Deserialize, Serialize};
use sim_profiles::{Iccid, Imsi, Msisdn};

mod attention;
mod esim;
mod identity;
mod lifecycle;
mod port;

pub use attention::AttentionReason;
pub use esim::*;
pub use identity::{IdentityStatus, IdentityStep, VerifyTerms, identity_request_id};
pub use lifecycle::*;
pub use port::{
    PortActor, PortIn, PortOut, PortState, PortTransition, Reschedule, port_credential_context,
};

/// The public lifecycle status. `active` and `failed` are terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// SIM and number are reserved for this order; nothing sent southbound yet.
    Reserved,
    /// The HLR/AUC subscriber is being created (possibly waiting to retry).
    HlrProvisioning,
    /// eSIM: the profile is being reserved at the SM-DP+ (ES2+ DownloadOrder).
    EsimOrdering,
    /// eSIM: HLR done; the profile is being confirmed and released (ES2+ ConfirmOrder).
    EsimReleasing,
    /// Provisioned on the HLR (and, for an eSIM, released at the SM-DP+); SIM and number
    /// are assigned.
    Active,
    /// A permanent failure happened; what was created southbound is being removed.
    Compensating,
    /// Failed and compensated; SIM and number are back in the pool (a lifecycle order:
    /// the line is as it was).
    Failed,
    /// A lifecycle order is working on the line's southbound steps.
    InProgress,
    /// A lifecycle order finished: the line changed.
    Completed,
}

impl OrderStatus {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reserved => "reserved",
            Self::HlrProvisioning => "hlr_provisioning",
            Self::EsimOrdering => "esim_ordering",
            Self::EsimReleasing => "esim_releasing",
            Self::Active => "active",
            Self::Compensating => "compensating",
            Self::Failed => "failed",
            Self::InProgress => "in_progress",
            Self::Completed => "completed",
        }
    }

    /// True for `active`, `completed` and `failed`.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Active | Self::Completed | Self::Failed)
    }
}

/// Progress of one southbound step, recorded before it is attempted and after it answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Step {
    /// Not attempted yet.
    Pending,
    /// Attempt `attempt` was sent (or is about to be); its outcome is unknown until recorded.
    Sent {
        /// 1-based attempt number.
        attempt: u32,
    },
    /// Attempt `attempt` failed retryably; the next one is due at `retry_at_ms`.
    RetryWait {
        /// The attempt that failed.
        attempt: u32,
        /// Unix ms when the next attempt is due.
        retry_at_ms: u64,
        /// Why it failed.
        last_error: String,
    },
    /// Finished successfully.
    Done {
        /// Short outcome, e.g. `created` or `already_present`.
        outcome: String,
    },
    /// Failed for good at attempt `attempt`; the order is compensated.
    Failed {
        /// The last attempt.
        attempt: u32,
        /// Why.
        error: String,
    },
}

/// Why an order failed: a stable code plus a human explanation of what to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderError {
    /// Stable snake_case code.
    pub code: String,
    /// What happened and what to do next.
    pub detail: String,
}

/// How the MSISDN was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MsisdnMode {
    /// The gateway picked a free number from the tenant's pool.
    Auto,
    /// The customer chose a specific number from the pool.
    Choose,
    /// A number held by a checkout reservation.
    Reservation,
    /// The customer's own number, ported in from another operator.
    PortIn,
}

/// A persisted order: an activation, or a lifecycle operation on a line (`kind`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// `act_` (activations) or `ord_` (lifecycle orders) + 26 base32 characters.
    pub id: String,
    /// What the order does.
    #[serde(default)]
    pub kind: OrderKind,
    /// Owning tenant.
    pub tenant: String,
    /// Public status.
    pub status: OrderStatus,
    /// The reserved card.
    pub iccid: Iccid,
    /// The card's IMSI.
    pub imsi: Imsi,
    /// The reserved number.
    pub msisdn: Msisdn,
    /// How the number was chosen.
    pub msisdn_mode: MsisdnMode,
    /// The tenant's product code.
    pub product: String,
    /// HLR profile id the product maps to.
    pub hlr_profile_id: u32,
    /// Channel metadata from the request (store, terminal, checkout...), not secret.
    pub channel: Option<serde_json::Value>,
    /// Subscriber details from the request, sealed (may hold ID numbers).
    pub subscriber: Option<Sealed>,
    /// What the create commit's compliance checks decided (`None`: no checks ran).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compliance: Option<crate::store::OrderCompliance>,
    /// The identity verification, before any southbound step (`None`: none asked, or not
    /// attempted yet; see [`Order::verify_terms`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentityStep>,
    /// The HLR provisioning step.
    pub hlr: Step,
    /// The compensation step (HLR deprovisioning), once a permanent failure happened.
    pub undo: Option<Step>,
    /// Why the order failed.
    pub error: Option<OrderError>,
    /// Set while an operator must look at the order; `attention` says why.
    pub needs_attention: bool,
    /// Why the order needs attention (empty in records written before reasons existed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attention: Vec<AttentionReason>,
    /// The eSIM part of the order; `None` for a physical SIM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub esim: Option<EsimOrder>,
    /// The saga of a lifecycle order; `None` for an activation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<Lifecycle>,
    /// The port-in of an activation that brings the customer's number (`None`: a number
    /// of our own). `msisdn` is then the number the line is on now: the temporary one
    /// until cutover where the market issues one, else the ported number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<PortIn>,
    /// Unix ms of creation.
    pub created_at_ms: u64,
    /// Unix ms of the last change.
    pub updated_at_ms: u64,
    /// Incremented on every persisted change (optimistic concurrency check in the store).
    pub version: u64,
}

impl Order {
    /// The public status: a port-in's `port_…` state while it is open (and its port
    /// outcome once it failed), the order's status otherwise.
    pub fn status_name(&self) -> &'static str {
        match (&self.port, self.status) {
            // A port-out: its own `port_out_…` statuses; `completed` once the line is off.
            (Some(p), s) if p.is_out() => match s {
                OrderStatus::Completed => s.as_str(),
                OrderStatus::Failed if !p.state.is_terminal() => "failed",
                OrderStatus::Failed => p.status_name(),
                // The port ended before the lock; the order ends in its next commit.
                _ if p.state.is_terminal() && p.state != PortState::Completed => "in_progress",
                _ => p.status_name(),
            },
            (Some(_), OrderStatus::Active) | (None, _) => self.status.as_str(),
            // Failed before the port ended (its line on the temporary number failed).
            (Some(p), OrderStatus::Failed) if !p.state.is_terminal() => "failed",
            // The port ended before its lock point; what it reserved is going back (the
            // terminal `port_…` status shows once it is back, as `failed` does).
            (Some(p), s)
                if p.state.is_terminal() && p.state != PortState::Completed && !s.is_terminal() =>
            {
                "compensating"
            }
            // The number moved; the line opens in the order's next commit.
            (Some(p), _) if p.state == PortState::Completed => "port_activating",
            (Some(p), _) => p.status_name(),
        }
    }

    /// Where a parked port-in waits on the store's port-deadline index (`None`: the
    /// order is not parked).
    pub fn port_parked(&self) -> Option<u64> {
        self.port
            .as_ref()
            .and_then(|p| p.parked)
            .filter(|_| !self.status.is_terminal())
    }

    /// Flags the order for an operator with `reason` (once per reason).
    pub fn raise(&mut self, reason: AttentionReason) {
        if !self.attention.contains(&reason) {
            self.attention.push(reason);
        }
        self.needs_attention = true;
    }

    /// Withdraws `reason` because what it reported resolved by itself; the order still
    /// needs attention if another reason remains.
    pub fn settle(&mut self, reason: AttentionReason) {
        if let Some(at) = self.attention.iter().position(|r| *r == reason) {
            self.attention.remove(at);
            self.needs_attention = !self.attention.is_empty();
        }
    }
}

/// The sealing context of an order's subscriber details: binds the ciphertext to its order.
pub fn subscriber_context(order_id: &str) -> String {
    format!("order/{order_id}/subscriber")
}

/// What a committed order change does beyond the order record: how inventory moves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Nothing beyond the order record.
    None,
    /// The order became active: SIM and number are assigned for good.
    Activate,
    /// The order failed and was compensated: SIM and number go back to the pool (a
    /// lifecycle order: what it reserved goes back; the line is unchanged).
    Release,
    /// A lifecycle order completed: the subscription takes the change (state, reasons,
    /// SIM, number) and what the line gave up is retired or quarantined.
    Complete,
}

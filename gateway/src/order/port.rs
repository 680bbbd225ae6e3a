//! A port-in's part of an order (issue 12): where the port stands in the consolidated
//! state machine of the reference (`porting-and-compliance.md` §1.6), what the hub told
//! us and when, and every recorded transition with its actor, reason code and external
//! reference. The machine that moves it is `engine::machine::port_in`; this is the
//! persisted form. No credential in clear: it is sealed like the subscriber.

use super::Step;
use crate::compliance::Market;
use crate::crypto::Sealed;
use serde::{Deserialize, Serialize};
use sim_profiles::Msisdn;

/// The sealing context of order `order_id`'s porting credential.
pub fn port_credential_context(order_id: &str) -> String {
    format!("order/{order_id}/port-credential")
}

/// Where a port-in stands (§1.6). The order's public status while it is open is
/// `port_<state>` for the open states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PortState {
    /// Checked locally; not yet known to the hub.
    Validating,
    /// Sent to the hub (it answered with its reference), waiting for the donor.
    Submitted,
    /// The donor disputes the port (US); the hub resolves or cancels it.
    Conflict,
    /// The hub gave a due time; the port can still be cancelled or moved.
    Scheduled,
    /// We asked the hub to cancel; waiting for its confirmation.
    CancelPending,
    /// Past the lock point: no cancel, no change; only forward.
    Locked,
    /// Cutover: the number is being put on our line.
    Activating,
    /// Done: the number is ours (terminal).
    Completed,
    /// Refused by the donor or the hub (terminal).
    Rejected,
    /// Cancelled before the lock point (terminal).
    Cancelled,
    /// The credential or the hub's window ran out before the port was scheduled
    /// (terminal).
    Expired,
    /// Failed for good before the lock point (terminal).
    Failed,
}

impl PortState {
    /// Every state, in the order of the reference's table.
    pub const ALL: [Self; 12] = [
        Self::Validating,
        Self::Submitted,
        Self::Conflict,
        Self::Scheduled,
        Self::CancelPending,
        Self::Locked,
        Self::Activating,
        Self::Completed,
        Self::Rejected,
        Self::Cancelled,
        Self::Expired,
        Self::Failed,
    ];

    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Validating => "validating",
            Self::Submitted => "submitted",
            Self::Conflict => "conflict",
            Self::Scheduled => "scheduled",
            Self::CancelPending => "cancel_pending",
            Self::Locked => "locked",
            Self::Activating => "activating",
            Self::Completed => "completed",
            Self::Rejected => "rejected",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
            Self::Failed => "failed",
        }
    }

    /// Whether nothing more happens to the port.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Rejected | Self::Cancelled | Self::Expired | Self::Failed
        )
    }

    /// Whether the port is past its pivot (§1.6: after the lock only fix-forward).
    pub fn past_lock(self) -> bool {
        matches!(self, Self::Locked | Self::Activating | Self::Completed)
    }
}

/// Who caused a transition (§1.6: channel, hub, donor, recipient, timer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PortActor {
    /// The reseller's channel (an API key).
    Channel,
    /// The porting hub.
    Hub,
    /// The donor operator (through the hub).
    Donor,
    /// We, the recipient (the engine's own steps).
    Recipient,
    /// A stored deadline.
    Timer,
}

/// One recorded transition. Stored as an array, `[state, actor, reason_code,
/// external_ref, at_ms]` (a port order is written again at each hub message with its
/// whole timeline, whose member names were about a third of its bytes); read back from
/// that or from the object that earlier versions stored (see the tests).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct PortTransition {
    /// The state entered.
    pub state: PortState,
    /// Who caused it.
    pub actor: PortActor,
    /// The reason or cause code, if any (a rejection reason, a conflict cause).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    /// The hub's reference (port reference or message id) it came with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<String>,
    /// Unix ms.
    pub at_ms: u64,
}

impl Serialize for PortTransition {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // The members in the order they are declared: the derived `Deserialize` reads an
        // array by position.
        let t = self;
        (t.state, t.actor, &t.reason_code, &t.external_ref, t.at_ms).serialize(s)
    }
}

/// The port-in part of an order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortIn {
    /// The market whose rules apply.
    pub market: Market,
    /// The number being brought in.
    pub number: Msisdn,
    /// The donor operator, as the channel named it.
    pub donor: String,
    /// The porting credential (PAC, 授权码, RIO, US account and PIN as JSON), sealed.
    pub credential: Sealed,
    /// When the credential stops being valid, if the market's credentials expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_expires_at_ms: Option<u64>,
    /// The date and time the customer asked for, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_at_ms: Option<u64>,
    /// The temporary number the line runs on until cutover (markets that issue one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temporary: Option<Msisdn>,
    /// Where the port stands.
    pub state: PortState,
    /// The hub's port reference, once it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_ref: Option<String>,
    /// The highest hub message sequence applied (`None`: none yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sequence: Option<u64>,
    /// The cutover message to acknowledge once our side is done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cutover_message: Option<String>,
    /// The due time the hub promised (`promised_at`, §1.6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at_ms: Option<u64>,
    /// The lock point the hub gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_at_ms: Option<u64>,
    /// The operator that holds the number's range, as the hub named it (`range_holder`
    /// on `accepted`); `None`: the hub did not say, and the donor is taken as it. The
    /// number goes back to it when the line ends (`number_return`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range_holder: Option<String>,
    /// When the hub reported the number moved, if that came before our side was done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub_completed_at_ms: Option<u64>,
    /// When the port completed (`completed_at`, §1.6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at_ms: Option<u64>,
    /// Our side of the cutover is done on the HLR (the ported number is on the line).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub number_active: bool,
    /// Every transition, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<PortTransition>,
    /// Sending the port to the hub (one request id per order: a repeat is safe).
    #[serde(default = "pending")]
    pub submit: Step,
    /// Asking the hub to cancel (the channel's cancel, or a credential that ran out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel: Option<Step>,
    /// Putting the ported number on our line at cutover (after the lock: never given up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activate: Option<Step>,
    /// Acknowledging `cutover_message` once our side is done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack: Option<Step>,
    /// The channel's latest request to move the port to another day, and its hub request
    /// (`POST /v1/orders/{id}/reschedule`); the hub confirms with a new `scheduled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reschedule: Option<Reschedule>,
    /// Set while the port waits for the hub or for this deadline (Unix ms; `u64::MAX`:
    /// none) with nothing for the engine to do: the order is then out of flight, on the
    /// store's one port-deadline index, and costs nothing until a hub message, a cancel
    /// or the deadline takes it back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parked: Option<u64>,
    /// Set when we are the donor (a port-out order): the request and our answer. `donor`
    /// then names the gaining provider, `number` our number it wants, and `activate` is
    /// our side of the cutover: the line taken off the network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out: Option<PortOut>,
}

/// A channel's request to move a scheduled port-in to another day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reschedule {
    /// The cutover asked for (Unix ms: the market's cutover time on the day asked).
    pub requested_at_ms: u64,
    /// Asking the hub (request id `<order>-reschedule-<requested_at_ms>`: a repeat is the
    /// same request). A refusal (`date_not_available`, `port_locked`) ends the step and
    /// leaves the port on its date.
    pub step: Step,
}

/// The donor's part of a port-out: what we decided about the hub's request, and the
/// answer's progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortOut {
    /// When the request was received (Unix ms).
    pub received_at_ms: u64,
    /// Our answer must reach the hub by then: the earlier of the hub's `respond_by` and
    /// the market's answer deadline (a stored timer).
    pub respond_by_ms: u64,
    /// `None`: we accept; else the reason code we reject with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reject: Option<String>,
    /// Sending the answer (one request id per decision: a repeat is safe).
    pub answer: Step,
    /// The answer deadline passed before the answer was delivered: `reject` is now
    /// `timeout`, sent as a request of its own.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub timed_out: bool,
}

impl PortOut {
    /// Whether our answer accepts the port.
    pub fn accepts(&self) -> bool {
        self.reject.is_none()
    }
}

fn pending() -> Step {
    Step::Pending
}

impl PortIn {
    /// A port-in as its create commit stores it: checked locally, not yet sent.
    pub fn new(
        market: Market,
        number: Msisdn,
        donor: String,
        credential: Sealed,
        credential_expires_at_ms: Option<u64>,
        requested_at_ms: Option<u64>,
    ) -> Self {
        Self {
            market,
            number,
            donor,
            credential,
            credential_expires_at_ms,
            requested_at_ms,
            temporary: None,
            state: PortState::Validating,
            port_ref: None,
            last_sequence: None,
            cutover_message: None,
            due_at_ms: None,
            lock_at_ms: None,
            range_holder: None,
            hub_completed_at_ms: None,
            completed_at_ms: None,
            number_active: false,
            timeline: Vec::new(),
            submit: Step::Pending,
            cancel: None,
            activate: None,
            ack: None,
            reschedule: None,
            parked: None,
            out: None,
        }
    }

    /// Who holds the number's range: the hub's `range_holder`, else the donor.
    pub fn range_holder(&self) -> &str {
        self.range_holder.as_deref().unwrap_or(&self.donor)
    }

    /// Whether we are the donor (a port-out).
    pub fn is_out(&self) -> bool {
        self.out.is_some()
    }

    /// The port as its create commit stores it: running on `temporary` until cutover
    /// (`None`: the line waits for the ported number).
    pub fn running_on(mut self, temporary: Option<Msisdn>) -> Self {
        self.temporary = temporary;
        self
    }

    /// The next stored deadline of the port, if it waits for one: the credential's expiry
    /// before the hub scheduled the port, the lock point while it is scheduled.
    pub fn next_deadline(&self) -> Option<u64> {
        match self.state {
            PortState::Validating | PortState::Submitted => self.credential_expires_at_ms,
            PortState::Scheduled | PortState::Conflict | PortState::CancelPending => {
                self.lock_at_ms
            }
            _ => None,
        }
    }

    /// The order's public status while the port is open (`port_submitted` …), or the
    /// terminal port outcome (`port_rejected`, `port_cancelled`, `port_expired`).
    pub fn status_name(&self) -> &'static str {
        if self.is_out() {
            return self.out_status_name();
        }
        match self.state {
            PortState::Validating => "port_validating",
            PortState::Submitted | PortState::Conflict => "port_submitted",
            PortState::Scheduled | PortState::CancelPending => "port_scheduled",
            PortState::Locked => "port_locked",
            PortState::Activating => "port_activating",
            PortState::Completed => "active",
            PortState::Rejected => "port_rejected",
            PortState::Cancelled => "port_cancelled",
            PortState::Expired => "port_expired",
            PortState::Failed => "failed",
        }
    }

    /// A port-out's public status: `port_out_requested` until our answer is sent, then
    /// `port_out_accepted`, `port_out_locked`, `port_out_deprovisioning`, and the
    /// outcomes `port_out_rejected`, `port_out_cancelled`, `port_out_expired` (the
    /// order shows `completed` once the number left).
    fn out_status_name(&self) -> &'static str {
        match self.state {
            PortState::Validating => "port_out_requested",
            PortState::Submitted
            | PortState::Conflict
            | PortState::Scheduled
            | PortState::CancelPending => "port_out_accepted",
            PortState::Locked => "port_out_locked",
            // The number moved; the order completes in its next commit.
            PortState::Activating | PortState::Completed => "port_out_deprovisioning",
            PortState::Rejected => "port_out_rejected",
            PortState::Cancelled => "port_out_cancelled",
            PortState::Expired => "port_out_expired",
            PortState::Failed => "failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A transition is stored as an array, and read back from it or from the object
    /// earlier versions stored, with or without its optional members.
    #[test]
    fn a_transition_is_stored_as_an_array_and_read_from_either_form() {
        let full = PortTransition {
            state: PortState::Rejected,
            actor: PortActor::Donor,
            reason_code: Some("contract_lock".into()),
            external_ref: Some("m-7".into()),
            at_ms: 42,
        };
        let bare = PortTransition {
            state: PortState::Submitted,
            actor: PortActor::Recipient,
            reason_code: None,
            external_ref: None,
            at_ms: 1,
        };
        let stored = serde_json::to_value([&full, &bare]).expect("encode");
        assert_eq!(
            stored,
            json!([
                ["rejected", "donor", "contract_lock", "m-7", 42],
                ["submitted", "recipient", null, null, 1]
            ])
        );
        let back: Vec<PortTransition> = serde_json::from_value(stored).expect("decode");
        assert_eq!(back, [full.clone(), bare.clone()]);
        let earlier = json!([
            {"state": "rejected", "actor": "donor", "reason_code": "contract_lock",
             "external_ref": "m-7", "at_ms": 42},
            {"state": "submitted", "actor": "recipient", "at_ms": 1}
        ]);
        let back: Vec<PortTransition> = serde_json::from_value(earlier).expect("decode");
        assert_eq!(back, [full, bare]);
    }
}

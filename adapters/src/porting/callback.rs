//! The hub's messages to us (`POST {callback_url}/v1/hub-messages`): one envelope per
//! port event, with the event's own members beside it. Encoded by the hub (the
//! simulator), decoded by the gateway's receiver. Decoding is total; a `kind` this version
//! does not know decodes as [`HubEvent::Unknown`], so the receiver can record it and
//! answer `204` rather than refuse it for ever.

use super::error::PortingCodecError;
use super::json::{self, Object, req_code, req_ref, req_str, req_time};
use super::reason::RejectReason;
use super::secret::{self, Account, Credential, WireAccount};
use super::values::{Actor, Code, Market, Ref, UtcTime};
use serde::Serialize;
use sim_profiles::Msisdn;

/// The hub asks us, the donor, to let a number go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortOutRequest {
    /// The porting regime.
    pub market: Market,
    /// Our number the recipient wants.
    pub number: Msisdn,
    /// The gaining provider's operator id.
    pub recipient: Ref,
    /// The porting code the subscriber gave the recipient (CN, UK, FR, …), for us to check.
    pub credential: Option<Credential>,
    /// The account the recipient names (US), for us to check.
    pub account: Option<Account>,
    /// When the recipient wants the port to happen.
    pub requested_at: UtcTime,
    /// Our answer must reach the hub by then; after it the hub applies its own rule.
    pub respond_by: UtcTime,
}

/// What happened to a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HubEvent {
    /// The hub and the donor validated our port-in (UK VALIDATED, FR eligibility OK, US
    /// concurrence / FOC).
    Accepted,
    /// The port is refused, for good: a new port is a new submission.
    Rejected {
        /// Why.
        reason: RejectReason,
    },
    /// The donor disputes the port (US); the hub resolves it or cancels it.
    Conflict {
        /// The cause code, as the hub has it (e.g. a NANC cause such as `50`).
        cause: Code,
    },
    /// The port has a (new) due time: first scheduled, rescheduled, or resolved from a
    /// conflict. The message's `due_at` is the port's promised time.
    Scheduled,
    /// No more cancel or reschedule: the port will happen.
    Locked,
    /// Do your side of the move now: as recipient activate the number, as donor take
    /// it off the line. Acknowledge the message once done.
    Cutover,
    /// The number has moved; the message's `at` is the completion time.
    Completed,
    /// The port is cancelled (by either side, or by a hub timer).
    Cancelled,
    /// A recipient asks for one of our numbers: answer it before `respond_by`.
    PortOutRequest(Box<PortOutRequest>),
    /// The other side asks to cancel the port: concur with a cancel of our own, or the
    /// hub's rule decides when its window closes.
    CancelRequest,
    /// A kind this version does not know, by name: record it, answer `204`, alert.
    Unknown(Code),
}

impl HubEvent {
    /// The wire name of the kind.
    pub fn kind(&self) -> &str {
        match self {
            Self::Accepted => "accepted",
            Self::Rejected { .. } => "rejected",
            Self::Conflict { .. } => "conflict",
            Self::Scheduled => "scheduled",
            Self::Locked => "locked",
            Self::Cutover => "cutover",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::PortOutRequest(_) => "port_out_request",
            Self::CancelRequest => "cancel_request",
            Self::Unknown(kind) => kind.as_str(),
        }
    }

    /// The reason code the port's recorded transition carries: a rejection's reason or
    /// a conflict's cause.
    pub fn reason_code(&self) -> Option<&str> {
        match self {
            Self::Rejected { reason } => Some(reason.as_str()),
            Self::Conflict { cause } => Some(cause.as_str()),
            _ => None,
        }
    }
}

/// One hub message: the envelope and its event. `Debug` shows no credential or account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubMessage {
    /// The hub's id for this message; a redelivery carries the same id (dedupe by it).
    pub message_id: Ref,
    /// The hub's port reference.
    pub port_ref: Ref,
    /// The message's place among this port's messages: 1, 2, 3, … in the order the hub
    /// produced them (see [`super::freshness`]).
    pub sequence: u64,
    /// When the event happened at the hub.
    pub at: UtcTime,
    /// Who caused the event.
    pub actor: Actor,
    /// Our order id, for a port we submitted (the submit's `reference`).
    pub reference: Option<Ref>,
    /// When the number moves, on every message once the port is scheduled (so a message
    /// that overtakes a `scheduled` loses nothing); mandatory with `scheduled`.
    pub due_at: Option<UtcTime>,
    /// When the port locks (no cancel or reschedule after it), alongside `due_at` when
    /// the hub knows it.
    pub lock_at: Option<UtcTime>,
    /// The operator that holds the number's range (not always the donor: a number may
    /// have been ported before), when the hub knows it; sent with `accepted`. A ported-in
    /// number goes back to it when its line ends (`/v1/number-returns`).
    pub range_holder: Option<Ref>,
    /// What happened.
    pub event: HubEvent,
}

/// Encodes a message (the hub's side). A port-out request's body holds the credential.
pub fn encode_callback(m: &HubMessage) -> Vec<u8> {
    let time = |t: UtcTime| t.to_string();
    let mut w = Wire {
        message_id: m.message_id.as_str(),
        port_ref: m.port_ref.as_str(),
        sequence: m.sequence,
        kind: m.event.kind(),
        at: time(m.at),
        actor: m.actor.as_str(),
        reference: m.reference.as_ref().map(Ref::as_str),
        due_at: m.due_at.map(time),
        lock_at: m.lock_at.map(time),
        range_holder: m.range_holder.as_ref().map(Ref::as_str),
        ..Wire::default()
    };
    match &m.event {
        HubEvent::Rejected { reason } => w.reason = Some(reason.as_str()),
        HubEvent::Conflict { cause } => w.cause = Some(cause.as_str()),
        HubEvent::PortOutRequest(p) => {
            w.market = Some(p.market.as_str());
            w.number = Some(p.number.as_str());
            w.recipient = Some(p.recipient.as_str());
            w.credential = p.credential.as_ref().map(Credential::expose);
            w.account = p.account.as_ref().map(WireAccount::from);
            w.requested_at = Some(time(p.requested_at));
            w.respond_by = Some(time(p.respond_by));
        }
        HubEvent::Accepted
        | HubEvent::Scheduled
        | HubEvent::Locked
        | HubEvent::Cutover
        | HubEvent::Completed
        | HubEvent::Cancelled
        | HubEvent::CancelRequest
        | HubEvent::Unknown(_) => {}
    }
    json::to_bytes(&w)
}

/// Decodes a message (the receiver's side). Errors mean "not a hub message" (answer
/// `400`); unknown members are ignored and an unknown `kind` is [`HubEvent::Unknown`].
pub fn decode_callback(body: &[u8]) -> Result<HubMessage, PortingCodecError> {
    let obj = json::parse_object(body)?;
    let message_id = req_ref(&obj, "message_id")?;
    let port_ref = req_ref(&obj, "port_ref")?;
    let sequence = json::req_u64(&obj, "sequence", "sequence")?;
    if sequence == 0 {
        return Err(PortingCodecError::InvalidValue { field: "sequence" });
    }
    let at = req_time(&obj, "at")?;
    let actor = Actor::from_wire(req_str(&obj, "actor", "actor")?)
        .ok_or(PortingCodecError::InvalidValue { field: "actor" })?;
    let reference = json::opt_ref(&obj, "reference")?;
    let due_at = json::opt_time(&obj, "due_at")?;
    let lock_at = json::opt_time(&obj, "lock_at")?;
    let range_holder = json::opt_ref(&obj, "range_holder")?;
    let event = decode_event(&obj)?;
    if event == HubEvent::Scheduled && due_at.is_none() {
        return Err(PortingCodecError::Missing { field: "due_at" });
    }
    Ok(HubMessage {
        message_id,
        port_ref,
        sequence,
        at,
        actor,
        reference,
        due_at,
        lock_at,
        range_holder,
        event,
    })
}

fn decode_event(obj: &Object) -> Result<HubEvent, PortingCodecError> {
    let kind = req_code(obj, "kind")?;
    Ok(match kind.as_str() {
        "accepted" => HubEvent::Accepted,
        "rejected" => HubEvent::Rejected {
            reason: RejectReason::parse(req_str(obj, "reason", "reason")?, "reason")?,
        },
        "conflict" => HubEvent::Conflict {
            cause: req_code(obj, "cause")?,
        },
        "scheduled" => HubEvent::Scheduled,
        "locked" => HubEvent::Locked,
        "cutover" => HubEvent::Cutover,
        "completed" => HubEvent::Completed,
        "cancelled" => HubEvent::Cancelled,
        "port_out_request" => HubEvent::PortOutRequest(Box::new(PortOutRequest {
            market: Market::from_wire(req_str(obj, "market", "market")?)
                .ok_or(PortingCodecError::InvalidValue { field: "market" })?,
            number: json::req_msisdn(obj, "number")?,
            recipient: req_ref(obj, "recipient")?,
            credential: secret::opt_credential(obj)?,
            account: secret::opt_account(obj)?,
            requested_at: req_time(obj, "requested_at")?,
            respond_by: req_time(obj, "respond_by")?,
        })),
        "cancel_request" => HubEvent::CancelRequest,
        _ => HubEvent::Unknown(kind),
    })
}

#[derive(Serialize, Default)]
struct Wire<'a> {
    message_id: &'a str,
    port_ref: &'a str,
    sequence: u64,
    kind: &'a str,
    at: String,
    actor: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    due_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lock_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    range_holder: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cause: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    market: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    number: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recipient: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<WireAccount<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    requested_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    respond_by: Option<String>,
}

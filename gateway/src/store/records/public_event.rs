//! The tenant-facing event log: what happened to a tenant's orders, lines and stock, in
//! commit order. `GET /v1/events` reads it and webhooks deliver it. It sits beside the
//! internal step-level audit log (`events.rs`), which keeps every southbound attempt.

use crate::clock::rfc3339;
use crate::order::{Order, OrderStatus};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Every public event type, in one place. A new family (`port.*`, `compliance.*`) is new
/// variants here; the wire name is the serde rename, and [`EventType::ALL`] lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventType {
    /// An order was accepted (inventory reserved).
    #[serde(rename = "order.created")]
    OrderCreated,
    /// An activation reached `active`.
    #[serde(rename = "order.active")]
    OrderActive,
    /// An order failed (after compensation).
    #[serde(rename = "order.failed")]
    OrderFailed,
    /// A lifecycle order completed (published in the same commit right after the
    /// `subscription.*` event of the change, so a consumer sees the line change first).
    #[serde(rename = "order.completed")]
    OrderCompleted,
    /// A line was barred for a (further) suspension reason.
    #[serde(rename = "subscription.suspended")]
    SubscriptionSuspended,
    /// A suspension reason was lifted.
    #[serde(rename = "subscription.resumed")]
    SubscriptionResumed,
    /// A line was terminated.
    #[serde(rename = "subscription.terminated")]
    SubscriptionTerminated,
    /// A line moved to another SIM.
    #[serde(rename = "subscription.sim_swapped")]
    SubscriptionSimSwapped,
    /// A line got another number.
    #[serde(rename = "subscription.number_changed")]
    SubscriptionNumberChanged,
    /// A risk rule put the line into `pending_verification` (second real-person
    /// verification, with its deadline).
    #[serde(rename = "subscription.verification_required")]
    SubscriptionVerificationRequired,
    /// The line's second real-person verification passed.
    #[serde(rename = "subscription.verified")]
    SubscriptionVerified,
    /// The eSIM profile reached the device.
    #[serde(rename = "esim.downloaded")]
    EsimDownloaded,
    /// The eSIM profile was installed on the eUICC.
    #[serde(rename = "esim.installed")]
    EsimInstalled,
    /// The SM-DP+ reported a download or install failure.
    #[serde(rename = "esim.error")]
    EsimError,
    /// Available SIMs or numbers fell to the configured threshold.
    #[serde(rename = "inventory.low_stock")]
    InventoryLowStock,
    /// A webhook endpoint was disabled after its deliveries kept failing.
    #[serde(rename = "endpoint.disabled")]
    EndpointDisabled,
    /// A velocity breach froze a store, clerk or device (the policy's
    /// `freeze_on_breach`); an operator lifts it by enabling the member again.
    #[serde(rename = "compliance.channel_frozen")]
    ComplianceChannelFrozen,
    /// The hub recorded a port-in (its reference is `external_ref`).
    #[serde(rename = "port.submitted")]
    PortSubmitted,
    /// The donor disputes the port (US); the hub resolves or cancels it.
    #[serde(rename = "port.conflict")]
    PortConflict,
    /// The hub scheduled the port: `promised_at` is when the number moves.
    #[serde(rename = "port.scheduled")]
    PortScheduled,
    /// The channel asked to cancel; the hub is being told.
    #[serde(rename = "port.cancel_requested")]
    PortCancelRequested,
    /// Past the lock point: the port can no longer be cancelled or moved.
    #[serde(rename = "port.locked")]
    PortLocked,
    /// Cutover: the number is being put on our line.
    #[serde(rename = "port.activating")]
    PortActivating,
    /// The number is ours and on the line (`completed_at`).
    #[serde(rename = "port.completed")]
    PortCompleted,
    /// The donor or the hub refused the port (`reason_code`).
    #[serde(rename = "port.rejected")]
    PortRejected,
    /// The port was cancelled before its lock point.
    #[serde(rename = "port.cancelled")]
    PortCancelled,
    /// The credential ran out before the port was scheduled.
    #[serde(rename = "port.expired")]
    PortExpired,
    /// The port failed for good before its lock point.
    #[serde(rename = "port.failed")]
    PortFailed,
    /// A port-out credential (PAC, RIO, 授权码, US transfer PIN) was issued for a line
    /// (FCC 23-95: the customer is told of every issue).
    #[serde(rename = "port_out.credential_issued")]
    PortOutCredentialIssued,
    /// Another provider asked for one of our numbers (FCC 23-95: every request is an
    /// event, so the customer can be told).
    #[serde(rename = "port_out.requested")]
    PortOutRequested,
    /// We accepted a port-out request.
    #[serde(rename = "port_out.accepted")]
    PortOutAccepted,
    /// A port-out has its due time.
    #[serde(rename = "port_out.scheduled")]
    PortOutScheduled,
    /// A port-out passed its lock point: the number will leave.
    #[serde(rename = "port_out.locked")]
    PortOutLocked,
    /// The number left: the line is off the network, the SIM retired.
    #[serde(rename = "port_out.completed")]
    PortOutCompleted,
    /// A port-out request was refused (by us, with the reason, or by the hub).
    #[serde(rename = "port_out.rejected")]
    PortOutRejected,
    /// A port-out was cancelled; the line stays.
    #[serde(rename = "port_out.cancelled")]
    PortOutCancelled,
    /// Our answer to a port-out request could not be delivered in time.
    #[serde(rename = "port_out.expired")]
    PortOutExpired,
}

impl EventType {
    /// Every type, in documentation order.
    pub const ALL: [Self; 37] = [
        Self::OrderCreated,
        Self::OrderActive,
        Self::OrderFailed,
        Self::OrderCompleted,
        Self::SubscriptionSuspended,
        Self::SubscriptionResumed,
        Self::SubscriptionTerminated,
        Self::SubscriptionSimSwapped,
        Self::SubscriptionNumberChanged,
        Self::SubscriptionVerificationRequired,
        Self::SubscriptionVerified,
        Self::EsimDownloaded,
        Self::EsimInstalled,
        Self::EsimError,
        Self::InventoryLowStock,
        Self::EndpointDisabled,
        Self::ComplianceChannelFrozen,
        Self::PortSubmitted,
        Self::PortConflict,
        Self::PortScheduled,
        Self::PortCancelRequested,
        Self::PortLocked,
        Self::PortActivating,
        Self::PortCompleted,
        Self::PortRejected,
        Self::PortCancelled,
        Self::PortExpired,
        Self::PortFailed,
        Self::PortOutCredentialIssued,
        Self::PortOutRequested,
        Self::PortOutAccepted,
        Self::PortOutScheduled,
        Self::PortOutLocked,
        Self::PortOutCompleted,
        Self::PortOutRejected,
        Self::PortOutCancelled,
        Self::PortOutExpired,
    ];

    /// The wire name (`order.active`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrderCreated => "order.created",
            Self::OrderActive => "order.active",
            Self::OrderFailed => "order.failed",
            Self::OrderCompleted => "order.completed",
            Self::SubscriptionSuspended => "subscription.suspended",
            Self::SubscriptionResumed => "subscription.resumed",
            Self::SubscriptionTerminated => "subscription.terminated",
            Self::SubscriptionSimSwapped => "subscription.sim_swapped",
            Self::SubscriptionNumberChanged => "subscription.number_changed",
            Self::SubscriptionVerificationRequired => "subscription.verification_required",
            Self::SubscriptionVerified => "subscription.verified",
            Self::EsimDownloaded => "esim.downloaded",
            Self::EsimInstalled => "esim.installed",
            Self::EsimError => "esim.error",
            Self::InventoryLowStock => "inventory.low_stock",
            Self::EndpointDisabled => "endpoint.disabled",
            Self::ComplianceChannelFrozen => "compliance.channel_frozen",
            Self::PortSubmitted => "port.submitted",
            Self::PortConflict => "port.conflict",
            Self::PortScheduled => "port.scheduled",
            Self::PortCancelRequested => "port.cancel_requested",
            Self::PortLocked => "port.locked",
            Self::PortActivating => "port.activating",
            Self::PortCompleted => "port.completed",
            Self::PortRejected => "port.rejected",
            Self::PortCancelled => "port.cancelled",
            Self::PortExpired => "port.expired",
            Self::PortFailed => "port.failed",
            Self::PortOutCredentialIssued => "port_out.credential_issued",
            Self::PortOutRequested => "port_out.requested",
            Self::PortOutAccepted => "port_out.accepted",
            Self::PortOutScheduled => "port_out.scheduled",
            Self::PortOutLocked => "port_out.locked",
            Self::PortOutCompleted => "port_out.completed",
            Self::PortOutRejected => "port_out.rejected",
            Self::PortOutCancelled => "port_out.cancelled",
            Self::PortOutExpired => "port_out.expired",
        }
    }

    /// The type with this wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Every wire name, comma-separated (for error details).
    pub fn listing() -> String {
        Self::ALL.map(Self::as_str).join(", ")
    }
}

/// One entry of a tenant's public event log (`public_events` table; on PostgreSQL an
/// entry of a `public_batches` row).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublicEvent {
    /// Global commit order over all tenants (internal; never shown).
    pub seq: u64,
    /// Commit order within the tenant, gap-free from 1: the id and the cursor derive from
    /// it, so a tenant learns nothing about other tenants' volume.
    pub tenant_seq: u64,
    /// `evt_` + 16 hex digits of `tenant_seq`; stable across redeliveries.
    pub id: String,
    /// Owning tenant.
    pub tenant: String,
    /// What happened.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// Unix ms of the commit that recorded it.
    pub created_at_ms: u64,
    /// Ordering key of webhook deliveries: a line's MSISDN, else the order id; `None`
    /// for events that need no order among themselves.
    pub subject: Option<String>,
    /// The payload (never secrets).
    pub data: Value,
}

/// A [`PublicEvent`] as the store writes it: the same members in the same order,
/// borrowed, with any serializable payload, so the payload is encoded straight into the
/// stored JSON with no `Value` tree between (the bytes are those of the `PublicEvent`
/// with that payload as its `data`).
#[derive(Serialize)]
pub struct PublicEventRow<'a, D: Serialize + ?Sized> {
    /// See [`PublicEvent::seq`].
    pub seq: u64,
    /// See [`PublicEvent::tenant_seq`].
    pub tenant_seq: u64,
    /// See [`PublicEvent::id`].
    pub id: &'a str,
    /// See [`PublicEvent::tenant`].
    pub tenant: &'a str,
    /// See [`PublicEvent::event_type`].
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// See [`PublicEvent::created_at_ms`].
    pub created_at_ms: u64,
    /// See [`PublicEvent::subject`].
    pub subject: Option<&'a str>,
    /// See [`PublicEvent::data`].
    pub data: &'a D,
}

impl PublicEvent {
    /// The event as `GET /v1/events` shows it and webhooks send it.
    pub fn wire(&self) -> Value {
        json!({
            "id": self.id,
            "type": self.event_type.as_str(),
            "created_at": rfc3339(self.created_at_ms),
            "subject": self.subject,
            "data": self.data,
        })
    }
}

/// An event as a webhook posts it: its id and type, and the JSON body that is signed and
/// sent, the same bytes as `serde_json::to_vec(&event.wire())`. The dispatcher gets it
/// ready-made from the store, which need not build the payload's JSON tree to make it.
#[derive(Clone, Debug, PartialEq)]
pub struct WireEvent {
    /// `evt_…`: the `webhook-id`.
    pub id: String,
    /// What happened.
    pub event_type: EventType,
    /// The body.
    pub body: bytes::Bytes,
}

/// The wire body's members, in the order [`PublicEvent::wire`]'s object writes them
/// (serde_json's maps are sorted by key).
#[derive(Serialize)]
struct WireBody<'a, D: Serialize + ?Sized> {
    created_at: String,
    data: &'a D,
    id: &'a str,
    subject: Option<&'a str>,
    #[serde(rename = "type")]
    event_type: &'static str,
}

/// A stored `PublicEvent` read without decoding its payload: `data` stays the JSON text
/// it was stored as.
#[derive(Deserialize)]
struct StoredEvent<'a> {
    #[serde(borrow)]
    id: std::borrow::Cow<'a, str>,
    #[serde(rename = "type")]
    event_type: EventType,
    created_at_ms: u64,
    #[serde(borrow)]
    subject: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    data: &'a serde_json::value::RawValue,
}

impl WireEvent {
    fn encode<D: Serialize + ?Sized>(
        id: &str,
        event_type: EventType,
        created_at_ms: u64,
        subject: Option<&str>,
        data: &D,
    ) -> serde_json::Result<Self> {
        let body = serde_json::to_vec(&WireBody {
            created_at: rfc3339(created_at_ms),
            data,
            id,
            subject,
            event_type: event_type.as_str(),
        })?;
        Ok(Self {
            id: id.to_owned(),
            event_type,
            body: body.into(),
        })
    }

    /// The wire form of an event.
    pub fn of(e: &PublicEvent) -> serde_json::Result<Self> {
        Self::encode(
            &e.id,
            e.event_type,
            e.created_at_ms,
            e.subject.as_deref(),
            &e.data,
        )
    }

    /// The wire form of a `PublicEvent` stored as JSON, its payload copied as text.
    pub fn from_stored(json: &[u8]) -> serde_json::Result<Self> {
        let e: StoredEvent<'_> = serde_json::from_slice(json)?;
        Self::encode(
            &e.id,
            e.event_type,
            e.created_at_ms,
            e.subject.as_deref(),
            e.data,
        )
    }
}

/// The public id of a tenant's `n`th event.
pub fn event_id(tenant_seq: u64) -> String {
    format!("evt_{tenant_seq:016x}")
}

/// The tenant sequence number an event id names (`None` if it is not one).
pub fn parse_event_id(id: &str) -> Option<u64> {
    let hex = id.strip_prefix("evt_")?;
    if hex.len() != 16
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    u64::from_str_radix(hex, 16).ok()
}

/// The `data` of an order event: the order as the API shows it, minus anything secret
/// (no keys, no subscriber details, no confirmation code), plus `previous`: the status it
/// left, when the event reports a change.
pub fn order_data(o: &Order, previous: Option<OrderStatus>) -> Value {
    let sim = match &o.esim {
        Some(e) => json!({"type": "esim", "iccid": o.iccid, "eid": e.eid}),
        None => json!({"type": "physical", "iccid": o.iccid}),
    };
    let object = match o.kind {
        crate::order::OrderKind::Activation => "activation",
        _ => "order",
    };
    let mut v = json!({
        "id": o.id,
        "object": object,
        "kind": o.kind.as_str(),
        "status": o.status_name(),
        "previous": previous.map(OrderStatus::as_str),
        "sim": sim,
        "iccid": o.iccid,
        "imsi": o.imsi,
        "msisdn": o.msisdn,
        "product": o.product,
        "created_at": rfc3339(o.created_at_ms),
        "updated_at": rfc3339(o.updated_at_ms),
    });
    if let Some(e) = &o.esim {
        v["esim"] = json!({"profile_type": e.profile_type});
        if o.status == OrderStatus::Active {
            if let Some(ac) = &e.activation_code {
                v["activation_code"] = json!(ac);
            }
        }
    }
    if let Some(l) = &o.lifecycle {
        v["subscription_id"] = json!(l.subscription);
        if let Some(r) = l.reason {
            v["reason"] = json!(r.as_str());
        }
        if let Some(n) = &l.new_line {
            let kind = if o.esim.is_some() { "esim" } else { "physical" };
            v["new_sim"] = json!({"type": kind, "iccid": n.iccid});
        }
        if let Some(m) = &l.new_msisdn {
            v["new_msisdn"] = json!(m);
        }
    }
    if let Some(e) = &o.error {
        v["error"] = json!({"code": e.code, "detail": e.detail});
    }
    if let Some(c) = &o.channel {
        v["channel"] = c.clone();
    }
    v
}

/// The data of a `subscription.*` event: the line after the change and, under
/// `previous`, what it changed from (no secret: no keys, no subscriber details).
pub fn subscription_data(
    s: &super::Subscription,
    previous: &super::Subscription,
    order_id: &str,
) -> Value {
    let line = |s: &super::Subscription| {
        json!({
            "state": s.state.as_str(),
            "suspension_reasons": s.suspension_reasons,
            "msisdn": s.msisdn,
            "iccid": s.iccid,
            "imsi": s.imsi,
            "sim_type": s.sim_type,
        })
    };
    let mut v = line(s);
    v["id"] = json!(s.id);
    v["object"] = json!("subscription");
    v["order_id"] = json!(order_id);
    v["previous"] = line(previous);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The body a webhook posts is the events API's JSON of the event, byte for byte,
    /// whether it is made from the event or from its stored JSON (payloads with nesting,
    /// escapes, non-ASCII text, numbers and nulls; with and without a subject).
    #[test]
    fn wire_bodies_are_the_events_json_byte_for_byte() {
        let datas = [
            json!({}),
            json!({"order_id": "act_1", "previous": null, "n": 12, "x": 1.5e-7}),
            json!({"name": "王小明 \"q\" \\ \n\u{1}", "nested": {"b": [1, {"a": true}], "a": []}}),
        ];
        for (i, data) in datas.into_iter().enumerate() {
            for subject in [None, Some("sub_01j\"x")] {
                let e = PublicEvent {
                    seq: 7,
                    tenant_seq: 3,
                    id: event_id(3),
                    tenant: "t".into(),
                    event_type: EventType::ALL[i],
                    created_at_ms: 1_795_420_800_123,
                    subject: subject.map(str::to_owned),
                    data: data.clone(),
                };
                let expected = serde_json::to_vec(&e.wire()).expect("wire");
                let of = WireEvent::of(&e).expect("of");
                let stored = serde_json::to_vec(&e).expect("stored");
                // The store writes it as a row of borrowed members: the same bytes.
                let row = PublicEventRow {
                    seq: e.seq,
                    tenant_seq: e.tenant_seq,
                    id: &e.id,
                    tenant: &e.tenant,
                    event_type: e.event_type,
                    created_at_ms: e.created_at_ms,
                    subject: e.subject.as_deref(),
                    data: &e.data,
                };
                assert_eq!(serde_json::to_vec(&row).expect("row"), stored);
                let from = WireEvent::from_stored(&stored).expect("from stored");
                assert_eq!(of.body.as_ref(), expected.as_slice());
                assert_eq!(from, of);
                assert_eq!(
                    (of.id.as_str(), of.event_type),
                    ("evt_0000000000000003", e.event_type)
                );
            }
        }
        assert!(WireEvent::from_stored(b"{\"id\": 1}").is_err());
    }

    #[test]
    fn wire_names_round_trip_and_match_serde() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
            assert_eq!(
                serde_json::to_value(t).expect("serialise"),
                json!(t.as_str())
            );
        }
        assert_eq!(EventType::parse("order.activated"), None);
    }

    #[test]
    fn event_ids_round_trip_and_refuse_anything_else() {
        for n in [0, 1, 42, u64::MAX] {
            assert_eq!(parse_event_id(&event_id(n)), Some(n));
        }
        for bad in [
            "",
            "evt_",
            "evt_2a",
            "evt_000000000000002A",
            "act_000000000000002a",
            "evt_000000000000002g",
            "evt_0000000000000002a",
        ] {
            assert_eq!(parse_event_id(bad), None, "{bad}");
        }
    }
}

//! Subscriptions (lines in service after day one) and the command that creates a
//! lifecycle order on one.

use super::activation::NumberChoice;
use super::inventory::Rejection;
use crate::order::{Actor, Lifecycle, Order, OrderKind, SagaStep, SuspensionReason};
use serde::{Deserialize, Serialize};
use sim_profiles::{Iccid, Imsi, Msisdn};

/// A line's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionState {
    /// In service.
    Active,
    /// Barred for at least one suspension reason.
    Suspended,
    /// Ended for good.
    Terminated,
}

impl SubscriptionState {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Terminated => "terminated",
        }
    }

    /// Parses a stable name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Active, Self::Suspended, Self::Terminated]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// Physical card or eSIM profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SimType {
    /// A plastic card.
    Physical,
    /// An eSIM profile.
    Esim,
}

/// One operation in a line's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The order.
    pub order_id: String,
    /// What it did.
    pub kind: OrderKind,
    /// `completed` or `failed` (`active` for the activation).
    pub outcome: String,
    /// Who asked (none for the activation, which the order's channel describes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<Actor>,
    /// The suspension reason of a suspend or resume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<SuspensionReason>,
    /// What changed, e.g. `iccid 8988…01 → 8988…02` (no secrets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<String>,
    /// The error code of a failed order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Unix ms.
    pub at_ms: u64,
}

/// A line in service (table `subscriptions`), created in the commit that makes its
/// activation `active`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// `sub_` + the activation's 26 characters.
    pub id: String,
    /// Owning tenant.
    pub tenant: String,
    /// The line's number.
    pub msisdn: Msisdn,
    /// The current card.
    pub iccid: Iccid,
    /// The current card's IMSI.
    pub imsi: Imsi,
    /// Physical card or eSIM.
    pub sim_type: SimType,
    /// The tenant's product code.
    pub product: String,
    /// HLR profile id of the product.
    pub hlr_profile_id: u32,
    /// Active, suspended or terminated.
    pub state: SubscriptionState,
    /// The suspension reasons in force, in the order they were applied.
    #[serde(default)]
    pub suspension_reasons: Vec<SuspensionReason>,
    /// Who holds the `regulatory` suspension while it is in force (empty otherwise; see
    /// [`Subscription::regulatory_holders`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regulatory_by: Vec<RegulatoryHolder>,
    /// The activation that opened the line.
    pub activation_id: String,
    /// The lifecycle order in flight on the line, if any (at most one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inflight: Option<String>,
    /// Every operation on the line, oldest first.
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
    /// Its second real-person verification (issue 15): pending after a risk hit until the
    /// subscriber verifies or the deadline suspends the line (`reverify.rs`).
    #[serde(
        default,
        skip_serializing_if = "super::reverify::verification_is_clear"
    )]
    pub verification: crate::compliance::reverify::Verification,
    /// The port-out credential last issued for the line (only its keyed MAC: the
    /// credential itself is shown once, to the customer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_out_credential: Option<IssuedCredential>,
    /// When the line's number last moved to us by a port (the China 120-day rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_port_at_ms: Option<u64>,
    /// The handset the network last reported the line in (`records/handset.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handset: Option<super::Handset>,
    /// Unix ms the line became active.
    pub created_at_ms: u64,
    /// Unix ms of the last change.
    pub updated_at_ms: u64,
}

/// A port-out credential we issued (PAC, RIO, 授权码, US transfer PIN): never in clear.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCredential {
    /// Its kind (`uk_pac`, `fr_rio`, …).
    pub kind: String,
    /// The keyed fingerprint of the number and the credential (`crypto::Keys::fingerprint`).
    pub mac: String,
    /// How the channel authenticated the customer before asking for it (FCC 23-95).
    pub authentication: String,
    /// Unix ms of issue.
    pub issued_at_ms: u64,
    /// When it stops being valid (`None`: until replaced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at_ms: Option<u64>,
}

/// The history note of a completed port-out: who the number went to.
pub fn ported_out_change(order: &Order) -> String {
    match &order.port {
        Some(p) => format!("msisdn {} ported out to {}", p.number, p.donor),
        None => "ported out".into(),
    }
}

/// The subscription id of an activation.
pub fn subscription_id(activation_id: &str) -> String {
    format!(
        "sub_{}",
        activation_id.strip_prefix("act_").unwrap_or(activation_id)
    )
}

/// The new card of a SIM swap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SwapSim {
    /// This physical card, which must be in stock.
    Physical(Iccid),
    /// An eSIM profile of the line's product from stock, for these ES2+ parameters.
    Esim {
        /// The customer's EID, if known.
        eid: Option<sim_profiles::Eid>,
        /// Our MatchingID for the new profile.
        matching_id: String,
        /// The sealed confirmation code, if the tenant uses them.
        confirmation_code: Option<crate::crypto::Sealed>,
    },
}

/// Input of [`super::super::Store::create_lifecycle`].
#[derive(Clone, Debug)]
pub struct NewLifecycle {
    /// The tenant of the API key.
    pub tenant: String,
    /// The line, by its number.
    pub msisdn: Msisdn,
    /// The operation.
    pub kind: OrderKind,
    /// The `Idempotency-Key` header.
    pub idempotency_key: String,
    /// Keyed fingerprint of the operation and its canonical body.
    pub body_hash: String,
    /// A fresh order id (used only if the order is created).
    pub order_id: String,
    /// Who asks.
    pub actor: Actor,
    /// The suspension reason of a suspend or resume.
    pub reason: Option<SuspensionReason>,
    /// The new card of a SIM swap.
    pub sim: Option<SwapSim>,
    /// The new number of a number change.
    pub number: Option<NumberChoice>,
    /// The port part of a port-out (the hub's request and our decision).
    pub port: Option<crate::order::PortIn>,
    /// Channel metadata.
    pub channel: Option<serde_json::Value>,
    /// Unix ms now.
    pub now_ms: u64,
    /// A uniform random value for the random number policy.
    pub random: u64,
    /// Idempotency records older than this (Unix ms) count as expired.
    pub idempotency_cutoff_ms: u64,
    /// The engine's plan for the kind (the store applies it to the line as it is in the
    /// creating commit, and never imports the engine).
    pub plan: Planner,
    /// As [`super::NewActivation::send_ahead`].
    pub send_ahead: Option<super::SendAhead>,
    /// Ordered by the line's second verification ([`Lifecycle::verification`]).
    pub verification: bool,
}

/// The engine's saga planner, passed to the store.
pub type Planner = fn(OrderKind, &Lifecycle) -> Vec<SagaStep>;

/// Why a lifecycle order was refused; nothing changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LifecycleRejection {
    /// No line of the tenant has this number.
    NotFound,
    /// Another order is in flight on the line.
    Busy(String),
    /// The line is terminated.
    Terminated,
    /// A suspend with a reason already in force.
    ReasonPresent,
    /// A resume of a reason not in force.
    ReasonAbsent,
    /// The new card or number is not usable.
    Inventory(Rejection),
    /// A number change to the line's own number.
    SameNumber,
}

/// Result of [`super::super::Store::create_lifecycle`].
#[derive(Clone, Debug)]
pub enum LifecycleOutcome {
    /// A new order was created (and what it needs reserved).
    Created(Order),
    /// The same key and body were seen before: answer with this snapshot again.
    Replayed(Order),
    /// The same key was used with a different body or operation.
    KeyReused,
    /// Refused; nothing changed.
    Rejected(LifecycleRejection),
}

/// One page of a subscription listing.
#[derive(Clone, Debug, Default)]
pub struct SubscriptionPage {
    /// The lines.
    pub data: Vec<Subscription>,
    /// Where the next page starts (the last line looked at); `None` at the end.
    pub next: Option<String>,
}

/// Filter and page of a subscription listing.
#[derive(Clone, Debug, Default)]
pub struct SubscriptionQuery {
    /// Only lines in this state.
    pub state: Option<SubscriptionState>,
    /// Only the line on this card.
    pub iccid: Option<Iccid>,
    /// Lines after this subscription id (the cursor).
    pub after: Option<String>,
    /// At most this many.
    pub limit: usize,
}

impl Subscription {
    /// The line an activation opens when it becomes active (written in that commit):
    /// its card (`sim`), number and product, active, with the activation in its history,
    /// and pending verification when the activation's create commit hit a risk rule.
    pub fn opened_by(order: &Order, sim: &super::inventory::SimRecord) -> Self {
        Self {
            id: subscription_id(&order.id),
            tenant: order.tenant.clone(),
            msisdn: order.msisdn.clone(),
            iccid: order.iccid.clone(),
            imsi: order.imsi.clone(),
            sim_type: if sim.esim_profile_type.is_some() {
                SimType::Esim
            } else {
                SimType::Physical
            },
            product: order.product.clone(),
            hlr_profile_id: order.hlr_profile_id,
            state: SubscriptionState::Active,
            suspension_reasons: Vec::new(),
            regulatory_by: Vec::new(),
            activation_id: order.id.clone(),
            inflight: None,
            history: vec![HistoryEntry {
                order_id: order.id.clone(),
                kind: OrderKind::Activation,
                outcome: "active".into(),
                actor: None,
                reason: None,
                change: None,
                error: None,
                at_ms: order.updated_at_ms,
            }],
            verification: super::reverify::opening_state(order),
            port_out_credential: None,
            last_port_at_ms: order.port.as_ref().and_then(|p| p.completed_at_ms),
            handset: order.compliance.as_ref().and_then(|c| c.handset.clone()),
            created_at_ms: order.updated_at_ms,
            updated_at_ms: order.updated_at_ms,
        }
    }
}

/// Who placed a line's `regulatory` suspension. Each holds it on its own: a passed second
/// verification lifts only the verification's hold, so a line an operator also suspended
/// for `regulatory` stays suspended; an operator's resume lifts every hold (operator
/// keys alone may, and the audit records who did).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegulatoryHolder {
    /// The line's second verification (its deadline passed, or it failed): a suspend
    /// order with [`Lifecycle::verification`] set.
    Verification,
    /// An operator key's own suspend order.
    Operator,
}

impl RegulatoryHolder {
    /// The holder a suspend places: the verification's when it ordered it.
    pub fn of(verification: bool) -> Self {
        if verification {
            Self::Verification
        } else {
            Self::Operator
        }
    }
}

impl Subscription {
    /// Who holds `regulatory` now, sorted (empty when the line is not suspended for it).
    /// A line suspended for it before holders were recorded has them read from its
    /// history (the completed `regulatory` suspends since the last resume of it, by
    /// their actors); one whose history does not say counts as the operator's, so a
    /// passed verification leaves it suspended rather than lift what it may not have
    /// placed.
    pub fn regulatory_holders(&self) -> Vec<RegulatoryHolder> {
        if !self
            .suspension_reasons
            .contains(&SuspensionReason::Regulatory)
        {
            return Vec::new();
        }
        let mut h = if self.regulatory_by.is_empty() {
            self.holders_in_history()
        } else {
            self.regulatory_by.clone()
        };
        if h.is_empty() {
            h.push(RegulatoryHolder::Operator);
        }
        h.sort();
        h.dedup();
        h
    }

    fn holders_in_history(&self) -> Vec<RegulatoryHolder> {
        let mut h = Vec::new();
        let done = self.history.iter().filter(|e| {
            e.reason == Some(SuspensionReason::Regulatory)
                && e.outcome == crate::order::OrderStatus::Completed.as_str()
        });
        for e in done {
            // Before holders were recorded, only the deadline's suspend had actor `system`.
            let timer = e
                .actor
                .as_ref()
                .is_some_and(|a| *a == super::reverify::system_actor());
            match e.kind {
                OrderKind::Suspend => h.push(RegulatoryHolder::of(timer)),
                OrderKind::Resume => h.clear(),
                _ => {}
            }
        }
        h
    }

    /// Whether a suspend for `reason` (ordered by the verification or not) would add
    /// nothing: the reason is in force and, for `regulatory`, already held by the same
    /// holder.
    pub fn suspension_held(&self, reason: SuspensionReason, verification: bool) -> bool {
        if reason == SuspensionReason::Regulatory {
            return self
                .regulatory_holders()
                .contains(&RegulatoryHolder::of(verification));
        }
        self.suspension_reasons.contains(&reason)
    }

    /// Adds `holder`'s hold of `regulatory` (the reason too, if it was not in force).
    pub fn hold_regulatory(&mut self, holder: RegulatoryHolder) {
        let mut h = self.regulatory_holders();
        if !h.contains(&holder) {
            h.push(holder);
            h.sort();
        }
        if !self
            .suspension_reasons
            .contains(&SuspensionReason::Regulatory)
        {
            self.suspension_reasons.push(SuspensionReason::Regulatory);
        }
        self.regulatory_by = h;
    }

    /// A completed suspend's change: `reason` in force (a `regulatory` one held by
    /// whoever ordered it: the verification or an operator), the state following.
    pub fn suspended_for(&mut self, l: &Lifecycle) {
        match l.reason {
            Some(SuspensionReason::Regulatory) => {
                self.hold_regulatory(RegulatoryHolder::of(l.verification))
            }
            Some(r) if !self.suspension_reasons.contains(&r) => self.suspension_reasons.push(r),
            _ => {}
        }
        self.follow_reasons();
    }

    /// A completed resume's change: `reason` lifted (`regulatory` with every hold), the
    /// state following.
    pub fn resumed_from(&mut self, reason: Option<SuspensionReason>) {
        self.suspension_reasons.retain(|r| Some(*r) != reason);
        if reason == Some(SuspensionReason::Regulatory) {
            self.regulatory_by.clear();
        }
        self.follow_reasons();
    }

    /// Active without a suspension reason, suspended with one.
    fn follow_reasons(&mut self) {
        self.state = if self.suspension_reasons.is_empty() {
            SubscriptionState::Active
        } else {
            SubscriptionState::Suspended
        };
    }
}

/// What a lifecycle order's create commit read once its checks passed, from which both
/// backends build the order alike ([`NewLifecycle::order`]).
#[derive(Debug)]
pub struct LifecycleReads<'a> {
    /// The line.
    pub sub: &'a Subscription,
    /// Its tenant.
    pub tenant: &'a super::Tenant,
    /// The activation that opened the line (its compliance part is copied).
    pub activation: Option<&'a Order>,
    /// The card a SIM swap reserves.
    pub new_sim: Option<&'a super::SimRecord>,
    /// The number a number change reserves.
    pub new_msisdn: Option<Msisdn>,
    /// The eSIM order of a swap to eSIM.
    pub new_esim: Option<crate::order::EsimOrder>,
    /// The line's profile to cancel if it was never downloaded.
    pub undownloaded_profile: Option<crate::order::SagaOp>,
    /// The return of a ported-in number to its range holder.
    pub number_return: Option<crate::order::SagaOp>,
}

impl NewLifecycle {
    /// Why a suspend or resume on `sub` changes nothing (a suspend for a reason held
    /// already, by that kind of actor for `regulatory`; a resume of a reason not in
    /// force), checked before anything is written.
    pub fn reason_refusal(&self, sub: &Subscription) -> Option<LifecycleRejection> {
        let reason = self.reason?;
        match self.kind {
            OrderKind::Suspend if sub.suspension_held(reason, self.verification) => {
                Some(LifecycleRejection::ReasonPresent)
            }
            OrderKind::Resume if !sub.suspension_reasons.contains(&reason) => {
                Some(LifecycleRejection::ReasonAbsent)
            }
            _ => None,
        }
    }

    /// The order this request creates from what the commit read: the line as its
    /// subscription holds it, what is reserved for it, and its plan (with its first step
    /// sent ahead when asked).
    pub fn order(&self, r: LifecycleReads<'_>) -> Order {
        use crate::order::{Line, MsisdnMode, NewProfile, OrderStatus, Step};
        let sub = r.sub;
        let line = Line {
            iccid: sub.iccid.clone(),
            imsi: sub.imsi.clone(),
            msisdn: Some(sub.msisdn.clone()),
            hlr_profile_id: sub.hlr_profile_id,
            barred: !sub.suspension_reasons.is_empty(),
        };
        let mut lifecycle = Lifecycle {
            subscription: sub.id.clone(),
            actor: self.actor.clone(),
            reason: self.reason,
            verification: self.verification,
            line: line.clone(),
            reasons_before: sub.suspension_reasons.clone(),
            new_line: r.new_sim.map(|s| Line {
                iccid: s.iccid.clone(),
                imsi: s.imsi.clone(),
                msisdn: None,
                ..line.clone()
            }),
            new_msisdn: r.new_msisdn,
            new_profile: r.new_esim.as_ref().map(|e| NewProfile {
                eid: e.eid.clone(),
                matching_id: e.matching_id.clone(),
            }),
            undownloaded_profile: r.undownloaded_profile,
            number_return: r.number_return,
            plan: Vec::new(),
            undo: Vec::new(),
        };
        lifecycle.plan = (self.plan)(self.kind, &lifecycle);
        let order = Order {
            id: self.order_id.clone(),
            kind: self.kind,
            tenant: self.tenant.clone(),
            status: OrderStatus::Reserved,
            iccid: sub.iccid.clone(),
            imsi: sub.imsi.clone(),
            msisdn: sub.msisdn.clone(),
            msisdn_mode: self
                .number
                .as_ref()
                .map_or(MsisdnMode::Auto, super::number_mode),
            product: sub.product.clone(),
            hlr_profile_id: sub.hlr_profile_id,
            channel: self.channel.clone(),
            subscriber: None,
            compliance: super::lifecycle_compliance(self.kind, r.tenant, r.activation),
            hlr: Step::Pending,
            undo: None,
            error: None,
            needs_attention: false,
            attention: Vec::new(),
            esim: r.new_esim,
            lifecycle: Some(lifecycle),
            port: self.port.clone(),
            created_at_ms: self.now_ms,
            updated_at_ms: self.now_ms,
            version: 1,
            identity: None,
        };
        match self.send_ahead {
            Some(send) => send(order, self.now_ms),
            None => order,
        }
    }
}

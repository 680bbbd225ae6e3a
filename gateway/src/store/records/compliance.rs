//! The compliance part of the store (issue 15): what an activation's create commit checks
//! and writes, the channel registry, blocklists and the audit chain. The decisions are the
//! pure `compliance` module's; these are the commands and rows both backends share, and
//! the pure glue (`ComplianceCheck::request`, `audit_*`) so that neither backend repeats
//! domain logic.
//!
//! Scopes: registry entries are per tenant; blocklists, the live-line index and the ID
//! velocity counter are per enterprise (the licence holder, reference §2.2); the channel
//! velocity counters are per tenant. Distinct enterprises never see each other's rows.

use crate::compliance::audit::{Actor, AuditRecord, Subject};
use crate::compliance::blocklist::{ListKind, Span};
use crate::compliance::channel::{ChannelRef, Member, Registration};
use crate::compliance::checks::{CreateRequest, Decision, Refused, SubscriberInput};
use crate::compliance::policy::StoreHours;
use crate::compliance::velocity::VelocityKey;
use crate::compliance::{IdHash, Policy, Refusal, SimKind, Subscriber};
use crate::order::{Order, OrderStatus};
use std::sync::Arc;

/// What an activation's create commit checks, built by the API from the request, the
/// tenant's policy and the ID hasher. `NewActivation::compliance = None` checks nothing
/// (the store's own tests, the bench without a policy).
#[derive(Clone, Debug)]
pub struct ComplianceCheck {
    /// The tenant's effective policy.
    pub policy: Arc<Policy>,
    /// The tenant's enterprise (the tenant itself unless set): the scope of the ID's
    /// live lines, its velocity counter and the blocklists.
    pub enterprise: String,
    /// The subscriber as parsed (`None`: absent).
    pub subscriber: Option<Arc<Subscriber>>,
    /// Why the sent subscriber is not valid, if it is not.
    pub invalid: Option<Refusal>,
    /// The channel.
    pub channel: ChannelRef,
    /// Physical or eSIM.
    pub sim: SimKind,
    /// The handset's IMEI, if the order names one.
    pub imei: Option<String>,
    /// That handset as the line will keep it (its keyed MAC and TAC, never the IMEI;
    /// `api/handset.rs`): the line's baseline for the handset feed.
    pub handset: Option<super::Handset>,
    /// The ID's hashes under every pepper key, current first (empty without a valid
    /// subscriber).
    pub id_hashes: Vec<IdHash>,
    /// Who asks, for the audit record.
    pub actor: Actor,
    /// Evidence references for the audit record (`face_match:<tx>`, `reader:<serial>`).
    pub evidence: Vec<String>,
    /// The identity verifier's decision, asked before the create commit, when it lets
    /// the order go on (a pass or a flag): an allowing commit records it as the order's
    /// concluded verification, so the engine goes straight to the first southbound step.
    /// `None`: not asked, or no such answer in time (the engine asks after the commit).
    pub verified: Option<crate::order::IdentityStep>,
}

impl ComplianceCheck {
    /// The identity verification an allowing create commit asks for: the policy's terms
    /// for this channel when the subscriber is valid, `None` otherwise (nothing to
    /// verify). The API asks the verifier before the commit under the same terms.
    pub fn verify_terms(&self) -> Option<crate::order::VerifyTerms> {
        match (&self.subscriber, &self.invalid) {
            (Some(_), None) => Some(crate::order::VerifyTerms::of(
                &self.policy,
                self.channel.kind(),
            )),
            _ => None,
        }
    }

    /// The pure decision's input at `now_ms`.
    pub fn request(&self, now_ms: u64) -> CreateRequest<'_> {
        let subscriber = match (&self.subscriber, &self.invalid) {
            (_, Some(r)) => SubscriberInput::Invalid(r),
            (Some(s), None) => SubscriberInput::Valid(s),
            (None, None) => SubscriberInput::Absent,
        };
        CreateRequest {
            policy: &self.policy,
            subscriber,
            channel: &self.channel,
            sim: self.sim,
            imei: self.imei.as_deref(),
            id_hashes: &self.id_hashes,
            now_ms,
        }
    }

    /// The ID hash new rows are written under (the current pepper key's), when the
    /// subscriber is valid.
    pub fn id_hash(&self) -> Option<&IdHash> {
        self.subscriber.as_ref().and(self.id_hashes.first())
    }

    /// The audit record of this check's decision (`activation.create` or
    /// `activation.validate`), about `order` when one was created.
    pub fn audit(
        &self,
        action: &str,
        decision: &Decision,
        order: Option<&Order>,
        idempotency_key: Option<&str>,
        now_ms: u64,
    ) -> AuditRecord {
        let (outcome, reasons) = decision.audit();
        AuditRecord {
            seq: 0,
            at_ms: now_ms,
            actor: self.actor.clone(),
            subject: Subject {
                order_id: order.map(|o| o.id.clone()),
                iccid: order.map(|o| o.iccid.to_string()),
                imsi: order.map(|o| o.imsi.to_string()),
                msisdn: order.map(|o| o.msisdn.to_string()),
                id_hash: self.id_hash().map(ToString::to_string),
            },
            action: action.to_owned(),
            rule: None,
            policy_version: Some(self.policy.version.clone()),
            outcome,
            reasons,
            evidence: self.evidence.clone(),
            idempotency_key: idempotency_key.map(str::to_owned),
            attrs: Vec::new(),
        }
    }
}

/// What an allowed activation carries for the rest of its life: enough for the store to
/// drop the line from the ID's live-line count when the order fails or the line is
/// terminated, and for the engine to know what was decided. Never the ID itself.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrderCompliance {
    /// The enterprise the line counts in.
    pub enterprise: String,
    /// The keyed ID hash the line is indexed under (`None`: no valid subscriber).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_hash: Option<String>,
    /// The policy version that allowed it.
    pub policy_version: String,
    /// Risk rules hit at creation (`risk:<rule>:<facts>`): the line opens in
    /// `pending_verification`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub risk: Vec<String>,
    /// The identity verification the engine runs before any southbound step: set for
    /// every valid subscriber, with what the policy demands of the check (`None`: no
    /// valid subscriber, nothing to verify).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<crate::order::VerifyTerms>,
    /// How long the line has to re-verify once it opens in `pending_verification` (the
    /// policy's `reverify_deadline_ms` when the order was allowed; orders stored before
    /// it existed read 24 h, the default of every market).
    #[serde(default = "default_reverify_after_ms")]
    pub reverify_after_ms: u64,
    /// A lifecycle order's line: the activation that opened it (its records name it, so
    /// they count where the line was sold).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    /// The handset of the sale (`ComplianceCheck::handset`): the line it opens keeps it
    /// as its first handset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handset: Option<super::Handset>,
}

/// The verification an allowing create commit records on the order: the one decided
/// before the commit (`ComplianceCheck::verified`), when the commit asks for one
/// (`OrderCompliance::verify`); `None` otherwise (the engine asks after the commit).
pub fn decided_identity(
    check: &ComplianceCheck,
    compliance: Option<&OrderCompliance>,
) -> Option<crate::order::IdentityStep> {
    compliance
        .and_then(|c| c.verify.as_ref())
        .and(check.verified.clone())
}

fn default_reverify_after_ms() -> u64 {
    crate::compliance::policy::DAY_MS
}

impl OrderCompliance {
    /// What an allowed decision leaves on the order.
    pub fn allowed(check: &ComplianceCheck, decision: &Decision) -> Option<Self> {
        let Decision::Allow(a) = decision else {
            return None;
        };
        Some(Self {
            enterprise: check.enterprise.clone(),
            id_hash: a
                .count_line
                .then(|| check.id_hash().map(ToString::to_string))
                .flatten(),
            policy_version: check.policy.version.clone(),
            risk: decision.audit().1,
            verify: check.verify_terms(),
            reverify_after_ms: check.policy.reverify_deadline_ms,
            line: None,
            handset: check.handset.clone(),
        })
    }
}

/// The store's answer to a compliance refusal: what to tell the caller (nothing was
/// reserved; the refusal's audit record and any freeze were committed).
pub type ComplianceRefusal = Box<Refused>;

/// The `compliance.channel_frozen` event of a refusal that froze a channel member
/// (`None`: it froze nothing): which member, the window it breached and its limit. No
/// subscriber detail: the refusal's internal reason (which may name the ID's counter)
/// stays in the audit record.
pub fn frozen_event(refused: &Refused, now_ms: u64) -> Option<serde_json::Value> {
    let target = refused.freeze.as_ref()?;
    Some(serde_json::json!({
        "member": target.member.as_str(),
        "store": target.store,
        "id": target.id,
        "window": refused.refusal.extras.window,
        "limit": refused.refusal.extras.limit,
        "frozen_at": crate::clock::rfc3339(now_ms),
    }))
}

/// Scopes a velocity key's subject for storage: the ID counter per enterprise, the
/// channel counters per tenant. Both backends key their counters by this string and the
/// bucket number.
pub fn velocity_scope(key: &VelocityKey, tenant: &str, enterprise: &str) -> String {
    if key.subject.starts_with("id:") {
        format!("e/{enterprise}/{}/{}", key.window.as_str(), key.subject)
    } else {
        format!("t/{tenant}/{}/{}", key.window.as_str(), key.subject)
    }
}

/// One channel member in the registry (per tenant). A store's own entry has
/// `member = Store` and `id == store`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryEntry {
    /// The kind of member.
    pub member: Member,
    /// The store it belongs to (readers: the store they are installed in).
    pub store: String,
    /// Its id (the store id again for a store).
    pub id: String,
    /// `Enabled`, `Disabled` (kill switch) or `Frozen` (velocity breach).
    /// `NotRegistered` is never stored.
    pub status: Registration,
    /// Free text (a store's address, a clerk's display name). Not secret, not an ID.
    pub label: Option<String>,
    /// A store's opening hours (risk rule "outside store hours"), stores only.
    pub hours: Option<StoreHours>,
    /// Unix ms of the last change.
    pub updated_at_ms: u64,
}

impl RegistryEntry {
    /// The audit record of an operator putting this entry for `tenant`.
    pub fn audit(&self, tenant: &str, actor: Actor) -> AuditRecord {
        AuditRecord {
            at_ms: self.updated_at_ms,
            actor,
            action: "registry.put".to_owned(),
            outcome: crate::compliance::audit::Outcome::Record,
            attrs: vec![
                ("tenant".to_owned(), tenant.to_owned()),
                ("member".to_owned(), self.member.as_str().to_owned()),
                ("store".to_owned(), self.store.clone()),
                ("id".to_owned(), self.id.clone()),
                ("status".to_owned(), self.status.as_str().to_owned()),
            ],
            ..AuditRecord::default()
        }
    }
}

/// The registry entry a velocity breach leaves for `target` (`Frozen`, from `now_ms`):
/// the member's entry with its status changed, or a new entry when the member was not
/// registered (a market without a required registry), so the freeze holds on the next
/// order either way.
pub fn frozen_entry(
    existing: Option<RegistryEntry>,
    target: &crate::compliance::channel::FreezeTarget,
    now_ms: u64,
) -> RegistryEntry {
    let mut e = existing.unwrap_or_else(|| RegistryEntry {
        member: target.member,
        store: target.store.clone(),
        id: target.id.clone(),
        status: Registration::Frozen,
        label: None,
        hours: None,
        updated_at_ms: now_ms,
    });
    e.status = Registration::Frozen;
    e.updated_at_ms = now_ms;
    e
}

/// A blocklist entry (per enterprise). For `ListKind::IdHash` the value is an ID hash
/// (`<key id>:<hex>`), never an ID number; for the channel lists `store`, `store/clerk`,
/// `store/terminal`; readers by serial; handsets by IMEI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlocklistEntry {
    /// The list.
    pub list: ListKind,
    /// The subject.
    pub value: String,
    /// When it is in force.
    pub span: Span,
    /// Why (operator's words; audited; never sent to a channel).
    pub reason: String,
    /// Unix ms it was added.
    pub created_at_ms: u64,
}

/// A stored audit row: the canonical record bytes and the chain hash after them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRow {
    /// Position in the chain, from 1.
    pub seq: u64,
    /// `AuditRecord::encode` of the record (whose `seq` is this one).
    pub bytes: Vec<u8>,
    /// `SHA-256(previous hash ‖ bytes)`.
    pub hash: [u8; 32],
}

/// An operator change of the registry or a blocklist, applied with its audit record in
/// one commit.
#[derive(Clone, Debug)]
pub enum ComplianceChange {
    /// Create or replace a registry entry (tenant-scoped).
    PutRegistry {
        /// The tenant.
        tenant: String,
        /// The entry.
        entry: RegistryEntry,
    },
    /// Add a blocklist entry (enterprise-scoped). For an ID entry the store checks
    /// `blocklist::check_id_entry(rules, existing spans of that ID, entry.span)` and
    /// answers its refusal, changing nothing.
    AddBlock {
        /// The enterprise.
        enterprise: String,
        /// The entry.
        entry: BlocklistEntry,
        /// The lifetime rules of the tenant's policy.
        rules: crate::compliance::policy::BlocklistRules,
    },
    /// End every entry in force for a subject now (`span.end_ms = now`); history stays.
    EndBlock {
        /// The enterprise.
        enterprise: String,
        /// The list.
        list: ListKind,
        /// The subject.
        value: String,
        /// Now.
        now_ms: u64,
    },
    /// Nothing but the audit record (an export, a key rotation, a CLI action).
    AuditOnly,
    /// Compare-and-swap of one store-terminal record (`terminal::records`): written only
    /// if the record is still `expect` (`None`: absent), else `Stale` and nothing
    /// (no audit record either). `value: None` removes it.
    TerminalSwap {
        /// The tenant.
        tenant: String,
        /// The record's key (`terminal::records::*_key`).
        key: String,
        /// The bytes the caller read.
        expect: Option<Vec<u8>>,
        /// The bytes to write, or `None` to remove the record.
        value: Option<Vec<u8>>,
    },
}

/// The outcome of a [`ComplianceChange`].
#[derive(Clone, Debug, PartialEq)]
pub enum ComplianceChangeOutcome {
    /// Applied, with its audit record.
    Applied,
    /// Refused (a blocklist lifetime rule); nothing changed.
    Refused(Refusal),
    /// `EndBlock` found no entry in force.
    NotFound,
    /// `TerminalSwap` found the record changed since it was read; nothing written.
    Stale,
}

/// Which registry or blocklist rows to list.
#[derive(Clone, Debug, Default)]
pub struct ComplianceQuery {
    /// Only this member kind / list (registry / blocklists).
    pub member: Option<Member>,
    /// Only this list (blocklists).
    pub list: Option<ListKind>,
    /// Only this store (registry).
    pub store: Option<String>,
}

/// An activation's row in the live-line index: the line counts against `id_hash` in
/// `enterprise` until it fails or is terminated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiveLine<'a> {
    /// The enterprise it counts in.
    pub enterprise: &'a str,
    /// The keyed ID hash it is indexed under.
    pub id_hash: &'a str,
    /// The activation order.
    pub order_id: &'a str,
}

/// The live-line row of an activation whose create commit indexed it (an allowed order
/// with a valid ID); `None` for any other order.
pub fn live_line(activation: &Order) -> Option<LiveLine<'_>> {
    if activation.kind != crate::order::OrderKind::Activation {
        return None;
    }
    let c = activation.compliance.as_ref()?;
    Some(LiveLine {
        enterprise: &c.enterprise,
        id_hash: c.id_hash.as_deref()?,
        order_id: &activation.id,
    })
}

/// Which line a new version of an order stops counting (see [`stops_counting`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopsCounting<'a> {
    /// The order is an activation that ended `failed`: its own row goes.
    Own(LiveLine<'a>),
    /// The order terminated this subscription: the row of the line's activation
    /// (`Subscription::activation_id`, then [`live_line`] of that order) goes.
    Line {
        /// The subscription id.
        subscription: &'a str,
    },
}

/// Whether `order`, as it is being written over a version in status `previous`, stops a
/// line counting against its ID: an activation that ends `failed`, or a terminate order
/// that completes. Lines in progress, active, suspended, swapped or renumbered keep
/// counting. Both backends call this in the commit that writes the order.
pub fn stops_counting(previous: OrderStatus, order: &Order) -> Option<StopsCounting<'_>> {
    use crate::order::OrderKind;
    if previous == order.status {
        return None;
    }
    match (order.kind, order.status) {
        (OrderKind::Activation, OrderStatus::Failed) => live_line(order).map(StopsCounting::Own),
        (OrderKind::Terminate | OrderKind::PortOut, OrderStatus::Completed) => {
            order.lifecycle.as_ref().map(|l| StopsCounting::Line {
                subscription: &l.subscription,
            })
        }
        _ => None,
    }
}

//! The decision of an order's create commit (and of `POST /v1/activations/validate`),
//! as one pure function. The store calls `plan` for what to read, reads it inside the same
//! transaction as the reservation, and calls `decide`; on `Allow` it writes the order,
//! increments the velocity buckets and indexes the live line in that commit, so no race
//! lets an extra line through. Checks run in a fixed order and the first refusal wins:
//! channel type, registry, identity, blocklists, the per-ID quota, then velocity.

use super::audit::Outcome;
use super::blocklist::ListKind;
use super::channel::{ChannelRef, FreezeTarget, Member, Registration, RegistryView};
use super::id_hash::IdHash;
use super::policy::{ChannelKind, DAY_MS, Policy, StoreHours};
use super::refusal::Refusal;
use super::risk::{self, ActivationFacts, RiskHit};
use super::subscriber::{CaptureMethod, Subscriber};
use super::velocity::{self, VelocityKey, Window};

/// The card an order is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimKind {
    /// A physical SIM.
    Physical,
    /// An eSIM profile.
    Esim,
}

/// The `subscriber` of a request, after `Subscriber::from_json`.
#[derive(Clone, Copy, Debug)]
pub enum SubscriberInput<'a> {
    /// None sent.
    Absent,
    /// Sent and valid.
    Valid(&'a Subscriber),
    /// Sent and not valid: refused, except under a policy that keeps invalid
    /// subscribers (the sandbox), where it is kept as sent and checked no further.
    Invalid(&'a Refusal),
}

/// What an order asks for.
#[derive(Clone, Copy, Debug)]
pub struct CreateRequest<'a> {
    /// The tenant's policy.
    pub policy: &'a Policy,
    /// The subscriber.
    pub subscriber: SubscriberInput<'a>,
    /// The channel.
    pub channel: &'a ChannelRef,
    /// Physical or eSIM.
    pub sim: SimKind,
    /// The handset's IMEI, when the order names one.
    pub imei: Option<&'a str>,
    /// The ID's hashes under every pepper key, current first (`IdHasher::hash_all`;
    /// empty without a valid subscriber). Live lines and blocklisted IDs match any of
    /// them; new rows and the ID's velocity counter use the first.
    pub id_hashes: &'a [IdHash],
    /// Now (Unix ms, the store's commit clock).
    pub now_ms: u64,
}

/// What the store reads for a decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadPlan {
    /// The velocity counters (bucket ranges) to read.
    pub velocity: Vec<VelocityKey>,
    /// The blocklist subjects to look up (list, value).
    pub blocklist: Vec<(ListKind, String)>,
    /// Whether to look the channel members up in the registry (store channels).
    pub registry: bool,
    /// Whether to count the ID's live lines (under every hash of `id_hashes`).
    pub live_lines: bool,
}

/// What the store read, in the same transaction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reads {
    /// Live lines of the ID across the enterprise: every tenant of it, lines in progress
    /// included, terminated and failed ones not.
    pub live_lines: u32,
    /// For each key of the plan, its buckets' counts (`(bucket, count)`).
    pub velocity: Vec<(VelocityKey, Vec<(u64, u32)>)>,
    /// The lists with an entry in force for a subject of the plan.
    pub blocklist_hits: Vec<ListKind>,
    /// The registry's answer for the channel members.
    pub registry: RegistryView,
    /// The store's own opening hours, if the registry has them.
    pub store_hours: Option<StoreHours>,
}

/// The decision.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Go ahead.
    Allow(Allowed),
    /// Refuse; nothing is reserved.
    Refuse(Refused),
}

/// An allowed order and what its commit also writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allowed {
    /// Risk rules hit: the line opens in `pending_verification`.
    pub risk_hits: Vec<RiskHit>,
    /// Velocity counters to increment (at each key's `current` bucket).
    pub bump: Vec<VelocityKey>,
    /// Index the new line as live under the ID hash (when there is a valid ID).
    pub count_line: bool,
}

/// A refused order.
#[derive(Clone, Debug, PartialEq)]
pub struct Refused {
    /// The problem to answer with.
    pub refusal: Refusal,
    /// A channel member to freeze in the same commit (velocity breach, policy on).
    pub freeze: Option<FreezeTarget>,
}

impl Decision {
    /// What the audit record of this decision carries: its outcome and reasons (the
    /// refusal's code and internal reason, which may name a blocklist; or each risk hit
    /// as `risk:<rule>:<facts>`).
    pub fn audit(&self) -> (Outcome, Vec<String>) {
        match self {
            Self::Allow(a) => (
                Outcome::Allow,
                a.risk_hits
                    .iter()
                    .map(|h| format!("risk:{}:{}", h.rule.as_str(), h.detail))
                    .collect(),
            ),
            Self::Refuse(r) => {
                let mut reasons = vec![r.refusal.code.to_owned()];
                if r.refusal.audit_reason != r.refusal.code {
                    reasons.push(r.refusal.audit_reason.clone());
                }
                if let Some(f) = &r.freeze {
                    reasons.push(format!("freeze:{}:{}/{}", f.member.as_str(), f.store, f.id));
                }
                (Outcome::Refuse, reasons)
            }
        }
    }
}

/// What the store must read for `req`.
pub fn plan(req: &CreateRequest) -> ReadPlan {
    let valid = match req.subscriber {
        SubscriberInput::Valid(s) => Some(s),
        _ => None,
    };
    let reader = valid.and_then(|s| s.capture.reader_serial());
    let hashes = if valid.is_some() { req.id_hashes } else { &[] };
    let hash = hashes.first();
    let mut blocklist: Vec<(ListKind, String)> = hashes
        .iter()
        .map(|h| (ListKind::IdHash, h.to_string()))
        .collect();
    if let ChannelRef::Store(s) = req.channel {
        blocklist.push((ListKind::Store, s.store.clone()));
        if let Some(c) = &s.clerk {
            blocklist.push((ListKind::Clerk, format!("{}/{c}", s.store)));
        }
        if let Some(t) = &s.terminal {
            blocklist.push((ListKind::Terminal, format!("{}/{t}", s.store)));
        }
    }
    if let Some(r) = reader {
        blocklist.push((ListKind::Reader, r.to_owned()));
    }
    if let Some(i) = req.imei {
        let forms = super::handset::Imei::parse(i)
            .map_or_else(|| vec![i.to_owned()], |i| i.blocklist_forms());
        blocklist.extend(forms.into_iter().map(|f| (ListKind::Imei, f)));
    }
    ReadPlan {
        velocity: velocity::keys(req.policy, req.channel, reader, hash, req.now_ms),
        blocklist,
        registry: req.channel.kind() == ChannelKind::Store,
        live_lines: hash.is_some(),
    }
}

/// Decides an order from what it asks and what the store read.
pub fn decide(req: &CreateRequest, reads: &Reads) -> Decision {
    match decide_inner(req, reads) {
        Ok(allowed) => Decision::Allow(allowed),
        Err(refused) => Decision::Refuse(*refused),
    }
}

fn refuse(r: Refusal) -> Box<Refused> {
    Box::new(Refused {
        refusal: r,
        freeze: None,
    })
}

fn decide_inner(req: &CreateRequest, reads: &Reads) -> Result<Allowed, Box<Refused>> {
    let p = req.policy;
    let kind = req.channel.kind();
    let rules = p.channel(kind);
    let kind_name = match kind {
        ChannelKind::Store => "store",
        ChannelKind::Online => "online",
    };
    if !rules.allowed {
        return Err(refuse(Refusal::new(
            403,
            "channel_not_allowed",
            "Channel type not allowed",
            format!(
                "this tenant does not accept activations from {kind_name} channels; sell through a registered store"
            ),
        )));
    }
    if req.sim == SimKind::Esim && !rules.esim_allowed {
        return Err(refuse(
            Refusal::new(
                422,
                "esim_channel_not_allowed",
                "eSIM not allowed on this channel",
                format!("this market does not allow eSIM activation through {kind_name} channels; activate the eSIM in a registered store, or sell a physical SIM"),
            )
            .at("sim.type"),
        ));
    }
    let subscriber = match req.subscriber {
        SubscriberInput::Valid(s) => Some(s),
        SubscriberInput::Invalid(r) if !p.keep_invalid_subscriber => {
            return Err(refuse(r.clone()));
        }
        SubscriberInput::Absent if p.identity_required => {
            return Err(refuse(
                Refusal::new(
                    422,
                    "subscriber_required",
                    "Subscriber identity required",
                    "this market requires the subscriber's identity on every order: send `subscriber` with `name`, `id_type`, `id_number`, `capture` and `evidence`".to_owned(),
                )
                .at("subscriber"),
            ));
        }
        SubscriberInput::Absent | SubscriberInput::Invalid(_) => None,
    };
    registry(req, reads, subscriber, rules.registry_required)?;
    if let Some(s) = subscriber {
        identity(req, s)?;
    }
    if !reads.blocklist_hits.is_empty() {
        let mut lists: Vec<&str> = reads.blocklist_hits.iter().map(|k| k.as_str()).collect();
        lists.sort_unstable();
        lists.dedup();
        return Err(refuse(
            Refusal::new(
                403,
                "blocked",
                "Activation not possible",
                "this activation cannot be completed; the customer or the sales channel should contact the operator".to_owned(),
            )
            .audit(format!("blocklist:{}", lists.join(","))),
        ));
    }
    let id_hash = subscriber.and(req.id_hashes.first());
    if let (Some(_), Some(limit)) = (id_hash, p.lines_per_id) {
        if reads.live_lines >= limit {
            let mut r = Refusal::new(
                422,
                "id_quota_exceeded",
                "Line limit for this ID reached",
                format!("this ID already has {} live lines, the most allowed ({limit}) across the operator's brands; a line must be terminated before another can be opened", reads.live_lines),
            )
            .at("subscriber.id_number");
            r.extras.limit = Some(limit);
            r.extras.active = Some(reads.live_lines);
            return Err(refuse(r));
        }
    }
    velocity_check(req, reads)?;
    let burst = reads
        .velocity
        .iter()
        .find(|(k, _)| k.window == Window::StoreBurst)
        .map(|(k, b)| velocity::total(k, b));
    let facts = ActivationFacts {
        at_store: kind == ChannelKind::Store,
        lines_after: id_hash.map(|_| (reads.live_lines.saturating_add(1), p.lines_per_id)),
        store_burst_before: burst,
        store_hours: reads.store_hours,
        now_ms: req.now_ms,
    };
    Ok(Allowed {
        risk_hits: risk::on_activation(&p.risk, &facts),
        bump: reads.velocity.iter().map(|(k, _)| k.clone()).collect(),
        count_line: id_hash.is_some(),
    })
}

/// Store channels: every member registered (where required) and none disabled or frozen.
fn registry(
    req: &CreateRequest,
    reads: &Reads,
    subscriber: Option<&Subscriber>,
    required: bool,
) -> Result<(), Box<Refused>> {
    let ChannelRef::Store(s) = req.channel else {
        return Ok(());
    };
    let reader = subscriber.and_then(|s| s.capture.reader_serial());
    let members = [
        (
            Member::Store,
            Some(s.store.as_str()).filter(|v| !v.is_empty()),
        ),
        (Member::Clerk, s.clerk.as_deref()),
        (Member::Terminal, s.terminal.as_deref()),
        (Member::Reader, reader),
    ];
    for (m, id) in members {
        // A reader is named only by a card-reader capture; without one there is none.
        if m == Member::Reader && id.is_none() {
            continue;
        }
        let what = m.as_str();
        let (code, detail) = match (id, reads.registry.get(m)) {
            (None, _) if required => (
                "channel_not_registered",
                format!(
                    "this market requires registered store channels: name the {what} (`{}`)",
                    m.field()
                ),
            ),
            (Some(_), Registration::NotRegistered) if required => (
                "channel_not_registered",
                format!(
                    "this {what} is not registered for this store; register it (operator key: /v1/channels) or use a registered one"
                ),
            ),
            (Some(_), Registration::Disabled) => (
                "channel_disabled",
                format!("this {what} is disabled for activations; ask the operator to enable it"),
            ),
            (Some(_), Registration::Frozen) => (
                "channel_frozen",
                format!(
                    "this {what} is frozen after too many activations; ask the operator to review and unfreeze it"
                ),
            ),
            _ => continue,
        };
        return Err(refuse(
            Refusal::new(403, code, "Sales channel not allowed", detail).at(m.field()),
        ));
    }
    Ok(())
}

/// A valid subscriber against the policy: document type, birth date, capture, evidence.
fn identity(req: &CreateRequest, s: &Subscriber) -> Result<(), Box<Refused>> {
    let p = req.policy;
    let rules = p.channel(req.channel.kind());
    if !p.accepted_id_types.contains(&s.id_type) {
        let mut r = Refusal::new(
            422,
            "id_type_not_accepted",
            "ID document type not accepted",
            "this market does not accept this ID document type; see `allowed`".to_owned(),
        )
        .at("subscriber.id_type");
        r.extras.allowed = p.accepted_id_types.iter().map(|t| t.as_str()).collect();
        return Err(refuse(r));
    }
    if let Some(born) = s.id_number.birth_date(s.id_type) {
        let today = i64::try_from(req.now_ms / DAY_MS).unwrap_or(i64::MAX);
        // A day's grace: the number's date is local, `now` is UTC.
        if born.unix_days() > today.saturating_add(1) {
            return Err(refuse(
                Refusal::new(
                    400,
                    "id_number_invalid",
                    "ID number not valid for its type",
                    "`subscriber.id_number` holds a birth date after today; re-read the document"
                        .to_owned(),
                )
                .at("subscriber.id_number"),
            ));
        }
    }
    let method = s.capture.method();
    if !rules.capture.contains(&method) {
        let detail = if rules.capture == [CaptureMethod::CardReader] {
            "this market requires the ID to be read by a registered ID-card reader here; typed ID numbers are not accepted: send `capture.method` `card_reader` with the reader's serial".to_owned()
        } else {
            "this capture method is not accepted here; see `allowed`".to_owned()
        };
        let mut r = Refusal::new(
            422,
            "id_capture_method_not_allowed",
            "ID capture method not allowed",
            detail,
        )
        .at("subscriber.capture.method");
        r.extras.allowed = rules.capture.iter().map(|m| m.as_str()).collect();
        return Err(refuse(r));
    }
    let face_required = |field: &str, detail: &str| {
        refuse(
            Refusal::new(
                422,
                "face_check_required",
                "Face check required",
                detail.to_owned(),
            )
            .at(field),
        )
    };
    if rules.face_match_required {
        let Some(f) = &s.evidence.face_match else {
            return Err(face_required(
                "subscriber.evidence.face_match",
                "this market requires a face match against the ID photo before a line is opened: send `evidence.face_match` with the vendor's `transaction_id`, `score` and `liveness`",
            ));
        };
        if !f.liveness || f.score < rules.min_face_score {
            return Err(refuse(
                Refusal::new(
                    422,
                    "face_check_failed",
                    "Face check failed",
                    format!("the face match did not pass (liveness must be true and the score at least {}); repeat the face check with the customer present", rules.min_face_score),
                )
                .at("subscriber.evidence.face_match"),
            ));
        }
    }
    if rules.video_required && s.evidence.video_id.is_none() {
        return Err(face_required(
            "subscriber.evidence.video",
            "this market requires a real-person video check for online activations: send `evidence.video.id` from the video verification",
        ));
    }
    Ok(())
}

/// Every limited window under its limit; on a breach, the window that clears last.
fn velocity_check(req: &CreateRequest, reads: &Reads) -> Result<(), Box<Refused>> {
    let p = req.policy;
    let mut worst: Option<(Window, u32, u64, &VelocityKey)> = None;
    for (key, buckets) in &reads.velocity {
        let Some(limit) = key.window.limit(p) else {
            continue;
        };
        if velocity::total(key, buckets) < u64::from(limit) {
            continue;
        }
        let wait = velocity::retry_after_ms(key.window.spec(p), key, limit, buckets, req.now_ms);
        if worst.is_none_or(|(_, _, w, _)| wait > w) {
            worst = Some((key.window, limit, wait, key));
        }
    }
    let Some((window, limit, wait_ms, key)) = worst else {
        return Ok(());
    };
    let retry_s = wait_ms.div_ceil(1000).max(1);
    let mut r = Refusal::new(
        429,
        "velocity_limit",
        "Too many activations",
        format!(
            "the limit of {limit} activations ({}) is reached; retry after {retry_s} s",
            window.as_str()
        ),
    );
    r.extras.limit = Some(limit);
    r.extras.window = Some(window.as_str());
    r.extras.retry_after_s = Some(retry_s);
    let r = r.audit(format!("velocity:{}:{}", window.as_str(), key.subject));
    let reader = match req.subscriber {
        SubscriberInput::Valid(s) => s.capture.reader_serial(),
        _ => None,
    };
    let freeze = match (p.velocity.freeze_on_breach, window.freezes(), req.channel) {
        (true, Some(member), ChannelRef::Store(s)) => {
            let target = match member {
                Member::Store => Some((Member::Store, s.store.as_str())),
                Member::Clerk => s.clerk.as_deref().map(|c| (Member::Clerk, c)),
                // The device the window counted: the terminal, else the reader.
                _ => req.channel.device(reader),
            };
            target.map(|(member, id)| FreezeTarget {
                member,
                store: s.store.clone(),
                id: id.to_owned(),
            })
        }
        _ => None,
    };
    Err(Box::new(Refused { refusal: r, freeze }))
}

#[cfg(test)]
mod tests;

//! A handset report on a line (`Store::record_handset`) as both backends apply it: the
//! command, the handset the line keeps (a keyed MAC of the IMEI's 14 digits and the
//! model's TAC, never the IMEI), and what a report does: nothing when the feed repeats
//! itself; otherwise the risk rules for a new or blocklisted handset
//! (`compliance::handset`, `risk::on_line_event`) and, when one hits, the line flagged for
//! its second verification (`reverify::line_change`), with the audit record and the event.
//! Each backend only reads and writes its rows.

use super::reverify::{LineChange, line_change, line_record};
use super::{LifecycleRejection, Subscription, SubscriptionState, Tenant};
use crate::compliance::audit::{Actor as AuditActor, AuditRecord, Outcome};
use crate::compliance::handset::{Seen, seen};
use crate::compliance::reverify::Event;
use crate::compliance::risk::{self, RiskHit, RiskRule};
use serde::{Deserialize, Serialize};
use sim_profiles::Msisdn;

/// Input of `Store::record_handset`: the network saw the line holding `msisdn` in a
/// handset.
#[derive(Clone, Debug)]
pub struct NewHandset {
    /// The tenant of the API key.
    pub tenant: String,
    /// The line, by its number.
    pub msisdn: Msisdn,
    /// The keyed MAC of the IMEI's 14 digits (equal for one handset, whatever form the
    /// IMEI was reported in).
    pub mac: String,
    /// The IMEI's type allocation code (the model).
    pub tac: String,
    /// The values the IMEI blocklist is looked up under (`Imei::blocklist_forms`): read
    /// in the commit, never stored.
    pub blocklist: Vec<String>,
    /// Who reports, for the audit record.
    pub audit_actor: AuditActor,
    /// Unix ms now.
    pub now_ms: u64,
}

/// The handset a line was last reported in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handset {
    /// The keyed MAC of its IMEI's 14 digits.
    pub mac: String,
    /// Its type allocation code (the model).
    pub tac: String,
    /// Whether its IMEI was on a blocklist in force when reported.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub blocked: bool,
    /// Unix ms of the report that set it.
    pub seen_at_ms: u64,
}

/// Result of `Store::record_handset`.
#[derive(Clone, Debug)]
pub enum HandsetOutcome {
    /// Taken: the line after it, whether it changed anything (a repeat of the last
    /// report writes nothing), whether it is another handset than the last, and the
    /// risk rules it hit (the line is then pending its second verification).
    Recorded {
        /// The line.
        subscription: Box<Subscription>,
        /// The report changed the line.
        written: bool,
        /// Another handset than the last reported (the baseline is the sale's handset,
        /// else the first report).
        changed: bool,
        /// The rules that hit.
        rules: Vec<RiskRule>,
    },
    /// No such line (or another tenant's), or a terminated one: nothing changed.
    Rejected(LifecycleRejection),
}

/// What a report does to the line the commit read, given whether the IMEI is on a
/// blocklist in force.
#[derive(Clone, Debug)]
pub struct HandsetChange {
    /// What the report changes (`None`: nothing, the feed repeated itself).
    pub seen: Option<Seen>,
    /// The rules the tenant's policy has on that hit.
    pub hits: Vec<RiskHit>,
    /// The line's verification change when a rule hit.
    pub line: Option<LineChange>,
    /// The policy version, for the audit record.
    pub policy_version: Option<String>,
}

/// The line `line` (read in the commit) as a report may change it, or the outcome that
/// ends the command with nothing written.
pub fn handset_line(
    line: Option<Subscription>,
    h: &NewHandset,
) -> Result<Subscription, HandsetOutcome> {
    match line {
        Some(l) if l.tenant != h.tenant => {
            Err(HandsetOutcome::Rejected(LifecycleRejection::NotFound))
        }
        None => Err(HandsetOutcome::Rejected(LifecycleRejection::NotFound)),
        Some(l) if l.state == SubscriptionState::Terminated => {
            Err(HandsetOutcome::Rejected(LifecycleRejection::Terminated))
        }
        Some(l) => Ok(l),
    }
}

/// What report `h` does to `sub` under its tenant's policy (`None`: a tenant whose policy
/// does not resolve has no risk rules), the IMEI `blocked` or not.
pub fn handset_change(
    sub: &Subscription,
    tenant: Option<&Tenant>,
    h: &NewHandset,
    blocked: bool,
) -> HandsetChange {
    let last = sub.handset.as_ref().map(|x| (x.mac.as_str(), x.blocked));
    let seen = seen(last, &h.mac, blocked);
    let policy = tenant.and_then(|t| t.policy().ok());
    let hits = match (&seen, &policy) {
        (Some(s), Some(p)) => risk::on_line_event(&p.risk, &s.event()),
        _ => Vec::new(),
    };
    let line = match (&policy, hits.is_empty()) {
        (Some(p), false) => {
            let rules = hits.iter().map(|x| x.rule).collect();
            // A flag is never refused.
            line_change(sub, Event::Flag(rules), p.reverify_deadline_ms, h.now_ms).ok()
        }
        _ => None,
    };
    HandsetChange {
        seen,
        hits,
        line,
        policy_version: policy.map(|p| p.version),
    }
}

impl HandsetChange {
    /// Makes the change on `sub` (the caller stores it, keeps the deadline index and
    /// appends the audit record): the handset and, when a rule hit, the verification.
    pub fn apply_to(&self, sub: &mut Subscription, h: &NewHandset) {
        let Some(s) = self.seen else {
            return;
        };
        sub.handset = Some(Handset {
            mac: h.mac.clone(),
            tac: h.tac.clone(),
            blocked: s.blocked,
            seen_at_ms: h.now_ms,
        });
        if let Some(c) = &self.line {
            c.apply_to(sub);
        }
        sub.updated_at_ms = h.now_ms;
    }

    /// Whether the report put the line into `pending_verification` (a new deadline):
    /// `subscription.verification_required` is published then.
    pub fn flags(&self) -> bool {
        self.line.as_ref().is_some_and(|c| c.index.is_some())
    }

    /// The outcome the command answers with, `sub` the line after it.
    pub fn outcome(&self, sub: Subscription) -> HandsetOutcome {
        HandsetOutcome::Recorded {
            subscription: Box::new(sub),
            written: self.seen.is_some(),
            changed: self.seen.is_some_and(|s| s.changed),
            rules: self.hits.iter().map(|x| x.rule).collect(),
        }
    }

    /// The audit record of a report that changed something, on `before` (the line as it
    /// was; `activation` its activation when still stored): `verification.required` when
    /// it flagged the line, `handset.seen` otherwise.
    pub fn audit(
        &self,
        before: &Subscription,
        activation: Option<&crate::order::Order>,
        h: &NewHandset,
    ) -> Option<AuditRecord> {
        let s = self.seen?;
        let action = if self.flags() {
            "verification.required"
        } else {
            "handset.seen"
        };
        let mut r = line_record(before, activation, action, h.audit_actor.clone(), h.now_ms);
        r.outcome = Outcome::Record;
        r.policy_version = self.policy_version.clone().or(r.policy_version);
        r.reasons = self
            .hits
            .iter()
            .map(|x| format!("risk:{}:{}", x.rule.as_str(), x.detail))
            .collect();
        r.evidence.push(format!("tac:{}", h.tac));
        r.attrs.push(("changed".to_owned(), s.changed.to_string()));
        r.attrs.push(("blocked".to_owned(), s.blocked.to_string()));
        if let Some(prev) = &before.handset {
            r.attrs.push(("previous_tac".to_owned(), prev.tac.clone()));
        }
        if let Some(d) = self.line.as_ref().and_then(|c| c.index) {
            r.attrs.push(("deadline_ms".to_owned(), d.to_string()));
        }
        Some(r)
    }
}

#[cfg(test)]
#[path = "handset_tests.rs"]
mod tests;

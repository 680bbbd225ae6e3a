//! The annual compliance report, computed from the audit chain alone (so it counts what
//! was decided, and cannot disagree with what a verifier of the chain sees): per channel
//! and store, activations allowed, activated and failed, refusals by reason,
//! re-verifications (required, passed, failed, expired), suspensions and terminations.
//! Pure: the records are an input; `simgw compliance report` streams them from the store.

use super::audit::{AuditRecord, Outcome};
use std::collections::{BTreeMap, HashMap};

/// One row's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Activations the checks allowed.
    pub allowed: u64,
    /// Activations that reached `active`.
    pub activated: u64,
    /// Activations that ended `failed` after being allowed.
    pub failed: u64,
    /// Refusals by problem code.
    pub refused: BTreeMap<String, u64>,
    /// Lines asked to verify again.
    pub reverify_required: u64,
    /// Re-verifications passed.
    pub reverify_passed: u64,
    /// Re-verifications failed.
    pub reverify_failed: u64,
    /// Re-verifications whose deadline passed.
    pub reverify_expired: u64,
    /// Suspensions completed.
    pub suspensions: u64,
    /// Terminations completed.
    pub terminations: u64,
}

/// Where an activation came from: the channel kind and the store (empty online).
pub type Origin = (String, String);

/// The report: counters per origin, for records with `from_ms <= at_ms < to_ms`.
#[derive(Clone, Debug, Default)]
pub struct Report {
    from_ms: u64,
    to_ms: u64,
    rows: BTreeMap<Origin, Counts>,
    /// Each allowed order's origin, so its later records are counted where it was sold.
    origins: HashMap<String, Origin>,
}

impl Report {
    /// An empty report for `[from_ms, to_ms)`.
    pub fn new(from_ms: u64, to_ms: u64) -> Self {
        Self {
            from_ms,
            to_ms,
            ..Self::default()
        }
    }

    /// Counts one record (records must come in chain order).
    pub fn add(&mut self, r: &AuditRecord) {
        let order = r.subject.order_id.clone();
        let own = (
            r.actor.channel.clone(),
            r.actor.store.clone().unwrap_or_default(),
        );
        // An allowed activation fixes its order's origin even when it is sold before
        // the period, so later records of the order count where it was sold.
        if r.action == "activation.create" && r.outcome == Outcome::Allow {
            if let Some(o) = &order {
                self.origins.insert(o.clone(), own.clone());
            }
        }
        if r.at_ms < self.from_ms || r.at_ms >= self.to_ms {
            return;
        }
        // A lifecycle order's records count where its line was sold (`line`: the
        // activation that opened it).
        let origin = attr(r, "line")
            .or(order.as_deref())
            .and_then(|o| self.origins.get(o))
            .cloned()
            .unwrap_or(own);
        let c = self.rows.entry(origin).or_default();
        match (r.action.as_str(), r.outcome) {
            ("activation.create", Outcome::Allow) => c.allowed += 1,
            ("activation.create", Outcome::Refuse) => {
                let code = r.reasons.first().cloned().unwrap_or_default();
                *c.refused.entry(code).or_default() += 1;
            }
            ("order.active", _) => c.activated += 1,
            // A lifecycle order (it has a `kind`) that fails leaves its line as it was:
            // not an activation that failed.
            ("order.failed", _) if kind(r).is_none() => c.failed += 1,
            ("verification.required", _) => c.reverify_required += 1,
            ("verification.passed", _) => c.reverify_passed += 1,
            ("verification.failed", _) => c.reverify_failed += 1,
            ("verification.expired", _) => c.reverify_expired += 1,
            ("order.completed", _) => match kind(r) {
                Some("suspend") => c.suspensions += 1,
                Some("terminate") => c.terminations += 1,
                _ => {}
            },
            _ => {}
        }
    }

    /// The report as CSV: one line per origin and counter (`channel,store,metric,count`),
    /// refusals as `refused:<code>`; a header line first.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("channel,store,metric,count\n");
        for ((channel, store), c) in &self.rows {
            let mut line = |metric: &str, n: u64| {
                if n > 0 {
                    out.push_str(&format!("{},{},{metric},{n}\n", csv(channel), csv(store)));
                }
            };
            line("activations_allowed", c.allowed);
            line("activations_active", c.activated);
            line("activations_failed", c.failed);
            for (code, n) in &c.refused {
                line(&format!("refused:{code}"), *n);
            }
            line("reverification_required", c.reverify_required);
            line("reverification_passed", c.reverify_passed);
            line("reverification_failed", c.reverify_failed);
            line("reverification_expired", c.reverify_expired);
            line("suspensions", c.suspensions);
            line("terminations", c.terminations);
        }
        out
    }

    /// The counters per origin.
    pub fn rows(&self) -> &BTreeMap<Origin, Counts> {
        &self.rows
    }
}

/// A lifecycle order's kind, from the record's `kind` attribute.
fn kind(r: &AuditRecord) -> Option<&str> {
    attr(r, "kind")
}

/// The record's attribute `name`.
fn attr<'a>(r: &'a AuditRecord, name: &str) -> Option<&'a str> {
    r.attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A CSV field: quoted when it holds a comma, a quote or a line break.
fn csv(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::audit::{Actor, Subject};

    fn rec(
        at_ms: u64,
        action: &str,
        outcome: Outcome,
        order: &str,
        store: Option<&str>,
    ) -> AuditRecord {
        AuditRecord {
            at_ms,
            actor: Actor {
                channel: if store.is_some() { "store" } else { "engine" }.to_owned(),
                store: store.map(str::to_owned),
                ..Actor::default()
            },
            subject: Subject {
                order_id: (!order.is_empty()).then(|| order.to_owned()),
                ..Subject::default()
            },
            action: action.to_owned(),
            outcome,
            ..AuditRecord::default()
        }
    }

    #[test]
    fn counts_by_origin_and_attributes_later_records_to_the_sale() {
        let mut refused = rec(20, "activation.create", Outcome::Refuse, "", Some("S1"));
        refused.reasons = vec!["id_quota_exceeded".into()];
        let records = [
            rec(5, "activation.create", Outcome::Allow, "a0", Some("S1")),
            rec(10, "activation.create", Outcome::Allow, "a1", Some("S1")),
            rec(11, "order.active", Outcome::Record, "a1", None),
            rec(12, "order.active", Outcome::Record, "a0", None),
            refused,
            rec(30, "activation.create", Outcome::Allow, "a2", Some("S2")),
            rec(31, "order.failed", Outcome::Record, "a2", None),
            rec(99, "activation.create", Outcome::Allow, "a3", Some("S1")),
        ];
        let mut r = Report::new(10, 99);
        for x in &records {
            r.add(x);
        }
        let s1 = &r.rows()[&("store".to_owned(), "S1".to_owned())];
        // a0 was sold before the period: its activation inside it still counts at S1.
        assert_eq!((s1.allowed, s1.activated), (1, 2));
        assert_eq!(s1.refused.get("id_quota_exceeded"), Some(&1));
        let s2 = &r.rows()[&("store".to_owned(), "S2".to_owned())];
        assert_eq!((s2.allowed, s2.failed), (1, 1));
        let csv = r.to_csv();
        assert!(csv.starts_with("channel,store,metric,count\n"), "{csv}");
        assert!(
            csv.contains("store,S1,refused:id_quota_exceeded,1\n"),
            "{csv}"
        );
        assert!(csv.contains("store,S2,activations_failed,1\n"), "{csv}");
        assert!(
            !csv.contains("S1,activations_allowed,2"),
            "a3 is after the period: {csv}"
        );
    }

    #[test]
    fn lifecycle_orders_count_where_their_line_was_sold() {
        let lifecycle = |action: &str, kind: &str, at_ms| {
            let mut r = rec(at_ms, action, Outcome::Record, "ord_9", None);
            r.attrs = vec![
                ("kind".to_owned(), kind.to_owned()),
                ("line".to_owned(), "a1".to_owned()),
            ];
            r
        };
        let records = [
            rec(1, "activation.create", Outcome::Allow, "a1", Some("S1")),
            lifecycle("order.completed", "suspend", 2),
            lifecycle("order.failed", "terminate", 3),
            lifecycle("order.completed", "terminate", 4),
        ];
        let mut r = Report::new(0, 10);
        for x in &records {
            r.add(x);
        }
        let s1 = &r.rows()[&("store".to_owned(), "S1".to_owned())];
        assert_eq!((s1.suspensions, s1.terminations), (1, 1));
        assert_eq!(
            s1.failed, 0,
            "a failed terminate is not a failed activation"
        );
        assert_eq!(r.rows().len(), 1, "all at the store that sold the line");
    }

    #[test]
    fn fields_with_commas_are_quoted() {
        assert_eq!(csv("a,b"), "\"a,b\"");
        assert_eq!(csv("plain"), "plain");
        assert_eq!(csv("x\"y,"), "\"x\"\"y,\"");
    }
}

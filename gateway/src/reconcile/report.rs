//! The report: one JSON shape for `simgw reconcile --json` and `POST /v1/reconciliations`,
//! and its text rendering for the terminal. It names identifiers and states, never keys.

use super::compare::Comparison;
use super::model::{Difference, DifferenceKind, RepairKind, Unchecked};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Counts of what was compared.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Checked {
    /// Lines in service compared with the HLR.
    pub lines: usize,
    /// eSIM lines whose profile state was compared.
    pub esim_profiles: usize,
    /// Unassigned inventory IMSIs looked up on the HLR (orphan search).
    pub imsis_probed: usize,
}

/// What one safe fix did (or, without `--apply`, would do).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RepairOutcome {
    /// Which fix.
    pub kind: RepairKind,
    /// Owning tenant.
    pub tenant: String,
    /// The subscriber's IMSI.
    pub imsi: String,
    /// The line, for a re-provisioning.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription: Option<String>,
    /// `proposed`, `done`, `skipped` or `failed`.
    pub status: String,
    /// What happened, e.g. the adapter's outcome or refusal.
    pub detail: String,
}

/// A reconciliation's report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    /// `rec_` + 26 characters.
    pub id: String,
    /// When it started (RFC 3339).
    pub created_at: String,
    /// The tenant compared, or `null` for every tenant (the command line).
    pub tenant: Option<String>,
    /// The HLR dialect read.
    pub hlr: &'static str,
    /// Where eSIM profile states came from, or `null` when none can be read (SGP.22 v2
    /// ES2+ has no status query).
    pub profile_status: Option<&'static str>,
    /// True only with no difference and nothing left unchecked.
    pub clean: bool,
    /// How many differences.
    pub differences: usize,
    /// Differences per kind (every kind, zero included).
    pub by_kind: BTreeMap<&'static str, usize>,
    /// What was compared.
    pub checked: Checked,
    /// What could not be compared (an order in flight, a peer's failure).
    pub unchecked: Vec<Unchecked>,
    /// Every difference.
    pub details: Vec<Difference>,
    /// The safe fixes, with `--repair`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub repairs: Vec<RepairOutcome>,
}

impl Report {
    /// The report of `comparison`.
    pub fn new(
        id: String,
        created_at_ms: u64,
        tenant: Option<String>,
        hlr: &'static str,
        profile_status: Option<&'static str>,
        comparison: Comparison,
    ) -> Self {
        let mut by_kind: BTreeMap<&'static str, usize> = DifferenceKind::ALL
            .iter()
            .map(|k| (k.as_str(), 0))
            .collect();
        for d in &comparison.differences {
            *by_kind.entry(d.kind.as_str()).or_default() += 1;
        }
        Self {
            id,
            created_at: crate::clock::rfc3339(created_at_ms),
            tenant,
            hlr,
            profile_status,
            clean: comparison.differences.is_empty() && comparison.unchecked.is_empty(),
            differences: comparison.differences.len(),
            by_kind,
            checked: Checked {
                lines: comparison.lines_checked,
                esim_profiles: comparison.esims_checked,
                imsis_probed: comparison.imsis_probed,
            },
            unchecked: comparison.unchecked,
            details: comparison.differences,
            repairs: Vec::new(),
        }
    }

    /// The summary and every difference, for a terminal.
    pub fn text(&self) -> String {
        let mut s = String::new();
        let c = &self.checked;
        let _ = writeln!(
            s,
            "reconciliation {}: {} lines, {} eSIM profiles, {} unassigned IMSIs checked (HLR: {}, eSIM status: {})",
            self.id,
            c.lines,
            c.esim_profiles,
            c.imsis_probed,
            self.hlr,
            self.profile_status.unwrap_or("not available"),
        );
        let _ = writeln!(
            s,
            "{} difference(s), {} unchecked",
            self.differences,
            self.unchecked.len()
        );
        for (kind, n) in self.by_kind.iter().filter(|(_, n)| **n > 0) {
            let _ = writeln!(s, "  {kind}: {n}");
        }
        for d in &self.details {
            let _ = writeln!(s, "{}", line(d));
        }
        for u in &self.unchecked {
            let what = u
                .subscription
                .as_deref()
                .or(u.imsi.as_ref().map(|i| i.as_str()))
                .unwrap_or("-");
            let _ = writeln!(s, "unchecked {} {what}: {}", u.tenant, u.reason);
        }
        for r in &self.repairs {
            let _ = writeln!(
                s,
                "repair {} {} imsi {}: {} ({})",
                r.kind.as_str(),
                r.tenant,
                r.imsi,
                r.status,
                r.detail
            );
        }
        s
    }
}

/// One difference on one line, e.g.
/// `wrong_msisdn acme sub_01 imsi 001010000000001: expected 8613800000001, found 8613800000077`.
fn line(d: &Difference) -> String {
    let mut s = format!("{} {}", d.kind.as_str(), d.tenant);
    if let Some(sub) = &d.subscription {
        let _ = write!(s, " {sub}");
    }
    if let Some(i) = &d.imsi {
        let _ = write!(s, " imsi {i}");
    }
    if let Some(i) = &d.iccid {
        let _ = write!(s, " iccid {i}");
    }
    if let Some(m) = &d.msisdn {
        let _ = write!(s, " msisdn {m}");
    }
    if !d.holders.is_empty() {
        let _ = write!(s, " held by {}", d.holders.join(", "));
    }
    if let (Some(e), Some(f)) = (&d.expected, &d.found) {
        let _ = write!(s, ": expected {e}, found {f}");
    }
    if let Some(r) = d.repair {
        let _ = write!(s, " [repair: {}]", r.as_str());
    }
    s
}

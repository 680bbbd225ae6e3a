//! The comparison itself: a pure function from the gateway's view and the southbound
//! truth to the differences, with no IO, so every kind of disagreement is tested on
//! crafted inputs.

use super::model::{
    AuthCheck, Difference, DifferenceKind as K, ExpectedLine, GatewayView, HlrView, Observed,
    Truth, Unchecked,
};
use crate::order::EsimState;
use crate::store::SimType;
use adapters::es2plus::ProfileState;
use adapters::hlr::Barring;
use std::collections::{BTreeMap, BTreeSet};

/// What a comparison found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Every difference, lines first (by subscription), then orphans (by IMSI), then
    /// double assignments.
    pub differences: Vec<Difference>,
    /// What could not be compared.
    pub unchecked: Vec<Unchecked>,
    /// Lines compared.
    pub lines_checked: usize,
    /// eSIM lines whose profile state was compared.
    pub esims_checked: usize,
    /// Unassigned inventory IMSIs looked up on the HLR.
    pub imsis_probed: usize,
}

/// Compares `view` with `truth`.
pub fn compare(view: &GatewayView, truth: &Truth) -> Comparison {
    let mut out = Comparison::default();
    let mut lines: Vec<&ExpectedLine> = view.lines.iter().collect();
    lines.sort_by(|a, b| a.subscription.cmp(&b.subscription));
    for line in lines {
        if let Some(order) = &line.inflight {
            out.unchecked.push(Unchecked {
                tenant: line.tenant.clone(),
                subscription: Some(line.subscription.clone()),
                imsi: Some(line.line.imsi.clone()),
                reason: format!("order {order} is in flight on the line"),
            });
            continue;
        }
        out.lines_checked += 1;
        compare_line(line, truth.hlr.get(&line.line.imsi), &mut out);
        match &truth.profiles {
            Some(profiles) if line.sim_type == SimType::Esim => {
                out.esims_checked += 1;
                compare_profile(line, profiles.get(&line.line.iccid), &mut out);
            }
            None if line.sim_type == SimType::Esim => {
                if let Some(e) = &truth.profiles_error {
                    out.unchecked.push(Unchecked {
                        tenant: line.tenant.clone(),
                        subscription: Some(line.subscription.clone()),
                        imsi: Some(line.line.imsi.clone()),
                        reason: e.clone(),
                    });
                }
            }
            _ => {}
        }
    }
    for sim in view.unassigned() {
        out.imsis_probed += 1;
        match truth.hlr.get(&sim.imsi) {
            Some(Observed::Present(v)) => {
                let mut d = Difference::new(K::OrphanOnHlr, &sim.tenant);
                d.imsi = Some(sim.imsi.clone());
                d.iccid = Some(sim.iccid.clone());
                d.msisdn = v.msisdn.clone();
                out.differences.push(d.saw("no subscriber", subscriber(v)));
            }
            Some(Observed::Unreadable(e)) => out.unchecked.push(Unchecked {
                tenant: sim.tenant.clone(),
                subscription: None,
                imsi: Some(sim.imsi.clone()),
                reason: e.clone(),
            }),
            Some(Observed::Absent) | None => {}
        }
    }
    double_assignments(view, &mut out.differences);
    out
}

fn compare_line(line: &ExpectedLine, seen: Option<&Observed>, out: &mut Comparison) {
    let v = match seen {
        Some(Observed::Present(v)) => v,
        Some(Observed::Absent) | None => {
            let d = Difference::of_line(K::MissingOnHlr, line).saw(subscribed(line), "absent");
            out.differences.push(d);
            return;
        }
        Some(Observed::Unreadable(e)) => {
            out.unchecked.push(Unchecked {
                tenant: line.tenant.clone(),
                subscription: Some(line.subscription.clone()),
                imsi: Some(line.line.imsi.clone()),
                reason: e.clone(),
            });
            return;
        }
    };
    if !v.subscribed {
        let d = Difference::of_line(K::MissingOnHlr, line)
            .saw(subscribed(line), "AUC entry only, no HLR subscription");
        out.differences.push(d);
    } else {
        if v.msisdn.as_ref() != line.msisdn() {
            let found = v
                .msisdn
                .as_ref()
                .map_or("no number".to_owned(), |m| m.to_string());
            let expected = line
                .msisdn()
                .map_or("no number".to_owned(), |m| m.to_string());
            out.differences
                .push(Difference::of_line(K::WrongMsisdn, line).saw(expected, found));
        }
        if v.barring != line.barring() {
            out.differences.push(
                Difference::of_line(K::WrongBarring, line)
                    .saw(barring(line.barring()), barring(v.barring)),
            );
        }
    }
    let auth = match v.auth {
        AuthCheck::Matches | AuthCheck::NotReadable => None,
        AuthCheck::Differs => Some("key or function set differs from the card's"),
        AuthCheck::Missing => Some("no AUC entry"),
    };
    if let Some(found) = auth {
        out.differences
            .push(Difference::of_line(K::WrongAuth, line).saw("the card's keys", found));
    }
}

/// The profile states that fit a line in service, given what its notifications said: a
/// released profile may have moved on without the gateway hearing yet, never back.
pub fn acceptable(mirror: Option<EsimState>) -> &'static [ProfileState] {
    use ProfileState::*;
    match mirror {
        Some(EsimState::Installed) => &[Installed],
        Some(EsimState::Downloaded) => &[Downloaded, Installed],
        // A failed download may be tried again, so Error may become Released and go on.
        None | Some(EsimState::Released) | Some(EsimState::Error) => {
            &[Released, Downloaded, Installed, Error]
        }
    }
}

fn compare_profile(line: &ExpectedLine, state: Option<&ProfileState>, out: &mut Comparison) {
    let fits = acceptable(line.esim_mirror);
    if state.is_some_and(|s| fits.contains(s)) {
        return;
    }
    let expected: Vec<&str> = fits.iter().map(ProfileState::as_str).collect();
    let found = state.map_or("unknown to the SM-DP+", ProfileState::as_str);
    out.differences
        .push(Difference::of_line(K::EsimStateMismatch, line).saw(expected.join("|"), found));
}

/// Every card or number with more than one distinct holder.
fn double_assignments(view: &GatewayView, out: &mut Vec<Difference>) {
    let mut cards: BTreeMap<_, BTreeSet<&str>> = BTreeMap::new();
    let mut numbers: BTreeMap<_, BTreeSet<&str>> = BTreeMap::new();
    for h in &view.holdings {
        if let Some(i) = &h.iccid {
            cards.entry((&h.tenant, i)).or_default().insert(&h.holder);
        }
        if let Some(m) = &h.msisdn {
            numbers.entry((&h.tenant, m)).or_default().insert(&h.holder);
        }
    }
    for ((tenant, iccid), holders) in cards.into_iter().filter(|(_, h)| h.len() > 1) {
        let mut d = Difference::new(K::DoubleAssignment, tenant);
        d.iccid = Some(iccid.clone());
        d.holders = holders.into_iter().map(str::to_owned).collect();
        out.push(d);
    }
    for ((tenant, msisdn), holders) in numbers.into_iter().filter(|(_, h)| h.len() > 1) {
        let mut d = Difference::new(K::DoubleAssignment, tenant);
        d.msisdn = Some(msisdn.clone());
        d.holders = holders.into_iter().map(str::to_owned).collect();
        out.push(d);
    }
}

fn subscribed(line: &ExpectedLine) -> String {
    line.msisdn()
        .map_or("subscriber".to_owned(), |m| format!("subscriber with {m}"))
}

fn subscriber(v: &HlrView) -> String {
    match &v.msisdn {
        Some(m) => format!("subscriber with {m}"),
        None => "subscriber without number".to_owned(),
    }
}

fn barring(b: Barring) -> &'static str {
    match (b.outgoing, b.incoming) {
        (false, false) => "not barred",
        (true, true) => "barred",
        (true, false) => "outgoing barred",
        (false, true) => "incoming barred",
    }
}

#[cfg(test)]
#[path = "compare_tests.rs"]
mod tests;

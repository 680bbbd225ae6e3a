//! The safe fixes: re-provision a line's missing subscriber, remove an orphan we created.
//! Both go through the adapters' idempotent `provision`/`deprovision` with the spec the
//! engine builds (keys opened in memory only), so they are as safe to repeat as an
//! engine step: `deprovision` leaves a subscriber whose data are not our card's in place
//! (`LeftForeign`), and `provision` never overwrites a subscriber that differs.
//!
//! Durable first: the plan is written to the store (metadata `reconcile.repair.<id>`)
//! before the first call, and each fix's outcome after its answer, so an interrupted run
//! leaves a record of what may have been sent. Every other kind of difference needs an
//! operator: a wrong number or barring may be the HLR's truth, not ours.

use super::model::{Difference, DifferenceKind, GatewayView, Observed, RepairKind, Truth};
use super::report::RepairOutcome;
use crate::engine::Engine;
use crate::order::Line;
use crate::store::{AdminChange, SimState, Store, StoreError};
use adapters::hlr::{DeprovisionOutcome, HlrProvisioner, ProvisionOutcome};

/// One safe fix, with the line it provisions or removes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    /// Which fix.
    pub kind: RepairKind,
    /// Owning tenant.
    pub tenant: String,
    /// The line re-provisioned (none for an orphan).
    pub subscription: Option<String>,
    /// What is provisioned, or what the orphan holds (number, profile, barring as read).
    pub line: Line,
}

/// The fixes for `differences`: every `missing_on_hlr` of a line in `view`, and every
/// `orphan_on_hlr` as `truth` read it. Pure.
pub fn plan(view: &GatewayView, truth: &Truth, differences: &[Difference]) -> Vec<Fix> {
    let mut fixes = Vec::new();
    for d in differences {
        match d.kind {
            DifferenceKind::MissingOnHlr => {
                let Some(l) = view
                    .lines
                    .iter()
                    .find(|l| Some(&l.subscription) == d.subscription.as_ref())
                else {
                    continue;
                };
                fixes.push(Fix {
                    kind: RepairKind::Reprovision,
                    tenant: l.tenant.clone(),
                    subscription: Some(l.subscription.clone()),
                    line: l.line.clone(),
                });
            }
            DifferenceKind::OrphanOnHlr => {
                let (Some(imsi), Some(iccid)) = (&d.imsi, &d.iccid) else {
                    continue;
                };
                let Some(Observed::Present(v)) = truth.hlr.get(imsi) else {
                    continue;
                };
                fixes.push(Fix {
                    kind: RepairKind::RemoveOrphan,
                    tenant: d.tenant.clone(),
                    subscription: None,
                    line: Line {
                        iccid: iccid.clone(),
                        imsi: imsi.clone(),
                        msisdn: v.msisdn.clone(),
                        hlr_profile_id: v.profile_id.unwrap_or_default(),
                        barred: v.barring.outgoing && v.barring.incoming,
                    },
                });
            }
            _ => {}
        }
    }
    fixes
}

/// The fixes as proposals (nothing sent).
pub fn proposed(fixes: &[Fix]) -> Vec<RepairOutcome> {
    fixes
        .iter()
        .map(|f| outcome(f, "proposed", describe(f)))
        .collect()
}

fn describe(f: &Fix) -> String {
    match (f.kind, &f.line.msisdn) {
        (RepairKind::Reprovision, Some(m)) => format!("provision the line's subscriber with {m}"),
        (RepairKind::Reprovision, None) => "provision the line's subscriber".to_owned(),
        (RepairKind::RemoveOrphan, _) => {
            "remove the subscriber if its data are our card's".to_owned()
        }
    }
}

fn outcome(f: &Fix, status: &str, detail: String) -> RepairOutcome {
    RepairOutcome {
        kind: f.kind,
        tenant: f.tenant.clone(),
        imsi: f.line.imsi.to_string(),
        subscription: f.subscription.clone(),
        status: status.to_owned(),
        detail,
    }
}

/// Performs `fixes` on `hlr`, recording the plan before the first call and each outcome
/// after its answer under metadata `reconcile.repair.<run>`.
pub async fn apply(
    store: &dyn Store,
    engine: &Engine,
    hlr: &dyn HlrProvisioner,
    run: &str,
    fixes: &[Fix],
) -> Result<Vec<RepairOutcome>, StoreError> {
    let mut results = proposed(fixes);
    for r in &mut results {
        r.status = "sending".to_owned();
    }
    journal(store, run, &results).await?;
    for (i, fix) in fixes.iter().enumerate() {
        let (status, detail) = match still_wanted(store, fix).await? {
            Some(why) => ("skipped", why),
            None => perform(engine, hlr, fix).await,
        };
        if let Some(r) = results.get_mut(i) {
            *r = outcome(fix, status, detail);
        }
        tracing::info!(
            run,
            kind = fix.kind.as_str(),
            imsi = fix.line.imsi.as_str(),
            status,
            "reconcile repair"
        );
        journal(store, run, &results).await?;
    }
    Ok(results)
}

/// Why `fix` no longer applies, if the store changed since the comparison (an order
/// started on the line or the card).
async fn still_wanted(store: &dyn Store, fix: &Fix) -> Result<Option<String>, StoreError> {
    match fix.kind {
        RepairKind::Reprovision => {
            let Some(msisdn) = &fix.line.msisdn else {
                return Ok(Some("the line has no number".to_owned()));
            };
            let line = store.subscription(&fix.tenant, msisdn.as_str()).await?;
            Ok(match line {
                Some(l) if l.inflight.is_some() => Some("an order is in flight on the line".into()),
                Some(l) if l.imsi == fix.line.imsi => None,
                _ => Some("the line changed since the comparison".to_owned()),
            })
        }
        RepairKind::RemoveOrphan => Ok(match store.sim_by_imsi(&fix.line.imsi).await? {
            Some(s) if matches!(s.state, SimState::Reserved { .. }) => {
                Some("an order reserved the card since the comparison".to_owned())
            }
            _ => None,
        }),
    }
}

async fn perform(engine: &Engine, hlr: &dyn HlrProvisioner, fix: &Fix) -> (&'static str, String) {
    let owner = fix
        .subscription
        .as_deref()
        .unwrap_or(fix.line.imsi.as_str());
    let spec = match engine.line_spec(owner, &fix.line).await {
        Ok(s) => s,
        Err(e) => return ("failed", e.to_string()),
    };
    match fix.kind {
        RepairKind::Reprovision => match hlr.provision(&spec).await {
            Ok(ProvisionOutcome::Created) => ("done", "provisioned".to_owned()),
            Ok(ProvisionOutcome::AlreadyPresent) => ("done", "already present".to_owned()),
            Err(e) => ("failed", e.to_string()),
        },
        RepairKind::RemoveOrphan => match hlr.deprovision(&spec).await {
            Ok(DeprovisionOutcome::Deleted) => ("done", "removed".to_owned()),
            Ok(DeprovisionOutcome::NotPresent) => ("done", "gone already".to_owned()),
            Ok(DeprovisionOutcome::LeftForeign) => (
                "skipped",
                "left in place: its data are not our card's (not created by us)".to_owned(),
            ),
            Err(e) => ("failed", e.to_string()),
        },
    }
}

/// Writes the run's record (durable on return).
async fn journal(
    store: &dyn Store,
    run: &str,
    results: &[RepairOutcome],
) -> Result<(), StoreError> {
    let value = serde_json::to_vec(results).map_err(|e| StoreError::Backend(e.to_string()))?;
    let change = AdminChange::PutMeta {
        key: format!("reconcile.repair.{run}"),
        value,
    };
    match crate::admin::apply(store, change).await {
        Ok(()) => Ok(()),
        Err(crate::admin::AdminError::Store(e)) => Err(e),
        Err(e) => Err(StoreError::Backend(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::compare::compare;
    use crate::reconcile::model::{AuthCheck, ExpectedLine, HlrView, InventorySim};
    use crate::store::{SimType, SubscriptionState};
    use adapters::hlr::Barring;
    use sim_profiles::{Iccid, Imsi, Msisdn};

    fn iccid(i: u32) -> Iccid {
        Iccid::from_payload(&format!("8988211000{i:09}")).expect("iccid")
    }
    fn imsi(i: u32) -> Imsi {
        format!("00101{i:010}").parse().expect("imsi")
    }
    fn msisdn(i: u32) -> Msisdn {
        format!("86138000{i:05}").parse().expect("msisdn")
    }

    #[test]
    fn only_missing_subscribers_and_orphans_get_a_fix_each_with_its_line() {
        let line = |i: u32| ExpectedLine {
            tenant: "acme".into(),
            subscription: format!("sub_{i}"),
            line: Line {
                iccid: iccid(i),
                imsi: imsi(i),
                msisdn: Some(msisdn(i)),
                hlr_profile_id: 46,
                barred: false,
            },
            sim_type: SimType::Physical,
            state: SubscriptionState::Active,
            inflight: None,
            esim_mirror: None,
        };
        let view = GatewayView {
            lines: vec![line(0), line(1)],
            inventory: (0..3)
                .map(|i| InventorySim {
                    tenant: "acme".into(),
                    iccid: iccid(i),
                    imsi: imsi(i),
                })
                .collect(),
            ..GatewayView::default()
        };
        let seen = |m: Msisdn, profile: u32, barred: bool| {
            Observed::Present(HlrView {
                subscribed: true,
                msisdn: Some(m),
                profile_id: Some(profile),
                barring: Barring {
                    outgoing: barred,
                    incoming: barred,
                },
                auth: AuthCheck::Matches,
            })
        };
        let mut truth = Truth::default();
        // Line 0 missing; line 1 on a wrong number (no fix); card 2 an orphan.
        truth.hlr.insert(imsi(0), Observed::Absent);
        truth.hlr.insert(imsi(1), seen(msisdn(9), 46, false));
        truth.hlr.insert(imsi(2), seen(msisdn(7), 12, true));
        let differences = compare(&view, &truth).differences;
        assert_eq!(differences.len(), 3);
        let fixes = plan(&view, &truth, &differences);
        assert_eq!(
            fixes,
            vec![
                Fix {
                    kind: RepairKind::Reprovision,
                    tenant: "acme".into(),
                    subscription: Some("sub_0".into()),
                    line: line(0).line,
                },
                // The orphan's spec is what the HLR holds, so the adapter's comparison
                // decides by the keys alone whether it is ours to remove.
                Fix {
                    kind: RepairKind::RemoveOrphan,
                    tenant: "acme".into(),
                    subscription: None,
                    line: Line {
                        iccid: iccid(2),
                        imsi: imsi(2),
                        msisdn: Some(msisdn(7)),
                        hlr_profile_id: 12,
                        barred: true,
                    },
                },
            ]
        );
        let proposals = proposed(&fixes);
        assert!(proposals.iter().all(|p| p.status == "proposed"));
        assert_eq!(proposals[1].imsi, imsi(2).to_string());
    }
}

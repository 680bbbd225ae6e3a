//! Reads the southbound truth for a view: every line's IMSI and every unassigned IMSI of
//! the inventory, queried on the HLR with bounded concurrency, and the eSIM profiles'
//! states through the [`ProfileStatus`] hook when there is one.
//!
//! Neither CAI3G nor OsmoHLR's CTRL interface lists subscribers (the HLR simulator's
//! `GET /sim/state` does, but it is a test interface, not the host's), so orphans are
//! found by querying each IMSI of our inventory that no line holds: one `query` per SIM,
//! at most `concurrency` at a time. IMSIs outside our inventory are never looked at.

use super::model::{AuthCheck, GatewayView, HlrView, Observed, Truth};
use crate::engine::Engine;
use crate::store::SimType;
use adapters::es2plus::ProfileStatus;
use adapters::hlr::{AucState, HlrError, HlrProvisioner, SubscriberSpec, SubscriberState};
use sim_profiles::{Iccid, Imsi};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::task::JoinSet;

/// Where the truth comes from.
#[derive(Clone)]
pub struct Peers {
    /// The HLR, as the engine reaches it.
    pub hlr: Arc<dyn HlrProvisioner>,
    /// Opens a card's keys to compare them with the AUC's.
    pub engine: Engine,
    /// The SM-DP+'s status query, if the vendor has one.
    pub profiles: Option<Arc<dyn ProfileStatus>>,
    /// Most HLR queries in flight.
    pub concurrency: usize,
}

/// Queries everything `view` needs compared.
pub async fn read(peers: &Peers, view: &GatewayView) -> Truth {
    let lines: Vec<_> = view.lines.iter().filter(|l| l.inflight.is_none()).collect();
    let mut imsis: Vec<Imsi> = lines.iter().map(|l| l.line.imsi.clone()).collect();
    imsis.extend(view.unassigned().into_iter().map(|s| s.imsi.clone()));
    let mut answers: BTreeMap<Imsi, _> = query_all(&peers.hlr, imsis, peers.concurrency.max(1))
        .await
        .into_iter()
        .collect();
    let mut truth = Truth::default();
    // A line's authentication data are compared with its card's keys, opened in memory
    // only; an orphan's are judged by the adapter's own comparison when it is removed.
    for l in lines {
        let Some(answer) = answers.remove(&l.line.imsi) else {
            continue;
        };
        let spec = match &answer {
            Ok(Some(s)) if s.auc.is_some() => {
                match peers.engine.line_spec(&l.subscription, &l.line).await {
                    Ok(spec) => Some(spec),
                    Err(e) => {
                        tracing::warn!(subscription = %l.subscription, error = %e,
                            "cannot open the card's keys to compare them with the AUC");
                        None
                    }
                }
            }
            _ => None,
        };
        truth
            .hlr
            .insert(l.line.imsi.clone(), observe(answer, spec.as_ref()));
    }
    for (imsi, answer) in answers {
        truth.hlr.insert(imsi, observe(answer, None));
    }
    if let Some(hook) = &peers.profiles {
        let iccids: Vec<Iccid> = view
            .lines
            .iter()
            .filter(|l| l.sim_type == SimType::Esim && l.inflight.is_none())
            .map(|l| l.line.iccid.clone())
            .collect();
        match hook.states(&iccids).await {
            Ok(states) => truth.profiles = Some(states),
            Err(e) => truth.profiles_error = Some(format!("{e} ({})", hook.source())),
        }
    }
    truth
}

/// Queries `imsis`, at most `concurrency` at a time; answers in no particular order.
async fn query_all(
    hlr: &Arc<dyn HlrProvisioner>,
    imsis: Vec<Imsi>,
    concurrency: usize,
) -> Vec<(Imsi, Result<Option<SubscriberState>, HlrError>)> {
    let mut out = Vec::with_capacity(imsis.len());
    let mut running = JoinSet::new();
    let mut pending = imsis.into_iter();
    loop {
        while running.len() < concurrency {
            let Some(imsi) = pending.next() else { break };
            let hlr = hlr.clone();
            running.spawn(async move {
                let answer = hlr.query(&imsi).await;
                (imsi, answer)
            });
        }
        match running.join_next().await {
            Some(Ok(answer)) => out.push(answer),
            // A query task cannot panic on peer data; a cancelled one is dropped.
            Some(Err(e)) => tracing::warn!(error = %e, "an HLR query task ended abnormally"),
            None => return out,
        }
    }
}

/// An HLR answer as the comparison sees it; `spec` is the card's, when a line expects it.
fn observe(
    answer: Result<Option<SubscriberState>, HlrError>,
    spec: Option<&SubscriberSpec>,
) -> Observed {
    match answer {
        Err(e) => Observed::Unreadable(format!("HLR query failed: {e}")),
        Ok(None) => Observed::Absent,
        Ok(Some(s)) => Observed::Present(HlrView {
            subscribed: s.hlr.is_some(),
            msisdn: s.hlr.as_ref().and_then(|h| h.msisdn.clone()),
            profile_id: s.hlr.as_ref().and_then(|h| h.profile_id),
            barring: s.hlr.as_ref().map(|h| h.barring).unwrap_or_default(),
            auth: match (&s.auc, spec) {
                (None, _) => AuthCheck::Missing,
                (Some(a), Some(spec)) => compare_auth(spec, a),
                (Some(_), None) => AuthCheck::NotReadable,
            },
        }),
    }
}

/// The AUC entry against the card's keys: a key or function set the host returns must be
/// the card's; a key it does not return cannot be judged.
fn compare_auth(spec: &SubscriberSpec, auc: &AucState) -> AuthCheck {
    let fset_differs = auc.fsetind.is_some_and(|f| f != spec.auth.fsetind);
    match &auc.ki {
        _ if fset_differs => AuthCheck::Differs,
        Some(ki) if *ki == spec.auth.ki => AuthCheck::Matches,
        Some(_) => AuthCheck::Differs,
        None => AuthCheck::NotReadable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use adapters::hlr::{AuthData, Barring, HlrProfile, HlrState, KiMaterial};
    use sim_profiles::Key128;

    fn spec(ki: u8) -> SubscriberSpec {
        SubscriberSpec {
            imsi: "001010000000001".parse().expect("imsi"),
            msisdn: None,
            auth: AuthData {
                ki: KiMaterial::Clear(Key128::from_bytes([ki; 16])),
                opc: None,
                fsetind: 0,
            },
            profile: HlrProfile { profile_id: 46 },
            barring: Barring::default(),
        }
    }

    fn state(auc: Option<AucState>) -> SubscriberState {
        SubscriberState {
            imsi: "001010000000001".parse().expect("imsi"),
            auc,
            hlr: Some(HlrState {
                msisdn: Some("8613800000001".parse().expect("msisdn")),
                profile_id: Some(46),
                barring: Barring::default(),
            }),
        }
    }

    fn auth_of(o: Observed) -> AuthCheck {
        match o {
            Observed::Present(v) => v.auth,
            other => panic!("expected a subscriber, got {other:?}"),
        }
    }

    #[test]
    fn the_aucs_key_is_compared_with_the_cards_when_readable() {
        let ki = |k: u8| Some(KiMaterial::Clear(Key128::from_bytes([k; 16])));
        let auc = |ki, fsetind| {
            Some(AucState {
                ki,
                fsetind: Some(fsetind),
            })
        };
        let same = observe(Ok(Some(state(auc(ki(1), 0)))), Some(&spec(1)));
        assert_eq!(auth_of(same), AuthCheck::Matches);
        let other = observe(Ok(Some(state(auc(ki(2), 0)))), Some(&spec(1)));
        assert_eq!(auth_of(other), AuthCheck::Differs);
        let fset = observe(Ok(Some(state(auc(ki(1), 3)))), Some(&spec(1)));
        assert_eq!(auth_of(fset), AuthCheck::Differs);
        let hidden = observe(Ok(Some(state(auc(None, 0)))), Some(&spec(1)));
        assert_eq!(auth_of(hidden), AuthCheck::NotReadable);
        let missing = observe(Ok(Some(state(None))), Some(&spec(1)));
        assert_eq!(auth_of(missing), AuthCheck::Missing);
        assert_eq!(observe(Ok(None), None), Observed::Absent);
    }
}

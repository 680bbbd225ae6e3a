//! After the load: does everything agree? Run against a sandbox on the run's data dir
//! (the one the load went to, or a fresh start on it after a crash loop). It waits for
//! the SM-DP+'s notifications to be handled, reads every order the soak was answered
//! `202` from the store (each must be in one of its kind's terminal statuses), turns the
//! faults off and reconciles every tenant with the HLR and SM-DP+ (the same code as
//! `simgw reconcile`), sends every accepted request again with its key (the same order
//! must come back), and checks that the store holds no order the soak was not answered.

use super::drive::{Answered, Driven, Entry};
use super::kinds::SoakKind;
use super::target::{Sim, Target, Tenant};
use crate::reconcile::Report as Reconciliation;
use crate::sandbox::Sandbox;
use crate::store::dump::DumpTable;
use http::Method;
use serde::Serialize;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Where an accepted order stands in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Final {
    /// Its public status.
    pub(crate) status: String,
    /// Its error code, if it failed.
    pub(crate) error: Option<String>,
    /// Whether the status is one its kind ends in.
    pub(crate) ended: bool,
    /// Why it needs an operator, if it does.
    pub(crate) attention: Vec<&'static str>,
}

/// The SM-DP+'s download notifications.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Notifications {
    /// Copies the customers' actions should make it send (duplicates included).
    pub expected: u64,
    /// Copies it handled.
    pub handled: u64,
    /// Copies the gateway answered 204.
    pub delivered: u64,
}

/// What the Idempotency-Keys show.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Keys {
    /// Keys answered `202`.
    pub accepted: u64,
    /// Keys POSTed more than once before their answer (503/429, no connection, a crash).
    pub retried: u64,
    /// Keys whose repeated POST answered the same order.
    pub replayed_same: u64,
    /// Keys whose repeated POST answered something else (each: key, what came back).
    pub replay_mismatches: Vec<String>,
    /// Orders in the store.
    pub store_orders: u64,
    /// Orders in the store that no key of the soak was answered: a key with two orders
    /// (or an order from nowhere).
    pub unanswered_orders: Vec<String>,
    /// Orders answered `202` that the store does not hold.
    pub missing_orders: Vec<String>,
}

/// Everything the checks found.
pub(crate) struct Verified {
    /// Per entry of the ledger (same order): where its order stands (`None`: not accepted).
    pub(crate) finals: Vec<Option<Final>>,
    /// The notifications.
    pub(crate) notifications: Notifications,
    /// The reconciliation of every tenant.
    pub(crate) reconciliation: Option<Reconciliation>,
    /// The keys.
    pub(crate) keys: Keys,
    /// Checks that could not run.
    pub(crate) problems: Vec<String>,
}

/// Runs every check; `duplicates`: whether the SM-DP+ sent each notification twice.
pub(crate) async fn verify(
    sb: &Sandbox,
    target: &Arc<Target>,
    driven: &Driven,
    kinds: &[Arc<dyn SoakKind>],
    duplicates: bool,
    concurrency: usize,
) -> Verified {
    let mut problems = Vec::new();
    let expected = driven.notices * if duplicates { 2 } else { 1 };
    let notifications = match drain_notifications(target, expected).await {
        Ok(n) => n,
        Err(e) => {
            problems.push(e);
            Notifications {
                expected,
                ..Notifications::default()
            }
        }
    };
    let mut finals = Vec::with_capacity(driven.entries.len());
    for e in &driven.entries {
        finals.push(match final_of(sb, target, e, kinds).await {
            Ok(f) => f,
            Err(err) => {
                problems.push(err);
                None
            }
        });
    }
    // Reconciliation asks the HLR and the SM-DP+: their faults are for the load only.
    if let Err(e) = super::FaultProfile::None.plan().apply(target).await {
        problems.push(format!("turning the faults off: {e}"));
    }
    let now = crate::clock::Clock::new().now_ms();
    let reconciliation = match sb.gateway.reconciler().run(None, now).await {
        Ok(run) => Some(run.report),
        Err(e) => {
            problems.push(format!("reconciliation: {e}"));
            None
        }
    };
    let mut keys = replay(target, &driven.entries, concurrency).await;
    if let Err(e) = store_orders(sb, &driven.entries, &mut keys).await {
        problems.push(format!("reading the store's orders: {e}"));
    }
    Verified {
        finals,
        notifications,
        reconciliation,
        keys,
        problems,
    }
}

/// Waits until the SM-DP+ handled `expected` notifications (bounded), and counts them.
async fn drain_notifications(target: &Target, expected: u64) -> Result<Notifications, String> {
    let mut n = Notifications {
        expected,
        ..Notifications::default()
    };
    if expected == 0 || !target.has(Sim::Smdp) {
        return Ok(n);
    }
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        let log = target
            .admin(Sim::Smdp, Method::GET, "notifications", None)
            .await
            .map_err(|e| e.to_string())?
            .json;
        let entries = log.as_array().map(Vec::as_slice).unwrap_or_default();
        n.handled = entries.len() as u64;
        n.delivered = entries.iter().filter(|e| e["delivered"] == true).count() as u64;
        if n.handled >= expected || Instant::now() > until {
            return Ok(n);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The tenant id behind `tenant`'s key.
fn tenant_id(target: &Target, tenant: Tenant) -> Option<String> {
    let info = target.info();
    match tenant {
        Tenant::Sandbox => Some(info.tenant.clone()),
        Tenant::Uk => info.markets.get("uk").map(|m| m.tenant.clone()),
        Tenant::Cn => info.markets.get("cn").map(|m| m.tenant.clone()),
    }
}

/// Where entry `e`'s order stands in the store (`None` if it was not accepted).
async fn final_of(
    sb: &Sandbox,
    target: &Target,
    e: &Entry,
    kinds: &[Arc<dyn SoakKind>],
) -> Result<Option<Final>, String> {
    let Answered::Accepted(id) = &e.answer else {
        return Ok(None);
    };
    let tenant = tenant_id(target, e.tenant).ok_or("a market tenant is not in sandbox.json")?;
    let order = sb
        .gateway
        .store
        .get_order(&tenant, id)
        .await
        .map_err(|err| format!("order {id}: {err}"))?;
    let Some(o) = order else {
        return Ok(Some(Final {
            status: "missing".into(),
            error: None,
            ended: false,
            attention: Vec::new(),
        }));
    };
    let status = o.status_name().to_owned();
    let ends = kinds
        .iter()
        .find(|k| k.name() == e.kind)
        .map(|k| k.terminal())
        .unwrap_or_default();
    Ok(Some(Final {
        ended: ends.contains(&status.as_str()),
        status,
        error: o.error.as_ref().map(|err| err.code.clone()),
        attention: o.attention.iter().map(|a| a.as_str()).collect(),
    }))
}

/// Sends every accepted request again with its key, `concurrency` at a time.
async fn replay(target: &Arc<Target>, entries: &[Entry], concurrency: usize) -> Keys {
    let accepted: Vec<(String, Tenant, super::kinds::Request, String)> = entries
        .iter()
        .filter_map(|e| match &e.answer {
            Answered::Accepted(id) => {
                Some((e.key.clone(), e.tenant, e.request.clone(), id.clone()))
            }
            _ => None,
        })
        .collect();
    let mut keys = Keys {
        accepted: accepted.len() as u64,
        retried: entries.iter().filter(|e| e.attempts > 1).count() as u64,
        ..Keys::default()
    };
    let chunk = accepted.len().div_ceil(concurrency.max(1)).max(1);
    let tasks: Vec<_> = accepted
        .chunks(chunk)
        .map(|part| {
            let (target, part) = (target.clone(), part.to_vec());
            tokio::spawn(async move {
                let mut out = Vec::new();
                for (key, tenant, req, id) in part {
                    let again = target
                        .call(tenant, Method::POST, &req.path, Some(&key), Some(&req.body))
                        .await;
                    out.push(match again {
                        Ok(a) if (200..300).contains(&a.status) && a.json["id"] == id.as_str() => {
                            None
                        }
                        Ok(a) => Some(format!("{key}: {} {}", a.status, a.json)),
                        Err(e) => Some(format!("{key}: {e}")),
                    });
                }
                out
            })
        })
        .collect();
    for t in tasks {
        match t.await {
            Ok(out) => {
                for r in out {
                    match r {
                        None => keys.replayed_same += 1,
                        Some(m) => keys.replay_mismatches.push(m),
                    }
                }
            }
            Err(e) => keys.replay_mismatches.push(format!("replay task: {e}")),
        }
    }
    keys
}

/// Compares the store's orders with the ids the soak was answered.
async fn store_orders(sb: &Sandbox, entries: &[Entry], keys: &mut Keys) -> Result<(), String> {
    let answered: BTreeSet<&str> = entries
        .iter()
        .filter_map(|e| match &e.answer {
            Answered::Accepted(id) => Some(id.as_str()),
            _ => None,
        })
        .collect();
    let mut held = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = sb
            .gateway
            .store
            .dump_page(DumpTable::Orders, cursor.as_deref(), 1000)
            .await
            .map_err(|e| e.to_string())?;
        held.extend(page.rows.into_iter().map(|r| r.key));
        match page.next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    keys.store_orders = held.len() as u64;
    keys.unanswered_orders = held
        .iter()
        .filter(|id| !answered.contains(id.as_str()))
        .cloned()
        .collect();
    keys.missing_orders = answered
        .iter()
        .filter(|id| !held.contains(**id))
        .map(|id| (*id).to_owned())
        .collect();
    Ok(())
}

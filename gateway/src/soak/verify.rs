//! After the load: does everything agree? Run against the gateway the load went to (or,
//! after a crash loop, a fresh start on its data dir). It waits for the SM-DP+'s
//! notifications to be handled (counted in the simulator's delivery log, except after a
//! crash loop: the log restarts with the process), and for every activation whose
//! customer downloaded and installed its eSIM profile to show it (a fact the gateway's
//! store keeps, whatever restarted), reads every order the soak was answered `202` (`GET
//! /v1/orders/{id}`: each must be in one of its kind's terminal statuses), turns the
//! faults off and reconciles every tenant with the HLR and SM-DP+, sends every accepted
//! request again with its key (the same order must come back), and, where the gateway's
//! orders can be listed, checks that it holds no order the soak was not answered. Only
//! the reconciliation's reports and that list depend on where the gateway runs
//! ([`Source`]); everything else goes over the wire.

use super::drive::{Answered, Driven, Entry};
use super::kinds::{SoakKind, esim_progress, shows_installed};
use super::reconciled::Reconciliation;
use super::source::{ORDERS_NOT_LISTED, Source};
use super::target::{Sim, Target, Tenant};
use http::Method;
use serde::Serialize;
use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Where an accepted order stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Final {
    /// Its public status (`missing` when the gateway does not know it).
    pub(crate) status: String,
    /// Its error code, if it failed.
    pub(crate) error: Option<String>,
    /// Whether the status is one its kind ends in.
    pub(crate) ended: bool,
    /// Why it needs an operator, if it does.
    pub(crate) attention: Vec<String>,
}

/// The SM-DP+'s download notifications.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Notifications {
    /// Copies the customers' actions should make it send (duplicates included); `null`
    /// after a crash loop, whose SM-DP+ delivery log restarts with the process.
    pub expected: Option<u64>,
    /// Copies it handled (`null`: not counted).
    pub handled: Option<u64>,
    /// Copies the gateway answered 204 (`null`: not counted).
    pub delivered: Option<u64>,
    /// eSIM profiles the customers downloaded and installed (each made the SM-DP+ queue a
    /// download and an install notification).
    pub installed: u64,
    /// Of those, activations that show it as the notifications report it: eSIM state
    /// `installed`, with points 3 and 4 succeeded in their progress.
    pub shown: u64,
    /// The activations that do not (at most 50): id, eSIM state and points received.
    pub not_shown: Vec<String>,
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
    /// Orders in the store (`null`: not listed, against a target).
    pub store_orders: Option<u64>,
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
    /// Checks not made where the gateway runs, each with why (not failures).
    pub(crate) not_checked: Vec<String>,
}

/// Notifications the SM-DP+ simulator had handled and the gateway delivered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counted {
    /// Handled.
    pub(crate) handled: u64,
    /// Delivered (answered 204).
    pub(crate) delivered: u64,
}

/// Runs every check; `duplicates`: whether the SM-DP+ sent each notification twice;
/// `before`: the notifications counted before the load (a target's log may hold earlier
/// runs'), `None` when the SM-DP+'s log is not to be counted (after a crash loop).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn verify(
    source: &Source<'_>,
    target: &Arc<Target>,
    driven: &Driven,
    kinds: &[Arc<dyn SoakKind>],
    duplicates: bool,
    concurrency: usize,
    before: Option<Counted>,
) -> Verified {
    let mut problems = Vec::new();
    let mut not_checked = Vec::new();
    let expected = driven.notices * if duplicates { 2 } else { 1 };
    let mut notifications = match before {
        Some(before) => match drain_notifications(target, expected, before).await {
            Ok(n) => n,
            Err(e) => {
                problems.push(e);
                Notifications {
                    expected: Some(expected),
                    ..Notifications::default()
                }
            }
        },
        None => Notifications::default(),
    };
    installs(target, &driven.entries, concurrency, &mut notifications).await;
    let finals = finals(target, &driven.entries, kinds, concurrency, &mut problems).await;
    // Reconciliation asks the HLR and the SM-DP+: their faults are for the load only.
    if let Err(e) = super::FaultProfile::None.plan().apply(target).await {
        problems.push(format!("turning the faults off: {e}"));
    }
    let reconciliation = match source.reconcile(target).await {
        Ok(reports) => match Reconciliation::of(source.name(), &reports) {
            Ok(r) => Some(r),
            Err(e) => {
                problems.push(e);
                None
            }
        },
        Err(e) => {
            problems.push(format!("reconciliation: {e}"));
            None
        }
    };
    let mut keys = replay(target, &driven.entries, concurrency).await;
    match source.orders().await {
        Some(Ok(held)) => store_orders(&held, &driven.entries, &mut keys),
        Some(Err(e)) => problems.push(format!("reading the store's orders: {e}")),
        None => not_checked.push(ORDERS_NOT_LISTED.to_owned()),
    }
    Verified {
        finals,
        notifications,
        reconciliation,
        keys,
        problems,
        not_checked,
    }
}

/// What the SM-DP+ simulator's log counts now (nothing without one).
pub(crate) async fn notifications_so_far(target: &Target) -> Result<Counted, String> {
    if !target.has(Sim::Smdp) {
        return Ok(Counted::default());
    }
    let log = target
        .admin(Sim::Smdp, Method::GET, "notifications", None)
        .await
        .map_err(|e| e.to_string())?
        .json;
    let entries = log.as_array().map(Vec::as_slice).unwrap_or_default();
    Ok(Counted {
        handled: entries.len() as u64,
        delivered: entries.iter().filter(|e| e["delivered"] == true).count() as u64,
    })
}

/// Waits until the SM-DP+ handled `expected` notifications since `before` (bounded), and
/// counts them.
async fn drain_notifications(
    target: &Target,
    expected: u64,
    before: Counted,
) -> Result<Notifications, String> {
    let mut n = Notifications {
        expected: Some(expected),
        handled: Some(0),
        delivered: Some(0),
        ..Notifications::default()
    };
    if expected == 0 || !target.has(Sim::Smdp) {
        return Ok(n);
    }
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        let now = notifications_so_far(target).await?;
        let handled = now.handled.saturating_sub(before.handled);
        n.handled = Some(handled);
        n.delivered = Some(now.delivered.saturating_sub(before.delivered));
        if handled >= expected || Instant::now() > until {
            return Ok(n);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Waits (bounded) until every activation whose customer downloaded and installed its
/// eSIM profile shows it ([`shows_installed`]), reading them `concurrency` at a time, and
/// counts them into `n`.
async fn installs(
    target: &Arc<Target>,
    entries: &[Entry],
    concurrency: usize,
    n: &mut Notifications,
) {
    let mut left: Vec<(Tenant, String)> = entries
        .iter()
        .filter(|e| e.installed)
        .filter_map(|e| match &e.answer {
            Answered::Accepted(id) => Some((e.tenant, id.clone())),
            _ => None,
        })
        .collect();
    n.installed = left.len() as u64;
    let until = Instant::now() + Duration::from_secs(60);
    let mut last = Vec::new();
    loop {
        let t = target.clone();
        let read = each(left.clone(), concurrency, move |(tenant, id)| {
            let t = t.clone();
            async move {
                let path = format!("/v1/orders/{id}");
                match t.call(tenant, Method::GET, &path, None, None).await {
                    Ok(a) if a.status == 200 => (
                        shows_installed(&a.json),
                        format!("{id} {}", esim_progress(&a.json)),
                    ),
                    Ok(a) => (false, format!("{id} answered {}", a.status)),
                    Err(e) => (false, format!("{id} not read: {e}")),
                }
            }
        })
        .await;
        let mut still = Vec::new();
        last.clear();
        for (entry, r) in left.into_iter().zip(read) {
            match r {
                Some((true, _)) => {}
                Some((false, why)) => {
                    still.push(entry);
                    last.push(why);
                }
                None => {
                    last.push(format!("{} a reading task ended abnormally", entry.1));
                    still.push(entry);
                }
            }
        }
        left = still;
        if left.is_empty() || Instant::now() > until {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    n.shown = n.installed.saturating_sub(left.len() as u64);
    n.not_shown = last.into_iter().take(50).collect();
}

/// Where every entry's order stands (`None`: not accepted, or not read: a problem says
/// why), read `concurrency` at a time.
async fn finals(
    target: &Arc<Target>,
    entries: &[Entry],
    kinds: &[Arc<dyn SoakKind>],
    concurrency: usize,
    problems: &mut Vec<String>,
) -> Vec<Option<Final>> {
    let accepted: Vec<(usize, Tenant, String, &'static [&'static str])> = entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match &e.answer {
            Answered::Accepted(id) => {
                let ends = kinds.iter().find(|k| k.name() == e.kind);
                let ends = ends.map(|k| k.terminal()).unwrap_or_default();
                Some((i, e.tenant, id.clone(), ends))
            }
            _ => None,
        })
        .collect();
    let at: Vec<usize> = accepted.iter().map(|a| a.0).collect();
    let target = target.clone();
    let read = each(accepted, concurrency, move |(_, tenant, id, ends)| {
        let target = target.clone();
        async move { final_of(&target, tenant, &id, ends).await }
    })
    .await;
    let mut finals = vec![None; entries.len()];
    for (i, r) in at.into_iter().zip(read) {
        match r {
            Some(Ok(f)) => {
                if let Some(slot) = finals.get_mut(i) {
                    *slot = Some(f);
                }
            }
            Some(Err(e)) => problems.push(e),
            None => problems.push("a task reading orders ended abnormally".into()),
        }
    }
    finals
}

/// Where order `id` stands, read with `tenant`'s key.
async fn final_of(
    target: &Target,
    tenant: Tenant,
    id: &str,
    ends: &[&str],
) -> Result<Final, String> {
    let path = format!("/v1/orders/{id}");
    let a = target
        .call(tenant, Method::GET, &path, None, None)
        .await
        .map_err(|e| format!("reading order {id}: {e}"))?;
    match a.status {
        200 => {}
        404 => {
            return Ok(Final {
                status: "missing".into(),
                error: None,
                ended: false,
                attention: Vec::new(),
            });
        }
        s => return Err(format!("reading order {id}: answered {s}: {}", a.json)),
    }
    let status = super::kinds::status(&a.json).to_owned();
    let reasons = a.json["attention"].as_array().map(Vec::as_slice);
    Ok(Final {
        ended: ends.contains(&status.as_str()),
        status,
        error: a.json["error"]["code"].as_str().map(str::to_owned),
        attention: reasons
            .unwrap_or_default()
            .iter()
            .map(|r| r["reason"].as_str().unwrap_or("unnamed").to_owned())
            .collect(),
    })
}

/// Runs `f` on every item, `concurrency` at a time, answering in the items' order
/// (`None` for an item whose task ended abnormally).
async fn each<T, R, F, Fut>(items: Vec<T>, concurrency: usize, f: F) -> Vec<Option<R>>
where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(T) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = R> + Send,
{
    let chunk = items.len().div_ceil(concurrency.max(1)).max(1);
    let mut tasks = Vec::new();
    let mut rest = items.into_iter().peekable();
    while rest.peek().is_some() {
        let part: Vec<T> = rest.by_ref().take(chunk).collect();
        let (f, n) = (f.clone(), part.len());
        let task = tokio::spawn(async move {
            let mut out = Vec::with_capacity(part.len());
            for item in part {
                out.push(f(item).await);
            }
            out
        });
        tasks.push((n, task));
    }
    let mut out = Vec::new();
    for (n, task) in tasks {
        match task.await {
            Ok(rs) => out.extend(rs.into_iter().map(Some)),
            Err(_) => out.extend((0..n).map(|_| None)),
        }
    }
    out
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
    let target = target.clone();
    let sent = each(accepted, concurrency, move |(key, tenant, req, id)| {
        let target = target.clone();
        async move {
            let again = target
                .call(tenant, Method::POST, &req.path, Some(&key), Some(&req.body))
                .await;
            match again {
                Ok(a) if (200..300).contains(&a.status) && a.json["id"] == id.as_str() => None,
                Ok(a) => Some(format!("{key}: {} {}", a.status, a.json)),
                Err(e) => Some(format!("{key}: {e}")),
            }
        }
    })
    .await;
    for r in sent {
        match r {
            Some(None) => keys.replayed_same += 1,
            Some(Some(m)) => keys.replay_mismatches.push(m),
            None => keys
                .replay_mismatches
                .push("a replay task ended abnormally".into()),
        }
    }
    keys
}

/// Compares the orders the gateway holds with the ids the soak was answered.
fn store_orders(held: &BTreeSet<String>, entries: &[Entry], keys: &mut Keys) {
    let answered: BTreeSet<&str> = entries
        .iter()
        .filter_map(|e| match &e.answer {
            Answered::Accepted(id) => Some(id.as_str()),
            _ => None,
        })
        .collect();
    keys.store_orders = Some(held.len() as u64);
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
}

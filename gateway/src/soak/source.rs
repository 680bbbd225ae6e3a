//! Where the checks get what the orders' own answers do not show: the reconciliation's
//! reports, and the list of every order the gateway holds. In process both come from the
//! sandbox (its reconciler over every tenant, its store); against a target the reports
//! come from `POST /v1/reconciliations`, once per tenant with its operator key, and the
//! orders cannot be listed. Every other check is the same code for both.

use super::target::Target;
use crate::sandbox::Sandbox;
use crate::store::dump::DumpTable;
use serde_json::Value;
use std::collections::BTreeSet;

/// The gateway side of the checks.
pub(crate) enum Source<'a> {
    /// The sandbox running in this process (on the run's data dir).
    InProcess(&'a Sandbox),
    /// A deployment reached over its API only (`--target`).
    Api,
}

/// Why the store's orders are not compared with the keys against a target.
pub(crate) const ORDERS_NOT_LISTED: &str = "the store holds exactly the orders the soak was answered: \
     not checked against a target (its API lists no orders by Idempotency-Key, and a deployment's \
     other orders would read as keys that made two); every key was sent again instead and had to \
     answer its own order";

impl Source<'_> {
    /// Its name in the report (`Reconciliation::source`).
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Source::InProcess(_) => "in_process",
            Source::Api => "api",
        }
    }

    /// The reconciliation reports of every tenant, as JSON (the shape of `POST
    /// /v1/reconciliations`).
    pub(crate) async fn reconcile(&self, target: &Target) -> Result<Vec<Value>, String> {
        match self {
            Source::InProcess(sb) => {
                let now = crate::clock::Clock::new().now_ms();
                let run = sb
                    .gateway
                    .reconciler()
                    .run(None, now)
                    .await
                    .map_err(|e| e.to_string())?;
                let report = serde_json::to_value(&run.report).map_err(|e| e.to_string())?;
                Ok(vec![report])
            }
            Source::Api => {
                let mut reports = Vec::new();
                // One at a time: the gateway runs one reconciliation at a time.
                for (tenant, key) in target.operators() {
                    let a = target
                        .reconcile(&key)
                        .await
                        .map_err(|e| format!("POST /v1/reconciliations as {tenant}: {e}"))?;
                    if a.status != 201 {
                        return Err(format!(
                            "POST /v1/reconciliations as {tenant} answered {}: {}",
                            a.status, a.json
                        ));
                    }
                    reports.push(a.json);
                }
                Ok(reports)
            }
        }
    }

    /// The id of every order the gateway holds; `None` where they cannot be listed (why:
    /// [`ORDERS_NOT_LISTED`]).
    pub(crate) async fn orders(&self) -> Option<Result<BTreeSet<String>, String>> {
        let Source::InProcess(sb) = self else {
            return None;
        };
        let mut held = BTreeSet::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = sb
                .gateway
                .store
                .dump_page(DumpTable::Orders, cursor.as_deref(), 1000)
                .await;
            let page = match page {
                Ok(p) => p,
                Err(e) => return Some(Err(e.to_string())),
            };
            held.extend(page.rows.into_iter().map(|r| r.key));
            match page.next {
                Some(n) => cursor = Some(n),
                None => return Some(Ok(held)),
            }
        }
    }
}

//! The single writer: group commit. It drains every queued command, applies them in one
//! write transaction, commits durably (fsync) once, and only then answers each caller. A
//! burst of N requests costs one fsync instead of N, and no caller is acknowledged before
//! its change is on disk.

use super::apply::{Tables, TxResult, backend};
use crate::metrics::Metrics;
use crate::order::{Effect, Order};
use crate::store::*;
use ::redb::Database;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

/// What a command answers once committed.
#[derive(Debug)]
pub enum Reply {
    /// From `create_activation`.
    Created(Box<CreateOutcome>),
    /// From `advance_order`.
    Advanced,
    /// From `prune_idempotency`.
    Pruned(usize),
    /// From `admin`.
    Admin(AdminOutcome),
    /// From the number-pool commands.
    Pool(PoolReply),
    /// From `record_notification`.
    Notification(NotificationOutcome),
    /// From `expire_esim`.
    Reopened(Vec<Order>),
    /// From `create_lifecycle`.
    Lifecycle(Box<LifecycleOutcome>),
    /// From the outbox commands.
    Outbox(super::webhook_cmds::OutboxReply),
    /// From the compliance commands.
    Compliance(Box<super::compliance::ComplianceReply>),
    /// From the second-verification commands.
    Reverify(super::reverify::ReverifyReply),
    /// From the porting commands.
    Port(super::ports::PortReply),
}

/// One queued command with its reply channel.
pub struct Job {
    /// The command.
    pub cmd: Command,
    /// Where the committed result goes.
    pub reply: oneshot::Sender<Result<Reply, StoreError>>,
}

/// A write command.
pub enum Command {
    /// See `Store::create_activation`.
    Create(Box<NewActivation>),
    /// See `Store::advance_order`.
    Advance(Box<Order>, Effect, EventKind),
    /// See `Store::prune_idempotency`.
    Prune(u64),
    /// See `Store::admin`; runs in a transaction of its own.
    Admin(AdminChange, u64),
    /// A number-pool command.
    Pool(PoolCommand),
    /// See `Store::record_notification`.
    Notification(NotificationIn),
    /// See `Store::create_lifecycle`.
    Lifecycle(Box<NewLifecycle>),
    /// See `Store::expire_esim`.
    ExpireEsim(u64, Reopen),
    /// A webhook outbox command.
    Outbox(super::webhook_cmds::OutboxCommand),
    /// A compliance command (validation, operator change).
    Compliance(Box<super::compliance::ComplianceCommand>),
    /// A second-verification command (a result, the deadline sweep).
    Reverify(super::reverify::ReverifyCommand),
    /// A porting command (inbox, park, wake).
    Port(super::ports::PortCommand),
}

/// Number-pool commands (grouped like orders: they never refuse by aborting).
pub enum PoolCommand {
    /// See `Store::create_reservation`.
    Reserve(NewReservation),
    /// See `Store::expire_due`.
    ExpireDue(u64),
    /// See `Store::quarantine_number`.
    Quarantine(String, sim_profiles::Msisdn, u64),
    /// See `Store::release_quarantine`.
    Release(String, sim_profiles::Msisdn),
    /// See `Store::release_reservation`.
    ReleaseHold(String, String, u64),
}

/// Answers of [`PoolCommand`]s.
#[derive(Debug)]
pub enum PoolReply {
    /// A reservation outcome.
    Reserved(Box<ReservationOutcome>),
    /// What a sweep returned to the pool.
    Expired(Expired),
    /// Whether the number changed state.
    Changed(bool),
}

impl Command {
    /// Applies by reference, so a command survives a failed group and can be retried alone.
    fn apply(&self, t: &mut Tables<'_>) -> TxResult<Reply> {
        match self {
            Command::Create(n) => t.create_activation(n).map(|o| Reply::Created(Box::new(o))),
            Command::Advance(o, e, ev) => t.advance_order(o, e, ev).map(|()| Reply::Advanced),
            Command::Prune(before) => t.prune_idempotency(*before).map(Reply::Pruned),
            Command::Admin(c, now) => t.admin(c, *now).map(Reply::Admin),
            Command::Pool(PoolCommand::Reserve(n)) => t
                .create_reservation(n)
                .map(|o| Reply::Pool(PoolReply::Reserved(Box::new(o)))),
            Command::Pool(PoolCommand::ExpireDue(now)) => t
                .expire_due(*now)
                .map(|e| Reply::Pool(PoolReply::Expired(e))),
            Command::Pool(PoolCommand::Quarantine(tenant, m, now)) => t
                .quarantine_number(tenant, m, *now)
                .map(|b| Reply::Pool(PoolReply::Changed(b))),
            Command::Notification(n) => t.record_notification(n).map(Reply::Notification),
            Command::Lifecycle(n) => t.create_lifecycle(n).map(|o| Reply::Lifecycle(Box::new(o))),
            Command::ExpireEsim(now, reopen) => t.expire_esim(*now, *reopen).map(Reply::Reopened),
            Command::Outbox(c) => t.outbox_command(c).map(Reply::Outbox),
            Command::Compliance(c) => t
                .compliance_command(c)
                .map(|r| Reply::Compliance(Box::new(r))),
            Command::Reverify(c) => t.reverify_command(c).map(Reply::Reverify),
            Command::Port(c) => t.port_command(c).map(Reply::Port),
            Command::Pool(PoolCommand::Release(tenant, m)) => t
                .release_quarantine(tenant, m)
                .map(|b| Reply::Pool(PoolReply::Changed(b))),
            Command::Pool(PoolCommand::ReleaseHold(tenant, id, now)) => t
                .release_reservation(tenant, id, *now)
                .map(|b| Reply::Pool(PoolReply::Changed(b))),
        }
    }
}

/// Runs the writer loop until every sender is dropped. Call on a dedicated thread.
pub fn run(
    db: Arc<Database>,
    mut rx: mpsc::Receiver<Job>,
    max_batch: usize,
    metrics: Arc<Metrics>,
) {
    let mut batch = Vec::with_capacity(max_batch);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let mut group = Vec::new();
        for job in batch.drain(..) {
            if matches!(job.cmd, Command::Admin(..)) {
                commit_group(&db, std::mem::take(&mut group), &metrics);
                commit_alone(&db, job, &metrics);
            } else {
                group.push(job);
            }
        }
        commit_group(&db, group, &metrics);
    }
}

/// Applies a group in one transaction. If the transaction itself fails, each job is retried
/// alone so one bad command cannot fail its neighbours.
fn commit_group(db: &Database, group: Vec<Job>, metrics: &Metrics) {
    if group.is_empty() {
        return;
    }
    if group.len() == 1 {
        for job in group {
            commit_alone(db, job, metrics);
        }
        return;
    }
    let started = Instant::now();
    let (cmds, replies): (Vec<Command>, Vec<_>) =
        group.into_iter().map(|j| (j.cmd, j.reply)).unzip();
    let result = (|| -> TxResult<Vec<TxResult<Reply>>> {
        let txn = db.begin_write().map_err(backend)?;
        let mut results = Vec::with_capacity(cmds.len());
        {
            let mut t = Tables::open(&txn)?;
            for cmd in &cmds {
                let r = cmd.apply(&mut t);
                // Only optimistic conflicts are allowed to fail without aborting: they are
                // detected before any write.
                if let Err(e) = &r {
                    if !matches!(e, StoreError::Conflict(_)) {
                        return Err(e.clone());
                    }
                }
                results.push(r);
            }
        }
        txn.commit().map_err(backend)?;
        Ok(results)
    })();
    match result {
        Ok(results) => {
            record(metrics, started, results.len());
            for (reply, r) in replies.into_iter().zip(results) {
                let _ = reply.send(r);
            }
        }
        Err(e) => {
            // Nothing of the group was applied. Run each command alone so that one bad
            // command (a corrupt record, say) fails only itself, not its neighbours.
            tracing::error!(error = %e, "group commit failed; retrying its commands one by one");
            for (cmd, reply) in cmds.into_iter().zip(replies) {
                commit_alone(db, Job { cmd, reply }, metrics);
            }
        }
    }
}

pub(super) fn commit_alone(db: &Database, job: Job, metrics: &Metrics) {
    let started = Instant::now();
    let result = (|| -> TxResult<Reply> {
        let txn = db.begin_write().map_err(backend)?;
        let reply = {
            let mut t = Tables::open(&txn)?;
            job.cmd.apply(&mut t)
        };
        match reply {
            Ok(Reply::Admin(AdminOutcome::Refused(why))) => {
                txn.abort().map_err(backend)?;
                Ok(Reply::Admin(AdminOutcome::Refused(why)))
            }
            Ok(r) => {
                txn.commit().map_err(backend)?;
                Ok(r)
            }
            Err(e) => {
                txn.abort().map_err(backend)?;
                Err(e)
            }
        }
    })();
    if result.is_ok() {
        record(metrics, started, 1);
    }
    let _ = job.reply.send(result);
}

fn record(metrics: &Metrics, started: Instant, ops: usize) {
    use std::sync::atomic::Ordering::Relaxed;
    metrics.store_commits.fetch_add(1, Relaxed);
    metrics.store_ops.fetch_add(ops as u64, Relaxed);
    metrics.store_commit_latency.observe(started.elapsed());
}

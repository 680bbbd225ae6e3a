//! `advance_order` for activations, grouped: the advances that arrive while a group
//! transaction runs wait, and the next group commits them together. Their bodies
//! (`advance.rs`, unchanged) run at once on the group's one connection, so their
//! statements are pipelined, and they share the BEGIN, the deferred counters-and-logs
//! statement, the COMMIT and its WAL flush: what the embedded store's group commit does
//! for its writer, on this node's share of the database.
//!
//! A group changes no answer, only how many transactions carry them: any error in a group
//! (a version conflict, a store error, a database error that is not a serialization
//! failure) rolls the whole group back and runs each of its advances again in a
//! transaction of its own, which gives each its own answer. A serialization failure
//! retries the group as it retries any transaction (`retry.rs`).
//!
//! Only activations are grouped, and never two that name the same card or number: the
//! bodies of one group share a transaction, so two of them writing one row would not
//! conflict as two transactions would. An activation's rows are its own (its order, its
//! card, its numbers, its line, all reserved to it by its create commit); lifecycle and
//! port-out orders act on lines and run alone.
//!
//! Up to [`GROUPS_AT_ONCE`] groups at a time per node, by flat combining: a caller queues
//! its advance and waits for its answer or for a turn, whichever comes first; a caller
//! that gets a turn runs the oldest queued advances ([`MAX_GROUP`] at most) as a group,
//! and again until its own advance is answered or is in a group another caller runs. A
//! caller dropped while it runs a group drops the answers it owed; their callers then get
//! a backend error, which the engine meets by writing again (`Engine::persist`), where
//! the version check tells whether the group had committed (`Conflict`) or not.

use super::PgStore;
use super::advance::advance_order;
use super::retry::{Tx, TxError, TxResult};
use crate::order::{Effect, Order, OrderKind};
use crate::store::{EventKind, StoreError};
use adapters::hlr::BoxFuture;
use std::sync::Mutex;
use std::sync::atomic::Ordering::Relaxed;
use std::task::Poll;
use tokio::sync::oneshot;

/// Most advances one group transaction carries. Larger groups meet more serialization
/// failures, each of which runs the whole group again: on the bench (`simgw bench --store
/// postgres`, 2 cores) groups of 32 and 64 gave up after the retry budget now and then
/// and sent 24 statements per activation, groups of 8 sent 14.6 and conflicted least, at
/// the same throughput as 16 and 24.
pub const MAX_GROUP: usize = 8;

/// Group transactions one node runs at once (one at a time left the advances behind the
/// creates: groups always full, the same throughput as without groups).
pub const GROUPS_AT_ONCE: usize = 4;

/// One queued advance and where its answer goes.
struct Job {
    order: Order,
    effect: Effect,
    event: EventKind,
    reply: oneshot::Sender<Result<(), StoreError>>,
}

/// The queue of advances waiting for a group, and the turns to run one.
pub struct AdvanceGroups {
    queue: Mutex<Vec<Job>>,
    turns: tokio::sync::Semaphore,
}

impl Default for AdvanceGroups {
    fn default() -> Self {
        Self {
            queue: Mutex::default(),
            turns: tokio::sync::Semaphore::new(GROUPS_AT_ONCE),
        }
    }
}

impl std::fmt::Debug for AdvanceGroups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdvanceGroups").finish_non_exhaustive()
    }
}

impl AdvanceGroups {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Job>> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The oldest queued advances, at most [`MAX_GROUP`], none naming a card or number
    /// another of them names (such a one stays queued for a later group).
    fn take(&self) -> Vec<Job> {
        let mut queue = self.lock();
        let mut taken: Vec<Job> = Vec::new();
        let mut kept = Vec::new();
        for job in queue.drain(..) {
            let clash = taken.iter().any(|t| shares_rows(&t.order, &job.order));
            if taken.len() < MAX_GROUP && !clash {
                taken.push(job);
            } else {
                kept.push(job);
            }
        }
        *queue = kept;
        taken
    }
}

/// Whether two activations name the same card or number (their rows would meet).
fn shares_rows(a: &Order, b: &Order) -> bool {
    let numbers = |o: &Order| {
        let port = o.port.as_ref();
        [
            Some(o.msisdn.as_str().to_owned()),
            port.map(|p| p.number.as_str().to_owned()),
            port.and_then(|p| p.temporary.as_ref().map(|t| t.as_str().to_owned())),
        ]
    };
    let (na, nb) = (numbers(a), numbers(b));
    a.id == b.id
        || a.iccid == b.iccid
        || na
            .iter()
            .flatten()
            .any(|n| nb.iter().flatten().any(|m| m == n))
}

impl PgStore {
    /// Persists the next version of an order (optimistic check on `version - 1`, else
    /// `StoreError::Conflict`), applies its inventory effect and appends `event` to the
    /// event log, in one commit (shared with other activations' advances: see the module
    /// doc).
    pub async fn advance_order(
        &self,
        order: Order,
        effect: Effect,
        event: EventKind,
    ) -> Result<(), StoreError> {
        if order.kind != OrderKind::Activation {
            return self.advance_alone(&order, &effect, &event).await;
        }
        let (reply, mut answer) = oneshot::channel();
        self.advance_groups.lock().push(Job {
            order,
            effect,
            event,
            reply,
        });
        loop {
            let turn = tokio::select! {
                biased;
                answered = &mut answer => return answered.unwrap_or_else(|_| Err(dropped())),
                turn = self.advance_groups.turns.acquire() => turn,
            };
            let jobs = self.advance_groups.take();
            if jobs.is_empty() {
                // Ours is in a group another caller runs: its answer comes from there.
                drop(turn);
                return answer.await.unwrap_or_else(|_| Err(dropped()));
            }
            self.run_group(jobs).await;
        }
    }

    /// One advance in a transaction of its own.
    async fn advance_alone(
        &self,
        order: &Order,
        effect: &Effect,
        event: &EventKind,
    ) -> Result<(), StoreError> {
        self.transaction(&(order, effect, event), |tx, (order, effect, event)| {
            Box::pin(advance_order(tx, order, effect, event))
        })
        .await
    }

    /// Commits `jobs` in one transaction, or (any error) each alone; answers each.
    async fn run_group(&self, jobs: Vec<Job>) {
        if jobs.len() > 1 {
            let args: Vec<(&Order, &Effect, &EventKind)> = jobs
                .iter()
                .map(|j| (&j.order, &j.effect, &j.event))
                .collect();
            let grouped = self
                .transaction(args.as_slice(), |tx, args| Box::pin(advance_all(tx, args)))
                .await;
            let counts = &self.stats.advance_groups;
            if grouped.is_ok() {
                counts.committed.fetch_add(1, Relaxed);
                counts.advances.fetch_add(jobs.len() as u64, Relaxed);
                for job in jobs {
                    let _ = job.reply.send(Ok(()));
                }
                return;
            }
            counts.split.fetch_add(1, Relaxed);
            if let Err(e) = &grouped {
                tracing::debug!(error = %e, advances = jobs.len(),
                    "advance group rolled back; each of its advances runs alone");
            }
        }
        let alone: Vec<BoxFuture<'_, Result<(), StoreError>>> = jobs
            .iter()
            .map(|j| {
                Box::pin(self.advance_alone(&j.order, &j.effect, &j.event))
                    as BoxFuture<'_, Result<(), StoreError>>
            })
            .collect();
        let results = join_all(alone).await;
        for (job, r) in jobs.into_iter().zip(results) {
            let _ = job.reply.send(r);
        }
    }
}

/// The answer to an advance whose group was dropped before it answered: a backend error,
/// which the engine meets by writing again (`Engine::persist`), where the version check
/// tells whether the group had committed.
fn dropped() -> StoreError {
    StoreError::Backend("the group carrying this advance was dropped before it answered".into())
}

/// Every advance of a group in `tx`, at once; the error that decides the group's fate:
/// a store error first (the group cannot commit, and running it again would meet it
/// again), then a retryable one (the group runs again), then the first.
async fn advance_all(tx: &Tx<'_>, args: &[(&Order, &Effect, &EventKind)]) -> TxResult<()> {
    let bodies: Vec<BoxFuture<'_, TxResult<()>>> = args
        .iter()
        .map(|(o, e, ev)| Box::pin(advance_order(tx, o, e, ev)) as BoxFuture<'_, TxResult<()>>)
        .collect();
    let mut errors: Vec<TxError> = join_all(bodies)
        .await
        .into_iter()
        .filter_map(Result::err)
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    let pick = errors
        .iter()
        .position(|e| matches!(e, TxError::Store(_)))
        .or_else(|| errors.iter().position(super::retry::retryable_tx))
        .unwrap_or(0);
    Err(errors.swap_remove(pick))
}

/// Polls every future until all are done; their outputs in order.
async fn join_all<'a, T>(futures: Vec<BoxFuture<'a, T>>) -> Vec<T> {
    let mut slots: Vec<(BoxFuture<'a, T>, Option<T>)> =
        futures.into_iter().map(|f| (f, None)).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, out) in slots.iter_mut() {
            if out.is_none() {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => *out = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    slots.into_iter().filter_map(|(_, out)| out).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::machine::fixture_order;

    fn activation(id: &str, card: u32, number: &str) -> Order {
        let mut o = fixture_order();
        o.id = id.into();
        o.iccid =
            sim_profiles::Iccid::from_payload(&format!("8988211000{card:09}")).expect("iccid");
        o.msisdn = number.parse().expect("msisdn");
        o
    }

    fn queue(
        groups: &AdvanceGroups,
        orders: Vec<Order>,
    ) -> Vec<oneshot::Receiver<Result<(), StoreError>>> {
        orders
            .into_iter()
            .map(|order| {
                let (reply, answer) = oneshot::channel();
                groups.lock().push(Job {
                    order,
                    effect: Effect::None,
                    event: EventKind::OrderActive,
                    reply,
                });
                answer
            })
            .collect()
    }

    fn ids(jobs: &[Job]) -> Vec<&str> {
        jobs.iter().map(|j| j.order.id.as_str()).collect()
    }

    #[test]
    fn a_group_takes_the_oldest_and_leaves_what_meets_a_taken_card_or_number() {
        let groups = AdvanceGroups::default();
        let _answers = queue(
            &groups,
            vec![
                activation("a", 1, "8617000000001"),
                activation("b", 1, "8617000000002"),
                activation("c", 3, "8617000000001"),
                activation("d", 4, "8617000000004"),
            ],
        );
        let first = groups.take();
        assert_eq!(ids(&first), ["a", "d"]);
        assert_eq!(ids(&groups.take()), ["b", "c"]);
        assert!(groups.take().is_empty());
    }

    #[test]
    fn a_ported_or_temporary_number_counts_as_the_order_s() {
        let mut ported = activation("a", 1, "447700900001");
        let mut other = activation("b", 2, "447700900002");
        assert!(!shares_rows(&ported, &other));
        let sealed = crate::crypto::Sealed {
            kid: "k1".into(),
            nonce: "00".into(),
            ct: "00".into(),
        };
        let port = crate::order::PortIn::new(
            crate::compliance::Market::Uk,
            "447700900099".parse().expect("msisdn"),
            "EE".into(),
            sealed,
            None,
            None,
        )
        .running_on(Some("447700900050".parse().expect("msisdn")));
        ported.port = Some(port);
        other.msisdn = "447700900099".parse().expect("msisdn");
        assert!(shares_rows(&ported, &other), "the ported number");
        other.msisdn = "447700900050".parse().expect("msisdn");
        assert!(shares_rows(&ported, &other), "the temporary number");
    }

    #[test]
    fn a_group_holds_at_most_max_group() {
        let groups = AdvanceGroups::default();
        let orders = (0..MAX_GROUP as u32 + 3)
            .map(|i| activation(&format!("o{i}"), i, &format!("86170000{i:05}")))
            .collect();
        let _answers = queue(&groups, orders);
        assert_eq!(groups.take().len(), MAX_GROUP);
        assert_eq!(groups.take().len(), 3);
    }
}

//! Group transactions: writes of one kind that arrive while others commit wait, and the
//! next group commits them together in one transaction, their bodies polled at once on its
//! connection, so their statements are pipelined and they share the BEGIN, the deferred
//! counters-and-logs statement, the COMMIT and its WAL flush: what the embedded store's
//! group commit does for its writer, on this node's share of the database. The kinds and
//! why their members never meet: `advance_group.rs`, `create_group.rs`.
//!
//! A group changes no answer, only how many transactions carry them: any error in a group
//! (a conflict, a refusal that must roll back, a store error, a database error that is not
//! a serialization failure) rolls the whole group back and runs each member again in a
//! transaction of its own, which gives each its own answer. A serialization failure
//! retries the group as it retries any transaction (`retry.rs`).
//!
//! Flat combining: a caller queues its write and waits for its answer or for one of the
//! kind's turns, whichever comes first; a caller that gets a turn starts the oldest queued
//! writes (at most the kind's group size, none meeting another: `clash`) as a group in a
//! task of its own, which holds the turn until the group has answered every member, and
//! waits again. A caller dropped meanwhile (a client that went away) changes nothing for
//! the others: the group runs to its end.

use super::committer::Committer;
use super::order_leases::Owner;
use super::retry::{RetryStats, Tx, TxError, TxResult, retryable_tx};
use crate::metrics::GroupCounts;
use crate::store::StoreError;
use adapters::hlr::BoxFuture;
use std::collections::VecDeque;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use tokio::sync::oneshot;

/// One queued write and where its answer goes.
pub struct Queued<J, R> {
    /// The write.
    pub job: J,
    /// Its answer's way back.
    pub reply: oneshot::Sender<Result<R, StoreError>>,
}

/// The writes of one kind waiting for a group, and the turns to run one.
pub struct Groups<J, R> {
    queue: Mutex<VecDeque<Queued<J, R>>>,
    turns: Arc<tokio::sync::Semaphore>,
    size: usize,
    clash: fn(&J, &J) -> bool,
}

impl<J, R> std::fmt::Debug for Groups<J, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Groups")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl<J, R> Groups<J, R> {
    /// Groups of at most `size` writes, `turns` of them at once; two writes for which
    /// `clash` holds never share one.
    pub fn new(turns: usize, size: usize, clash: fn(&J, &J) -> bool) -> Self {
        Self {
            queue: Mutex::default(),
            turns: Arc::new(tokio::sync::Semaphore::new(turns)),
            size,
            clash,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Queued<J, R>>> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `job`, and returns its answer: from a group another caller started, or from
    /// one this caller starts, as `run(group)` in a task of its own, when it gets a turn
    /// first. `run` answers every write it is given.
    pub async fn submit<F, Fut>(&self, job: J, run: F) -> Result<R, StoreError>
    where
        F: Fn(Vec<Queued<J, R>>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (reply, mut answer) = oneshot::channel();
        self.lock().push_back(Queued { job, reply });
        loop {
            let turn = tokio::select! {
                biased;
                answered = &mut answer => return answered.unwrap_or_else(|_| Err(dropped())),
                turn = self.turns.clone().acquire_owned() => turn,
            };
            let group = self.take();
            if group.is_empty() {
                // Ours is in a group already started: its answer comes from there.
                drop(turn);
                return answer.await.unwrap_or_else(|_| Err(dropped()));
            }
            let running = run(group);
            tokio::spawn(async move {
                running.await;
                drop(turn);
            });
        }
    }

    /// The oldest queued writes, at most the group size, none clashing with another of
    /// them (such a one stays queued for a later group). The scan stops once the group is
    /// full, and a write taken from near the front moves only those before it: under load
    /// hundreds wait, and a write (an advance carries its order) is large.
    pub fn take(&self) -> Vec<Queued<J, R>> {
        let mut queue = self.lock();
        let mut taken: Vec<Queued<J, R>> = Vec::with_capacity(self.size.min(queue.len()));
        let mut i = 0;
        while taken.len() < self.size {
            let Some(next) = queue.get(i) else { break };
            if taken.iter().any(|t| (self.clash)(&t.job, &next.job)) {
                i += 1;
            } else if let Some(q) = queue.remove(i) {
                taken.push(q);
            }
        }
        taken
    }

    /// Queues `job` without waiting (tests of `take`); its answer's receiver.
    #[cfg(test)]
    pub fn queue(&self, job: J) -> oneshot::Receiver<Result<R, StoreError>> {
        let (reply, answer) = oneshot::channel();
        self.lock().push_back(Queued { job, reply });
        answer
    }
}

/// Group transactions of one kind a node runs at once, with a pool of `pool_size`
/// connections: a quarter of the pool, so that the two kinds together hold at most half of
/// it and requests' reads, writes that run alone and the sequencer keep the rest; at least
/// one, at most four. On the bench (`simgw bench --store postgres`, 2 cores, a pool of 16)
/// one at a time left the advances behind the creates (groups always full, the throughput
/// of no groups), and more than four met more serialization failures; two nodes with
/// half the pool each run half as many, so the database sees as many as with one node.
pub fn turns(pool_size: usize) -> usize {
    (pool_size / 4).clamp(1, 4)
}

/// A kind of write that group transactions carry (`advance_group.rs`, `create_group.rs`).
pub trait Member: Sync {
    /// What the write answers.
    type Answer: Send;
    /// The kind's name, in logs.
    const KIND: &'static str;
    /// The write's statements in `tx`, which it may share with the rest of its group.
    fn body<'a>(
        &'a self,
        tx: &'a Tx<'a>,
        owner: Owner<'a>,
    ) -> BoxFuture<'a, TxResult<Self::Answer>>;
    /// Whether `answer` must roll its transaction back (a refusal that changes nothing),
    /// which in a group would undo the others: such an answer splits the group.
    fn rolls_back(answer: &Self::Answer) -> bool;
    /// The kind's group counters.
    fn counts(stats: &RetryStats) -> &GroupCounts;
}

/// Commits `group` in one transaction, or (any error, any answer that rolls back) each of
/// its writes alone; answers each.
pub async fn run<M: Member>(c: Committer, group: Vec<Queued<M, M::Answer>>) {
    if group.len() > 1 {
        let jobs: Vec<&M> = group.iter().map(|q| &q.job).collect();
        let grouped = c
            .transaction(&(jobs.as_slice(), c.owner()), |tx, (jobs, owner)| {
                Box::pin(all(tx, jobs, *owner))
            })
            .await;
        count(M::counts(&c.stats), M::KIND, group.len(), &grouped);
        if let Ok(answers) = grouped {
            for (q, answer) in group.into_iter().zip(answers) {
                let _ = q.reply.send(Ok(answer));
            }
            return;
        }
    }
    let alone: Vec<BoxFuture<'_, Result<M::Answer, StoreError>>> = group
        .iter()
        .map(|q| Box::pin(alone(&c, &q.job)) as BoxFuture<'_, _>)
        .collect();
    let answers = join_all(alone).await;
    for (q, answer) in group.into_iter().zip(answers) {
        let _ = q.reply.send(answer);
    }
}

/// One write in a transaction of its own.
pub async fn alone<M: Member>(c: &Committer, job: &M) -> Result<M::Answer, StoreError> {
    c.transaction(&(job, c.owner()), |tx, (job, owner)| job.body(tx, *owner))
        .await
}

/// Every write of a group in `tx`, at once; their answers, unless `fate` decides on their
/// errors or one must roll back.
async fn all<M: Member>(tx: &Tx<'_>, jobs: &[&M], owner: Owner<'_>) -> TxResult<Vec<M::Answer>> {
    let bodies: Vec<BoxFuture<'_, TxResult<M::Answer>>> =
        jobs.iter().map(|j| j.body(tx, owner)).collect();
    let mut answers = Vec::with_capacity(jobs.len());
    let mut errors = Vec::new();
    for r in join_all(bodies).await {
        match r {
            Ok(answer) => answers.push(answer),
            Err(e) => errors.push(e),
        }
    }
    fate(errors)?;
    if answers.iter().any(M::rolls_back) {
        return Err(TxError::Store(StoreError::Backend(format!(
            "a write of the {} group must roll back, which would undo the others",
            M::KIND
        ))));
    }
    Ok(answers)
}

/// Counts a group's outcome; a split is logged at debug with its reason.
fn count<T>(counts: &GroupCounts, kind: &str, size: usize, grouped: &Result<T, StoreError>) {
    match grouped {
        Ok(_) => {
            counts.committed.fetch_add(1, Relaxed);
            counts.writes.fetch_add(size as u64, Relaxed);
        }
        Err(e) => {
            counts.split.fetch_add(1, Relaxed);
            tracing::debug!(error = %e, kind, size,
                "group transaction rolled back; each of its writes runs alone");
        }
    }
}

/// The answer to a write whose group ended without answering it (its task panicked or
/// the runtime shut down): the write may or may not have committed, which the version
/// check or the Idempotency-Key tells when it is sent again.
fn dropped() -> StoreError {
    StoreError::Backend("the group carrying this write was dropped before it answered".into())
}

/// Of the errors a group's bodies met, the one that decides its fate: a store error first
/// (the group cannot commit, and running it again would meet it again), then a retryable
/// one (the group runs again), then the first; `Ok` when there was none.
fn fate(mut errors: Vec<TxError>) -> TxResult<()> {
    if errors.is_empty() {
        return Ok(());
    }
    let pick = errors
        .iter()
        .position(|e| matches!(e, TxError::Store(_)))
        .or_else(|| errors.iter().position(retryable_tx))
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

    fn same_parity(a: &u32, b: &u32) -> bool {
        a % 2 == b % 2
    }

    fn jobs(taken: &[Queued<u32, ()>]) -> Vec<u32> {
        taken.iter().map(|q| q.job).collect()
    }

    #[test]
    fn a_group_takes_the_oldest_and_leaves_what_clashes_for_later() {
        let g: Groups<u32, ()> = Groups::new(1, 8, same_parity);
        let _answers: Vec<_> = [1, 3, 2, 5, 4].into_iter().map(|j| g.queue(j)).collect();
        assert_eq!(jobs(&g.take()), [1, 2]);
        assert_eq!(jobs(&g.take()), [3, 4]);
        assert_eq!(jobs(&g.take()), [5]);
        assert!(g.take().is_empty());
    }

    #[test]
    fn each_kind_runs_at_most_a_quarter_of_the_pool_at_once() {
        assert_eq!(turns(16), 4);
        assert_eq!(turns(8), 2, "two nodes with half the pool each");
        assert_eq!(turns(4), 1);
        assert_eq!(turns(1), 1, "always one");
        assert_eq!(turns(100), 4, "at most four");
    }

    #[test]
    fn a_group_holds_at_most_its_size() {
        let g: Groups<u32, ()> = Groups::new(1, 3, |_, _| false);
        let _answers: Vec<_> = (0..5).map(|j| g.queue(j)).collect();
        assert_eq!(jobs(&g.take()), [0, 1, 2]);
        assert_eq!(jobs(&g.take()), [3, 4]);
    }

    /// Lets every task that can run do so (the test runtime has one thread).
    async fn settle() {
        for _ in 0..16 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn a_group_answers_its_members_after_the_caller_that_started_it_is_gone() {
        let g: Arc<Groups<u32, u32>> = Arc::new(Groups::new(1, 8, |_, _| false));
        // Each group waits for a permit of `gate` before it answers.
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let run = {
            let gate = gate.clone();
            move |group: Vec<Queued<u32, u32>>| {
                let gate = gate.clone();
                async move {
                    if let Ok(p) = gate.acquire().await {
                        p.forget();
                    }
                    for q in group {
                        let _ = q.reply.send(Ok(q.job * 10));
                    }
                }
            }
        };
        let submit = |job: u32| {
            let (g, run) = (g.clone(), run.clone());
            tokio::spawn(async move { g.submit(job, run).await })
        };
        // The first write holds the only turn; the next two queue behind it.
        let first = submit(1);
        settle().await;
        let (leader, follower) = (submit(2), submit(3));
        settle().await;
        gate.add_permits(1);
        settle().await;
        assert_eq!(first.await.expect("task").expect("answer"), 10);
        // The second caller took the turn and started 2 and 3 as one group; it goes away.
        assert!(g.lock().is_empty(), "2 and 3 were taken as a group");
        leader.abort();
        settle().await;
        gate.add_permits(1);
        assert_eq!(follower.await.expect("task").expect("answer"), 30);
    }

    #[test]
    fn a_store_error_decides_a_group_before_a_retryable_one() {
        let conflict = || TxError::Store(StoreError::Conflict("o".into()));
        assert!(fate(Vec::new()).is_ok());
        assert!(matches!(
            fate(vec![TxError::Contended, conflict()]),
            Err(TxError::Store(StoreError::Conflict(_)))
        ));
        assert!(matches!(
            fate(vec![TxError::Contended]),
            Err(TxError::Contended)
        ));
    }
}

//! Group commit for a simulator's state file: changes are handed to one writer thread in
//! the order the simulator made them (under its lock), and the thread commits everything
//! queued so far in one commit (one frame of the journal). A caller that must not answer
//! before its change is kept awaits its [`Ticket`]; under load one commit carries many
//! changes, so the hot path pays a queue push, not a commit (measured with `simgw bench`:
//! see README).
//!
//! A commit that fails is retried with the next batch, in order, so a change is never
//! overtaken by a later one; its tickets say `false` meanwhile. [`StateWriter::close`]
//! commits what is queued, then closes the file (releasing its lock).

use super::control::lock;
use super::state_file::{Change, StateFile};
use std::sync::Mutex;
use std::sync::mpsc;
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// Most changes one commit carries (a bound on a commit's size, not on the queue).
const BATCH: usize = 4_096;

/// One hand-over: its changes (none for a barrier) and whom to tell.
struct Job {
    changes: Vec<Change>,
    done: Option<oneshot::Sender<bool>>,
}

/// Whether a hand-over was committed.
#[derive(Debug)]
pub(crate) struct Ticket(Option<oneshot::Receiver<bool>>);

impl Ticket {
    /// A ticket for nothing to write.
    pub(crate) fn none() -> Self {
        Self(None)
    }

    /// True once the changes are committed (or there were none); false if their commit
    /// failed or the writer closed without committing them.
    pub(crate) async fn written(self) -> bool {
        match self.0 {
            None => true,
            Some(rx) => rx.await.unwrap_or(false),
        }
    }
}

/// The writer thread of one state file; without a file every ticket is [`Ticket::none`].
#[derive(Debug, Default)]
pub(crate) struct StateWriter {
    queue: Mutex<Option<(mpsc::Sender<Job>, JoinHandle<()>)>>,
    resumed: bool,
}

impl StateWriter {
    /// Starts the writer thread of `file` (none without one).
    pub(crate) fn start(file: Option<StateFile>) -> std::io::Result<Self> {
        let Some(file) = file else {
            return Ok(Self::default());
        };
        let resumed = file.resumed();
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("sim-state-writer".into())
            .spawn(move || run(&file, &rx))?;
        Ok(Self {
            queue: Mutex::new(Some((tx, thread))),
            resumed,
        })
    }

    /// Whether there is a file and it held a simulator's state when opened.
    pub(crate) fn resumed(&self) -> bool {
        self.resumed
    }

    /// Hands `changes` over (call it under the lock that ordered them); the ticket says
    /// when they are committed. Nothing to write, or no file: [`Ticket::none`].
    pub(crate) fn submit(&self, changes: Vec<Change>) -> Ticket {
        if changes.is_empty() {
            return Ticket::none();
        }
        self.send(changes)
    }

    /// A ticket that is done once everything handed over before it is committed.
    pub(crate) fn barrier(&self) -> Ticket {
        self.send(Vec::new())
    }

    fn send(&self, changes: Vec<Change>) -> Ticket {
        let queue = lock(&self.queue);
        let Some((tx, _)) = queue.as_ref() else {
            // No file, or closed (the simulator stopped): nothing is kept any more.
            return Ticket::none();
        };
        let (done, rx) = oneshot::channel();
        let job = Job {
            changes,
            done: Some(done),
        };
        match tx.send(job) {
            Ok(()) => Ticket(Some(rx)),
            Err(_) => Ticket(Some(oneshot::channel().1)),
        }
    }

    /// Commits what is queued and closes the file. Idempotent.
    pub(crate) fn close(&self) {
        let taken = lock(&self.queue).take();
        if let Some((tx, thread)) = taken {
            drop(tx);
            if thread.join().is_err() {
                tracing::error!("simulator state writer stopped abnormally");
            }
        }
    }
}

impl Drop for StateWriter {
    fn drop(&mut self) {
        self.close();
    }
}

/// The writer thread: waits for a job, takes every job queued behind it, commits them in
/// one go (with any left over from a failed commit, first) and answers each.
fn run(file: &StateFile, rx: &mpsc::Receiver<Job>) {
    let mut unwritten: Vec<Change> = Vec::new();
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        let mut count = jobs[0].changes.len();
        while count < BATCH {
            match rx.try_recv() {
                Ok(job) => {
                    count += job.changes.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        for job in &mut jobs {
            unwritten.append(&mut job.changes);
        }
        let ok = match file.commit(&unwritten) {
            Ok(()) => {
                unwritten.clear();
                true
            }
            Err(e) => {
                tracing::error!(error = %e, pending = unwritten.len(),
                    "simulator state not written; retried with the next change");
                false
            }
        };
        for job in jobs {
            if let Some(done) = job.done {
                let _ = done.send(ok);
            }
        }
    }
    if !unwritten.is_empty() {
        if let Err(e) = file.commit(&unwritten) {
            tracing::error!(error = %e, lost = unwritten.len(), "simulator state lost at close");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::state_file::Table;

    const T: Table = Table::new("things");

    #[tokio::test]
    async fn changes_are_committed_in_order_and_close_writes_the_queue() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.state");
        let w = StateWriter::start(Some(StateFile::open(&path).expect("open"))).expect("writer");
        assert!(!w.resumed());
        let put = |v: u32| vec![Change::put(T, "k", &v).expect("json")];
        let first = w.submit(put(1));
        let second = w.submit(put(2));
        assert!(first.written().await && second.written().await);
        // Handed over without waiting: close still commits it, then frees the file.
        drop(w.submit(put(3)));
        w.close();
        assert!(w.barrier().written().await, "closed: nothing more to write");
        let f = StateFile::open(&path).expect("reopen after close");
        assert_eq!(f.load::<u32>(T).expect("load"), vec![("k".to_owned(), 3)]);
        assert!(
            StateWriter::default().submit(put(4)).written().await,
            "no file"
        );
    }
}

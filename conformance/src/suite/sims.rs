//! Hands out the sandbox's SIMs, one per activation, so cases never race for a card.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

/// The ICCIDs of `sandbox.json` not yet handed out in this run.
#[derive(Debug)]
pub(crate) struct SimAllocator {
    queue: Mutex<VecDeque<String>>,
    total: usize,
}

impl SimAllocator {
    /// Starts with every ICCID of the sandbox file, in file order.
    pub fn new(iccids: &[String]) -> Self {
        Self {
            queue: Mutex::new(iccids.iter().cloned().collect()),
            total: iccids.len(),
        }
    }

    /// Takes the next ICCID for good, or explains that none is left.
    pub fn take(&self) -> Result<String, String> {
        // A poisoned lock only means another case panicked mid-pop; the queue is intact.
        let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        q.pop_front().ok_or_else(|| {
            format!(
                "no SIM left: all {} ICCIDs of sandbox.json were used or refused as \
                 sim_not_available; restart the sandbox with more SIMs or on a fresh data dir",
                self.total
            )
        })
    }

    /// The next ICCID without taking it, for requests that must be refused anyway.
    pub fn peek(&self) -> Option<String> {
        let q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        q.front().cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_out_each_sim_once_then_explains() {
        let a = SimAllocator::new(&["1".into(), "2".into()]);
        assert_eq!(a.peek().as_deref(), Some("1"));
        assert_eq!(a.take().as_deref(), Ok("1"));
        assert_eq!(a.take().as_deref(), Ok("2"));
        assert!(a.peek().is_none());
        let err = a.take().expect_err("empty");
        assert!(err.contains("all 2 ICCIDs"), "{err}");
    }
}

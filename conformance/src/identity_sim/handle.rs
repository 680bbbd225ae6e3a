//! [`IdentitySimHandle`]: the in-process view of a running identity-verification
//! simulator, for fault injection, assertions and shutdown.

use super::faults::Rule;
use super::simulator::Simulator;
use super::stats::IdentityCounts;
use crate::common::control::Control;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A cheaply cloneable handle to a running simulator. It runs until
/// [`IdentitySimHandle::shutdown`] or until the last clone is dropped.
#[derive(Debug, Clone)]
pub struct IdentitySimHandle {
    sim: Arc<Simulator>,
    addr: SocketAddr,
    control: Arc<Control>,
}

impl IdentitySimHandle {
    pub(crate) fn new(
        sim: Arc<Simulator>,
        addr: SocketAddr,
        stop: watch::Sender<bool>,
        task: JoinHandle<()>,
    ) -> Self {
        Self {
            sim,
            addr,
            control: Arc::new(Control::new(stop, task, "identity")),
        }
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL, `https://addr` (`/v1/verifications` is appended by the client).
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Request and decision counters.
    pub fn counts(&self) -> IdentityCounts {
        *self.sim.counts()
    }

    /// Appends a scripted rule (tried after the rules already pending).
    pub fn push_rule(&self, rule: Rule) {
        self.sim.rules().push(rule);
    }

    /// Removes every pending rule.
    pub fn clear_rules(&self) {
        self.sim.rules().clear();
    }

    /// The rules still pending, with their remaining counts (ID numbers print as `***`).
    pub fn rules(&self) -> Vec<Rule> {
        self.sim.rules().rules().to_vec()
    }

    /// How many decisions are kept for replays.
    pub fn remembered(&self) -> usize {
        self.sim.replay().len()
    }

    /// Stops accepting and waits for connections to finish (a held request is cut).
    /// Idempotent.
    pub async fn shutdown(&self) {
        self.control.shutdown().await;
    }
}

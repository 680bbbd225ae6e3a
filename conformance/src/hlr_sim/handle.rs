//! [`HlrSimHandle`]: the in-process view of a running simulator, for assertions and control.

use super::codec::{AucSubscription, HlrSubscription};
use super::error::SimError;
use super::faults::{FaultConfig, Rule};
use super::simulator::Simulator;
use super::stats::SimCounts;
use super::store::{AppliedCreate, SimSubscriber};
use crate::common::control::Control;
use sim_profiles::Imsi;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A cheaply cloneable handle to a running simulator. The simulator runs until
/// [`HlrSimHandle::shutdown`] or until the last clone is dropped.
#[derive(Debug, Clone)]
pub struct HlrSimHandle {
    sim: Arc<Simulator>,
    addr: SocketAddr,
    scheme: &'static str,
    control: Arc<Control>,
}

impl HlrSimHandle {
    pub(crate) fn new(
        sim: Arc<Simulator>,
        addr: SocketAddr,
        scheme: &'static str,
        stop: watch::Sender<bool>,
        task: JoinHandle<()>,
    ) -> Self {
        let control = Arc::new(Control::new(stop, task, "hlr"));
        Self {
            sim,
            addr,
            scheme,
            control,
        }
    }

    /// The bound address (the real port when configured with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The CAI3G endpoint URL, e.g. `http://127.0.0.1:40123/CAI3G1.2/services/CAI3G1.2`.
    pub fn url(&self) -> String {
        format!("{}://{}{}", self.scheme, self.addr, self.sim.path)
    }

    /// Every subscriber (with keys), ordered by IMSI.
    pub fn subscribers(&self) -> Vec<SimSubscriber> {
        self.sim.store().subscribers()
    }

    /// The AUC entry for `imsi`.
    pub fn auc(&self, imsi: &Imsi) -> Option<AucSubscription> {
        self.sim.store().auc(imsi)
    }

    /// The HLR subscription for `imsi`.
    pub fn hlr(&self, imsi: &Imsi) -> Option<HlrSubscription> {
        self.sim.store().hlr(imsi)
    }

    /// Request and injection counters.
    pub fn counts(&self) -> SimCounts {
        *self.sim.counts()
    }

    /// Every Create applied, oldest first (a Create answered with a fault is not listed).
    pub fn applied_creates(&self) -> Vec<AppliedCreate> {
        self.sim.store().applied_creates().to_vec()
    }

    /// The current random-fault configuration.
    pub fn faults(&self) -> FaultConfig {
        self.sim.faults().config().clone()
    }

    /// Replaces the random-fault configuration.
    pub fn set_faults(&self, faults: FaultConfig) -> Result<(), SimError> {
        self.sim.set_faults(faults)
    }

    /// Appends a scripted rule.
    pub fn push_rule(&self, rule: Rule) {
        self.sim.faults().push_rule(rule);
    }

    /// Removes every pending rule.
    pub fn clear_rules(&self) {
        self.sim.faults().clear_rules();
    }

    /// The rules still pending, with their remaining counts.
    pub fn rules(&self) -> Vec<Rule> {
        self.sim.faults().rules().to_vec()
    }

    /// Ends every session (clients must log in again); returns how many there were.
    pub fn expire_sessions(&self) -> usize {
        self.sim.sessions().expire_all()
    }

    /// Forgets every subscriber and applied create (in the state file too, if any, by
    /// the time the simulator has shut down).
    pub fn reset(&self) {
        drop(self.sim.reset_state());
    }

    /// Whether the subscribers were resumed from a state file that held them (`false`
    /// without a state file, or when it was created by this start).
    pub fn resumed(&self) -> bool {
        self.sim.resumed()
    }

    /// Stops accepting, closes the listener, waits for connections to finish (held
    /// exchanges are cut at once, others get a short grace period), then closes the state
    /// file. Idempotent.
    pub async fn shutdown(&self) {
        self.control.shutdown().await;
        self.sim.close_state_file();
    }
}

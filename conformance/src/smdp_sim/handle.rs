//! [`SmdpSimHandle`]: the in-process view of a running SM-DP+ simulator, for assertions,
//! customer actions and control.

use super::admin::{self, StateDump};
use super::codes::Code;
use super::config::ProfileSeed;
use super::error::SmdpSimError;
use super::es9::{Es9Outcome, InstallResult};
use super::faults::{FaultConfig, Rule};
use super::inventory::{Policy, ReplayRule};
use super::notify::{Quirks, SentNotification};
use super::simulator::{CustomerAction, Simulator, profile_of};
use super::state::Profile;
use super::stats::SmdpCounts;
use crate::common::control::Control;
use sim_profiles::Iccid;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A cheaply cloneable handle to a running simulator. It runs until
/// [`SmdpSimHandle::shutdown`] or until the last clone is dropped.
#[derive(Debug, Clone)]
pub struct SmdpSimHandle {
    sim: Arc<Simulator>,
    addr: SocketAddr,
    control: Arc<Control>,
}

impl SmdpSimHandle {
    pub(crate) fn new(
        sim: Arc<Simulator>,
        addr: SocketAddr,
        stop: watch::Sender<bool>,
        task: JoinHandle<()>,
    ) -> Self {
        Self {
            sim,
            addr,
            control: Arc::new(Control::new(stop, task, "smdp")),
        }
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The ES2+ base URL, `https://addr` (the function paths are appended to it).
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// One profile (keys inside print as `***`).
    pub fn profile(&self, iccid: &Iccid) -> Option<Profile> {
        self.sim.inventory().get(iccid).cloned()
    }

    /// Adds `Available` profiles while running (a batch imported after start); an ICCID
    /// already held keeps its profile and state. Returns how many were added.
    pub fn add_profiles(&self, seeds: &[ProfileSeed]) -> usize {
        let mut inventory = self.sim.inventory();
        seeds
            .iter()
            .filter(|s| inventory.add(profile_of(s)))
            .count()
    }

    /// Every profile, ordered by ICCID.
    pub fn profiles(&self) -> Vec<Profile> {
        self.sim.inventory().profiles().cloned().collect()
    }

    /// The state dump `GET /sim/state` serves.
    pub fn state(&self) -> StateDump {
        admin::state(&self.sim)
    }

    /// The personalised package (DER) of a downloaded profile.
    pub fn package(&self, iccid: &Iccid) -> Option<Vec<u8>> {
        self.sim
            .inventory()
            .get(iccid)
            .and_then(|p| p.package.clone())
    }

    /// Switches how a repeated ConfirmOrder on a Confirmed or Released profile is answered.
    pub fn set_replay_rule(&self, replay: ReplayRule) {
        let mut inventory = self.sim.inventory();
        let policy = Policy {
            replay,
            ..inventory.policy()
        };
        inventory.set_policy(policy);
    }

    /// Drops the reservation of `iccid` (back to Available, order data cleared), as an
    /// SM-DP+ that lost it would; returns whether it was reserved, confirmed or released.
    pub fn lose_reservation(&self, iccid: &Iccid) -> bool {
        self.sim
            .inventory()
            .lose_reservation(iccid, &super::clock::now())
    }

    /// Request and injection counters.
    pub fn counts(&self) -> SmdpCounts {
        *self.sim.counts()
    }

    /// The current random-fault configuration.
    pub fn faults(&self) -> FaultConfig {
        self.sim.faults().config().clone()
    }

    /// Replaces the random-fault configuration.
    pub fn set_faults(&self, faults: FaultConfig) -> Result<(), SmdpSimError> {
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

    /// The rules still pending.
    pub fn rules(&self) -> Vec<Rule> {
        self.sim.faults().rules().to_vec()
    }

    /// The notification quirks in force.
    pub fn quirks(&self) -> Quirks {
        self.sim.notifier.quirks()
    }

    /// Replaces the notification quirks (applies to notifications emitted from now on).
    pub fn set_quirks(&self, quirks: Quirks) {
        self.sim.notifier.set_quirks(quirks);
    }

    /// Every notification handled so far, in sending order.
    pub fn notifications(&self) -> Vec<SentNotification> {
        self.sim.notifier.log().entries()
    }

    /// Waits (on tokio's clock) until at least `n` notifications were handled or `within`
    /// passes, and returns the log.
    pub async fn wait_for_notifications(
        &self,
        n: usize,
        within: Duration,
    ) -> Vec<SentNotification> {
        self.sim.notifier.log().wait_for(n, within).await
    }

    /// Performs a customer (ES9+) action: eligibility, a Confirmation Code attempt,
    /// download (Released → Downloaded, point 3), installation result (point 4) or
    /// CancelSession. `Err` means refused with nothing changed.
    pub fn act(&self, iccid: &Iccid, action: CustomerAction) -> Result<Es9Outcome, Code> {
        self.sim.act(iccid, action)
    }

    /// Shorthand for [`CustomerAction::Download`].
    pub fn download(&self, iccid: &Iccid) -> Result<Es9Outcome, Code> {
        self.act(iccid, CustomerAction::Download)
    }

    /// Shorthand for [`CustomerAction::Install`].
    pub fn install(&self, iccid: &Iccid, result: InstallResult) -> Result<Es9Outcome, Code> {
        self.act(iccid, CustomerAction::Install(result))
    }

    /// Shorthand for [`CustomerAction::TypedCode`].
    pub fn cc_attempt(&self, iccid: &Iccid, code: &str) -> Result<Es9Outcome, Code> {
        self.act(iccid, CustomerAction::TypedCode(code.to_owned()))
    }

    /// Downloads and installs `iccid` after `delay` on tokio's clock.
    pub fn schedule_download_install(&self, iccid: &Iccid, delay: Duration) {
        self.sim.schedule_download_install(iccid, delay);
    }

    /// Stops accepting, stops the notification task, waits for connections to finish, then
    /// closes the state file (notifications not yet delivered stay in it). Idempotent.
    pub async fn shutdown(&self) {
        self.control.shutdown().await;
        self.sim.close_state_file();
    }
}

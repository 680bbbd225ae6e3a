//! [`PortingSimHandle`]: the in-process view of a running hub simulator: the clock,
//! donor behaviours, faults, commands, and what it has seen and sent.

use super::clock::ClockMode;
use super::donor::Behaviour;
use super::error::PortingSimError;
use super::faults::{CallbackFaultConfig, CallbackRule, FaultConfig, Rule};
use super::hub::PortOutCommand;
use super::journal::RequestRecord;
use super::notify::Delivery;
use super::port::PortView;
use super::simulator::Simulator;
use super::stats::PortingCounts;
use crate::common::control::Control;
use adapters::porting::{Ref, UtcTime};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A cheaply cloneable handle to a running simulator. It runs until
/// [`PortingSimHandle::shutdown`] or until the last clone is dropped.
#[derive(Debug, Clone)]
pub struct PortingSimHandle {
    sim: Arc<Simulator>,
    addr: SocketAddr,
    control: Arc<Control>,
}

impl PortingSimHandle {
    pub(crate) fn new(
        sim: Arc<Simulator>,
        addr: SocketAddr,
        stop: watch::Sender<bool>,
        task: JoinHandle<()>,
    ) -> Self {
        Self {
            sim,
            addr,
            control: Arc::new(Control::new(stop, task, "porting")),
        }
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The hub's base URL, `https://addr` (the request paths are appended).
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The admin API's base, `https://addr/sim/`.
    pub fn admin_url(&self) -> String {
        format!("https://{}/sim/", self.addr)
    }

    /// The hub's time.
    pub fn now(&self) -> UtcTime {
        super::clock::utc(self.sim.now())
    }

    /// Sets the hub's time (never back) and emits what became due; the number of
    /// messages.
    pub fn set_time(&self, to: UtcTime) -> Result<usize, PortingSimError> {
        self.sim
            .set_time(to.unix_ms())
            .map_err(|_| PortingSimError::Config("time only moves forward".into()))
    }

    /// Moves the hub's time forward and emits what became due; the number of messages.
    pub fn advance(&self, by: Duration) -> usize {
        self.sim.advance(by)
    }

    /// Switches the clock between driven and real time.
    pub fn set_clock_mode(&self, mode: ClockMode) {
        self.sim.set_mode(mode);
    }

    /// Sets the donor's behaviour for `number` (E.164 digits), or the default (`None`).
    pub fn set_donor(&self, number: Option<&str>, behaviour: Behaviour) {
        self.sim.state().hub.donors.set(number, behaviour);
    }

    /// Replaces the random request faults.
    pub fn set_faults(&self, faults: FaultConfig) -> Result<(), PortingSimError> {
        faults.validate()?;
        self.sim.faults().set_config(faults);
        Ok(())
    }

    /// Appends a scripted request fault.
    pub fn push_rule(&self, rule: Rule) {
        self.sim.faults().push_rule(rule);
    }

    /// Replaces the random callback faults.
    pub fn set_callback_faults(&self, faults: CallbackFaultConfig) -> Result<(), PortingSimError> {
        faults.validate()?;
        self.sim.notifier.planner().set_config(faults);
        Ok(())
    }

    /// Appends a scripted callback fault.
    pub fn push_callback_rule(&self, rule: CallbackRule) {
        self.sim.notifier.planner().push_rule(rule);
    }

    /// The hub asks the receiver for one of its numbers; the new port's reference.
    pub fn port_out_request(&self, cmd: PortOutCommand) -> Result<Ref, String> {
        self.sim.port_out(cmd)
    }

    /// The other side asks to cancel `port_ref`.
    pub fn cancel_request(&self, port_ref: &str) -> Result<(), String> {
        self.sim.cancel_request(port_ref)
    }

    /// Every port, oldest first.
    pub fn ports(&self) -> Vec<PortView> {
        self.sim.ports()
    }

    /// One port.
    pub fn port(&self, port_ref: &str) -> Option<PortView> {
        self.sim.port(port_ref)
    }

    /// Every request received, in arrival order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.sim.state().journal.entries()
    }

    /// Every delivery finished so far, in order.
    pub fn callbacks(&self) -> Vec<Delivery> {
        self.sim.notifier.log().entries()
    }

    /// Waits (on tokio's clock) until at least `n` deliveries finished or `within`
    /// passes, and returns the log.
    pub async fn wait_for_callbacks(&self, n: usize, within: Duration) -> Vec<Delivery> {
        self.sim.notifier.log().wait_for(n, within).await
    }

    /// Lets up to `lanes` messages, of as many ports, be in flight at once (1: one at a
    /// time, in queue order); each port's messages still go one after another.
    pub fn set_delivery_lanes(&self, lanes: usize) {
        self.sim.notifier.set_lanes(lanes);
    }

    /// Lets one delivery carry up to `batch` messages, of as many ports, in one POST
    /// (`{"messages": […]}`, at most `adapters::porting::MAX_BATCH`); 1 sends each alone.
    pub fn set_delivery_batch(&self, batch: usize) {
        self.sim.notifier.set_batch(batch);
    }

    /// Releases every held-back message; how many.
    pub fn flush_callbacks(&self) -> usize {
        self.sim.notifier.flush()
    }

    /// Sets (or clears) the receiver's callback base URL.
    pub fn set_receiver(&self, url: Option<&str>) -> Result<(), PortingSimError> {
        self.sim.set_receiver(url)
    }

    /// Counters.
    pub fn counts(&self) -> PortingCounts {
        *self.sim.counts()
    }

    /// Forgets ports, requests, answers, donors, faults, deliveries and counts.
    pub fn reset(&self) {
        self.sim.reset();
    }

    /// Stops accepting, stops the delivery task and the ticker, waits for connections to
    /// finish, then closes the state file (messages not yet delivered stay in it).
    /// Idempotent.
    pub async fn shutdown(&self) {
        self.control.shutdown().await;
        self.sim.close_state_file();
    }
}

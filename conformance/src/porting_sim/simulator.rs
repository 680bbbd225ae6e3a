//! The state one running simulator shares between its connections, its handle, its
//! admin API and its ticker, and its routing. The hub, its clock, the idempotency table
//! and the journal sit behind one lock, held only for synchronous steps: a request is
//! checked, applied and its messages queued in one step, so the delivery queue holds
//! them in the order the hub produced them. With a state file, what a step changed (and
//! the messages it made) is handed to the file's writer in that same step.

use super::admin;
use super::clock::{Backwards, ClockMode, SimClock, wall_ms};
use super::config::{CertFingerprint, PortingSimConfig, fingerprint, receiver_base};
use super::endpoint;
use super::error::PortingSimError;
use super::faults::{Operation, RequestPlanner};
use super::hub::{Hub, PortOutCommand};
use super::journal::Journal;
use super::notify::{Notifier, Planned};
use super::persist::{self, KeptHub, Pending};
use super::port::PortView;
use super::replay::ReplayCache;
use super::stats::PortingCounts;
use crate::common::control::{lock, wait_shutdown};
use crate::common::http_util::{self, Abort, HttpResponse};
use crate::common::server::{Peer, Service};
use crate::common::state_writer::{StateWriter, Ticket};
use adapters::porting::{HubMessage, Ref};
use http::StatusCode;
use hyper::body::Incoming;
use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;

/// Everything behind the simulator's main lock.
#[derive(Debug)]
pub(crate) struct State {
    /// The ports and donors.
    pub(crate) hub: Hub,
    /// First answers by request id.
    pub(crate) replay: ReplayCache,
    /// The requests received.
    pub(crate) journal: Journal,
    /// The hub's time.
    pub(crate) clock: SimClock,
}

/// Shared simulator state.
#[derive(Debug)]
pub(crate) struct Simulator {
    operators: HashMap<CertFingerprint, Ref>,
    /// The donor of hub-initiated port-outs when the command names none.
    pub(crate) default_donor: Ref,
    state: Mutex<State>,
    /// Where the hub's state is kept, if anywhere.
    state_file: Option<Arc<StateWriter>>,
    faults: Mutex<RequestPlanner>,
    counts: Arc<Mutex<PortingCounts>>,
    pub(crate) notifier: Notifier,
    shutdown: watch::Receiver<bool>,
}

impl Simulator {
    /// State for a validated `config`. With `kept` (a state file and what it held), the
    /// kept hub, answers and clock stand (over the configured start), and every change is
    /// written there.
    pub(crate) fn new(
        config: &PortingSimConfig,
        notifier: Notifier,
        counts: Arc<Mutex<PortingCounts>>,
        shutdown: watch::Receiver<bool>,
        kept: Option<(Arc<StateWriter>, KeptHub)>,
    ) -> Self {
        let start = config.start_at.map_or_else(wall_ms, |t| t.unix_ms());
        let fresh_clock = || SimClock::new(config.clock, start);
        let default_donor = match config.operators.as_slice() {
            [only] => only.id.clone(),
            _ => config.default_operator.clone(),
        };
        let (state_file, kept) = kept.unzip();
        let (hub, replay, clock) = match kept {
            None => (
                Hub::default(),
                ReplayCache::new(config.replay_capacity),
                fresh_clock(),
            ),
            Some(k) => (
                k.hub,
                ReplayCache::restore(config.replay_capacity, k.answers),
                k.clock
                    .map_or_else(fresh_clock, |(mode, ms)| SimClock::new(mode, ms)),
            ),
        };
        Self {
            operators: config
                .operators
                .iter()
                .map(|o| (o.cert_sha256, o.id.clone()))
                .collect(),
            default_donor,
            state: Mutex::new(State {
                hub,
                replay,
                journal: Journal::default(),
                clock,
            }),
            state_file,
            faults: Mutex::new(RequestPlanner::new(config.faults.clone(), config.seed)),
            counts,
            notifier,
            shutdown,
        }
    }

    /// The main lock; what changed through it is handed to the state file when the guard
    /// drops (await [`Simulator::written`] before answering).
    pub(crate) fn state(&self) -> StateGuard<'_> {
        StateGuard {
            sim: self,
            st: lock(&self.state),
        }
    }

    /// Hands what changed in `st` (this simulator's, locked by the caller, so the file
    /// takes changes in the order they were made) and the `pending` messages it made to
    /// the state file's writer, as one commit's worth.
    fn write(&self, st: &mut State, pending: impl IntoIterator<Item = (u64, Pending)>) -> Ticket {
        let Some(file) = &self.state_file else {
            return Ticket::none();
        };
        let State {
            hub, replay, clock, ..
        } = st;
        file.submit(persist::changes(hub, replay, clock, pending))
    }

    /// Done once every change handed over so far is kept.
    pub(crate) fn written(&self) -> Ticket {
        self.state_file
            .as_ref()
            .map_or_else(Ticket::none, |f| f.barrier())
    }

    /// Hands what the start made (a new file's clock) to the state file; done once kept.
    pub(crate) fn keep_start(&self) -> Ticket {
        drop(self.state());
        self.written()
    }

    /// Closes the state file (at shutdown; the notifier's handle to it closes too).
    pub(crate) fn close_state_file(&self) {
        if let Some(file) = &self.state_file {
            file.close();
        }
    }

    /// Request faults.
    pub(crate) fn faults(&self) -> MutexGuard<'_, RequestPlanner> {
        lock(&self.faults)
    }

    /// The counters.
    pub(crate) fn counts(&self) -> MutexGuard<'_, PortingCounts> {
        lock(&self.counts)
    }

    /// The hub's time.
    pub(crate) fn now(&self) -> u64 {
        self.state().clock.now()
    }

    /// Runs `f` at the hub's current time, after firing every timer due by then, and
    /// queues the messages produced, all under the main lock.
    pub(crate) fn exchange<T>(
        &self,
        f: impl FnOnce(&mut State, u64, &mut Vec<HubMessage>) -> T,
    ) -> T {
        let mut st = self.state();
        let now = st.clock.now();
        let mut out = Vec::new();
        st.hub.advance(now, &mut out);
        let result = f(&mut st, now, &mut out);
        self.queue(&mut st, out);
        result
    }

    /// Moves the clock with `f`, then fires what became due; the number of messages.
    fn move_clock(
        &self,
        f: impl FnOnce(&mut SimClock) -> Result<u64, Backwards>,
    ) -> Result<usize, Backwards> {
        let mut st = self.state();
        let now = f(&mut st.clock)?;
        let mut out = Vec::new();
        st.hub.advance(now, &mut out);
        let n = out.len();
        self.queue(&mut st, out);
        Ok(n)
    }

    /// Sets the hub's time (never back); the number of messages it made due.
    pub(crate) fn set_time(&self, to_ms: u64) -> Result<usize, Backwards> {
        self.move_clock(|c| c.set(to_ms))
    }

    /// Moves the hub's time forward; the number of messages it made due.
    pub(crate) fn advance(&self, by: Duration) -> usize {
        self.move_clock(|c| Ok(c.advance(by))).unwrap_or(0)
    }

    /// Switches how the clock moves.
    pub(crate) fn set_mode(&self, mode: ClockMode) {
        self.state().clock.set_mode(mode);
    }

    /// Fires due timers (the real-time ticker).
    pub(crate) fn tick(&self) {
        self.exchange(|_, _, _| ());
    }

    /// Forgets every port, request, answer, donor behaviour, fault, delivery and count;
    /// keeps the clock, the receiver URL and the id counters (references are never
    /// reused).
    pub(crate) fn reset(&self) {
        let mut st = self.state();
        st.hub.reset();
        st.replay.clear();
        st.journal = Journal::default();
        let mut faults = self.faults();
        faults.clear_rules();
        faults.set_config(Default::default());
        drop(faults);
        let mut cb = self.notifier.planner();
        cb.clear_rules();
        cb.set_config(Default::default());
        drop(cb);
        self.notifier.reset();
        *self.counts() = PortingCounts::default();
    }

    /// Opens a hub-initiated port-out (the admin command).
    pub(crate) fn port_out(&self, cmd: PortOutCommand) -> Result<Ref, String> {
        self.exchange(|st, now, out| st.hub.port_out_request(cmd, &self.default_donor, now, out))
    }

    /// The other side asks to cancel `port_ref` (the admin command).
    pub(crate) fn cancel_request(&self, port_ref: &str) -> Result<(), String> {
        self.exchange(|st, now, out| st.hub.cancel_request(port_ref, now, out))
    }

    /// Sets (or clears) the receiver's callback base URL.
    pub(crate) fn set_receiver(&self, url: Option<&str>) -> Result<(), PortingSimError> {
        let url = url.map(receiver_base).transpose()?;
        self.notifier.set_url(url);
        Ok(())
    }

    /// Every port's admin view, oldest first.
    pub(crate) fn ports(&self) -> Vec<PortView> {
        self.state()
            .hub
            .ports()
            .iter()
            .map(PortView::from)
            .collect()
    }

    /// One port's admin view.
    pub(crate) fn port(&self, port_ref: &str) -> Option<PortView> {
        self.state().hub.port(port_ref).map(PortView::from)
    }

    /// Plans `out` (made by a change of `st`, still locked) for delivery, hands the change
    /// and the messages to the state file together, then queues them.
    fn queue(&self, st: &mut State, out: Vec<HubMessage>) {
        if out.is_empty() {
            return;
        }
        self.counts().messages += out.len() as u64;
        let planned = self.notifier.prepare(out);
        // Handed over before delivery can start; callers that answer await `written`.
        drop(self.write(st, planned.iter().flat_map(Planned::pending)));
        self.notifier.enqueue(planned);
    }

    /// Who the peer is: `Ok(None)` acts for any provider (no operators configured),
    /// `Ok(Some(id))` for that provider; `Err` without a certificate or an unknown one.
    pub(crate) fn caller(&self, peer: &Peer) -> Result<Option<Ref>, ()> {
        let cert = peer.certificate.as_ref().ok_or(())?;
        if self.operators.is_empty() {
            return Ok(None);
        }
        self.operators
            .get(&fingerprint(cert))
            .cloned()
            .map(Some)
            .ok_or(())
    }

    /// Resolves once shutdown has been requested.
    pub(crate) async fn shutdown_requested(&self) {
        wait_shutdown(self.shutdown.clone()).await;
    }
}

/// The main lock's guard; on drop, hands what changed through it to the state file.
pub(crate) struct StateGuard<'a> {
    sim: &'a Simulator,
    st: MutexGuard<'a, State>,
}

impl Deref for StateGuard<'_> {
    type Target = State;
    fn deref(&self) -> &State {
        &self.st
    }
}

impl DerefMut for StateGuard<'_> {
    fn deref_mut(&mut self) -> &mut State {
        &mut self.st
    }
}

impl Drop for StateGuard<'_> {
    fn drop(&mut self) {
        // Handed over in order; kept by the time the simulator shuts down (or a later
        // `written` ticket says so).
        drop(self.sim.write(&mut self.st, []));
    }
}

impl Service for Simulator {
    async fn call(
        self: Arc<Self>,
        req: http::Request<Incoming>,
        peer: Arc<Peer>,
    ) -> Result<HttpResponse, Abort> {
        let path = req.uri().path();
        if let Some(op) = Operation::from_path(path) {
            return endpoint::handle(self, op, req, &peer).await;
        }
        if path.starts_with(admin::PREFIX) {
            return admin::handle(&self, req).await;
        }
        Ok(http_util::error_json(StatusCode::NOT_FOUND, "not_found"))
    }
}

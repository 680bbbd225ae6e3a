//! A number-porting hub (issue 12) speaking simgw's hub protocol
//! (`docs/porting-hub.md`): it serves the six request endpoints over TLS (a client
//! certificate required, optionally mapped to an operator id) and sends every event of a
//! port as a hub message to the configured receiver, with its own client certificate.
//! It stands for the national clearinghouse and the other provider at once.
//!
//! **Timetable** (the simulator's own table, `timetable.rs`; it agrees with reference
//! §1.5 and the gateway's rules; working days are Monday to Friday):
//!
//! | Market | Accepted → scheduled | Lock | Cutover (`due_at`) | Completion promised |
//! |---|---|---|---|---|
//! | `cn` | at once | at once: no cancel window | the next full hour (UTC+8) | the due time |
//! | `uk` | at once | 17:00 UK time (GMT/BST) on D-1 | 09:00 on the next working day D | 18:00 on D |
//! | `us` | at once (FOC) | noon Eastern on D-1 | FOC 09:00 Eastern on the next business day | FOC + 2.5 h |
//! | `eu-fr`, `eu-generic` | at once | 17:00 CET/CEST on D-1 (GOP) | 09:00 on the next working day | 18:00 on D |
//!
//! A port completes when the receiver acknowledges its `cutover` (the simulated other
//! side acknowledges at once). A requested time is honoured when it can be (a working
//! day, lock still ahead, at most 30 days); otherwise `422 date_not_available`.
//!
//! **State machine** per port (`port.rs`, `hub.rs`, `timers.rs`): received → accepted /
//! rejected / conflict → scheduled → locked → cutover → completed; cancelled before the
//! lock (`409 port_locked` after it). The donor's answer per number is configurable
//! (accept, reject with any reason of the catalogue, US conflict settled after 6 h,
//! delay). The hub rejects by itself a port-in without the market's credential or
//! account and one for a number with another open port. Hub-initiated port-out requests
//! and cancel requests come on command; an unanswered port-out request goes ahead at
//! `respond_by`; an unanswered cancel request closes at the lock or after 18 h: US
//! `conflict`, elsewhere `cancelled`. Each port numbers its messages 1, 2, 3, …; message
//! ids are global. Requests are idempotent by `request_id` (a repeat gets the first
//! answer; another body under the same id is `409 request_id_reused`).
//!
//! **Time** is the simulator's own (`clock.rs`): driven (it moves only when set or
//! advanced, through the handle or `/sim/clock`) or real time (for the sandbox). When it
//! moves, every message that became due is emitted, stamped with its own time.
//!
//! **Faults** (`faults.rs`): on requests, delay, timeout (held, not applied), 503 or 429
//! (not applied), 500 or a cut connection after applying, as rates or next-N rules; on
//! callbacks, duplicates and reorderings. Deliveries are retried until a `2xx`.
//!
//! **State** (`persist`): with a state file, every change is written there before the
//! hub answers (without fsync: it survives the process being killed, not a power loss),
//! and a simulator started again on it continues: its ports with their timers, the id
//! counters, donors, the clock, the first answers, and the messages not yet delivered
//! (redelivered: the receiver dedupes by message id).
//!
//! Start it with [`start`]; [`PortingSimHandle`] observes and steers it, and `admin`
//! serves the same under `/sim/`.
//!
//! Architecture invariant: every protocol body is read and written through the adapters'
//! codec (`adapters::porting`). Porting codes, account numbers and PINs never reach a
//! log line, the journal, a port view or the delivery log.

mod admin;
mod clock;
mod config;
mod donor;
mod endpoint;
mod error;
mod faults;
mod handle;
mod hub;
mod journal;
mod lanes;
mod notify;
mod persist;
mod port;
mod replay;
mod server;
mod simulator;
mod stats;
mod timetable;
mod zone;

pub use admin::{
    AccountBody, Advance, ClockSet, ClockView, Created, DonorList, PortOutBody, ReceiverUrl,
};
pub use clock::ClockMode;
pub use config::{
    CertFingerprint, NotifierIdentity, Operator, PortingSimConfig, cert_fingerprint_pem,
    server_tls_config,
};
pub use donor::{Behaviour, Outcome, Resolution, WireBehaviour};
pub use error::PortingSimError;
pub use faults::{
    Action, CallbackAction, CallbackFaultConfig, CallbackRule, FaultConfig, Operation, Rule,
};
pub use handle::PortingSimHandle;
pub use hub::PortOutCommand;
pub use journal::RequestRecord;
pub use notify::{Delivery, RetryPolicy};
pub use port::{Direction, PortState, PortView, TimelineEntry};
pub use stats::{InjectedCounts, OperationCounts, PortingCounts};

/// Binds the listener and starts serving; the handle reports the bound address.
pub async fn start(config: PortingSimConfig) -> Result<PortingSimHandle, PortingSimError> {
    server::start(config).await
}

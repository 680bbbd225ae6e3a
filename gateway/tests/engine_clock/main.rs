//! The engine's timers and retries under tokio's paused clock, with a scripted in-memory HLR,
//! SM-DP+ and identity verifier: no sockets and no real sleeps, yet every backoff is
//! observed in virtual time.

mod esim;
mod hlr;
mod identity;
mod memory_hlr;
mod port_in;
mod port_out;
mod reverify;
mod rig;

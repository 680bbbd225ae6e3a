//! Pieces every simulator shares: the accept loop with optional (mutual) TLS and graceful
//! shutdown, the handle's stop switch, HTTP helpers, the seeded PRNG and the fault-rate
//! arithmetic. Each simulator keeps only what is specific to its protocol.

pub(crate) mod control;
pub(crate) mod fault_rates;
pub(crate) mod http_util;
pub(crate) mod rng;
pub(crate) mod server;
pub(crate) mod state_file;
pub(crate) mod state_writer;

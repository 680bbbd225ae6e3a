//! Webhooks: signed, at-least-once delivery of the public event log to tenants'
//! endpoints (Standard Webhooks). The pure parts (signing, URL policy, retry schedule)
//! take time and randomness as inputs; the dispatcher and the HTTP transport are the
//! driver. The outbox rows themselves are written by the store, in the commit that
//! records each event (`store::embedded::outbox`).
//!
//! Architecture invariant: a delivery is attempted only after its row is durable, and
//! every attempt's outcome is committed before the next attempt of its queue starts.

pub mod dispatcher;
pub mod receiver;
pub mod schedule;
pub mod signing;
pub mod transport;
pub mod url_policy;

pub use dispatcher::Dispatcher;
pub use transport::{Answer, HttpTransport, SendError, Transport};
pub use url_policy::{UrlError, UrlPolicy};

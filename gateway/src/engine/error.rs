//! The engine's own error: what stops it from driving an order. Store failures pass
//! through; an order whose stored data cannot make a southbound request, and a stopping
//! engine, are not store failures and are not reported as such.

use crate::store::StoreError;

/// Why the engine could not go on with an order. The order stays durable as it was and
/// resumes at the next start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The store failed or is shut down.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The order's stored data cannot make a southbound request: its SIM is missing, a
    /// key does not open, a stored value no longer parses, or it needs an SM-DP+ that is
    /// not configured. An operator must look at the configuration or the data.
    #[error("order {order} cannot be driven: {message}")]
    Unusable {
        /// The order.
        order: String,
        /// What is wrong, never with secret values.
        message: String,
    },
    /// The engine is stopping; the order resumes at the next start.
    #[error("the engine is stopping")]
    Stopped,
}

impl EngineError {
    /// An [`EngineError::Unusable`] for `order`.
    pub fn unusable(order: &str, message: impl Into<String>) -> Self {
        Self::Unusable {
            order: order.to_owned(),
            message: message.into(),
        }
    }
}

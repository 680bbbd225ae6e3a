//! The problems of port-in orders.

use super::ApiError;
use axum::http::StatusCode;

impl ApiError {
    /// 409: the order is not a port-in (only those can be cancelled).
    pub fn order_not_cancellable() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "order_not_cancellable",
            "Order cannot be cancelled",
            "only a port-in order can be cancelled; a line that is active is ended with `POST /v1/subscriptions/{msisdn}/terminate`",
        )
    }

    /// 409: the port is past its lock point.
    pub fn port_locked() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "port_locked",
            "Port is locked",
            "the port is past its lock point and can no longer be cancelled: the number moves at the promised time; after that the customer can port it back",
        )
    }

    /// 409: the port already ended.
    pub fn port_finished() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "order_finished",
            "Order already finished",
            "the port has already ended (see the order's `status` and `port.timeline`); there is nothing to cancel",
        )
    }
}

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

    /// 409: the order is not a port-in (only those can be rescheduled).
    pub fn order_not_reschedulable() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "order_not_reschedulable",
            "Order cannot be rescheduled",
            "only a port-in order can be moved to another day",
        )
    }

    /// 409: the hub has not scheduled the port (yet), or it is in dispute.
    pub fn port_not_scheduled() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "port_not_scheduled",
            "Port is not scheduled",
            "the port has no date to move yet (or the donor disputes it): wait for `port.scheduled` (the order's `status` `port_scheduled`), then ask again",
        )
    }

    /// 409: past the lock point, the date can no longer move.
    pub fn port_locked_for_reschedule() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "port_locked",
            "Port is locked",
            "the port is past its lock point and can no longer be moved: the number moves at the promised time",
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

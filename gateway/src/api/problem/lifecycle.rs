//! The problems of subscriptions and lifecycle orders.

use super::ApiError;
use crate::store::LifecycleRejection;
use axum::http::StatusCode;

impl ApiError {
    /// 404: no line of the caller's tenant has this number (another tenant's line too).
    pub fn subscription_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "subscription_not_found",
            "Subscription not found",
            "no line of your tenant has this number; check the MSISDN (E.164 digits, no `+`), or whether it was changed or terminated",
        )
    }

    /// 404: no order with this id for this tenant.
    pub fn order_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "order_not_found",
            "Order not found",
            "no order with this id exists for your tenant; check the id returned when it was created",
        )
    }

    /// 404: the operation segment of `POST /v1/subscriptions/{msisdn}/{operation}`.
    pub fn unknown_operation(op: &str) -> Self {
        let shown: String = op.chars().take(32).filter(char::is_ascii_graphic).collect();
        Self::new(
            StatusCode::NOT_FOUND,
            "unknown_operation",
            "Unknown operation",
            format!(
                "`{shown}` is not an operation on a subscription; use `suspend`, `resume`, `terminate`, `sim-swap` or `number-change`"
            ),
        )
    }

    /// 409: the line was reported lost or stolen while a port-out was open; the port-out
    /// is being withdrawn.
    pub fn port_out_withdrawn(order: String) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "port_out_withdrawn",
            "The open port-out is being withdrawn",
            format!(
                "a port-out of this number (order {order}) was open, and a line reported lost or stolen may not port out: it is being withdrawn (refused, or cancelled at the porting hub). Send this request again with the same Idempotency-Key once order {order} has ended (GET /v1/orders/{order}) to suspend the line"
            ),
        )
        .with("order_id", serde_json::Value::String(order))
    }

    /// The answer to a refused lifecycle order; nothing changed.
    pub fn lifecycle_rejection(r: LifecycleRejection) -> Self {
        match r {
            LifecycleRejection::NotFound => Self::subscription_not_found(),
            LifecycleRejection::Busy(order) => Self::new(
                StatusCode::CONFLICT,
                "subscription_busy",
                "Another order is in flight on this line",
                format!(
                    "order {order} is still in flight on this line; wait until it is `completed` or `failed` (GET /v1/orders/{order}) and send this request again"
                ),
            )
            .with("order_id", serde_json::Value::String(order)),
            LifecycleRejection::Terminated => Self::new(
                StatusCode::CONFLICT,
                "subscription_terminated",
                "The line is terminated",
                "this line was terminated and nothing more can be done on it; open a new line with POST /v1/activations",
            ),
            LifecycleRejection::ReasonPresent => Self::new(
                StatusCode::CONFLICT,
                "suspension_reason_present",
                "Already suspended for this reason",
                "the line is already suspended for this reason; nothing changed (see `suspension_reasons` on GET /v1/subscriptions/{msisdn})",
            )
            .at("reason"),
            LifecycleRejection::ReasonAbsent => Self::new(
                StatusCode::CONFLICT,
                "suspension_reason_absent",
                "Not suspended for this reason",
                "the line is not suspended for this reason, so it cannot be lifted; see `suspension_reasons` on GET /v1/subscriptions/{msisdn}",
            )
            .at("reason"),
            LifecycleRejection::SameNumber => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "same_msisdn",
                "The line already has this number",
                "the number chosen is the line's own number; choose another one, or use mode `auto`",
            )
            .at("msisdn.msisdn"),
            LifecycleRejection::Inventory(r) => Self::rejection(r),
        }
    }
}

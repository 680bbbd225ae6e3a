//! The porting hub's message receiver: `POST /v1/hub-messages`, served on its own
//! mutual-TLS listener that admits only the hub's client certificate
//! (`docs/porting-hub.md`). The raw body is recorded durably (sealed: a port-out request
//! carries the customer's credential) before the 204; a message id seen before changes
//! nothing; the order's engine applies messages in arrival order and the port machine
//! tolerates reordering (per-port sequence numbers). Only a body that is not a hub
//! message gets 400, with nothing recorded.

use super::AppState;
use super::problem::ApiError;
use crate::engine::ItemInput;
use crate::store::{PortInboxItem, PortItemBody, PortReceived, hub_item_key, hub_message_context};
use adapters::porting::{HubEvent, MAX_BODY_BYTES, decode_callback, path};
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use std::sync::Arc;

/// The router of the hub-message listener.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route(path::HUB_MESSAGES, post(handle))
        .fallback(|| async { ApiError::route_not_found() })
        .with_state(state)
}

fn status(code: StatusCode) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = code;
    r
}

/// Records one hub message and answers 204 once it is durable.
async fn handle(State(state): State<Arc<AppState>>, body: Body) -> Response {
    let Ok(bytes) = to_bytes(body, MAX_BODY_BYTES).await else {
        return ApiError::invalid_notification(format!(
            "the body is larger than {MAX_BODY_BYTES} bytes or was cut off; nothing was recorded"
        ))
        .into_response();
    };
    let m = match decode_callback(&bytes) {
        Ok(m) => m,
        Err(e) => {
            return ApiError::invalid_notification(format!(
                "not a porting hub message (docs/porting-hub.md): {e}; nothing was recorded"
            ))
            .into_response();
        }
    };
    let key = hub_item_key(m.message_id.as_str());
    let Ok(raw) = state.keys.seal(&hub_message_context(&key), &bytes) else {
        return ApiError::internal().into_response();
    };
    let order_id = match &m.event {
        // A port-out request opens a port-out order (or is answered at once); the item
        // itself is kept for deduplication only: the order holds the request.
        HubEvent::PortOutRequest(req) => match super::port_out::intake(&state, &m, req).await {
            Ok(_) => None,
            Err(e) => {
                // Nothing answered: the hub redelivers anything but 2xx.
                tracing::error!(port = %m.port_ref.as_str(), error = %e.0,
                    "cannot take in a port-out request");
                return unavailable();
            }
        },
        // Our port-ins carry our order id; a port-out's messages carry none, and its
        // order id derives from the hub's port reference.
        _ => Some(m.reference.as_ref().map_or_else(
            || super::port_out::port_out_order_id(m.port_ref.as_str()),
            |r| r.as_str().to_owned(),
        )),
    };
    let item = PortInboxItem {
        key,
        order_id,
        tenant: None,
        received_at_ms: state.clock.now_ms(),
        body: PortItemBody::Hub { raw },
        applied: false,
    };
    let arrival = ItemInput::Hub(Box::new(m.clone())).on_arrival();
    match state.store.receive_port_item(item, arrival).await {
        Ok(PortReceived::Duplicate) => {
            tracing::info!(message = %m.message_id.as_str(), "hub message redelivered; already recorded");
            status(StatusCode::NO_CONTENT)
        }
        Ok(PortReceived::Queued { woken }) => {
            tracing::info!(message = %m.message_id.as_str(), port = %m.port_ref.as_str(),
                event = m.event.kind(), "hub message recorded");
            if let Some(o) = woken {
                state.engine.submit_woken(*o);
            }
            status(StatusCode::NO_CONTENT)
        }
        Ok(PortReceived::Settled { .. }) => {
            tracing::info!(message = %m.message_id.as_str(), port = %m.port_ref.as_str(),
                event = m.event.kind(), "hub message recorded and applied");
            // The port's deadline may be the earliest now.
            state.engine.port_deadline_added();
            status(StatusCode::NO_CONTENT)
        }
        Err(e) => {
            // Not durable: the hub redelivers anything but 2xx.
            tracing::error!(error = %e, "cannot record hub message");
            unavailable()
        }
    }
}

fn unavailable() -> Response {
    let mut r = status(StatusCode::SERVICE_UNAVAILABLE);
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    r
}

//! The porting hub's message receiver: `POST /v1/hub-messages`, served on its own
//! mutual-TLS listener that admits only the hub's client certificate
//! (`docs/porting-hub.md`). A delivery is one message or a batch of them. Each message's
//! raw text is recorded durably (sealed: a port-out request carries the customer's
//! credential) before the 204, a batch's in one commit; a message id seen before changes
//! nothing; the order's engine applies messages in arrival order and the port machine
//! tolerates reordering (per-port sequence numbers). Only a body that is not a hub
//! message or a batch of them gets 400, with nothing recorded.

use super::AppState;
use super::problem::ApiError;
use crate::engine::ItemInput;
use crate::store::{
    OnArrival, PortInboxItem, PortItemBody, PortReceived, hub_item_key, hub_message_context,
};
use adapters::porting::{HubEvent, HubMessage, MAX_BATCH, MAX_BODY_BYTES, decode_delivery, path};
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

/// Records a delivery (one hub message or a batch) and answers 204 once all of it is
/// durable.
async fn handle(State(state): State<Arc<AppState>>, body: Body) -> Response {
    let Ok(bytes) = to_bytes(body, MAX_BODY_BYTES).await else {
        return ApiError::invalid_notification(format!(
            "the body is larger than {MAX_BODY_BYTES} bytes or was cut off; nothing was recorded"
        ))
        .into_response();
    };
    let messages = match decode_delivery(&bytes) {
        Ok(m) => m,
        Err(e) => {
            return ApiError::invalid_notification(format!(
                "not a porting hub message or a batch of at most {MAX_BATCH} (docs/porting-hub.md): {e}; nothing was recorded"
            ))
            .into_response();
        }
    };
    match receive(&state, messages).await {
        Ok(()) => status(StatusCode::NO_CONTENT),
        Err(Failed::Sealing) => ApiError::internal().into_response(),
        // Not all durable: the hub redelivers anything but 2xx, and what was recorded
        // is a duplicate then.
        Err(Failed::Unavailable) => unavailable(),
    }
}

/// Why a delivery was not wholly recorded.
enum Failed {
    Sealing,
    Unavailable,
}

/// Records the messages in order: the runs between port-out requests each in one commit,
/// and each port-out request taken in (its order opened, or its answer sent) before
/// anything after it is recorded.
async fn receive(state: &AppState, messages: Vec<(HubMessage, &[u8])>) -> Result<(), Failed> {
    let mut run = Vec::new();
    for (m, raw) in messages {
        if let HubEvent::PortOutRequest(req) = &m.event {
            record(state, std::mem::take(&mut run)).await?;
            // A port-out request opens a port-out order (or is answered at once); its
            // item is kept for deduplication only: the order holds the request.
            if let Err(e) = super::port_out::intake(state, &m, req).await {
                tracing::error!(port = %m.port_ref.as_str(), error = %e.0,
                    "cannot take in a port-out request");
                return Err(Failed::Unavailable);
            }
        }
        run.push(item(state, m, raw)?);
    }
    record(state, run).await
}

/// A message as its inbox item, with what its arrival does to a parked order.
fn item(state: &AppState, m: HubMessage, raw: &[u8]) -> Result<Received, Failed> {
    let key = hub_item_key(m.message_id.as_str());
    let raw = state
        .keys
        .seal(&hub_message_context(&key), raw)
        .map_err(|_| Failed::Sealing)?;
    let order_id = match &m.event {
        HubEvent::PortOutRequest(_) => None,
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
    Ok(Received { item, arrival, m })
}

/// One message on its way into the inbox.
struct Received {
    item: PortInboxItem,
    arrival: OnArrival,
    m: HubMessage,
}

/// Records `run` in one commit and hands what it woke to the engine.
async fn record(state: &AppState, run: Vec<Received>) -> Result<(), Failed> {
    if run.is_empty() {
        return Ok(());
    }
    let (items, messages): (Vec<_>, Vec<_>) =
        run.into_iter().map(|r| ((r.item, r.arrival), r.m)).unzip();
    let outcomes = state.store.receive_port_items(items).await.map_err(|e| {
        tracing::error!(error = %e, "cannot record hub messages");
        Failed::Unavailable
    })?;
    let mut settled = false;
    for (m, outcome) in messages.iter().zip(outcomes) {
        let (message, port, event) = (m.message_id.as_str(), m.port_ref.as_str(), m.event.kind());
        match outcome {
            PortReceived::Duplicate => {
                tracing::info!(message, "hub message redelivered; already recorded");
            }
            PortReceived::Queued { woken } => {
                tracing::info!(message, port, event, "hub message recorded");
                if let Some(o) = woken {
                    state.engine.submit_woken(*o);
                }
            }
            PortReceived::Settled { .. } => {
                tracing::info!(message, port, event, "hub message recorded and applied");
                settled = true;
            }
            PortReceived::Ended(ended) => {
                tracing::info!(
                    message,
                    port,
                    event,
                    "hub message recorded and applied; the port ended"
                );
                state.engine.ended_on_arrival(&ended);
            }
        }
    }
    if settled {
        // A port's deadline may be the earliest now.
        state.engine.port_deadline_added();
    }
    Ok(())
}

fn unavailable() -> Response {
    let mut r = status(StatusCode::SERVICE_UNAVAILABLE);
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    r
}

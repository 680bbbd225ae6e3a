//! The northbound HTTP API (contract.md): routing, authentication, and the handlers.
//! Handlers translate between wire types (`dto`) and store/engine calls; every error
//! becomes problem+json through `problem`.

mod activations;
mod admission;
mod auth;
pub mod dto;
pub mod es2_callback;
mod events;
mod inventory;
mod lifecycle_dto;
mod numbers;
mod openapi;
mod ops;
pub mod problem;
mod request;
mod subscriptions;
mod webhooks;

use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::Keyring;
use crate::engine::Engine;
use crate::metrics::Metrics;
use crate::store::Store;
use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};

/// Shared state of all handlers.
pub struct AppState {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The order engine.
    pub engine: Engine,
    /// Data keys (sealing subscriber details).
    pub keys: Arc<Keyring>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Configuration.
    pub config: Arc<Config>,
    /// Time source.
    pub clock: Clock,
    /// False until start-up (resume) has finished, and again while shutting down.
    pub ready: AtomicBool,
    /// Told about each batch `POST /v1/inventory/imports` loads; unset in production.
    pub import_observer: OnceLock<Arc<dyn ImportObserver>>,
}

/// Something outside the gateway that must learn of imported batches before the import is
/// answered: the sandbox loads eSIM batches into its SM-DP+ simulator this way.
pub trait ImportObserver: Send + Sync {
    /// `batch` was imported whole (its SIMs are stock now). Called on a blocking thread.
    fn batch_imported(&self, batch: &crate::store::BatchRecord);
}

/// Builds the router over shared state.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/v1/activations", post(activations::create))
        .route("/v1/activations/{id}", get(activations::get))
        .route("/v1/activations/{id}/qr.png", get(activations::qr_png))
        .route("/v1/activations/{id}/qr.svg", get(activations::qr_svg))
        .route("/v1/subscriptions", get(subscriptions::list))
        .route("/v1/subscriptions/{msisdn}", get(subscriptions::get))
        .route(
            "/v1/subscriptions/{msisdn}/history",
            get(subscriptions::history),
        )
        .route(
            "/v1/subscriptions/{msisdn}/{operation}",
            post(subscriptions::operate),
        )
        .route("/v1/orders/{id}", get(subscriptions::get_order))
        .route("/v1/orders/{id}/qr.png", get(activations::qr_png))
        .route("/v1/orders/{id}/qr.svg", get(activations::qr_svg))
        .route("/v1/numbers/reservations", post(numbers::create))
        .route("/v1/numbers/reservations/{id}", get(numbers::get))
        .route("/v1/inventory", get(numbers::inventory))
        .route("/v1/inventory/imports", post(inventory::import_batch))
        .route("/v1/inventory/batches/{id}", get(inventory::batch))
        .route(
            "/v1/inventory/batches/{id}/sims.csv",
            get(inventory::batch_csv),
        )
        .route("/v1/sims", get(inventory::sim_by_imsi))
        .route("/v1/sims/{iccid}", get(inventory::sim))
        .route("/v1/numbers/quarantine", get(inventory::quarantine))
        .route("/v1/numbers/{msisdn}/release", post(inventory::release))
        .route("/v1/events", get(events::list))
        .route("/v1/events/{id}/redeliver", post(events::redeliver))
        .route(
            "/v1/webhook-endpoints",
            post(webhooks::create).get(webhooks::list),
        )
        .route(
            "/v1/webhook-endpoints/{id}",
            get(webhooks::get).merge(delete(webhooks::delete)),
        )
        .route(
            "/v1/webhook-endpoints/{id}/rotate-secret",
            post(webhooks::rotate),
        )
        .route(
            "/v1/webhook-endpoints/{id}/deliveries",
            get(webhooks::deliveries),
        )
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/openapi.json", get(openapi::document))
        .fallback(|| async { problem::ApiError::route_not_found() })
        .method_not_allowed_fallback(|| async { problem::ApiError::method_not_allowed() })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_responses,
        ))
        .with_state(state)
}

/// The router of the metrics listener: `GET /metrics` only. It is not on the API port
/// because it names every tenant and its stock.
pub fn metrics_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/metrics", get(ops::metrics))
        .fallback(|| async { problem::ApiError::route_not_found() })
        .method_not_allowed_fallback(|| async { problem::ApiError::method_not_allowed() })
        .with_state(state)
}

async fn count_responses(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let resp = next.run(req).await.into_response();
    let c = match resp.status().as_u16() {
        200..=299 => &state.metrics.http_2xx,
        400..=499 => &state.metrics.http_4xx,
        _ => &state.metrics.http_5xx,
    };
    c.fetch_add(1, Relaxed);
    resp
}

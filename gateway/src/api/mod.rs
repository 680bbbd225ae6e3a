//! The northbound HTTP API (contract.md): routing, authentication, and the handlers.
//! Handlers translate between wire types (`dto`) and store/engine calls; every error
//! becomes problem+json through `problem`.

mod activations;
mod admission;
mod auth;
mod blocklists;
mod channels;
mod compliance_check;
pub mod dto;
pub mod es2_callback;
mod events;
mod handset;
pub mod hub_messages;
mod inventory;
mod lifecycle_dto;
mod numbers;
mod openapi;
mod ops;
mod port_in;
pub mod port_out;
mod port_reschedule;
mod ports;
pub mod problem;
mod reconciliations;
mod request;
mod subscriptions;
mod terminal;
mod verification;
mod verification_ask;
mod webhooks;

use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::Keyring;
use crate::engine::Engine;
use crate::metrics::Metrics;
use crate::store::Store;
use axum::Router;
use axum::extract::Request;
use axum::handler::Handler;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post, put};
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
    /// The keyed ID hash (counting and matching ID numbers without storing them).
    pub id_hasher: Arc<crate::compliance::IdHasher>,
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
    /// Runs `POST /v1/reconciliations`, one at a time.
    pub reconciler: Arc<crate::reconcile::Reconciler>,
}

/// Something outside the gateway that must learn of imported batches before the import is
/// answered: the sandbox loads eSIM batches into its SM-DP+ simulator this way.
pub trait ImportObserver: Send + Sync {
    /// `batch` was imported whole (its SIMs are stock now); awaited before the answer.
    fn batch_imported<'a>(
        &'a self,
        batch: &'a crate::store::BatchRecord,
    ) -> adapters::hlr::BoxFuture<'a, ()>;
}

/// One route of the API listener: method (lowercase, as OpenAPI names it), path, handler.
pub(crate) type Route = (&'static str, &'static str, MethodRouter<Arc<AppState>>);

fn get_at<H: Handler<T, Arc<AppState>>, T: 'static>(path: &'static str, h: H) -> Route {
    ("get", path, get(h))
}

fn post_at<H: Handler<T, Arc<AppState>>, T: 'static>(path: &'static str, h: H) -> Route {
    ("post", path, post(h))
}

fn put_at<H: Handler<T, Arc<AppState>>, T: 'static>(path: &'static str, h: H) -> Route {
    ("put", path, put(h))
}

fn delete_at<H: Handler<T, Arc<AppState>>, T: 'static>(path: &'static str, h: H) -> Route {
    ("delete", path, delete(h))
}

/// Every route of the API listener. [`router`] mounts exactly these, and the OpenAPI test
/// walks them, so a route missing from `/openapi.json` fails the tests.
pub(crate) fn routes() -> Vec<Route> {
    vec![
        post_at("/v1/activations", activations::create),
        post_at("/v1/activations/validate", activations::validate),
        get_at("/v1/activations/{id}", activations::get),
        get_at("/v1/activations/{id}/qr.png", activations::qr_png),
        get_at("/v1/activations/{id}/qr.svg", activations::qr_svg),
        get_at("/v1/subscriptions", subscriptions::list),
        get_at("/v1/subscriptions/{msisdn}", subscriptions::get),
        get_at("/v1/subscriptions/{msisdn}/history", subscriptions::history),
        post_at(
            "/v1/subscriptions/{msisdn}/verification",
            verification::record,
        ),
        post_at("/v1/subscriptions/{msisdn}/handset", handset::report),
        post_at(
            "/v1/subscriptions/{msisdn}/port-out-credential",
            port_out::issue_credential,
        ),
        post_at(
            "/v1/subscriptions/{msisdn}/{operation}",
            subscriptions::operate,
        ),
        get_at("/v1/orders/{id}", subscriptions::get_order),
        post_at("/v1/orders/{id}/cancel", ports::cancel),
        post_at("/v1/orders/{id}/reschedule", port_reschedule::reschedule),
        get_at("/v1/ports", ports::list),
        get_at("/v1/orders/{id}/qr.png", activations::qr_png),
        get_at("/v1/orders/{id}/qr.svg", activations::qr_svg),
        post_at("/v1/numbers/reservations", numbers::create),
        get_at("/v1/numbers/reservations/{id}", numbers::get),
        get_at("/v1/inventory", numbers::inventory),
        post_at("/v1/inventory/imports", inventory::import_batch),
        get_at("/v1/inventory/batches/{id}", inventory::batch),
        get_at("/v1/inventory/batches/{id}/sims.csv", inventory::batch_csv),
        get_at("/v1/sims", inventory::sim_by_imsi),
        get_at("/v1/sims/{iccid}", inventory::sim),
        get_at("/v1/numbers/quarantine", inventory::quarantine),
        post_at("/v1/numbers/{msisdn}/release", inventory::release),
        get_at("/v1/events", events::list),
        post_at("/v1/events/{id}/redeliver", events::redeliver),
        post_at("/v1/webhook-endpoints", webhooks::create),
        get_at("/v1/webhook-endpoints", webhooks::list),
        get_at("/v1/webhook-endpoints/{id}", webhooks::get),
        delete_at("/v1/webhook-endpoints/{id}", webhooks::delete),
        post_at("/v1/webhook-endpoints/{id}/rotate-secret", webhooks::rotate),
        post_at("/v1/webhook-endpoints/{id}/enable", webhooks::enable),
        get_at(
            "/v1/webhook-endpoints/{id}/deliveries",
            webhooks::deliveries,
        ),
        get_at("/v1/channels/{kind}", channels::list),
        put_at("/v1/channels/stores/{store_id}", channels::put_store),
        put_at(
            "/v1/channels/clerks/{store_id}/{clerk_id}",
            channels::put_clerk,
        ),
        put_at(
            "/v1/channels/devices/{store_id}/{device_id}",
            channels::put_device,
        ),
        post_at("/v1/terminal/pairings", terminal::devices::create_pairing),
        post_at(
            "/v1/terminal/devices/{store_id}/{terminal_id}/revoke",
            terminal::devices::revoke,
        ),
        get_at("/v1/blocklists", blocklists::list),
        post_at("/v1/blocklists", blocklists::add),
        delete_at("/v1/blocklists/{list}/{value}", blocklists::end),
        post_at("/v1/reconciliations", reconciliations::create),
        get_at("/healthz", ops::healthz),
        get_at("/readyz", ops::readyz),
        get_at("/openapi.json", openapi::document),
    ]
}

/// Builds the router over shared state.
pub fn router(state: Arc<AppState>) -> Router {
    // Routes of one path merge into one method router.
    let api = routes()
        .into_iter()
        .fold(Router::new(), |r, (_, path, handler)| {
            r.route(path, handler)
        });
    let api = if state.config.terminal.enabled {
        api.merge(terminal::router(&state))
    } else {
        api
    };
    api.fallback(|| async { problem::ApiError::route_not_found() })
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

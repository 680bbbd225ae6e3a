//! The admin API, served by the simulator under `/sim/` (JSON, unauthenticated: bind the
//! simulator to loopback or a test network only).
//!
//! | Request | Body in | Answer |
//! |---|---|---|
//! | `GET /sim/state` | | 200 [`State`] (keys masked as `"***"`) |
//! | `DELETE /sim/state` | | 204; forgets all subscribers, in the state file too (sessions and counters stay); 500 if the file could not be written |
//! | `GET /sim/stats` | | 200 [`SimCounts`](crate::hlr_sim::SimCounts) as JSON, e.g. `{"login": 1, "logout": 0, "create": {"gsm_hlr": 1, "gsm_auc": 1}, "get": {...}, "set": {...}, "delete": {...}, "undecodable": 0, "oversized": 0, "injected": {"busy": 0, "session": 0, "external": 0, "invalid": 0, "timeout": 0, "drop_after_apply": 0, "hang_after_apply": 0, "delay": 0}}` |
//! | `GET /sim/faults` | | 200 [`Faults`] |
//! | `PUT /sim/faults` | [`Faults`] | 204, or 400 [`ErrorBody`] |
//! | `GET /sim/rules` | | 200 array of pending [`WireRule`] |
//! | `POST /sim/rules` | [`WireRule`] or array | 204, or 400 [`ErrorBody`] |
//! | `DELETE /sim/rules` | | 204 |
//! | `POST /sim/sessions/expire` | | 200 [`Expired`] |
//! | `PUT`/`DELETE /sim/subscribers/{imsi}`, `PUT /sim/subscribers/{imsi}/msisdn` | see [`subscribers`] | 204, 404 or 409 |
//!
//! Other methods on these paths get 405, other paths 404, bodies over 1 MiB 413.

pub mod subscribers;
mod wire;

pub use wire::{
    Auc, ErrorBody, Expired, Faults, Hlr, State, Subscriber, WireAction, WireFault, WireKind,
    WireOp, WireRule, WireRules,
};

use super::faults::FaultConfig;
use super::simulator::Simulator;
use crate::common::fault_rates::serve_rules;
use crate::common::http_util::{
    self, Abort, HttpResponse, bad_request, json, not_routed, read_json,
};
use http::{Method, Request, StatusCode};
use hyper::body::Incoming;
use tokio::time::Instant;

/// Every admin path starts with this.
pub(crate) const PREFIX: &str = "/sim/";

/// Serves one admin request.
pub(crate) async fn handle(sim: &Simulator, req: Request<Incoming>) -> Result<HttpResponse, Abort> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    if let Some(rest) = path.strip_prefix("/sim/subscribers/") {
        return subscribers::handle(sim, rest, method, req).await;
    }
    if path == "/sim/rules" {
        return serve_rules::<_, _, WireRule>(|| sim.faults(), &method, req).await;
    }
    let resp = match (path.as_str(), method) {
        ("/sim/state", Method::GET) => json(StatusCode::OK, &state(sim)),
        ("/sim/state", Method::DELETE) => {
            let kept = sim.reset_state();
            if kept.written().await {
                tracing::info!("admin: state reset");
                http_util::empty(StatusCode::NO_CONTENT)
            } else {
                http_util::error_json(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "state reset in memory, not yet in the state file",
                )
            }
        }
        ("/sim/stats", Method::GET) => json(StatusCode::OK, &*sim.counts()),
        ("/sim/faults", Method::GET) => json(StatusCode::OK, &Faults::from(sim.faults().config())),
        ("/sim/faults", Method::PUT) => match read_json::<Faults>(req).await? {
            Ok(f) => match sim.set_faults(FaultConfig::from(f)) {
                Ok(()) => {
                    tracing::info!("admin: fault configuration replaced");
                    http_util::empty(StatusCode::NO_CONTENT)
                }
                Err(e) => bad_request(e.to_string()),
            },
            Err(resp) => resp,
        },
        ("/sim/sessions/expire", Method::POST) => {
            let expired = sim.sessions().expire_all();
            tracing::info!(expired, "admin: sessions expired");
            json(StatusCode::OK, &Expired { expired })
        }
        (path, _) => not_routed(allowed(path)),
    };
    Ok(resp)
}

/// The admin view of the simulator.
pub(crate) fn state(sim: &Simulator) -> State {
    let subscribers = sim
        .store()
        .subscribers()
        .iter()
        .map(Subscriber::from)
        .collect();
    State {
        subscribers,
        sessions: sim.sessions().live(Instant::now()),
    }
}

fn allowed(path: &str) -> Option<&'static str> {
    match path {
        "/sim/state" => Some("GET, DELETE"),
        "/sim/stats" => Some("GET"),
        "/sim/faults" => Some("GET, PUT"),
        "/sim/rules" => Some("GET, POST, DELETE"),
        "/sim/sessions/expire" => Some("POST"),
        _ => None,
    }
}

//! The admin API, served under `/sim/` on the simulator's own TLS listener (no client
//! certificate needed: it is a test surface). JSON; no secret ever goes out.
//!
//! | Request | Body in | Answer |
//! |---|---|---|
//! | `GET /sim/stats` | | 200 [`PortingCounts`](crate::porting_sim::PortingCounts) |
//! | `POST /sim/reset` | | 204: ports, requests, answers, donors, faults, deliveries and counts forgotten (clock, receiver and id counters kept) |
//! | `GET /sim/clock` | | 200 [`ClockView`] |
//! | `PUT /sim/clock` | [`ClockSet`] | 200 [`ClockView`] with `emitted`; 409 when it would go back |
//! | `POST /sim/clock/advance` | [`Advance`] | 200 [`ClockView`] with `emitted` |
//! | `GET /sim/donors` | | 200 [`DonorList`] |
//! | `PUT /sim/donors/{number}`, `PUT /sim/donors/default` | [`WireBehaviour`](crate::porting_sim::WireBehaviour) | 204, or 400 |
//! | `DELETE /sim/donors/{number}` | | 204, or 404 |
//! | `GET`/`PUT /sim/faults` | [`FaultConfig`](crate::porting_sim::FaultConfig) | 200 / 204, or 400 |
//! | `GET`/`POST`/`DELETE /sim/rules` | [`Rule`](crate::porting_sim::Rule) or array | 200 / 204, or 400 |
//! | `GET`/`PUT /sim/callback-faults` | [`CallbackFaultConfig`](crate::porting_sim::CallbackFaultConfig) | 200 / 204, or 400 |
//! | `GET`/`POST`/`DELETE /sim/callback-rules` | [`CallbackRule`](crate::porting_sim::CallbackRule) or array | 200 / 204, or 400 |
//! | `GET /sim/ports` | | 200 array of [`PortView`](crate::porting_sim::PortView) |
//! | `GET /sim/ports/{port_ref}` | | 200 [`PortView`](crate::porting_sim::PortView), or 404 |
//! | `POST /sim/ports/{port_ref}/cancel-request` | | 204; 404 unknown; 409 not in a state that takes one |
//! | `POST /sim/port-outs` | [`PortOutBody`] | 201 [`Created`]; 400 naming the member; 409 a port of the number is open |
//! | `GET /sim/requests` | | 200 array of [`RequestRecord`](crate::porting_sim::RequestRecord) |
//! | `GET /sim/callbacks` | | 200 array of [`Delivery`](crate::porting_sim::Delivery) |
//! | `POST /sim/callbacks/flush` | | 200 `{"released": n}`: held-back messages go now |
//! | `GET`/`PUT /sim/receiver` | [`ReceiverUrl`] | 200 / 204, or 400 |
//!
//! Other methods get 405, other paths 404.

mod wire;

pub use wire::{
    AccountBody, Advance, ClockSet, ClockView, Created, DonorList, PortOutBody, ReceiverUrl,
};

use super::donor::{Behaviour, WireBehaviour};
use super::faults::{CallbackFaultConfig, CallbackRule, FaultConfig, Rule};
use super::hub::PortOutCommand;
use super::simulator::Simulator;
use crate::common::fault_rates::serve_rules;
use crate::common::http_util::{
    self, Abort, HttpResponse, bad_request, error_json, json, not_routed, read_json,
};
use adapters::porting::UtcTime;
use http::{Method, Request, StatusCode};
use hyper::body::Incoming;
use std::sync::Arc;
use std::time::Duration;

/// Every admin path starts with this.
pub(crate) const PREFIX: &str = "/sim/";

/// Serves one admin request; a change is answered once it is in the state file (if any),
/// so a process killed right after the answer still has it.
pub(crate) async fn handle(
    sim: &Arc<Simulator>,
    req: Request<Incoming>,
) -> Result<HttpResponse, Abort> {
    let changes = req.method() != Method::GET;
    let resp = route(sim, req).await?;
    if changes && resp.status().is_success() && !sim.written().written().await {
        return Ok(error_json(
            StatusCode::INTERNAL_SERVER_ERROR,
            "applied, not yet kept in the state file",
        ));
    }
    Ok(resp)
}

async fn route(sim: &Arc<Simulator>, req: Request<Incoming>) -> Result<HttpResponse, Abort> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    if let Some(rest) = path.strip_prefix("/sim/donors/") {
        return donor(sim, rest, &method, req).await;
    }
    if let Some(rest) = path.strip_prefix("/sim/ports/") {
        return Ok(port(sim, rest, &method));
    }
    match path.as_str() {
        "/sim/rules" => return serve_rules::<_, _, Rule>(|| sim.faults(), &method, req).await,
        "/sim/callback-rules" => {
            return serve_rules::<_, _, CallbackRule>(|| sim.notifier.planner(), &method, req)
                .await;
        }
        _ => {}
    }
    let empty = || http_util::empty(StatusCode::NO_CONTENT);
    Ok(match (path.as_str(), method) {
        ("/sim/stats", Method::GET) => json(StatusCode::OK, &*sim.counts()),
        ("/sim/reset", Method::POST) => {
            sim.reset();
            empty()
        }
        ("/sim/clock", Method::GET) => clock(sim, None),
        ("/sim/clock", Method::PUT) => match read_json::<ClockSet>(req).await? {
            Ok(set) => set_clock(sim, set),
            Err(resp) => resp,
        },
        ("/sim/clock/advance", Method::POST) => match read_json::<Advance>(req).await? {
            Ok(a) => {
                let n = sim.advance(Duration::from_millis(a.ms));
                clock(sim, Some(n))
            }
            Err(resp) => resp,
        },
        ("/sim/donors", Method::GET) => {
            let (default, numbers) = sim.state().hub.donors.list();
            let list = DonorList {
                default: WireBehaviour::from(&default),
                numbers: numbers
                    .iter()
                    .map(|(n, b)| (n.clone(), WireBehaviour::from(b)))
                    .collect(),
            };
            json(StatusCode::OK, &list)
        }
        ("/sim/faults", Method::GET) => json(StatusCode::OK, sim.faults().config()),
        ("/sim/faults", Method::PUT) => match read_json::<FaultConfig>(req).await? {
            Ok(f) => match f.validate() {
                Ok(()) => {
                    sim.faults().set_config(f);
                    empty()
                }
                Err(e) => bad_request(e.to_string()),
            },
            Err(resp) => resp,
        },
        ("/sim/callback-faults", Method::GET) => {
            json(StatusCode::OK, sim.notifier.planner().config())
        }
        ("/sim/callback-faults", Method::PUT) => {
            match read_json::<CallbackFaultConfig>(req).await? {
                Ok(f) => match f.validate() {
                    Ok(()) => {
                        sim.notifier.planner().set_config(f);
                        empty()
                    }
                    Err(e) => bad_request(e.to_string()),
                },
                Err(resp) => resp,
            }
        }
        ("/sim/ports", Method::GET) => json(StatusCode::OK, &sim.ports()),
        ("/sim/port-outs", Method::POST) => match read_port_out(req).await? {
            Ok(body) => match PortOutCommand::try_from(body) {
                Ok(cmd) => match sim.port_out(cmd) {
                    Ok(port_ref) => json(
                        StatusCode::CREATED,
                        &Created {
                            port_ref: port_ref.to_string(),
                        },
                    ),
                    Err(why) if why.starts_with("number:") => error_json(StatusCode::CONFLICT, why),
                    Err(why) => bad_request(why),
                },
                Err(why) => bad_request(why),
            },
            Err(resp) => resp,
        },
        ("/sim/requests", Method::GET) => json(StatusCode::OK, &sim.state().journal.entries()),
        ("/sim/callbacks", Method::GET) => json(StatusCode::OK, &sim.notifier.log().entries()),
        ("/sim/callbacks/flush", Method::POST) => {
            let released = sim.notifier.flush();
            json(StatusCode::OK, &serde_json::json!({ "released": released }))
        }
        ("/sim/receiver", Method::GET) => json(
            StatusCode::OK,
            &ReceiverUrl {
                url: sim.notifier.url(),
            },
        ),
        ("/sim/receiver", Method::PUT) => match read_json::<ReceiverUrl>(req).await? {
            Ok(r) => match sim.set_receiver(r.url.as_deref()) {
                Ok(()) => empty(),
                Err(e) => bad_request(e.to_string()),
            },
            Err(resp) => resp,
        },
        (path, _) => not_routed(allowed(path)),
    })
}

/// Reads a port-out command. serde's own messages can quote a value (a PIN sent as a
/// number), so a body that does not fit is refused by position only.
async fn read_port_out(req: Request<Incoming>) -> Result<Result<PortOutBody, HttpResponse>, Abort> {
    match http_util::read_body(req).await {
        Ok(body) => Ok(serde_json::from_slice(&body).map_err(|e| {
            bad_request(format!(
                "body: not a port-out command (line {}, column {})",
                e.line(),
                e.column()
            ))
        })),
        Err(http_util::BodyError::TooLarge) => Ok(Err(http_util::too_large())),
        Err(http_util::BodyError::Broken) => Err(Abort),
    }
}

fn allowed(path: &str) -> Option<&'static str> {
    match path {
        "/sim/stats" | "/sim/donors" | "/sim/ports" | "/sim/requests" | "/sim/callbacks" => {
            Some("GET")
        }
        "/sim/reset" | "/sim/clock/advance" | "/sim/port-outs" | "/sim/callbacks/flush" => {
            Some("POST")
        }
        "/sim/clock" | "/sim/faults" | "/sim/callback-faults" | "/sim/receiver" => Some("GET, PUT"),
        _ => None,
    }
}

fn clock(sim: &Simulator, emitted: Option<usize>) -> HttpResponse {
    let st = sim.state();
    let view = ClockView::new(st.clock.now(), st.clock.mode(), emitted);
    drop(st);
    json(StatusCode::OK, &view)
}

fn set_clock(sim: &Simulator, set: ClockSet) -> HttpResponse {
    let to = match set.now.as_deref().map(|s| UtcTime::parse(s, "now")) {
        None => None,
        Some(Ok(t)) => Some(t.unix_ms()),
        Some(Err(e)) => return bad_request(e.to_string()),
    };
    if let Some(mode) = set.mode {
        sim.set_mode(mode);
    }
    let emitted = match to {
        None => 0,
        Some(to) => match sim.set_time(to) {
            Ok(n) => n,
            Err(_) => return error_json(StatusCode::CONFLICT, "now: time only moves forward"),
        },
    };
    clock(sim, Some(emitted))
}

/// `/sim/donors/{number}` and `/sim/donors/default`.
async fn donor(
    sim: &Simulator,
    number: &str,
    method: &Method,
    req: Request<Incoming>,
) -> Result<HttpResponse, Abort> {
    let number = if number == "default" {
        None
    } else {
        match number.parse::<sim_profiles::Msisdn>() {
            Ok(n) => Some(n.as_str().to_owned()),
            Err(_) => return Ok(bad_request("number: not E.164")),
        }
    };
    Ok(match *method {
        Method::PUT => match read_json::<WireBehaviour>(req).await? {
            Ok(w) => match Behaviour::try_from(w) {
                Ok(b) => {
                    sim.state().hub.donors.set(number.as_deref(), b);
                    http_util::empty(StatusCode::NO_CONTENT)
                }
                Err(why) => bad_request(why),
            },
            Err(resp) => resp,
        },
        Method::DELETE => match number {
            Some(n) if sim.state().hub.donors.remove(&n) => {
                http_util::empty(StatusCode::NO_CONTENT)
            }
            Some(_) => error_json(StatusCode::NOT_FOUND, "no behaviour for this number"),
            None => not_routed(Some("PUT")),
        },
        _ => not_routed(Some("PUT, DELETE")),
    })
}

/// `/sim/ports/{port_ref}` and `/sim/ports/{port_ref}/cancel-request`.
fn port(sim: &Simulator, rest: &str, method: &Method) -> HttpResponse {
    match rest.split_once('/') {
        None => match *method {
            Method::GET => match sim.port(rest) {
                Some(view) => json(StatusCode::OK, &view),
                None => error_json(StatusCode::NOT_FOUND, "unknown port"),
            },
            _ => not_routed(Some("GET")),
        },
        Some((port_ref, "cancel-request")) => match *method {
            Method::POST => match sim.cancel_request(port_ref) {
                Ok(()) => http_util::empty(StatusCode::NO_CONTENT),
                Err(why) if why == "port: unknown" => error_json(StatusCode::NOT_FOUND, why),
                Err(why) => error_json(StatusCode::CONFLICT, why),
            },
            _ => not_routed(Some("POST")),
        },
        Some(_) => not_routed(None),
    }
}

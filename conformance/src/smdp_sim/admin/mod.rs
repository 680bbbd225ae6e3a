//! The admin API, served under `/sim/` on the simulator's own mutual-TLS listener (any
//! client certificate the TLS layer accepts may use it). JSON, no secrets.
//!
//! | Request | Body in | Answer |
//! |---|---|---|
//! | `GET /sim/state` | | 200 [`StateDump`] |
//! | `GET /sim/stats` | | 200 [`SmdpCounts`](crate::smdp_sim::SmdpCounts) |
//! | `GET`/`PUT /sim/faults` | [`FaultConfig`](crate::smdp_sim::FaultConfig) | 200 / 204, or 400 |
//! | `GET`/`POST`/`DELETE /sim/rules` | [`WireRule`] or array | 200 / 204, or 400 |
//! | `GET`/`PUT /sim/quirks` | [`Quirks`](crate::smdp_sim::Quirks) | 200 / 204, or 400 |
//! | `GET /sim/notifications` | | 200 array of [`SentNotification`](crate::smdp_sim::SentNotification) |
//! | `GET /sim/profiles/{iccid}/package` | | 200 `application/octet-stream` DER, 404 before download |
//! | `POST /sim/profiles/{iccid}/eligibility` | [`Eligibility`] | 200 [`ActionAnswer`] |
//! | `POST /sim/profiles/{iccid}/cc` | [`CcAttempt`] | 200 [`ActionAnswer`] |
//! | `POST /sim/profiles/{iccid}/download` | | 200 [`ActionAnswer`] |
//! | `POST /sim/profiles/{iccid}/install` | [`InstallResult`] | 200 [`ActionAnswer`] |
//! | `POST /sim/profiles/{iccid}/cancel-session` | [`CancelSession`] | 200 [`ActionAnswer`] |
//! | `POST /sim/profiles/{iccid}/auto-install` | [`AutoInstall`] | 202 |
//!
//! A customer action the state forbids answers 409 [`Refused`] and changes nothing; an
//! unknown ICCID 404. Other methods get 405, other paths 404.

mod wire;

pub use wire::{
    ActionAnswer, AutoInstall, CancelSession, CcAttempt, Eligibility, ProfileView, Refused,
    StateDump, WireAction, WireRule,
};

use super::codes::{self, Code};
use super::es9::{Es9Outcome, InstallResult};
use super::faults::FaultConfig;
use super::notify::Quirks;
use super::simulator::{CustomerAction, Simulator};
use crate::common::fault_rates::serve_rules;
use crate::common::http_util::{
    self, Abort, HttpResponse, bad_request, error_json, json, not_routed, read_json,
};
use http::{Method, Request, StatusCode};
use hyper::body::Incoming;
use sim_profiles::Iccid;
use std::sync::Arc;
use std::time::Duration;

/// Every admin path starts with this.
pub(crate) const PREFIX: &str = "/sim/";

/// Serves one admin request.
pub(crate) async fn handle(
    sim: &Arc<Simulator>,
    req: Request<Incoming>,
) -> Result<HttpResponse, Abort> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    if let Some(rest) = path.strip_prefix("/sim/profiles/") {
        return profile_action(sim, rest, method, req).await;
    }
    if path == "/sim/rules" {
        return serve_rules::<_, _, WireRule>(|| sim.faults(), &method, req).await;
    }
    let resp = match (path.as_str(), method) {
        ("/sim/state", Method::GET) => json(StatusCode::OK, &state(sim)),
        ("/sim/stats", Method::GET) => json(StatusCode::OK, &*sim.counts()),
        ("/sim/faults", Method::GET) => json(StatusCode::OK, sim.faults().config()),
        ("/sim/faults", Method::PUT) => match read_json::<FaultConfig>(req).await? {
            Ok(f) => match sim.set_faults(f) {
                Ok(()) => http_util::empty(StatusCode::NO_CONTENT),
                Err(e) => bad_request(e.to_string()),
            },
            Err(resp) => resp,
        },
        ("/sim/quirks", Method::GET) => json(StatusCode::OK, &sim.notifier.quirks()),
        ("/sim/quirks", Method::PUT) => match read_json::<Quirks>(req).await? {
            Ok(q) => {
                sim.notifier.set_quirks(q);
                http_util::empty(StatusCode::NO_CONTENT)
            }
            Err(resp) => resp,
        },
        ("/sim/notifications", Method::GET) => json(StatusCode::OK, &sim.notifier.log().entries()),
        (path, _) => not_routed(allowed(path)),
    };
    Ok(resp)
}

/// The admin view of the inventory.
pub(crate) fn state(sim: &Simulator) -> StateDump {
    StateDump {
        profiles: sim.inventory().profiles().map(ProfileView::from).collect(),
    }
}

fn allowed(path: &str) -> Option<&'static str> {
    match path {
        "/sim/state" | "/sim/stats" | "/sim/notifications" => Some("GET"),
        "/sim/faults" | "/sim/quirks" => Some("GET, PUT"),
        "/sim/rules" => Some("GET, POST, DELETE"),
        _ => None,
    }
}

/// `/sim/profiles/{iccid}/{action}`.
async fn profile_action(
    sim: &Arc<Simulator>,
    rest: &str,
    method: Method,
    req: Request<Incoming>,
) -> Result<HttpResponse, Abort> {
    let Some((iccid, action)) = rest.split_once('/') else {
        return Ok(not_routed(None));
    };
    let Ok(iccid) = iccid.parse::<Iccid>() else {
        return Ok(bad_request("not an ICCID"));
    };
    let known_actions = [
        "eligibility",
        "cc",
        "download",
        "install",
        "cancel-session",
        "auto-install",
    ];
    if action == "package" {
        if method != Method::GET {
            return Ok(not_routed(Some("GET")));
        }
        let package = sim.inventory().get(&iccid).map(|p| p.package.clone());
        return Ok(match package {
            None => error_json(StatusCode::NOT_FOUND, "unknown ICCID"),
            Some(None) => error_json(StatusCode::NOT_FOUND, "not downloaded yet"),
            Some(Some(der)) => {
                http_util::with_body(StatusCode::OK, "application/octet-stream", der)
            }
        });
    }
    if !known_actions.contains(&action) {
        return Ok(not_routed(None));
    }
    if method != Method::POST {
        return Ok(not_routed(Some("POST")));
    }
    if sim.inventory().get(&iccid).is_none() {
        return Ok(error_json(StatusCode::NOT_FOUND, "unknown ICCID"));
    }
    let action = match action {
        "eligibility" => read_json::<Eligibility>(req)
            .await?
            .map(|e| CustomerAction::Eligibility(e.eligible)),
        "cc" => match read_json::<CcAttempt>(req).await? {
            Ok(body) => match cc_action(body) {
                Ok(action) => Ok(action),
                Err(why) => return Ok(bad_request(why)),
            },
            Err(resp) => Err(resp),
        },
        "download" => Ok(CustomerAction::Download),
        "install" => read_json::<InstallResult>(req)
            .await?
            .map(CustomerAction::Install),
        "cancel-session" => read_json::<CancelSession>(req)
            .await?
            .map(|c| CustomerAction::CancelSession(c.reason)),
        _ => match read_json::<AutoInstall>(req).await? {
            Ok(a) => {
                sim.schedule_download_install(&iccid, Duration::from_millis(a.delay_ms));
                return Ok(http_util::empty(StatusCode::ACCEPTED));
            }
            Err(resp) => return Ok(resp),
        },
    };
    let outcome = match action {
        Ok(action) => sim.act(&iccid, action),
        Err(resp) => return Ok(resp),
    };
    // Answered once the change and its notifications are kept.
    if !sim.written().written().await {
        return Ok(error_json(
            StatusCode::INTERNAL_SERVER_ERROR,
            "applied, not yet kept in the state file",
        ));
    }
    Ok(answer(sim, &iccid, outcome))
}

fn answer(sim: &Simulator, iccid: &Iccid, outcome: Result<Es9Outcome, Code>) -> HttpResponse {
    match outcome {
        Ok(o) => json(
            StatusCode::OK,
            &ActionAnswer {
                state: sim.inventory().get(iccid).map(|p| p.state),
                refused: o.refused.map(|c| c.to_string()),
                notifications: o.notices.len(),
            },
        ),
        Err(code) if code == codes::ICCID_UNKNOWN => {
            error_json(StatusCode::NOT_FOUND, "unknown ICCID")
        }
        Err(code) => json(
            StatusCode::CONFLICT,
            &Refused {
                error: "refused in the profile's state; nothing changed".to_owned(),
                code: code.to_string(),
            },
        ),
    }
}

/// The customer action a `POST .../cc` body asks for.
fn cc_action(body: CcAttempt) -> Result<CustomerAction, &'static str> {
    match body {
        CcAttempt {
            code: Some(code),
            transaction_id: None,
            hash_cc: None,
        } => Ok(CustomerAction::TypedCode(code)),
        CcAttempt {
            code: None,
            transaction_id: Some(tx),
            hash_cc: Some(hash),
        } => match (wire::hex_decode(&tx), wire::hex_decode(&hash)) {
            (Some(transaction_id), Some(hash_cc)) => Ok(CustomerAction::HashedCode {
                transaction_id,
                hash_cc,
            }),
            _ => Err("transaction_id and hash_cc must be hex"),
        },
        _ => Err("give either code, or transaction_id and hash_cc"),
    }
}

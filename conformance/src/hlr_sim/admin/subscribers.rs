//! Changes made behind the gateway's back, as the host's own staff or another system
//! would: a carrier's rig (and `simgw reconcile`'s tests) create the disagreements that
//! reconciliation must find.
//!
//! | Request | Body in | Answer |
//! |---|---|---|
//! | `PUT /sim/subscribers/{imsi}` | [`PutSubscriber`] | 204; 409 [`ErrorBody`](super::ErrorBody) if the IMSI exists or the MSISDN is held |
//! | `DELETE /sim/subscribers/{imsi}` | | 204 (HLR subscription and AUC entry removed); 404 if neither exists |
//! | `PUT /sim/subscribers/{imsi}/msisdn` | [`PutMsisdn`] | 204; 404 without HLR subscription; 409 if the MSISDN is held |

use crate::common::http_util::{self, Abort, HttpResponse, bad_request, error_json, read_json};
use crate::hlr_sim::codec::{AucSubscription, HlrSubscription, KiWire, MoBody, MoId, MoKind};
use crate::hlr_sim::simulator::Simulator;
use crate::hlr_sim::store::StoreError;
use http::{Method, Request, StatusCode};
use hyper::body::Incoming;
use serde::{Deserialize, Serialize};
use sim_profiles::{Imsi, Key128, Msisdn};

/// `PUT /sim/subscribers/{imsi}`: `{"msisdn": "...", "profile_id": 46, "ki": "<32 hex>",
/// "fsetind": 0, "obo": false, "obi": false}` (clear Ki; `fsetind`, `obo`, `obi` optional).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PutSubscriber {
    /// MSISDN digits of the HLR subscription.
    pub msisdn: String,
    /// Subscriber profile.
    pub profile_id: u32,
    /// Ki in clear, 32 hex digits.
    pub ki: String,
    /// Function set.
    #[serde(default)]
    pub fsetind: u8,
    /// Outgoing calls barred.
    #[serde(default)]
    pub obo: bool,
    /// Incoming calls barred.
    #[serde(default)]
    pub obi: bool,
}

/// `PUT /sim/subscribers/{imsi}/msisdn`: `{"msisdn": "..."}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PutMsisdn {
    /// The new MSISDN digits.
    pub msisdn: String,
}

/// Serves `/sim/subscribers/{rest}`.
pub(crate) async fn handle(
    sim: &Simulator,
    rest: &str,
    method: Method,
    req: Request<Incoming>,
) -> Result<HttpResponse, Abort> {
    let (imsi, tail) = match rest.split_once('/') {
        Some((imsi, tail)) => (imsi, Some(tail)),
        None => (rest, None),
    };
    let Ok(imsi) = imsi.parse::<Imsi>() else {
        return Ok(bad_request("the path does not name a valid IMSI"));
    };
    Ok(match (tail, method) {
        (None, Method::PUT) => match read_json::<PutSubscriber>(req).await? {
            Ok(body) => put(sim, imsi, &body),
            Err(resp) => resp,
        },
        (None, Method::DELETE) => delete(sim, imsi),
        (Some("msisdn"), Method::PUT) => match read_json::<PutMsisdn>(req).await? {
            Ok(body) => put_msisdn(sim, imsi, &body),
            Err(resp) => resp,
        },
        (None, _) => http_util::not_routed(Some("PUT, DELETE")),
        (Some("msisdn"), _) => http_util::not_routed(Some("PUT")),
        (Some(_), _) => http_util::not_routed(None),
    })
}

fn refused(e: StoreError) -> HttpResponse {
    match e {
        StoreError::NotFound => error_json(StatusCode::NOT_FOUND, "no such subscriber"),
        StoreError::AlreadyExists => error_json(StatusCode::CONFLICT, "the IMSI exists already"),
        StoreError::MsisdnInUse => {
            error_json(StatusCode::CONFLICT, "another IMSI holds the MSISDN")
        }
        other => bad_request(format!("refused: {other:?}")),
    }
}

fn put(sim: &Simulator, imsi: Imsi, body: &PutSubscriber) -> HttpResponse {
    let Ok(msisdn) = body.msisdn.parse::<Msisdn>() else {
        return bad_request("msisdn is not an E.164 number");
    };
    let Ok(ki) = Key128::from_hex(&body.ki) else {
        return bad_request("ki is not 32 hex digits");
    };
    let mut store = sim.store();
    if store.auc(&imsi).is_some() || store.hlr(&imsi).is_some() {
        return refused(StoreError::AlreadyExists);
    }
    let hlr = HlrSubscription {
        imsi: imsi.clone(),
        msisdn,
        profile_id: body.profile_id,
        obo: body.obo,
        obi: body.obi,
    };
    if let Err(e) = store.create(MoBody::Auc(AucSubscription {
        imsi: imsi.clone(),
        ki: KiWire::Clear(ki),
        fsetind: body.fsetind,
    })) {
        return refused(e);
    }
    if let Err(e) = store.create(MoBody::Hlr(hlr)) {
        // All or nothing: the AUC entry made a moment ago goes again.
        let _ = store.delete(&MoId::by_imsi(MoKind::GsmAuc, imsi.clone()));
        return refused(e);
    }
    tracing::info!(imsi = imsi.as_str(), "admin: subscriber created");
    http_util::empty(StatusCode::NO_CONTENT)
}

fn delete(sim: &Simulator, imsi: Imsi) -> HttpResponse {
    let mut store = sim.store();
    let hlr = store.delete(&MoId::by_imsi(MoKind::GsmHlr, imsi.clone()));
    let auc = store.delete(&MoId::by_imsi(MoKind::GsmAuc, imsi.clone()));
    if hlr.is_err() && auc.is_err() {
        return refused(StoreError::NotFound);
    }
    tracing::info!(imsi = imsi.as_str(), "admin: subscriber deleted");
    http_util::empty(StatusCode::NO_CONTENT)
}

fn put_msisdn(sim: &Simulator, imsi: Imsi, body: &PutMsisdn) -> HttpResponse {
    let Ok(msisdn) = body.msisdn.parse::<Msisdn>() else {
        return bad_request("msisdn is not an E.164 number");
    };
    let mut store = sim.store();
    let Some(current) = store.hlr(&imsi) else {
        return refused(StoreError::NotFound);
    };
    let id = MoId::by_imsi(MoKind::GsmHlr, imsi.clone());
    let wanted = HlrSubscription { msisdn, ..current };
    if let Err(e) = store.set(&id, MoBody::Hlr(wanted)) {
        return refused(e);
    }
    tracing::info!(imsi = imsi.as_str(), "admin: subscriber's MSISDN changed");
    http_util::empty(StatusCode::NO_CONTENT)
}

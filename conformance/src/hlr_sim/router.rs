//! Routes a request to the CAI3G endpoint, the admin API, or a 404/405.

use super::simulator::Simulator;
use super::{admin, endpoint};
use crate::common::http_util::{self, Abort, HttpResponse};
use http::header::{ALLOW, HeaderValue};
use http::{Method, Request, StatusCode};
use hyper::body::Incoming;
use std::sync::Arc;

/// Dispatches by path: the configured CAI3G path, then `/sim/...`.
pub(crate) async fn route(
    sim: Arc<Simulator>,
    req: Request<Incoming>,
) -> Result<HttpResponse, Abort> {
    let path = req.uri().path();
    if path == sim.path {
        if req.method() != Method::POST {
            let mut resp = http_util::text(StatusCode::METHOD_NOT_ALLOWED, "use POST\n");
            resp.headers_mut()
                .insert(ALLOW, HeaderValue::from_static("POST"));
            return Ok(resp);
        }
        return endpoint::handle(sim, req).await;
    }
    if path.starts_with(admin::PREFIX) {
        return admin::handle(&sim, req).await;
    }
    Ok(http_util::text(StatusCode::NOT_FOUND, "not found\n"))
}

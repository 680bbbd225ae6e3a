//! Routes a request to an ES2+ function, the admin API, or a 404/405.

use super::endpoint::{self, with_protocol};
use super::faults::Function;
use super::simulator::Simulator;
use super::{admin, config::UnmappedCertPolicy};
use crate::common::http_util::{self, Abort, HttpResponse};
use crate::common::server::{Peer, Service};
use http::header::{ALLOW, HeaderValue};
use http::{Method, Request, StatusCode};
use hyper::body::Incoming;
use std::sync::Arc;

impl Service for Simulator {
    async fn call(
        self: Arc<Self>,
        req: Request<Incoming>,
        peer: Arc<Peer>,
    ) -> Result<HttpResponse, Abort> {
        route(self, req, &peer).await
    }

    fn admit(&self, peer: &Peer) -> bool {
        self.settings.unmapped_cert != UnmappedCertPolicy::Reject
            || peer
                .certificate
                .as_ref()
                .is_some_and(|c| self.operator_for(c).is_some())
    }
}

/// Dispatches by path: the four ES2+ paths, then `/sim/...`.
async fn route(
    sim: Arc<Simulator>,
    req: Request<Incoming>,
    peer: &Peer,
) -> Result<HttpResponse, Abort> {
    let path = req.uri().path();
    if let Some(f) = Function::from_path(path) {
        if req.method() != Method::POST {
            let mut resp = http_util::text(StatusCode::METHOD_NOT_ALLOWED, "use POST\n");
            resp.headers_mut()
                .insert(ALLOW, HeaderValue::from_static("POST"));
            return Ok(with_protocol(&sim, resp, None));
        }
        return endpoint::handle(sim, f, req, peer).await;
    }
    if path.starts_with(admin::PREFIX) {
        return admin::handle(&sim, req).await;
    }
    Ok(http_util::text(StatusCode::NOT_FOUND, "not found\n"))
}

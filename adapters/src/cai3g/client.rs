//! The async CAI3G driver: owns the HTTP client and the session, sends codec-built
//! envelopes, and turns answers into values or normalised errors.

use super::classify::{Failure, is_session_fault, to_hlr_error};
use super::codec::{
    GetResult, Header, MAX_MESSAGE_BYTES, MoBody, MoId, MoKind, Operation, Request, Response,
    decode_response, encode_request,
};
use super::config::Cai3gConfig;
use super::session::{Session, SessionSlot};
use crate::hlr::{FaultClass, HlrError};
use crate::http::{HttpClient, HttpError, validate_url};
use bytes::Bytes;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

const LOGIN: &str = "CAI3G Login";
const LOGOUT: &str = "CAI3G Logout";

/// A CAI3G 1.2 client for one host: GsmHlr/GsmAuc Create, Get, Set and Delete over a
/// shared session that it logs into lazily and replaces once on a session fault.
pub struct Cai3gClient {
    http: HttpClient,
    config: Cai3gConfig,
    session: SessionSlot,
    transactions: AtomicU64,
}

impl std::fmt::Debug for Cai3gClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cai3gClient")
            .field("base_url", &self.config.base_url)
            .finish_non_exhaustive()
    }
}

impl Cai3gClient {
    /// Builds a client trusting `config.ca_pem` and bounded by `config.request_timeout`.
    pub fn new(config: Cai3gConfig) -> Result<Self, HttpError> {
        // Larger answers could not be decoded anyway, so stop reading them early.
        let mut http = HttpClient::builder()
            .request_timeout(config.request_timeout)
            .pool_max_idle_per_host(config.max_idle_connections)
            .body_limit(MAX_MESSAGE_BYTES);
        if let Some(pem) = &config.ca_pem {
            http = http.add_root_pem(pem);
        }
        Self::with_http(config, http.build()?)
    }

    /// Builds a client over a caller-made HTTP client (e.g. one with an mTLS identity).
    pub fn with_http(config: Cai3gConfig, http: HttpClient) -> Result<Self, HttpError> {
        for url in [
            Some(&config.base_url),
            config.auc_url.as_ref(),
            config.session_url.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            validate_url(url)?;
        }
        Ok(Self {
            http,
            session: SessionSlot::new(config.session_refresh),
            config,
            transactions: AtomicU64::new(0),
        })
    }

    /// The same client with `first` as the pause after a failed Login (default 1 s,
    /// doubling per further failure up to 60 s); calls in the pause share the failure.
    pub fn with_login_backoff(mut self, first: Duration) -> Self {
        self.session = self.session.with_login_backoff(first);
        self
    }

    /// Creates an MO.
    pub async fn create(&self, body: MoBody) -> Result<(), HlrError> {
        self.call(Request::Create(body)).await.map(drop)
    }

    /// Reads an MO; `None` if the host says it does not exist.
    pub async fn get(&self, id: MoId) -> Result<Option<GetResult>, HlrError> {
        let kind = id.kind;
        match self.call(Request::Get(id)).await {
            Ok(Response::Get(result)) => Ok(Some(result)),
            Ok(_) => Err(HlrError::new(
                FaultClass::Protocol,
                label(Operation::Get, Some(kind)),
                "not a GetResponse",
            )),
            Err(e) if e.class == FaultClass::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Modifies an MO addressed by its own keys.
    pub async fn set(&self, body: MoBody) -> Result<(), HlrError> {
        self.call(Request::set(body)).await.map(drop)
    }

    /// Modifies the MO `id` names (same kind as `body`) to `body`: a GsmHlr number change
    /// addresses the subscription by its IMSI and current MSISDN.
    pub async fn set_at(&self, id: MoId, body: MoBody) -> Result<(), HlrError> {
        self.call(Request::Set { id, body }).await.map(drop)
    }

    /// Deletes an MO (a `NotFound` error if it does not exist).
    pub async fn delete(&self, id: MoId) -> Result<(), HlrError> {
        self.call(Request::Delete(id)).await.map(drop)
    }

    /// Ends the current session, if any. Best effort: failures are only logged.
    pub async fn logout(&self) {
        let Some(session) = self.session.take().await else {
            return;
        };
        let request = Request::Logout {
            session_id: session.id.clone(),
        };
        match self
            .exchange(self.session_url(), Some(&session), &request)
            .await
        {
            Ok(_) => tracing::debug!("CAI3G logged out"),
            Err(f) => {
                let e = to_hlr_error(LOGOUT, &f, &self.config.codes, false);
                tracing::debug!(
                    class = e.class.as_str(),
                    code = e.code.as_deref(),
                    "CAI3G logout failed"
                );
            }
        }
    }

    /// Runs a provisioning request in the shared session, replacing the session and
    /// replaying the request once if the host says the session is invalid.
    async fn call(&self, request: Request) -> Result<Response, HlrError> {
        let op = request.operation();
        let kind = request.mo_kind();
        let operation = label(op, kind);
        let url = self.url_for(kind);
        let started = Instant::now();
        let session = self.session().await?;
        let mut outcome = self.exchange(url, Some(&session), &request).await;
        if outcome
            .as_ref()
            .is_err_and(|f| is_session_fault(f, &self.config.codes))
        {
            tracing::debug!(
                operation,
                "CAI3G session fault; logging in again and replaying once"
            );
            self.session.invalidate(&session).await;
            let session = self.session().await?;
            outcome = self.exchange(url, Some(&session), &request).await;
        }
        let result = outcome.map_err(|f| to_hlr_error(operation, &f, &self.config.codes, false));
        let imsi = request_imsi(&request);
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match &result {
            Ok(_) => tracing::debug!(operation, imsi, elapsed_ms, "CAI3G ok"),
            Err(e) => tracing::debug!(
                operation,
                imsi,
                elapsed_ms,
                class = e.class.as_str(),
                code = e.code.as_deref(),
                "CAI3G failed"
            ),
        }
        result
    }

    async fn session(&self) -> Result<Arc<Session>, HlrError> {
        self.session
            .get(tokio::time::Instant::now, || self.login())
            .await
    }

    async fn login(&self) -> Result<(String, u64), HlrError> {
        let request = Request::Login {
            user_id: self.config.user_id.clone(),
            pwd: self.config.password.clone(),
        };
        let codes = &self.config.codes;
        match self.exchange(self.session_url(), None, &request).await {
            Ok(Response::Login {
                session_id,
                base_sequence_id,
            }) => {
                tracing::debug!("CAI3G logged in");
                Ok((session_id, base_sequence_id))
            }
            Ok(_) => Err(HlrError::new(
                FaultClass::Protocol,
                LOGIN,
                "not a LoginResponse",
            )),
            Err(f) => {
                let e = to_hlr_error(LOGIN, &f, codes, true);
                // Nothing is provisioned until a Login passes: the operator must know.
                tracing::warn!(
                    class = e.class.as_str(),
                    code = e.code.as_deref(),
                    "CAI3G login failed; provisioning waits and retries"
                );
                Err(e)
            }
        }
    }

    /// One HTTP round trip. A fault comes back as `Err(Failure::Fault)`.
    async fn exchange(
        &self,
        url: &str,
        session: Option<&Session>,
        request: &Request,
    ) -> Result<Response, Failure> {
        let op = request.operation();
        let header = match session {
            None => Header::default(),
            Some(s) => Header {
                session_id: Some(s.id.clone()),
                transaction_id: Some(self.next_transaction_id().to_string()),
                sequence_id: Some(s.next_sequence_id().to_string()),
            },
        };
        let body = Bytes::from(encode_request(&header, request));
        let headers = [
            ("content-type", "text/xml; charset=utf-8".to_owned()),
            ("soapaction", format!("\"{}\"", op.soap_action())),
        ];
        let answer = self
            .http
            .post(url, &headers, body)
            .await
            .map_err(Failure::Http)?;
        match decode_response(answer.status, &answer.body, op, request.mo_kind()) {
            Ok((_, Response::Fault(f))) => Err(Failure::Fault(f)),
            Ok((_, response)) => Ok(response),
            Err(error) => Err(Failure::Decode {
                status: answer.status,
                error,
            }),
        }
    }

    fn next_transaction_id(&self) -> u64 {
        self.transactions
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(1)
    }

    fn url_for(&self, kind: Option<MoKind>) -> &str {
        match kind {
            None => self.session_url(),
            Some(MoKind::GsmAuc) => self
                .config
                .auc_url
                .as_deref()
                .unwrap_or(&self.config.base_url),
            Some(MoKind::GsmHlr) => &self.config.base_url,
        }
    }

    fn session_url(&self) -> &str {
        self.config
            .session_url
            .as_deref()
            .unwrap_or(&self.config.base_url)
    }
}

/// The operation label used in errors and logs, e.g. `GsmAuc Create`.
pub(crate) fn label(op: Operation, kind: Option<MoKind>) -> &'static str {
    use MoKind::{GsmAuc, GsmHlr};
    use Operation::*;
    match (op, kind) {
        (Create, Some(GsmAuc)) => "GsmAuc Create",
        (Create, Some(GsmHlr)) => "GsmHlr Create",
        (Get, Some(GsmAuc)) => "GsmAuc Get",
        (Get, Some(GsmHlr)) => "GsmHlr Get",
        (Set, Some(GsmAuc)) => "GsmAuc Set",
        (Set, Some(GsmHlr)) => "GsmHlr Set",
        (Delete, Some(GsmAuc)) => "GsmAuc Delete",
        (Delete, Some(GsmHlr)) => "GsmHlr Delete",
        (Logout, _) => LOGOUT,
        _ => LOGIN,
    }
}

fn request_imsi(request: &Request) -> Option<&str> {
    match request {
        Request::Create(b) | Request::Set { body: b, .. } => Some(b.imsi().as_str()),
        Request::Get(id) | Request::Delete(id) => id.imsi.as_ref().map(|i| i.as_str()),
        Request::Login { .. } | Request::Logout { .. } => None,
    }
}

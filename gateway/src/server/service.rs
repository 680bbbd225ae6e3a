//! The hyper service of one connection: the router, reporting each request to the
//! connection's `Activity`, and keeping each request body out of the handler's hands so
//! that a refusal sent before the body was read (401, 413, 415, a bad notification) can
//! still drain a bounded remainder. Without the drain, HTTP/1.1 closes a connection whose
//! request body is unread, and a client still uploading gets a reset instead of the
//! answer.

use super::activity::{Activity, Busy};
use axum::Router;
use axum::body::Body;
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt;
use hyper::body::{Body as _, Frame, Incoming, SizeHint};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;
use tower::ServiceExt;

/// Most bytes of an unread request body drained after the answer.
const DRAIN_MAX_BYTES: usize = 4 * 1024 * 1024;
/// Longest a drain may take: a client uploading slower than this is cut off.
const DRAIN_MAX_TIME: Duration = Duration::from_secs(5);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The hyper service of one connection: the router, with activity tracking and drains.
#[derive(Clone)]
pub(super) struct ConnService {
    router: Router,
    activity: Arc<Activity>,
}

impl ConnService {
    /// Serves `router`, reporting to `activity`.
    pub(super) fn new(router: Router, activity: Arc<Activity>) -> Self {
        Self { router, activity }
    }
}

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let busy = self.activity.begin();
        let router = self.router.clone();
        let activity = self.activity.clone();
        Box::pin(async move {
            let (parts, incoming) = req.into_parts();
            let slot: Slot = Arc::new(Mutex::new(Some(Body::new(incoming))));
            let req = Request::from_parts(parts, Body::new(Held(slot.clone())));
            let resp = match router.oneshot(req).await {
                Ok(r) => r,
                Err(never) => match never {},
            };
            Ok(resp.map(|inner| {
                Body::new(Answer {
                    inner,
                    request_body: Some(slot),
                    activity,
                    _busy: busy,
                })
            }))
        })
    }
}

/// Where a request body lives while the handler reads it, so it outlives the handler.
type Slot = Arc<Mutex<Option<Body>>>;

/// The request body as the handler sees it: reads go through to the slot, and dropping it
/// leaves whatever was not read in the slot.
struct Held(Slot);

impl hyper::body::Body for Held {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        match lock(&self.0).as_mut() {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        lock(&self.0).as_ref().is_none_or(|b| b.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        lock(&self.0)
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), |b| b.size_hint())
    }
}

/// The response body: once hyper starts sending it (first poll, or drop when there is
/// nothing to send), whatever the handler left of the request body is drained.
/// Starting then, not earlier, means hyper has the answer's head and will not send
/// `100 Continue` to a client that waits for one.
struct Answer {
    inner: Body,
    request_body: Option<Slot>,
    activity: Arc<Activity>,
    _busy: Busy,
}

impl Answer {
    fn release_request_body(&mut self) {
        let Some(slot) = self.request_body.take() else {
            return;
        };
        let Some(rest) = lock(&slot).take() else {
            return;
        };
        if rest.is_end_stream() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let busy = self.activity.begin();
        runtime.spawn(async move {
            let _busy = busy;
            let _ = tokio::time::timeout(DRAIN_MAX_TIME, drain(rest)).await;
        });
    }
}

/// Reads and discards up to `DRAIN_MAX_BYTES`; dropping the body then closes the
/// connection's read side if more is still coming.
async fn drain(mut body: Body) {
    let mut seen = 0usize;
    while let Some(Ok(frame)) = body.frame().await {
        if let Some(data) = frame.data_ref() {
            seen = seen.saturating_add(data.len());
            if seen > DRAIN_MAX_BYTES {
                break;
            }
        }
    }
}

impl hyper::body::Body for Answer {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        this.release_request_body();
        Pin::new(&mut this.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Answer {
    fn drop(&mut self) {
        self.release_request_body();
    }
}

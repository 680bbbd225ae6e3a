//! One persistent CTRL connection with pipelined requests matched to replies by id.
//!
//! A writer task drains a queue of frames to the socket; a reader task decodes replies and
//! completes the pending request with the same id. When the connection drops, every
//! pending request fails with [`CtrlError::Closed`] and the next call reconnects, retrying
//! with capped exponential backoff until its own deadline.
//!
//! Values are never logged: `aud2g`, `aud3g`, `info-aud` and `info-all` carry keys in
//! clear. Only variable names (an IMSI at most) reach the logs.

use super::codec::{CodecError, FrameDecoder, Reply, Request, encode_frame};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// First reconnect delay.
const BACKOFF_START: Duration = Duration::from_millis(25);
/// Longest reconnect delay.
const BACKOFF_CAP: Duration = Duration::from_secs(1);

/// Why a CTRL call failed. Never carries a request or reply value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CtrlError {
    /// No connection could be made before the deadline.
    #[error("cannot connect to {addr}: {detail}")]
    Connect {
        /// The peer.
        addr: SocketAddr,
        /// The last socket error.
        detail: String,
    },
    /// The connection dropped before the reply arrived; the request may have been applied.
    #[error("connection closed before the reply: {0}")]
    Closed(&'static str),
    /// No reply within the request timeout; the request may have been applied.
    #[error("no reply within {0:?}")]
    Timeout(Duration),
    /// The server answered `ERROR` with this reason.
    #[error("server error: {0}")]
    Refused(String),
    /// The reply did not match the request (verb or variable).
    #[error("unexpected reply: {0}")]
    Unexpected(&'static str),
    /// The request could not be encoded.
    #[error(transparent)]
    Codec(#[from] CodecError),
}

type Waiter = oneshot::Sender<Result<Reply, CtrlError>>;

/// Requests awaiting replies on one connection.
#[derive(Default)]
struct Pending {
    closed: bool,
    waiters: HashMap<u64, Waiter>,
}

type SharedPending = Arc<Mutex<Pending>>;

fn lock(p: &SharedPending) -> std::sync::MutexGuard<'_, Pending> {
    p.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Fails every pending request and refuses new ones.
fn close(pending: &SharedPending, why: &'static str) {
    let waiters = {
        let mut p = lock(pending);
        p.closed = true;
        std::mem::take(&mut p.waiters)
    };
    for (_, waiter) in waiters {
        let _ = waiter.send(Err(CtrlError::Closed(why)));
    }
}

/// One TCP connection and its two tasks (aborted on drop).
struct Connection {
    next_id: AtomicU64,
    pending: SharedPending,
    frames: mpsc::UnboundedSender<Vec<u8>>,
    tasks: [JoinHandle<()>; 2],
}

impl Drop for Connection {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        close(&self.pending, "client closed the connection");
    }
}

impl Connection {
    fn start(stream: TcpStream) -> Self {
        let _ = stream.set_nodelay(true);
        let (rd, wr) = stream.into_split();
        let pending = SharedPending::default();
        let (frames, queue) = mpsc::unbounded_channel();
        let reader = tokio::spawn(read_loop(rd, pending.clone()));
        let writer = tokio::spawn(write_loop(wr, queue, pending.clone()));
        Self {
            next_id: AtomicU64::new(1),
            pending,
            frames,
            tasks: [reader, writer],
        }
    }

    fn is_open(&self) -> bool {
        !lock(&self.pending).closed
    }
}

async fn write_loop(
    mut wr: OwnedWriteHalf,
    mut queue: mpsc::UnboundedReceiver<Vec<u8>>,
    pending: SharedPending,
) {
    while let Some(frame) = queue.recv().await {
        if wr.write_all(&frame).await.is_err() {
            close(&pending, "write failed");
            return;
        }
    }
}

async fn read_loop(mut rd: OwnedReadHalf, pending: SharedPending) {
    let mut decoder = FrameDecoder::default();
    let mut buf = vec![0u8; 4096];
    let why = 'conn: loop {
        let n = match rd.read(&mut buf).await {
            Ok(0) => break 'conn "closed by peer",
            Ok(n) => n,
            Err(_) => break 'conn "read failed",
        };
        decoder.push(buf.get(..n).unwrap_or_default());
        loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => dispatch(&frame, &pending),
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "CTRL stream out of sync; dropping the connection");
                    break 'conn "undecodable frame";
                }
            }
        }
    };
    close(&pending, why);
}

/// Completes the request a reply answers; traps and unmatched replies are dropped.
fn dispatch(frame: &[u8], pending: &SharedPending) {
    let reply = match Reply::parse(frame) {
        Ok(reply) => reply,
        Err(e) => {
            tracing::warn!(error = %e, "unparseable CTRL reply ignored");
            return;
        }
    };
    let Some(id) = reply.id() else {
        if let Reply::Error { reason, .. } = &reply {
            tracing::warn!(reason = reason.as_str(), "CTRL error without id");
        }
        return;
    };
    let waiter = lock(pending).waiters.remove(&id);
    match waiter {
        Some(w) => {
            let _ = w.send(Ok(reply));
        }
        None => tracing::debug!(id, "CTRL reply for no pending request (timed out?)"),
    }
}

/// A CTRL client over one lazily opened, persistent TCP connection.
pub struct CtrlClient {
    addr: SocketAddr,
    request_timeout: Duration,
    conn: tokio::sync::Mutex<Option<Arc<Connection>>>,
}

impl std::fmt::Debug for CtrlClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CtrlClient")
            .field("addr", &self.addr)
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

impl CtrlClient {
    /// A client for `addr`; nothing connects until the first call.
    pub fn new(addr: SocketAddr, request_timeout: Duration) -> Self {
        Self {
            addr,
            request_timeout,
            conn: tokio::sync::Mutex::new(None),
        }
    }

    /// `GET var`: the reply's value. The value may hold keys: never log it.
    pub async fn get(&self, var: &str) -> Result<String, CtrlError> {
        self.call(var, None).await
    }

    /// `SET var value`: the reply's value (`OK`, or e.g. a database id).
    pub async fn set(&self, var: &str, value: &str) -> Result<String, CtrlError> {
        self.call(var, Some(value)).await
    }

    /// Drops the connection; the next call opens a new one.
    pub async fn close(&self) {
        self.conn.lock().await.take();
    }

    async fn call(&self, var: &str, value: Option<&str>) -> Result<String, CtrlError> {
        let deadline = Instant::now() + self.request_timeout;
        let conn = self.connection(deadline).await?;
        let id = conn.next_id.fetch_add(1, Ordering::Relaxed);
        let request = match value {
            None => Request::Get {
                id,
                var: var.to_owned(),
            },
            Some(value) => Request::Set {
                id,
                var: var.to_owned(),
                value: value.to_owned(),
            },
        };
        let frame = encode_frame(request.encode()?.as_bytes())?;
        let (tx, rx) = oneshot::channel();
        {
            let mut p = lock(&conn.pending);
            if p.closed {
                return Err(CtrlError::Closed("connection already closed"));
            }
            p.waiters.insert(id, tx);
        }
        tracing::debug!(id, var, set = value.is_some(), "CTRL request");
        if conn.frames.send(frame).is_err() {
            lock(&conn.pending).waiters.remove(&id);
            return Err(CtrlError::Closed("writer stopped"));
        }
        let reply = match tokio::time::timeout_at(deadline, rx).await {
            Err(_) => {
                lock(&conn.pending).waiters.remove(&id);
                return Err(CtrlError::Timeout(self.request_timeout));
            }
            Ok(Err(_)) => return Err(CtrlError::Closed("reply channel dropped")),
            Ok(Ok(reply)) => reply?,
        };
        match (reply, value.is_some()) {
            (Reply::GetReply { var: v, value, .. }, false)
            | (Reply::SetReply { var: v, value, .. }, true)
                if v == var =>
            {
                Ok(value)
            }
            (Reply::Error { reason, .. }, _) => Err(CtrlError::Refused(reason)),
            _ => Err(CtrlError::Unexpected(
                "reply verb or variable does not match",
            )),
        }
    }

    /// The open connection, or a new one; connecting retries with backoff until `deadline`.
    async fn connection(&self, deadline: Instant) -> Result<Arc<Connection>, CtrlError> {
        let mut slot = self.conn.lock().await;
        if let Some(conn) = slot.as_ref().filter(|c| c.is_open()) {
            return Ok(conn.clone());
        }
        *slot = None;
        let mut delay = BACKOFF_START;
        loop {
            let detail =
                match tokio::time::timeout_at(deadline, TcpStream::connect(self.addr)).await {
                    Ok(Ok(stream)) => {
                        tracing::debug!(addr = %self.addr, "CTRL connected");
                        let conn = Arc::new(Connection::start(stream));
                        *slot = Some(conn.clone());
                        return Ok(conn);
                    }
                    Ok(Err(e)) => e.kind().to_string(),
                    Err(_) => "timed out".to_owned(),
                };
            if Instant::now() + delay >= deadline {
                return Err(CtrlError::Connect {
                    addr: self.addr,
                    detail,
                });
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(BACKOFF_CAP);
        }
    }
}

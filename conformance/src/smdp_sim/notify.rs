//! HandleDownloadProgressInfo to the operators: builds each notification with the ES2+
//! codec, bends it per the configured quirks, and delivers it in order from one task with
//! the SM-DP+'s client certificate, retrying with back-off until the operator answers 204.
//! With a state file, each notification is kept there (by the caller, with the change that
//! made it; one held back behind its install one from the moment it is held) until it is
//! delivered or given up, and a restart (a kill -9 included) delivers what was left, in
//! the order it was queued. The delivery log belongs to one run.

use super::persist::{self, Pending};
use super::state::Notice;
use crate::common::control::{lock, wait_shutdown};
use crate::common::state_writer::StateWriter;
use adapters::es2plus::{
    ADMIN_PROTOCOL_HEADER, DownloadProgressInfo, FunctionExecutionStatus, NotificationPoint,
    NotifiedEid, RequestHeader, ResultData, Timestamp, encode_notification,
};
use adapters::http::HttpClient;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sim_profiles::Iccid;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Deviations from the canonical notification that real SM-DP+s show (reference §4.6).
/// Settable at runtime; all off by default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Quirks {
    /// Spell the member `timeStamp` (Annex I) instead of `timestamp`.
    pub timestamp_camel_case: bool,
    /// Send `notificationPointId` as a decimal string.
    pub point_id_as_string: bool,
    /// Pad 19-digit ICCIDs with a trailing `F`.
    pub pad_iccid: bool,
    /// Leave out `eid`.
    pub omit_eid: bool,
    /// Add vendor members (`deviceInfo`, `vendorReference`).
    pub vendor_members: bool,
    /// Send every notification twice.
    pub duplicate: bool,
    /// Hold point 3 back and send it after point 4.
    pub install_before_download: bool,
    /// After a successful point 4, also send these points (e.g. 5–8, ≥ 100) as successes.
    pub extra_points: Vec<u32>,
}

/// Bounded delivery retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per notification, the first included.
    pub attempts: u32,
    /// Wait before the second attempt; doubles each time.
    pub initial_backoff: Duration,
    /// Longest wait between attempts.
    pub max_backoff: Duration,
    /// Timeout of one attempt.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 5,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
        }
    }
}

/// One notification as sent (or as it would have been, without a URL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentNotification {
    /// Order of sending, from 0.
    pub seq: u64,
    /// The operator notified.
    pub owner: String,
    /// Where it went; `None` if the operator has no URL or sending is disabled.
    pub url: Option<String>,
    /// The profile (canonical form).
    pub iccid: String,
    /// The notification point.
    pub point: u32,
    /// The exact body.
    pub body: String,
    /// HTTP status of each attempt; `None` where the exchange failed.
    pub statuses: Vec<Option<u16>>,
    /// True once the operator answered 204.
    pub delivered: bool,
}

/// One body waiting for delivery.
#[derive(Debug)]
pub(crate) struct Outgoing {
    /// Its key in the state file's pending notifications, if kept there.
    key: Option<u64>,
    owner: String,
    url: Option<String>,
    iccid: String,
    point: u32,
    body: Vec<u8>,
}

impl Outgoing {
    /// The state file's record of it, if it is kept there.
    fn pending(&self) -> Option<(u64, Pending)> {
        self.key.map(|k| {
            (
                k,
                Pending {
                    owner: self.owner.clone(),
                    iccid: self.iccid.clone(),
                    point: self.point,
                    body: String::from_utf8_lossy(&self.body).into_owned(),
                },
            )
        })
    }
}

/// What [`Notifier::prepare`] made of a change's notices.
#[derive(Debug, Default)]
pub(crate) struct Prepared {
    /// To queue now, in sending order.
    pub(crate) ready: Vec<Outgoing>,
    /// The state file's records of the notifications given a key here, to keep with the
    /// change (held ones included).
    pub(crate) kept: Vec<(u64, Pending)>,
}

/// The delivery log, with a counter tests can wait on.
#[derive(Debug)]
pub(crate) struct NotificationLog {
    entries: Mutex<Vec<SentNotification>>,
    count: watch::Sender<usize>,
}

impl NotificationLog {
    fn push(&self, entry: SentNotification) {
        let n = {
            let mut entries = lock(&self.entries);
            entries.push(entry);
            entries.len()
        };
        self.count.send_replace(n);
    }

    /// Every notification handled so far.
    pub(crate) fn entries(&self) -> Vec<SentNotification> {
        lock(&self.entries).clone()
    }

    /// Waits until at least `n` notifications have been handled, or `within` passes.
    pub(crate) async fn wait_for(&self, n: usize, within: Duration) -> Vec<SentNotification> {
        let mut rx = self.count.subscribe();
        let _ = tokio::time::timeout(within, rx.wait_for(|c| *c >= n)).await;
        self.entries()
    }
}

/// Builds notifications and queues them for the delivery task.
#[derive(Debug)]
pub(crate) struct Notifier {
    requester_id: String,
    urls: HashMap<String, Option<String>>,
    sending: bool,
    quirks: Mutex<Quirks>,
    held: Mutex<HashMap<Iccid, Vec<Outgoing>>>,
    queue: mpsc::UnboundedSender<Outgoing>,
    log: Arc<NotificationLog>,
    calls: AtomicU64,
    /// The next pending-notification key, when a state file keeps them.
    next_key: Option<AtomicU64>,
}

impl Notifier {
    /// A notifier for `urls` (operator → URL); `client` `None` logs without sending.
    /// Spawns the delivery task, which ends on `stop`. With `state` (the state file and
    /// the notifications it still holds), those go first and every later one is kept
    /// there until handled.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn start(
        requester_id: String,
        urls: HashMap<String, Option<String>>,
        client: Option<HttpClient>,
        admin_protocol: String,
        quirks: Quirks,
        retry: RetryPolicy,
        stop: watch::Receiver<bool>,
        state: Option<(Arc<StateWriter>, persist::PendingList)>,
    ) -> Self {
        let (queue, rx) = mpsc::unbounded_channel();
        let next_key = state.as_ref().map(|(_, pending)| {
            AtomicU64::new(pending.iter().map(|(k, _)| k + 1).max().unwrap_or(0))
        });
        let file = state.as_ref().map(|(f, _)| Arc::clone(f));
        for (key, p) in state.map(|(_, p)| p).unwrap_or_default() {
            let url = urls.get(&p.owner).cloned().flatten();
            let _ = queue.send(Outgoing {
                key: Some(key),
                url: url.filter(|_| client.is_some()),
                owner: p.owner,
                iccid: p.iccid,
                point: p.point,
                body: p.body.into_bytes(),
            });
        }
        let log = Arc::new(NotificationLog {
            entries: Mutex::new(Vec::new()),
            count: watch::channel(0).0,
        });
        let sending = client.is_some();
        tokio::spawn(deliver_all(
            rx,
            client,
            admin_protocol,
            retry,
            Arc::clone(&log),
            stop,
            file,
        ));
        Self {
            requester_id,
            urls,
            sending,
            quirks: Mutex::new(quirks),
            held: Mutex::new(HashMap::new()),
            queue,
            log,
            calls: AtomicU64::new(0),
            next_key,
        }
    }

    /// The delivery log.
    pub(crate) fn log(&self) -> &NotificationLog {
        &self.log
    }

    /// The quirks in force.
    pub(crate) fn quirks(&self) -> Quirks {
        lock(&self.quirks).clone()
    }

    /// Replaces the quirks.
    pub(crate) fn set_quirks(&self, quirks: Quirks) {
        *lock(&self.quirks) = quirks;
    }

    /// The notifications for `notices`, stamped `now`: those to send now, in sending
    /// order, and the state file's records of every one that got a key (a download
    /// notification held back behind its install one included: it is queued as much as
    /// the others). Keep `kept` with the change, then hand `ready` to
    /// [`Notifier::enqueue`].
    pub(crate) fn prepare(&self, notices: Vec<Notice>, now: &str) -> Prepared {
        let mut prepared = Prepared::default();
        let Ok(now) = Timestamp::new(now) else {
            tracing::warn!("notification timestamp does not parse; nothing sent");
            return prepared;
        };
        let now = &now;
        let quirks = self.quirks();
        for notice in notices {
            let mut batch = vec![self.outgoing(&notice, notice.point, &quirks, now)];
            let install_ok = notice.point == NotificationPoint::BppInstallation
                && notice.status.status.is_success();
            if install_ok {
                for &extra in &quirks.extra_points {
                    let mut n = notice.clone();
                    n.result_data = None;
                    n.status = FunctionExecutionStatus::success();
                    batch.push(self.outgoing(&n, NotificationPoint::from_id(extra), &quirks, now));
                }
            }
            let mut held = lock(&self.held);
            if quirks.install_before_download
                && notice.point == NotificationPoint::BppDownload
                && notice.status.status.is_success()
            {
                // Kept now: a restart before the install sends it (in queue order).
                for out in &mut batch {
                    self.keep(out, &mut prepared.kept);
                }
                held.entry(notice.iccid.clone()).or_default().extend(batch);
                continue;
            }
            // Anything held for this profile goes right after this notification.
            if let Some(later) = held.remove(&notice.iccid) {
                batch.extend(later);
            }
            drop(held);
            for out in batch {
                if quirks.duplicate {
                    let copy = Outgoing {
                        key: None,
                        owner: out.owner.clone(),
                        url: out.url.clone(),
                        iccid: out.iccid.clone(),
                        point: out.point,
                        body: out.body.clone(),
                    };
                    prepared.ready.push(copy);
                }
                prepared.ready.push(out);
            }
        }
        // Keys are given in sending order (held notifications have theirs already).
        for out in &mut prepared.ready {
            self.keep(out, &mut prepared.kept);
        }
        prepared
    }

    /// Gives `out` a key and its record to `kept`, if the state file keeps notifications
    /// and `out` has no key yet.
    fn keep(&self, out: &mut Outgoing, kept: &mut Vec<(u64, Pending)>) {
        if let (Some(next), None) = (&self.next_key, out.key) {
            out.key = Some(next.fetch_add(1, Ordering::Relaxed));
            kept.extend(out.pending());
        }
    }

    /// Queues `ready` for delivery, in order.
    pub(crate) fn enqueue(&self, ready: Vec<Outgoing>) {
        for out in ready {
            // The receiver lives until shutdown; after that nothing is delivered anyway.
            let _ = self.queue.send(out);
        }
    }

    fn outgoing(
        &self,
        notice: &Notice,
        point: NotificationPoint,
        quirks: &Quirks,
        now: &Timestamp,
    ) -> Outgoing {
        let n = self.calls.fetch_add(1, Ordering::Relaxed);
        let info = DownloadProgressInfo {
            header: RequestHeader::new(&self.requester_id, format!("smdp-notification-{n}")),
            eid: notice.eid.clone().map(NotifiedEid::Valid),
            iccid: notice.iccid.clone(),
            profile_type: Some(notice.profile_type.clone()),
            timestamp: now.clone(),
            point,
            point_status: notice.status.clone(),
            result_data: notice.result_data.as_deref().map(ResultData::from_der),
        };
        let body = apply_quirks(encode_notification(&info), quirks, n);
        let url = self.urls.get(&notice.owner).cloned().flatten();
        Outgoing {
            key: None,
            owner: notice.owner.clone(),
            url: url.filter(|_| self.sending),
            iccid: notice.iccid.to_string(),
            point: point.id(),
            body,
        }
    }
}

/// Rewrites the codec's canonical body per `quirks` (the `n`th notification sent); untouched
/// when none apply. Public so that a receiver's description can be held to what is sent.
pub fn apply_quirks(body: Vec<u8>, quirks: &Quirks, n: u64) -> Vec<u8> {
    let any = quirks.timestamp_camel_case
        || quirks.point_id_as_string
        || quirks.pad_iccid
        || quirks.omit_eid
        || quirks.vendor_members;
    if !any {
        return body;
    }
    let Ok(Value::Object(mut obj)) = serde_json::from_slice::<Value>(&body) else {
        return body;
    };
    if quirks.timestamp_camel_case {
        if let Some(ts) = obj.remove("timestamp") {
            obj.insert("timeStamp".to_owned(), ts);
        }
    }
    if quirks.point_id_as_string {
        if let Some(Value::Number(id)) = obj.get("notificationPointId").cloned() {
            obj.insert(
                "notificationPointId".to_owned(),
                Value::String(id.to_string()),
            );
        }
    }
    if quirks.pad_iccid {
        if let Some(Value::String(iccid)) = obj.get_mut("iccid") {
            if iccid.len() == 19 {
                iccid.push('F');
            }
        }
    }
    if quirks.omit_eid {
        obj.remove("eid");
    }
    if quirks.vendor_members {
        obj.insert(
            "deviceInfo".to_owned(),
            serde_json::json!({ "tac": "35846009", "deviceCapabilities": ["LTE", "NR"] }),
        );
        obj.insert(
            "vendorReference".to_owned(),
            Value::String(format!("SIMREF-{n:06}")),
        );
    }
    serde_json::to_vec(&Value::Object(obj)).unwrap_or(body)
}

/// The delivery task: one notification at a time, in queue order.
async fn deliver_all(
    mut rx: mpsc::UnboundedReceiver<Outgoing>,
    client: Option<HttpClient>,
    admin_protocol: String,
    retry: RetryPolicy,
    log: Arc<NotificationLog>,
    stop: watch::Receiver<bool>,
    file: Option<Arc<StateWriter>>,
) {
    let mut seq = 0u64;
    loop {
        let out = tokio::select! {
            () = wait_shutdown(stop.clone()) => return,
            out = rx.recv() => match out {
                Some(out) => out,
                None => return,
            },
        };
        let mut statuses = Vec::new();
        let mut delivered = false;
        if let (Some(client), Some(url)) = (&client, &out.url) {
            let stopped = tokio::select! {
                () = wait_shutdown(stop.clone()) => true,
                ok = deliver(client, url, &out.body, &admin_protocol, retry, &mut statuses) => {
                    delivered = ok;
                    false
                }
            };
            if stopped {
                return;
            }
        }
        // Handled (delivered, or given up as before the state file): no longer pending.
        if let (Some(file), Some(key)) = (&file, out.key) {
            drop(file.submit(vec![persist::done(key)]));
        }
        log.push(SentNotification {
            seq,
            owner: out.owner,
            url: out.url,
            iccid: out.iccid,
            point: out.point,
            body: String::from_utf8_lossy(&out.body).into_owned(),
            statuses,
            delivered,
        });
        seq += 1;
    }
}

/// POSTs until a 204 or the attempts run out; records each attempt's status.
async fn deliver(
    client: &HttpClient,
    url: &str,
    body: &[u8],
    admin_protocol: &str,
    retry: RetryPolicy,
    statuses: &mut Vec<Option<u16>>,
) -> bool {
    let headers = [
        ("Content-Type", "application/json".to_owned()),
        (ADMIN_PROTOCOL_HEADER, admin_protocol.to_owned()),
    ];
    let mut backoff = retry.initial_backoff;
    for attempt in 0..retry.attempts.max(1) {
        if attempt > 0 {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(retry.max_backoff);
        }
        let sent = tokio::time::timeout(
            retry.timeout,
            client.post(url, &headers, Bytes::copy_from_slice(body)),
        )
        .await;
        match sent {
            Ok(Ok(resp)) => {
                statuses.push(Some(resp.status));
                if resp.status == 204 {
                    return true;
                }
                tracing::info!(status = resp.status, attempt, "notification not accepted");
            }
            Ok(Err(e)) => {
                statuses.push(None);
                tracing::info!(error = %e, attempt, "notification not delivered");
            }
            Err(_) => {
                statuses.push(None);
                tracing::info!(attempt, "notification timed out");
            }
        }
    }
    false
}

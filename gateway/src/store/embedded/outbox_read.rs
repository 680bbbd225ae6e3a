//! The outbox as the API and the dispatcher read it (snapshots, no commit), and the
//! submissions of outbox commands to the writer. `Store` delegates here.

use super::RedbStore;
use super::apply::{backend, dec};
use super::outbox::*;
use super::webhook_cmds::{OutboxCommand, OutboxReply};
use super::writer::{Command, Reply};
use crate::store::*;
use ::redb::ReadTransaction;
use std::sync::Arc;

fn endpoint_in(txn: &ReadTransaction, id: &str) -> Result<Option<WebhookEndpoint>, StoreError> {
    let t = txn.open_table(WEBHOOK_ENDPOINTS).map_err(backend)?;
    t.get(id)
        .map_err(backend)?
        .map(|v| dec("webhook_endpoints", v.value()))
        .transpose()
}

fn event_in(
    txn: &ReadTransaction,
    tenant: &str,
    seq: u64,
) -> Result<Option<PublicEvent>, StoreError> {
    let t = txn.open_table(PUBLIC_EVENTS).map_err(backend)?;
    t.get((tenant, seq))
        .map_err(backend)?
        .map(|v| dec("public_events", v.value()))
        .transpose()
}

impl RedbStore {
    async fn outbox(&self, c: OutboxCommand) -> Result<OutboxReply, StoreError> {
        match self.submit(Command::Outbox(c)).await? {
            Reply::Outbox(r) => Ok(r),
            r => Err(super::unexpected(r)),
        }
    }

    async fn outbox_done(&self, c: OutboxCommand) -> Result<bool, StoreError> {
        match self.outbox(c).await? {
            OutboxReply::Done(b) => Ok(b),
            r => Err(StoreError::Backend(format!(
                "unexpected outbox reply {r:?}"
            ))),
        }
    }

    pub(super) fn read_public_events(
        &self,
        tenant: &str,
        after: u64,
        event_type: Option<EventType>,
        limit: usize,
    ) -> Result<Vec<PublicEvent>, StoreError> {
        self.read(|txn| {
            let first = after.saturating_add(1);
            let mut seqs = Vec::new();
            if let Some(t) = event_type {
                let idx = txn.open_table(PUBLIC_EVENTS_BY_TYPE).map_err(backend)?;
                let range = (tenant, t.as_str(), first)..=(tenant, t.as_str(), u64::MAX);
                for row in idx.range(range).map_err(backend)?.take(limit) {
                    seqs.push(row.map_err(backend)?.0.value().2);
                }
            } else {
                let t = txn.open_table(PUBLIC_EVENTS).map_err(backend)?;
                let mut out = Vec::new();
                for row in t
                    .range((tenant, first)..=(tenant, u64::MAX))
                    .map_err(backend)?
                    .take(limit)
                {
                    out.push(dec("public_events", row.map_err(backend)?.1.value())?);
                }
                return Ok(out);
            }
            let mut out = Vec::with_capacity(seqs.len());
            for s in seqs {
                out.extend(event_in(txn, tenant, s)?);
            }
            Ok(out)
        })
    }

    pub(super) fn read_public_event(
        &self,
        tenant: &str,
        seq: u64,
    ) -> Result<Option<PublicEvent>, StoreError> {
        self.read(|txn| event_in(txn, tenant, seq))
    }

    pub(super) fn read_webhook_endpoints(
        &self,
        tenant: &str,
    ) -> Result<Vec<WebhookEndpoint>, StoreError> {
        self.read(|txn| {
            let routes = txn.open_table(WEBHOOK_ROUTES).map_err(backend)?;
            let mut out = Vec::new();
            for row in routes
                .range((tenant, "")..=(tenant, MAX_STR))
                .map_err(backend)?
            {
                let (k, _) = row.map_err(backend)?;
                out.extend(endpoint_in(txn, k.value().1)?);
            }
            Ok(out)
        })
    }

    pub(super) fn read_webhook_endpoint(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        self.read(|txn| Ok(endpoint_in(txn, id)?.filter(|e| e.tenant == tenant)))
    }

    pub(super) fn read_webhook_deliveries(
        &self,
        tenant: &str,
        endpoint: &str,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Option<Vec<Delivery>>, StoreError> {
        self.read(|txn| {
            if endpoint_in(txn, endpoint)?.is_none_or(|e| e.tenant != tenant) {
                return Ok(None);
            }
            let t = txn.open_table(WEBHOOK_DELIVERIES).map_err(backend)?;
            let end = before.unwrap_or(u64::MAX);
            let mut out = Vec::new();
            for row in t
                .range((endpoint, 0)..(endpoint, end))
                .map_err(backend)?
                .rev()
                .take(limit)
            {
                out.push(dec("webhook_deliveries", row.map_err(backend)?.1.value())?);
            }
            Ok(Some(out))
        })
    }

    pub(super) fn read_due_deliveries(
        &self,
        now_ms: u64,
        limit: usize,
    ) -> Result<Vec<DeliveryKey>, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(WEBHOOK_DUE).map_err(backend)?;
            let mut out = Vec::new();
            for row in t
                .range((0, "", 0)..=(now_ms, MAX_STR, u64::MAX))
                .map_err(backend)?
                .take(limit)
            {
                let (k, _) = row.map_err(backend)?;
                let (_, endpoint, event_seq) = k.value();
                out.push(DeliveryKey {
                    endpoint: endpoint.to_owned(),
                    event_seq,
                });
            }
            Ok(out)
        })
    }

    pub(super) fn read_next_delivery_due(&self, after_ms: u64) -> Result<Option<u64>, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(WEBHOOK_DUE).map_err(backend)?;
            let Some(first) = after_ms.checked_add(1) else {
                return Ok(None);
            };
            Ok(t.range((first, "", 0)..)
                .map_err(backend)?
                .next()
                .transpose()
                .map_err(backend)?
                .map(|(k, _)| k.value().0))
        })
    }

    pub(super) fn read_delivery_job(
        &self,
        key: &DeliveryKey,
    ) -> Result<Option<DeliveryJob>, StoreError> {
        Ok(self
            .read_delivery_jobs(std::slice::from_ref(key))?
            .pop()
            .flatten())
    }

    /// Several deliveries' jobs from one snapshot; an endpoint is decoded once.
    pub(super) fn read_delivery_jobs(
        &self,
        keys: &[DeliveryKey],
    ) -> Result<Vec<Option<DeliveryJob>>, StoreError> {
        self.read(|txn| {
            let deliveries = txn.open_table(WEBHOOK_DELIVERIES).map_err(backend)?;
            let endpoints = txn.open_table(WEBHOOK_ENDPOINTS).map_err(backend)?;
            let events = txn.open_table(PUBLIC_EVENTS).map_err(backend)?;
            let mut seen: Vec<Arc<WebhookEndpoint>> = Vec::new();
            let mut jobs = Vec::with_capacity(keys.len());
            for key in keys {
                let Some(delivery) = deliveries
                    .get((key.endpoint.as_str(), key.event_seq))
                    .map_err(backend)?
                    .map(|v| dec::<Delivery>("webhook_deliveries", v.value()))
                    .transpose()?
                else {
                    jobs.push(None);
                    continue;
                };
                let endpoint = match seen.iter().find(|e| e.id == key.endpoint) {
                    Some(e) => e.clone(),
                    None => match endpoints.get(key.endpoint.as_str()).map_err(backend)? {
                        Some(v) => {
                            let e: Arc<WebhookEndpoint> =
                                Arc::new(dec("webhook_endpoints", v.value())?);
                            seen.push(e.clone());
                            e
                        }
                        None => {
                            jobs.push(None);
                            continue;
                        }
                    },
                };
                let event = events
                    .get((endpoint.tenant.as_str(), key.event_seq))
                    .map_err(backend)?
                    .map(|v| {
                        WireEvent::from_stored(v.value()).map_err(|e| StoreError::Corrupt {
                            table: "public_events",
                            message: e.to_string(),
                        })
                    })
                    .transpose()?;
                jobs.push(event.map(|event| DeliveryJob {
                    delivery,
                    event,
                    endpoint,
                }));
            }
            Ok(jobs)
        })
    }

    pub(super) async fn submit_create_endpoint(
        &self,
        e: WebhookEndpoint,
    ) -> Result<bool, StoreError> {
        self.outbox_done(OutboxCommand::Create(Box::new(e))).await
    }

    pub(super) async fn submit_delete_endpoint(
        &self,
        tenant: String,
        id: String,
        now_ms: u64,
    ) -> Result<bool, StoreError> {
        self.outbox_done(OutboxCommand::Delete { tenant, id, now_ms })
            .await
    }

    pub(super) async fn submit_rotate(
        &self,
        tenant: String,
        id: String,
        secret: EndpointSecret,
        old_expire_at_ms: u64,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        self.outbox_endpoint(OutboxCommand::Rotate {
            tenant,
            id,
            secret,
            old_expire_at_ms,
        })
        .await
    }

    pub(super) async fn submit_enable(
        &self,
        tenant: String,
        id: String,
        now_ms: u64,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        self.outbox_endpoint(OutboxCommand::Enable { tenant, id, now_ms })
            .await
    }

    /// A command that answers the endpoint after it.
    async fn outbox_endpoint(
        &self,
        c: OutboxCommand,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        match self.outbox(c).await? {
            OutboxReply::Endpoint(e) => Ok(e.map(|e| *e)),
            r => Err(StoreError::Backend(format!(
                "unexpected outbox reply {r:?}"
            ))),
        }
    }

    /// One writer command for all the outcomes (all recorded or none); if it fails,
    /// each outcome alone, so one bad row fails only its own.
    pub(super) async fn submit_attempts(
        &self,
        all: Vec<AttemptOutcome>,
    ) -> Vec<Result<bool, StoreError>> {
        if all.is_empty() {
            return Vec::new();
        }
        let all = Arc::new(all);
        let err = match self.attempts_command(all.clone()).await {
            Ok(done) => return done.into_iter().map(Ok).collect(),
            Err(e) => e,
        };
        if all.len() == 1 {
            return vec![Err(err)];
        }
        let mut out = Vec::with_capacity(all.len());
        for a in all.iter() {
            // `attempts_command` answers one `bool` per outcome: here exactly one.
            let one = Arc::new(vec![a.clone()]);
            out.push(self.attempts_command(one).await.map(|done| done[0]));
        }
        out
    }

    /// The writer's answer to `OutboxCommand::Attempts`: one `bool` per outcome.
    async fn attempts_command(
        &self,
        all: Arc<Vec<AttemptOutcome>>,
    ) -> Result<Vec<bool>, StoreError> {
        let n = all.len();
        match self.outbox(OutboxCommand::Attempts(all)).await? {
            OutboxReply::Recorded(done) if done.len() == n => Ok(done),
            r => Err(StoreError::Backend(format!(
                "unexpected outbox reply {r:?}"
            ))),
        }
    }

    pub(super) async fn submit_redeliver(
        &self,
        tenant: String,
        event_seq: u64,
        now_ms: u64,
    ) -> Result<Redelivery, StoreError> {
        let c = OutboxCommand::Redeliver {
            tenant,
            event_seq,
            now_ms,
        };
        match self.outbox(c).await? {
            OutboxReply::Redelivery(r) => Ok(r),
            r => Err(StoreError::Backend(format!(
                "unexpected outbox reply {r:?}"
            ))),
        }
    }

    pub(super) async fn submit_threshold(&self, t: Option<u64>) -> Result<(), StoreError> {
        self.outbox_done(OutboxCommand::Configure(t))
            .await
            .map(drop)
    }
}

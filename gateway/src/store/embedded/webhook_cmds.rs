//! Webhook write commands inside the writer's transaction: endpoints (create, delete,
//! rotate a secret, enable again), the outcome of each delivery attempt, redelivery, and disabling an
//! endpoint whose retry schedule ran out. Every refusal is decided before the first write.

use super::apply::{Tables, TxResult, backend};
use super::outbox::MAX_STR;
use crate::store::*;
use ::redb::ReadableTable;
use serde_json::json;

/// Outbox write commands (one `writer::Command` variant).
pub enum OutboxCommand {
    /// See `Store::create_webhook_endpoint`.
    Create(Box<WebhookEndpoint>),
    /// See `Store::delete_webhook_endpoint`.
    Delete {
        /// Owner.
        tenant: String,
        /// Endpoint id.
        id: String,
        /// Unix ms now.
        now_ms: u64,
    },
    /// See `Store::rotate_webhook_secret`.
    Rotate {
        /// Owner.
        tenant: String,
        /// Endpoint id.
        id: String,
        /// The new secret.
        secret: EndpointSecret,
        /// When the current secrets stop signing.
        old_expire_at_ms: u64,
    },
    /// See `Store::enable_webhook_endpoint`.
    Enable {
        /// Owner.
        tenant: String,
        /// Endpoint id.
        id: String,
        /// Unix ms now.
        now_ms: u64,
    },
    /// See `Store::record_delivery_attempts`: each outcome in order (shared, so that the
    /// caller keeps them for a one-by-one retry without copying them for every batch).
    Attempts(std::sync::Arc<Vec<AttemptOutcome>>),
    /// See `Store::redeliver`.
    Redeliver {
        /// Owner.
        tenant: String,
        /// The event's tenant sequence number.
        event_seq: u64,
        /// Unix ms now.
        now_ms: u64,
    },
    /// See `Store::set_low_stock_threshold`.
    Configure(Option<u64>),
}

/// Answers of [`OutboxCommand`]s.
#[derive(Debug)]
pub enum OutboxReply {
    /// Whether the command changed something (created, deleted, recorded).
    Done(bool),
    /// The endpoint after the change, if it exists for the tenant.
    Endpoint(Option<Box<WebhookEndpoint>>),
    /// A redelivery's result.
    Redelivery(Redelivery),
    /// Per outcome: whether it was recorded (its delivery was still pending).
    Recorded(Vec<bool>),
}

impl Tables<'_> {
    /// Applies an outbox command.
    pub fn outbox_command(&mut self, c: &OutboxCommand) -> TxResult<OutboxReply> {
        match c {
            OutboxCommand::Create(e) => self.create_endpoint(e).map(OutboxReply::Done),
            OutboxCommand::Delete { tenant, id, now_ms } => self
                .delete_endpoint(tenant, id, *now_ms)
                .map(OutboxReply::Done),
            OutboxCommand::Rotate {
                tenant,
                id,
                secret,
                old_expire_at_ms,
            } => self
                .rotate_secret(tenant, id, secret, *old_expire_at_ms)
                .map(|e| OutboxReply::Endpoint(e.map(Box::new))),
            OutboxCommand::Enable { tenant, id, now_ms } => self
                .enable_endpoint(tenant, id, *now_ms)
                .map(|e| OutboxReply::Endpoint(e.map(Box::new))),
            OutboxCommand::Attempts(all) => all
                .iter()
                .map(|a| self.record_attempt(a))
                .collect::<TxResult<Vec<bool>>>()
                .map(OutboxReply::Recorded),
            OutboxCommand::Redeliver {
                tenant,
                event_seq,
                now_ms,
            } => self
                .redeliver(tenant, *event_seq, *now_ms)
                .map(OutboxReply::Redelivery),
            OutboxCommand::Configure(t) => self
                .set_low_stock_threshold(*t)
                .map(|()| OutboxReply::Done(true)),
        }
    }

    /// Creates an endpoint unless the tenant has the most it may have (`false`).
    fn create_endpoint(&mut self, e: &WebhookEndpoint) -> TxResult<bool> {
        if self.outbox.routes_of(&e.tenant)?.len() >= MAX_ENDPOINTS_PER_TENANT {
            return Ok(false);
        }
        self.outbox.put_endpoint(e)?;
        self.log_admin(
            e.created_at_ms,
            &e.tenant,
            format!("webhook_endpoint_created {}", e.id),
        )?;
        Ok(true)
    }

    /// Deletes an endpoint of the tenant and everything queued for it.
    fn delete_endpoint(&mut self, tenant: &str, id: &str, now_ms: u64) -> TxResult<bool> {
        if self.outbox.endpoint_of(tenant, id)?.is_none() {
            return Ok(false);
        }
        self.outbox.endpoints.remove(id).map_err(backend)?;
        self.outbox.remove_route(tenant, id)?;
        for (seq, queue) in self.pending_of(id)? {
            self.outbox
                .queues
                .remove((id, queue.as_str(), seq))
                .map_err(backend)?;
            if let Some(d) = self.outbox.delivery(id, seq)? {
                if let Some(at) = d.next_attempt_at_ms {
                    self.outbox.due.remove((at, id, seq)).map_err(backend)?;
                }
            }
        }
        self.outbox
            .deliveries
            .retain_in((id, 0)..=(id, u64::MAX), |_, _| false)
            .map_err(backend)?;
        self.log_admin(now_ms, tenant, format!("webhook_endpoint_deleted {id}"))?;
        Ok(true)
    }

    /// `(tenant seq, queue)` of every pending delivery of an endpoint.
    fn pending_of(&self, endpoint: &str) -> TxResult<Vec<(u64, String)>> {
        let mut out = Vec::new();
        for row in self
            .outbox
            .queues
            .range((endpoint, "", 0)..=(endpoint, MAX_STR, u64::MAX))
            .map_err(backend)?
        {
            let (k, _) = row.map_err(backend)?;
            let (_, queue, seq) = k.value();
            out.push((seq, queue.to_owned()));
        }
        Ok(out)
    }

    /// Adds a signing secret; the current ones sign on until `old_expire_at_ms`, and
    /// secrets already past their expiry are dropped.
    fn rotate_secret(
        &mut self,
        tenant: &str,
        id: &str,
        secret: &EndpointSecret,
        old_expire_at_ms: u64,
    ) -> TxResult<Option<WebhookEndpoint>> {
        let Some(mut e) = self.outbox.endpoint_of(tenant, id)? else {
            return Ok(None);
        };
        let now = secret.created_at_ms;
        e.secrets
            .retain(|s| s.expires_at_ms.is_none_or(|at| at > now));
        for s in &mut e.secrets {
            s.expires_at_ms = Some(s.expires_at_ms.unwrap_or(u64::MAX).min(old_expire_at_ms));
        }
        e.secrets.push(secret.clone());
        self.outbox.put_endpoint(&e)?;
        self.log_admin(now, tenant, format!("webhook_secret_rotated {id}"))?;
        Ok(Some(e))
    }

    /// Clears an endpoint's `disabled` (a no-op when it is enabled).
    fn enable_endpoint(
        &mut self,
        tenant: &str,
        id: &str,
        now_ms: u64,
    ) -> TxResult<Option<WebhookEndpoint>> {
        let Some(mut e) = self.outbox.endpoint_of(tenant, id)? else {
            return Ok(None);
        };
        if e.disabled.take().is_some() {
            self.outbox.put_endpoint(&e)?;
            self.log_admin(now_ms, tenant, format!("webhook_endpoint_enabled {id}"))?;
        }
        Ok(Some(e))
    }

    /// Records an attempt: delivered (the queue's next event becomes due), failed with a
    /// retry time, or failed for good (the endpoint is disabled). `false` if the delivery
    /// is no longer pending (its endpoint was deleted meanwhile).
    fn record_attempt(&mut self, a: &AttemptOutcome) -> TxResult<bool> {
        let ep = a.key.endpoint.as_str();
        let Some(mut d) = self.outbox.delivery(ep, a.key.event_seq)? else {
            return Ok(false);
        };
        if d.status != DeliveryStatus::Pending {
            return Ok(false);
        }
        if d.log.len() >= MAX_ATTEMPT_RECORDS {
            d.log.remove(0);
        }
        d.log.push(a.record.clone());
        d.attempts += 1;
        d.schedule_attempts += 1;
        d.updated_at_ms = a.now_ms;
        match (a.delivered, a.retry_at_ms) {
            (false, Some(at)) => {
                if let Some(old) = d.next_attempt_at_ms {
                    self.outbox
                        .due
                        .remove((old, ep, d.event_seq))
                        .map_err(backend)?;
                }
                d.next_attempt_at_ms = Some(at);
                self.outbox
                    .due
                    .insert((at, ep, d.event_seq), ())
                    .map_err(backend)?;
                self.outbox.put_delivery(&d)?;
            }
            (delivered, _) => {
                self.outbox.dequeue(&d, a.now_ms)?;
                d.status = if delivered {
                    DeliveryStatus::Delivered
                } else {
                    DeliveryStatus::Failed
                };
                d.next_attempt_at_ms = None;
                self.outbox.put_delivery(&d)?;
                if !delivered {
                    let reason = format!(
                        "event {} could not be delivered after {} attempts ({})",
                        d.event_id,
                        d.schedule_attempts,
                        a.record.error.as_deref().unwrap_or("no 2xx answer")
                    );
                    self.disable_endpoint(ep, &reason, a.now_ms)?;
                }
            }
        }
        Ok(true)
    }

    /// Disables an endpoint: its pending deliveries are given up (the events stay in the
    /// log for `GET /v1/events` and redelivery), and `endpoint.disabled` is published.
    pub fn disable_endpoint(&mut self, id: &str, reason: &str, now_ms: u64) -> TxResult<()> {
        let Some(mut e) = self.outbox.endpoint(id)? else {
            return Ok(());
        };
        if e.disabled.is_some() {
            return Ok(());
        }
        e.disabled = Some(Disabled {
            reason: reason.to_owned(),
            at_ms: now_ms,
        });
        self.outbox.put_endpoint(&e)?;
        for (seq, queue) in self.pending_of(id)? {
            self.outbox
                .queues
                .remove((id, queue.as_str(), seq))
                .map_err(backend)?;
            if let Some(mut d) = self.outbox.delivery(id, seq)? {
                if let Some(at) = d.next_attempt_at_ms.take() {
                    self.outbox.due.remove((at, id, seq)).map_err(backend)?;
                }
                d.status = DeliveryStatus::Failed;
                d.updated_at_ms = now_ms;
                self.outbox.put_delivery(&d)?;
            }
        }
        let data = json!({
            "id": e.id,
            "object": "webhook_endpoint",
            "url": e.url,
            "reason": reason,
            "disabled_at": crate::clock::rfc3339(now_ms),
        });
        self.publish(
            now_ms,
            &e.tenant,
            EventType::EndpointDisabled,
            Some(&e.id),
            data,
        )
    }

    /// Queues an event again for every enabled endpoint of the tenant that takes its type
    /// (one already pending stays as it is). The retry schedule starts over.
    fn redeliver(&mut self, tenant: &str, seq: u64, now_ms: u64) -> TxResult<Redelivery> {
        let event: PublicEvent = match self.outbox.events.get((tenant, seq)).map_err(backend)? {
            Some(v) => super::apply::dec("public_events", v.value())?,
            None => return Ok(Redelivery::NoEvent),
        };
        let mut queued = Vec::new();
        for (endpoint, route) in self.outbox.routes_of(tenant)?.iter() {
            if !route.enabled
                || !(route.types.is_empty() || route.types.contains(&event.event_type))
            {
                continue;
            }
            let endpoint = endpoint.clone();
            let existing = self.outbox.delivery(&endpoint, seq)?;
            if existing
                .as_ref()
                .is_some_and(|d| d.status == DeliveryStatus::Pending)
            {
                queued.push(endpoint);
                continue;
            }
            let d = match existing {
                Some(mut d) => {
                    d.schedule_attempts = 0;
                    d.updated_at_ms = now_ms;
                    d
                }
                None => Delivery {
                    endpoint: endpoint.clone(),
                    event_seq: seq,
                    event_id: event.id.clone(),
                    event_type: event.event_type,
                    queue: event.subject.clone().unwrap_or_else(|| event.id.clone()),
                    status: DeliveryStatus::Pending,
                    attempts: 0,
                    schedule_attempts: 0,
                    next_attempt_at_ms: None,
                    log: Vec::new(),
                    created_at_ms: now_ms,
                    updated_at_ms: now_ms,
                },
            };
            self.outbox.enqueue(d, now_ms)?;
            queued.push(endpoint);
        }
        Ok(if queued.is_empty() {
            Redelivery::NoEndpoint
        } else {
            Redelivery::Queued(queued)
        })
    }
}

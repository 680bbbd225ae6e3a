//! Webhook endpoints (embedded `webhook_cmds.rs` and `outbox_read.rs`): create (at most
//! `MAX_ENDPOINTS_PER_TENANT` per tenant), list, read, delete with everything queued for
//! the endpoint, and secret rotation. Each write is one transaction and logs an audit
//! event as the embedded backend does; every refusal is decided before the first write.

use super::PgStore;
use super::codec::{from_doc, to_doc};
use super::events::log_event;
use super::retry::{Tx, TxResult, db_error};
use crate::store::*;

/// The endpoint `id`, whoever owns it.
pub async fn endpoint_in(tx: &Tx<'_>, id: &str) -> TxResult<Option<WebhookEndpoint>> {
    match tx
        .row("SELECT doc FROM webhook_endpoints WHERE id = $1", &[&id])
        .await?
    {
        Some(r) => Ok(Some(from_doc("webhook_endpoints", r.get(0))?)),
        None => Ok(None),
    }
}

/// The endpoint `id` if `tenant` owns it.
async fn endpoint_of(tx: &Tx<'_>, tenant: &str, id: &str) -> TxResult<Option<WebhookEndpoint>> {
    Ok(endpoint_in(tx, id).await?.filter(|e| e.tenant == tenant))
}

/// Writes an endpoint (insert or replace; the sequencer reads `doc` to route events).
pub async fn put_endpoint(tx: &Tx<'_>, e: &WebhookEndpoint) -> TxResult<()> {
    tx.exec(
        "INSERT INTO webhook_endpoints (id, tenant, doc) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET tenant = excluded.tenant, doc = excluded.doc",
        &[&e.id, &e.tenant, &to_doc(e)?],
    )
    .await?;
    Ok(())
}

/// The tenant's endpoints in id order (the embedded routes' order).
pub async fn endpoints_of(tx: &Tx<'_>, tenant: &str) -> TxResult<Vec<WebhookEndpoint>> {
    tx.rows(
        "SELECT doc FROM webhook_endpoints WHERE tenant = $1 ORDER BY id",
        &[&tenant],
    )
    .await?
    .into_iter()
    .map(|r| from_doc("webhook_endpoints", r.get(0)).map_err(Into::into))
    .collect()
}

async fn create(tx: &Tx<'_>, e: &WebhookEndpoint) -> TxResult<bool> {
    let n: i64 = tx
        .row(
            "SELECT COUNT(*) FROM webhook_endpoints WHERE tenant = $1",
            &[&e.tenant],
        )
        .await?
        .map_or(0, |r| r.get(0));
    if usize::try_from(n).unwrap_or(usize::MAX) >= MAX_ENDPOINTS_PER_TENANT {
        return Ok(false);
    }
    put_endpoint(tx, e).await?;
    let what = format!("webhook_endpoint_created {}", e.id);
    log_event(
        tx,
        e.created_at_ms,
        &e.tenant,
        None,
        EventKind::Admin { what },
    )
    .await?;
    Ok(true)
}

async fn delete(tx: &Tx<'_>, tenant: &str, id: &str, now_ms: u64) -> TxResult<bool> {
    if endpoint_of(tx, tenant, id).await?.is_none() {
        return Ok(false);
    }
    tx.exec("DELETE FROM webhook_endpoints WHERE id = $1", &[&id])
        .await?;
    tx.exec("DELETE FROM webhook_deliveries WHERE endpoint = $1", &[&id])
        .await?;
    let what = format!("webhook_endpoint_deleted {id}");
    log_event(tx, now_ms, tenant, None, EventKind::Admin { what }).await?;
    Ok(true)
}

async fn rotate(
    tx: &Tx<'_>,
    tenant: &str,
    id: &str,
    secret: &EndpointSecret,
    old_expire_at_ms: u64,
) -> TxResult<Option<WebhookEndpoint>> {
    let Some(mut e) = endpoint_of(tx, tenant, id).await? else {
        return Ok(None);
    };
    let now = secret.created_at_ms;
    e.secrets
        .retain(|s| s.expires_at_ms.is_none_or(|at| at > now));
    for s in &mut e.secrets {
        s.expires_at_ms = Some(s.expires_at_ms.unwrap_or(u64::MAX).min(old_expire_at_ms));
    }
    e.secrets.push(secret.clone());
    put_endpoint(tx, &e).await?;
    let what = format!("webhook_secret_rotated {id}");
    log_event(tx, now, tenant, None, EventKind::Admin { what }).await?;
    Ok(Some(e))
}

async fn enable(
    tx: &Tx<'_>,
    tenant: &str,
    id: &str,
    now_ms: u64,
) -> TxResult<Option<WebhookEndpoint>> {
    let Some(mut e) = endpoint_of(tx, tenant, id).await? else {
        return Ok(None);
    };
    if e.disabled.take().is_some() {
        put_endpoint(tx, &e).await?;
        let what = format!("webhook_endpoint_enabled {id}");
        log_event(tx, now_ms, tenant, None, EventKind::Admin { what }).await?;
    }
    Ok(Some(e))
}

impl PgStore {
    /// Creates a webhook endpoint; `false` (nothing changed) if the tenant already has
    /// `MAX_ENDPOINTS_PER_TENANT`. Two concurrent creates cannot both pass the count: the
    /// transaction is SERIALIZABLE, so one of them runs again and sees the other.
    pub async fn create_webhook_endpoint(
        &self,
        endpoint: WebhookEndpoint,
    ) -> Result<bool, StoreError> {
        self.transaction(&endpoint, |tx, e| Box::pin(create(tx, e)))
            .await
    }

    /// The tenant's webhook endpoints, in id order.
    pub async fn webhook_endpoints(
        &self,
        tenant: &str,
    ) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let c = self.client().await?;
        let st = c
            .prepare_cached("SELECT doc FROM webhook_endpoints WHERE tenant = $1 ORDER BY id")
            .await
            .map_err(|e| db_error(&e))?;
        c.query(&st, &[&tenant])
            .await
            .map_err(|e| db_error(&e))?
            .into_iter()
            .map(|r| from_doc("webhook_endpoints", r.get(0)))
            .collect()
    }

    /// One webhook endpoint of the tenant.
    pub async fn webhook_endpoint(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        let c = self.client().await?;
        let st = c
            .prepare_cached("SELECT doc FROM webhook_endpoints WHERE id = $1 AND tenant = $2")
            .await
            .map_err(|e| db_error(&e))?;
        c.query_opt(&st, &[&id, &tenant])
            .await
            .map_err(|e| db_error(&e))?
            .map(|r| from_doc("webhook_endpoints", r.get(0)))
            .transpose()
    }

    /// Deletes an endpoint of the tenant and all its deliveries; `false` if there is none.
    pub async fn delete_webhook_endpoint(
        &self,
        tenant: &str,
        id: &str,
        now_ms: u64,
    ) -> Result<bool, StoreError> {
        self.transaction(&(tenant, id, now_ms), |tx, (tenant, id, now)| {
            Box::pin(delete(tx, tenant, id, *now))
        })
        .await
    }

    /// Adds a signing secret; the endpoint's current secrets sign beside it until
    /// `old_expire_at_ms`, and those already expired are dropped. The endpoint after the
    /// change, `None` if the tenant has no such endpoint.
    pub async fn rotate_webhook_secret(
        &self,
        tenant: &str,
        id: &str,
        secret: EndpointSecret,
        old_expire_at_ms: u64,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        self.transaction(
            &(tenant, id, secret, old_expire_at_ms),
            |tx, (tenant, id, secret, old)| Box::pin(rotate(tx, tenant, id, secret, *old)),
        )
        .await
    }

    /// Enables an endpoint of the tenant again (see `Store::enable_webhook_endpoint`).
    pub async fn enable_webhook_endpoint(
        &self,
        tenant: &str,
        id: &str,
        now_ms: u64,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        self.transaction(&(tenant, id, now_ms), |tx, (tenant, id, now)| {
            Box::pin(enable(tx, tenant, id, *now))
        })
        .await
    }
}

//! The `PortingStore` part of the store port on redb (see `ports.rs`).

use super::ports::{PortCommand, PortReply};
use super::*;
use adapters::hlr::BoxFuture;

fn unexpected_port(r: PortReply) -> StoreError {
    StoreError::Backend(format!("unexpected porting reply {r:?}"))
}

impl PortingStore for RedbStore {
    fn receive_port_items(
        &self,
        items: Vec<(PortInboxItem, OnArrival)>,
    ) -> BoxFuture<'_, Result<Vec<PortReceived>, StoreError>> {
        Box::pin(async move {
            let rows = items
                .iter()
                .map(|(item, _)| item.unapplied_row().map_err(backend))
                .collect::<Result<_, _>>()?;
            match self.submit_port(PortCommand::Receive(items, rows)).await? {
                PortReply::Received(r) => Ok(r),
                r => Err(unexpected_port(r)),
            }
        })
    }

    fn pending_port_items<'a>(
        &'a self,
        order_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<PortInboxItem>, StoreError>> {
        Box::pin(async move { self.read_pending_port_items(order_id) })
    }

    fn apply_port_items(
        &self,
        order: Order,
        keys: Vec<String>,
        effect: Effect,
        event: EventKind,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(async move {
            let cmd = PortCommand::Apply(Box::new(order), keys, effect, event);
            match self.submit_port(cmd).await? {
                PortReply::Done(parked) => Ok(parked),
                r => Err(unexpected_port(r)),
            }
        })
    }

    fn park_port(&self, order: Order) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(async move {
            match self.submit_port(PortCommand::Park(Box::new(order))).await? {
                PortReply::Done(parked) => Ok(parked),
                r => Err(unexpected_port(r)),
            }
        })
    }

    fn issue_port_out_credential(
        &self,
        c: CredentialIssue,
    ) -> BoxFuture<'_, Result<Option<Subscription>, StoreError>> {
        Box::pin(async move {
            match self
                .submit_port(PortCommand::IssueCredential(Box::new(c)))
                .await?
            {
                PortReply::Line(sub) => Ok(sub.map(|s| *s)),
                r => Err(unexpected_port(r)),
            }
        })
    }

    fn next_port_deadline(&self) -> BoxFuture<'_, Result<Option<u64>, StoreError>> {
        Box::pin(async move { self.read_next_port_deadline() })
    }

    fn wake_due_ports(
        &self,
        now_ms: u64,
        wake: Reopen,
    ) -> BoxFuture<'_, Result<Vec<Order>, StoreError>> {
        Box::pin(async move {
            match self.submit_port(PortCommand::WakeDue(now_ms, wake)).await? {
                PortReply::Woken(o) => Ok(o),
                r => Err(unexpected_port(r)),
            }
        })
    }

    fn open_ports<'a>(
        &'a self,
        tenant: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<Order>, StoreError>> {
        Box::pin(async move { self.read_open_ports(tenant, limit) })
    }
}

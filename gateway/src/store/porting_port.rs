//! The porting part of the store port (issue 12). A port-in is an activation order with
//! a port part (`Order::port`). While it waits for the hub it is *parked*: out of flight,
//! on one port-deadline index, costing nothing. Hub messages and channels' cancels enter
//! a durable inbox (deduplicated by key; a hub delivery's messages in one commit). The
//! engine applies those waiting for an order in flight in arrival order, all in one
//! commit that may also park or end the port; one that arrives while its order is
//! parked is applied in the commit that records it, by the engine's pure step passed in
//! (`OnArrival`).

use super::*;
use crate::order::{Effect, Order};
use adapters::hlr::BoxFuture;

/// Input of [`PortingStore::issue_port_out_credential`].
#[derive(Clone, Debug)]
pub struct CredentialIssue {
    /// The tenant of the API key.
    pub tenant: String,
    /// The line's number.
    pub msisdn: sim_profiles::Msisdn,
    /// What is stored (a keyed MAC, never the credential).
    pub issued: IssuedCredential,
    /// The event's data (no secret).
    pub data: serde_json::Value,
}

impl CredentialIssue {
    /// The line `sub` with the credential recorded, if it is the tenant's live line.
    pub fn apply(&self, sub: Option<Subscription>) -> Option<Subscription> {
        let mut sub =
            sub.filter(|s| s.tenant == self.tenant && s.state != SubscriptionState::Terminated)?;
        sub.port_out_credential = Some(self.issued.clone());
        sub.updated_at_ms = self.issued.issued_at_ms;
        Some(sub)
    }
}

/// What the porting engine needs of a backend.
pub trait PortingStore: Send + Sync {
    /// Records `item` durably (nothing if its key was seen before: `Duplicate`). If its
    /// order is parked, the same commit runs `arrival` on it: with [`OnArrival::Wake`]
    /// the order is back in flight (`Queued` with it, for the engine to drive); with
    /// [`OnArrival::Apply`] the item is recorded applied and the order written as the
    /// step gives it: `Settled` when parked again, `Ended` when the step ended the port
    /// (written with its outcome's effect and event: [`Arrived::Ended`]), else `Queued`
    /// with it.
    fn receive_port_item(
        &self,
        item: PortInboxItem,
        arrival: OnArrival,
    ) -> BoxFuture<'_, Result<PortReceived, StoreError>> {
        Box::pin(async move {
            let mut got = self.receive_port_items(vec![(item, arrival)]).await?;
            got.pop()
                .ok_or_else(|| StoreError::Backend("no answer for a received port item".into()))
        })
    }

    /// [`PortingStore::receive_port_item`] for each item in turn, all in one commit
    /// (a batch of hub messages): each sees the ones before it (a key twice is a
    /// `Duplicate` the second time; an order the first woke is in flight for the next).
    /// A parked order that consecutive items move along is written once, after the last
    /// of them, each item's event still in its history ([`Held`]). The answers are in
    /// the items' order. All of it is durable, or none.
    fn receive_port_items(
        &self,
        items: Vec<(PortInboxItem, OnArrival)>,
    ) -> BoxFuture<'_, Result<Vec<PortReceived>, StoreError>>;

    /// The order's items not applied yet, in arrival order.
    fn pending_port_items<'a>(
        &'a self,
        order_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<PortInboxItem>, StoreError>>;

    /// Persists `order` (as `Store::advance_order` with no inventory effect) and marks
    /// item `key` applied, in one commit.
    fn apply_port_item<'a>(
        &'a self,
        order: Order,
        key: &'a str,
        event: EventKind,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.apply_port_items(order, vec![key.to_owned()], Effect::None, event)
                .await
                .map(drop)
        })
    }

    /// Persists `order` (as `Store::advance_order` with `effect`: an order the items
    /// ended) and marks items `keys` applied, in one commit. An `order` that comes
    /// parked (the engine applied the items and the machine only has to wait) is parked
    /// by that commit, unless another item for it is waiting (it arrived after the
    /// engine read them): then the order is written in flight (`port.parked` cleared,
    /// nothing else) for the engine to apply that item too, and the answer is `false`.
    fn apply_port_items(
        &self,
        order: Order,
        keys: Vec<String>,
        effect: Effect,
        event: EventKind,
    ) -> BoxFuture<'_, Result<bool, StoreError>>;

    /// Parks `order` (its `port.parked` set): persists it out of flight on the deadline
    /// index, unless an item for it is waiting, in which case nothing is written and the
    /// answer is `false` (apply the items first).
    fn park_port(&self, order: Order) -> BoxFuture<'_, Result<bool, StoreError>>;

    /// The earliest deadline of a parked port (a read).
    fn next_port_deadline(&self) -> BoxFuture<'_, Result<Option<u64>, StoreError>>;

    /// Takes the parked ports whose deadline is at or before `now_ms` back into flight
    /// with `wake`, in one commit, and returns them.
    fn wake_due_ports(
        &self,
        now_ms: u64,
        wake: Reopen,
    ) -> BoxFuture<'_, Result<Vec<Order>, StoreError>>;

    /// Records `c.issued` on the tenant's live line of `c.msisdn` (replacing a credential
    /// issued before) and publishes `port_out.credential_issued` with `c.data`, in one
    /// commit. `None`: the tenant has no live line on that number; nothing changed.
    fn issue_port_out_credential(
        &self,
        c: CredentialIssue,
    ) -> BoxFuture<'_, Result<Option<Subscription>, StoreError>>;

    /// A tenant's open port-in orders, oldest first, at most `limit`.
    fn open_ports<'a>(
        &'a self,
        tenant: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<Order>, StoreError>>;
}

//! Port-in orders inside the writer's transaction (see `store/porting_port.rs`): the
//! durable inbox of port items, the parked ports' deadline index, and the open ports of
//! each tenant. `record_order` keeps the indexes in step with every order write
//! (`index_port`); a parked order is out of `orders_inflight`.

use super::apply::{Tables, TxResult, backend, dec, enc};
use super::writer::{Command, Reply};
use super::{RedbStore, unexpected};
use crate::order::{Effect, Order};
use crate::store::*;
use ::redb::{ReadableTable, Table, TableDefinition, WriteTransaction};
use std::sync::Arc;

/// (deadline ms, `u64::MAX` for none; order id) of every parked port order: the port
/// timer sleeps until the first entry.
const PORT_PARKED: TableDefinition<(u64, &str), ()> = TableDefinition::new("port_parked");
/// (tenant, order id) of every open port order (`GET /v1/ports`).
const PORTS_OPEN: TableDefinition<(&str, &str), ()> = TableDefinition::new("ports_open");
/// item key → `PortInboxItem`: every hub message and cancel received (dedupe); the one
/// porting table a dump carries (`dump.rs`), the others follow from it and the orders.
pub(super) const PORT_INBOX: TableDefinition<&str, &[u8]> = TableDefinition::new("port_inbox");
/// (order id, arrival ms, item key) of the items not applied yet, in arrival order.
const PORT_PENDING: TableDefinition<(&str, u64, &str), ()> = TableDefinition::new("port_pending");

/// Most parked ports one timer sweep wakes (the rest follow in the next sweep).
const WAKE_BATCH: usize = 500;
/// The last key of a string range.
const KEY_END: &str = "\u{10FFFF}";

/// The porting tables of one write transaction.
pub struct PortTables<'t> {
    parked: Table<'t, (u64, &'static str), ()>,
    open: Table<'t, (&'static str, &'static str), ()>,
    inbox: Table<'t, &'static str, &'static [u8]>,
    pending: Table<'t, (&'static str, u64, &'static str), ()>,
}

impl<'t> PortTables<'t> {
    /// Opens (creating if needed) the porting tables.
    pub fn open(txn: &'t WriteTransaction) -> TxResult<Self> {
        Ok(Self {
            parked: txn.open_table(PORT_PARKED).map_err(backend)?,
            open: txn.open_table(PORTS_OPEN).map_err(backend)?,
            inbox: txn.open_table(PORT_INBOX).map_err(backend)?,
            pending: txn.open_table(PORT_PENDING).map_err(backend)?,
        })
    }

    /// Creates the tables in a fresh database.
    pub fn create(txn: &WriteTransaction) -> TxResult<()> {
        PortTables::open(txn).map(drop)
    }

    fn has_pending(&self, order_id: &str) -> TxResult<bool> {
        self.has_pending_besides(order_id, &[])
    }

    /// Whether an item other than `keys` waits for the order.
    fn has_pending_besides(&self, order_id: &str, keys: &[String]) -> TxResult<bool> {
        for row in self
            .pending
            .range((order_id, 0u64, "")..=(order_id, u64::MAX, KEY_END))
            .map_err(backend)?
        {
            let (k, _) = row.map_err(backend)?;
            if !keys.iter().any(|key| key == k.value().2) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Commands of this file (see the `PortingStore` methods of the same names).
pub enum PortCommand {
    /// `PortingStore::receive_port_items`, with each item's stored row encoded as not
    /// applied (`PortInboxItem::unapplied_row`), so the writer does not encode them.
    Receive(Vec<(PortInboxItem, OnArrival)>, Vec<Vec<u8>>),
    /// `PortingStore::apply_port_items`.
    Apply(Box<Order>, Vec<String>, Effect, EventKind),
    /// `PortingStore::park_port`.
    Park(Box<Order>),
    /// `PortingStore::wake_due_ports`.
    WakeDue(u64, Reopen),
    /// `PortingStore::issue_port_out_credential`.
    IssueCredential(Box<CredentialIssue>),
}

/// Answers of [`PortCommand`]s.
#[derive(Debug)]
pub enum PortReply {
    /// What receiving did, item by item.
    Received(Vec<PortReceived>),
    /// Applied or parked (`false`: items wait; a park wrote nothing, an apply wrote the
    /// order in flight).
    Done(bool),
    /// The ports a sweep took back into flight.
    Woken(Vec<Order>),
    /// The line a credential was recorded on.
    Line(Option<Box<Subscription>>),
}

impl RedbStore {
    /// Runs a porting command in the writer.
    pub(super) async fn submit_port(&self, cmd: PortCommand) -> Result<PortReply, StoreError> {
        match self.submit(Command::Port(cmd)).await? {
            Reply::Port(r) => Ok(r),
            r => Err(unexpected(r)),
        }
    }

    /// See `PortingStore::pending_port_items`.
    pub(super) fn read_pending_port_items(
        &self,
        order_id: &str,
    ) -> Result<Vec<PortInboxItem>, StoreError> {
        self.read(|txn| {
            let pending = txn.open_table(PORT_PENDING).map_err(backend)?;
            let inbox = txn.open_table(PORT_INBOX).map_err(backend)?;
            let mut out = Vec::new();
            for row in pending
                .range((order_id, 0u64, "")..=(order_id, u64::MAX, KEY_END))
                .map_err(backend)?
            {
                let (k, _) = row.map_err(backend)?;
                let key = k.value().2;
                if let Some(v) = inbox.get(key).map_err(backend)? {
                    out.push(dec("port_inbox", v.value())?);
                }
            }
            Ok(out)
        })
    }

    /// See `PortingStore::next_port_deadline`.
    pub(super) fn read_next_port_deadline(&self) -> Result<Option<u64>, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(PORT_PARKED).map_err(backend)?;
            Ok(t.first()
                .map_err(backend)?
                .map(|(k, _)| k.value().0)
                .filter(|d| *d != u64::MAX))
        })
    }

    /// See `PortingStore::open_ports`.
    pub(super) fn read_open_ports(
        &self,
        tenant: &str,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        self.read(|txn| {
            let open = txn.open_table(PORTS_OPEN).map_err(backend)?;
            let orders = txn.open_table(super::tables::ORDERS).map_err(backend)?;
            let mut out = Vec::new();
            for row in open
                .range((tenant, "")..=(tenant, KEY_END))
                .map_err(backend)?
                .take(limit)
            {
                let (k, _) = row.map_err(backend)?;
                if let Some(v) = orders.get(k.value().1).map_err(backend)? {
                    out.push(dec::<Order>("orders", v.value())?);
                }
            }
            out.sort_by(|a, b| (a.created_at_ms, &a.id).cmp(&(b.created_at_ms, &b.id)));
            Ok(out)
        })
    }
}

impl Tables<'_> {
    /// A porting command.
    pub(super) fn port_command(&mut self, cmd: &PortCommand) -> TxResult<PortReply> {
        Ok(match cmd {
            PortCommand::Receive(items, rows) => {
                PortReply::Received(self.receive_port_items(items, rows)?)
            }
            PortCommand::Apply(order, keys, effect, event) => {
                let waiting = order.port_parked().is_some()
                    && self.ports.has_pending_besides(&order.id, keys)?;
                // The order first: a stale version is refused before anything is written.
                if waiting {
                    self.advance_order(&unparked(order), effect, event)?;
                } else {
                    self.advance_order(order, effect, event)?;
                }
                for key in keys {
                    self.port_item_applied(&order.id, key)?;
                }
                PortReply::Done(!waiting)
            }
            PortCommand::Park(order) => {
                if self.ports.has_pending(&order.id)? {
                    PortReply::Done(false)
                } else {
                    let event = EventKind::Port {
                        what: "parked".into(),
                    };
                    self.advance_order(order, &Effect::None, &event)?;
                    PortReply::Done(true)
                }
            }
            PortCommand::WakeDue(now, wake) => PortReply::Woken(self.wake_due_ports(*now, *wake)?),
            PortCommand::IssueCredential(c) => {
                let line = self.subscription_by_msisdn(c.msisdn.as_str())?;
                let Some(sub) = c.apply(line) else {
                    return Ok(PortReply::Line(None));
                };
                self.put_subscription(&sub)?;
                let at = c.issued.issued_at_ms;
                let subject = Some(c.msisdn.as_str());
                let t = EventType::PortOutCredentialIssued;
                self.publish(at, &c.tenant, t, subject, c.data.clone())?;
                PortReply::Line(Some(Box::new(sub)))
            }
        })
    }

    /// Keeps the open-port and parked-port indexes in step with an order write
    /// (`current`: the version it replaces, `None` for a new order).
    pub(super) fn index_port(&mut self, current: Option<&Order>, order: &Order) -> TxResult<()> {
        if order.port.is_none() {
            return Ok(());
        }
        let id = order.id.as_str();
        if order.status.is_terminal() {
            self.ports
                .open
                .remove((order.tenant.as_str(), id))
                .map_err(backend)?;
        } else if current.is_none() {
            self.ports
                .open
                .insert((order.tenant.as_str(), id), ())
                .map_err(backend)?;
        }
        if let Some(d) = current.and_then(Order::port_parked) {
            self.ports.parked.remove((d, id)).map_err(backend)?;
        }
        if let Some(d) = order.port_parked() {
            self.ports.parked.insert((d, id), ()).map_err(backend)?;
        }
        Ok(())
    }

    /// Receives a batch item by item; an order its consecutive items leave parked is
    /// written once ([`Held`]).
    fn receive_port_items(
        &mut self,
        items: &[(PortInboxItem, OnArrival)],
        rows: &[Vec<u8>],
    ) -> TxResult<Vec<PortReceived>> {
        let mut out = Vec::with_capacity(items.len());
        let mut held = None;
        for (i, ((item, arrival), row)) in items.iter().zip(rows).enumerate() {
            let next_same = Held::next_same(items, i);
            out.push(self.receive_port_item(item, row, arrival, &mut held, next_same)?);
            if let Some(h) = held.take_if(|_| !next_same) {
                self.advance_order(&h.order, &Effect::None, &h.event)?;
            }
        }
        Ok(out)
    }

    /// Receives one item of a batch. `held`: its order as the batch's items before it
    /// left it, not written yet; `next_same`: the batch's next item is for that order.
    fn receive_port_item(
        &mut self,
        item: &PortInboxItem,
        row: &[u8],
        arrival: &OnArrival,
        held: &mut Option<Held>,
        next_same: bool,
    ) -> TxResult<PortReceived> {
        if self
            .ports
            .inbox
            .get(item.key.as_str())
            .map_err(backend)?
            .is_some()
        {
            return Ok(PortReceived::Duplicate);
        }
        let order = match (&item.order_id, held.take()) {
            (_, Some(h)) => {
                // Its event now; the order is written with a later item's.
                let (o, event, at) = h.resume();
                self.event(at, &o.tenant, Some(&o.id), event)?;
                Some(o)
            }
            (Some(id), None) => self
                .order(id)?
                .filter(|o| o.port.is_some() && !o.status.is_terminal())
                .map(Arc::unwrap_or_clone),
            (None, None) => None,
        };
        let before = order.as_ref().map(Held::standing);
        let (next, applied) = arrival.decide(order, item.received_at_ms);
        self.put_inbox_row(item, row.to_vec(), applied)?;
        if !applied {
            if let Some(id) = &item.order_id {
                self.ports
                    .pending
                    .insert((id.as_str(), item.received_at_ms, item.key.as_str()), ())
                    .map_err(backend)?;
            }
        }
        let Some(next) = next else {
            return Ok(PortReceived::Queued { woken: None });
        };
        match Held::hold(next, (&item.key, applied), before, next_same) {
            Ok((h, received)) => {
                *held = Some(h);
                Ok(received)
            }
            Err(next) => {
                let (order, effect, event) = next.write(&item.key, applied);
                self.advance_order(order, effect, &event)?;
                Ok(arrival_outcome(next))
            }
        }
    }

    fn port_item_applied(&mut self, order_id: &str, key: &str) -> TxResult<()> {
        let Some((item, row)) = self
            .ports
            .inbox
            .get(key)
            .map_err(backend)?
            .map(|v| {
                Ok((
                    dec::<PortInboxItem>("port_inbox", v.value())?,
                    v.value().to_vec(),
                ))
            })
            .transpose()?
        else {
            return Ok(());
        };
        self.ports
            .pending
            .remove((order_id, item.received_at_ms, key))
            .map_err(backend)?;
        self.put_inbox_row(&item, row, true)
    }

    /// Stores `item` from its row as [`PortInboxItem::unapplied_row`] encoded it (or as
    /// stored), marked `applied`; encoded afresh should the row not end as such a row.
    fn put_inbox_row(
        &mut self,
        item: &PortInboxItem,
        mut row: Vec<u8>,
        applied: bool,
    ) -> TxResult<()> {
        if applied && !PortInboxItem::mark_applied(&mut row) {
            let mut marked = item.clone();
            marked.applied = true;
            row = enc(&marked)?;
        }
        let key = item.key.as_str();
        self.ports
            .inbox
            .insert(key, row.as_slice())
            .map_err(backend)?;
        Ok(())
    }

    fn wake_due_ports(&mut self, now_ms: u64, wake: Reopen) -> TxResult<Vec<Order>> {
        let mut due = Vec::new();
        for row in self
            .ports
            .parked
            .range((0u64, "")..(now_ms.saturating_add(1), ""))
            .map_err(backend)?
            .take(WAKE_BATCH)
        {
            let (k, _) = row.map_err(backend)?;
            due.push(k.value().1.to_owned());
        }
        let mut woken = Vec::new();
        for id in due {
            let Some(order) = self.order(&id)? else {
                continue;
            };
            let next = wake(Arc::unwrap_or_clone(order), now_ms);
            let event = EventKind::Port {
                what: "deadline".into(),
            };
            self.advance_order(&next, &Effect::None, &event)?;
            woken.push(next);
        }
        Ok(woken)
    }
}

//! Write commands, applied inside the writer's transaction. Discipline: every command
//! checks all its preconditions before its first write, so a rejected command changes
//! nothing even though it shares the transaction with others.

use super::order_memo::{self, order_from_bytes};
use super::tables::{counter, *};
use crate::compliance::Decision;
use crate::order::{Effect, EsimOrder, Order, OrderStatus, Step};
use crate::store::*;
use ::redb::{ReadableTable, Table, WriteTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// Any failure inside a transaction aborts the whole batch.
pub type TxResult<T> = Result<T, StoreError>;

pub fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

pub fn enc<T: Serialize>(v: &T) -> TxResult<Vec<u8>> {
    serde_json::to_vec(v).map_err(backend)
}

pub fn dec<T: DeserializeOwned>(table: &'static str, bytes: &[u8]) -> TxResult<T> {
    dec_borrowed(table, bytes)
}

/// `dec` for a record that borrows from `bytes`.
pub fn dec_borrowed<'a, T: serde::Deserialize<'a>>(
    table: &'static str,
    bytes: &'a [u8],
) -> TxResult<T> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        table,
        message: e.to_string(),
    })
}

/// All tables of one write transaction, opened once per batch.
pub struct Tables<'t> {
    pub tenants: Table<'t, &'static str, &'static [u8]>,
    pub api_keys: Table<'t, &'static [u8], &'static [u8]>,
    pub sims: Table<'t, &'static str, &'static [u8]>,
    pub imsis: Table<'t, &'static str, &'static str>,
    pub numbers: Table<'t, &'static str, &'static [u8]>,
    pub free_numbers: Table<'t, (&'static str, &'static str), ()>,
    pub free_golden: Table<'t, (&'static str, &'static str), ()>,
    pub free_tree: Table<'t, (&'static str, u8, u8, &'static str), u64>,
    pub orders: Table<'t, &'static str, &'static [u8]>,
    pub inflight: Table<'t, &'static str, ()>,
    pub idem: Table<'t, (&'static str, &'static str), &'static [u8]>,
    pub idem_by_time: Table<'t, (u64, &'static str, &'static str), ()>,
    pub events: Table<'t, u64, &'static [u8]>,
    pub counters: Table<'t, (&'static str, &'static str), u64>,
    pub meta: Table<'t, &'static str, &'static [u8]>,
    pub reservations: Table<'t, &'static str, &'static [u8]>,
    pub reservation_expiry: Table<'t, (u64, &'static str), ()>,
    pub reservation_idem: Table<'t, (&'static str, &'static str), &'static [u8]>,
    pub quarantine: Table<'t, (u64, &'static str), ()>,
    pub batches: Table<'t, &'static str, &'static [u8]>,
    pub free_esim: Table<'t, (&'static str, &'static str, &'static str), ()>,
    pub esim_progress: Table<'t, &'static str, &'static [u8]>,
    pub esim_expiry: Table<'t, (u64, &'static str), ()>,
    pub notifications: Table<'t, &'static str, &'static [u8]>,
    pub subscriptions: Table<'t, &'static str, &'static [u8]>,
    pub sub_by_msisdn: Table<'t, &'static str, &'static str>,
    pub sub_by_iccid: Table<'t, &'static str, &'static str>,
    pub sub_by_tenant: Table<'t, (&'static str, &'static str), ()>,
    /// Lines waiting for their second verification, by due time (`reverify.rs`).
    pub reverify_due: Table<'t, (u64, &'static str), ()>,
    /// The public event log and the webhook outbox (`outbox.rs`).
    pub outbox: super::outbox::OutboxTables<'t>,
    /// The compliance tables and the audit chain's head (`compliance.rs`).
    pub compliance: super::compliance::ComplianceTables<'t>,
    /// The port inbox and the port indexes (`ports.rs`).
    pub ports: super::ports::PortTables<'t>,
    next_event: u64,
}

impl<'t> Tables<'t> {
    pub fn open(txn: &'t WriteTransaction) -> TxResult<Self> {
        let events = txn.open_table(EVENTS).map_err(backend)?;
        let next_event = events
            .last()
            .map_err(backend)?
            .map_or(1, |(k, _)| k.value() + 1);
        Ok(Self {
            tenants: txn.open_table(TENANTS).map_err(backend)?,
            api_keys: txn.open_table(API_KEYS).map_err(backend)?,
            sims: txn.open_table(SIMS).map_err(backend)?,
            imsis: txn.open_table(IMSIS).map_err(backend)?,
            numbers: txn.open_table(NUMBERS).map_err(backend)?,
            free_numbers: txn.open_table(FREE_NUMBERS).map_err(backend)?,
            free_golden: txn.open_table(FREE_GOLDEN).map_err(backend)?,
            free_tree: txn.open_table(FREE_TREE).map_err(backend)?,
            orders: txn.open_table(ORDERS).map_err(backend)?,
            inflight: txn.open_table(INFLIGHT).map_err(backend)?,
            idem: txn.open_table(IDEMPOTENCY).map_err(backend)?,
            idem_by_time: txn.open_table(IDEMPOTENCY_BY_TIME).map_err(backend)?,
            events,
            counters: txn.open_table(COUNTERS).map_err(backend)?,
            meta: txn.open_table(META).map_err(backend)?,
            reservations: txn.open_table(RESERVATIONS).map_err(backend)?,
            reservation_expiry: txn.open_table(RESERVATION_EXPIRY).map_err(backend)?,
            reservation_idem: txn.open_table(RESERVATION_IDEM).map_err(backend)?,
            quarantine: txn.open_table(QUARANTINE).map_err(backend)?,
            batches: txn.open_table(BATCHES).map_err(backend)?,
            free_esim: txn.open_table(FREE_ESIM).map_err(backend)?,
            esim_progress: txn.open_table(ESIM_PROGRESS).map_err(backend)?,
            esim_expiry: txn.open_table(ESIM_EXPIRY).map_err(backend)?,
            notifications: txn.open_table(NOTIFICATIONS).map_err(backend)?,
            subscriptions: txn.open_table(SUBSCRIPTIONS).map_err(backend)?,
            sub_by_msisdn: txn.open_table(SUB_BY_MSISDN).map_err(backend)?,
            sub_by_iccid: txn.open_table(SUB_BY_ICCID).map_err(backend)?,
            sub_by_tenant: txn.open_table(SUB_BY_TENANT).map_err(backend)?,
            reverify_due: txn.open_table(REVERIFY_DUE).map_err(backend)?,
            outbox: super::outbox::OutboxTables::open(txn)?,
            compliance: super::compliance::ComplianceTables::open(txn)?,
            ports: super::ports::PortTables::open(txn)?,
            next_event,
        })
    }

    pub(super) fn event(
        &mut self,
        at_ms: u64,
        tenant: &str,
        order_id: Option<&str>,
        kind: EventKind,
    ) -> TxResult<()> {
        let seq = self.next_event;
        let ev = Event {
            seq,
            at_ms,
            tenant: tenant.to_owned(),
            order_id: order_id.map(str::to_owned),
            kind,
        };
        self.events
            .insert(seq, enc(&ev)?.as_slice())
            .map_err(backend)?;
        self.next_event += 1;
        Ok(())
    }

    /// Bumps a tenant counter and the same counter scoped to a pool or batch
    /// (`name@scope`), so counts per pool and per batch are point reads too.
    pub fn bump_in(&mut self, tenant: &str, scope: &str, name: &str, delta: i64) -> TxResult<()> {
        self.bump(tenant, name, delta)?;
        self.bump(tenant, &format!("{name}@{scope}"), delta)
    }

    /// The refusal for an administrative change naming a tenant that does not exist.
    pub fn refuse_unknown_tenant(&self, tenant: &str) -> TxResult<Option<AdminOutcome>> {
        Ok(self
            .tenants
            .get(tenant)
            .map_err(backend)?
            .is_none()
            .then(|| AdminOutcome::Refused(format!("tenant `{tenant}` does not exist"))))
    }

    /// Appends an administrative event.
    pub fn log_admin(&mut self, now_ms: u64, tenant: &str, what: String) -> TxResult<()> {
        self.event(now_ms, tenant, None, EventKind::Admin { what })
    }

    pub fn bump(&mut self, tenant: &str, name: &str, delta: i64) -> TxResult<()> {
        let cur = self
            .counters
            .get((tenant, name))
            .map_err(backend)?
            .map_or(0, |v| v.value());
        let next = cur.saturating_add_signed(delta);
        self.counters
            .insert((tenant, name), next)
            .map_err(backend)?;
        self.watch_stock(tenant, name, cur, next)
    }

    pub(super) fn get_json<T: DeserializeOwned>(
        table: &Table<'t, &'static str, &'static [u8]>,
        name: &'static str,
        key: &str,
    ) -> TxResult<Option<T>> {
        match table.get(key).map_err(backend)? {
            Some(v) => Ok(Some(dec(name, v.value())?)),
            None => Ok(None),
        }
    }

    /// The order `id` (decoded once per stored value, see `order_memo`).
    pub(super) fn order(&self, id: &str) -> TxResult<Option<Arc<Order>>> {
        match self.orders.get(id).map_err(backend)? {
            Some(v) => order_from_bytes(id, v.value(), |b| dec("orders", b)).map(Some),
            None => Ok(None),
        }
    }

    /// Stores `order` (remembered decoded for its next read, see `order_memo`).
    pub(super) fn put_order(&mut self, order: &Order) -> TxResult<()> {
        let bytes = enc(order)?;
        self.orders
            .insert(order.id.as_str(), bytes.as_slice())
            .map_err(backend)?;
        order_memo::written(order, bytes);
        Ok(())
    }

    /// The tenant `id` (decoded once per stored value, see [`tenant_from_bytes`]).
    pub(super) fn tenant(&self, id: &str) -> TxResult<Option<Arc<Tenant>>> {
        match self.tenants.get(id).map_err(backend)? {
            Some(v) => tenant_from_bytes(id, v.value(), |b| dec("tenants", b)).map(Some),
            None => Ok(None),
        }
    }

    /// See [`Store::create_activation`].
    pub fn create_activation(&mut self, new: &NewActivation) -> TxResult<CreateOutcome> {
        if let Some(answer) = self.replay(
            &new.tenant,
            &new.idempotency_key,
            &new.body_hash,
            new.idempotency_cutoff_ms,
        )? {
            return Ok(answer);
        }
        // The compliance decision comes before any reservation; a refusal commits only
        // its audit record (and a freeze).
        let decision = match &new.compliance {
            Some(check) => Some((
                check,
                self.compliance_decide(&new.tenant, check, new.now_ms)?,
            )),
            None => None,
        };
        if let Some((check, d @ Decision::Refuse(r))) = &decision {
            self.compliance_refused(new, check, d)?;
            return Ok(CreateOutcome::Refused(Box::new(r.clone())));
        }
        let Some(tenant) = self.tenant(&new.tenant)? else {
            return Ok(CreateOutcome::Rejected(Rejection::UnknownTenant));
        };
        let Some(product) = tenant.products.get(&new.product) else {
            return Ok(CreateOutcome::Rejected(Rejection::UnknownProduct));
        };
        let (mut sim, esim) = match &new.sim {
            SimChoice::Physical(iccid) => match self.physical_sim(&new.tenant, iccid)? {
                Ok(sim) => (sim, None),
                Err(r) => return Ok(CreateOutcome::Rejected(r)),
            },
            SimChoice::Esim {
                eid,
                matching_id,
                confirmation_code,
            } => {
                let Some(profile_type) = &product.esim_profile_type else {
                    return Ok(CreateOutcome::Rejected(Rejection::EsimNotOffered));
                };
                let Some(sim) = self.first_free_esim(&new.tenant, profile_type)? else {
                    return Ok(CreateOutcome::Rejected(Rejection::EsimStockOut {
                        profile_type: profile_type.clone(),
                    }));
                };
                let esim = EsimOrder::new(
                    profile_type.clone(),
                    eid.clone(),
                    matching_id.clone(),
                    confirmation_code.clone(),
                );
                (sim, Some(esim))
            }
        };
        let msisdn = match self.select_number(&tenant, &new.number, new.random, new.now_ms)? {
            Ok(m) => m,
            Err(r) => return Ok(CreateOutcome::Rejected(r)),
        };
        if let Some(p) = &new.port {
            let key = p.number.as_str();
            let ours = self
                .number(key)?
                .is_some_and(|n| crate::store::number_already_ours(&n));
            if ours || self.subscription_by_msisdn(key)?.is_some() {
                return Ok(CreateOutcome::Rejected(Rejection::NumberAlreadyOurs));
            }
        }
        // All checks passed: from here on, write.
        let compliance = decision
            .as_ref()
            .and_then(|(check, d)| OrderCompliance::allowed(check, d));
        let identity = decision
            .as_ref()
            .and_then(|(check, _)| decided_identity(check, compliance.as_ref()));
        let order = Order {
            id: new.order_id.clone(),
            kind: crate::order::OrderKind::Activation,
            lifecycle: None,
            port: new
                .port
                .clone()
                .map(|p| p.running_on(temporary_number(&new.number, &msisdn))),
            tenant: new.tenant.clone(),
            status: OrderStatus::Reserved,
            iccid: sim.iccid.clone(),
            imsi: sim.imsi.clone(),
            msisdn: msisdn.clone(),
            msisdn_mode: activation_number_mode(new),
            product: new.product.clone(),
            hlr_profile_id: product.hlr_profile_id,
            channel: new.channel.clone(),
            subscriber: new.subscriber.clone(),
            compliance,
            hlr: Step::Pending,
            undo: None,
            error: None,
            needs_attention: false,
            attention: Vec::new(),
            esim,
            created_at_ms: new.now_ms,
            updated_at_ms: new.now_ms,
            version: 1,
            identity,
        };
        let order = match new.send_ahead {
            Some(send) => send(order, new.now_ms),
            None => order,
        };
        sim.state = SimState::Reserved {
            order: order.id.clone(),
        };
        self.esim_stock(&sim, false)?;
        self.sims
            .insert(sim.iccid.as_str(), enc(&sim)?.as_slice())
            .map_err(backend)?;
        self.take_number(&new.tenant, &new.number, &msisdn, &order.id)?;
        self.bump_in(&new.tenant, &sim.batch, counter::SIMS_AVAILABLE, -1)?;
        self.bump_in(&new.tenant, &sim.batch, counter::SIMS_RESERVED, 1)?;
        self.insert_new_order(&order, &new.idempotency_key, &new.body_hash, new.now_ms)?;
        if let Some((check, d)) = &decision {
            self.compliance_allowed(new, check, d, &order)?;
        }
        Ok(CreateOutcome::Created(order))
    }

    /// The answer to a request whose `Idempotency-Key` was seen within the window: the
    /// first answer again (same body), or a refusal (another body); `None` for a new key.
    pub(super) fn replay(
        &self,
        tenant: &str,
        key: &str,
        body_hash: &str,
        cutoff_ms: u64,
    ) -> TxResult<Option<CreateOutcome>> {
        let Some(v) = self.idem.get((tenant, key)).map_err(backend)? else {
            return Ok(None);
        };
        let rec: IdempotencyRecord = dec("idempotency", v.value())?;
        if rec.created_at_ms < cutoff_ms {
            return Ok(None);
        }
        Ok(Some(if rec.body_hash == body_hash {
            CreateOutcome::Replayed(rec.response)
        } else {
            CreateOutcome::KeyReused
        }))
    }

    /// Inserts a new order as in flight with its idempotency record (replacing an expired
    /// one with the same key) and logs its creation.
    pub(super) fn insert_new_order(
        &mut self,
        order: &Order,
        key: &str,
        body_hash: &str,
        now_ms: u64,
    ) -> TxResult<()> {
        self.put_order(order)?;
        self.inflight
            .insert(order.id.as_str(), ())
            .map_err(backend)?;
        self.index_port(None, order)?;
        let idem_key = (order.tenant.as_str(), key);
        if let Some(old) = self.idem.remove(idem_key).map_err(backend)? {
            let old: IdempotencyRecord = dec("idempotency", old.value())?;
            self.idem_by_time
                .remove((old.created_at_ms, idem_key.0, idem_key.1))
                .map_err(backend)?;
        }
        let rec = IdempotencyRecord {
            body_hash: body_hash.to_owned(),
            order_id: order.id.clone(),
            response: order.clone(),
            created_at_ms: now_ms,
        };
        self.idem
            .insert(idem_key, enc(&rec)?.as_slice())
            .map_err(backend)?;
        self.idem_by_time
            .insert((now_ms, idem_key.0, idem_key.1), ())
            .map_err(backend)?;
        self.event(
            now_ms,
            &order.tenant,
            Some(&order.id),
            EventKind::OrderCreated,
        )?;
        self.publish_order(order, None)
    }

    /// See [`Store::advance_order`].
    pub fn advance_order(
        &mut self,
        order: &Order,
        effect: &Effect,
        event: &EventKind,
    ) -> TxResult<()> {
        let current = self
            .order(&order.id)?
            .ok_or_else(|| StoreError::Conflict(order.id.clone()))?;
        if current.version + 1 != order.version {
            return Err(StoreError::Conflict(order.id.clone()));
        }
        if order.kind != crate::order::OrderKind::Activation {
            match effect {
                Effect::Complete => self.finish_lifecycle(order, true)?,
                Effect::Release => self.finish_lifecycle(order, false)?,
                Effect::None | Effect::Activate => {}
            }
            return self.record_order(&current, order, effect, event);
        }
        if current.status == OrderStatus::Compensating && order.status == OrderStatus::Active {
            // A reopened eSIM activation whose profile turned out downloaded: its line is
            // back, and no longer busy with it.
            self.set_line_busy(&order.id, false)?;
        }
        // The SIM only changes with an effect: an order moving along leaves it unread.
        let sim = |t: &Self| {
            Self::get_json::<SimRecord>(&t.sims, "sims", order.iccid.as_str())?.ok_or_else(|| {
                StoreError::Corrupt {
                    table: "sims",
                    message: "SIM of an order is missing".into(),
                }
            })
        };
        match effect {
            Effect::None => {}
            Effect::Activate => {
                let mut sim = sim(self)?;
                sim.state = SimState::Active {
                    order: order.id.clone(),
                };
                self.sims
                    .insert(sim.iccid.as_str(), enc(&sim)?.as_slice())
                    .map_err(backend)?;
                let (assign, quarantine) = activated_numbers(order);
                if let Some(n) = assign {
                    let assigned = NumberState::Assigned {
                        order: order.id.clone(),
                    };
                    self.set_number(&order.tenant, n, assigned)?;
                }
                if let Some(t) = quarantine {
                    self.quarantine_number(&order.tenant, t, order.updated_at_ms)?;
                }
                if let Some(p) = order.port.as_ref().filter(|p| !p.is_out()) {
                    self.take_ported_number(&order.tenant, &order.id, p)?;
                }
                self.bump_in(&order.tenant, &sim.batch, counter::SIMS_RESERVED, -1)?;
                self.bump_in(&order.tenant, &sim.batch, counter::SIMS_ACTIVE, 1)?;
                self.open_subscription(order, &sim)?;
            }
            // Only lifecycle orders complete.
            Effect::Complete => {}
            Effect::Release => {
                let mut sim = sim(self)?;
                if matches!(sim.state, SimState::Active { .. }) {
                    self.close_released_activation(order)?;
                }
                let from = match sim.state {
                    SimState::Active { .. } => counter::SIMS_ACTIVE,
                    _ => counter::SIMS_RESERVED,
                };
                let retire = order
                    .esim
                    .as_ref()
                    .is_some_and(|e| e.fate == Some(crate::order::ProfileFate::Retire));
                let to = if retire {
                    sim.state = SimState::Retired {
                        order: order.id.clone(),
                    };
                    counter::SIMS_RETIRED
                } else {
                    sim.state = SimState::Available;
                    self.esim_stock(&sim, true)?;
                    counter::SIMS_AVAILABLE
                };
                self.sims
                    .insert(sim.iccid.as_str(), enc(&sim)?.as_slice())
                    .map_err(backend)?;
                if releases_pool_number(order) {
                    self.set_number(&order.tenant, &order.msisdn, NumberState::Available)?;
                }
                self.bump_in(&order.tenant, &sim.batch, from, -1)?;
                self.bump_in(&order.tenant, &sim.batch, to, 1)?;
            }
        }
        self.index_esim_expiry(&current, order)?;
        self.record_order(&current, order, effect, event)
    }

    /// Writes the order's new version, keeps the in-flight index in step, and logs `event`.
    fn record_order(
        &mut self,
        current: &Order,
        order: &Order,
        effect: &Effect,
        event: &EventKind,
    ) -> TxResult<()> {
        let out_of_flight = |o: &Order| o.status.is_terminal() || o.port_parked().is_some();
        if out_of_flight(order) {
            self.inflight.remove(order.id.as_str()).map_err(backend)?;
        } else if out_of_flight(current) {
            // A finished order reopened (an eSIM that expired undownloaded), or a parked
            // port woken.
            self.inflight
                .insert(order.id.as_str(), ())
                .map_err(backend)?;
        }
        self.index_port(Some(current), order)?;
        for (t, data) in port_events(current, order) {
            let line = subscription_id(&order.id);
            self.publish(order.updated_at_ms, &order.tenant, t, Some(&line), data)?;
        }
        self.put_order(order)?;
        self.event(
            order.updated_at_ms,
            &order.tenant,
            Some(&order.id),
            event.clone(),
        )?;
        self.compliance_advanced(current, order)?;
        if !matches!(effect, Effect::None) {
            self.publish_order(order, Some(current.status))?;
        }
        Ok(())
    }

    /// See [`Store::prune_idempotency`].
    pub fn prune_idempotency(&mut self, before_ms: u64) -> TxResult<usize> {
        let mut expired = Vec::new();
        for row in self
            .idem_by_time
            .range((0u64, "", "")..(before_ms, "", ""))
            .map_err(backend)?
        {
            let (k, _) = row.map_err(backend)?;
            let (t, tenant, key) = k.value();
            expired.push((t, tenant.to_owned(), key.to_owned()));
        }
        for (t, tenant, key) in &expired {
            self.idem_by_time
                .remove((*t, tenant.as_str(), key.as_str()))
                .map_err(backend)?;
            self.idem
                .remove((tenant.as_str(), key.as_str()))
                .map_err(backend)?;
        }
        Ok(expired.len())
    }

    /// See [`Store::admin`]. Runs in its own transaction, which is aborted on refusal.
    pub fn admin(&mut self, change: &AdminChange, now_ms: u64) -> TxResult<AdminOutcome> {
        match change {
            AdminChange::PutTenant(t) => {
                self.tenants
                    .insert(t.id.as_str(), enc(&t)?.as_slice())
                    .map_err(backend)?;
                self.event(
                    now_ms,
                    &t.id,
                    None,
                    EventKind::Admin {
                        what: "tenant_put".into(),
                    },
                )?;
            }
            AdminChange::PutApiKey { hash, record } => {
                if let Some(refused) = self.refuse_unknown_tenant(&record.tenant)? {
                    return Ok(refused);
                }
                self.api_keys
                    .insert(hash.as_slice(), enc(&record)?.as_slice())
                    .map_err(backend)?;
                self.event(
                    now_ms,
                    &record.tenant,
                    None,
                    EventKind::Admin {
                        what: format!("api_key_added {}", record.prefix),
                    },
                )?;
            }
            AdminChange::AddSims(sims) => return self.add_sims(sims, now_ms),
            AdminChange::AddNumbers {
                tenant,
                block,
                first,
                count,
            } => return self.add_numbers(tenant, block, first, *count, now_ms),
            AdminChange::PutMeta { key, value } => {
                self.meta
                    .insert(key.as_str(), value.as_slice())
                    .map_err(backend)?;
            }
            AdminChange::Batch(changes) => {
                for c in changes {
                    if let AdminOutcome::Refused(why) = self.admin(c, now_ms)? {
                        return Ok(AdminOutcome::Refused(why));
                    }
                }
            }
        }
        Ok(AdminOutcome::Applied)
    }

    fn add_sims(&mut self, sims: &[SimRecord], now_ms: u64) -> TxResult<AdminOutcome> {
        let mut seen = std::collections::HashSet::new();
        for s in sims {
            if let Some(refused) = self.refuse_unknown_tenant(&s.tenant)? {
                return Ok(refused);
            }
            if !seen.insert(s.iccid.as_str()) || !seen.insert(s.imsi.as_str()) {
                return Ok(AdminOutcome::Refused(format!(
                    "ICCID {} or its IMSI appears twice in the batch",
                    s.iccid
                )));
            }
            if self.sims.get(s.iccid.as_str()).map_err(backend)?.is_some() {
                return Ok(AdminOutcome::Refused(format!(
                    "ICCID {} is already in inventory",
                    s.iccid
                )));
            }
            if self.imsis.get(s.imsi.as_str()).map_err(backend)?.is_some() {
                return Ok(AdminOutcome::Refused(format!(
                    "IMSI {} is already in inventory",
                    s.imsi
                )));
            }
        }
        let n = sims.len();
        let tenant = sims.first().map(|s| s.tenant.clone()).unwrap_or_default();
        for s in sims {
            self.imsis
                .insert(s.imsi.as_str(), s.iccid.as_str())
                .map_err(backend)?;
            let c = match s.state {
                SimState::Available => {
                    self.esim_stock(s, true)?;
                    counter::SIMS_AVAILABLE
                }
                SimState::Reserved { .. } => counter::SIMS_RESERVED,
                SimState::Active { .. } => counter::SIMS_ACTIVE,
                SimState::Retired { .. } => counter::SIMS_RETIRED,
            };
            self.bump_in(&s.tenant, &s.batch, c, 1)?;
            self.sims
                .insert(s.iccid.as_str(), enc(&s)?.as_slice())
                .map_err(backend)?;
        }
        self.event(
            now_ms,
            &tenant,
            None,
            EventKind::Admin {
                what: format!("sims_added {n}"),
            },
        )?;
        Ok(AdminOutcome::Applied)
    }
}

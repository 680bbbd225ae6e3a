//! Subscriptions inside the writer's transaction: opening a line when its activation
//! becomes active, creating a lifecycle order on it (one in flight at most, with what it
//! needs reserved), and applying a lifecycle order's outcome to the line and inventory.

use super::apply::{Tables, TxResult, backend, enc};
use super::tables::counter;
use crate::order::{EsimOrder, Lifecycle, Order, OrderKind, SagaOp};
use crate::store::*;
use ::redb::ReadableTable;
use sim_profiles::{Iccid, Msisdn};

fn corrupt(message: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        table: "subscriptions",
        message: message.into(),
    }
}

impl Tables<'_> {
    /// The line holding `msisdn`, if any.
    pub(super) fn subscription_by_msisdn(&self, msisdn: &str) -> TxResult<Option<Subscription>> {
        let Some(id) = self
            .sub_by_msisdn
            .get(msisdn)
            .map_err(backend)?
            .map(|v| v.value().to_owned())
        else {
            return Ok(None);
        };
        Self::get_json(&self.subscriptions, "subscriptions", &id)
    }

    /// Opens the line of an activation that just became active (same commit), pending
    /// verification if its create commit hit a risk rule.
    pub(super) fn open_subscription(&mut self, order: &Order, sim: &SimRecord) -> TxResult<()> {
        let sub = Subscription::opened_by(order, sim);
        self.put_subscription(&sub)?;
        self.index_subscription(&sub)?;
        self.verification_opened(&sub, order)
    }

    pub(super) fn put_subscription(&mut self, sub: &Subscription) -> TxResult<()> {
        self.subscriptions
            .insert(sub.id.as_str(), enc(sub)?.as_slice())
            .map_err(backend)?;
        Ok(())
    }

    fn index_subscription(&mut self, sub: &Subscription) -> TxResult<()> {
        self.sub_by_msisdn
            .insert(sub.msisdn.as_str(), sub.id.as_str())
            .map_err(backend)?;
        self.sub_by_iccid
            .insert(sub.iccid.as_str(), sub.id.as_str())
            .map_err(backend)?;
        self.sub_by_tenant
            .insert((sub.tenant.as_str(), sub.id.as_str()), ())
            .map_err(backend)?;
        Ok(())
    }

    /// Marks the line of activation `activation_id` busy with it (`busy`), or no longer:
    /// an eSIM activation reopened at its download deadline undoes the line (cancel at
    /// the SM-DP+, HLR removal, card and number back to stock), and an order started
    /// meanwhile would race that undo (a swap could move the number just before the undo
    /// frees it), so the activation is the line's order in flight until it ends.
    pub(super) fn set_line_busy(&mut self, activation_id: &str, busy: bool) -> TxResult<()> {
        let id = subscription_id(activation_id);
        let Some(mut sub) =
            Self::get_json::<Subscription>(&self.subscriptions, "subscriptions", &id)?
        else {
            return Ok(());
        };
        if busy {
            sub.inflight = Some(activation_id.to_owned());
        } else if sub.inflight.as_deref() == Some(activation_id) {
            sub.inflight = None;
        }
        self.put_subscription(&sub)
    }

    /// An activation undone after it was active (an eSIM never downloaded): its line
    /// ends, and its number and card no longer point to it.
    pub(super) fn close_released_activation(&mut self, order: &Order) -> TxResult<()> {
        let id = subscription_id(&order.id);
        let Some(mut sub) =
            Self::get_json::<Subscription>(&self.subscriptions, "subscriptions", &id)?
        else {
            return Ok(());
        };
        self.unindex_number(&sub.msisdn, &id)?;
        self.unindex_card(&sub.iccid, &id)?;
        sub.state = SubscriptionState::Terminated;
        sub.inflight = None;
        sub.updated_at_ms = order.updated_at_ms;
        sub.history.push(HistoryEntry {
            order_id: order.id.clone(),
            kind: OrderKind::Activation,
            outcome: "failed".into(),
            actor: None,
            reason: None,
            change: None,
            error: order.error.as_ref().map(|e| e.code.clone()),
            at_ms: order.updated_at_ms,
        });
        self.put_subscription(&sub)
    }

    fn unindex_number(&mut self, msisdn: &Msisdn, id: &str) -> TxResult<()> {
        let ours = self
            .sub_by_msisdn
            .get(msisdn.as_str())
            .map_err(backend)?
            .is_some_and(|v| v.value() == id);
        if ours {
            self.sub_by_msisdn
                .remove(msisdn.as_str())
                .map_err(backend)?;
        }
        Ok(())
    }

    fn unindex_card(&mut self, iccid: &Iccid, id: &str) -> TxResult<()> {
        let ours = self
            .sub_by_iccid
            .get(iccid.as_str())
            .map_err(backend)?
            .is_some_and(|v| v.value() == id);
        if ours {
            self.sub_by_iccid.remove(iccid.as_str()).map_err(backend)?;
        }
        Ok(())
    }

    /// See [`Store::create_lifecycle`].
    pub fn create_lifecycle(&mut self, new: &NewLifecycle) -> TxResult<LifecycleOutcome> {
        match self.replay(
            &new.tenant,
            &new.idempotency_key,
            &new.body_hash,
            new.idempotency_cutoff_ms,
        )? {
            Some(CreateOutcome::Replayed(o)) => return Ok(LifecycleOutcome::Replayed(o)),
            Some(_) => return Ok(LifecycleOutcome::KeyReused),
            None => {}
        }
        let refuse = |r| Ok(LifecycleOutcome::Rejected(r));
        let Some(mut sub) = self.subscription_by_msisdn(new.msisdn.as_str())? else {
            return refuse(LifecycleRejection::NotFound);
        };
        if sub.tenant != new.tenant {
            return refuse(LifecycleRejection::NotFound);
        }
        if let Some(busy) = &sub.inflight {
            return refuse(LifecycleRejection::Busy(busy.clone()));
        }
        if sub.state == SubscriptionState::Terminated {
            return refuse(LifecycleRejection::Terminated);
        }
        if let Some(r) = new.reason_refusal(&sub) {
            return refuse(r);
        }
        let Some(tenant) = self.tenant(&new.tenant)? else {
            return refuse(LifecycleRejection::NotFound);
        };
        // What the order needs reserved, checked before any write.
        let (new_sim, new_esim) = match &new.sim {
            Some(SwapSim::Physical(iccid)) => match self.physical_sim(&new.tenant, iccid)? {
                Ok(sim) => (Some(sim), None),
                Err(r) => return refuse(LifecycleRejection::Inventory(r)),
            },
            Some(SwapSim::Esim {
                eid,
                matching_id,
                confirmation_code,
            }) => {
                let Some(profile_type) = tenant
                    .products
                    .get(&sub.product)
                    .and_then(|p| p.esim_profile_type.clone())
                else {
                    return refuse(LifecycleRejection::Inventory(Rejection::EsimNotOffered));
                };
                let Some(sim) = self.first_free_esim(&new.tenant, &profile_type)? else {
                    return refuse(LifecycleRejection::Inventory(Rejection::EsimStockOut {
                        profile_type,
                    }));
                };
                let esim = EsimOrder::new(
                    profile_type,
                    eid.clone(),
                    matching_id.clone(),
                    confirmation_code.clone(),
                );
                (Some(sim), Some(esim))
            }
            None => (None, None),
        };
        let new_msisdn = match &new.number {
            Some(choice) => {
                if let NumberChoice::Choose(m) = choice {
                    if *m == sub.msisdn {
                        return refuse(LifecycleRejection::SameNumber);
                    }
                }
                match self.select_number(&tenant, choice, new.random, new.now_ms)? {
                    Ok(m) => Some(m),
                    Err(r) => return refuse(LifecycleRejection::Inventory(r)),
                }
            }
            None => None,
        };
        // The activation that opened the line: its eSIM profile, and the subject the
        // order's audit records name.
        let activation: Option<Order> = Self::get_json(&self.orders, "orders", &sub.activation_id)?;
        let undownloaded_profile = match (new.kind, sub.sim_type) {
            (OrderKind::Terminate | OrderKind::PortOut | OrderKind::SimSwap, SimType::Esim) => {
                self.undownloaded_profile(&sub, activation.as_ref())?
            }
            _ => None,
        };
        let number_return = crate::store::number_return(
            new.kind,
            &sub.msisdn,
            &sub.tenant,
            self.number(sub.msisdn.as_str())?.as_ref(),
        );
        // All checks passed: from here on, write.
        let order = new.order(LifecycleReads {
            sub: &sub,
            tenant: &tenant,
            activation: activation.as_ref(),
            new_sim: new_sim.as_ref(),
            new_msisdn: new_msisdn.clone(),
            new_esim,
            undownloaded_profile,
            number_return,
        });
        if let Some(mut sim) = new_sim {
            sim.state = SimState::Reserved {
                order: order.id.clone(),
            };
            self.esim_stock(&sim, false)?;
            self.sims
                .insert(sim.iccid.as_str(), enc(&sim)?.as_slice())
                .map_err(backend)?;
            self.bump_in(&new.tenant, &sim.batch, counter::SIMS_AVAILABLE, -1)?;
            self.bump_in(&new.tenant, &sim.batch, counter::SIMS_RESERVED, 1)?;
        }
        if let (Some(choice), Some(m)) = (&new.number, &new_msisdn) {
            self.take_number(&new.tenant, choice, m, &order.id)?;
        }
        sub.inflight = Some(order.id.clone());
        self.put_subscription(&sub)?;
        self.insert_new_order(&order, &new.idempotency_key, &new.body_hash, new.now_ms)?;
        if let Some(record) = lifecycle_created_audit(&order) {
            self.compliance.append_audit(record)?;
        }
        Ok(LifecycleOutcome::Created(order))
    }

    /// The CancelOrder of the line's eSIM profile if it was released and no device has
    /// downloaded it yet (then it can still be cancelled; a downloaded one is the device's).
    fn undownloaded_profile(
        &self,
        sub: &Subscription,
        activation: Option<&Order>,
    ) -> TxResult<Option<SagaOp>> {
        let Some((iccid, e)) = activation.and_then(|o| Some((&o.iccid, o.esim.as_ref()?))) else {
            return Ok(None);
        };
        if *iccid != sub.iccid || self.downloaded(&sub.activation_id)? {
            // Another card since, or downloaded: nothing of day one to cancel.
            return Ok(None);
        }
        Ok(Some(SagaOp::CancelProfile {
            iccid: sub.iccid.clone(),
            eid: e.eid.clone(),
            matching_id: e.matching_id.clone(),
        }))
    }

    /// Whether the line an activation opened has been acted on since (a lifecycle order
    /// took over: the activation's own undo, such as eSIM expiry, no longer applies).
    pub(super) fn line_changed(&self, activation_id: &str) -> TxResult<bool> {
        let sub: Option<Subscription> = Self::get_json(
            &self.subscriptions,
            "subscriptions",
            &subscription_id(activation_id),
        )?;
        Ok(sub.is_some_and(|s| s.inflight.is_some() || s.history.len() > 1))
    }

    /// Applies a lifecycle order's terminal outcome to its line and inventory:
    /// `completed` changes the line; `failed` returns what the order reserved.
    pub(super) fn finish_lifecycle(&mut self, order: &Order, completed: bool) -> TxResult<()> {
        let l = order
            .lifecycle
            .as_ref()
            .ok_or_else(|| corrupt(format!("order {} has no lifecycle part", order.id)))?;
        let mut sub: Subscription =
            Self::get_json(&self.subscriptions, "subscriptions", &l.subscription)?
                .ok_or_else(|| corrupt(format!("subscription {} is missing", l.subscription)))?;
        if sub.inflight.as_deref() == Some(order.id.as_str()) {
            sub.inflight = None;
        }
        let now = order.updated_at_ms;
        let change = if completed {
            let previous = sub.clone();
            let change = self.apply_change(order, l, &mut sub, now)?;
            if let Some(t) = subscription_event(order.kind) {
                let data = subscription_data(&sub, &previous, &order.id);
                self.publish(now, &sub.tenant, t, Some(&sub.id), data)?;
            }
            self.flag_on_completion(&mut sub, order)?;
            change
        } else {
            self.return_reserved(order, l)?;
            if let Some(at) = suspend_retry_at(&sub, order) {
                self.reverify_due
                    .insert((at, sub.id.as_str()), ())
                    .map_err(backend)?;
            }
            None
        };
        sub.updated_at_ms = now;
        sub.history.push(HistoryEntry {
            order_id: order.id.clone(),
            kind: order.kind,
            outcome: order.status.as_str().into(),
            actor: Some(l.actor.clone()),
            reason: l.reason,
            change,
            error: order.error.as_ref().map(|e| e.code.clone()),
            at_ms: now,
        });
        self.put_subscription(&sub)
    }

    /// The completed order's change to the line; returns its description.
    fn apply_change(
        &mut self,
        order: &Order,
        l: &Lifecycle,
        sub: &mut Subscription,
        now: u64,
    ) -> TxResult<Option<String>> {
        Ok(match order.kind {
            OrderKind::Activation => None,
            OrderKind::Suspend => {
                sub.suspended_for(l);
                None
            }
            OrderKind::Resume => {
                sub.resumed_from(l.reason);
                None
            }
            OrderKind::Terminate => {
                self.retire_sim(&sub.iccid, &order.id, counter::SIMS_ACTIVE)?;
                self.quarantine_number(&sub.tenant, &sub.msisdn, now)?;
                self.mark_returned(&sub.tenant, &sub.msisdn, &order.id)?;
                self.unindex_number(&sub.msisdn, &sub.id)?;
                self.unindex_card(&sub.iccid, &sub.id)?;
                sub.state = SubscriptionState::Terminated;
                None
            }
            OrderKind::PortOut => {
                // The number is the recipient's now: never ours to assign again.
                self.retire_sim(&sub.iccid, &order.id, counter::SIMS_ACTIVE)?;
                // The number is marked gone, whether of our pools or ported in (a
                // record of another tenant's is not ours to mark).
                let ours = self
                    .number(sub.msisdn.as_str())?
                    .is_some_and(|n| n.tenant == sub.tenant);
                if ours {
                    let gone = NumberState::PortedOut {
                        order: order.id.clone(),
                    };
                    self.set_number(&sub.tenant, &sub.msisdn, gone)?;
                }
                self.unindex_number(&sub.msisdn, &sub.id)?;
                self.unindex_card(&sub.iccid, &sub.id)?;
                sub.state = SubscriptionState::Terminated;
                sub.port_out_credential = None;
                Some(ported_out_change(order))
            }
            OrderKind::SimSwap => {
                let new = l
                    .new_line
                    .as_ref()
                    .ok_or_else(|| corrupt(format!("swap {} has no new card", order.id)))?;
                self.retire_sim(&sub.iccid, &order.id, counter::SIMS_ACTIVE)?;
                let mut sim = self.sim_record(&new.iccid)?;
                sim.state = SimState::Active {
                    order: order.id.clone(),
                };
                self.sims
                    .insert(sim.iccid.as_str(), enc(&sim)?.as_slice())
                    .map_err(backend)?;
                self.bump_in(&sub.tenant, &sim.batch, counter::SIMS_RESERVED, -1)?;
                self.bump_in(&sub.tenant, &sim.batch, counter::SIMS_ACTIVE, 1)?;
                self.unindex_card(&sub.iccid, &sub.id)?;
                let change = format!("iccid {} → {}", sub.iccid, new.iccid);
                sub.iccid = new.iccid.clone();
                sub.imsi = new.imsi.clone();
                sub.sim_type = if sim.esim_profile_type.is_some() {
                    SimType::Esim
                } else {
                    SimType::Physical
                };
                self.index_subscription(sub)?;
                Some(change)
            }
            OrderKind::NumberChange => {
                let to = l
                    .new_msisdn
                    .clone()
                    .ok_or_else(|| corrupt(format!("number change {} has no number", order.id)))?;
                self.set_number(
                    &sub.tenant,
                    &to,
                    NumberState::Assigned {
                        order: order.id.clone(),
                    },
                )?;
                self.quarantine_number(&sub.tenant, &sub.msisdn, now)?;
                self.mark_returned(&sub.tenant, &sub.msisdn, &order.id)?;
                self.unindex_number(&sub.msisdn, &sub.id)?;
                let change = format!("msisdn {} → {}", sub.msisdn, to);
                sub.msisdn = to;
                self.index_subscription(sub)?;
                Some(change)
            }
        })
    }

    /// A failed order's reservations go back to stock; an eSIM profile that may not be
    /// Available at the SM-DP+ (`Lifecycle::new_card_reusable`) is retired instead.
    fn return_reserved(&mut self, order: &Order, l: &Lifecycle) -> TxResult<()> {
        if let Some(new) = &l.new_line {
            let mut sim = self.sim_record(&new.iccid)?;
            if matches!(&sim.state, SimState::Reserved { order: o } if *o == order.id) {
                if !l.new_card_reusable() {
                    return self.retire_sim(&new.iccid, &order.id, counter::SIMS_RESERVED);
                }
                sim.state = SimState::Available;
                self.esim_stock(&sim, true)?;
                self.sims
                    .insert(sim.iccid.as_str(), enc(&sim)?.as_slice())
                    .map_err(backend)?;
                self.bump_in(&order.tenant, &sim.batch, counter::SIMS_RESERVED, -1)?;
                self.bump_in(&order.tenant, &sim.batch, counter::SIMS_AVAILABLE, 1)?;
            }
        }
        if let Some(m) = &l.new_msisdn {
            let reserved = self.number(m.as_str())?.is_some_and(
                |n| matches!(n.state, NumberState::Reserved { order: ref o } if *o == order.id),
            );
            if reserved {
                self.set_number(&order.tenant, m, NumberState::Available)?;
            }
        }
        Ok(())
    }

    fn sim_record(&self, iccid: &Iccid) -> TxResult<SimRecord> {
        Self::get_json(&self.sims, "sims", iccid.as_str())?
            .ok_or_else(|| corrupt(format!("SIM {iccid} of a line is missing")))
    }

    /// Takes a card out of service for good (never reused).
    fn retire_sim(&mut self, iccid: &Iccid, order: &str, from: &'static str) -> TxResult<()> {
        let mut sim = self.sim_record(iccid)?;
        if matches!(sim.state, SimState::Retired { .. }) {
            return Ok(());
        }
        sim.state = SimState::Retired {
            order: order.to_owned(),
        };
        self.sims
            .insert(sim.iccid.as_str(), enc(&sim)?.as_slice())
            .map_err(backend)?;
        self.bump_in(&sim.tenant, &sim.batch, from, -1)?;
        self.bump_in(&sim.tenant, &sim.batch, counter::SIMS_RETIRED, 1)?;
        Ok(())
    }
}

/// The event a completed lifecycle order publishes.
fn subscription_event(kind: OrderKind) -> Option<EventType> {
    Some(match kind {
        OrderKind::Activation => return None,
        OrderKind::Suspend => EventType::SubscriptionSuspended,
        OrderKind::Resume => EventType::SubscriptionResumed,
        OrderKind::Terminate => EventType::SubscriptionTerminated,
        OrderKind::SimSwap => EventType::SubscriptionSimSwapped,
        OrderKind::NumberChange => EventType::SubscriptionNumberChanged,
        OrderKind::PortOut => EventType::SubscriptionTerminated,
    })
}

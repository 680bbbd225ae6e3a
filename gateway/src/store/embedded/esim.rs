//! eSIM inventory and progress inside the writer's transaction: taking a profile from
//! stock, the expiry index of released-but-undownloaded orders, and recording
//! HandleDownloadProgressInfo notifications (deduplicated, tenant-checked).

use super::apply::{Tables, TxResult, backend, dec, enc};
use crate::order::{Effect, EsimState, Order, OrderStatus};
use crate::store::*;
use ::redb::ReadableTable;
use sim_profiles::Iccid;

impl Tables<'_> {
    /// The physical card `iccid` if the tenant may activate it now, else why not.
    pub(super) fn physical_sim(
        &self,
        tenant: &str,
        iccid: &Iccid,
    ) -> TxResult<Result<SimRecord, Rejection>> {
        let Some(sim) = Self::get_json::<SimRecord>(&self.sims, "sims", iccid.as_str())? else {
            return Ok(Err(Rejection::UnknownIccid));
        };
        // A SIM of a batch still being imported does not exist yet for anyone.
        if let Some(b) = Self::get_json::<BatchRecord>(&self.batches, "batches", &sim.batch)? {
            if b.status != BatchStatus::Complete {
                return Ok(Err(Rejection::UnknownIccid));
            }
        }
        if sim.tenant != tenant {
            return Ok(Err(Rejection::SimOfOtherTenant));
        }
        if sim.esim_profile_type.is_some() {
            return Ok(Err(Rejection::SimIsEsim));
        }
        match sim.state {
            SimState::Available => Ok(Ok(sim)),
            ref other => Ok(Err(Rejection::SimNotAvailable {
                state: other.label().0,
            })),
        }
    }

    /// Puts an eSIM profile in stock (`in_stock`) or takes it out of the stock index;
    /// a physical SIM is left alone.
    pub(super) fn esim_stock(&mut self, sim: &SimRecord, in_stock: bool) -> TxResult<()> {
        let Some(profile_type) = &sim.esim_profile_type else {
            return Ok(());
        };
        let key = (
            sim.tenant.as_str(),
            profile_type.as_str(),
            sim.iccid.as_str(),
        );
        if in_stock {
            self.free_esim.insert(key, ()).map_err(backend)?;
        } else {
            self.free_esim.remove(key).map_err(backend)?;
        }
        Ok(())
    }

    /// The first eSIM profile in stock of `profile_type` for `tenant`.
    pub(super) fn first_free_esim(
        &self,
        tenant: &str,
        profile_type: &str,
    ) -> TxResult<Option<SimRecord>> {
        let first = self
            .free_esim
            .range((tenant, profile_type, "")..=(tenant, profile_type, "~"))
            .map_err(backend)?
            .next()
            .transpose()
            .map_err(backend)?
            .map(|(k, _)| k.value().2.to_owned());
        match first {
            Some(iccid) => Self::get_json::<SimRecord>(&self.sims, "sims", &iccid)?
                .ok_or_else(|| StoreError::Corrupt {
                    table: "free_esim",
                    message: "an eSIM profile in stock has no SIM record".into(),
                })
                .map(Some),
            None => Ok(None),
        }
    }

    /// Keeps the expiry index in step with an order rewrite: an eSIM order that just became
    /// active with a deadline is listed; one that left `active` is not.
    pub(super) fn index_esim_expiry(&mut self, before: &Order, after: &Order) -> TxResult<()> {
        let deadline = |o: &Order| {
            o.esim
                .as_ref()
                .and_then(|e| e.expires_at_ms)
                .filter(|_| o.status == OrderStatus::Active)
        };
        if let Some(at) = deadline(before) {
            if deadline(after) != Some(at) {
                self.esim_expiry
                    .remove((at, before.id.as_str()))
                    .map_err(backend)?;
            }
        }
        if let Some(at) = deadline(after) {
            if self.downloaded(&after.id)? {
                return Ok(());
            }
            self.esim_expiry
                .insert((at, after.id.as_str()), ())
                .map_err(backend)?;
        }
        Ok(())
    }

    fn progress(&self, order_id: &str) -> TxResult<EsimProgress> {
        Ok(
            Self::get_json::<EsimProgress>(&self.esim_progress, "esim_progress", order_id)?
                .unwrap_or(EsimProgress {
                    state: None,
                    points: Vec::new(),
                }),
        )
    }

    /// True once the device has the profile (downloaded or installed).
    pub(super) fn downloaded(&self, order_id: &str) -> TxResult<bool> {
        Ok(matches!(
            self.progress(order_id)?.state,
            Some(EsimState::Downloaded | EsimState::Installed)
        ))
    }

    /// Records a notification and, if it is new and for an order of a served tenant,
    /// applies it to that order's progress. See [`Store::record_notification`].
    pub fn record_notification(&mut self, n: &NotificationIn) -> TxResult<NotificationOutcome> {
        let key = n.dedupe_key();
        if self
            .notifications
            .get(key.as_str())
            .map_err(backend)?
            .is_some()
        {
            return Ok(NotificationOutcome::Duplicate);
        }
        let outcome = self.apply_notification(n)?;
        let record = NotificationRecord {
            received_at_ms: n.now_ms,
            outcome: outcome.clone(),
            raw: n.raw.clone(),
        };
        self.notifications
            .insert(key.as_str(), enc(&record)?.as_slice())
            .map_err(backend)?;
        Ok(outcome)
    }

    fn apply_notification(&mut self, n: &NotificationIn) -> TxResult<NotificationOutcome> {
        let Some(sim) = Self::get_json::<SimRecord>(&self.sims, "sims", n.iccid.as_str())? else {
            return Ok(NotificationOutcome::UnknownIccid);
        };
        if sim.esim_profile_type.is_none() {
            return Ok(NotificationOutcome::UnknownIccid);
        }
        if !n.tenants.is_empty() && !n.tenants.contains(&sim.tenant) {
            return Ok(NotificationOutcome::ForeignTenant);
        }
        let order_id = match &sim.state {
            SimState::Reserved { order } | SimState::Active { order } => order.clone(),
            SimState::Available | SimState::Retired { .. } => {
                return Ok(NotificationOutcome::NoOrder);
            }
        };
        let mut progress = self.progress(&order_id)?;
        let before = progress.state;
        if let Some(success) = n.success {
            progress.state = EsimState::after(progress.state, n.point, success);
        }
        if progress.points.len() >= MAX_PROGRESS_POINTS {
            progress.points.remove(0);
        }
        progress.points.push(ProgressPoint {
            point: n.point,
            status: n.status.clone(),
            code: n.code.clone(),
            timestamp: n.timestamp.clone(),
            received_at_ms: n.now_ms,
        });
        self.esim_progress
            .insert(order_id.as_str(), enc(&progress)?.as_slice())
            .map_err(backend)?;
        if matches!(
            progress.state,
            Some(EsimState::Downloaded | EsimState::Installed)
        ) {
            // Downloaded: the order no longer expires.
            if let Some(o) = Self::get_json::<Order>(&self.orders, "orders", &order_id)? {
                if let Some(at) = o.esim.as_ref().and_then(|e| e.expires_at_ms) {
                    self.esim_expiry
                        .remove((at, order_id.as_str()))
                        .map_err(backend)?;
                }
            }
        }
        self.publish_esim(n, &order_id, before, progress.state)?;
        self.event(
            n.now_ms,
            &sim.tenant,
            Some(&order_id),
            EventKind::EsimProgress {
                point: n.point,
                status: n.status.clone(),
                code: n.code.clone(),
            },
        )?;
        Ok(NotificationOutcome::Applied { order: order_id })
    }

    /// Reopens every released eSIM order whose deadline has passed without a download, for
    /// the engine to undo. See [`Store::expire_esim`].
    pub fn expire_esim(&mut self, now_ms: u64, reopen: Reopen) -> TxResult<Vec<Order>> {
        let mut due = Vec::new();
        for row in self
            .esim_expiry
            .range((0u64, "")..(now_ms.saturating_add(1), ""))
            .map_err(backend)?
            .take(500)
        {
            let (k, _) = row.map_err(backend)?;
            let (at, id) = k.value();
            due.push((at, id.to_owned()));
        }
        let mut reopened = Vec::new();
        for (at, id) in due {
            self.esim_expiry
                .remove((at, id.as_str()))
                .map_err(backend)?;
            let Some(order) = Self::get_json::<Order>(&self.orders, "orders", &id)? else {
                continue;
            };
            if order.status != OrderStatus::Active
                || self.downloaded(&id)?
                || self.line_changed(&id)?
            {
                continue;
            }
            let next = reopen(order.clone(), now_ms);
            self.advance_order(&next, &Effect::None, &EventKind::EsimExpired)?;
            self.set_line_busy(&id, true)?;
            reopened.push(next);
        }
        Ok(reopened)
    }
}

/// Reads an order's eSIM progress.
pub(super) fn read_progress(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    order_id: &str,
) -> TxResult<Option<EsimProgress>> {
    match table.get(order_id).map_err(backend)? {
        Some(v) => Ok(Some(dec("esim_progress", v.value())?)),
        None => Ok(None),
    }
}

//! Number pools inside the writer's transaction: every state change of a number goes
//! through `set_number`, which keeps the free index, the quarantine work list and the
//! counters in step with the record (and the free tree, `free_tree.rs`, which a random
//! pick walks). Selection checks come before any write.

use super::apply::{Tables, TxResult, backend, dec, enc};
use super::free_tree::TenantTree;
use super::tables::counter;
use crate::numbers::{NumberPolicy, Pick, is_golden, pick_uniform, tree_nodes};
use crate::store::*;
use ::redb::ReadableTable;
use sim_profiles::Msisdn;
use std::collections::BTreeMap;

/// Highest character that can follow a digit key in the (tenant, MSISDN) index.
const KEY_END: &str = "~";

/// Where a number's state puts it: (counter, in the free index, quarantine deadline).
fn membership(
    state: &NumberState,
    class: NumberClass,
) -> (Option<&'static str>, bool, Option<u64>) {
    match (state, class) {
        (NumberState::Available, NumberClass::Normal) => {
            (Some(counter::NUMBERS_AVAILABLE), true, None)
        }
        (NumberState::Available, NumberClass::Golden) => {
            (Some(counter::NUMBERS_GOLDEN), false, None)
        }
        (NumberState::Held { .. }, _) => (Some(counter::NUMBERS_HELD), false, None),
        (NumberState::Quarantined { until_ms }, _) => {
            (Some(counter::NUMBERS_QUARANTINED), false, Some(*until_ms))
        }
        (
            NumberState::Reserved { .. }
            | NumberState::Assigned { .. }
            | NumberState::PortedOut { .. }
            | NumberState::PortedIn { .. }
            | NumberState::Returned { .. },
            _,
        ) => (None, false, None),
    }
}

fn corrupt(message: &str) -> StoreError {
    StoreError::Corrupt {
        table: "numbers",
        message: message.into(),
    }
}

/// The outcome of a selection: the number, or why none can be had.
pub type Selection = Result<Msisdn, Rejection>;

impl Tables<'_> {
    pub(super) fn number(&self, msisdn: &str) -> TxResult<Option<NumberRecord>> {
        match self.numbers.get(msisdn).map_err(backend)? {
            Some(v) => Ok(Some(dec("numbers", v.value())?)),
            None => Ok(None),
        }
    }

    /// Inserts a new available number; the caller bumps the counters and the free tree once
    /// per batch.
    fn put_new_number(&mut self, tenant: &str, msisdn: &str, rec: &NumberRecord) -> TxResult<()> {
        self.numbers
            .insert(msisdn, enc(rec)?.as_slice())
            .map_err(backend)?;
        let index = match rec.class {
            NumberClass::Normal => &mut self.free_numbers,
            NumberClass::Golden => &mut self.free_golden,
        };
        index.insert((tenant, msisdn), ()).map_err(backend)?;
        Ok(())
    }

    fn enter(
        &mut self,
        tenant: &str,
        block: &str,
        msisdn: &str,
        state: &NumberState,
        class: NumberClass,
    ) -> TxResult<()> {
        let (c, free, quarantine) = membership(state, class);
        if let Some(c) = c {
            self.bump_in(tenant, block, c, 1)?;
        }
        if free {
            self.free_numbers
                .insert((tenant, msisdn), ())
                .map_err(backend)?;
            for node in tree_nodes(msisdn) {
                self.tree_bump(tenant, node, 1)?;
            }
        }
        if (state, class) == (&NumberState::Available, NumberClass::Golden) {
            self.free_golden
                .insert((tenant, msisdn), ())
                .map_err(backend)?;
        }
        if let Some(until) = quarantine {
            self.quarantine
                .insert((until, msisdn), ())
                .map_err(backend)?;
        }
        Ok(())
    }

    fn leave(
        &mut self,
        tenant: &str,
        block: &str,
        msisdn: &str,
        state: &NumberState,
        class: NumberClass,
    ) -> TxResult<()> {
        let (c, free, quarantine) = membership(state, class);
        if let Some(c) = c {
            self.bump_in(tenant, block, c, -1)?;
        }
        if free {
            self.free_numbers
                .remove((tenant, msisdn))
                .map_err(backend)?;
            for node in tree_nodes(msisdn) {
                self.tree_bump(tenant, node, -1)?;
            }
        }
        if (state, class) == (&NumberState::Available, NumberClass::Golden) {
            self.free_golden.remove((tenant, msisdn)).map_err(backend)?;
        }
        if let Some(until) = quarantine {
            self.quarantine.remove((until, msisdn)).map_err(backend)?;
        }
        Ok(())
    }

    /// Moves a number to `state`, keeping indexes and counters in step.
    pub fn set_number(
        &mut self,
        tenant: &str,
        msisdn: &Msisdn,
        state: NumberState,
    ) -> TxResult<()> {
        let key = msisdn.as_str();
        let mut rec = self
            .number(key)?
            .ok_or_else(|| corrupt("number of an order is missing"))?;
        self.leave(tenant, &rec.block, key, &rec.state, rec.class)?;
        self.enter(tenant, &rec.block, key, &state, rec.class)?;
        rec.state = state;
        self.numbers
            .insert(key, enc(&rec)?.as_slice())
            .map_err(backend)?;
        Ok(())
    }

    /// The first free ordinary number at or after `from` for `tenant`.
    fn free_from(&self, tenant: &str, from: &str) -> TxResult<Option<String>> {
        let mut range = self
            .free_numbers
            .range((tenant, from)..=(tenant, KEY_END))
            .map_err(backend)?;
        Ok(range
            .next()
            .transpose()
            .map_err(backend)?
            .map(|(k, _)| k.value().1.to_owned()))
    }

    /// Picks a free ordinary number by policy: the lowest, or one drawn uniformly from all
    /// the tenant's free numbers by walking the free tree (O(digits × log n)).
    fn pick_free(
        &self,
        tenant: &str,
        policy: NumberPolicy,
        random: u64,
    ) -> TxResult<Option<String>> {
        let Some(first) = self.free_from(tenant, "")? else {
            return Ok(None);
        };
        if policy == NumberPolicy::Sequential {
            return Ok(Some(first));
        }
        match pick_uniform(&TenantTree { t: self, tenant }, random)? {
            Pick::Number(n) => Ok(Some(n)),
            // The free index has a number the tree does not account for: serve the order
            // from the index rather than refuse it, and say so.
            Pick::Empty | Pick::Inconsistent => {
                tracing::warn!(
                    tenant,
                    "the free-number tree disagrees with the free index; assigning the lowest free number"
                );
                Ok(Some(first))
            }
        }
    }

    /// Checks a specific number for `tenant`: in its pool and available (golden allowed).
    fn check_chosen(&self, tenant: &str, m: &Msisdn) -> TxResult<Selection> {
        let Some(rec) = self.number(m.as_str())? else {
            return Ok(Err(Rejection::NumberNotInPool));
        };
        if rec.tenant != tenant {
            return Ok(Err(Rejection::NumberNotInPool));
        }
        if rec.state != NumberState::Available {
            return Ok(Err(Rejection::NumberNotAvailable));
        }
        Ok(Ok(m.clone()))
    }

    fn auto(&self, tenant: &Tenant, random: u64) -> TxResult<Selection> {
        match self.pick_free(&tenant.id, tenant.number_policy, random)? {
            Some(m) => Ok(Ok(m
                .parse()
                .map_err(|_| corrupt("bad MSISDN key in the free index"))?)),
            None => Ok(Err(Rejection::NumberPoolExhausted)),
        }
    }

    /// Chooses the number for a new order without writing anything.
    pub fn select_number(
        &self,
        tenant: &Tenant,
        choice: &NumberChoice,
        random: u64,
        now_ms: u64,
    ) -> TxResult<Selection> {
        match choice {
            NumberChoice::Auto => self.auto(tenant, random),
            NumberChoice::Choose(m) => self.check_chosen(&tenant.id, m),
            NumberChoice::Ported(m) => Ok(Ok(m.clone())),
            NumberChoice::Reservation(id) => {
                let Some(r) = self.reservation(id)? else {
                    return Ok(Err(Rejection::ReservationNotFound));
                };
                if r.tenant != tenant.id {
                    return Ok(Err(Rejection::ReservationNotFound));
                }
                let holds = self.number(r.msisdn.as_str())?.is_some_and(|n| {
                    matches!(&n.state, NumberState::Held { reservation, .. } if *reservation == r.id)
                });
                if r.order.is_some() || r.expires_at_ms <= now_ms || !holds {
                    return Ok(Err(Rejection::ReservationNotUsable));
                }
                Ok(Ok(r.msisdn))
            }
        }
    }

    /// Gives the selected number to `order` (after `select_number` accepted it).
    pub fn take_number(
        &mut self,
        tenant: &str,
        choice: &NumberChoice,
        msisdn: &Msisdn,
        order: &str,
    ) -> TxResult<()> {
        if matches!(choice, NumberChoice::Ported(_)) {
            return Ok(());
        }
        if let NumberChoice::Reservation(id) = choice {
            let mut r = self
                .reservation(id)?
                .ok_or_else(|| corrupt("reservation vanished"))?;
            self.reservation_expiry
                .remove((r.expires_at_ms, r.id.as_str()))
                .map_err(backend)?;
            r.order = Some(order.to_owned());
            self.reservations
                .insert(r.id.as_str(), enc(&r)?.as_slice())
                .map_err(backend)?;
        }
        self.set_number(
            tenant,
            msisdn,
            NumberState::Reserved {
                order: order.to_owned(),
            },
        )
    }

    /// A reservation by id.
    pub fn reservation(&self, id: &str) -> TxResult<Option<Reservation>> {
        match self.reservations.get(id).map_err(backend)? {
            Some(v) => Ok(Some(dec("reservations", v.value())?)),
            None => Ok(None),
        }
    }

    /// See [`Store::create_reservation`].
    pub fn create_reservation(&mut self, new: &NewReservation) -> TxResult<ReservationOutcome> {
        let idem_key = (new.tenant.as_str(), new.idempotency_key.as_str());
        if let Some(v) = self.reservation_idem.get(idem_key).map_err(backend)? {
            let (hash, id): (String, String) = dec("reservation_idem", v.value())?;
            if hash != new.body_hash {
                return Ok(ReservationOutcome::KeyReused);
            }
            let r = self
                .reservation(&id)?
                .ok_or_else(|| corrupt("reservation of an idempotency record vanished"))?;
            return Ok(ReservationOutcome::Replayed(r));
        }
        let Some(tenant) = self.tenant(&new.tenant)? else {
            return Ok(ReservationOutcome::Rejected(Rejection::UnknownTenant));
        };
        let msisdn = match &new.msisdn {
            Some(m) => self.check_chosen(&tenant.id, m)?,
            None => self.auto(&tenant, new.random)?,
        };
        let msisdn = match msisdn {
            Ok(m) => m,
            Err(r) => return Ok(ReservationOutcome::Rejected(r)),
        };
        let r = Reservation {
            id: new.id.clone(),
            tenant: tenant.id.clone(),
            msisdn: msisdn.clone(),
            created_at_ms: new.now_ms,
            expires_at_ms: new.now_ms + new.ttl_ms,
            order: None,
        };
        self.set_number(
            &tenant.id,
            &msisdn,
            NumberState::Held {
                reservation: r.id.clone(),
                until_ms: r.expires_at_ms,
            },
        )?;
        self.reservations
            .insert(r.id.as_str(), enc(&r)?.as_slice())
            .map_err(backend)?;
        self.reservation_expiry
            .insert((r.expires_at_ms, r.id.as_str()), ())
            .map_err(backend)?;
        self.reservation_idem
            .insert(
                idem_key,
                enc(&(new.body_hash.as_str(), r.id.as_str()))?.as_slice(),
            )
            .map_err(backend)?;
        Ok(ReservationOutcome::Created(r))
    }

    /// See [`Store::release_reservation`].
    pub fn release_reservation(&mut self, tenant: &str, id: &str, now_ms: u64) -> TxResult<bool> {
        let Some(mut r) = self.reservation(id)? else {
            return Ok(false);
        };
        if r.tenant != tenant || r.order.is_some() || r.expires_at_ms <= now_ms {
            return Ok(false);
        }
        let held = self.number(r.msisdn.as_str())?.is_some_and(
            |n| matches!(&n.state, NumberState::Held { reservation, .. } if *reservation == r.id),
        );
        self.reservation_expiry
            .remove((r.expires_at_ms, r.id.as_str()))
            .map_err(backend)?;
        r.expires_at_ms = now_ms;
        self.reservations
            .insert(r.id.as_str(), enc(&r)?.as_slice())
            .map_err(backend)?;
        if held {
            self.set_number(tenant, &r.msisdn, NumberState::Available)?;
        }
        Ok(true)
    }

    /// See [`Store::expire_due`]: lapsed holds go back to the pool, aged quarantine too.
    pub fn expire_due(&mut self, now_ms: u64) -> TxResult<Expired> {
        let mut due = Vec::new();
        for row in self
            .reservation_expiry
            .range((0u64, "")..=(now_ms, KEY_END))
            .map_err(backend)?
        {
            let (k, _) = row.map_err(backend)?;
            let (at, id) = k.value();
            due.push((at, id.to_owned()));
        }
        let mut out = Expired::default();
        for (at, id) in due {
            self.reservation_expiry
                .remove((at, id.as_str()))
                .map_err(backend)?;
            let Some(r) = self.reservation(&id)? else {
                continue;
            };
            let held = self.number(r.msisdn.as_str())?.is_some_and(|n| {
                matches!(&n.state, NumberState::Held { reservation, .. } if *reservation == r.id)
            });
            if r.order.is_none() && held {
                self.set_number(&r.tenant, &r.msisdn, NumberState::Available)?;
                out.reservations += 1;
            }
        }
        let mut aged = Vec::new();
        for row in self
            .quarantine
            .range((0u64, "")..=(now_ms, KEY_END))
            .map_err(backend)?
        {
            let (k, _) = row.map_err(backend)?;
            aged.push(k.value().1.to_owned());
        }
        for m in aged {
            let rec = self
                .number(&m)?
                .ok_or_else(|| corrupt("quarantined number missing"))?;
            let msisdn: Msisdn = m
                .parse()
                .map_err(|_| corrupt("bad MSISDN key in quarantine"))?;
            self.set_number(&rec.tenant, &msisdn, NumberState::Available)?;
            out.quarantine += 1;
        }
        Ok(out)
    }

    /// See [`Store::quarantine_number`]: an assigned number starts ageing.
    pub fn quarantine_number(
        &mut self,
        tenant: &str,
        msisdn: &Msisdn,
        now_ms: u64,
    ) -> TxResult<bool> {
        let Some(rec) = self.number(msisdn.as_str())? else {
            return Ok(false);
        };
        if rec.tenant != tenant || !matches!(rec.state, NumberState::Assigned { .. }) {
            return Ok(false);
        }
        // The tenant as decoded once per stored value (`tenant_memo`), not afresh here.
        let Some(days) = self.tenant(tenant)?.map(|t| t.quarantine_days) else {
            return Ok(false);
        };
        let until_ms = now_ms + u64::from(days) * 86_400_000;
        self.set_number(tenant, msisdn, NumberState::Quarantined { until_ms })?;
        Ok(true)
    }

    /// Records the number of a completed port-in (`ported_number.rs`): a number of the
    /// tenant's own pool coming home is assigned in its block; any other is recorded
    /// `ported_in`, replacing a record of it that counts nowhere.
    pub(super) fn take_ported_number(
        &mut self,
        tenant: &str,
        order: &str,
        port: &crate::order::PortIn,
    ) -> TxResult<()> {
        let key = port.number.as_str();
        let existing = self.number(key)?;
        match crate::store::on_port_in_completed(existing.as_ref(), tenant, order, port) {
            crate::store::PortedNumber::Assign => {
                let assigned = NumberState::Assigned {
                    order: order.to_owned(),
                };
                self.set_number(tenant, &port.number, assigned)
            }
            crate::store::PortedNumber::Record(rec) => {
                if let Some(old) = &existing {
                    self.leave(&old.tenant, &old.block, key, &old.state, old.class)?;
                }
                self.numbers
                    .insert(key, enc(&rec)?.as_slice())
                    .map_err(backend)?;
                Ok(())
            }
        }
    }

    /// A line's number that came by a port-in, now returned to its range holder by
    /// `order`, is recorded `returned`; any other number is left as it is.
    pub(super) fn mark_returned(
        &mut self,
        tenant: &str,
        msisdn: &Msisdn,
        order: &str,
    ) -> TxResult<()> {
        let Some(rec) = self.number(msisdn.as_str())? else {
            return Ok(());
        };
        match crate::store::returned_state(&rec, order) {
            Some(state) if rec.tenant == tenant => self.set_number(tenant, msisdn, state),
            _ => Ok(()),
        }
    }

    /// See [`Store::release_quarantine`]: an operator ends a quarantine early.
    pub fn release_quarantine(&mut self, tenant: &str, msisdn: &Msisdn) -> TxResult<bool> {
        let Some(rec) = self.number(msisdn.as_str())? else {
            return Ok(false);
        };
        if rec.tenant != tenant || !matches!(rec.state, NumberState::Quarantined { .. }) {
            return Ok(false);
        }
        self.set_number(tenant, msisdn, NumberState::Available)?;
        Ok(true)
    }

    /// Adds a block of consecutive numbers, classifying golden ones by the tenant's rules.
    pub fn add_numbers(
        &mut self,
        tenant: &str,
        block: &str,
        first: &Msisdn,
        count: u64,
        now_ms: u64,
    ) -> TxResult<AdminOutcome> {
        let Some(t) = self
            .tenants
            .get(tenant)
            .map_err(backend)?
            .map(|v| dec::<Tenant>("tenants", v.value()))
            .transpose()?
        else {
            return Ok(AdminOutcome::Refused(format!(
                "tenant `{tenant}` does not exist"
            )));
        };
        let width = first.as_str().len();
        let Ok(start) = first.as_str().parse::<u64>() else {
            return Ok(AdminOutcome::Refused("first number is not numeric".into()));
        };
        let Some(end) = start
            .checked_add(count.saturating_sub(1))
            .filter(|e| e.to_string().len() == width)
        else {
            return Ok(AdminOutcome::Refused(
                "block overflows the number length".into(),
            ));
        };
        // Keys of one width sort numerically, so one range read finds any overlap.
        let (lo, hi) = (format!("{start:0width$}"), format!("{end:0width$}"));
        let clash: Option<String> = self
            .numbers
            .range(lo.as_str()..=hi.as_str())
            .map_err(backend)?
            .next()
            .transpose()
            .map_err(backend)?
            .map(|(k, _)| k.value().to_owned());
        if let Some(k) = clash {
            return Ok(AdminOutcome::Refused(format!(
                "number {k} is already in a pool"
            )));
        }

        let mut golden = 0u64;
        let mut tree: BTreeMap<(u8, u8, String), i64> = BTreeMap::new();
        for n in start..=end {
            let n = format!("{n:0width$}");
            let class = if is_golden(&t.golden_rules, &n) {
                NumberClass::Golden
            } else {
                NumberClass::Normal
            };
            golden += u64::from(class == NumberClass::Golden);
            if class == NumberClass::Normal {
                for (d, w, p) in tree_nodes(&n) {
                    *tree.entry((d, w, p.to_owned())).or_insert(0) += 1;
                }
            }
            let rec = NumberRecord {
                tenant: tenant.to_owned(),
                block: block.to_owned(),
                state: NumberState::Available,
                class,
            };
            self.put_new_number(tenant, &n, &rec)?;
        }
        for ((d, w, p), delta) in &tree {
            self.tree_bump(tenant, (*d, *w, p), *delta)?;
        }
        let normal = count - golden;
        self.bump_in(
            tenant,
            block,
            counter::NUMBERS_AVAILABLE,
            i64::try_from(normal).unwrap_or(i64::MAX),
        )?;
        self.bump_in(
            tenant,
            block,
            counter::NUMBERS_GOLDEN,
            i64::try_from(golden).unwrap_or(i64::MAX),
        )?;
        self.log_admin(
            now_ms,
            tenant,
            format!("numbers_added {block} {count} ({golden} golden)"),
        )?;
        Ok(AdminOutcome::Applied)
    }
}

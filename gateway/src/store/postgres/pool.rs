//! Number pools (embedded `pool.rs`): choosing a number for a new order
//! ([`select_number`] then [`take_number`], the primitives `create_activation` and a
//! number change use), checkout reservations, quarantine, and the expiry sweep. Every
//! number state change goes through `numbers::set_number` (or `write_number`, for a number
//! read in the transaction).

use super::PgStore;
use super::codec::{big, from_doc, tenant_from_doc, to_doc, unbig};
use super::numbers::{Ends, ReadNumber, get_number, pick_free, set_number, write_number};
use super::retry::{Tx, TxResult, db_error};
use crate::store::*;
use sim_profiles::Msisdn;
use std::sync::Arc;

/// Most holds and most quarantined numbers one sweep returns to the pool; a node's pool
/// timer calls again at once while deadlines are due.
pub const SWEEP_LIMIT: i64 = 1_000;

/// A number chosen for a new order: one of the pool, read in this transaction, or a
/// number being ported in (in no pool).
pub enum Selected {
    /// A pool number and its record.
    Pool(ReadNumber),
    /// A number being ported in.
    Ported(Msisdn),
}

impl Selected {
    /// The number.
    pub fn msisdn(&self) -> &Msisdn {
        match self {
            Self::Pool(r) => &r.msisdn,
            Self::Ported(m) => m,
        }
    }
}

/// The outcome of a selection: the number, or why none can be had.
pub type Selection = Result<Selected, Rejection>;

/// A pool number, or why none can be had.
type PoolSelection = Result<ReadNumber, Rejection>;

/// A tenant by id, in the transaction.
pub async fn tenant_in(tx: &Tx<'_>, id: &str) -> TxResult<Option<Arc<Tenant>>> {
    match tx
        .row("SELECT doc FROM tenants WHERE id = $1", &[&id])
        .await?
    {
        Some(r) => Ok(Some(tenant_from_doc(id, r.get(0))?)),
        None => Ok(None),
    }
}

/// A reservation by id, in the transaction.
pub async fn reservation(tx: &Tx<'_>, id: &str) -> TxResult<Option<Reservation>> {
    match tx
        .row("SELECT doc FROM reservations WHERE id = $1", &[&id])
        .await?
    {
        Some(r) => Ok(Some(from_doc("reservations", r.get(0))?)),
        None => Ok(None),
    }
}

/// Checks a chosen number for `tenant`: in its pool and available (golden allowed).
pub async fn check_chosen(tx: &Tx<'_>, tenant: &str, m: &Msisdn) -> TxResult<PoolSelection> {
    let Some(rec) = get_number(tx, m.as_str()).await? else {
        return Ok(Err(Rejection::NumberNotInPool));
    };
    if rec.tenant != tenant {
        return Ok(Err(Rejection::NumberNotInPool));
    }
    if rec.state != NumberState::Available {
        return Ok(Err(Rejection::NumberNotAvailable));
    }
    Ok(Ok(ReadNumber {
        msisdn: m.clone(),
        record: rec,
        unlisted: false,
    }))
}

async fn auto(
    tx: &Tx<'_>,
    tenant: &Tenant,
    random: u64,
    ends: Option<Ends>,
) -> TxResult<PoolSelection> {
    Ok(
        pick_free(tx, &tenant.id, (tenant.number_policy, random), ends)
            .await?
            .ok_or(Rejection::NumberPoolExhausted),
    )
}

fn holds(n: &NumberRecord, reservation_id: &str) -> bool {
    matches!(&n.state, NumberState::Held { reservation, .. } if reservation == reservation_id)
}

/// Chooses the number for a new order, read in this transaction for [`take_number`]. An
/// automatic pick (from the free list's `ends` when the caller read them already) takes
/// the number off the free list and row-locks it, so a concurrent pick passes over it;
/// a transaction that then refuses the order rolls back.
pub async fn select_number(
    tx: &Tx<'_>,
    tenant: &Tenant,
    choice: &NumberChoice,
    (random, ends): (u64, Option<Ends>),
    now_ms: u64,
) -> TxResult<Selection> {
    let pool = match choice {
        NumberChoice::Auto => auto(tx, tenant, random, ends).await?,
        NumberChoice::Choose(m) => check_chosen(tx, &tenant.id, m).await?,
        NumberChoice::Ported(m) => return Ok(Ok(Selected::Ported(m.clone()))),
        NumberChoice::Reservation(id) => {
            let Some(r) = reservation(tx, id).await? else {
                return Ok(Err(Rejection::ReservationNotFound));
            };
            if r.tenant != tenant.id {
                return Ok(Err(Rejection::ReservationNotFound));
            }
            let held = get_number(tx, r.msisdn.as_str())
                .await?
                .filter(|n| holds(n, &r.id));
            match held {
                Some(record) if r.order.is_none() && r.expires_at_ms > now_ms => Ok(ReadNumber {
                    msisdn: r.msisdn,
                    record,
                    unlisted: false,
                }),
                _ => Err(Rejection::ReservationNotUsable),
            }
        }
    };
    Ok(pool.map(Selected::Pool))
}

/// Gives the selected number to `order` (after [`select_number`] accepted it); a
/// reservation it came from is marked used and leaves the expiry list.
pub async fn take_number(
    tx: &Tx<'_>,
    choice: &NumberChoice,
    selected: Selected,
    order: &str,
) -> TxResult<()> {
    let Selected::Pool(read) = selected else {
        return Ok(());
    };
    if let NumberChoice::Reservation(id) = choice {
        let mut r = reservation(tx, id)
            .await?
            .ok_or_else(|| StoreError::Corrupt {
                table: "reservations",
                message: "reservation vanished".into(),
            })?;
        r.order = Some(order.to_owned());
        tx.exec(
            "UPDATE reservations SET order_id = $2, on_expiry_list = FALSE, doc = $3 WHERE id = $1",
            &[&r.id, &order, &to_doc(&r)?],
        )
        .await?;
    }
    let state = NumberState::Reserved {
        order: order.to_owned(),
    };
    write_number(tx, read, state).await?;
    Ok(())
}

async fn create_reservation(tx: &Tx<'_>, new: &NewReservation) -> TxResult<ReservationOutcome> {
    if let Some(r) = tx
        .row(
            "SELECT body_hash, doc FROM reservations WHERE tenant = $1 AND idempotency_key = $2",
            &[&new.tenant, &new.idempotency_key],
        )
        .await?
    {
        let hash: String = r.get(0);
        if hash != new.body_hash {
            return Ok(ReservationOutcome::KeyReused);
        }
        return Ok(ReservationOutcome::Replayed(from_doc(
            "reservations",
            r.get(1),
        )?));
    }
    let Some(tenant) = tenant_in(tx, &new.tenant).await? else {
        return Ok(ReservationOutcome::Rejected(Rejection::UnknownTenant));
    };
    let msisdn = match &new.msisdn {
        Some(m) => check_chosen(tx, &tenant.id, m).await?,
        None => auto(tx, &tenant, new.random, None).await?,
    };
    let read = match msisdn {
        Ok(read) => read,
        Err(r) => return Ok(ReservationOutcome::Rejected(r)),
    };
    let msisdn = read.msisdn.clone();
    let r = Reservation {
        id: new.id.clone(),
        tenant: tenant.id.clone(),
        msisdn: msisdn.clone(),
        created_at_ms: new.now_ms,
        expires_at_ms: new.now_ms.saturating_add(new.ttl_ms),
        order: None,
    };
    let held = NumberState::Held {
        reservation: r.id.clone(),
        until_ms: r.expires_at_ms,
    };
    write_number(tx, read, held).await?;
    tx.exec(
        "INSERT INTO reservations (id, tenant, msisdn, idempotency_key, body_hash, expires_at_ms,
                                   on_expiry_list, doc)
         VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7)",
        &[
            &r.id,
            &r.tenant,
            &msisdn.as_str(),
            &new.idempotency_key,
            &new.body_hash,
            &big(r.expires_at_ms),
            &to_doc(&r)?,
        ],
    )
    .await?;
    Ok(ReservationOutcome::Created(r))
}

async fn expire_due(tx: &Tx<'_>, now_ms: u64) -> TxResult<Expired> {
    let mut out = Expired::default();
    // SKIP LOCKED: nodes sweeping at once share the due rows instead of colliding.
    let due = tx
        .rows(
            "SELECT id FROM reservations WHERE on_expiry_list AND expires_at_ms <= $1
             ORDER BY expires_at_ms, id LIMIT $2 FOR UPDATE SKIP LOCKED",
            &[&big(now_ms), &SWEEP_LIMIT],
        )
        .await?;
    for row in due {
        let id: String = row.get(0);
        tx.exec(
            "UPDATE reservations SET on_expiry_list = FALSE WHERE id = $1",
            &[&id],
        )
        .await?;
        let Some(r) = reservation(tx, &id).await? else {
            continue;
        };
        let held = get_number(tx, r.msisdn.as_str())
            .await?
            .is_some_and(|n| holds(&n, &r.id));
        if r.order.is_none() && held {
            set_number(tx, &r.msisdn, NumberState::Available).await?;
            out.reservations += 1;
        }
    }
    let aged = tx
        .rows(
            "SELECT msisdn FROM numbers WHERE state = 'quarantined' AND until_ms <= $1
             ORDER BY until_ms, msisdn LIMIT $2 FOR UPDATE SKIP LOCKED",
            &[&big(now_ms), &SWEEP_LIMIT],
        )
        .await?;
    for row in aged {
        let m: Msisdn = row
            .get::<_, &str>(0)
            .parse()
            .map_err(|_| StoreError::Corrupt {
                table: "numbers",
                message: "bad MSISDN key in quarantine".into(),
            })?;
        set_number(tx, &m, NumberState::Available).await?;
        out.quarantine += 1;
    }
    Ok(out)
}

/// Starts the quarantine of `tenant`'s assigned number `msisdn` for the tenant's
/// quarantine days (false, nothing changed, for another state or tenant).
pub async fn quarantine_number(
    tx: &Tx<'_>,
    tenant: &str,
    msisdn: &Msisdn,
    now_ms: u64,
) -> TxResult<bool> {
    let Some(rec) = get_number(tx, msisdn.as_str()).await? else {
        return Ok(false);
    };
    if rec.tenant != tenant || !matches!(rec.state, NumberState::Assigned { .. }) {
        return Ok(false);
    }
    let Some(t) = tenant_in(tx, tenant).await? else {
        return Ok(false);
    };
    let until_ms = now_ms.saturating_add(u64::from(t.quarantine_days) * 86_400_000);
    set_number(tx, msisdn, NumberState::Quarantined { until_ms }).await?;
    Ok(true)
}

async fn release_reservation(tx: &Tx<'_>, tenant: &str, id: &str, now_ms: u64) -> TxResult<bool> {
    let Some(mut r) = reservation(tx, id).await? else {
        return Ok(false);
    };
    if r.tenant != tenant || r.order.is_some() || r.expires_at_ms <= now_ms {
        return Ok(false);
    }
    let held = get_number(tx, r.msisdn.as_str())
        .await?
        .is_some_and(|n| holds(&n, &r.id));
    r.expires_at_ms = now_ms;
    tx.exec(
        "UPDATE reservations SET expires_at_ms = $2, on_expiry_list = FALSE, doc = $3 WHERE id = $1",
        &[&r.id, &big(now_ms), &to_doc(&r)?],
    )
    .await?;
    if held {
        set_number(tx, &r.msisdn, NumberState::Available).await?;
    }
    Ok(true)
}

async fn release_quarantine(tx: &Tx<'_>, tenant: &str, msisdn: &Msisdn) -> TxResult<bool> {
    let Some(rec) = get_number(tx, msisdn.as_str()).await? else {
        return Ok(false);
    };
    if rec.tenant != tenant || !matches!(rec.state, NumberState::Quarantined { .. }) {
        return Ok(false);
    }
    set_number(tx, msisdn, NumberState::Available).await?;
    Ok(true)
}

impl PgStore {
    /// Holds a number for a checkout until the TTL lapses (idempotent by key and body).
    pub async fn create_reservation(
        &self,
        new: NewReservation,
    ) -> Result<ReservationOutcome, StoreError> {
        self.transaction(&new, |tx, new| Box::pin(create_reservation(tx, new)))
            .await
    }

    /// A reservation of the tenant.
    pub async fn get_reservation(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<Reservation>, StoreError> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT doc FROM reservations WHERE id = $1 AND tenant = $2",
                &[&id, &tenant],
            )
            .await
            .map_err(|e| db_error(&e))?;
        row.map(|r| from_doc("reservations", r.get(0))).transpose()
    }

    /// Returns lapsed holds and aged quarantine (deadlines at or before `now_ms`) to the
    /// pool, at most [`SWEEP_LIMIT`] of each per call.
    pub async fn expire_due(&self, now_ms: u64) -> Result<Expired, StoreError> {
        self.transaction(&now_ms, |tx, now| Box::pin(expire_due(tx, *now)))
            .await
    }

    /// Starts the quarantine of an assigned number (termination, port-out).
    pub async fn quarantine_number(
        &self,
        tenant: &str,
        msisdn: &Msisdn,
        now_ms: u64,
    ) -> Result<bool, StoreError> {
        self.transaction(&(tenant, msisdn, now_ms), |tx, (tenant, msisdn, now)| {
            Box::pin(quarantine_number(tx, tenant, msisdn, *now))
        })
        .await
    }

    /// See [`Store::release_reservation`].
    pub async fn release_reservation(
        &self,
        tenant: &str,
        id: &str,
        now_ms: u64,
    ) -> Result<bool, StoreError> {
        self.transaction(&(tenant, id, now_ms), |tx, (tenant, id, now)| {
            Box::pin(release_reservation(tx, tenant, id, *now))
        })
        .await
    }

    /// See [`Store::free_numbers`].
    pub async fn free_numbers(
        &self,
        tenant: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(Msisdn, NumberClass)>, StoreError> {
        let n = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read_rows(
            "SELECT msisdn, class FROM numbers
             WHERE tenant = $1 AND state = 'available' AND msisdn > $2
             ORDER BY msisdn LIMIT $3",
            &[&tenant, &after.unwrap_or(""), &n],
        )
        .await?
        .iter()
        .map(|r| {
            let m: Msisdn = r
                .get::<_, &str>(0)
                .parse()
                .map_err(|_| StoreError::Corrupt {
                    table: "numbers",
                    message: "bad MSISDN".into(),
                })?;
            let class = match r.get::<_, &str>(1) {
                "golden" => NumberClass::Golden,
                _ => NumberClass::Normal,
            };
            Ok((m, class))
        })
        .collect()
    }

    /// Ends a number's quarantine early (operator decision).
    pub async fn release_quarantine(
        &self,
        tenant: &str,
        msisdn: &Msisdn,
    ) -> Result<bool, StoreError> {
        self.transaction(&(tenant, msisdn), |tx, (tenant, msisdn)| {
            Box::pin(release_quarantine(tx, tenant, msisdn))
        })
        .await
    }

    /// A tenant's quarantined numbers with their release time, soonest first.
    pub async fn quarantined(
        &self,
        tenant: &str,
        limit: usize,
    ) -> Result<Vec<(Msisdn, u64)>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT msisdn, until_ms FROM numbers WHERE tenant = $1 AND state = 'quarantined'
                 ORDER BY until_ms, msisdn LIMIT $2",
                &[&tenant, &limit],
            )
            .await
            .map_err(|e| db_error(&e))?;
        rows.iter()
            .map(|r| {
                let m = r
                    .get::<_, &str>(0)
                    .parse()
                    .map_err(|_| StoreError::Corrupt {
                        table: "numbers",
                        message: "bad MSISDN key".into(),
                    })?;
                Ok((m, unbig(r.get(1))))
            })
            .collect()
    }

    /// The earliest checkout-hold or quarantine deadline, if any.
    pub async fn next_pool_deadline(&self) -> Result<Option<u64>, StoreError> {
        let c = self.client().await?;
        let row = c
            .query_one(
                "SELECT (SELECT MIN(expires_at_ms) FROM reservations WHERE on_expiry_list),
                        (SELECT MIN(until_ms) FROM numbers WHERE state = 'quarantined')",
                &[],
            )
            .await
            .map_err(|e| db_error(&e))?;
        let (a, b): (Option<i64>, Option<i64>) = (row.get(0), row.get(1));
        Ok(match (a.map(unbig), b.map(unbig)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
    }
}

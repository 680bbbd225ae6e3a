//! Numbers: every state change goes through [`set_number`], which writes the state
//! columns and `doc` together, moves the number between the counters, as the embedded
//! `pool.rs` does, and keeps `free_numbers` (the free ordinary numbers, which
//! [`pick_free`] allocates from) in step. The quarantine lists index `until_ms`, so they
//! follow by themselves. No index reads the state column: a state change is then a
//! heap-only update (migration 2 says why that matters at SERIALIZABLE).

use super::codec::{DocRef, big, from_doc, to_doc};
use super::counters::{self, counter};
use super::retry::{Tx, TxError, TxResult};
use crate::numbers::{NumberPolicy, draw_below};
use crate::store::{NumberClass, NumberRecord, NumberState, StoreError};
use sim_profiles::Msisdn;

/// The state columns of a number: (state, holder, until_ms).
pub fn columns(state: &NumberState) -> (&'static str, Option<&str>, Option<i64>) {
    match state {
        NumberState::Available => ("available", None, None),
        NumberState::Reserved { order } => ("reserved", Some(order), None),
        NumberState::Assigned { order } => ("assigned", Some(order), None),
        NumberState::Held {
            reservation,
            until_ms,
        } => ("held", Some(reservation), Some(big(*until_ms))),
        NumberState::Quarantined { until_ms } => ("quarantined", None, Some(big(*until_ms))),
        NumberState::PortedOut { order } => ("ported_out", Some(order), None),
        NumberState::PortedIn { order, .. } => ("ported_in", Some(order), None),
        NumberState::Returned { order, .. } => ("returned", Some(order), None),
    }
}

/// The counter a number in `state` counts under, if any (embedded `pool.rs` membership).
pub fn counter_of(state: &NumberState, class: NumberClass) -> Option<&'static str> {
    counter_of_columns(columns(state).0, class_name(class))
}

/// The counter of a number whose `state` and `class` columns hold these labels.
pub fn counter_of_columns(state: &str, class: &str) -> Option<&'static str> {
    match (state, class) {
        ("available", "golden") => Some(counter::NUMBERS_GOLDEN),
        ("available", _) => Some(counter::NUMBERS_AVAILABLE),
        ("held", _) => Some(counter::NUMBERS_HELD),
        ("quarantined", _) => Some(counter::NUMBERS_QUARANTINED),
        _ => None,
    }
}

/// The `class` column of a number class.
pub fn class_name(c: NumberClass) -> &'static str {
    match c {
        NumberClass::Normal => "normal",
        NumberClass::Golden => "golden",
    }
}

/// A number's record.
pub async fn get_number(tx: &Tx<'_>, msisdn: &str) -> TxResult<Option<NumberRecord>> {
    match tx
        .row("SELECT doc FROM numbers WHERE msisdn = $1", &[&msisdn])
        .await?
    {
        Some(r) => Ok(Some(from_doc("numbers", r.get(0))?)),
        None => Ok(None),
    }
}

/// Whether a number in `state` of `class` is in `free_numbers`.
fn is_free(state: &NumberState, class: NumberClass) -> bool {
    *state == NumberState::Available && class == NumberClass::Normal
}

/// Puts `msisdn` in or out of `free_numbers` when its state change moves it.
async fn keep_free_list(
    tx: &Tx<'_>,
    tenant: &str,
    msisdn: &str,
    (was, is): (bool, bool),
) -> TxResult<()> {
    if was && !is {
        tx.exec(
            "DELETE FROM free_numbers WHERE tenant = $1 AND msisdn = $2",
            &[&tenant, &msisdn],
        )
        .await?;
    } else if is && !was {
        tx.exec(
            "INSERT INTO free_numbers (tenant, msisdn) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&tenant, &msisdn],
        )
        .await?;
    }
    Ok(())
}

/// Inserts a number new to the pool; the caller counts it (once per block).
pub async fn insert_number(tx: &Tx<'_>, msisdn: &str, rec: &NumberRecord) -> TxResult<()> {
    let (state, holder, until) = columns(&rec.state);
    tx.exec(
        "INSERT INTO numbers (msisdn, tenant, block, class, state, holder, until_ms, doc)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &msisdn,
            &rec.tenant,
            &rec.block,
            &class_name(rec.class),
            &state,
            &holder,
            &until,
            &to_doc(rec)?,
        ],
    )
    .await?;
    let free = is_free(&rec.state, rec.class);
    keep_free_list(tx, &rec.tenant, msisdn, (false, free)).await
}

/// A tenant's lowest and highest free ordinary numbers, read in this transaction; `None`
/// when none is free.
pub type Ends = Option<(String, String)>;

/// A pool number read in this transaction, for [`write_number`] to move without reading
/// it again.
pub struct ReadNumber {
    /// The number.
    pub msisdn: Msisdn,
    /// Its record as read.
    pub record: NumberRecord,
    /// Its `free_numbers` row is gone already ([`pick_free`] deleted it).
    pub unlisted: bool,
}

/// Moves a number to `state`, keeping its columns, `doc` and the counters in step;
/// returns the record as it was before. The number must exist.
pub async fn set_number(
    tx: &Tx<'_>,
    msisdn: &Msisdn,
    state: NumberState,
) -> TxResult<NumberRecord> {
    let record = get_number(tx, msisdn.as_str())
        .await?
        .ok_or_else(|| StoreError::Corrupt {
            table: "numbers",
            message: "number of an order is missing".into(),
        })?;
    let read = ReadNumber {
        msisdn: msisdn.clone(),
        record,
        unlisted: false,
    };
    write_number(tx, read, state).await
}

/// [`set_number`] for a number read in this transaction.
pub async fn write_number(
    tx: &Tx<'_>,
    read: ReadNumber,
    state: NumberState,
) -> TxResult<NumberRecord> {
    let (key, before) = (read.msisdn.as_str(), read.record);
    if let Some(c) = counter_of(&before.state, before.class) {
        counters::add(tx, &before.tenant, &before.block, c, -1).await?;
    }
    if let Some(c) = counter_of(&state, before.class) {
        counters::add(tx, &before.tenant, &before.block, c, 1).await?;
    }
    let mut after = before.clone();
    after.state = state;
    let (s, holder, until) = columns(&after.state);
    tx.exec(
        "UPDATE numbers SET state = $2, holder = $3, until_ms = $4, doc = $5 WHERE msisdn = $1",
        &[&key, &s, &holder, &until, &to_doc(&after)?],
    )
    .await?;
    let moved = (
        is_free(&before.state, before.class) && !read.unlisted,
        is_free(&after.state, after.class),
    );
    keep_free_list(tx, &before.tenant, key, moved).await?;
    Ok(before)
}

/// Records the number of a completed port-in (`ported_number.rs`, as the embedded
/// backend): a number of the tenant's own pool coming home is assigned in its block; any
/// other is written `ported_in`, replacing a record of it and leaving its counters.
pub async fn take_ported_number(
    tx: &Tx<'_>,
    tenant: &str,
    order: &str,
    port: &crate::order::PortIn,
) -> TxResult<()> {
    let key = port.number.as_str();
    let existing = get_number(tx, key).await?;
    match crate::store::on_port_in_completed(existing.as_ref(), tenant, order, port) {
        crate::store::PortedNumber::Assign => {
            let assigned = NumberState::Assigned {
                order: order.to_owned(),
            };
            set_number(tx, &port.number, assigned).await.map(drop)
        }
        crate::store::PortedNumber::Record(rec) => {
            if let Some(old) = existing {
                if let Some(c) = counter_of(&old.state, old.class) {
                    counters::add(tx, &old.tenant, &old.block, c, -1).await?;
                }
                let free = is_free(&old.state, old.class);
                keep_free_list(tx, &old.tenant, key, (free, false)).await?;
                tx.exec("DELETE FROM numbers WHERE msisdn = $1", &[&key])
                    .await?;
            }
            insert_number(tx, key, &rec).await
        }
    }
}

/// A line's number that came by a port-in, now returned to its range holder by `order`,
/// is recorded `returned`; any other number is left as it is.
pub async fn mark_returned(
    tx: &Tx<'_>,
    tenant: &str,
    msisdn: &Msisdn,
    order: &str,
) -> TxResult<()> {
    let Some(rec) = get_number(tx, msisdn.as_str()).await? else {
        return Ok(());
    };
    match crate::store::returned_state(&rec, order) {
        Some(state) if rec.tenant == tenant => set_number(tx, msisdn, state).await.map(drop),
        _ => Ok(()),
    }
}

/// Takes a free ordinary number of the tenant: the lowest (`Sequential`), or the first at
/// or after a random start between the lowest and the highest free number, wrapping
/// around (`Random`). `SKIP LOCKED` passes over numbers another transaction is taking,
/// so allocations on many nodes do not queue on one row. The statement that finds the
/// number also takes it off `free_numbers` and reads its record, so the caller writes
/// its new state ([`write_number`]) without reading it again; a transaction that then
/// does not use it must roll back. Two O(log n) index reads; near-uniform (a number
/// after a run of taken ones is likelier than one inside a run of free ones), where the
/// embedded backend's count tree is exact: that tree's root would be a row every
/// allocation writes.
pub async fn pick_free(
    tx: &Tx<'_>,
    tenant: &str,
    (policy, random): (NumberPolicy, u64),
    ends: Option<Ends>,
) -> TxResult<Option<ReadNumber>> {
    const TAKE: &str = "WITH p AS MATERIALIZED (
             SELECT msisdn FROM free_numbers WHERE tenant = $1 AND msisdn >= $2
             ORDER BY msisdn LIMIT 1 FOR UPDATE SKIP LOCKED),
         d AS (DELETE FROM free_numbers WHERE tenant = $1 AND msisdn IN (SELECT msisdn FROM p))
         SELECT p.msisdn, n.doc FROM p LEFT JOIN numbers n ON n.msisdn = p.msisdn";
    let start = match policy {
        NumberPolicy::Sequential => String::new(),
        NumberPolicy::Random => {
            let ends = match ends {
                Some(read) => read,
                None => free_ends(tx, tenant).await?,
            };
            ends.map_or_else(String::new, |(lo, hi)| start_between(&lo, &hi, random))
        }
    };
    let mut row = tx.row(TAKE, &[&tenant, &start]).await?;
    if row.is_none() && !start.is_empty() {
        row = tx.row(TAKE, &[&tenant, &""]).await?;
    }
    match row {
        Some(r) => {
            let corrupt = |message: &str| StoreError::Corrupt {
                table: "numbers",
                message: message.into(),
            };
            let m: String = r.get(0);
            let msisdn = m
                .parse()
                .map_err(|_| corrupt("bad MSISDN key in the free index"))?;
            let doc: Option<DocRef<'_>> = r.get(1);
            let doc = doc.ok_or_else(|| corrupt("a free number has no record"))?;
            Ok(Some(ReadNumber {
                msisdn,
                record: from_doc("numbers", doc)?,
                unlisted: true,
            }))
        }
        // Every free number skipped is being taken by a transaction that may still roll
        // back (another request with the same Idempotency-Key, say): not exhausted yet.
        None if any_free(tx, tenant).await? => Err(TxError::Contended),
        None => Ok(None),
    }
}

/// Whether the tenant has a free ordinary number, locked by others or not.
async fn any_free(tx: &Tx<'_>, tenant: &str) -> TxResult<bool> {
    Ok(tx
        .row(
            "SELECT 1 FROM free_numbers WHERE tenant = $1 LIMIT 1",
            &[&tenant],
        )
        .await?
        .is_some())
}

/// The tenant's lowest and highest free ordinary numbers.
async fn free_ends(tx: &Tx<'_>, tenant: &str) -> TxResult<Ends> {
    // Two LIMIT 1 probes, each reading one end of the free index only: a MIN/MAX aggregate
    // may be planned as a scan of the tenant's whole range, and at SERIALIZABLE a scan
    // makes every concurrent allocation a conflict. (A create reads them in the
    // statement that claims its key: `idempotency::claim`.)
    let Some(r) = tx
        .row(
            "SELECT (SELECT msisdn FROM free_numbers WHERE tenant = $1
                     ORDER BY msisdn LIMIT 1),
                    (SELECT msisdn FROM free_numbers WHERE tenant = $1
                     ORDER BY msisdn DESC LIMIT 1)",
            &[&tenant],
        )
        .await?
    else {
        return Ok(None);
    };
    let (lo, hi): (Option<String>, Option<String>) = (r.get(0), r.get(1));
    Ok(lo.zip(hi))
}

/// The start key for `random` between `lo` and `hi` (pure; see [`pick_free`]).
pub fn start_between(lo: &str, hi: &str, random: u64) -> String {
    let width = lo.len();
    match (lo.parse::<u64>(), hi.parse::<u64>()) {
        (Ok(a), Ok(b)) if hi.len() == width && b >= a => {
            let n = a + draw_below(random, b - a + 1);
            format!("{n:0width$}")
        }
        _ => lo.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_fall_between_the_ends_and_keep_the_width() {
        for r in [0, 1, 99, u64::MAX / 7, u64::MAX] {
            let s = start_between("0700000000", "0700000999", r);
            assert_eq!(s.len(), 10);
            assert!(("0700000000"..="0700000999").contains(&s.as_str()), "{s}");
        }
        assert_eq!(start_between("123", "123", 42), "123");
        assert_eq!(start_between("99", "100", 5), "99", "widths differ");
    }

    #[test]
    fn the_columns_name_the_same_counter_as_the_state_and_class() {
        let o = || "o".to_owned();
        for state in [
            NumberState::Available,
            NumberState::Reserved { order: o() },
            NumberState::Assigned { order: o() },
            NumberState::Held {
                reservation: o(),
                until_ms: 1,
            },
            NumberState::Quarantined { until_ms: 1 },
            NumberState::PortedOut { order: o() },
            NumberState::PortedIn {
                order: o(),
                port_ref: o(),
                range_holder: o(),
            },
            NumberState::Returned {
                order: o(),
                range_holder: o(),
            },
        ] {
            for class in [NumberClass::Normal, NumberClass::Golden] {
                let want = match (&state, class) {
                    (NumberState::Available, NumberClass::Normal) => {
                        Some(counter::NUMBERS_AVAILABLE)
                    }
                    (NumberState::Available, NumberClass::Golden) => Some(counter::NUMBERS_GOLDEN),
                    (NumberState::Held { .. }, _) => Some(counter::NUMBERS_HELD),
                    (NumberState::Quarantined { .. }, _) => Some(counter::NUMBERS_QUARANTINED),
                    _ => None,
                };
                assert_eq!(counter_of(&state, class), want, "{state:?} {class:?}");
                assert_eq!(
                    counter_of_columns(columns(&state).0, class_name(class)),
                    want
                );
            }
        }
    }

    #[test]
    fn state_columns_and_counters_follow_the_embedded_membership() {
        let held = NumberState::Held {
            reservation: "res_1".into(),
            until_ms: 5,
        };
        assert_eq!(columns(&held), ("held", Some("res_1"), Some(5)));
        assert_eq!(
            counter_of(&NumberState::Available, NumberClass::Golden),
            Some(counter::NUMBERS_GOLDEN)
        );
        assert_eq!(
            counter_of(
                &NumberState::Assigned { order: "o".into() },
                NumberClass::Normal
            ),
            None
        );
    }
}

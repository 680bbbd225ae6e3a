//! Reading subscriptions in a snapshot: one line by its number, and pages of a tenant's
//! lines in subscription-id order (stable under inserts).

use super::apply::{TxResult, backend, dec};
use super::tables::{SUB_BY_ICCID, SUB_BY_MSISDN, SUB_BY_TENANT, SUBSCRIPTIONS};
use crate::store::*;
use ::redb::{ReadTransaction, ReadableTable};

/// The tenant's line holding `msisdn`, in a read snapshot.
pub(super) fn by_msisdn(
    txn: &ReadTransaction,
    tenant: &str,
    msisdn: &str,
) -> TxResult<Option<Subscription>> {
    let index = txn.open_table(SUB_BY_MSISDN).map_err(backend)?;
    let Some(id) = index
        .get(msisdn)
        .map_err(backend)?
        .map(|v| v.value().to_owned())
    else {
        return Ok(None);
    };
    let subs = txn.open_table(SUBSCRIPTIONS).map_err(backend)?;
    Ok(read(&subs, &id)?.filter(|s| s.tenant == tenant))
}

/// Most lines a filtered page looks at, so a rare filter cannot turn one request into a
/// scan of every line; the page then ends early with a cursor to go on from.
const SCAN_BUDGET: usize = 10_000;

/// A page of the tenant's lines, in a read snapshot.
pub(super) fn page(
    txn: &ReadTransaction,
    tenant: &str,
    q: &SubscriptionQuery,
) -> TxResult<SubscriptionPage> {
    let subs = txn.open_table(SUBSCRIPTIONS).map_err(backend)?;
    if let Some(iccid) = &q.iccid {
        let index = txn.open_table(SUB_BY_ICCID).map_err(backend)?;
        let Some(id) = index
            .get(iccid.as_str())
            .map_err(backend)?
            .map(|v| v.value().to_owned())
        else {
            return Ok(SubscriptionPage::default());
        };
        let after = q.after.as_deref().unwrap_or("");
        let data = read(&subs, &id)?
            .filter(|s| s.tenant == tenant && s.id.as_str() > after)
            .filter(|s| q.state.is_none_or(|st| s.state == st))
            .into_iter()
            .collect();
        return Ok(SubscriptionPage { data, next: None });
    }
    let index = txn.open_table(SUB_BY_TENANT).map_err(backend)?;
    let start = q.after.as_deref().unwrap_or("");
    let mut data = Vec::new();
    let mut scanned = 0;
    let mut last: Option<String> = None;
    for row in index.range((tenant, start)..).map_err(backend)? {
        let (k, _) = row.map_err(backend)?;
        let (t, id) = k.value();
        if t != tenant {
            return Ok(SubscriptionPage { data, next: None });
        }
        if id == start {
            continue;
        }
        if data.len() >= q.limit || scanned >= SCAN_BUDGET {
            // More lines remain: go on after the last one looked at.
            return Ok(SubscriptionPage { data, next: last });
        }
        scanned += 1;
        last = Some(id.to_owned());
        if let Some(s) = read(&subs, id)? {
            if q.state.is_none_or(|st| s.state == st) {
                data.push(s);
            }
        }
    }
    Ok(SubscriptionPage { data, next: None })
}

fn read(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    id: &str,
) -> TxResult<Option<Subscription>> {
    match table.get(id).map_err(backend)? {
        Some(v) => Ok(Some(dec("subscriptions", v.value())?)),
        None => Ok(None),
    }
}

//! Data-key rotation at rest: every sealed value (SIM Ki/OPc, order subscriber details,
//! eSIM confirmation codes and port-in credentials, the idempotency snapshots that carry
//! them, webhook signing secrets, hub messages in the port inbox, the sandbox marker) is
//! re-sealed under the current key, one chunk per committed
//! transaction. An interruption loses at most the chunk in
//! progress; running again skips what is already under the current key.

use super::RedbStore;
use super::apply::{backend, dec, enc};
use super::outbox::WEBHOOK_ENDPOINTS;
use super::ports::PORT_INBOX;
use super::tables::{IDEMPOTENCY, META, ORDERS, SIMS};
use crate::crypto::{Keyring, Sealed};
use crate::order::Order;
use crate::store::sealed::{self, SEALED_META, reseal, reseal_order};
use crate::store::{
    IdempotencyRecord, PortInboxItem, RewrapReport, SimRecord, StoreError, WebhookEndpoint,
};
use ::redb::{ReadableDatabase, ReadableTable};
use std::collections::BTreeMap;

impl RedbStore {
    /// Counts sealed values per data-key id.
    pub(super) fn count_sealed(&self) -> Result<BTreeMap<String, u64>, StoreError> {
        let mut usage = BTreeMap::new();
        let mut count = |s: &Sealed| *usage.entry(s.kid.clone()).or_insert(0) += 1;
        let txn = self.db()?.begin_read().map_err(backend)?;
        for row in txn
            .open_table(SIMS)
            .map_err(backend)?
            .iter()
            .map_err(backend)?
        {
            let sim: SimRecord = dec("sims", row.map_err(backend)?.1.value())?;
            sealed::of_sim(&sim).for_each(&mut count);
        }
        for row in txn
            .open_table(ORDERS)
            .map_err(backend)?
            .iter()
            .map_err(backend)?
        {
            let o: Order = dec("orders", row.map_err(backend)?.1.value())?;
            sealed::of_order(&o).for_each(&mut count);
        }
        for row in txn
            .open_table(IDEMPOTENCY)
            .map_err(backend)?
            .iter()
            .map_err(backend)?
        {
            let r: IdempotencyRecord = dec("idempotency", row.map_err(backend)?.1.value())?;
            sealed::of_order(&r.response).for_each(&mut count);
        }
        for row in txn
            .open_table(WEBHOOK_ENDPOINTS)
            .map_err(backend)?
            .iter()
            .map_err(backend)?
        {
            let e: WebhookEndpoint = dec("webhook_endpoints", row.map_err(backend)?.1.value())?;
            sealed::of_endpoint(&e).for_each(&mut count);
        }
        for row in txn
            .open_table(PORT_INBOX)
            .map_err(backend)?
            .iter()
            .map_err(backend)?
        {
            let i: PortInboxItem = dec("port_inbox", row.map_err(backend)?.1.value())?;
            sealed::of_port_item(&i).into_iter().for_each(&mut count);
        }
        let meta = txn.open_table(META).map_err(backend)?;
        for key in SEALED_META {
            if let Some(v) = meta.get(*key).map_err(backend)? {
                count(&dec::<Sealed>("meta", v.value())?);
            }
        }
        Ok(usage)
    }

    /// Re-seals every value not under `keys`' current key, `chunk` records per commit,
    /// stopping after `max_chunks` commits if given (tests use it to simulate a crash).
    pub(super) fn rewrap_pass(
        &self,
        keys: &Keyring,
        chunk: usize,
        max_chunks: Option<u64>,
    ) -> Result<RewrapReport, StoreError> {
        let mut report = RewrapReport::default();
        let chunk = chunk.max(1);
        let budget_left = |r: &RewrapReport| max_chunks.is_none_or(|m| r.chunks < m);
        // SIMs and orders are keyed by strings: walk them in key order with a cursor.
        for table in ["sims", "orders"] {
            let mut cursor = String::new();
            loop {
                if !budget_left(&report) {
                    return Ok(report);
                }
                let txn = self.db()?.begin_write().map_err(backend)?;
                let (last, changed, seen) = {
                    let def = if table == "sims" { SIMS } else { ORDERS };
                    let mut t = txn.open_table(def).map_err(backend)?;
                    let mut rows = Vec::new();
                    for row in t.range(cursor.as_str()..).map_err(backend)?.take(chunk + 1) {
                        let (k, v) = row.map_err(backend)?;
                        rows.push((k.value().to_owned(), v.value().to_vec()));
                    }
                    // The cursor row itself was finished in the previous chunk.
                    if rows
                        .first()
                        .is_some_and(|(k, _)| *k == cursor && !cursor.is_empty())
                    {
                        rows.remove(0);
                    }
                    rows.truncate(chunk);
                    let mut changed = 0u64;
                    for (k, v) in &rows {
                        let bytes = if table == "sims" {
                            let mut sim: SimRecord = dec("sims", v)?;
                            let n = sealed::reseal_sim(keys, &mut sim, "sims")?;
                            changed += n;
                            (n > 0).then(|| enc(&sim)).transpose()?
                        } else {
                            let mut o: Order = dec("orders", v)?;
                            let n = reseal_order(keys, &mut o, "orders")?;
                            changed += n;
                            (n > 0).then(|| enc(&o)).transpose()?
                        };
                        if let Some(bytes) = bytes {
                            t.insert(k.as_str(), bytes.as_slice()).map_err(backend)?;
                        }
                    }
                    (rows.last().map(|(k, _)| k.clone()), changed, rows.len())
                };
                txn.commit().map_err(backend)?;
                report.chunks += 1;
                report.resealed += changed;
                match last {
                    Some(k) if seen == chunk => cursor = k,
                    _ => break,
                }
            }
        }
        // Idempotency snapshots live at most a day and the marker is one value: one pass.
        if !budget_left(&report) {
            return Ok(report);
        }
        let txn = self.db()?.begin_write().map_err(backend)?;
        {
            let mut idem = txn.open_table(IDEMPOTENCY).map_err(backend)?;
            let mut updates = Vec::new();
            for row in idem.iter().map_err(backend)? {
                let (k, v) = row.map_err(backend)?;
                let (tenant, key) = k.value();
                let mut r: IdempotencyRecord = dec("idempotency", v.value())?;
                let n = reseal_order(keys, &mut r.response, "idempotency")?;
                if n > 0 {
                    report.resealed += n;
                    updates.push((tenant.to_owned(), key.to_owned(), enc(&r)?));
                }
            }
            for (tenant, key, bytes) in &updates {
                idem.insert((tenant.as_str(), key.as_str()), bytes.as_slice())
                    .map_err(backend)?;
            }
            // At most `MAX_ENDPOINTS_PER_TENANT` endpoints per tenant: one pass too.
            let mut endpoints = txn.open_table(WEBHOOK_ENDPOINTS).map_err(backend)?;
            let mut updates = Vec::new();
            for row in endpoints.iter().map_err(backend)? {
                let (k, v) = row.map_err(backend)?;
                let mut e: WebhookEndpoint = dec("webhook_endpoints", v.value())?;
                let n = sealed::reseal_endpoint(keys, &mut e, "webhook_endpoints")?;
                if n > 0 {
                    report.resealed += n;
                    updates.push((k.value().to_owned(), enc(&e)?));
                }
            }
            for (id, bytes) in &updates {
                endpoints
                    .insert(id.as_str(), bytes.as_slice())
                    .map_err(backend)?;
            }
            // The inbox's hub messages (one pass: a port has a handful).
            let mut inbox = txn.open_table(PORT_INBOX).map_err(backend)?;
            let mut updates = Vec::new();
            for row in inbox.iter().map_err(backend)? {
                let (k, v) = row.map_err(backend)?;
                let mut i: PortInboxItem = dec("port_inbox", v.value())?;
                let n = sealed::reseal_port_item(keys, &mut i, "port_inbox")?;
                if n > 0 {
                    report.resealed += n;
                    updates.push((k.value().to_owned(), enc(&i)?));
                }
            }
            for (key, bytes) in &updates {
                inbox
                    .insert(key.as_str(), bytes.as_slice())
                    .map_err(backend)?;
            }
            let mut meta = txn.open_table(META).map_err(backend)?;
            for key in SEALED_META {
                let current: Option<Vec<u8>> =
                    meta.get(*key).map_err(backend)?.map(|v| v.value().to_vec());
                if let Some(bytes) = current {
                    let mut sealed: Sealed = dec("meta", &bytes)?;
                    if reseal(keys, key, &mut sealed, "meta")? {
                        meta.insert(*key, enc(&sealed)?.as_slice())
                            .map_err(backend)?;
                        report.resealed += 1;
                    }
                }
            }
        }
        txn.commit().map_err(backend)?;
        report.chunks += 1;
        report.complete = true;
        Ok(report)
    }
}

//! The event sequencer: numbers the events writes inserted unnumbered (`events.rs`), in
//! one place, under the `sequencer` lease, so that
//! - each tenant's public sequence (`tenant_seq`, from which the public id derives) and
//!   the global ones are gap-free, with no counter row written on the request path;
//! - a reader, who sees numbered events only, never skips an event whose transaction
//!   committed late: it gets a number after every number already handed out.
//!
//! Order: a pass numbers what has committed since the last one, by transaction (attempt
//! ids sort in start order: `retry::attempt_id`), then by place in it. Events of one
//! transaction keep their order; a transaction that started after another committed on the
//! same node comes after it; across nodes, within one pass, the writers' clocks decide
//! (nodes need NTP; see ARCHITECTURE.md). The pass also links the compliance audit records
//! committed since the last one into their chain (`audit_chain.rs`), in the same order.
//! It numbers a batch row at once (a transaction's entries of one log, or its run of public
//! events of one tenant and type: `deferred.rs`): the batch's first entry takes the next
//! number, the others follow it, so numbers follow the entries' order.
//!
//! A pass is two transactions. The numbering ([`number`]) scans what every writer inserts
//! into (the unnumbered events), so it runs at `retry::Mode::Fenced`, without predicate
//! locks: at SERIALIZABLE its scans made writers fail to serialize with it. The webhook
//! deliveries of the events numbered ([`fan_out`]) follow at SERIALIZABLE, since queueing
//! one reads what the dispatcher and an endpoint's deletion write (a queue's busy head,
//! the endpoints); it reads numbered events only, which no writer inserts, from a cursor
//! (`event_seq` row [`FANNED_OUT`]: the last global number whose deliveries are queued).

use super::codec::{big, from_doc, unbig};
use super::leases;
use super::reads::public_event_of;
use super::retry::{Tx, TxResult};
use super::{audit_chain, deferred, deliveries};
use crate::store::WebhookEndpoint;
use std::collections::BTreeMap;

/// The lease name.
pub const LEASE: &str = "sequencer";

/// What one pass numbered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Numbered {
    /// Public events.
    pub public: usize,
    /// Audit events.
    pub audit: usize,
    /// Compliance audit records linked into the chain (`audit_chain.rs`).
    pub chain: usize,
    /// Public events' numbers the webhook deliveries were queued for ([`fan_out`]).
    pub fanned_out: usize,
}

/// The cursor of [`fan_out`] in `event_seq`.
pub const FANNED_OUT: &str = "fanned_out";

/// Numbers at most `limit` events of each log, if `node` holds or can take the lease
/// (for `lease_ms`); `None` when another node holds it. In a `retry::Mode::Fenced`
/// transaction: the lease's row, written first, fences two passes.
pub async fn number(
    tx: &Tx<'_>,
    node: &str,
    now_ms: u64,
    lease_ms: u64,
    limit: i64,
) -> TxResult<Option<Numbered>> {
    if !leases::acquire(tx, LEASE, node, now_ms, lease_ms).await? {
        return Ok(None);
    }
    Ok(Some(Numbered {
        public: number_public(tx, limit).await?,
        audit: number_audit(tx, limit).await?,
        chain: audit_chain::link(tx, limit).await?,
        fanned_out: 0,
    }))
}

/// Queues the webhook deliveries of at most `limit` public events numbered since the
/// cursor, in their global order, and moves the cursor past them; how many numbers it
/// moved. A SERIALIZABLE transaction; tenants without an endpoint cost no read of their
/// events.
pub async fn fan_out(tx: &Tx<'_>, limit: i64) -> TxResult<u64> {
    let seqs = read_seqs(tx, &["public".to_owned(), FANNED_OUT.to_owned()]).await?;
    let head = seqs.get("public").copied().unwrap_or(0);
    let from = seqs.get(FANNED_OUT).copied().unwrap_or(0);
    if head <= from {
        return Ok(0);
    }
    let through = head.min(from.saturating_add(u64::try_from(limit).unwrap_or(0)));
    let mut endpoints: BTreeMap<String, Vec<WebhookEndpoint>> = BTreeMap::new();
    for r in tx
        .rows("SELECT doc FROM webhook_endpoints ORDER BY tenant, id", &[])
        .await?
    {
        let e: WebhookEndpoint = from_doc("webhook_endpoints", r.get(0))?;
        endpoints.entry(e.tenant.clone()).or_default().push(e);
    }
    if !endpoints.is_empty() {
        let tenants: Vec<&str> = endpoints.keys().map(String::as_str).collect();
        // The entries numbered (from, through]: from the batch holding from + 1 on.
        let rows = tx
            .rows(
                "SELECT b.seq + e.i - 1, b.tenant_seq + e.i - 1, e.doc
                 FROM public_batches b, jsonb_array_elements(b.docs) WITH ORDINALITY AS e(doc, i)
                 WHERE b.seq >= COALESCE((SELECT MAX(seq) FROM public_batches WHERE seq <= $1), 0)
                   AND b.seq <= $3 AND b.tenant = ANY($4)
                   AND b.seq + e.i - 1 > $2 AND b.seq + e.i - 1 <= $3
                 ORDER BY 1",
                &[&big(from + 1), &big(from), &big(through), &tenants],
            )
            .await?;
        for r in rows {
            let ev = public_event_of(r)?;
            let eps = endpoints.get(&ev.tenant).map_or(&[][..], Vec::as_slice);
            // Due from the event's commit, as if queued in it (the embedded store does so).
            deliveries::fan_out(tx, &ev, eps, ev.created_at_ms).await?;
        }
    }
    write_seqs(tx, &BTreeMap::from([(FANNED_OUT.to_owned(), through)])).await?;
    Ok(through - from)
}

async fn read_seqs(tx: &Tx<'_>, names: &[String]) -> TxResult<BTreeMap<String, u64>> {
    let rows = tx
        .rows(
            "SELECT name, last FROM event_seq WHERE name = ANY($1)",
            &[&names],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get::<_, String>(0), unbig(r.get(1))))
        .collect())
}

async fn write_seqs(tx: &Tx<'_>, seqs: &BTreeMap<String, u64>) -> TxResult<()> {
    let names: Vec<&str> = seqs.keys().map(String::as_str).collect();
    let lasts: Vec<i64> = seqs.values().map(|v| big(*v)).collect();
    tx.exec(
        "INSERT INTO event_seq (name, last) SELECT * FROM unnest($1::TEXT[], $2::BIGINT[])
         ON CONFLICT (name) DO UPDATE SET last = excluded.last",
        &[&names, &lasts],
    )
    .await?;
    Ok(())
}

/// Numbers the public events' batches (`public_batches`, one per run of an attempt's
/// entries of one tenant and type: `deferred.rs`) in (attempt, place) order, each from
/// the next global and tenant numbers on, until at least `limit` entries; how many.
async fn number_public(tx: &Tx<'_>, limit: i64) -> TxResult<usize> {
    let rows = tx
        .rows(
            "SELECT txn, ord, tenant, n FROM public_batches WHERE seq IS NULL
             ORDER BY txn, ord LIMIT $1",
            &[&limit],
        )
        .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let mut names: Vec<String> = rows
        .iter()
        .map(|r| format!("public:{}", r.get::<_, &str>(2)))
        .collect();
    names.push("public".into());
    names.sort();
    names.dedup();
    let mut seqs = read_seqs(tx, &names).await?;
    let (taken, entries) = deferred::batches_to_take(rows.iter().map(|r| r.get(3)), limit);
    let (mut txns, mut ords, mut gseqs, mut tseqs) = (vec![], vec![], vec![], vec![]);
    for r in &rows[..taken] {
        let n = u64::try_from(r.get::<_, i32>(3)).unwrap_or(0);
        let global = seqs.entry("public".into()).or_default();
        gseqs.push(big(*global + 1));
        *global += n;
        let t = seqs
            .entry(format!("public:{}", r.get::<_, &str>(2)))
            .or_default();
        tseqs.push(big(*t + 1));
        *t += n;
        txns.push(r.get::<_, String>(0));
        ords.push(r.get::<_, i32>(1));
    }
    tx.exec(
        "UPDATE public_batches AS p SET seq = u.seq, tenant_seq = u.tseq
         FROM unnest($1::TEXT[], $2::INT[], $3::BIGINT[], $4::BIGINT[]) AS u(txn, ord, seq, tseq)
         WHERE p.txn = u.txn AND p.ord = u.ord",
        &[&txns, &ords, &gseqs, &tseqs],
    )
    .await?;
    write_seqs(tx, &seqs).await?;
    Ok(entries)
}

/// Numbers the audit log's batches (`event_batches`, one per attempt: `deferred.rs`) in
/// (attempt, place) order, each from the next number on, until at least `limit` entries;
/// how many entries.
async fn number_audit(tx: &Tx<'_>, limit: i64) -> TxResult<usize> {
    let rows = tx
        .rows(
            "SELECT txn, ord, n FROM event_batches WHERE seq IS NULL ORDER BY txn, ord LIMIT $1",
            &[&limit],
        )
        .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let mut seqs = read_seqs(tx, &["audit".to_owned()]).await?;
    let last = seqs.entry("audit".into()).or_default();
    let (taken, entries) = deferred::batches_to_take(rows.iter().map(|r| r.get(2)), limit);
    let (mut txns, mut ords, mut firsts) = (vec![], vec![], vec![]);
    for r in &rows[..taken] {
        txns.push(r.get::<_, String>(0));
        ords.push(r.get::<_, i32>(1));
        firsts.push(big(*last + 1));
        *last += u64::try_from(r.get::<_, i32>(2)).unwrap_or(0);
    }
    tx.exec(
        "UPDATE event_batches AS e SET seq = u.seq
         FROM unnest($1::TEXT[], $2::INT[], $3::BIGINT[]) AS u(txn, ord, seq)
         WHERE e.txn = u.txn AND e.ord = u.ord",
        &[&txns, &ords, &firsts],
    )
    .await?;
    write_seqs(tx, &seqs).await?;
    Ok(entries)
}

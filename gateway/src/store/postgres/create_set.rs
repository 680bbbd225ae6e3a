//! A group of plain physical sales (`create_group.rs`) created with multi-row statements
//! over the whole group rather than each create's own: the keys claimed and the cards
//! read in one statement, the tenants and their free lists' ends in another, the numbers
//! picked and taken off the free list in a third, then one write each for the cards, the
//! numbers and the orders (with their in-flight rows and keys' records). Six statements
//! for the group, where the creates' own bodies send five each. What each create
//! decides is what `activation::create` decides, from the same reads.
//!
//! A create's compliance checks, which in a group read no counter and count no line
//! (`create_group::groupable`), are decided and recorded as `activation::create` does,
//! create by create (a blocklist or registry read where the policy asks for one; the
//! audit record with the commit's other log rows).
//!
//! Anything but the plain case returns an error that splits the group (`group.rs`), so
//! each create runs alone and gets its own answer: a key that is not new (a replay, which
//! answers what the key answered), a refusal (which must roll back) or a compliance
//! refusal (which commits its audit record and leaves the key free).
//!
//! Picks: one statement picks each create's number from its own random start (as
//! `numbers::pick_free` does), with `FOR UPDATE SKIP LOCKED`; rows this transaction
//! locked are not skipped, so two creates may land on one number: the later one, and any
//! create whose start lies past the last free number, picks again alone
//! (`numbers::pick_free`), after the statement's deletions, which it then no longer sees.

use super::activation::new_order;
use super::codec::{DocRef, big, from_doc, to_doc};
use super::compliance_counters::Read;
use super::numbers::{Ends, ReadNumber, pick_free, start_between};
use super::order_leases::Owner;
use super::orders::{in_flight, line_of};
use super::retry::{Tx, TxError, TxResult};
use super::{compliance, counters, events, sims};
use crate::compliance::Decision;
use crate::numbers::NumberPolicy;
use crate::store::{
    CreateOutcome, NewActivation, NumberState, SimRecord, SimState, StoreError, Tenant,
};
use std::collections::BTreeMap;

/// Why the group runs its creates alone (a key seen before, a refusal): the error that
/// splits it.
fn alone(why: &str) -> TxError {
    TxError::Store(StoreError::Backend(format!(
        "a create of the group {why}; each runs alone"
    )))
}

/// Creates every job of the group in `tx` (see the module doc); their answers, in order.
pub async fn create_all(
    tx: &Tx<'_>,
    jobs: &[&NewActivation],
    (node, lease_ms): Owner<'_>,
) -> TxResult<Vec<CreateOutcome>> {
    let (cards, tenants) = tokio::try_join!(claim_all(tx, jobs), tenants(tx, jobs))?;
    let mut plans = Vec::with_capacity(jobs.len());
    for (new, card) in jobs.iter().zip(cards) {
        let (tenant, ends) = tenants
            .get(new.tenant.as_str())
            .ok_or_else(|| alone("names no tenant"))?;
        let product = tenant
            .products
            .get(&new.product)
            .ok_or_else(|| alone("names no product"))?;
        let sim = super::stock::check_physical(&new.tenant, card)
            .map_err(|_| alone("names a card it cannot have"))?;
        let start = match (tenant.number_policy, ends) {
            (NumberPolicy::Random, Some((lo, hi))) => start_between(lo, hi, new.random),
            _ => String::new(),
        };
        let checked = match &new.compliance {
            Some(c) => {
                let d = compliance::decide(tx, &new.tenant, c, new.now_ms, Read::Lock).await?;
                if matches!(d.decision, Decision::Refuse(_)) {
                    return Err(alone("is refused by its compliance checks"));
                }
                Some(d)
            }
            None => None,
        };
        plans.push((new, tenant, product.hlr_profile_id, sim, start, checked));
    }
    let starts: Vec<(&str, &str)> = plans
        .iter()
        .map(|(n, _, _, _, start, _)| (n.tenant.as_str(), start.as_str()))
        .collect();
    let mut picked = pick_all(tx, &starts).await?;
    for (i, (new, tenant, ..)) in plans.iter().enumerate() {
        if picked[i].is_none() {
            let ends = tenants
                .get(new.tenant.as_str())
                .and_then(|(_, e)| e.clone());
            let policy = (tenant.number_policy, new.random);
            let read = pick_free(tx, &new.tenant, policy, Some(ends)).await?;
            picked[i] = Some(read.ok_or_else(|| alone("finds no free number"))?);
        }
    }
    let mut orders = Vec::with_capacity(plans.len());
    let (mut cards, mut numbers, mut decided) = (Vec::new(), Vec::new(), Vec::new());
    for ((new, _, hlr_profile_id, mut sim, _, checked), read) in plans.into_iter().zip(picked) {
        let read = read.ok_or_else(|| alone("finds no free number"))?;
        let card = (sim.iccid.clone(), sim.imsi.clone());
        let msisdn = read.msisdn.clone();
        let order = new_order(new, hlr_profile_id, card, None, msisdn, checked.as_ref());
        decided.push(checked);
        let reserved = SimState::Reserved {
            order: order.id.clone(),
        };
        counters::add(
            tx,
            &sim.tenant,
            &sim.batch,
            sims::counter_of(&sim.state),
            -1,
        )
        .await?;
        counters::add(tx, &sim.tenant, &sim.batch, sims::counter_of(&reserved), 1).await?;
        sim.state = reserved;
        cards.push(sim);
        numbers.push(reserve_number(tx, read, &order.id).await?);
        orders.push(order);
    }
    write_cards(tx, &cards).await?;
    write_numbers(tx, &numbers).await?;
    insert_orders(tx, jobs, &orders, (node, lease_ms)).await?;
    let mut answers = Vec::with_capacity(orders.len());
    for ((new, order), checked) in jobs.iter().zip(orders).zip(decided) {
        events::log_event(
            tx,
            new.now_ms,
            &order.tenant,
            Some(&order.id),
            crate::store::EventKind::OrderCreated,
        )
        .await?;
        events::publish_order(tx, &order, None).await?;
        if let (Some(check), Some(d)) = (&new.compliance, &checked) {
            let (key, now) = (&new.idempotency_key, new.now_ms);
            compliance::allow(tx, check, d, &order, key, now).await?;
        }
        answers.push(CreateOutcome::Created(order));
    }
    Ok(answers)
}

/// Claims every job's key (a placeholder row, as `idempotency::claim`) and reads its card;
/// the cards in order. A key not new splits the group.
async fn claim_all(
    tx: &Tx<'_>,
    jobs: &[&NewActivation],
) -> TxResult<Vec<Option<(SimRecord, bool)>>> {
    let tenants: Vec<&str> = jobs.iter().map(|j| j.tenant.as_str()).collect();
    let keys: Vec<&str> = jobs.iter().map(|j| j.idempotency_key.as_str()).collect();
    let ids: Vec<&str> = jobs.iter().map(|j| j.order_id.as_str()).collect();
    let hashes: Vec<&str> = jobs.iter().map(|j| j.body_hash.as_str()).collect();
    let nows: Vec<i64> = jobs.iter().map(|j| big(j.now_ms)).collect();
    let iccids: Vec<Option<&str>> = jobs
        .iter()
        .map(|j| match &j.sim {
            crate::store::SimChoice::Physical(i) => Some(i.as_str()),
            crate::store::SimChoice::Esim { .. } => None,
        })
        .collect();
    let rows = tx
        .rows(
            "WITH c AS (
                 INSERT INTO idempotency (tenant, idem_key, order_id, body_hash, created_at_ms,
                                          doc)
                 SELECT t, k, o, h, n, 'null'::JSONB
                 FROM unnest($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::BIGINT[])
                      AS u(t, k, o, h, n)
                 ON CONFLICT (tenant, idem_key) DO NOTHING
                 RETURNING order_id)
             SELECT u.o IN (SELECT order_id FROM c), s.doc, s.stocked
             FROM unnest($3::TEXT[], $6::TEXT[]) WITH ORDINALITY AS u(o, iccid, i)
             LEFT JOIN sims s ON s.iccid = u.iccid
             ORDER BY u.i",
            &[&tenants, &keys, &ids, &hashes, &nows, &iccids],
        )
        .await?;
    if rows.len() != jobs.len() {
        return Err(alone("was not read back"));
    }
    rows.iter()
        .map(|r| {
            if !r.get::<_, bool>(0) {
                return Err(alone("carries a key seen before"));
            }
            Ok(match r.get::<_, Option<DocRef<'_>>>(1) {
                Some(d) => Some((from_doc("sims", d)?, r.get::<_, bool>(2))),
                None => None,
            })
        })
        .collect()
}

/// The group's tenants, each with its free list's ends (`None`: none free).
async fn tenants(
    tx: &Tx<'_>,
    jobs: &[&NewActivation],
) -> TxResult<BTreeMap<String, (Tenant, Ends)>> {
    let mut ids: Vec<&str> = jobs.iter().map(|j| j.tenant.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let rows = tx
        .rows(
            "SELECT t.id, t.doc,
                    (SELECT msisdn FROM free_numbers WHERE tenant = t.id
                     ORDER BY msisdn LIMIT 1),
                    (SELECT msisdn FROM free_numbers WHERE tenant = t.id
                     ORDER BY msisdn DESC LIMIT 1)
             FROM tenants t WHERE t.id = ANY($1)",
            &[&ids],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let tenant: Tenant = from_doc("tenants", r.get(1))?;
            let (lo, hi): (Option<String>, Option<String>) = (r.get(2), r.get(3));
            Ok((r.get::<_, String>(0), (tenant, lo.zip(hi))))
        })
        .collect()
}

/// Picks one free number per (tenant, start), takes them off the free list, and reads
/// their records; `None` where a create must pick again alone (see the module doc).
async fn pick_all(tx: &Tx<'_>, starts: &[(&str, &str)]) -> TxResult<Vec<Option<ReadNumber>>> {
    let tenants: Vec<&str> = starts.iter().map(|s| s.0).collect();
    let from: Vec<&str> = starts.iter().map(|s| s.1).collect();
    let rows = tx
        .rows(
            "WITH p AS MATERIALIZED (
                 SELECT u.i, u.t, f.msisdn
                 FROM unnest($1::TEXT[], $2::TEXT[]) WITH ORDINALITY AS u(t, start, i)
                 CROSS JOIN LATERAL (
                     SELECT msisdn FROM free_numbers WHERE tenant = u.t AND msisdn >= u.start
                     ORDER BY msisdn LIMIT 1 FOR UPDATE SKIP LOCKED) AS f),
             d AS (DELETE FROM free_numbers x USING p
                   WHERE x.tenant = p.t AND x.msisdn = p.msisdn)
             SELECT p.i, p.msisdn, n.doc FROM p LEFT JOIN numbers n ON n.msisdn = p.msisdn
             ORDER BY p.i",
            &[&tenants, &from],
        )
        .await?;
    let mut picked: Vec<Option<ReadNumber>> = (0..starts.len()).map(|_| None).collect();
    let mut taken = std::collections::BTreeSet::new();
    for r in &rows {
        let corrupt = |message: &str| StoreError::Corrupt {
            table: "numbers",
            message: message.into(),
        };
        let i = usize::try_from(r.get::<_, i64>(0) - 1).map_err(|_| corrupt("bad ordinal"))?;
        let m: String = r.get(1);
        if !taken.insert(m.clone()) {
            continue;
        }
        let doc: Option<DocRef<'_>> = r.get(2);
        let doc = doc.ok_or_else(|| corrupt("a free number has no record"))?;
        let slot = picked.get_mut(i).ok_or_else(|| corrupt("bad ordinal"))?;
        *slot = Some(ReadNumber {
            msisdn: m
                .parse()
                .map_err(|_| corrupt("bad MSISDN key in the free index"))?,
            record: from_doc("numbers", doc)?,
            unlisted: true,
        });
    }
    Ok(picked)
}

/// The record of picked number `read` reserved to `order`, its counters moved (written by
/// [`write_numbers`]).
async fn reserve_number(
    tx: &Tx<'_>,
    read: ReadNumber,
    order: &str,
) -> TxResult<(String, crate::store::NumberRecord)> {
    let before = read.record;
    let state = NumberState::Reserved {
        order: order.to_owned(),
    };
    if let Some(c) = super::numbers::counter_of(&before.state, before.class) {
        counters::add(tx, &before.tenant, &before.block, c, -1).await?;
    }
    if let Some(c) = super::numbers::counter_of(&state, before.class) {
        counters::add(tx, &before.tenant, &before.block, c, 1).await?;
    }
    let mut after = before;
    after.state = state;
    Ok((read.msisdn.as_str().to_owned(), after))
}

/// Writes the cards' new states (as `sims::move_sim` does for one).
async fn write_cards(tx: &Tx<'_>, cards: &[SimRecord]) -> TxResult<()> {
    let iccids: Vec<&str> = cards.iter().map(|s| s.iccid.as_str()).collect();
    let (mut states, mut holders, mut docs) = (vec![], vec![], vec![]);
    for s in cards {
        let (state, holder) = sims::columns(&s.state);
        states.push(state);
        holders.push(holder);
        docs.push(to_doc(s)?);
    }
    tx.exec(
        "UPDATE sims SET state = u.s, holder = u.h, doc = u.d
         FROM unnest($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::JSONB[]) AS u(i, s, h, d)
         WHERE sims.iccid = u.i",
        &[&iccids, &states, &holders, &docs],
    )
    .await?;
    Ok(())
}

/// Writes the numbers' new states (as `numbers::write_number` does for one).
async fn write_numbers(
    tx: &Tx<'_>,
    numbers: &[(String, crate::store::NumberRecord)],
) -> TxResult<()> {
    let keys: Vec<&str> = numbers.iter().map(|(m, _)| m.as_str()).collect();
    let (mut states, mut holders, mut untils, mut docs) = (vec![], vec![], vec![], vec![]);
    for (_, n) in numbers {
        let (state, holder, until) = super::numbers::columns(&n.state);
        states.push(state);
        holders.push(holder);
        untils.push(until);
        docs.push(to_doc(n)?);
    }
    tx.exec(
        "UPDATE numbers SET state = u.s, holder = u.h, until_ms = u.t, doc = u.d
         FROM unnest($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::BIGINT[], $5::JSONB[])
              AS u(m, s, h, t, d)
         WHERE numbers.msisdn = u.m",
        &[&keys, &states, &holders, &untils, &docs],
    )
    .await?;
    Ok(())
}

/// Inserts the orders, their in-flight rows and their keys' records (as
/// `orders::insert_new_order` does for one).
async fn insert_orders(
    tx: &Tx<'_>,
    jobs: &[&NewActivation],
    orders: &[crate::order::Order],
    (owner, lease_ms): Owner<'_>,
) -> TxResult<()> {
    let mut cols = OrderColumns::default();
    for (new, order) in jobs.iter().zip(orders) {
        let rec = crate::store::IdempotencyRecord {
            body_hash: new.body_hash.clone(),
            order_id: order.id.clone(),
            response: order.clone(),
            created_at_ms: new.now_ms,
        };
        cols.id.push(order.id.as_str());
        cols.tenant.push(order.tenant.as_str());
        cols.kind.push(order.kind.as_str());
        cols.status.push(order.status.as_str());
        cols.line.push(line_of(order));
        cols.iccid.push(order.iccid.as_str());
        cols.msisdn.push(order.msisdn.as_str());
        cols.inflight.push(in_flight(order));
        cols.version.push(big(order.version));
        cols.created.push(big(order.created_at_ms));
        cols.updated.push(big(order.updated_at_ms));
        cols.doc.push(to_doc(order)?);
        cols.lease_until
            .push(big(new.now_ms.saturating_add(lease_ms)));
        cols.key.push(new.idempotency_key.as_str());
        cols.hash.push(new.body_hash.as_str());
        cols.key_at.push(big(new.now_ms));
        cols.record.push(to_doc(&rec)?);
    }
    let c = &cols;
    tx.exec(
        "WITH u AS MATERIALIZED (
             SELECT * FROM unnest($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::TEXT[],
                                  $6::TEXT[], $7::TEXT[], $8::BOOLEAN[], $9::BIGINT[],
                                  $10::BIGINT[], $11::BIGINT[], $12::JSONB[], $14::BIGINT[],
                                  $15::TEXT[], $16::TEXT[], $17::BIGINT[], $18::JSONB[])
                 AS u(id, tenant, kind, status, line, iccid, msisdn, inflight, version,
                      created, updated, doc, lease_until, idem_key, body_hash, key_at, record)),
         o AS (
             INSERT INTO orders (id, tenant, kind, status, line, iccid, msisdn, inflight,
                                 version, esim_expires_at_ms, created_at_ms, updated_at_ms,
                                 doc)
             SELECT id, tenant, kind, status, line, iccid, msisdn, inflight, version, NULL,
                    created, updated, doc FROM u),
         f AS (
             INSERT INTO orders_inflight (id, line, kind, iccid, msisdn, lease_owner,
                                          lease_until_ms)
             SELECT id, line, kind, iccid, msisdn, $13::TEXT, lease_until FROM u
             WHERE inflight)
         UPDATE idempotency i SET order_id = u.id, body_hash = u.body_hash,
             created_at_ms = u.key_at, doc = u.record
         FROM u WHERE i.tenant = u.tenant AND i.idem_key = u.idem_key",
        &[
            &c.id,
            &c.tenant,
            &c.kind,
            &c.status,
            &c.line,
            &c.iccid,
            &c.msisdn,
            &c.inflight,
            &c.version,
            &c.created,
            &c.updated,
            &c.doc,
            &owner,
            &c.lease_until,
            &c.key,
            &c.hash,
            &c.key_at,
            &c.record,
        ],
    )
    .await?;
    Ok(())
}

/// The columns of [`insert_orders`], one array each.
#[derive(Default)]
struct OrderColumns<'a> {
    id: Vec<&'a str>,
    tenant: Vec<&'a str>,
    kind: Vec<&'a str>,
    status: Vec<&'a str>,
    line: Vec<String>,
    iccid: Vec<&'a str>,
    msisdn: Vec<&'a str>,
    inflight: Vec<bool>,
    version: Vec<i64>,
    created: Vec<i64>,
    updated: Vec<i64>,
    doc: Vec<super::codec::Doc>,
    lease_until: Vec<i64>,
    key: Vec<&'a str>,
    hash: Vec<&'a str>,
    key_at: Vec<i64>,
    record: Vec<super::codec::Doc>,
}

//! `admin`: tenants, API keys, inventory loads and metadata, in one transaction that is
//! rolled back whole when any part is refused (embedded `Tables::admin`, with the same
//! refusal messages).

use super::PgStore;
use super::codec::{big, to_doc};
use super::counters::{self, counter};
use super::events::log_event;
use super::retry::{Tx, TxResult};
use super::sims;
use crate::numbers::is_golden;
use crate::store::*;
use adapters::hlr::BoxFuture;
use std::collections::{BTreeMap, HashSet};

/// Numbers inserted per statement when a block is added.
const NUMBER_CHUNK: usize = 5_000;

impl PgStore {
    /// Applies an administrative change (tenant, key, inventory load) atomically.
    pub async fn admin(&self, change: AdminChange) -> Result<AdminOutcome, StoreError> {
        let now = crate::clock::Clock::new().now_ms();
        let put_key = match &change {
            AdminChange::PutApiKey { hash, .. } => Some(*hash),
            _ => None,
        };
        let out = self
            .transaction(&(change, now), |tx, (change, now)| {
                Box::pin(async move {
                    let out = apply(tx, change, *now).await?;
                    if matches!(out, AdminOutcome::Refused(_)) {
                        tx.rollback_only();
                    }
                    Ok(out)
                })
            })
            .await?;
        if let Some(hash) = put_key {
            self.key_cache.forget(&hash);
        }
        self.wake_sequencer();
        Ok(out)
    }
}

/// Applies `change` in `tx`; a refusal leaves the caller to roll back.
pub fn apply<'a>(
    tx: &'a Tx<'a>,
    change: &'a AdminChange,
    now_ms: u64,
) -> BoxFuture<'a, TxResult<AdminOutcome>> {
    Box::pin(async move {
        match change {
            AdminChange::PutTenant(t) => {
                tx.exec(
                    "INSERT INTO tenants (id, doc) VALUES ($1, $2)
                     ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
                    &[&t.id, &to_doc(t)?],
                )
                .await?;
                log_admin(tx, now_ms, &t.id, "tenant_put".into()).await?;
            }
            AdminChange::PutApiKey { hash, record } => {
                if let Some(refused) = refuse_unknown_tenant(tx, &record.tenant).await? {
                    return Ok(refused);
                }
                tx.exec(
                    "INSERT INTO api_keys (hash, tenant, doc) VALUES ($1, $2, $3)
                     ON CONFLICT (hash) DO UPDATE SET tenant = excluded.tenant, doc = excluded.doc",
                    &[&hash.as_slice(), &record.tenant, &to_doc(record)?],
                )
                .await?;
                let what = format!("api_key_added {}", record.prefix);
                log_admin(tx, now_ms, &record.tenant, what).await?;
            }
            AdminChange::AddSims(list) => return add_sims(tx, list, now_ms).await,
            AdminChange::AddNumbers {
                tenant,
                block,
                first,
                count,
            } => return add_numbers(tx, tenant, block, first, *count, now_ms).await,
            AdminChange::PutMeta { key, value } => {
                tx.exec(
                    "INSERT INTO meta (name, value) VALUES ($1, $2)
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    &[key, value],
                )
                .await?;
            }
            AdminChange::Batch(changes) => {
                for c in changes {
                    if let AdminOutcome::Refused(why) = apply(tx, c, now_ms).await? {
                        return Ok(AdminOutcome::Refused(why));
                    }
                }
            }
        }
        Ok(AdminOutcome::Applied)
    })
}

async fn log_admin(tx: &Tx<'_>, now_ms: u64, tenant: &str, what: String) -> TxResult<()> {
    log_event(tx, now_ms, tenant, None, EventKind::Admin { what }).await
}

async fn refuse_unknown_tenant(tx: &Tx<'_>, tenant: &str) -> TxResult<Option<AdminOutcome>> {
    let known = tx
        .row("SELECT 1 FROM tenants WHERE id = $1", &[&tenant])
        .await?
        .is_some();
    Ok((!known).then(|| AdminOutcome::Refused(format!("tenant `{tenant}` does not exist"))))
}

async fn add_sims(tx: &Tx<'_>, list: &[SimRecord], now_ms: u64) -> TxResult<AdminOutcome> {
    let iccids: Vec<&str> = list.iter().map(|s| s.iccid.as_str()).collect();
    let imsis: Vec<&str> = list.iter().map(|s| s.imsi.as_str()).collect();
    let taken = |rows: Vec<tokio_postgres::Row>| -> HashSet<String> {
        rows.iter().map(|r| r.get::<_, String>(0)).collect()
    };
    let iccid_taken = taken(
        tx.rows("SELECT iccid FROM sims WHERE iccid = ANY($1)", &[&iccids])
            .await?,
    );
    let imsi_taken = taken(
        tx.rows("SELECT imsi FROM sims WHERE imsi = ANY($1)", &[&imsis])
            .await?,
    );
    let mut tenants_known = HashSet::new();
    let mut seen = HashSet::new();
    for s in list {
        if !tenants_known.contains(&s.tenant) {
            if let Some(refused) = refuse_unknown_tenant(tx, &s.tenant).await? {
                return Ok(refused);
            }
            tenants_known.insert(s.tenant.clone());
        }
        if !seen.insert(s.iccid.as_str()) || !seen.insert(s.imsi.as_str()) {
            return Ok(AdminOutcome::Refused(format!(
                "ICCID {} or its IMSI appears twice in the batch",
                s.iccid
            )));
        }
        if iccid_taken.contains(s.iccid.as_str()) {
            return Ok(AdminOutcome::Refused(format!(
                "ICCID {} is already in inventory",
                s.iccid
            )));
        }
        if imsi_taken.contains(s.imsi.as_str()) {
            return Ok(AdminOutcome::Refused(format!(
                "IMSI {} is already in inventory",
                s.imsi
            )));
        }
    }
    let mut counts: BTreeMap<(&str, &str, &'static str), i64> = BTreeMap::new();
    for s in list {
        sims::insert_sim(tx, s, true, None).await?;
        *counts
            .entry((&s.tenant, &s.batch, sims::counter_of(&s.state)))
            .or_default() += 1;
    }
    for ((tenant, batch, name), n) in counts {
        counters::add(tx, tenant, batch, name, n).await?;
    }
    let tenant = list.first().map(|s| s.tenant.clone()).unwrap_or_default();
    log_admin(tx, now_ms, &tenant, format!("sims_added {}", list.len())).await?;
    Ok(AdminOutcome::Applied)
}

async fn add_numbers(
    tx: &Tx<'_>,
    tenant: &str,
    block: &str,
    first: &sim_profiles::Msisdn,
    count: u64,
    now_ms: u64,
) -> TxResult<AdminOutcome> {
    let t: Option<Tenant> = match tx
        .row("SELECT doc FROM tenants WHERE id = $1", &[&tenant])
        .await?
    {
        Some(r) => Some(super::codec::from_doc("tenants", r.get(0))?),
        None => None,
    };
    let Some(t) = t else {
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
    let (lo, hi) = (format!("{start:0width$}"), format!("{end:0width$}"));
    if let Some(r) = tx
        .row(
            "SELECT msisdn FROM numbers WHERE msisdn >= $1 AND msisdn <= $2 ORDER BY msisdn LIMIT 1",
            &[&lo, &hi],
        )
        .await?
    {
        let k: String = r.get(0);
        return Ok(AdminOutcome::Refused(format!(
            "number {k} is already in a pool"
        )));
    }
    let mut golden = 0u64;
    let mut all = (start..=end).peekable();
    while all.peek().is_some() {
        let (mut keys, mut classes, mut docs) = (vec![], vec![], vec![]);
        for n in all.by_ref().take(NUMBER_CHUNK) {
            let key = format!("{n:0width$}");
            let class = if is_golden(&t.golden_rules, &key) {
                golden += 1;
                NumberClass::Golden
            } else {
                NumberClass::Normal
            };
            let rec = NumberRecord {
                tenant: tenant.to_owned(),
                block: block.to_owned(),
                state: NumberState::Available,
                class,
            };
            docs.push(to_doc(&rec)?);
            classes.push(match class {
                NumberClass::Normal => "normal",
                NumberClass::Golden => "golden",
            });
            keys.push(key);
        }
        tx.exec(
            "INSERT INTO numbers (msisdn, tenant, block, class, state, doc)
             SELECT m, $1, $2, c, 'available', d
             FROM unnest($3::TEXT[], $4::TEXT[], $5::JSONB[]) AS u(m, c, d)",
            &[&tenant, &block, &keys, &classes, &docs],
        )
        .await?;
        tx.exec(
            "INSERT INTO free_numbers (tenant, msisdn)
             SELECT $1, m FROM unnest($2::TEXT[], $3::TEXT[]) AS u(m, c) WHERE c = 'normal'",
            &[&tenant, &keys, &classes],
        )
        .await?;
    }
    let normal = count - golden;
    counters::add(tx, tenant, block, counter::NUMBERS_AVAILABLE, big(normal)).await?;
    counters::add(tx, tenant, block, counter::NUMBERS_GOLDEN, big(golden)).await?;
    let what = format!("numbers_added {block} {count} ({golden} golden)");
    log_admin(tx, now_ms, tenant, what).await?;
    Ok(AdminOutcome::Applied)
}

//! The counters an activation's create commit checks and bumps: an ID's live lines
//! (`id_lines`, kept in step with the per-line rows of `live_lines`) and the velocity
//! windows (`velocity`, one row per scope holding its buckets).
//!
//! The create path reads each counter row with an upsert that locks it (`INSERT … ON
//! CONFLICT DO UPDATE … RETURNING`), never with a SELECT. At SERIALIZABLE a SELECT
//! locks the index page it reads, so every create would conflict with every other create
//! whose new ID or channel row lands on that page (all of them, while the table is
//! small), failing to serialize and retrying; the upsert's probe locks no page. Two
//! creates that need the same row (one ID, one store's window) meet on its row lock: the
//! later fails to serialize once the earlier commits and, run again, sees its count. So
//! the limits hold under any race, and creates for other IDs and channels do not meet.
//! Validation reads the same rows with plain SELECTs and writes nothing.

use super::retry::{Tx, TxResult};
use serde_json::Value;
use std::collections::BTreeMap;

/// How the counters are read: `Lock` by the create commit (see the module doc), `Plain`
/// by validation and the read methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    /// Upsert-and-lock each row (creating it empty if absent).
    Lock,
    /// SELECT, no write.
    Plain,
}

fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

/// An ID's live lines in an enterprise, under any of its hashes (current first). With
/// `Read::Lock` the current hash's row is locked: lines are only ever added under it.
pub async fn id_lines(
    tx: &Tx<'_>,
    enterprise: &str,
    hashes: &[String],
    how: Read,
) -> TxResult<u32> {
    let (first, rest) = match (how, hashes.split_first()) {
        (_, None) => return Ok(0),
        (Read::Plain, Some(_)) => (None, hashes),
        (Read::Lock, Some((first, rest))) => (Some(first), rest),
    };
    let mut n: i64 = 0;
    if let Some(h) = first {
        let r = tx
            .row(
                "INSERT INTO id_lines (enterprise, id_hash, n) VALUES ($1, $2, 0)
                 ON CONFLICT (enterprise, id_hash) DO UPDATE SET n = id_lines.n RETURNING n",
                &[&enterprise, h],
            )
            .await?;
        n += r.map_or(0, |r| i64::from(r.get::<_, i32>(0)));
    }
    if !rest.is_empty() {
        let r = tx
            .row(
                "SELECT COALESCE(SUM(n), 0) FROM id_lines WHERE enterprise = $1 AND id_hash = ANY($2)",
                &[&enterprise, &rest],
            )
            .await?;
        n += r.map_or(0, |r| r.get::<_, i64>(0));
    }
    Ok(count(n))
}

/// `id_lines` of the read methods: the plain sum.
pub const ID_LINES: &str =
    "SELECT COALESCE(SUM(n), 0) FROM id_lines WHERE enterprise = $1 AND id_hash = ANY($2)";

/// Adds `delta` to an ID's count (never below 0), without reading a page.
async fn add_id_line(tx: &Tx<'_>, enterprise: &str, hash: &str, delta: i32) -> TxResult<()> {
    tx.exec(
        "INSERT INTO id_lines (enterprise, id_hash, n) VALUES ($1, $2, GREATEST($3, 0))
         ON CONFLICT (enterprise, id_hash) DO UPDATE SET n = GREATEST(id_lines.n + $3, 0)",
        &[&enterprise, &hash, &delta],
    )
    .await?;
    Ok(())
}

/// Counts an activation's line under its ID hash.
pub async fn count_line(tx: &Tx<'_>, order_id: &str, enterprise: &str, hash: &str) -> TxResult<()> {
    tx.exec(
        "INSERT INTO live_lines (order_id, enterprise, id_hash) VALUES ($1, $2, $3)",
        &[&order_id, &enterprise, &hash],
    )
    .await?;
    add_id_line(tx, enterprise, hash, 1).await
}

/// Stops counting an activation's line (nothing when it was not counted).
pub async fn end_line(tx: &Tx<'_>, activation: &str) -> TxResult<()> {
    let gone = tx
        .rows(
            "DELETE FROM live_lines WHERE order_id = $1 RETURNING enterprise, id_hash",
            &[&activation],
        )
        .await?;
    for r in &gone {
        add_id_line(tx, r.get(0), r.get(1), -1).await?;
    }
    Ok(())
}

/// Stops counting the line of a subscription (its termination completed).
pub async fn end_line_of(tx: &Tx<'_>, subscription: &str) -> TxResult<()> {
    let gone = tx
        .rows(
            "DELETE FROM live_lines
             WHERE order_id = (SELECT activation_id FROM subscriptions WHERE id = $1)
             RETURNING enterprise, id_hash",
            &[&subscription],
        )
        .await?;
    for r in &gone {
        add_id_line(tx, r.get(0), r.get(1), -1).await?;
    }
    Ok(())
}

/// Velocity rows as read: scope → its buckets `(bucket, count)`, all of them.
pub type Windows = BTreeMap<String, Vec<(u64, u32)>>;

fn buckets_of(v: &Value) -> Vec<(u64, u32)> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| {
                    let b = p.get(0)?.as_u64()?;
                    let n = u32::try_from(p.get(1)?.as_u64()?).ok()?;
                    Some((b, n))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn buckets_value(buckets: &[(u64, u32)]) -> Value {
    Value::from(
        buckets
            .iter()
            .map(|(b, n)| Value::from(vec![Value::from(*b), Value::from(*n)]))
            .collect::<Vec<_>>(),
    )
}

/// The velocity rows of `scopes` (locked, and created empty, with `Read::Lock`; in scope
/// order, so two creates lock shared rows in the same order).
pub async fn windows(tx: &Tx<'_>, scopes: &[String], how: Read) -> TxResult<Windows> {
    if scopes.is_empty() {
        return Ok(Windows::new());
    }
    let mut sorted = scopes.to_vec();
    sorted.sort();
    sorted.dedup();
    let rows = match how {
        Read::Lock => {
            tx.rows(
                "INSERT INTO velocity (scope, buckets)
                 SELECT u.scope, '[]'::JSONB FROM unnest($1::TEXT[]) WITH ORDINALITY AS u(scope, i)
                 ORDER BY u.i
                 ON CONFLICT (scope) DO UPDATE SET buckets = velocity.buckets
                 RETURNING scope, buckets",
                &[&sorted],
            )
            .await?
        }
        Read::Plain => {
            tx.rows(
                "SELECT scope, buckets FROM velocity WHERE scope = ANY($1)",
                &[&sorted],
            )
            .await?
        }
    };
    Ok(rows
        .iter()
        .map(|r| (r.get::<_, String>(0), buckets_of(&r.get::<_, Value>(1))))
        .collect())
}

/// One more activation in each `(scope, first, current)`: the current bucket incremented
/// and the buckets before `first` (out of the window) dropped, written over the rows
/// `read` locked.
pub async fn bump(tx: &Tx<'_>, read: &Windows, keys: &[(String, u64, u64)]) -> TxResult<()> {
    let mut next: BTreeMap<&str, Vec<(u64, u32)>> = BTreeMap::new();
    for (scope, first, current) in keys {
        let buckets = next
            .entry(scope.as_str())
            .or_insert_with(|| read.get(scope).cloned().unwrap_or_default());
        buckets.retain(|(b, _)| b >= first);
        match buckets.iter_mut().find(|(b, _)| b == current) {
            Some((_, n)) => *n = n.saturating_add(1),
            None => buckets.push((*current, 1)),
        }
        buckets.sort_unstable();
    }
    if next.is_empty() {
        return Ok(());
    }
    let scopes: Vec<&str> = next.keys().copied().collect();
    let values: Vec<Value> = next.values().map(|b| buckets_value(b)).collect();
    tx.exec(
        "INSERT INTO velocity (scope, buckets) SELECT * FROM unnest($1::TEXT[], $2::JSONB[])
         ON CONFLICT (scope) DO UPDATE SET buckets = excluded.buckets",
        &[&scopes, &values],
    )
    .await?;
    Ok(())
}

/// A dumped velocity row (`scope`, `bucket`, `count`) added to its scope's row (a copy's
/// load).
pub async fn load_bucket(tx: &Tx<'_>, scope: &str, bucket: u64, n: u32) -> TxResult<()> {
    let pair = buckets_value(&[(bucket, n)]);
    tx.exec(
        "INSERT INTO velocity (scope, buckets) VALUES ($1, $2)
         ON CONFLICT (scope) DO UPDATE SET buckets = velocity.buckets || excluded.buckets",
        &[&scope, &pair],
    )
    .await?;
    Ok(())
}

/// Velocity rows of a SELECT of `scope, buckets` as dumped: each scope with its
/// buckets in order.
pub fn scope_rows(rows: &[tokio_postgres::Row]) -> Vec<(String, Vec<(u64, u32)>)> {
    rows.iter()
        .map(|r| {
            let mut b = buckets_of(&r.get::<_, Value>(1));
            b.sort_unstable();
            (r.get::<_, String>(0), b)
        })
        .collect()
}

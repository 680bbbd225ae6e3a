//! The free tree: per tenant, how many free ordinary numbers start with each prefix
//! (`tables::FREE_TREE`). A random allocation walks down it to a uniformly drawn free
//! number (`numbers::pick_uniform`); `pool.rs` moves numbers in and out with the free index.

use super::apply::{Tables, TxResult, backend};
use super::tables::{FREE_GOLDEN, FREE_NUMBERS, FREE_TREE, META, NUMBERS};
use crate::numbers::{FreeTree, TreeNode, tree_nodes};
use crate::store::{NumberClass, NumberRecord, NumberState, StoreError};
use ::redb::{ReadableTable, WriteTransaction};
use std::collections::BTreeMap;

impl Tables<'_> {
    /// Adds `delta` to one node of the tenant's free tree; a node that reaches zero goes.
    /// Saturating: a stale tree must not fail the order that touches it (the pick notices
    /// and falls back).
    pub(super) fn tree_bump(
        &mut self,
        tenant: &str,
        (depth, width, prefix): TreeNode<'_>,
        delta: i64,
    ) -> TxResult<()> {
        let key = (tenant, depth, width, prefix);
        let cur = self
            .free_tree
            .get(key)
            .map_err(backend)?
            .map_or(0, |v| v.value());
        match cur.saturating_add_signed(delta) {
            0 => self.free_tree.remove(key).map(drop),
            n => self.free_tree.insert(key, n).map(drop),
        }
        .map_err(backend)
    }
}

/// One tenant's free tree, read inside the writer's transaction.
pub(super) struct TenantTree<'a, 't> {
    /// The transaction's tables.
    pub t: &'a Tables<'t>,
    /// The tenant whose tree this is.
    pub tenant: &'a str,
}

impl FreeTree for TenantTree<'_, '_> {
    type Error = StoreError;

    fn totals(&self) -> TxResult<Vec<(u8, u64)>> {
        let t = self.tenant;
        let mut out = Vec::new();
        for row in self
            .t
            .free_tree
            .range((t, 0u8, 0u8, "")..=(t, 0u8, u8::MAX, ""))
            .map_err(backend)?
        {
            let (k, v) = row.map_err(backend)?;
            out.push((k.value().2, v.value()));
        }
        Ok(out)
    }

    fn children(&self, width: u8, prefix: &str) -> TxResult<Vec<(String, u64)>> {
        let depth = u8::try_from(prefix.len() + 1).map_err(|_| StoreError::Corrupt {
            table: "free_tree",
            message: "prefix longer than any number".into(),
        })?;
        let (lo, hi) = (format!("{prefix}0"), format!("{prefix}9"));
        let t = self.tenant;
        let mut out = Vec::with_capacity(10);
        for row in self
            .t
            .free_tree
            .range((t, depth, width, lo.as_str())..=(t, depth, width, hi.as_str()))
            .map_err(backend)?
        {
            let (k, v) = row.map_err(backend)?;
            out.push((k.value().3.to_owned(), v.value()));
        }
        Ok(out)
    }

    /// One range of the free index from `prefix` on. Numbers of other widths that share
    /// the prefix sort among the ones of `width` (`86130` < `861300` < `86131`): the
    /// shorter are at most eleven, and the longer ones under each candidate are skipped
    /// in one step, by starting again after all of them (`:` sorts after every digit), so
    /// the read is bounded by the hundred candidates whatever else the pool holds.
    fn nth_free(&self, width: u8, prefix: &str, index: u64) -> TxResult<Option<String>> {
        let width = usize::from(width);
        let end = format!("{prefix}:");
        let mut start = prefix.to_owned();
        let mut left = index;
        loop {
            let mut resume = None;
            for row in self
                .t
                .free_numbers
                .range((self.tenant, start.as_str())..(self.tenant, end.as_str()))
                .map_err(backend)?
            {
                let (k, _) = row.map_err(backend)?;
                let n = k.value().1;
                match n.len().cmp(&width) {
                    std::cmp::Ordering::Less => {}
                    std::cmp::Ordering::Equal if left == 0 => return Ok(Some(n.to_owned())),
                    std::cmp::Ordering::Equal => left -= 1,
                    std::cmp::Ordering::Greater => {
                        if let Some(head) = n.get(..width) {
                            resume = Some(format!("{head}:"));
                            break;
                        }
                    }
                }
            }
            match resume {
                Some(next) => start = next,
                None => return Ok(None),
            }
        }
    }
}

/// Meta key recording that the golden free index has been built for this store.
const FREE_GOLDEN_BUILT: &str = "free_golden_built";

/// Builds the index of free golden numbers of a store written before it existed, from
/// the number records, once (a meta flag records it), in the opening transaction.
pub fn ensure_free_golden(txn: &WriteTransaction) -> TxResult<()> {
    let mut meta = txn.open_table(META).map_err(backend)?;
    if meta.get(FREE_GOLDEN_BUILT).map_err(backend)?.is_some() {
        return Ok(());
    }
    let numbers = txn.open_table(NUMBERS).map_err(backend)?;
    let mut golden = txn.open_table(FREE_GOLDEN).map_err(backend)?;
    for row in numbers.iter().map_err(backend)? {
        let (k, v) = row.map_err(backend)?;
        let rec: NumberRecord = super::apply::dec("numbers", v.value())?;
        if rec.class == NumberClass::Golden && rec.state == NumberState::Available {
            golden
                .insert((rec.tenant.as_str(), k.value()), ())
                .map_err(backend)?;
        }
    }
    meta.insert(FREE_GOLDEN_BUILT, b"1".as_slice())
        .map_err(backend)?;
    Ok(())
}

/// Meta key recording that the free tree has been built for this store, in its present
/// shape (the first shape, flagged `free_tree_built`, went one level deeper: a store that
/// has only that flag gets its tree rebuilt once).
const FREE_TREE_BUILT: &str = "free_tree_built_2";
/// Tree nodes held in memory while building before they are merged into the table.
const BUILD_FLUSH: usize = 1 << 20;

/// Builds the free tree of a store written before the tree existed or in its first
/// shape, from the free index, once (a meta flag records it). Runs in the opening
/// transaction: all or nothing.
pub fn ensure_free_tree(txn: &WriteTransaction) -> TxResult<()> {
    let mut meta = txn.open_table(META).map_err(backend)?;
    if meta.get(FREE_TREE_BUILT).map_err(backend)?.is_some() {
        return Ok(());
    }
    txn.delete_table(FREE_TREE).map_err(backend)?;
    let free = txn.open_table(FREE_NUMBERS).map_err(backend)?;
    let mut tree = txn.open_table(FREE_TREE).map_err(backend)?;
    let mut pending: BTreeMap<(String, u8, u8, String), u64> = BTreeMap::new();
    let mut flush = |pending: &mut BTreeMap<(String, u8, u8, String), u64>| -> TxResult<()> {
        for ((tenant, d, w, p), n) in std::mem::take(pending) {
            let key = (tenant.as_str(), d, w, p.as_str());
            let cur = tree.get(key).map_err(backend)?.map_or(0, |v| v.value());
            tree.insert(key, cur + n).map_err(backend)?;
        }
        Ok(())
    };
    for row in free.iter().map_err(backend)? {
        let (k, _) = row.map_err(backend)?;
        let (tenant, msisdn) = k.value();
        for (d, w, p) in tree_nodes(msisdn) {
            *pending
                .entry((tenant.to_owned(), d, w, p.to_owned()))
                .or_insert(0) += 1;
        }
        if pending.len() >= BUILD_FLUSH {
            flush(&mut pending)?;
        }
    }
    flush(&mut pending)?;
    meta.insert(FREE_TREE_BUILT, b"1".as_slice())
        .map_err(backend)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::embedded::apply::enc;
    use ::redb::{Database, ReadableDatabase};

    fn number(tenant: &str, state: NumberState, class: NumberClass) -> Vec<u8> {
        let rec = NumberRecord {
            tenant: tenant.into(),
            block: "b".into(),
            state,
            class,
        };
        enc(&rec).expect("encode")
    }

    fn golden_index(db: &Database) -> Vec<(String, String)> {
        let txn = db.begin_read().expect("read");
        let t = txn.open_table(FREE_GOLDEN).expect("table");
        t.iter()
            .expect("iter")
            .map(|r| {
                let (k, _) = r.expect("row");
                let (a, b) = k.value();
                (a.to_owned(), b.to_owned())
            })
            .collect()
    }

    /// A store written before the index existed gains it once, with exactly its free
    /// golden numbers; a second open changes nothing (the flag holds).
    #[test]
    fn the_golden_index_is_built_once_from_the_number_records() {
        let db = crate::store::embedded::memory_db();
        let txn = db.begin_write().expect("write");
        {
            let mut t = txn.open_table(NUMBERS).expect("numbers");
            let rows = [
                (
                    "8610",
                    number("a", NumberState::Available, NumberClass::Golden),
                ),
                (
                    "8611",
                    number("a", NumberState::Available, NumberClass::Normal),
                ),
                (
                    "8612",
                    number(
                        "a",
                        NumberState::Quarantined { until_ms: 9 },
                        NumberClass::Golden,
                    ),
                ),
                (
                    "8620",
                    number("b", NumberState::Available, NumberClass::Golden),
                ),
            ];
            for (m, v) in &rows {
                t.insert(*m, v.as_slice()).expect("insert");
            }
        }
        ensure_free_golden(&txn).expect("build");
        txn.commit().expect("commit");
        let built = vec![
            ("a".to_owned(), "8610".to_owned()),
            ("b".to_owned(), "8620".to_owned()),
        ];
        assert_eq!(golden_index(&db), built);
        // Once built, the records are not read again: a row removed from the index by a
        // later commit stays removed.
        let txn = db.begin_write().expect("write");
        txn.open_table(FREE_GOLDEN)
            .expect("table")
            .remove(("b", "8620"))
            .expect("remove");
        ensure_free_golden(&txn).expect("again");
        txn.commit().expect("commit");
        assert_eq!(golden_index(&db), built[..1]);
    }

    /// The `index`th free number of a width under a prefix, read from the free index,
    /// is the one a filter over all free numbers finds, with shorter and longer numbers
    /// sharing the prefix and another tenant's numbers in the same index.
    #[test]
    fn the_nth_free_number_skips_other_widths_and_tenants() {
        use crate::store::embedded::apply::Tables;
        let free: Vec<String> = (0..40u64)
            .map(|n| format!("{}", 4_915_100 + n * 3)) // 7 digits
            .chain((0..25u64).map(|n| format!("{}", 49_151_000 + n * 7))) // 8, inside them
            .chain((0..30u64).map(|n| format!("{}", 491_510_000_000 + n))) // 12
            .chain(["49151", "491510", "4915"].map(str::to_owned)) // shorter
            .collect();
        let db = crate::store::embedded::memory_db();
        let txn = db.begin_write().expect("write");
        {
            let mut t = Tables::open(&txn).expect("tables");
            for n in &free {
                t.free_numbers.insert(("a", n.as_str()), ()).expect("a");
            }
            t.free_numbers.insert(("b", "4915101"), ()).expect("b");
            let tree = TenantTree { t: &t, tenant: "a" };
            let mut sorted = free.clone();
            sorted.sort();
            for (width, prefix) in [
                (7u8, "49151"),
                (7, "49152"),
                (8, "491510"),
                (8, "491512"),
                (12, "4915100000"),
            ] {
                let want: Vec<&String> = sorted
                    .iter()
                    .filter(|n| n.len() == usize::from(width) && n.starts_with(prefix))
                    .collect();
                for i in 0..=want.len() as u64 {
                    assert_eq!(
                        tree.nth_free(width, prefix, i).expect("read").as_ref(),
                        want.get(usize::try_from(i).expect("i")).copied(),
                        "width {width}, prefix {prefix}, index {i}"
                    );
                }
            }
            assert_eq!(tree.nth_free(7, "49159", 0).expect("read"), None);
        }
        txn.abort().expect("abort");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Over the store's own tree and free index, for random pools of numbers of four
        /// to seven digits over a few digit values (so lengths share prefixes often),
        /// every free number owns exactly one draw `r` in `0..total`.
        #[test]
        fn every_free_number_in_the_store_owns_exactly_one_draw(
            numbers in proptest::collection::btree_set("[0-2]{4,7}", 1..120),
        ) {
            use crate::numbers::{Pick, pick_uniform};
            use crate::store::embedded::apply::Tables;
            let db = crate::store::embedded::memory_db();
            let txn = db.begin_write().expect("write");
            {
                let mut t = Tables::open(&txn).expect("tables");
                for n in &numbers {
                    t.free_numbers.insert(("a", n.as_str()), ()).expect("free");
                    for node in tree_nodes(n) {
                        t.tree_bump("a", node, 1).expect("bump");
                    }
                }
                let tree = TenantTree { t: &t, tenant: "a" };
                let mut drawn = std::collections::BTreeSet::new();
                for r in 0..numbers.len() as u64 {
                    match pick_uniform(&tree, r).expect("pick") {
                        Pick::Number(n) => proptest::prop_assert!(drawn.insert(n), "drawn twice at r = {}", r),
                        other => proptest::prop_assert!(false, "r = {}: {:?}", r, other),
                    }
                }
                proptest::prop_assert_eq!(&drawn, &numbers);
            }
            txn.abort().expect("abort");
        }
    }
}

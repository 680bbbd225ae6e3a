//! `simgw db copy`: moves every record of one store into another (an embedded deployment
//! onto PostgreSQL, with the gateway stopped), then proves the copy by reading both back:
//! the same rows and the same order-independent checksum per table, and the same
//! inventory counts per tenant.

use super::dump::{DumpTable, TableSum};
use super::{StoreAdmin, StoreError};

/// Rows per page read from the source and per transaction written to the target.
const PAGE: usize = 1_000;

/// What a copy moved, table by table.
#[derive(Debug, Clone, Default)]
pub struct CopyReport {
    /// Per table: its name and the sum both stores agree on.
    pub tables: Vec<(&'static str, TableSum)>,
    /// Tenants whose inventory counts were compared.
    pub tenants: usize,
}

/// Why a copy stopped.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// A store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The target holds data already: a copy goes into an empty store only.
    #[error("the target store is not empty ({0} holds rows); copy into a new database")]
    TargetNotEmpty(&'static str),
    /// Reading both back disagreed.
    #[error("the copy differs from its source: {0}")]
    Mismatch(String),
}

/// Copies `from` into `to` and verifies the result. `progress` hears each table's name
/// and rows copied so far.
pub async fn copy(
    from: &dyn StoreAdmin,
    to: &dyn StoreAdmin,
    mut progress: impl FnMut(&'static str, u64),
) -> Result<CopyReport, CopyError> {
    for table in DumpTable::ALL {
        if !to.dump_page(table, None, 1).await?.rows.is_empty() {
            return Err(CopyError::TargetNotEmpty(table.name()));
        }
    }
    let mut sums = Vec::new();
    for table in DumpTable::ALL {
        let mut sum = TableSum::default();
        let mut cursor: Option<String> = None;
        loop {
            let page = from.dump_page(table, cursor.as_deref(), PAGE).await?;
            to.load_rows(table, &page.rows).await?;
            page.rows.iter().for_each(|r| sum.add(r));
            progress(table.name(), sum.rows);
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        sums.push((table, sum));
    }
    to.finish_load().await?;
    let mut report = CopyReport::default();
    for (table, source) in sums {
        let target = table_sum(to, table).await?;
        if target != source {
            return Err(CopyError::Mismatch(format!(
                "{}: source {} rows sha {}, target {} rows sha {}",
                table.name(),
                source.rows,
                source.hex(),
                target.rows,
                target.hex()
            )));
        }
        report.tables.push((table.name(), source));
    }
    let tenants = from.tenant_ids().await?;
    for t in &tenants {
        let (a, b) = (
            from.inventory_counts(t).await?,
            to.inventory_counts(t).await?,
        );
        if a != b {
            return Err(CopyError::Mismatch(format!(
                "inventory counts of tenant {t}: source {a:?}, target {b:?}"
            )));
        }
        let (a, b) = (
            nonzero(from.inventory_breakdown(t).await?),
            nonzero(to.inventory_breakdown(t).await?),
        );
        if a != b {
            return Err(CopyError::Mismatch(format!(
                "pool and batch counts of tenant {t} differ"
            )));
        }
    }
    report.tenants = tenants.len();
    Ok(report)
}

/// A breakdown without its zero counts: a backend may keep a counter that fell to zero
/// (or was never counted) or not, and the target derives counters from the records.
fn nonzero(mut b: super::Breakdown) -> super::Breakdown {
    for map in [&mut b.pools, &mut b.batches] {
        map.values_mut().for_each(|m| m.retain(|_, n| *n > 0));
        map.retain(|_, m| !m.is_empty());
    }
    b
}

/// The checksum of one table of a store, read whole.
pub async fn table_sum(store: &dyn StoreAdmin, table: DumpTable) -> Result<TableSum, StoreError> {
    let mut sum = TableSum::default();
    let mut cursor: Option<String> = None;
    loop {
        let page = store.dump_page(table, cursor.as_deref(), PAGE).await?;
        page.rows.iter().for_each(|r| sum.add(r));
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(sum),
        }
    }
}

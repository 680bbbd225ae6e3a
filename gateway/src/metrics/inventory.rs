//! The per-tenant inventory gauges of the metrics page, read from the store's counters at
//! scrape time (point reads, no scans).

use super::exposition::{Family, Kind, Value};
use crate::store::Store;

/// `simgw_inventory{tenant,kind}`, `simgw_inventory_pool{tenant,pool,kind}` and
/// `simgw_inventory_low_stock{tenant,pool}`, read now. A tenant whose reads fail is left
/// out; none of the three families if the tenants cannot be listed.
pub async fn families(store: &dyn Store) -> Vec<Family> {
    let Ok(tenants) = store.tenant_ids().await else {
        return Vec::new();
    };
    let mut stock = Family::new(
        "simgw_inventory",
        "Inventory by tenant and kind.",
        Kind::Gauge,
    );
    let mut pools = Family::new(
        "simgw_inventory_pool",
        "Free ordinary numbers by tenant and number pool.",
        Kind::Gauge,
    );
    let mut low = Family::new(
        "simgw_inventory_low_stock",
        "1 when a tenant's available SIMs (pool sims) or a number pool's free ordinary numbers are below its threshold.",
        Kind::Gauge,
    );
    for t in tenants {
        let Ok(c) = store.inventory_counts(&t).await else {
            continue;
        };
        for (kind, v) in [
            ("sims_available", c.sims_available),
            ("sims_reserved", c.sims_reserved),
            ("sims_active", c.sims_active),
            ("numbers_available", c.numbers_available),
            ("numbers_golden", c.numbers_golden),
            ("numbers_held", c.numbers_held),
            ("numbers_quarantined", c.numbers_quarantined),
        ] {
            stock.push(&[("tenant", &t), ("kind", kind)], Value::whole(v));
        }
        // Low stock: SIMs against the tenant threshold (pool `sims`), and each number pool
        // against its own threshold or the tenant's.
        let Ok(Some(tenant)) = store.tenant(&t).await else {
            continue;
        };
        let Ok(breakdown) = store.inventory_breakdown(&t).await else {
            continue;
        };
        if let Some(threshold) = tenant.low_stock_threshold {
            low.push(
                &[("tenant", &t), ("pool", "sims")],
                Value::Int((c.sims_available < threshold).into()),
            );
        }
        for (pool, counts) in &breakdown.pools {
            let free = counts.get("numbers_available").copied().unwrap_or(0);
            pools.push(
                &[
                    ("tenant", &t),
                    ("pool", pool),
                    ("kind", "numbers_available"),
                ],
                Value::whole(free),
            );
            if let Some(threshold) = tenant
                .pool_low_stock
                .get(pool)
                .copied()
                .or(tenant.low_stock_threshold)
            {
                low.push(
                    &[("tenant", &t), ("pool", pool)],
                    Value::Int((free < threshold).into()),
                );
            }
        }
    }
    vec![stock, pools, low]
}

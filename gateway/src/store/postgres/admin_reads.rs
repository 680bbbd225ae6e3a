//! `StoreAdmin`'s listings on PostgreSQL: index reads for the sandbox's card list and
//! number blocks, scans for reconciliation and tests (never on a request path).

use super::PgStore;
use super::codec::{big, from_doc, unbig};
use crate::order::{Order, OrderStatus};
use crate::store::StoreError;
use sim_profiles::Iccid;

impl PgStore {
    /// The block label of a number, if it is in any pool.
    pub async fn number_block(&self, msisdn: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .read_opt("SELECT block FROM numbers WHERE msisdn = $1", &[&msisdn])
            .await?
            .map(|r| r.get(0)))
    }

    /// ICCIDs of a tenant's available physical SIMs (not eSIM profiles, not in an
    /// unfinished batch), in ICCID order, at most `limit`.
    pub async fn available_sims(
        &self,
        tenant: &str,
        limit: usize,
    ) -> Result<Vec<Iccid>, StoreError> {
        let limit = big(u64::try_from(limit).unwrap_or(u64::MAX));
        self.read_rows(
            "SELECT iccid FROM sims
             WHERE tenant = $1 AND stocked AND state = 'available' AND esim_profile_type IS NULL
             ORDER BY iccid LIMIT $2",
            &[&tenant, &limit],
        )
        .await?
        .iter()
        .map(|r| {
            let iccid: String = r.get(0);
            iccid.parse().map_err(|e| StoreError::Corrupt {
                table: "sims",
                message: format!("ICCID {iccid}: {e}"),
            })
        })
        .collect()
    }

    /// A tenant's orders in `status` (reconciliation; scans the tenant's orders).
    pub async fn orders_with_status(
        &self,
        tenant: &str,
        status: OrderStatus,
    ) -> Result<Vec<Order>, StoreError> {
        self.read_rows(
            "SELECT doc FROM orders WHERE tenant = $1 AND status = $2 ORDER BY id",
            &[&tenant, &status.as_str()],
        )
        .await?
        .into_iter()
        .map(|r| from_doc("orders", r.get(0)))
        .collect()
    }

    /// Entries of the internal event log, numbered or waiting for the sequencer.
    pub async fn event_count(&self) -> Result<u64, StoreError> {
        let row = self
            .read_opt("SELECT COALESCE(SUM(n), 0) FROM event_batches", &[])
            .await?
            .ok_or_else(|| StoreError::Backend("count returned no row".into()))?;
        Ok(unbig(row.get(0)))
    }
}

//! Second real-person verification on PostgreSQL: not built yet (issue 15; the embedded
//! store has it, `store/embedded/reverify.rs`). What works already, through the shared
//! records: a line opened by a flagged activation stores its `pending` verification in
//! its document (`Subscription::opened_by`), so the API shows `pending_verification`.
//!
//! What is left: a `reverify_due (due_ms, subscription)` table (and rebuilding it in
//! `copy_derive` from the subscriptions' `verification`), filled by `lines::open` with
//! the `verification.required` audit record and `subscription.verification_required`
//! event; `record_verification` and `expire_reverifications` as the embedded store does
//! them, over `records::reverify` (`line_change`, `line_order`, `expiry_order`, the audit
//! records), the order through `lifecycle::create`. Until then the deadline never passes
//! here and a result is refused as a store failure.

use super::PgStore;
use crate::order::Order;
use crate::store::{NewVerification, Planner, StoreError, VerificationOutcome};

fn not_built() -> StoreError {
    StoreError::Backend(
        "second real-person verification is not available on the PostgreSQL store yet".into(),
    )
}

impl PgStore {
    /// See `Store::record_verification` (not built: refused).
    pub(super) async fn record_verification(
        &self,
        _v: NewVerification,
    ) -> Result<VerificationOutcome, StoreError> {
        Err(not_built())
    }

    /// See `Store::next_reverify_deadline` (not built: none).
    pub(super) async fn next_reverify_deadline(&self) -> Result<Option<u64>, StoreError> {
        Ok(None)
    }

    /// See `Store::expire_reverifications` (not built: nothing expires).
    pub(super) async fn expire_reverifications(
        &self,
        _now_ms: u64,
        _plan: Planner,
    ) -> Result<Vec<Order>, StoreError> {
        Ok(Vec::new())
    }
}

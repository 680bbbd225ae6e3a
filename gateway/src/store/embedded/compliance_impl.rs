//! The `ComplianceStore` part of the store port on redb (see `store_impl.rs`).

use super::*;
use adapters::hlr::BoxFuture;

impl ComplianceStore for RedbStore {
    // Compliance (issue 15): `compliance.rs` in the writer, `compliance_read.rs` here.
    fn validate_activation<'a>(
        &'a self,
        tenant: &'a str,
        check: &'a ComplianceCheck,
        now_ms: u64,
    ) -> BoxFuture<'a, Result<crate::compliance::Decision, StoreError>> {
        Box::pin(self.validate(tenant, check, now_ms))
    }

    fn precheck_activation<'a>(
        &'a self,
        tenant: &'a str,
        check: &'a ComplianceCheck,
        now_ms: u64,
    ) -> BoxFuture<'a, Result<crate::compliance::Decision, StoreError>> {
        Box::pin(async move { self.precheck(tenant, check, now_ms) })
    }

    fn compliance_change(
        &self,
        change: ComplianceChange,
        audit: crate::compliance::audit::AuditRecord,
    ) -> BoxFuture<'_, Result<ComplianceChangeOutcome, StoreError>> {
        Box::pin(self.change_compliance(change, audit))
    }

    fn terminal_record<'a>(
        &'a self,
        tenant: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(async move { self.read_terminal(tenant, key) })
    }

    fn registry<'a>(
        &'a self,
        tenant: &'a str,
        query: &'a ComplianceQuery,
    ) -> BoxFuture<'a, Result<Vec<RegistryEntry>, StoreError>> {
        Box::pin(async move { self.read_registry(tenant, query) })
    }

    fn blocklist<'a>(
        &'a self,
        enterprise: &'a str,
        query: &'a ComplianceQuery,
    ) -> BoxFuture<'a, Result<Vec<BlocklistEntry>, StoreError>> {
        Box::pin(async move { self.read_blocklist(enterprise, query) })
    }

    fn live_lines<'a>(
        &'a self,
        enterprise: &'a str,
        id_hashes: &'a [String],
    ) -> BoxFuture<'a, Result<u32, StoreError>> {
        Box::pin(async move { self.read_live_lines(enterprise, id_hashes) })
    }

    fn audit_rows(
        &self,
        from: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<AuditRow>, StoreError>> {
        Box::pin(async move { self.read_audit_rows(from, limit) })
    }

    // Second real-person verification: `reverify.rs`.
    fn record_verification(
        &self,
        v: NewVerification,
    ) -> BoxFuture<'_, Result<VerificationOutcome, StoreError>> {
        Box::pin(self.submit_verification(v))
    }

    fn next_reverify_deadline(&self) -> BoxFuture<'_, Result<Option<u64>, StoreError>> {
        Box::pin(async move { self.read_next_reverify() })
    }

    fn expire_reverifications(
        &self,
        now_ms: u64,
        plan: Planner,
    ) -> BoxFuture<'_, Result<Vec<Order>, StoreError>> {
        Box::pin(self.submit_expire_reverify(now_ms, plan))
    }

    fn record_handset(&self, h: NewHandset) -> BoxFuture<'_, Result<HandsetOutcome, StoreError>> {
        Box::pin(self.submit_handset(h))
    }
}

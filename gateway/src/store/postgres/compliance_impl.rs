//! The `ComplianceStore` part of the store port on PostgreSQL (see `store_impl.rs`).

use super::PgStore;
use crate::order::Order;
use crate::store::*;
use adapters::hlr::BoxFuture;

impl ComplianceStore for PgStore {
    // Compliance (`compliance.rs`, `compliance_admin.rs`, `audit_chain.rs`).
    fn validate_activation<'a>(
        &'a self,
        tenant: &'a str,
        check: &'a ComplianceCheck,
        now_ms: u64,
    ) -> BoxFuture<'a, Result<crate::compliance::Decision, StoreError>> {
        Box::pin(PgStore::validate_activation(self, tenant, check, now_ms))
    }

    fn precheck_activation<'a>(
        &'a self,
        tenant: &'a str,
        check: &'a ComplianceCheck,
        now_ms: u64,
    ) -> BoxFuture<'a, Result<crate::compliance::Decision, StoreError>> {
        Box::pin(PgStore::precheck_activation(self, tenant, check, now_ms))
    }

    fn compliance_change(
        &self,
        change: ComplianceChange,
        audit: crate::compliance::audit::AuditRecord,
    ) -> BoxFuture<'_, Result<ComplianceChangeOutcome, StoreError>> {
        Box::pin(PgStore::compliance_change(self, change, audit))
    }

    fn terminal_record<'a>(
        &'a self,
        tenant: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(PgStore::terminal_record(self, tenant, key))
    }

    fn registry<'a>(
        &'a self,
        tenant: &'a str,
        query: &'a ComplianceQuery,
    ) -> BoxFuture<'a, Result<Vec<RegistryEntry>, StoreError>> {
        Box::pin(PgStore::registry(self, tenant, query))
    }

    fn blocklist<'a>(
        &'a self,
        enterprise: &'a str,
        query: &'a ComplianceQuery,
    ) -> BoxFuture<'a, Result<Vec<BlocklistEntry>, StoreError>> {
        Box::pin(PgStore::blocklist(self, enterprise, query))
    }

    fn live_lines<'a>(
        &'a self,
        enterprise: &'a str,
        id_hashes: &'a [String],
    ) -> BoxFuture<'a, Result<u32, StoreError>> {
        Box::pin(PgStore::live_lines(self, enterprise, id_hashes))
    }

    fn audit_rows(
        &self,
        from: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<AuditRow>, StoreError>> {
        Box::pin(PgStore::audit_rows(self, from, limit))
    }

    // Second real-person verification: stubs in `reverify.rs`.
    fn record_verification(
        &self,
        v: NewVerification,
    ) -> BoxFuture<'_, Result<VerificationOutcome, StoreError>> {
        Box::pin(PgStore::record_verification(self, v))
    }

    fn next_reverify_deadline(&self) -> BoxFuture<'_, Result<Option<u64>, StoreError>> {
        Box::pin(PgStore::next_reverify_deadline(self))
    }

    fn expire_reverifications(
        &self,
        now_ms: u64,
        plan: Planner,
    ) -> BoxFuture<'_, Result<Vec<Order>, StoreError>> {
        Box::pin(PgStore::expire_reverifications(self, now_ms, plan))
    }

    fn record_handset(&self, h: NewHandset) -> BoxFuture<'_, Result<HandsetOutcome, StoreError>> {
        Box::pin(PgStore::record_handset(self, h))
    }
}

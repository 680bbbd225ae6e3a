//! The compliance part of the store port (issue 15): validation, the registry and
//! blocklists, the live-line count, the audit rows and second real-person verification.
//! The create commit's own checks ride on `Store::create_activation`
//! (`NewActivation::compliance`).

use super::*;
use crate::order::Order;
use adapters::hlr::BoxFuture;

/// What the real-name controls need of a backend beyond the create commit.
pub trait ComplianceStore: Send + Sync {
    /// Runs an activation's checks exactly as its create commit would, in one
    /// transaction, reserving and counting nothing: writes only the decision's audit
    /// record (`activation.validate`). `POST /v1/activations/validate`.
    fn validate_activation<'a>(
        &'a self,
        tenant: &'a str,
        check: &'a ComplianceCheck,
        now_ms: u64,
    ) -> BoxFuture<'a, Result<crate::compliance::Decision, StoreError>>;

    /// The decision an activation's checks would reach now, read-only: no audit record,
    /// nothing reserved, counted or frozen. A hint: the create commit decides again. Asked
    /// before the identity verifier is called ahead of the create commit, so that an
    /// order the commit would refuse is not put to the verifier.
    fn precheck_activation<'a>(
        &'a self,
        tenant: &'a str,
        check: &'a ComplianceCheck,
        now_ms: u64,
    ) -> BoxFuture<'a, Result<crate::compliance::Decision, StoreError>>;

    /// Applies an operator's registry or blocklist change (or none, `AuditOnly`) and
    /// appends `audit` in the same commit. A refused change appends nothing.
    fn compliance_change(
        &self,
        change: ComplianceChange,
        audit: crate::compliance::audit::AuditRecord,
    ) -> BoxFuture<'_, Result<ComplianceChangeOutcome, StoreError>>;

    /// A store-terminal record (`ComplianceChange::TerminalSwap` writes them).
    fn terminal_record<'a>(
        &'a self,
        tenant: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>>;

    /// A tenant's registry entries, by (member, store, id).
    fn registry<'a>(
        &'a self,
        tenant: &'a str,
        query: &'a ComplianceQuery,
    ) -> BoxFuture<'a, Result<Vec<RegistryEntry>, StoreError>>;

    /// An enterprise's blocklist entries (history included), by (list, value, start).
    fn blocklist<'a>(
        &'a self,
        enterprise: &'a str,
        query: &'a ComplianceQuery,
    ) -> BoxFuture<'a, Result<Vec<BlocklistEntry>, StoreError>>;

    /// How many live lines (in progress or active; not failed, not terminated) an
    /// enterprise holds under any of `id_hashes`.
    fn live_lines<'a>(
        &'a self,
        enterprise: &'a str,
        id_hashes: &'a [String],
    ) -> BoxFuture<'a, Result<u32, StoreError>>;

    /// Audit rows from sequence number `from` (1 = the first), at most `limit`, in
    /// sequence order. A backend that links records after their commit (PostgreSQL)
    /// links every committed record first, so the rows listed end at the newest commit.
    fn audit_rows(
        &self,
        from: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<AuditRow>, StoreError>>;

    // Second real-person verification (issue 15, `records/reverify.rs`). A line opens in
    // `pending_verification` in the commit that makes its activation active (with its
    // deadline indexed and `subscription.verification_required` published there).

    /// Records a verification result on a line in one commit: its new state, the
    /// deadline index, the audit record, `subscription.verified` on a pass, and the
    /// `regulatory` resume (a late pass) or suspend (a failure) order it needs, created
    /// as `create_lifecycle` would (the caller hands it to the engine). A refusal, or a
    /// line busy with another order when one is needed, changes nothing.
    fn record_verification(
        &self,
        v: NewVerification,
    ) -> BoxFuture<'_, Result<VerificationOutcome, StoreError>>;

    /// The earliest re-verification deadline (or busy-line retry) in the index, if any
    /// (a read; no commit).
    fn next_reverify_deadline(&self) -> BoxFuture<'_, Result<Option<u64>, StoreError>>;

    /// Handles up to `EXPIRE_BATCH` lines whose deadline is at or before `now_ms`, in one
    /// commit: each still pending is marked suspended (audited `verification.expired`)
    /// with a `regulatory` suspend order planned by `plan` (none if the line already has
    /// that reason); a line busy with another order is looked at again later. Returns the
    /// orders created, durable, for the engine to drive.
    fn expire_reverifications(
        &self,
        now_ms: u64,
        plan: Planner,
    ) -> BoxFuture<'_, Result<Vec<Order>, StoreError>>;

    /// Records that the network saw a line in a handset, in one commit
    /// (`records/handset.rs`): the line's handset, and when the tenant's `imei_change`
    /// or `blocked_imei` rule hits (another handset than the last reported; an IMEI on
    /// the enterprise's blocklist in force), the line flagged for its second
    /// verification as a risk hit at activation flags it (deadline indexed, audited,
    /// `subscription.verification_required`). A report of the handset last reported,
    /// blocklisted as before, writes nothing.
    fn record_handset(&self, h: NewHandset) -> BoxFuture<'_, Result<HandsetOutcome, StoreError>>;
}

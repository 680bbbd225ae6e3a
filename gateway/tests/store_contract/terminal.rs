//! Store-terminal records (`ComplianceChange::TerminalSwap`): a compare-and-swap whose
//! winner is written with its audit record and whose loser changes nothing, per tenant,
//! kept across a reopen and dumped for `simgw db copy`.

use super::Backend;
use gateway::compliance::audit::AuditRecord;
use gateway::store::dump::DumpTable;
use gateway::store::{ComplianceChange, ComplianceChangeOutcome, StoreAdmin};

fn swap(tenant: &str, key: &str, expect: Option<&[u8]>, value: Option<&[u8]>) -> ComplianceChange {
    ComplianceChange::TerminalSwap {
        tenant: tenant.into(),
        key: key.into(),
        expect: expect.map(<[u8]>::to_vec),
        value: value.map(<[u8]>::to_vec),
    }
}

fn audit(action: &str) -> AuditRecord {
    AuditRecord {
        action: action.into(),
        ..AuditRecord::default()
    }
}

async fn apply(s: &dyn StoreAdmin, c: ComplianceChange, action: &str) -> ComplianceChangeOutcome {
    s.compliance_change(c, audit(action)).await.expect("swap")
}

async fn audit_len(s: &dyn StoreAdmin) -> usize {
    s.audit_rows(1, 10_000).await.expect("audit").len()
}

pub async fn a_swap_writes_only_over_what_was_read(b: &mut Backend) {
    let s = b.store();
    let k = "clerk/SZ-0042/C1";
    assert_eq!(s.terminal_record("t1", k).await.expect("read"), None);
    // Created from nothing.
    let o = apply(s, swap("t1", k, None, Some(b"v1")), "put").await;
    assert_eq!(o, ComplianceChangeOutcome::Applied);
    let audited = audit_len(s).await;
    // A second creator, and a writer over a value it never read, both lose; no audit.
    for c in [
        swap("t1", k, None, Some(b"other")),
        swap("t1", k, Some(b"v0"), Some(b"other")),
        swap("t1", k, Some(b"v0"), None),
    ] {
        assert_eq!(apply(s, c, "lost").await, ComplianceChangeOutcome::Stale);
    }
    assert_eq!(audit_len(s).await, audited);
    assert_eq!(
        s.terminal_record("t1", k).await.expect("read").as_deref(),
        Some(&b"v1"[..])
    );
    // Records are per tenant.
    assert_eq!(s.terminal_record("t2", k).await.expect("read"), None);
    // Over what was read: replaced, then removed; each with its audit record.
    assert_eq!(
        apply(s, swap("t1", k, Some(b"v1"), Some(b"v2")), "put").await,
        ComplianceChangeOutcome::Applied
    );
    apply(s, swap("", "pairing/x", None, Some(b"p")), "pairing").await;
    assert_eq!(audit_len(s).await, audited + 2);
    let dumped = s
        .dump_page(DumpTable::TerminalRecords, None, 10)
        .await
        .expect("dump");
    let keys: Vec<&str> = dumped.rows.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["/pairing/x", "t1/clerk/SZ-0042/C1"]);
    assert_eq!(dumped.rows[1].doc, serde_json::json!("7632"));
    assert_eq!(
        apply(s, swap("", "pairing/x", Some(b"p"), None), "spent").await,
        ComplianceChangeOutcome::Applied
    );
    assert_eq!(
        s.terminal_record("", "pairing/x").await.expect("read"),
        None
    );
    // What was written survives a restart.
    if b.reopen().await {
        let s = b.store();
        assert_eq!(
            s.terminal_record("t1", k).await.expect("read").as_deref(),
            Some(&b"v2"[..])
        );
    }
}

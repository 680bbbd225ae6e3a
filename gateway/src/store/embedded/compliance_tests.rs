//! The velocity bump of the compliance tables.

use super::*;

/// The counts of `scope`'s buckets, by bucket.
fn rows(c: &ComplianceTables<'_>, scope: &str) -> Vec<(u64, u32)> {
    buckets(&c.velocity, scope, 0, u64::MAX).expect("read")
}

#[test]
fn a_bump_counts_from_the_row_whatever_the_decision_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = ::redb::Database::create(dir.path().join("t.redb")).expect("db");
    let txn = db.begin_write().expect("txn");
    let mut c = ComplianceTables::open(&txn).expect("tables");
    // No hint: the row is read.
    c.bump("s", 0, 5, None).expect("bump");
    // The hint the decision read, then stale ones (too high, too low): the row's old
    // value decides.
    for hint in [Some(1), Some(7), Some(0)] {
        c.bump("s", 0, 5, hint).expect("bump");
    }
    assert_eq!(rows(&c, "s"), [(5, 4)]);
    // The bump that opens a bucket drops those before the window, even when a stale
    // hint says the new bucket was already open.
    c.velocity.insert(("t", 1), 3).expect("insert");
    c.bump("t", 3, 6, Some(2)).expect("bump");
    assert_eq!(rows(&c, "t"), [(6, 1)]);
}

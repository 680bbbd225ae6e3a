//! What the metrics page reads of the backend: the sequencer's backlog and lease (stuck
//! when its passes fail, caught up once they succeed), its passes by outcome, and the
//! connection pool's waits and waiters.

use super::*;
use gateway::metrics::exposition::{Format, encode};
use gateway::store::postgres::retry::RetryStats;

/// The value of the sample `line` starts with in the families of `stats`.
fn sample(stats: &RetryStats, line: &str) -> u64 {
    let text = encode(Format::Prometheus, stats.families());
    text.lines()
        .find_map(|l| l.strip_prefix(line)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{line} in {text}"))
}

#[tokio::test]
async fn a_stuck_sequencer_shows_its_backlog_lag_and_failed_passes_until_it_catches_up() {
    let pg = server();
    let (a, b) = nodes(&pg, "seqmetrics").await;
    let status = async |s: &PgStore| s.sequencer_status().await.expect("status");
    let idle = status(&a).await;
    assert_eq!(
        (idle.public, idle.audit, idle.lag_ms),
        (0, 0, 0),
        "{idle:?}"
    );
    assert!(!idle.lease_held, "no pass yet: {idle:?}");

    publish(&a, ACME, EventType::OrderActive, Some("x"), 1).await;
    publish(&b, ACME, EventType::OrderActive, Some("y"), 2).await;
    let pending = status(&b).await;
    assert_eq!(pending.public, 2, "{pending:?}");
    assert!(a.sequence_events().await.expect("pass").is_some());
    assert!(
        b.sequence_events().await.expect("pass").is_none(),
        "a's lease"
    );
    let (sa, sb) = (status(&a).await, status(&b).await);
    assert_eq!((sa.public, sa.lag_ms), (0, 0), "caught up: {sa:?}");
    assert!(sa.lease_held && !sb.lease_held, "{sa:?} {sb:?}");
    assert_eq!(
        sample(
            a.retry_stats(),
            "simgw_store_sequencer_passes_total{result=\"ok\"}"
        ),
        1
    );
    assert_eq!(
        sample(
            b.retry_stats(),
            "simgw_store_sequencer_passes_total{result=\"lease_elsewhere\"}"
        ),
        1
    );

    // A row the pass cannot read (an audit record that does not decode, whose transaction
    // began an hour ago) stops every pass: the backlog stays, its age shows, and each pass
    // is counted as failed.
    let hour_ago = now() - 3_600_000;
    let txn = format!("{hour_ago:012x}{:016x}{:08x}", 0, 0);
    a.client()
        .await
        .expect("client")
        .execute(
            "INSERT INTO audit_batches (txn, ord, records) VALUES ($1, 0, ARRAY['\\x00'::BYTEA])",
            &[&txn],
        )
        .await
        .expect("insert");
    publish(&a, ACME, EventType::OrderActive, Some("z"), 3).await;
    for _ in 0..2 {
        assert!(a.sequence_events().await.is_err(), "the pass fails");
    }
    let stuck = status(&b).await;
    assert_eq!((stuck.public, stuck.compliance_audit), (1, 1), "{stuck:?}");
    assert!(stuck.lag_ms >= 3_600_000, "{stuck:?}");
    assert_eq!(
        sample(
            a.retry_stats(),
            "simgw_store_sequencer_passes_total{result=\"failed\"}"
        ),
        2
    );

    a.client()
        .await
        .expect("client")
        .execute("DELETE FROM audit_batches WHERE txn = $1", &[&txn])
        .await
        .expect("delete");
    a.flush_events().await.expect("flush");
    let caught_up = status(&b).await;
    assert_eq!(
        (
            caught_up.public,
            caught_up.audit,
            caught_up.compliance_audit,
            caught_up.lag_ms
        ),
        (0, 0, 0, 0),
        "{caught_up:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_waits_are_observed_and_an_exhausted_pool_does_not_hold_the_scrape() {
    let pg = server();
    let url = pg.create_db("poolmetrics").await.expect("create database");
    let cfg = StoreConfig {
        pool_size: 1,
        ..config(&url)
    };
    let s = Arc::new(PgStore::connect(&cfg).await.expect("connect"));
    let count = "simgw_store_pool_wait_seconds_count";
    let before = sample(s.retry_stats(), count);
    for n in 0..5 {
        publish(&s, ACME, EventType::OrderActive, Some("x"), n).await;
    }
    assert!(
        sample(s.retry_stats(), count) >= before + 5,
        "one checkout at least per transaction"
    );
    let free = s.pool_status();
    assert_eq!(
        (free.max_size, free.size, free.idle, free.waiting),
        (1, 1, 1, 0)
    );

    // Its one connection held: a transaction waits, and the scrape leaves the backlog
    // out rather than wait with it.
    let held = s.client().await.expect("client");
    let waiter = {
        let s = s.clone();
        tokio::spawn(async move { publish(&s, ACME, EventType::OrderActive, Some("w"), 9).await })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while s.pool_status().waiting == 0 {
        assert!(std::time::Instant::now() < deadline, "never waited");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let busy = s.backend_status().await;
    assert_eq!((busy.pool.idle, busy.pool.waiting), (0, 1), "{busy:?}");
    assert_eq!(
        busy.sequencer, None,
        "the scrape does not wait for the pool"
    );
    let text = encode(
        Format::Prometheus,
        gateway::metrics::postgres::backend_families(Some(&busy)),
    );
    assert!(text.contains("simgw_store_pool_waiting 1\n"), "{text}");
    assert!(
        text.contains("simgw_store_pool_connections{state=\"in_use\"} 1\n"),
        "{text}"
    );
    drop(held);
    waiter.await.expect("the waiter gets the connection");
    let after = s.backend_status().await;
    assert_eq!(after.pool.waiting, 0);
    assert_eq!(after.sequencer.map(|q| q.public), Some(6), "read again");
}

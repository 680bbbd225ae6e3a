//! The transaction runner: a deliberate serialization failure is retried, a lasting one
//! gives up, a store error rolls back.

use super::*;

/// What the two conflicting transactions share: the signals that interleave them, and how
/// often the first one's body ran.
struct Race {
    first_read: Notify,
    second_committed: Notify,
    first_attempts: AtomicU32,
}

async fn read_counter(tx: &Tx<'_>) -> TxResult<i64> {
    Ok(tx
        .row("SELECT value FROM settings WHERE name = 'race'", &[])
        .await?
        .map_or(0, |r| r.get(0)))
}

#[tokio::test]
async fn a_serialization_failure_is_retried_and_both_effects_are_kept() {
    let pg = server();
    let s = store(&pg, "race").await.with_retry_policy(RetryPolicy {
        max_attempts: 5,
        ..RetryPolicy::default()
    });
    s.client()
        .await
        .expect("client")
        .execute("INSERT INTO settings (name, value) VALUES ('race', 0)", &[])
        .await
        .expect("seed");
    let race = Race {
        first_read: Notify::new(),
        second_committed: Notify::new(),
        first_attempts: AtomicU32::new(0),
    };
    // The first transaction reads the row, lets the second one update it and commit, and
    // only then writes: at SERIALIZABLE its write fails with SQLSTATE 40001, and the runner
    // runs it again on the new value.
    let first = s.transaction(&race, |tx, race| {
        Box::pin(async move {
            let attempt = race.first_attempts.fetch_add(1, Ordering::SeqCst) + 1;
            let v = read_counter(tx).await?;
            if attempt == 1 {
                race.first_read.notify_one();
                race.second_committed.notified().await;
            }
            tx.exec(
                "UPDATE settings SET value = $1 WHERE name = 'race'",
                &[&(v + 1)],
            )
            .await?;
            Ok(v)
        })
    });
    let second = async {
        race.first_read.notified().await;
        let v = s
            .transaction(&(), |tx, _| {
                Box::pin(async move {
                    let v = read_counter(tx).await?;
                    tx.exec(
                        "UPDATE settings SET value = $1 WHERE name = 'race'",
                        &[&(v + 1)],
                    )
                    .await?;
                    Ok(v)
                })
            })
            .await;
        race.second_committed.notify_one();
        v
    };
    let (first, second) = tokio::join!(first, second);
    assert_eq!(second.expect("second commits"), 0);
    assert_eq!(
        first.expect("first commits on retry"),
        1,
        "it saw the second's write"
    );
    assert_eq!(race.first_attempts.load(Ordering::SeqCst), 2);
    assert_eq!(s.retry_stats().retried.load(Ordering::SeqCst), 1);
    let c = s.client().await.expect("client");
    let v: i64 = c
        .query_one("SELECT value FROM settings WHERE name = 'race'", &[])
        .await
        .expect("row")
        .get(0);
    assert_eq!(v, 2, "both increments are kept");
}

/// Runs a body that fails as a serialization failure would, every time; the runner's error.
async fn always_conflicting(s: &PgStore) -> StoreError {
    s.transaction(&(), |tx, _| {
        Box::pin(async move {
            tx.exec(
                "DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$",
                &[],
            )
            .await?;
            Ok(())
        })
    })
    .await
    .expect_err("gives up")
}

#[tokio::test]
async fn a_transaction_that_keeps_conflicting_gives_up_with_an_error() {
    let pg = server();
    let s = store(&pg, "giveup").await.with_retry_policy(RetryPolicy {
        max_attempts: 2,
        ..RetryPolicy::default()
    });
    let e = always_conflicting(&s).await;
    assert!(e.to_string().contains("gave up after 2 attempts"), "{e}");
    assert_eq!(s.retry_stats().retried.load(Ordering::SeqCst), 1);
    assert_eq!(s.retry_stats().gave_up.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_store_error_in_a_body_rolls_back_and_is_not_retried() {
    let pg = server();
    let s = store(&pg, "rollback").await;
    let e = s
        .transaction(&(), |tx, _| {
            Box::pin(async move {
                tx.exec("INSERT INTO settings (name, value) VALUES ('x', 1)", &[])
                    .await?;
                Err::<(), _>(StoreError::Conflict("o1".into()).into())
            })
        })
        .await
        .expect_err("refused");
    assert!(matches!(e, StoreError::Conflict(_)));
    assert_eq!(s.retry_stats().retried.load(Ordering::SeqCst), 0);
    let n: i64 = s
        .client()
        .await
        .expect("c")
        .query_one("SELECT COUNT(*) FROM settings", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn conflicts_are_counted_in_the_gateway_metrics() {
    let pg = server();
    let url = pg.create_db("counted").await.expect("create database");
    let metrics = gateway::metrics::Metrics::default();
    let s = PgStore::open_counted(&config(&url), metrics.postgres.clone())
        .await
        .expect("open");
    let e = always_conflicting(&s).await;
    let attempts = RetryPolicy::default().max_attempts;
    assert!(e.to_string().contains("gave up"), "{e}");
    let text = metrics.render();
    let retried = format!("simgw_store_conflict_retries_total {}\n", attempts - 1);
    assert!(text.contains(&retried), "{text}");
    assert!(
        text.contains("simgw_store_conflict_gave_up_total 1\n"),
        "{text}"
    );
}

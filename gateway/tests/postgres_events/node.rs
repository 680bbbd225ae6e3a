//! A node's background work: the low-stock watch and the sequencer task of `open`.

use super::*;

/// Sets acme's available-SIM counter (one shard of it) to `n`, as commits would.
async fn set_sims_available(s: &PgStore, n: i64) {
    s.client()
        .await
        .expect("client")
        .execute(
            "INSERT INTO counters (tenant, name, scope, shard, n) VALUES ('acme', 'sims_available', 'b1', 3, $1)
             ON CONFLICT (tenant, name, scope, shard) DO UPDATE SET n = excluded.n",
            &[&n],
        )
        .await
        .expect("counter");
}

#[tokio::test]
async fn low_stock_is_published_once_per_crossing() {
    let pg = server();
    let (s, _) = nodes(&pg, "lowstock").await;
    let set = async |n: i64| set_sims_available(&s, n).await;
    let low = async || {
        s.flush_events().await.expect("flush");
        s.public_events(ACME, 0, Some(EventType::InventoryLowStock), 10)
            .await
            .expect("read")
    };
    s.set_low_stock_threshold(Some(5)).await.expect("threshold");
    set(3).await;
    assert_eq!(
        s.watch_low_stock().await.expect("watch"),
        0,
        "already below when first seen: no crossing"
    );
    set(8).await;
    assert_eq!(s.watch_low_stock().await.expect("watch"), 0);
    set(5).await;
    assert_eq!(s.watch_low_stock().await.expect("watch"), 1);
    set(2).await;
    assert_eq!(
        s.watch_low_stock().await.expect("watch"),
        0,
        "once per crossing"
    );
    let events = low().await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].data,
        json!({"counter": "sims_available", "available": 5, "threshold": 5})
    );
    assert_eq!(events[0].subject, None);
    set(6).await;
    assert_eq!(s.watch_low_stock().await.expect("watch"), 0);
    set(4).await;
    assert_eq!(
        s.watch_low_stock().await.expect("watch"),
        1,
        "rose above, fell again"
    );
    s.set_low_stock_threshold(None).await.expect("off");
    set(9).await;
    s.watch_low_stock().await.expect("watch");
    set(0).await;
    assert_eq!(s.watch_low_stock().await.expect("watch"), 0, "off");
    assert_eq!(low().await.len(), 2);
}

/// The sequencer task and a reader's catch-up look at once: a look that read the totals
/// before a crossing must not record its older level after the look that saw the
/// crossing, or the next look would publish the crossing again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn looks_at_once_publish_a_crossing_once() {
    let pg = server();
    let (s, _) = nodes(&pg, "lowstock_race").await;
    let set = async |n: i64| set_sims_available(&s, n).await;
    s.set_low_stock_threshold(Some(5)).await.expect("threshold");
    const ROUNDS: usize = 60;
    let mut published = 0;
    for _ in 0..ROUNDS {
        set(8).await;
        published += s.watch_low_stock().await.expect("watch");
        let (a, b, (), c, d) = tokio::join!(
            s.watch_low_stock(),
            s.watch_low_stock(),
            set(4),
            s.watch_low_stock(),
            s.watch_low_stock()
        );
        published += [a, b, c, d]
            .into_iter()
            .map(|r| r.expect("watch"))
            .sum::<usize>();
        published += s.watch_low_stock().await.expect("watch");
    }
    assert_eq!(published, ROUNDS, "one event per fall from 8 to 4");
    s.flush_events().await.expect("flush");
    let events = s
        .public_events(ACME, 0, Some(EventType::InventoryLowStock), 100)
        .await
        .expect("read");
    assert_eq!(events.len(), ROUNDS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sequencer_task_of_open_numbers_events_and_wakes_the_dispatcher() {
    let pg = server();
    let url = pg.create_db("open").await.expect("create database");
    let a = PgStore::open(&config(&url)).await.expect("open");
    let wake = a.deliveries_waker();
    a.create_webhook_endpoint(endpoint("we_o", ACME, &[]))
        .await
        .expect("create");
    publish(&a, ACME, EventType::OrderActive, Some("x"), 1).await;
    // No flush: the task started by `open` numbers it and queues its delivery.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        assert!(std::time::Instant::now() < deadline, "never numbered");
        tokio::time::timeout(Duration::from_secs(5), wake.notified())
            .await
            .expect("the dispatcher is woken at least every poll interval");
        if !a.due_deliveries(now(), 10).await.expect("due").is_empty() {
            break;
        }
    }
    assert_eq!(
        a.public_events(ACME, 0, None, 10)
            .await
            .expect("read")
            .len(),
        1
    );
}

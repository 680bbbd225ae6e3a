//! The backend-neutral dump (`StoreAdmin::dump_page`) of a store that has served
//! activations and a webhook endpoint: every table pages through whole, each row once,
//! whatever the page size, and the per-table checksum does not depend on paging.

mod common;

use common::{Harness, PRODUCT, TENANT};
use gateway::store::StoreAdmin;
use gateway::store::dump::{DumpTable, TableSum};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// Every row of `table`, `limit` per page.
async fn dump_all(
    store: &dyn StoreAdmin,
    table: DumpTable,
    limit: usize,
) -> Vec<gateway::store::dump::DumpRow> {
    let mut rows = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100_000 {
        let page = store
            .dump_page(table, cursor.as_deref(), limit)
            .await
            .expect("dump");
        assert!(
            page.rows.len() <= limit,
            "{}: page over its limit",
            table.name()
        );
        rows.extend(page.rows);
        match page.next {
            Some(n) => cursor = Some(n),
            None => return rows,
        }
    }
    panic!("{}: the dump never ended", table.name());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_table_pages_through_whole_and_its_checksum_ignores_paging() {
    let h = Harness::start(7).await;
    let (s, b, _) = h
        .post_raw(
            "/v1/webhook-endpoints",
            &h.api_key,
            None,
            json!({"url": "https://hooks.example.com/in"}).to_string(),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    for (i, card) in h.cards.iter().take(3).enumerate() {
        let (s, b) = h
            .post(
                &format!("dump-{i}"),
                &json!({"sim": {"type": "physical", "iccid": card.iccid.to_string()}, "product": PRODUCT}),
            )
            .await;
        assert_eq!(s, 202, "{b}");
        let done = h.wait_terminal(b["id"].as_str().expect("id")).await;
        assert_eq!(done["status"], "active", "{done}");
    }
    let store = h.gw().store.clone();
    let mut counts = BTreeMap::new();
    for table in DumpTable::ALL {
        let whole = dump_all(&*store, table, 1_000_000).await;
        let paged = dump_all(&*store, table, 2).await;
        let keys: BTreeSet<&str> = paged.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(
            keys.len(),
            paged.len(),
            "{}: a row came twice",
            table.name()
        );
        let (mut a, mut b) = (TableSum::default(), TableSum::default());
        whole.iter().for_each(|r| a.add(r));
        paged.iter().for_each(|r| b.add(r));
        assert_eq!(a, b, "{}: paging changed the dump", table.name());
        counts.insert(table.name(), a.rows);
    }
    // The harness seeds 7 cards for TENANT and 5 for the other tenant.
    assert_eq!(counts["sims"], 12);
    assert_eq!(counts["tenants"], 2);
    assert_eq!(counts["orders"], 3);
    assert_eq!(counts["subscriptions"], 3);
    assert_eq!(counts["idempotency"], 3);
    assert_eq!(counts["webhook_endpoints"], 1);
    // order.created and order.active per activation, each delivered to the endpoint.
    assert_eq!(counts["public_events"], 6);
    assert_eq!(counts["webhook_deliveries"], 6);
    let orders = dump_all(&*store, DumpTable::Orders, 10).await;
    assert!(orders.iter().all(|r| r.doc["tenant"] == TENANT));
    assert!(
        orders.iter().all(|r| r.doc["id"] == r.key.as_str()),
        "an order row is keyed by its id"
    );
}

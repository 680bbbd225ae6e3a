//! Administrative changes: tenants, API keys, metadata, inventory loads (all or nothing),
//! and the internal event log.

use crate::fixture::*;
use gateway::store::{
    AdminChange, AdminOutcome, ApiKeyRecord, EventKind, InventoryCounts, Role, StoreAdmin,
};

pub async fn tenants_replace_and_list(s: &dyn StoreAdmin) {
    assert_eq!(s.tenant(T).await.expect("tenant"), None);
    assert!(s.tenant_ids().await.expect("ids").is_empty());
    let t = tenant(T);
    apply(s, AdminChange::PutTenant(t.clone())).await;
    assert_eq!(s.tenant(T).await.expect("tenant"), Some(t.clone()));
    // Putting a tenant again replaces it whole.
    let mut renamed = t.clone();
    renamed.name = "Acme Mobile".into();
    renamed.products.remove(PLAIN);
    renamed.low_stock_threshold = Some(7);
    apply(s, AdminChange::PutTenant(renamed.clone())).await;
    assert_eq!(s.tenant(T).await.expect("tenant"), Some(renamed));
    apply(s, AdminChange::PutTenant(tenant(OTHER))).await;
    let mut ids = s.tenant_ids().await.expect("ids");
    ids.sort();
    assert_eq!(ids, vec![T.to_owned(), OTHER.to_owned()]);
    assert_eq!(s.tenant("nobody").await.expect("tenant"), None);
}

fn key_record(tenant: &str, role: Role) -> ApiKeyRecord {
    ApiKeyRecord {
        tenant: tenant.into(),
        prefix: format!("sk_{tenant}_ABCD"),
        label: "pos".into(),
        created_at_ms: NOW,
        role,
    }
}

pub async fn api_keys_resolve_by_hash_for_known_tenants(s: &dyn StoreAdmin) {
    let hash = [7u8; 32];
    // A key of a tenant that does not exist is refused.
    let refused = s
        .admin(AdminChange::PutApiKey {
            hash,
            record: key_record(T, Role::Channel),
        })
        .await
        .expect("admin");
    assert!(matches!(refused, AdminOutcome::Refused(_)), "{refused:?}");
    assert_eq!(s.api_key(&hash).await.expect("key"), None);

    apply(s, AdminChange::PutTenant(tenant(T))).await;
    for (hash, role) in [([7u8; 32], Role::Channel), ([8u8; 32], Role::Readonly)] {
        apply(
            s,
            AdminChange::PutApiKey {
                hash,
                record: key_record(T, role),
            },
        )
        .await;
    }
    assert_eq!(
        s.api_key(&[7u8; 32]).await.expect("key"),
        Some(key_record(T, Role::Channel))
    );
    assert_eq!(
        s.api_key(&[8u8; 32]).await.expect("key"),
        Some(key_record(T, Role::Readonly))
    );
    assert_eq!(s.api_key(&[9u8; 32]).await.expect("key"), None);
}

pub async fn meta_values_round_trip(s: &dyn StoreAdmin) {
    assert_eq!(s.meta("sandbox.v1").await.expect("meta"), None);
    let bytes = vec![0u8, 1, 0xff, b'{', 0];
    let put = |value: Vec<u8>| AdminChange::PutMeta {
        key: "sandbox.v1".into(),
        value,
    };
    apply(s, put(bytes.clone())).await;
    assert_eq!(s.meta("sandbox.v1").await.expect("meta"), Some(bytes));
    apply(s, put(b"second".to_vec())).await;
    assert_eq!(
        s.meta("sandbox.v1").await.expect("meta"),
        Some(b"second".to_vec())
    );
    apply(s, put(Vec::new())).await;
    assert_eq!(
        s.meta("sandbox.v1").await.expect("meta"),
        Some(Vec::new()),
        "an empty value is a value"
    );
    assert_eq!(s.meta("other").await.expect("meta"), None);
}

pub async fn a_loaded_inventory_is_counted_and_readable(s: &dyn StoreAdmin) {
    apply(s, AdminChange::PutTenant(tenant(T))).await;
    let cards: Vec<_> = (0..3).map(|i| sim(T, i)).collect();
    apply(s, AdminChange::AddSims(cards.clone())).await;
    apply(
        s,
        AdminChange::AddNumbers {
            tenant: T.into(),
            block: "n1".into(),
            first: number(T, 0),
            count: 10,
        },
    )
    .await;
    seed(s, OTHER, 10..12, 4).await;
    let c = counts(s, T).await;
    assert_eq!(
        c,
        InventoryCounts {
            sims_available: 3,
            numbers_available: 10,
            ..InventoryCounts::default()
        }
    );
    assert_eq!(counts(s, OTHER).await.sims_available, 2);
    assert_eq!(counts(s, "nobody").await, InventoryCounts::default());
    // The record reads back as loaded, keys sealed as they were.
    assert_eq!(
        s.get_sim(&iccid(1)).await.expect("sim"),
        Some(cards[1].clone())
    );
    assert_eq!(
        s.sim_by_imsi(&cards[2].imsi).await.expect("imsi"),
        Some(cards[2].clone())
    );
    assert_eq!(s.get_sim(&iccid(5)).await.expect("sim"), None);
    assert_eq!(s.sim_by_imsi(&sim(T, 5).imsi).await.expect("imsi"), None);
}

pub async fn inventory_loads_are_all_or_nothing(s: &dyn StoreAdmin) {
    seed(s, T, 0..2, 5).await;
    let before = counts(s, T).await;
    // One new card and one already loaded: nothing of the list applies.
    let clash = s
        .admin(AdminChange::AddSims(vec![sim(T, 5), sim(T, 1)]))
        .await
        .expect("admin");
    assert!(matches!(clash, AdminOutcome::Refused(_)), "{clash:?}");
    // A new ICCID whose IMSI is loaded already.
    let mut same_imsi = sim(T, 6);
    same_imsi.imsi = sim(T, 0).imsi;
    let imsi_clash = s
        .admin(AdminChange::AddSims(vec![sim(T, 7), same_imsi]))
        .await
        .expect("admin");
    assert!(
        matches!(imsi_clash, AdminOutcome::Refused(_)),
        "{imsi_clash:?}"
    );
    // The same card twice in one list.
    let twice = s
        .admin(AdminChange::AddSims(vec![sim(T, 8), sim(T, 8)]))
        .await
        .expect("admin");
    assert!(matches!(twice, AdminOutcome::Refused(_)), "{twice:?}");
    // A card of a tenant that does not exist.
    let stray = s
        .admin(AdminChange::AddSims(vec![sim("nobody", 9)]))
        .await
        .expect("admin");
    assert!(matches!(stray, AdminOutcome::Refused(_)), "{stray:?}");
    // A batch is one transaction: its tenant is not created when its load is refused.
    let batch = s
        .admin(AdminChange::Batch(vec![
            AdminChange::PutTenant(tenant(OTHER)),
            AdminChange::PutMeta {
                key: "k".into(),
                value: b"v".to_vec(),
            },
            AdminChange::AddSims(vec![sim(OTHER, 10), sim(OTHER, 0)]),
        ]))
        .await
        .expect("admin");
    assert!(matches!(batch, AdminOutcome::Refused(_)), "{batch:?}");
    assert_eq!(s.tenant(OTHER).await.expect("tenant"), None);
    assert_eq!(s.meta("k").await.expect("meta"), None);

    assert_eq!(counts(s, T).await, before);
    for i in [5, 6, 7, 8, 9, 10] {
        assert_eq!(s.get_sim(&iccid(i)).await.expect("sim"), None, "card {i}");
    }
    // The card that kept its IMSI is still the one found by it.
    let by_imsi = s.sim_by_imsi(&sim(T, 0).imsi).await.expect("imsi");
    assert_eq!(by_imsi.as_ref().map(unsealed), Some(unsealed(&sim(T, 0))));
}

pub async fn number_blocks_never_overlap(s: &dyn StoreAdmin) {
    seed(s, T, 0..0, 10).await;
    apply(s, AdminChange::PutTenant(tenant(OTHER))).await;
    let add = |tenant: &str, first: &str, count: u64| AdminChange::AddNumbers {
        tenant: tenant.into(),
        block: "n2".into(),
        first: msisdn(first),
        count,
    };
    // Overlapping the first block's last number, for the same or another tenant.
    for change in [
        add(T, "8613799999995", 6),
        add(OTHER, "8613800000009", 3),
        add("nobody", "8617000000000", 3),
        // Past the number's width.
        add(T, "9999999999998", 5),
    ] {
        let out = s.admin(change).await.expect("admin");
        assert!(matches!(out, AdminOutcome::Refused(_)), "{out:?}");
    }
    assert_eq!(counts(s, T).await.numbers_available, 10);
    assert_eq!(counts(s, OTHER).await.numbers_available, 0);
    // Right after the block is fine.
    apply(s, add(T, "8613800000010", 5)).await;
    assert_eq!(counts(s, T).await.numbers_available, 15);
}

pub async fn the_internal_event_log_is_gap_free(s: &dyn StoreAdmin) {
    seed(s, T, 0..3, 5).await;
    let start = s.events(0, 10_000).await.expect("events").len() as u64;
    let o = created(s, activation("a", 0)).await;
    advance(
        s,
        &o,
        gateway::order::OrderStatus::HlrProvisioning,
        gateway::order::Effect::None,
    )
    .await;
    let all = s.events(0, 10_000).await.expect("events");
    assert_eq!(all.len() as u64, start + 2);
    // Sequence numbers start at 1 and have no gaps, whatever wrote them.
    for (i, e) in all.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1, "{all:?}");
    }
    let mine: Vec<&EventKind> = all
        .iter()
        .filter(|e| e.order_id.as_deref() == Some(o.id.as_str()))
        .map(|e| &e.kind)
        .collect();
    assert!(
        matches!(
            mine.as_slice(),
            [EventKind::OrderCreated, EventKind::StepAnswered { .. }]
        ),
        "{mine:?}"
    );
    assert!(
        all.iter()
            .filter(|e| e.order_id.is_some())
            .all(|e| e.tenant == T)
    );
    // `from` is inclusive and `limit` bounds the page.
    let page = s.events(2, 2).await.expect("events");
    assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![2, 3]);
    assert!(s.events(start + 3, 10).await.expect("events").is_empty());
}

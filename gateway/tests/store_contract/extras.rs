//! `StoreAdmin`, what operators' tools and the sandbox need beyond the gateway's own
//! operations: listings, the event count, and data-key rotation of every sealed value.

use crate::fixture::*;
use gateway::admin::{self, NewSim};
use gateway::crypto::{Keyring, Sealed};
use gateway::order::{
    OrderStatus, PortIn, confirmation_code_context, port_credential_context, subscriber_context,
};
use gateway::store::{
    AdminChange, OnArrival, PortInboxItem, PortItemBody, SANDBOX_MARKER, SimChoice, StoreAdmin,
    WebhookEndpoint, hub_message_context, secret_context,
};
use sim_profiles::Key128;
use std::collections::BTreeMap;

pub async fn the_admin_listings_read_what_the_store_holds(s: &dyn StoreAdmin) {
    seed_with(s, tenant(T), 0..4, 20..21, 5).await;
    seed(s, OTHER, 10..12, 2).await;
    apply(
        s,
        AdminChange::AddNumbers {
            tenant: T.into(),
            block: "n2".into(),
            first: number(T, 100),
            count: 1,
        },
    )
    .await;
    assert_eq!(
        s.number_block(number(T, 0).as_str()).await.expect("block"),
        Some("n1".to_owned())
    );
    assert_eq!(
        s.number_block(number(T, 100).as_str())
            .await
            .expect("block"),
        Some("n2".to_owned())
    );
    assert_eq!(s.number_block("8610000000000").await.expect("block"), None);
    let reserved = created(s, activation("r", 1)).await;
    let active = active_line(s, "a", 2).await;
    // Available physical cards in ICCID order: not eSIM profiles, not held by an order.
    assert_eq!(
        s.available_sims(T, 10).await.expect("sims"),
        vec![iccid(0), iccid(3)]
    );
    assert_eq!(s.available_sims(T, 1).await.expect("sims"), vec![iccid(0)]);
    assert_eq!(
        s.available_sims(OTHER, 10).await.expect("sims"),
        vec![iccid(10), iccid(11)]
    );
    assert_eq!(
        s.orders_with_status(T, OrderStatus::Reserved)
            .await
            .expect("orders"),
        vec![reserved]
    );
    assert_eq!(
        s.orders_with_status(T, OrderStatus::Active)
            .await
            .expect("orders"),
        vec![active]
    );
    assert!(
        s.orders_with_status(OTHER, OrderStatus::Reserved)
            .await
            .expect("orders")
            .is_empty()
    );
    let logged = s.events(0, 100_000).await.expect("events").len() as u64;
    assert_eq!(s.event_count().await.expect("count"), logged);
}

/// Opens `sealed` under `context` with `keys`.
fn open(keys: &Keyring, context: &str, sealed: &Sealed) -> Vec<u8> {
    keys.open(context, sealed).expect("opens").to_vec()
}

pub async fn rotation_reseals_every_sealed_value(s: &dyn StoreAdmin) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("data-key");
    let old = Keyring::load_or_create(&file).expect("keys");
    let card = |i: u32, esim: bool| {
        let c = crate::common::card(i);
        let new = NewSim {
            iccid: c.iccid,
            imsi: c.imsi.parse().expect("imsi"),
            ki: Key128::from_bytes(c.ki),
            opc: Some(Key128::from_bytes(c.opc)),
        };
        let mut r = admin::seal_sim(&old, T, "b1", &new).expect("seal");
        if esim {
            r.esim_profile_type = Some(ESIM_TYPE.into());
        }
        r
    };
    apply(
        s,
        AdminChange::Batch(vec![
            AdminChange::PutTenant(tenant(T)),
            AdminChange::AddSims(vec![card(0, false), card(1, false), card(20, true)]),
            AdminChange::AddNumbers {
                tenant: T.into(),
                block: "n1".into(),
                first: number(T, 0),
                count: 5,
            },
            AdminChange::PutMeta {
                key: SANDBOX_MARKER.into(),
                value: serde_json::to_vec(&old.seal(SANDBOX_MARKER, b"marker").expect("seal"))
                    .expect("json"),
            },
        ]),
    )
    .await;
    // Subscriber details, a confirmation code, a webhook signing secret.
    let mut physical = activation("p", 0);
    physical.subscriber = Some(
        old.seal(&subscriber_context("act_p"), b"id 123")
            .expect("seal"),
    );
    created(s, physical).await;
    let mut esim = esim_activation("e");
    esim.sim = SimChoice::Esim {
        eid: None,
        matching_id: "M-e".into(),
        confirmation_code: Some(
            old.seal(&confirmation_code_context("act_e"), b"4711")
                .expect("seal"),
        ),
    };
    created(s, esim).await;
    let endpoint = WebhookEndpoint {
        id: "we_a".into(),
        tenant: T.into(),
        url: "https://hooks.example/a".into(),
        event_types: Vec::new(),
        secrets: vec![gateway::store::EndpointSecret {
            sealed: old.seal(&secret_context("we_a"), b"whsec").expect("seal"),
            created_at_ms: NOW,
            expires_at_ms: None,
        }],
        disabled: None,
        created_at_ms: NOW,
    };
    assert!(s.create_webhook_endpoint(endpoint).await.expect("create"));
    // A port-in's credential, and a hub message waiting in the port inbox.
    let mut port = activation("q", 1);
    let credential = old
        .seal(&port_credential_context("act_q"), b"PAC")
        .expect("seal");
    port.port = Some(PortIn::new(
        gateway::compliance::Market::Uk,
        msisdn("447911000001"),
        "EE".into(),
        credential,
        None,
        None,
    ));
    created(s, port).await;
    let raw = old
        .seal(&hub_message_context("hub/m-1"), b"{\"message\"}")
        .expect("seal");
    let item = PortInboxItem {
        key: "hub/m-1".into(),
        order_id: Some("act_q".into()),
        tenant: None,
        received_at_ms: NOW,
        body: PortItemBody::Hub { raw },
        applied: false,
    };
    s.receive_port_item(item, OnArrival::Wake(|o, _| o))
        .await
        .expect("receive");
    // 3 cards × (Ki, OPc), the subscriber details, the confirmation code and the porting
    // credential each in their order and its idempotency snapshot, the signing secret,
    // the hub message and the sandbox marker.
    let all = 6 + 2 + 2 + 2 + 1 + 1 + 1;
    assert_eq!(
        s.sealed_key_usage().await.expect("usage"),
        BTreeMap::from([(old.current_id().to_owned(), all)])
    );

    let new_id = Keyring::add_key(&file).expect("add key");
    let keys = Keyring::load_or_create(&file).expect("reload");
    // Interrupted after one commit, then resumed.
    let partial = s.rewrap(&keys, 2, Some(1)).await.expect("partial");
    assert!(!partial.complete && partial.chunks == 1, "{partial:?}");
    let done = s.rewrap(&keys, 2, None).await.expect("resume");
    assert!(done.complete, "{done:?}");
    assert_eq!(partial.resealed + done.resealed, all);
    assert_eq!(
        s.sealed_key_usage().await.expect("usage"),
        BTreeMap::from([(new_id.clone(), all)])
    );
    assert_eq!(s.rewrap(&keys, 2, None).await.expect("again").resealed, 0);

    // Every value opens under the new key alone, to what was sealed.
    std::fs::write(
        &file,
        std::fs::read_to_string(&file)
            .expect("read")
            .lines()
            .filter(|l| l.starts_with(&new_id))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .expect("drop the old key");
    let only = Keyring::load_or_create(&file).expect("only the new key");
    assert_eq!(only.current_id(), new_id);
    for i in [0, 1, 20] {
        let c = crate::common::card(i);
        let sim = s.get_sim(&c.iccid).await.expect("sim").expect("card");
        let (ki, opc) = admin::open_sim_keys(&only, &sim).expect("keys open");
        assert_eq!((ki.expose(), opc.expect("opc").expose()), (&c.ki, &c.opc));
    }
    let p = s.get_order(T, "act_p").await.expect("get").expect("order");
    let sealed = p.subscriber.expect("subscriber");
    assert_eq!(
        open(&only, &subscriber_context("act_p"), &sealed),
        b"id 123"
    );
    let e = s.get_order(T, "act_e").await.expect("get").expect("order");
    let code = e.esim.and_then(|e| e.confirmation_code).expect("code");
    assert_eq!(
        open(&only, &confirmation_code_context("act_e"), &code),
        b"4711"
    );
    for key in ["p", "e"] {
        let rec = s
            .activation_idempotency(T, key)
            .await
            .expect("idem")
            .expect("record");
        let r = rec.response;
        if let Some(sub) = &r.subscriber {
            assert_eq!(open(&only, &subscriber_context(&r.id), sub), b"id 123");
        }
        if let Some(code) = r.esim.and_then(|e| e.confirmation_code) {
            assert_eq!(
                open(&only, &confirmation_code_context(&r.id), &code),
                b"4711"
            );
        }
    }
    let ep = s
        .webhook_endpoint(T, "we_a")
        .await
        .expect("get")
        .expect("endpoint");
    assert_eq!(
        open(&only, &secret_context("we_a"), &ep.secrets[0].sealed),
        b"whsec"
    );
    let marker: Sealed =
        serde_json::from_slice(&s.meta(SANDBOX_MARKER).await.expect("meta").expect("marker"))
            .expect("sealed");
    assert_eq!(open(&only, SANDBOX_MARKER, &marker), b"marker");
    let q = s.get_order(T, "act_q").await.expect("get").expect("order");
    let credential = q.port.expect("port").credential;
    assert_eq!(
        open(&only, &port_credential_context("act_q"), &credential),
        b"PAC"
    );
    let pending = s.pending_port_items("act_q").await.expect("pending");
    let PortItemBody::Hub { raw } = &pending[0].body else {
        panic!("{pending:?}");
    };
    assert_eq!(
        open(&only, &hub_message_context("hub/m-1"), raw),
        b"{\"message\"}"
    );
}

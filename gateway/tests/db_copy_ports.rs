//! `simgw db copy` carries porting state (issue 12). An embedded store holds a port-in
//! parked until its deadline, one parked with no deadline, one in flight on a temporary
//! number with a hub message applied and a cancel pending, a failed one, and a hub
//! message for no order of ours. It is copied into PostgreSQL and from there into a
//! second database: every table's checksum agrees, and the porting reads
//! (`next_port_deadline`, `open_ports`, `pending_port_items`, `inflight_orders`) and a
//! deadline sweep (`wake_due_ports`) answer the same on all three stores, so the copy's
//! derived port indexes (open, parked, pending, in flight) are those the writes keep.

mod common;

use common::postgres::PgServer;
use gateway::admin::{self, NewSim};
use gateway::compliance::Market;
use gateway::config::{DbUrl, StoreBackend, StoreConfig};
use gateway::crypto::{Keyring, Sealed};
use gateway::metrics::Metrics;
use gateway::order::{Effect, Order, OrderError, OrderStatus, PortIn};
use gateway::store::copy::{copy, table_sum};
use gateway::store::dump::{DumpTable, TableSum};
use gateway::store::embedded::RedbStore;
use gateway::store::postgres::PgStore;
use gateway::store::{
    AdminChange, AdminOutcome, CreateOutcome, EventKind, NewActivation, NumberChoice, OnArrival,
    PortInboxItem, PortItemBody, PortReceived, Product, SimChoice, StoreAdmin, Tenant,
};
use sim_profiles::{Key128, Msisdn};
use std::collections::BTreeMap;
use std::sync::Arc;

const T: &str = common::TENANT;
const NOW: u64 = 1_700_000_000_000;
const DAY_MS: u64 = 86_400_000;
/// The deadline the first parked port waits for.
const DUE: u64 = NOW + DAY_MS;

fn msisdn(s: &str) -> Msisdn {
    s.parse().expect("msisdn")
}

fn sealed(tag: &str) -> Sealed {
    Sealed {
        kid: "k1".into(),
        nonce: "00".into(),
        ct: tag.into(),
    }
}

/// A tenant with four cards and three numbers.
async fn seed(s: &dyn StoreAdmin) {
    let keys = Keyring::ephemeral().expect("keys");
    let tenant = Tenant::new(
        T,
        "acme brand",
        "00101".parse().expect("plmn"),
        BTreeMap::from([(common::PRODUCT.to_owned(), Product::new(common::PROFILE_ID))]),
    );
    let sims = (0..4)
        .map(|i| {
            let c = common::card(i);
            let new = NewSim {
                iccid: c.iccid,
                imsi: c.imsi.parse().expect("imsi"),
                ki: Key128::from_bytes(c.ki),
                opc: Some(Key128::from_bytes(c.opc)),
            };
            admin::seal_sim(&keys, T, "b1", &new).expect("seal")
        })
        .collect();
    let change = AdminChange::Batch(vec![
        AdminChange::PutTenant(tenant),
        AdminChange::AddSims(sims),
        AdminChange::AddNumbers {
            tenant: T.into(),
            block: "n1".into(),
            first: msisdn("8613800000000"),
            count: 3,
        },
    ]);
    assert_eq!(s.admin(change).await.expect("admin"), AdminOutcome::Applied);
}

/// A port-in of `number` on card `card`: on a temporary number from the pool, or
/// (`wait`) with no line until the port completes.
async fn create_port(s: &dyn StoreAdmin, key: &str, card: u32, number: &str, wait: bool) -> Order {
    let port = PortIn::new(
        Market::Uk,
        msisdn(number),
        "EE".into(),
        sealed("cred"),
        Some(NOW + 7 * DAY_MS),
        None,
    );
    let new = NewActivation {
        tenant: T.into(),
        idempotency_key: key.into(),
        body_hash: format!("h-{key}"),
        order_id: format!("act_{key}"),
        sim: SimChoice::Physical(common::card(card).iccid),
        number: if wait {
            NumberChoice::Ported(msisdn(number))
        } else {
            NumberChoice::Auto
        },
        product: common::PRODUCT.into(),
        channel: None,
        subscriber: None,
        now_ms: NOW,
        random: 0,
        idempotency_cutoff_ms: NOW - DAY_MS,
        compliance: None,
        port: Some(port),
        send_ahead: None,
    };
    match s.create_activation(new).await.expect("create") {
        CreateOutcome::Created(o) => o,
        other => panic!("expected a new order, got {other:?}"),
    }
}

/// The order's next version, parked until `due`.
fn parked(o: &Order, due: u64) -> Order {
    let mut n = o.clone();
    if let Some(p) = n.port.as_mut() {
        p.parked = Some(due);
    }
    n.version += 1;
    n.updated_at_ms = NOW + 10;
    n
}

/// What the port timer's wake does to a parked order (a plain function, as the
/// engine's is, so every store is given the same).
fn wake(mut o: Order, now: u64) -> Order {
    if let Some(p) = o.port.as_mut() {
        p.parked = None;
    }
    o.version += 1;
    o.updated_at_ms = now;
    o
}

fn item(key: &str, order: Option<&Order>, at: u64, body: PortItemBody) -> PortInboxItem {
    PortInboxItem {
        key: key.into(),
        order_id: order.map(|o| o.id.clone()),
        tenant: order.map(|o| o.tenant.clone()),
        received_at_ms: at,
        body,
        applied: false,
    }
}

/// The orders of the fixture, by role.
struct Ports {
    /// Parked until [`DUE`].
    due: Order,
    /// Parked with no deadline (stored as `u64::MAX`).
    forever: Order,
    /// In flight on a temporary number: one hub message applied, a cancel pending.
    running: Order,
    /// Failed: closed, on no port index.
    failed: Order,
}

async fn fixture(s: &dyn StoreAdmin) -> Ports {
    seed(s).await;
    let due = create_port(s, "due", 0, "447911000001", true).await;
    let due = parked(&due, DUE);
    assert!(s.park_port(due.clone()).await.expect("park"));
    let forever = create_port(s, "forever", 1, "447911000002", true).await;
    let forever = parked(&forever, u64::MAX);
    assert!(s.park_port(forever.clone()).await.expect("park"));
    let running = create_port(s, "running", 2, "447911000003", false).await;
    let hub = item(
        "hub/m-1",
        Some(&running),
        NOW + 1,
        PortItemBody::Hub {
            raw: sealed("message"),
        },
    );
    let out = s
        .receive_port_item(hub, OnArrival::Wake(wake))
        .await
        .expect("receive");
    assert_eq!(out, PortReceived::Queued { woken: None });
    let mut running = running;
    running.version += 1;
    running.updated_at_ms = NOW + 2;
    let event = EventKind::Port {
        what: "applied".into(),
    };
    s.apply_port_item(running.clone(), "hub/m-1", event)
        .await
        .expect("apply");
    let cancel = item(
        &format!("cancel/{}", running.id),
        Some(&running),
        NOW + 3,
        PortItemBody::Cancel,
    );
    let out = s
        .receive_port_item(cancel, OnArrival::Wake(wake))
        .await
        .expect("receive");
    assert_eq!(out, PortReceived::Queued { woken: None });
    // A message for none of our orders is kept, applied to nothing.
    let stray = item(
        "hub/m-stray",
        None,
        NOW + 4,
        PortItemBody::Hub {
            raw: sealed("stray"),
        },
    );
    let out = s
        .receive_port_item(stray, OnArrival::Wake(wake))
        .await
        .expect("receive");
    assert_eq!(out, PortReceived::Queued { woken: None });
    let failed = create_port(s, "failed", 3, "447911000004", true).await;
    let mut failed = failed;
    failed.version += 1;
    failed.status = OrderStatus::Failed;
    failed.updated_at_ms = NOW + 5;
    failed.error = Some(OrderError {
        code: "port_cancelled".into(),
        detail: "cancelled".into(),
    });
    let event = EventKind::OrderFailed {
        code: "port_cancelled".into(),
    };
    s.advance_order(failed.clone(), Effect::Release, event)
        .await
        .expect("fail");
    Ports {
        due,
        forever,
        running,
        failed,
    }
}

/// What the porting reads answer.
#[derive(Debug, PartialEq)]
struct Seen {
    next_deadline: Option<u64>,
    open: Vec<String>,
    pending: Vec<(String, Vec<String>)>,
    inflight: Vec<String>,
}

async fn seen(s: &dyn StoreAdmin, ports: &Ports) -> Seen {
    let ids = |v: Vec<Order>| v.into_iter().map(|o| o.id).collect::<Vec<_>>();
    let mut inflight = ids(s.inflight_orders().await.expect("inflight"));
    inflight.sort();
    let mut pending = Vec::new();
    for o in [&ports.due, &ports.forever, &ports.running, &ports.failed] {
        let items = s.pending_port_items(&o.id).await.expect("pending");
        pending.push((o.id.clone(), items.into_iter().map(|i| i.key).collect()));
    }
    Seen {
        next_deadline: s.next_port_deadline().await.expect("next"),
        open: ids(s.open_ports(T, 100).await.expect("open")),
        pending,
        inflight,
    }
}

async fn sums(s: &dyn StoreAdmin) -> BTreeMap<&'static str, TableSum> {
    let mut out = BTreeMap::new();
    for t in DumpTable::ALL {
        out.insert(t.name(), table_sum(s, t).await.expect("dump"));
    }
    out
}

/// The inbox's checksum read one row per page.
async fn inbox_by_ones(s: &dyn StoreAdmin) -> TableSum {
    let (mut sum, mut cursor) = (TableSum::default(), None::<String>);
    for _ in 0..100 {
        let page = s
            .dump_page(DumpTable::PortInbox, cursor.as_deref(), 1)
            .await
            .expect("dump");
        page.rows.iter().for_each(|r| sum.add(r));
        match page.next {
            Some(next) => cursor = Some(next),
            None => return sum,
        }
    }
    panic!("the inbox dump never ended");
}

fn pg_config(url: &str) -> StoreConfig {
    StoreConfig {
        backend: StoreBackend::Postgres,
        url: Some(DbUrl::new(url)),
        pool_size: 4,
        ..StoreConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn porting_state_copies_into_postgres_and_on_and_behaves_the_same() {
    let dir = tempfile::tempdir().expect("tempdir");
    let embedded = RedbStore::open(dir.path(), 16, 64, Arc::new(Metrics::default())).expect("open");
    let ports = fixture(&embedded).await;
    let pg = PgServer::start().unwrap_or_else(|e| panic!("{e}"));
    let first = PgStore::connect(&pg_config(&pg.create_db("ports").await.expect("db")))
        .await
        .expect("connect");
    let second = PgStore::connect(&pg_config(&pg.create_db("again").await.expect("db")))
        .await
        .expect("connect");
    let report = copy(&embedded, &first, |_, _| {}).await.expect("copy");
    let inbox = report.tables.iter().find(|(n, _)| *n == "port_inbox");
    assert_eq!(inbox.map(|(_, s)| s.rows), Some(3), "{:?}", report.tables);
    copy(&first, &second, |_, _| {})
        .await
        .expect("copy from PostgreSQL");
    let stores: [(&str, &dyn StoreAdmin); 3] = [
        ("embedded", &embedded),
        ("postgres", &first),
        ("postgres again", &second),
    ];

    let source_sums = sums(&embedded).await;
    let expected = Seen {
        next_deadline: Some(DUE),
        open: vec![
            ports.due.id.clone(),
            ports.forever.id.clone(),
            ports.running.id.clone(),
        ],
        pending: vec![
            (ports.due.id.clone(), vec![]),
            (ports.forever.id.clone(), vec![]),
            (
                ports.running.id.clone(),
                vec![format!("cancel/{}", ports.running.id)],
            ),
            (ports.failed.id.clone(), vec![]),
        ],
        // The parked ports are out of flight; the failed one is finished.
        inflight: vec![ports.running.id.clone()],
    };
    for (name, s) in stores {
        assert_eq!(sums(s).await, source_sums, "{name}: per-table checksums");
        assert_eq!(
            inbox_by_ones(s).await,
            source_sums["port_inbox"],
            "{name}: the inbox's cursor pages it whole"
        );
        assert_eq!(seen(s, &ports).await, expected, "{name}");
        // The inbox's dedupe came along: a redelivered message stays a duplicate.
        let again = item(
            "hub/m-1",
            Some(&ports.running),
            NOW + 20,
            PortItemBody::Hub {
                raw: sealed("message"),
            },
        );
        let out = s
            .receive_port_item(again, OnArrival::Wake(wake))
            .await
            .expect("receive");
        assert_eq!(out, PortReceived::Duplicate, "{name}");
    }

    // The deadline sweep finds the same port on every store, and only at its deadline.
    let mut woken = Vec::new();
    for (name, s) in stores {
        let early = s.wake_due_ports(DUE - 1, wake).await.expect("wake");
        assert!(early.is_empty(), "{name}: woken early: {early:?}");
        let due = s.wake_due_ports(DUE, wake).await.expect("wake");
        let ids: Vec<&str> = due.iter().map(|o| o.id.as_str()).collect();
        assert_eq!(ids, [ports.due.id.as_str()], "{name}");
        assert_eq!(
            s.get_order(T, &ports.due.id).await.expect("get").as_ref(),
            due.first(),
            "{name}"
        );
        let mut after = expected.inflight.clone();
        after.push(ports.due.id.clone());
        after.sort();
        let now = seen(s, &ports).await;
        assert_eq!(now.inflight, after, "{name}: woken, in flight again");
        assert_eq!(
            now.next_deadline, None,
            "{name}: only a port with no deadline"
        );
        assert!(
            s.wake_due_ports(u64::MAX - 1, wake)
                .await
                .expect("wake")
                .is_empty(),
            "{name}: a port with no deadline is never due"
        );
        woken.push(due);
    }
    assert!(woken.windows(2).all(|w| w[0] == w[1]), "{woken:?}");

    // An item for the port parked with no deadline wakes it on the copy too.
    let ping = item(
        "hub/m-2",
        Some(&ports.forever),
        NOW + 30,
        PortItemBody::Hub {
            raw: sealed("ping"),
        },
    );
    for (name, s) in stores {
        match s
            .receive_port_item(ping.clone(), OnArrival::Wake(wake))
            .await
            .expect("receive")
        {
            PortReceived::Queued { woken: Some(o) } => assert_eq!(o.id, ports.forever.id),
            other => panic!("{name}: {other:?}"),
        }
    }
    second.close().await;
    first.close().await;
    embedded.close_now();
}

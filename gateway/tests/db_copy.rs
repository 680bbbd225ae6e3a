//! `simgw db copy` round trip (issue 11): a sandbox serves physical and eSIM activations,
//! a number hold, a lifecycle order, an API batch import and a webhook endpoint with
//! deliveries, and compliance rows are added to its store; once it is stopped, the real binary copies its embedded store into a
//! private PostgreSQL, and the copy reads the same through the `Store` trait. A second copy into the now
//! non-empty database is refused and changes nothing; a copy while the embedded store is
//! held is refused; and PostgreSQL as a source dumps what it loaded (dump → load → dump
//! gives the same checksum per table).

mod common;

use common::postgres::PgServer;
use common::sandbox::{Api, esim_body, esim_config, is_status, is_terminal, shutdown};
use gateway::config::{DbUrl, StoreBackend, StoreConfig};
use gateway::metrics::Metrics;
use gateway::store::StoreAdmin;
use gateway::store::copy::{copy, table_sum};
use gateway::store::dump::{DumpTable, TableSum};
use gateway::store::embedded::RedbStore;
use gateway::store::postgres::PgStore;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

fn simgw(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_simgw"))
        .args(args)
        .output()
        .expect("run simgw")
}

fn pg_config(url: &str) -> StoreConfig {
    StoreConfig {
        backend: StoreBackend::Postgres,
        url: Some(DbUrl::new(url)),
        pool_size: 4,
        ..StoreConfig::default()
    }
}

async fn sums(s: &dyn StoreAdmin) -> BTreeMap<&'static str, TableSum> {
    let mut out = BTreeMap::new();
    for t in DumpTable::ALL {
        out.insert(t.name(), table_sum(s, t).await.expect("dump"));
    }
    out
}

/// Runs the sandbox's traffic and stops it; returns (tenant, an activation's
/// idempotency key and id, a line's number, (the product, a physical SIM left over)).
async fn serve(dir: &Path) -> (String, (String, String), String, (String, String)) {
    let sb = gateway::sandbox::start(esim_config(dir, 3))
        .await
        .expect("sandbox");
    let api = Api::new(&sb);
    let json_ct = [("content-type", "application/json")];
    let (s, v) = api
        .post(
            "/v1/webhook-endpoints",
            &json_ct,
            json!({"url": "https://hooks.example.com/in"}).to_string(),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let mut first = None;
    let mut msisdn = String::new();
    for (i, iccid) in sb.info.physical_iccids.iter().take(2).enumerate() {
        let key = format!("phys-{i}");
        let body = json!({"sim": {"type": "physical", "iccid": iccid}, "product": sb.info.product});
        let (s, v) = api.order(&key, body).await;
        assert_eq!(s, 202, "{v}");
        let id = v["id"].as_str().expect("id").to_owned();
        let done = api.until(&id, "active", is_status("active")).await;
        msisdn = done["msisdn"].as_str().expect("msisdn").to_owned();
        first.get_or_insert((key, id));
    }
    let (s, v) = api.order("esim-0", esim_body(&sb.info.product)).await;
    assert_eq!(s, 202, "{v}");
    api.until(v["id"].as_str().expect("id"), "active", is_status("active"))
        .await;
    // A checkout hold on a number.
    let (s, v) = api
        .post(
            "/v1/numbers/reservations",
            &[
                ("idempotency-key", "hold-0"),
                ("content-type", "application/json"),
            ],
            json!({"ttl_seconds": 600}).to_string(),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    // A lifecycle order on the last physical line.
    let (s, v) = api
        .post(
            &format!("/v1/subscriptions/{msisdn}/suspend"),
            &[
                ("idempotency-key", "suspend-0"),
                ("content-type", "application/json"),
            ],
            json!({"reason": "non_payment"}).to_string(),
        )
        .await;
    assert_eq!(s, 202, "{v}");
    let o = api
        .until(v["id"].as_str().expect("id"), "terminal", is_terminal)
        .await;
    assert_eq!(o["status"], "completed", "{o}");
    // An API batch import of two eSIM profiles.
    let mut csv = String::from("iccid,imsi,ki,opc\n");
    for i in 0..2u32 {
        let iccid =
            sim_profiles::Iccid::from_payload(&format!("898600997700{i:06}")).expect("iccid");
        csv.push_str(&format!(
            "{iccid},00101770000{i:04},{:032x},{:032x}\n",
            0x1111_u128 * u128::from(i + 1),
            0x2222_u128 * u128::from(i + 1)
        ));
    }
    let (s, v) = api
        .post(
            &format!(
                "/v1/inventory/imports?format=csv&name=copy.csv&esim_profile_type={}",
                sb.info.esim_profile_type
            ),
            &[("content-type", "text/csv")],
            csv,
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let tenant = sb.info.tenant.clone();
    let spare = (
        sb.info.product.clone(),
        sb.info.physical_iccids.get(2).expect("a third SIM").clone(),
    );
    shutdown(sb).await;
    (tenant, first.expect("an activation"), msisdn, spare)
}

/// Writes compliance rows into the stopped sandbox's store through the `Store` trait
/// (the API does not write them yet): a store with hours in the registry, a blocklist
/// entry, an operator's audit record, and an activation of `iccid` checked in its commit
/// (its live line, velocity bucket and audit record).
async fn comply(dir: &Path, tenant: &str, (product, iccid): &(String, String)) {
    use gateway::compliance::audit::AuditRecord;
    use gateway::compliance::blocklist::{ListKind, Span};
    use gateway::compliance::channel::Member;
    use gateway::compliance::checks::SimKind;
    use gateway::compliance::policy::StoreHours;
    use gateway::compliance::{ChannelRef, IdHasher, Policy, Registration, Subscriber};
    use gateway::store::*;
    let s = RedbStore::open(dir, 16, 64, Arc::new(Metrics::default())).expect("open");
    let now = 1_800_000_000_000u64;
    let record = |action: &str| AuditRecord {
        at_ms: now,
        action: action.into(),
        ..AuditRecord::default()
    };
    let entry = RegistryEntry {
        member: Member::Store,
        store: "SZ-0042".into(),
        id: "SZ-0042".into(),
        status: Registration::Enabled,
        label: Some("Shenzhen 42".into()),
        hours: Some(StoreHours {
            open_min: 480,
            close_min: 1320,
            utc_offset_min: 480,
        }),
        updated_at_ms: now,
    };
    let block = BlocklistEntry {
        list: ListKind::Imei,
        value: "356938035643809".into(),
        span: Span {
            start_ms: now,
            end_ms: None,
        },
        reason: "stolen".into(),
        created_at_ms: now,
    };
    for (change, action) in [
        (
            ComplianceChange::PutRegistry {
                tenant: tenant.into(),
                entry,
            },
            "registry.put",
        ),
        (
            ComplianceChange::AddBlock {
                enterprise: tenant.into(),
                entry: block,
                rules: Policy::sandbox().blocklist,
            },
            "blocklist.add",
        ),
        (ComplianceChange::AuditOnly, "keys.rotate"),
    ] {
        let out = s.compliance_change(change, record(action)).await;
        assert_eq!(out.expect("change"), ComplianceChangeOutcome::Applied);
    }
    let mut policy = Policy::sandbox();
    policy.lines_per_id = Some(5);
    policy.velocity.id_per_30_days = Some(5);
    let body = "11010519900101001";
    let check_char = adapters::identity::id_format::mod11_2_check(body.as_bytes());
    let sub = Subscriber::from_json(&json!({
        "name": "张三", "id_type": "resident_id",
        "id_number": format!("{body}{}", char::from(check_char)),
        "evidence": {"video": {"id": "v-1"}}
    }));
    let sub = Arc::new(sub.expect("subscriber"));
    let hasher = IdHasher::from_lines(&format!("pk-1 {}", "11".repeat(32))).expect("hasher");
    let check = ComplianceCheck {
        policy: Arc::new(policy),
        enterprise: tenant.into(),
        id_hashes: hasher.hash_all(&sub),
        subscriber: Some(sub),
        invalid: None,
        channel: ChannelRef::Online,
        sim: SimKind::Physical,
        imei: None,
        handset: None,
        actor: Default::default(),
        evidence: Vec::new(),
        verified: None,
    };
    let new = NewActivation {
        tenant: tenant.into(),
        idempotency_key: "comply-0".into(),
        body_hash: "h".into(),
        order_id: "act_comply0".into(),
        sim: SimChoice::Physical(iccid.parse().expect("iccid")),
        number: NumberChoice::Auto,
        product: product.clone(),
        channel: None,
        subscriber: None,
        now_ms: now,
        random: 0,
        idempotency_cutoff_ms: 0,
        compliance: Some(check),
        port: None,
        send_ahead: None,
    };
    let out = s.create_activation(new).await.expect("create");
    assert!(matches!(out, CreateOutcome::Created(_)), "{out:?}");
    s.close_now();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sandbox_store_copies_into_postgres_and_reads_the_same() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (tenant, (key, order_id), msisdn, spare) = serve(dir.path()).await;
    comply(dir.path(), &tenant, &spare).await;
    let pg = PgServer::start().unwrap_or_else(|e| panic!("{e}"));
    let url = pg.create_db("copy").await.expect("database");
    let from_arg = format!("embedded:{}", dir.path().display());

    // Refused while a process holds the embedded store: nothing reaches the target.
    let held = RedbStore::open(dir.path(), 16, 64, Arc::new(Metrics::default())).expect("open");
    let out = simgw(&["db", "copy", "--from", &from_arg, "--to", &url]);
    assert!(!out.status.success(), "copied a store in use");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("in use"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    held.close_now();
    drop(held);

    // The server trusts local connections, so a password in the URL is only carried.
    let with_password = url.replacen("postgres://simgw@", "postgres://simgw:s3cret@", 1);
    assert_ne!(with_password, url);
    let out = simgw(&["db", "copy", "--from", &from_arg, "--to", &with_password]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        !stdout.contains("s3cret") && !stderr.contains("s3cret"),
        "the password was printed: {stdout}\n{stderr}"
    );
    let printed: BTreeMap<String, u64> = stdout
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 5 && f[1] == "rows").then(|| (f[0].to_owned(), f[2].parse().expect("rows")))
        })
        .collect();
    assert_eq!(printed.len(), DumpTable::ALL.len(), "{stdout}");

    let embedded = RedbStore::open(dir.path(), 16, 64, Arc::new(Metrics::default())).expect("open");
    let target = PgStore::connect(&pg_config(&url)).await.expect("connect");
    let (e, p): (&dyn StoreAdmin, &dyn StoreAdmin) = (&embedded, &target);
    let source_sums = sums(e).await;
    assert_eq!(source_sums, sums(p).await, "per-table checksums");
    for (name, sum) in &source_sums {
        assert_eq!(printed[*name], sum.rows, "{name} as printed");
    }
    // 2 physical + 1 eSIM activations, one suspension and `comply`'s activation; 3
    // seeded eSIM profiles and 2 imported; a webhook endpoint that got deliveries.
    assert_eq!(printed["orders"], 5, "{stdout}");
    assert_eq!(printed["subscriptions"], 3, "{stdout}");
    assert_eq!(printed["batches"], 1, "{stdout}");
    assert_eq!(printed["batch_sims"], 2, "{stdout}");
    assert_eq!(printed["reservations"], 1, "{stdout}");
    assert_eq!(printed["reservation_keys"], 1, "{stdout}");
    assert_eq!(printed["webhook_endpoints"], 1, "{stdout}");
    assert!(printed["webhook_deliveries"] > 0, "{stdout}");
    assert!(printed["public_events"] >= 8, "{stdout}");
    // The compliance rows `comply` wrote: the checked activation's line and its ID's
    // 30-day bucket; the store; the IMEI; three operator records and the decision.
    assert_eq!(printed["live_lines"], 1, "{stdout}");
    assert_eq!(printed["velocity"], 1, "{stdout}");
    // Beside it, the sandbox's market tenants each register store SZ-0042 with its
    // terminal, clerk and reader (four entries, four audit records each), and the store
    // terminal adds a second clerk there and the whole store in the sandbox tenant (five
    // entries, the store among them: `comply` above replaced it), each clerk with a PIN
    // (a terminal record).
    let markets = u64::from(gateway::sandbox_markets::MARKETS);
    let pins = gateway::sandbox_terminal::PINS.len() as u64;
    assert_eq!(printed["registry"], markets * 5 + 5, "{stdout}");
    assert_eq!(
        printed["terminal_records"],
        (markets + 1) * pins,
        "{stdout}"
    );
    assert_eq!(printed["blocklist"], 1, "{stdout}");
    // The chain also holds the market tenants' registry records and the decisions and
    // status changes of the sandbox tenant's orders: at least these; the rows compared
    // below are the whole chain.
    assert!(printed["audit"] >= 4 + markets * 4, "{stdout}");
    let all = gateway::store::ComplianceQuery::default();
    assert_eq!(
        p.registry(&tenant, &all).await.expect("registry"),
        e.registry(&tenant, &all).await.expect("registry")
    );
    assert_eq!(
        p.blocklist(&tenant, &all).await.expect("blocklist"),
        e.blocklist(&tenant, &all).await.expect("blocklist")
    );
    assert_eq!(
        p.audit_rows(1, 100).await.expect("audit"),
        e.audit_rows(1, 100).await.expect("audit")
    );

    // Read through the Store trait: the same answers.
    assert_eq!(
        p.get_order(&tenant, &order_id).await.expect("order"),
        e.get_order(&tenant, &order_id).await.expect("order")
    );
    let line = p.subscription(&tenant, &msisdn).await.expect("line");
    assert!(line.is_some());
    assert_eq!(line, e.subscription(&tenant, &msisdn).await.expect("line"));
    let replay = p
        .activation_idempotency(&tenant, &key)
        .await
        .expect("idem")
        .expect("replay record");
    assert_eq!(replay.order_id, order_id);
    assert_eq!(
        Some(replay),
        e.activation_idempotency(&tenant, &key).await.expect("idem")
    );
    for (after, limit) in [(0, 1000), (0, 3), (3, 3), (5, 100)] {
        assert_eq!(
            p.public_events(&tenant, after, None, limit)
                .await
                .expect("events"),
            e.public_events(&tenant, after, None, limit)
                .await
                .expect("events"),
            "events after {after}"
        );
    }
    assert_eq!(
        p.inventory_counts(&tenant).await.expect("counts"),
        e.inventory_counts(&tenant).await.expect("counts")
    );
    let batch = e
        .dump_page(DumpTable::Batches, None, 1)
        .await
        .expect("dump");
    let batch = &batch.rows[0].key;
    let exported = p.batch_sims(batch, "", 100).await.expect("batch sims");
    assert_eq!(exported.len(), 2, "the batch export reads its cards");
    assert_eq!(
        exported,
        e.batch_sims(batch, "", 100).await.expect("batch sims")
    );
    let webhook = p.webhook_endpoints(&tenant).await.expect("endpoints");
    assert_eq!(
        webhook,
        e.webhook_endpoints(&tenant).await.expect("endpoints")
    );
    // Later events continue the numbering.
    let last = e
        .public_events(&tenant, 0, None, 100_000)
        .await
        .expect("events")
        .last()
        .map(|ev| ev.tenant_seq)
        .expect("an event");
    target
        .publish_for_test(
            1,
            &tenant,
            gateway::store::EventType::InventoryLowStock,
            None,
            json!({}),
        )
        .await
        .expect("publish");
    target.flush_events().await.expect("number");
    let next = p
        .public_events(&tenant, last, None, 10)
        .await
        .expect("events");
    assert_eq!(
        next.iter().map(|e| e.tenant_seq).collect::<Vec<_>>(),
        vec![last + 1]
    );

    // PostgreSQL as a source: dump → load → dump keeps every table's checksum.
    let url2 = pg.create_db("again").await.expect("database");
    let second = PgStore::connect(&pg_config(&url2)).await.expect("connect");
    let copied_sums = sums(p).await;
    let report = copy(p, &second, |_, _| {})
        .await
        .expect("copy from PostgreSQL");
    assert_eq!(report.tables.len(), DumpTable::ALL.len());
    assert_eq!(copied_sums, sums(&second).await, "dump, load, dump");
    second.close().await;
    target.close().await;
    embedded.close_now();
    drop(embedded);

    // Into a database that holds data: refused, and nothing changes.
    let out = simgw(&["db", "copy", "--from", &from_arg, "--to", &with_password]);
    assert!(!out.status.success(), "copied into a non-empty database");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not empty") && !err.contains("s3cret"),
        "{err}"
    );
    let target = PgStore::connect(&pg_config(&url)).await.expect("connect");
    assert_eq!(
        copied_sums,
        sums(&target).await,
        "the refused copy changed nothing"
    );
    target.close().await;
}

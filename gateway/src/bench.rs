//! `simgw bench`: drives physical activations over real HTTPS against an in-process sandbox
//! (gateway + HLR simulator on loopback, durable commits on a fresh data dir) and reports
//! throughput and latency. A measurement tool, not a test.

mod load;
mod policy;
mod suspend;

use crate::config::Config;
use adapters::http::HttpClient;
use bytes::Bytes;
use load::{Post, pct, post_all, report, settled, wait_until};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Duration;
use tokio::time::Instant;

/// Options of `simgw bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Activations to perform (each on its own SIM).
    #[arg(long, default_value_t = 20_000)]
    pub activations: u32,
    /// Concurrent HTTPS clients.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Data directory (default: a fresh directory under the system temp dir, removed after).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Latency the HLR simulator adds to each call, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub hlr_latency_ms: u64,
    /// Instead of activations: fill a number pool of this size, then time automatic
    /// allocations from it (store level, durable commits).
    #[arg(long)]
    pub pool_numbers: Option<u64>,
    /// Allocations to time in pool mode.
    #[arg(long, default_value_t = 5_000)]
    pub allocations: u32,
    /// Instead of activations: generate a vendor file of this many cards and time its import.
    #[arg(long)]
    pub import_rows: Option<u64>,
    /// Instead of activations: provision this many subscribers into a real osmo-hlr (started
    /// on 127.0.0.250/251) through the CTRL adapter, one at a time and pipelined
    /// (`--concurrency` in flight).
    #[arg(long)]
    pub osmo_ops: Option<u32>,
    /// Activate eSIMs (ES2+ DownloadOrder and ConfirmOrder against the SM-DP+ simulator,
    /// plus the HLR) instead of physical SIMs.
    #[arg(long)]
    pub esim: bool,
    /// Instead of activations: personalise this many profiles from the built-in template
    /// on one thread (decode once, then personalise and encode each).
    #[arg(long)]
    pub profiles: Option<u32>,
    /// Configure one webhook endpoint (all event types) pointing at a local receiver that
    /// answers 204, to compare throughput with and without the outbox deliveries.
    #[arg(long)]
    pub webhook: bool,
    /// Activate `--activations` physical lines first (reported as the baseline), then
    /// time one suspend per line until every suspend order is `completed`.
    #[arg(long, conflicts_with = "esim")]
    pub suspend: bool,
    /// `cn`: run the physical activations with the compliance policy off (the baseline),
    /// then again with the China policy on (every order a store sale with a card-reader
    /// capture and a face match, the identity verifier simulator at zero latency), and
    /// report the ratio.
    #[arg(long, value_enum, conflicts_with_all = ["esim", "suspend", "store"])]
    pub policy: Option<policy::BenchPolicy>,
    /// `postgres`: run the activations on the embedded store (the baseline), then on a
    /// private PostgreSQL started from this machine's packages (fsync and
    /// synchronous_commit on), and report the ratio.
    #[arg(long, value_enum, default_value_t = BenchStore::Embedded)]
    pub store: BenchStore,
}

/// Which store the activation benchmark runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchStore {
    /// The embedded redb store only.
    Embedded,
    /// The embedded store, then PostgreSQL, side by side.
    Postgres,
}

/// Starts a local receiver answering 204 and registers it for the sandbox tenant; returns
/// the count of deliveries it received.
async fn bench_webhook(
    client: &HttpClient,
    base_url: &str,
    auth: &str,
) -> Result<Arc<std::sync::atomic::AtomicU64>, BenchError> {
    use crate::webhooks::receiver;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(err)?;
    let addr = listener.local_addr().map_err(err)?;
    let count = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let c = count.clone();
    let handler: receiver::Handler = Arc::new(move |_| {
        c.fetch_add(1, Relaxed);
        (204, Vec::new())
    });
    // The receiver lives as long as the process (the benchmark is one run).
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    std::mem::forget(stop);
    tokio::spawn(receiver::serve(listener, handler, stop_rx));
    let body = format!(r#"{{"url":"http://{addr}/hook"}}"#);
    let r = client
        .post(
            &format!("{base_url}/v1/webhook-endpoints"),
            &[
                ("authorization", auth.to_owned()),
                ("content-type", "application/json".into()),
            ],
            Bytes::from(body),
        )
        .await
        .map_err(err)?;
    if r.status != 201 {
        return Err(BenchError(format!(
            "creating the webhook endpoint answered {}: {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        )));
    }
    Ok(count)
}

/// Why the benchmark could not run.
#[derive(Debug, thiserror::Error)]
#[error("bench: {0}")]
pub struct BenchError(String);

fn err(e: impl std::fmt::Display) -> BenchError {
    BenchError(e.to_string())
}

/// Resident memory of this process in KiB (Linux), for the pool benchmark.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// The configured store (the embedded one by default) in `dir`.
async fn open_store(
    dir: &std::path::Path,
    metrics: Arc<crate::metrics::Metrics>,
) -> Result<Arc<dyn crate::store::StoreAdmin>, BenchError> {
    let mut config = Config {
        data_dir: dir.to_owned(),
        ..Config::default()
    };
    config.store.cache_mib = 64;
    config.store.max_batch = 512;
    crate::store::open(&config, metrics).await.map_err(err)
}

/// Pool mode: allocation cost and memory must not depend on the pool's size.
async fn run_pool(args: &BenchArgs, numbers: u64, dir: &std::path::Path) -> Result<(), BenchError> {
    use crate::store::{AdminChange, NewReservation, Product, ReservationOutcome, Tenant};
    let metrics = Arc::new(crate::metrics::Metrics::default());
    let store = open_store(dir, metrics).await?;
    let tenant = Tenant::new(
        "bench",
        "bench",
        "00101".parse().map_err(err)?,
        [("p".to_owned(), Product::new(1))].into(),
    );
    crate::admin::apply(&*store, AdminChange::PutTenant(tenant))
        .await
        .map_err(err)?;
    let seeding = Instant::now();
    let start: u64 = 8_613_000_000_000;
    let chunk = 100_000u64;
    let mut offset = 0;
    while offset < numbers {
        let n = chunk.min(numbers - offset);
        let first = format!("{}", start + offset).parse().map_err(err)?;
        crate::admin::apply(
            &*store,
            AdminChange::AddNumbers {
                tenant: "bench".into(),
                block: "b".into(),
                first,
                count: n,
            },
        )
        .await
        .map_err(err)?;
        offset += n;
    }
    let seeded = seeding.elapsed();
    let rss_before = rss_kib();
    let rng = ring::rand::SystemRandom::new();
    let mut lat = Vec::with_capacity(args.allocations as usize);
    let began = Instant::now();
    for i in 0..args.allocations {
        let t = Instant::now();
        let out = store
            .create_reservation(NewReservation {
                tenant: "bench".into(),
                idempotency_key: format!("k{i}"),
                body_hash: String::new(),
                id: format!("nres_{i}"),
                msisdn: None,
                ttl_ms: 3_600_000,
                now_ms: 0,
                random: crate::crypto::random_u64(&rng),
            })
            .await
            .map_err(err)?;
        if !matches!(out, ReservationOutcome::Created(_)) {
            return Err(BenchError(format!("allocation {i} failed: {out:?}")));
        }
        lat.push(t.elapsed());
    }
    let took = began.elapsed();
    lat.sort();
    let db_mib = std::fs::metadata(dir.join("simgw.redb"))
        .map(|m| m.len() / (1 << 20))
        .unwrap_or(0);
    println!(
        "pool of {numbers} numbers filled in {:.1} s ({:.0} numbers/s), store {db_mib} MiB",
        seeded.as_secs_f64(),
        numbers as f64 / seeded.as_secs_f64()
    );
    println!(
        "{} random allocations, one durable commit each: {:.0}/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        args.allocations,
        f64::from(args.allocations) / took.as_secs_f64(),
        pct(&lat, 50.0),
        pct(&lat, 99.0),
        pct(&lat, 100.0)
    );
    println!(
        "resident memory {} MiB before allocating, {} MiB after",
        rss_before / 1024,
        rss_kib() / 1024
    );
    store.close().await;
    Ok(())
}

/// Import mode: write a vendor `.out` file of `rows` cards (random keys, in clear) and time
/// `simgw inventory import` on it, streaming from disk with durable chunk commits.
async fn run_import(rows: u64, dir: &std::path::Path) -> Result<(), BenchError> {
    use crate::store::{AdminChange, Product, Tenant};
    use std::io::Write;
    let file = dir.join("bench.out");
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&file).map_err(err)?);
        writeln!(w, "*HEADER DESCRIPTION\nQuantity : {rows}\nBatch No : BENCH\n*OUTPUT VARIABLES\nvar_Out: ICCID/IMSI/PIN1/PUK1/KI/OPC/ACC").map_err(err)?;
        let rng = ring::rand::SystemRandom::new();
        for i in 0..rows {
            let iccid =
                sim_profiles::Iccid::from_payload(&format!("898600{i:012}")).map_err(err)?;
            let (a, b) = (
                crate::crypto::random_u64(&rng),
                crate::crypto::random_u64(&rng),
            );
            writeln!(
                w,
                "{iccid}F 00101{i:010} 1234 12345678 {a:016X}{b:016X} {b:016X}{a:016X} {:04X}",
                1u16 << (i % 10)
            )
            .map_err(err)?;
        }
    }
    let size_mib = std::fs::metadata(&file)
        .map(|m| m.len() / (1 << 20))
        .unwrap_or(0);
    let metrics = Arc::new(crate::metrics::Metrics::default());
    let store = open_store(dir, metrics).await?;
    let keys = crate::crypto::Keyring::ephemeral().map_err(err)?;
    let tenant = Tenant::new(
        "bench",
        "bench",
        "00101".parse().map_err(err)?,
        [("p".to_owned(), Product::new(1))].into(),
    );
    crate::admin::apply(&*store, AdminChange::PutTenant(tenant))
        .await
        .map_err(err)?;
    let rss_before = rss_kib();
    let mut peak = rss_before;
    let started = Instant::now();
    let config = Config::default();
    let out = crate::import::import_file(
        &*store,
        &keys,
        &config,
        &crate::import::FileJob {
            tenant: "bench",
            format: crate::import::Format::VendorOut,
            path: &file,
            esim_profile_type: None,
            iccid_length: None,
        },
        |_, _| {
            peak = peak.max(rss_kib());
        },
    )
    .await
    .map_err(err)?;
    let took = started.elapsed();
    let cards = match out {
        crate::import::Imported::Loaded(b) => b.cards,
        crate::import::Imported::AlreadyImported(_) => 0,
    };
    println!(
        "imported {cards} cards from a {size_mib} MiB vendor file in {:.1} s ({:.0} cards/s), durable chunk commits",
        took.as_secs_f64(),
        cards as f64 / took.as_secs_f64()
    );
    println!(
        "resident memory {} MiB before, peak {} MiB during the import",
        rss_before / 1024,
        peak / 1024
    );
    store.close().await;
    Ok(())
}

/// OsmoHLR mode: provision `ops` subscribers through the CTRL adapter against a real
/// osmo-hlr started on 127.0.0.250, first one at a time, then `concurrency` in flight over
/// the adapter's one pipelined connection.
async fn run_osmo(ops: u32, concurrency: usize) -> Result<(), BenchError> {
    use adapters::hlr::{
        AuthData, Barring, HlrProfile, HlrProvisioner, KiMaterial, SubscriberSpec,
    };
    use sim_profiles::Key128;
    let mut report = Vec::new();
    for (label, inflight, host) in [
        ("one at a time", 1usize, 250u8),
        ("pipelined", concurrency.max(1), 251),
    ] {
        let peer = conformance::osmo_peer::OsmoHlrPeer::start_on(host)
            .await
            .map_err(BenchError)?;
        let hlr = Arc::new(adapters::osmo::OsmoHlr::new(adapters::osmo::OsmoConfig {
            addr: peer.ctrl_addr(),
            request_timeout: Duration::from_secs(10),
        }));
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..inflight {
            let (hlr, next) = (hlr.clone(), next.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Relaxed);
                    if i >= ops as usize {
                        return Ok::<(), String>(());
                    }
                    let spec = SubscriberSpec {
                        imsi: format!("00101{:010}", i)
                            .parse()
                            .map_err(|e| format!("{e}"))?,
                        msisdn: Some(
                            format!("4917{:09}", i)
                                .parse()
                                .map_err(|e| format!("{e}"))?,
                        ),
                        auth: AuthData {
                            ki: KiMaterial::Clear(Key128::from_bytes([7; 16])),
                            opc: Some(Key128::from_bytes([9; 16])),
                            fsetind: 0,
                        },
                        profile: HlrProfile { profile_id: 1 },
                        barring: Barring::default(),
                    };
                    hlr.provision(&spec).await.map_err(|e| e.to_string())?;
                }
            }));
        }
        for t in tasks {
            t.await.map_err(err)?.map_err(BenchError)?;
        }
        let took = started.elapsed();
        report.push(format!(
            "{label:>14} ({inflight:>3} in flight): {ops} subscribers in {:.2} s = {:.0} provisions/s (create, MSISDN, aud3g and any CS/PS change: 3-5 CTRL commands each)",
            took.as_secs_f64(),
            f64::from(ops) / took.as_secs_f64()
        ));
        hlr.shutdown().await;
    }
    for line in report {
        println!("{line}");
    }
    Ok(())
}

/// Profile mode: personalisation throughput on one core.
fn run_profiles(n: u32) -> Result<(), BenchError> {
    use sim_profiles::profile::{Package, Personalisation, builtin_template, personalise};
    let template = Package::decode(&builtin_template().encode()).map_err(err)?;
    let started = std::time::Instant::now();
    let mut bytes = 0usize;
    for i in 0..n {
        let mut k = [0u8; 16];
        k[..4].copy_from_slice(&i.to_be_bytes());
        let p = Personalisation {
            iccid: Some(sim_profiles::Iccid::from_payload(&format!("898600{i:012}")).map_err(err)?),
            imsi: Some(format!("00101{i:010}").parse().map_err(err)?),
            ki: Some(sim_profiles::Key128::from_bytes(k)),
            opc: Some(sim_profiles::Key128::from_bytes([0x5A; 16])),
            pin1: Some("1234".into()),
            puk1: Some("12345678".into()),
            ..Personalisation::default()
        };
        bytes += personalise(&template, &p).map_err(err)?.encode().len();
    }
    let took = started.elapsed();
    println!(
        "personalised and encoded {n} profiles ({} bytes each) in {:.2} s on one thread = {:.0} profiles/s",
        bytes / n.max(1) as usize,
        took.as_secs_f64(),
        f64::from(n) / took.as_secs_f64()
    );
    Ok(())
}

/// Runs the benchmark and prints a report to stdout.
pub async fn run(args: BenchArgs) -> Result<(), BenchError> {
    let (data_dir, temporary) = match &args.data_dir {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("simgw-bench-{}", std::process::id())),
            true,
        ),
    };
    if data_dir.exists() && std::fs::read_dir(&data_dir).map_err(err)?.next().is_some() {
        return Err(BenchError(format!(
            "{} is not empty; the benchmark needs a fresh data dir",
            data_dir.display()
        )));
    }
    if let Some(n) = args.profiles {
        return run_profiles(n);
    }
    if let Some(ops) = args.osmo_ops {
        return run_osmo(ops, args.concurrency).await;
    }
    if let Some(rows) = args.import_rows {
        std::fs::create_dir_all(&data_dir).map_err(err)?;
        let r = run_import(rows, &data_dir).await;
        if temporary {
            let _ = std::fs::remove_dir_all(&data_dir);
        }
        return r;
    }
    if let Some(n) = args.pool_numbers {
        std::fs::create_dir_all(&data_dir).map_err(err)?;
        let r = run_pool(&args, n, &data_dir).await;
        if temporary {
            let _ = std::fs::remove_dir_all(&data_dir);
        }
        return r;
    }
    if args.policy.is_some() {
        let r = policy::side_by_side(&args, &data_dir).await;
        if temporary {
            let _ = std::fs::remove_dir_all(&data_dir);
        }
        return r;
    }
    if args.store == BenchStore::Postgres {
        let r = postgres_side_by_side(&args, &data_dir).await;
        if temporary {
            let _ = std::fs::remove_dir_all(&data_dir);
        }
        return r;
    }
    let (sb, client, seeded_in) = start_sandbox(&args, &data_dir, None).await?;
    let r = if args.suspend {
        suspend::run(&args, &sb, &client, seeded_in).await
    } else {
        run_activations(&args, &sb, &client, seeded_in)
            .await
            .map(drop)
    };
    stop_sandbox(sb).await;
    if temporary {
        let _ = std::fs::remove_dir_all(&data_dir);
    }
    r
}

/// The activations on the embedded store, then on a private PostgreSQL, in one run.
async fn postgres_side_by_side(
    args: &BenchArgs,
    data_dir: &std::path::Path,
) -> Result<(), BenchError> {
    println!("== embedded store (baseline)");
    let embedded = data_dir.join("embedded");
    let (sb, client, seeded_in) = start_sandbox(args, &embedded, None).await?;
    let base = run_activations(args, &sb, &client, seeded_in).await;
    stop_sandbox(sb).await;
    let base = base?;
    println!("== PostgreSQL (one node, local, fsync and synchronous_commit on)");
    let pg = conformance::pg_peer::PgServer::start().map_err(err)?;
    let url = pg.create_db("simgw").await.map_err(err)?;
    let (sb, client, seeded_in) =
        start_sandbox(args, &data_dir.join("postgres"), Some(&url)).await?;
    let on_pg = run_activations(args, &sb, &client, seeded_in).await;
    stop_sandbox(sb).await;
    drop(pg);
    let on_pg = on_pg?;
    println!(
        "PostgreSQL / embedded: {:.0} / {:.0} activations/s = {:.2}",
        on_pg,
        base,
        on_pg / base.max(f64::MIN_POSITIVE)
    );
    Ok(())
}

/// Starts the sandbox the activation modes drive (one SIM per activation) and a client
/// trusting its CA; also answers how long seeding took.
async fn start_sandbox(
    args: &BenchArgs,
    data_dir: &std::path::Path,
    postgres: Option<&str>,
) -> Result<(crate::sandbox::Sandbox, HttpClient, Duration), BenchError> {
    let mut config = Config {
        data_dir: data_dir.to_owned(),
        listen: "127.0.0.1:0".parse().map_err(err)?,
        ..Config::default()
    };
    if let Some(url) = postgres {
        config.store.backend = crate::config::StoreBackend::Postgres;
        config.store.url = Some(crate::config::DbUrl::new(url));
        config.store.pool_size = args.concurrency.clamp(8, 48);
    }
    if args.esim {
        config.sandbox.physical_sims = 1;
        config.sandbox.esim_profiles = args.activations;
    } else {
        config.sandbox.physical_sims = args.activations;
    }
    // Headroom: golden numbers (…8888, …1234) are never assigned automatically.
    config.sandbox.numbers = args.activations + args.activations / 10 + 100;
    // The benchmark measures the pipeline with every order accepted at once, so the
    // backlog bound must not refuse any of them.
    config.admission.max_backlog = u64::from(args.activations).max(1);
    config.admission.max_backlog_per_tenant = u64::from(args.activations).max(1);
    // Every client of the load generator comes from loopback.
    config.api.max_connections_per_ip =
        config.api.max_connections_per_ip.max(args.concurrency + 16);
    config.api.max_connections = config.api.max_connections.max(args.concurrency + 16);
    let seeding = Instant::now();
    let sb = crate::sandbox::start(config).await.map_err(err)?;
    let seeded_in = seeding.elapsed();
    if let Some(sim) = &sb.hlr_sim {
        let mut f = sim.faults();
        f.latency = Duration::from_millis(args.hlr_latency_ms);
        sim.set_faults(f).map_err(err)?;
    }
    let ca = std::fs::read(&sb.info.ca_cert).map_err(err)?;
    let client = HttpClient::builder()
        .add_root_pem(&ca)
        .pool_max_idle_per_host(args.concurrency)
        .request_timeout(Duration::from_secs(30))
        .build()
        .map_err(err)?;
    Ok((sb, client, seeded_in))
}

async fn stop_sandbox(sb: crate::sandbox::Sandbox) {
    sb.shutdown().await;
}

/// The activation modes (physical or eSIM).
async fn run_activations(
    args: &BenchArgs,
    sb: &crate::sandbox::Sandbox,
    client: &HttpClient,
    seeded_in: Duration,
) -> Result<f64, BenchError> {
    run_load(args, sb, client, seeded_in, activation_posts(args, sb)).await
}

/// Times `posts` (activations) until every order is `active` or `failed`; answers
/// activations/s.
async fn run_load(
    args: &BenchArgs,
    sb: &crate::sandbox::Sandbox,
    client: &HttpClient,
    seeded_in: Duration,
    posts: Vec<Post>,
) -> Result<f64, BenchError> {
    let auth = format!("Bearer {}", sb.info.api_key);
    let delivered = if args.webhook {
        Some(bench_webhook(client, &sb.info.base_url, &auth).await?)
    } else {
        None
    };
    println!(
        "simgw bench: {} {} activations, {} clients, HLR latency {} ms, {}, seeded in {:.1} s",
        posts.len(),
        if args.esim { "eSIM" } else { "physical" },
        args.concurrency,
        args.hlr_latency_ms,
        webhook_label(args.webhook),
        seeded_in.as_secs_f64()
    );
    let m = &sb.gateway.metrics;
    let commits0 = m.store_commits.load(Relaxed);
    let ops0 = m.store_ops.load(Relaxed);
    let started = Instant::now();
    let posted = post_all(client, &auth, posts, args.concurrency).await?;
    let target = posted.ids.len() as u64;
    let done_in = wait_until(started, target, || {
        m.orders_active.load(Relaxed) + m.orders_failed.load(Relaxed)
    })
    .await?;
    let (_, active, e2e) = settled(sb, &posted.ids, crate::order::OrderStatus::Active).await?;
    let commits = m.store_commits.load(Relaxed) - commits0;
    let ops = m.store_ops.load(Relaxed) - ops0;
    report(&posted, "active", active, done_in, "activations/s", &e2e);
    if commits > 0 {
        // The embedded store's group commit (PostgreSQL counts no commits here).
        println!(
            "durable commits {commits} for {ops} store operations ({:.1} per fsync)",
            ops as f64 / commits.max(1) as f64
        );
    }
    if let Some(d) = delivered {
        println!(
            "webhook deliveries acknowledged by the end of the run: {} (2 events per activation)",
            d.load(Relaxed)
        );
    }
    Ok(active as f64 / done_in.as_secs_f64().max(f64::MIN_POSITIVE))
}

fn webhook_label(webhook: bool) -> &'static str {
    if webhook {
        "one webhook endpoint (all events, local 204 receiver)"
    } else {
        "no webhook endpoint"
    }
}

/// One activation request per seeded SIM (physical) or profile (eSIM).
fn activation_posts(args: &BenchArgs, sb: &crate::sandbox::Sandbox) -> Vec<Post> {
    let product = &sb.info.product;
    let url = format!("{}/v1/activations", sb.info.base_url);
    let bodies: Vec<String> = if args.esim {
        (0..args.activations)
            .map(|_| format!(r#"{{"sim":{{"type":"esim"}},"product":"{product}"}}"#))
            .collect()
    } else {
        sb.info
            .physical_iccids
            .iter()
            .map(|iccid| {
                format!(
                    r#"{{"sim":{{"type":"physical","iccid":"{iccid}"}},"product":"{product}"}}"#
                )
            })
            .collect()
    };
    bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| Post {
            url: url.clone(),
            idempotency_key: format!("bench-{i}"),
            body,
        })
        .collect()
}

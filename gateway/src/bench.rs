//! `simgw bench`: drives physical activations over real HTTPS against an in-process sandbox
//! (gateway + HLR simulator on loopback, durable commits on a fresh data dir) and reports
//! throughput and latency next to a baseline measured in the same run: the same client
//! against a bare hyper+rustls endpoint (`baseline.rs`). A measurement tool, not a test.

mod args;
mod baseline;
mod components;
mod inventory;
mod load;
mod parked;
mod policy;
mod port_in;
mod postgres;
mod report;
mod store_ops;
mod suspend;
mod usage;
mod webhook_pairs;

use crate::config::Config;
use crate::order::OrderStatus;
use adapters::http::HttpClient;
pub use args::{BenchArgs, BenchStore};
use bytes::Bytes;
use load::{Post, Settled, await_terminal, phase, post_all, print_phase};
use report::{Phase, Report};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::time::Instant;

/// Starts a local receiver answering 204 and registers it for the sandbox tenant; returns
/// the count of deliveries it received, as it changes.
async fn bench_webhook(
    client: &HttpClient,
    base_url: &str,
    auth: &str,
) -> Result<tokio::sync::watch::Receiver<u64>, BenchError> {
    use crate::webhooks::receiver;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(err)?;
    let addr = listener.local_addr().map_err(err)?;
    let (count, seen) = tokio::sync::watch::channel(0u64);
    let handler: receiver::Handler = Arc::new(move |_| {
        count.send_modify(|n| *n += 1);
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
    Ok(seen)
}

/// Why the benchmark could not run.
#[derive(Debug, thiserror::Error)]
#[error("bench: {0}")]
pub struct BenchError(String);

fn err(e: impl std::fmt::Display) -> BenchError {
    BenchError(e.to_string())
}

/// Runs the benchmark and prints a report to stdout.
pub async fn run(args: BenchArgs) -> Result<(), BenchError> {
    if args.nodes > 1 && args.store != BenchStore::Postgres {
        return Err(BenchError(
            "--nodes 2 needs --store postgres: nodes share a PostgreSQL database, the embedded store is one node's".into(),
        ));
    }
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
    let http_mode = args.profiles.is_none()
        && args.osmo_ops.is_none()
        && args.import_rows.is_none()
        && args.pool_numbers.is_none()
        && args.parked_ports.is_none();
    if let Some(n) = args.parked_ports {
        // Its report has a shape of its own (two idle windows), written by the mode.
        let r = parked::run(&args, n, &data_dir).await;
        if temporary {
            let _ = std::fs::remove_dir_all(&data_dir);
        }
        return r;
    }
    if args.json.is_some() && !http_mode {
        // These modes time the store or a component alone: there is no HTTP client to
        // compare with a bare endpoint, so there is no report of that shape either.
        return Err(BenchError(
            "--json is written by the HTTP modes only (not --profiles, --osmo-ops, --import-rows, --pool-numbers)".into(),
        ));
    }
    if let Some(n) = args.profiles {
        return components::run_profiles(n);
    }
    if let Some(ops) = args.osmo_ops {
        return components::run_osmo(ops, args.concurrency).await;
    }
    if let Some(rows) = args.import_rows {
        std::fs::create_dir_all(&data_dir).map_err(err)?;
        let r = store_ops::run_import(rows, &data_dir).await;
        if temporary {
            let _ = std::fs::remove_dir_all(&data_dir);
        }
        return r;
    }
    if let Some(n) = args.pool_numbers {
        std::fs::create_dir_all(&data_dir).map_err(err)?;
        let r = store_ops::run_pool(&args, n, &data_dir).await;
        if temporary {
            let _ = std::fs::remove_dir_all(&data_dir);
        }
        return r;
    }
    let mut report = Report {
        mode: mode_name(&args).into(),
        activations: args.activations,
        concurrency: args.concurrency,
        hlr_latency_ms: args.hlr_latency_ms,
        webhook: args.webhook,
        inventory_sims: args.inventory_sims,
        inventory_numbers: args.inventory_numbers,
        ..Report::default()
    };
    let r = if let Some(pairs) = args.pairs {
        webhook_pairs::side_by_side(&args, pairs, &data_dir, &mut report).await
    } else if args.policy.is_some() {
        policy::side_by_side(&args, &data_dir, &mut report).await
    } else if args.store == BenchStore::Postgres {
        postgres::side_by_side(&args, &data_dir, &mut report).await
    } else {
        match prepare(&args, &data_dir, None, &mut report).await {
            Ok((sb, client, seeded_in)) => {
                let r = if args.suspend {
                    suspend::run(&args, &sb, &client, seeded_in, &mut report).await
                } else if args.port_in {
                    port_in::run(&args, &sb, &client, seeded_in, &mut report).await
                } else {
                    run_activations(&args, &sb, &client, seeded_in)
                        .await
                        .map(|(p, s)| record(&mut report, p, s))
                };
                stop_sandbox(sb).await;
                r
            }
            Err(e) => Err(e),
        }
    };
    if temporary {
        let _ = std::fs::remove_dir_all(&data_dir);
    }
    r?;
    conclude(&args, report)
}

/// The mode's name in the report.
fn mode_name(args: &BenchArgs) -> &'static str {
    match (args.policy, args.store, args.suspend, args.esim) {
        _ if args.port_in => "port_in",
        _ if args.pairs.is_some() => "webhook_pairs",
        (Some(policy::BenchPolicy::Cn), ..) => "policy_cn",
        (None, BenchStore::Postgres, ..) => "postgres",
        (None, BenchStore::Embedded, true, _) => "suspend",
        (None, BenchStore::Embedded, false, true) => "esim",
        (None, BenchStore::Embedded, false, false) => "physical",
    }
}

/// Adds a phase and its failed orders to the report.
fn record(report: &mut Report, phase: Phase, settled: Settled) {
    report.phases.push(phase);
    report.failures.extend(settled.failed);
}

/// Prints the ratio and the peak memory, writes `--json`, and fails the run if any order
/// was still open at the deadline.
fn conclude(args: &BenchArgs, mut report: Report) -> Result<(), BenchError> {
    report.finish(report::peak_rss_mib());
    if report.baseline.is_some() {
        for p in &report.phases {
            println!(
                "ratio      {:<9} {:>8.0} / {:>8.0} baseline requests/s = {:.3}",
                p.name, p.per_s, report.baseline_requests_per_s, p.ratio
            );
        }
    }
    println!(
        "peak RSS   {:.1} MiB (VmHWM since the inventory was in place)",
        report.peak_rss_mib
    );
    if let Some(path) = &args.json {
        std::fs::write(path, report.to_json())
            .map_err(|e| BenchError(format!("{}: {e}", path.display())))?;
    }
    if report.open > 0 {
        return Err(BenchError(format!(
            "{} orders were not terminal {} s after the first POST",
            report.open, args.deadline_s
        )));
    }
    Ok(())
}

/// Starts the run's first sandbox, fills the extra inventory, resets the peak-memory mark,
/// and measures the baseline; everything timed comes after this.
async fn prepare(
    args: &BenchArgs,
    data_dir: &std::path::Path,
    postgres: Option<&str>,
    report: &mut Report,
) -> Result<(crate::sandbox::Sandbox, HttpClient, Duration), BenchError> {
    let postgres = postgres.map(|url| (url, pg_pool_size(args)));
    let (sb, client, seeded_in, probe) = start_sandbox(args, data_dir, postgres).await?;
    let r = async {
        inventory::fill(&sb, args.inventory_sims, args.inventory_numbers).await?;
        if report::reset_peak_rss() {
            println!(
                "peak RSS reset at {:.1} MiB resident (sandbox and inventory in place)",
                report::peak_rss_mib()
            );
        } else {
            println!("peak RSS: /proc/self/clear_refs refused; the peak includes seeding");
        }
        baseline::run(args, &sb, &client, probe.as_deref()).await
    }
    .await;
    match r {
        Ok(b) => {
            report.baseline = b;
            Ok((sb, client, seeded_in))
        }
        Err(e) => {
            stop_sandbox(sb).await;
            Err(e)
        }
    }
}

/// A kind of group transactions' counts now: committed, writes carried, split.
fn group_counts(g: &crate::metrics::GroupCounts) -> [u64; 3] {
    [&g.committed, &g.writes, &g.split].map(|c| c.load(Relaxed))
}

/// Starts the sandbox the activation modes drive (one SIM per activation, and one more
/// kept apart for the probe) and a client trusting its CA; also answers how long seeding
/// took and the probe's ICCID.
async fn start_sandbox(
    args: &BenchArgs,
    data_dir: &std::path::Path,
    postgres: Option<(&str, usize)>,
) -> Result<
    (
        crate::sandbox::Sandbox,
        HttpClient,
        Duration,
        Option<String>,
    ),
    BenchError,
> {
    let mut config = Config {
        data_dir: data_dir.to_owned(),
        listen: "127.0.0.1:0".parse().map_err(err)?,
        ..Config::default()
    };
    if let Some(mib) = args.cache_mib {
        config.store.cache_mib = mib;
    }
    if let Some(ms) = args.before_create_wait_ms {
        config.identity.before_create_wait_ms = ms;
    }
    if let Some((url, pool_size)) = postgres {
        config.store.backend = crate::config::StoreBackend::Postgres;
        config.store.url = Some(crate::config::DbUrl::new(url));
        config.store.pool_size = pool_size;
    }
    if args.esim {
        config.sandbox.physical_sims = 1;
        config.sandbox.esim_profiles = args.activations;
    } else if args.parked_ports.is_some() {
        // The parked ports' SIMs are added in bulk (`inventory::fill`).
        config.sandbox.physical_sims = 1;
    } else if args.port_in {
        // The baseline's SIMs, the port-ins' and the probe's.
        config.sandbox.physical_sims = 2 * args.activations + 1;
    } else {
        config.sandbox.physical_sims = args.activations + 1;
    }
    // Headroom: golden numbers (…8888, …1234) are never assigned automatically.
    config.sandbox.numbers = args.activations + args.activations / 10 + 100;
    if args.port_in {
        // A temporary number for each port-in as well.
        config.sandbox.numbers += args.activations;
    }
    if args.parked_ports.is_some() {
        config.sandbox.numbers = 100;
    }
    // The hub's messages come to a listener of their own, on a free port.
    config.porting_hub.callback_listen = Some("127.0.0.1:0".parse().map_err(err)?);
    // The benchmark measures the pipeline with every order accepted at once, so the
    // backlog bound must not refuse any of them.
    config.admission.max_backlog = u64::from(args.activations).max(1);
    config.admission.max_backlog_per_tenant = u64::from(args.activations).max(1);
    // Every client of the load generator comes from loopback.
    config.api.max_connections_per_ip =
        config.api.max_connections_per_ip.max(args.concurrency + 16);
    config.api.max_connections = config.api.max_connections.max(args.concurrency + 16);
    // The host operator's simulators stand in for machines of their own: a bench never
    // restarts them, so they keep no journal (whose writes would take this machine's CPU
    // from the gateway).
    config.sandbox.simulator_state = false;
    let seeding = Instant::now();
    let mut sb = crate::sandbox::start(config).await.map_err(err)?;
    let seeded_in = seeding.elapsed();
    // The probe's SIM is not one the timed phases use (eSIM runs keep their one physical SIM
    // for it).
    let probe = sb.info.physical_iccids.pop();
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
    Ok((sb, client, seeded_in, probe))
}

/// The connections a node on PostgreSQL opens: one per client, within what the bench's
/// private server admits (`max_connections = 60`, its own sessions and the sequencer's
/// included).
fn pg_pool_size(args: &BenchArgs) -> usize {
    args.pg_pool
        // More connections than the database's cores only add serialization conflicts:
        // 48 on this 2-core machine ran 0.26-0.33 transactions again per activation and
        // 16 or 8 ran 0.05-0.15, for more throughput.
        .map_or_else(|| args.concurrency.clamp(4, 16), usize::from)
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
) -> Result<(Phase, Settled), BenchError> {
    let name = if args.esim { "esim" } else { "physical" };
    run_load(
        args,
        sb,
        client,
        seeded_in,
        activation_posts(args, sb),
        name,
    )
    .await
}

/// Times `posts` (activations) until each of their orders is `active` or `failed`; answers
/// the phase's figures and where each order ended.
async fn run_load(
    args: &BenchArgs,
    sb: &crate::sandbox::Sandbox,
    client: &HttpClient,
    seeded_in: Duration,
    posts: Vec<Post>,
    name: &str,
) -> Result<(Phase, Settled), BenchError> {
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
    let conflicts0 = m.postgres.retried.load(Relaxed);
    let statements0 = m.postgres.statements.load(Relaxed);
    let kinds = [
        ("create", &m.postgres.create_groups),
        ("advance", &m.postgres.advance_groups),
    ];
    let groups0 = kinds.map(|(_, g)| group_counts(g));
    let started = Instant::now();
    let at = usage::Sample::take(m);
    let posted = post_all(client, &auth, posts, args.concurrency).await?;
    let deadline = Duration::from_secs(args.deadline_s);
    let settled = await_terminal(sb, &posted.ids, OrderStatus::Active, started, deadline).await?;
    let used = at.until(&usage::Sample::take(m));
    let conflicts = m.postgres.retried.load(Relaxed) - conflicts0;
    let statements = m.postgres.statements.load(Relaxed) - statements0;
    let mut phase = phase(name, &posted, &settled);
    let used = used.figures(phase.succeeded);
    let (commits, ops) = (used.commits, used.ops);
    (phase.store_commits, phase.store_ops) = (commits, ops);
    phase.store_conflicts = conflicts;
    phase.store_statements = statements;
    phase.usage = Some(used);
    print_phase(&phase, &posted, &settled, "active", "activations/s");
    if conflicts > 0 {
        // PostgreSQL: transactions rolled back on a serialization conflict and run again.
        println!(
            "store conflicts {conflicts} for {} activations ({:.2} per activation)",
            posted.ids.len(),
            conflicts as f64 / posted.ids.len().max(1) as f64
        );
    }
    if statements > 0 {
        // PostgreSQL: statements in transactions (BEGIN and COMMIT included), the
        // engine's and the sequencer's and the webhook dispatcher's, for the whole phase.
        println!(
            "store statements {statements} in transactions ({:.1} per activation)",
            statements as f64 / posted.ids.len().max(1) as f64
        );
    }
    for ((kind, g), [c0, w0, s0]) in kinds.into_iter().zip(groups0) {
        let [committed, writes, split] = group_counts(g);
        let (committed, writes, split) = (committed - c0, writes - w0, split - s0);
        if committed + split > 0 {
            // PostgreSQL: activations' writes committed together (`store/postgres/group.rs`).
            println!(
                "{kind} groups {committed} committed carrying {writes} writes ({:.1} per group), {split} split",
                writes as f64 / committed.max(1) as f64
            );
        }
    }
    if commits > 0 {
        // The embedded store's group commit (PostgreSQL counts no commits here).
        println!(
            "durable commits {commits} for {ops} store operations ({:.1} per fsync)",
            ops as f64 / commits.max(1) as f64
        );
    }
    if let Some(mut d) = delivered {
        let now = *d.borrow();
        phase.deliveries_in_phase = Some(now);
        println!(
            "webhook deliveries acknowledged by the end of the run: {now} (2 events per activation)"
        );
        // Untimed: how long the backlog takes to drain once orders stop.
        let all = 2 * posted.ids.len() as u64;
        let ended = Instant::now();
        let drained = tokio::time::timeout(deadline, d.wait_for(|n| *n >= all))
            .await
            .is_ok_and(|r| r.is_ok());
        if drained {
            let s = ended.elapsed().as_secs_f64();
            phase.deliveries_drained_s = Some(s);
            println!(
                "webhook deliveries: all {all} acknowledged {s:.2} s after the last activation"
            );
        } else {
            println!(
                "webhook deliveries: {} of {all} acknowledged {} s after the last activation",
                *d.borrow(),
                deadline.as_secs()
            );
        }
    }
    Ok((phase, settled))
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

//! `simgw bench --suspend`: a lifecycle operation end to end. It activates one physical line
//! per SIM (timed too: the physical activation rate of the same run is the baseline), then
//! sends one `POST /v1/subscriptions/{msisdn}/suspend` per line over HTTPS and waits until
//! every suspend order is `completed`, that is barred on the HLR simulator.

use super::load::{Post, await_terminal, phase, post_all, print_phase};
use super::report::Report;
use super::{BenchArgs, BenchError, bench_webhook, err, record, webhook_label};
use crate::order::OrderStatus;
use crate::sandbox::Sandbox;
use adapters::http::HttpClient;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::time::Instant;

/// Runs both phases against a started sandbox and prints the report.
pub(super) async fn run(
    args: &BenchArgs,
    sb: &Sandbox,
    client: &HttpClient,
    seeded_in: Duration,
    report: &mut Report,
) -> Result<(), BenchError> {
    // Lifecycle operations need an operator key; the sandbox's `api_key` is one.
    let auth = format!("Bearer {}", sb.info.api_key);
    let delivered = if args.webhook {
        Some(bench_webhook(client, &sb.info.base_url, &auth).await?)
    } else {
        None
    };
    println!(
        "simgw bench --suspend: {} physical lines, {} clients, HLR latency {} ms, {}, seeded in {:.1} s",
        sb.info.physical_iccids.len(),
        args.concurrency,
        args.hlr_latency_ms,
        webhook_label(args.webhook),
        seeded_in.as_secs_f64()
    );
    let m = &sb.gateway.metrics;

    println!("-- baseline: the physical activations that open the lines");
    let started = Instant::now();
    let posted = post_all(
        client,
        &auth,
        super::activation_posts(args, sb),
        args.concurrency,
    )
    .await?;
    let deadline = Duration::from_secs(args.deadline_s);
    let mut settled =
        await_terminal(sb, &posted.ids, OrderStatus::Active, started, deadline).await?;
    let activations = phase("physical", &posted, &settled);
    print_phase(&activations, &posted, &settled, "active", "activations/s");
    let activation_rate = activations.per_s;
    let lines = std::mem::take(&mut settled.orders);
    record(report, activations, settled);

    let url = format!("{}/v1/subscriptions", sb.info.base_url);
    let posts: Vec<Post> = lines
        .iter()
        .filter(|o| o.status == OrderStatus::Active)
        .enumerate()
        .map(|(i, o)| Post {
            url: format!("{url}/{}/suspend", o.msisdn),
            idempotency_key: format!("bench-suspend-{i}"),
            body: r#"{"reason":"non_payment"}"#.into(),
        })
        .collect();
    let hlr0 = sb.hlr_sim.as_ref().map(|s| s.counts());
    let (commits0, ops0) = (m.store_commits.load(Relaxed), m.store_ops.load(Relaxed));

    println!("-- timed: one suspend (reason non_payment) per line");
    let started = Instant::now();
    let posted = post_all(client, &auth, posts, args.concurrency).await?;
    let mut settled =
        await_terminal(sb, &posted.ids, OrderStatus::Completed, started, deadline).await?;
    let commits = m.store_commits.load(Relaxed) - commits0;
    let ops = m.store_ops.load(Relaxed) - ops0;
    let mut suspends = phase("suspend", &posted, &settled);
    (suspends.store_commits, suspends.store_ops) = (commits, ops);
    print_phase(&suspends, &posted, &settled, "completed", "suspends/s");
    let completed = suspends.succeeded;
    let suspend_rate = suspends.per_s;
    let orders = std::mem::take(&mut settled.orders);
    record(report, suspends, settled);
    let n = completed.max(1) as f64;
    println!(
        "durable commits {commits} for {ops} store operations ({:.1} per fsync; {:.2} store operations per suspend)",
        ops as f64 / commits.max(1) as f64,
        ops as f64 / n
    );
    if let (Some(sim), Some(before)) = (&sb.hlr_sim, hlr0) {
        let after = sim.counts();
        let gets =
            (after.get.gsm_hlr + after.get.gsm_auc) - (before.get.gsm_hlr + before.get.gsm_auc);
        let sets =
            (after.set.gsm_hlr + after.set.gsm_auc) - (before.set.gsm_hlr + before.set.gsm_auc);
        // Read back what the orders claim: every completed suspend left its line barred.
        let barred = orders
            .iter()
            .filter(|o| o.status == OrderStatus::Completed)
            .filter(|o| sim.hlr(&o.imsi).is_some_and(|s| s.obo && s.obi))
            .count();
        println!(
            "HLR simulator: {:.2} Get and {:.2} Set per suspend; {barred} of {completed} lines barred (obo and obi) after the run",
            gets as f64 / n,
            sets as f64 / n
        );
        if barred != completed {
            return Err(BenchError(format!(
                "{} completed suspends left their line unbarred on the HLR",
                completed - barred
            )));
        }
    }
    println!(
        "one suspend costs {:.2} physical activations ({suspend_rate:.0} suspends/s against {activation_rate:.0} activations/s in this run)",
        activation_rate / suspend_rate.max(f64::MIN_POSITIVE)
    );
    if let Some(d) = delivered {
        println!(
            "webhook deliveries acknowledged by the end of the run: {}",
            *d.borrow()
        );
    }
    if completed < posted.ids.len() || posted.failures > 0 {
        return Err(err(format!(
            "{} suspends refused, {} orders not completed",
            posted.failures,
            posted.ids.len() - completed
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{BenchArgs, run};

    /// The mode runs end to end: `run` answers `Ok` only once every line was activated,
    /// every suspend completed, and the HLR simulator holds every line barred.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn suspends_every_line_and_reads_the_barring_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let args = BenchArgs {
            activations: 24,
            concurrency: 4,
            data_dir: Some(dir.path().join("data")),
            hlr_latency_ms: 0,
            pool_numbers: None,
            allocations: 0,
            import_rows: None,
            osmo_ops: None,
            esim: false,
            profiles: None,
            webhook: true,
            pairs: None,
            suspend: true,
            port_in: false,
            hub_tick_ms: 10,
            hub_lanes: 64,
            port_market: crate::compliance::Market::Uk,
            hub_batch: adapters::porting::MAX_BATCH,
            rounds: 4,
            parked_ports: None,
            idle_s: 10,
            store: crate::bench::BenchStore::Embedded,
            nodes: 1,
            pg_pool: None,
            pg_top: None,
            pg_set: Vec::new(),
            policy: None,
            json: Some(dir.path().join("bench.json")),
            baseline_requests: 50,
            inventory_sims: 0,
            inventory_numbers: 0,
            cache_mib: Some(16),
            before_create_wait_ms: None,
            deadline_s: 600,
        };
        run(args).await.expect("the suspend benchmark");
        let json = std::fs::read(dir.path().join("bench.json")).expect("the JSON report");
        let v: serde_json::Value = serde_json::from_slice(&json).expect("JSON");
        assert_eq!(v["mode"], "suspend");
        assert_eq!(v["phases"][0]["succeeded"], 24);
        assert_eq!(v["phases"][1]["succeeded"], 24);
        assert_eq!(v["baseline"]["answered"], 50);
        assert_eq!(
            (v["failed"].as_u64(), v["open"].as_u64()),
            (Some(0), Some(0))
        );
    }
}

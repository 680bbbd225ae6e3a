//! `simgw bench --store postgres [--nodes 2]`: the activations on the embedded store (the
//! reference), then on a private PostgreSQL (one node), then, with `--nodes 2`, on a fresh
//! database with two gateway nodes sharing it and the clients spread over both. The
//! second node runs in this process (its own connection pool, engine, sequencer task and
//! HTTPS listener, the first node's data key and certificate) and provisions through the
//! same HLR simulator; the machine's cores, and the database, are shared by everything.

use super::report::{self, Phase, Report};
use super::usage;
use super::{BenchArgs, BenchError, Post, activation_posts, err, prepare, record, run_load};
use super::{pg_pool_size, run_activations, start_sandbox, stop_sandbox};
use crate::app::Gateway;
use crate::config::Config;
use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;

/// The activations on the embedded store, then on a private PostgreSQL, in one run.
pub(super) async fn side_by_side(
    args: &BenchArgs,
    data_dir: &Path,
    report: &mut Report,
) -> Result<(), BenchError> {
    println!("== embedded store (reference)");
    let embedded = data_dir.join("embedded");
    let (sb, client, seeded_in) = prepare(args, &embedded, None, report).await?;
    let base = run_activations(args, &sb, &client, seeded_in).await;
    stop_sandbox(sb).await;
    let (mut base, settled) = base?;
    base.name = "embedded".into();
    let base_rate = base.per_s;
    record(report, base, settled);
    println!("== PostgreSQL (one node, local, fsync and synchronous_commit on)");
    let pg = conformance::pg_peer::PgServer::start_for_bench(&args.pg_set, args.pg_top.is_some())
        .map_err(err)?;
    let url = pg.create_db("simgw").await.map_err(err)?;
    let one = Some((url.as_str(), pg_pool_size(args)));
    let (sb, client, seeded_in, _) = start_sandbox(args, &data_dir.join("postgres"), one).await?;
    let server = pg.pid();
    let (db0, started) = (server.map(usage::tree_cpu), std::time::Instant::now());
    let on_pg = run_activations(args, &sb, &client, seeded_in).await;
    let (db1, took) = (server.map(usage::tree_cpu), started.elapsed());
    stop_sandbox(sb).await;
    let (mut on_pg, settled) = on_pg?;
    on_pg.name = "postgres".into();
    if let (Some(a), Some(b), Some(u)) = (db0, db1, on_pg.usage.as_mut()) {
        u.database(b.saturating_sub(a), took, on_pg.succeeded);
        println!("{}", u.database_line());
    }
    println!(
        "PostgreSQL / embedded: {:.0} / {:.0} activations/s = {:.2}",
        on_pg.per_s,
        base_rate,
        report::ratio(on_pg.per_s, base_rate)
    );
    if let Some(n) = args.pg_top {
        println!("statements that took most of the database's time (pg_stat_statements):");
        println!("{}", pg.top_statements("simgw", n).await.map_err(err)?);
    }
    let one_node = on_pg.clone();
    record(report, on_pg, settled);
    if args.nodes == 2 {
        let url = pg.create_db("simgw_two_nodes").await.map_err(err)?;
        let two = two_nodes(args, data_dir, &url).await?;
        compare(&one_node, &two.0);
        record(report, two.0, two.1);
    }
    Ok(())
}

/// The activations on a fresh database `url`, with the sandbox's node and a second node
/// sharing it (each with half the one node's connections), every other request sent to
/// the second.
async fn two_nodes(
    args: &BenchArgs,
    data_dir: &Path,
    url: &str,
) -> Result<(Phase, super::Settled), BenchError> {
    println!("== PostgreSQL, two nodes on one database (the clients spread over both)");
    // The one node's connections, half on each node: the database serves as many.
    let half = (pg_pool_size(args) / 2).max(4);
    let (sb, client, seeded_in, _) =
        start_sandbox(args, &data_dir.join("postgres-a"), Some((url, half))).await?;
    let second = match second_node(&sb, &data_dir.join("postgres-b")).await {
        Ok(g) => g,
        Err(e) => {
            stop_sandbox(sb).await;
            return Err(e);
        }
    };
    let other = format!("https://127.0.0.1:{}", second.addr.port());
    let posts = spread(activation_posts(args, &sb), &sb.info.base_url, &other);
    let conflicts = || second.metrics.postgres.retried.load(Relaxed);
    let before = conflicts();
    let mut r = run_load(args, &sb, &client, seeded_in, posts, "postgres_2_nodes").await;
    if let Ok((phase, _)) = &mut r {
        // `run_load` counted the first node's; the phase holds both.
        phase.store_conflicts += conflicts() - before;
        println!(
            "store conflicts on both nodes {} ({:.2} per activation)",
            phase.store_conflicts,
            phase.store_conflicts as f64 / f64::from(args.activations.max(1))
        );
    }
    second.shutdown().await;
    stop_sandbox(sb).await;
    r
}

/// A second gateway node on the sandbox's database: the sandbox node's store settings
/// (its pool size included; another node id), data key and ID pepper (both nodes seal and read the same rows),
/// server certificate (the clients trust the sandbox's CA), engine and API settings, and
/// its HLR client.
async fn second_node(sb: &crate::sandbox::Sandbox, dir: &Path) -> Result<Gateway, BenchError> {
    let first = &sb.gateway.config;
    let tls_dir = first.data_dir.join("tls");
    let (cert, key) = crate::tls::DevCa::load_or_create(&tls_dir)
        .and_then(|ca| ca.server_identity(&tls_dir))
        .map_err(err)?;
    let mut config = Config {
        data_dir: dir.to_owned(),
        listen: "127.0.0.1:0".parse().map_err(err)?,
        ..Config::default()
    };
    config.store = first.store.clone();
    config.store.node_id = None;
    config.keys.data_key_file = Some(crate::app::key_path(first));
    config.keys.id_pepper_file = Some(crate::app::pepper_path(first));
    config.tls.cert_file = Some(cert);
    config.tls.key_file = Some(key);
    config.engine = first.engine.clone();
    config.hlr = first.hlr.clone();
    config.admission = first.admission.clone();
    config.api = first.api.clone();
    Gateway::start(config, sb.hlr.clone()).await.map_err(err)
}

/// `posts` with every other one sent to `other` instead of `first` (pure).
fn spread(posts: Vec<Post>, first: &str, other: &str) -> Vec<Post> {
    posts
        .into_iter()
        .enumerate()
        .map(|(i, mut p)| {
            if i % 2 == 1 {
                if let Some(path) = p.url.strip_prefix(first) {
                    p.url = format!("{other}{path}");
                }
            }
            p
        })
        .collect()
}

/// Prints two nodes against one: throughput and POST latency.
fn compare(one: &Phase, two: &Phase) {
    println!(
        "two nodes / one node: {:.0} / {:.0} activations/s = {:.2}; POST p99 {:.1} / {:.1} ms = {:.2}",
        two.per_s,
        one.per_s,
        report::ratio(two.per_s, one.per_s),
        two.post.p99_ms,
        one.post.p99_ms,
        report::ratio(two.post.p99_ms, one.post.p99_ms)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_other_post_goes_to_the_second_node_with_its_path_and_body() {
        let posts = (0..5)
            .map(|i| Post {
                url: "https://127.0.0.1:1/v1/activations".into(),
                idempotency_key: format!("k{i}"),
                body: format!("b{i}"),
            })
            .collect();
        let out = spread(posts, "https://127.0.0.1:1", "https://127.0.0.1:2");
        let urls: Vec<&str> = out.iter().map(|p| p.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://127.0.0.1:1/v1/activations",
                "https://127.0.0.1:2/v1/activations",
                "https://127.0.0.1:1/v1/activations",
                "https://127.0.0.1:2/v1/activations",
                "https://127.0.0.1:1/v1/activations",
            ]
        );
        let keys: Vec<&str> = out.iter().map(|p| p.idempotency_key.as_str()).collect();
        assert_eq!(keys, ["k0", "k1", "k2", "k3", "k4"]);
        assert_eq!(out[3].body, "b3");
    }
}

//! The options of `simgw bench` (`BenchArgs`), as clap reads them from the command line.

use std::path::PathBuf;

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
    /// With `--webhook`: N runs without the endpoint and N with it, alternated, each on a
    /// fresh sandbox, and the median of the N paired ratios (physical activations).
    #[arg(long, requires = "webhook", conflicts_with_all = ["esim", "suspend", "store", "port_in", "policy"],
          value_parser = clap::value_parser!(u16).range(1..=100))]
    pub pairs: Option<u16>,
    /// Activate `--activations` physical lines first (reported as the baseline), then
    /// time one suspend per line until every suspend order is `completed`.
    #[arg(long, conflicts_with = "esim")]
    pub suspend: bool,
    /// Activate `--activations` physical lines (the baseline), then time as many UK
    /// port-ins through the porting-hub simulator (zero latency, its clock driven by the
    /// bench) until each is `active` on its ported number, and report the ratio.
    #[arg(long, conflicts_with_all = ["esim", "suspend", "store"])]
    pub port_in: bool,
    /// `--port-in`: the market of the port-ins: `uk` (the line runs on a temporary
    /// number until the cutover, then changes number) or `eu-generic` (no temporary
    /// number: the line opens on the ported number at the cutover).
    #[arg(long, default_value = "uk", value_parser = port_market)]
    pub port_market: crate::compliance::Market,
    /// `--port-in`: how often the bench moves the hub's clock 4 days on, in ms (a
    /// scheduled port waits at most this long for its cutover).
    #[arg(long, default_value_t = 10)]
    pub hub_tick_ms: u64,
    /// `--port-in`: hub messages (of as many ports) the hub simulator has in flight at
    /// once; each port's messages still go one after another (1: all one at a time). A
    /// national hub keeps a few connections to each operator, and messages that wait for
    /// one go in its next batch.
    #[arg(long, default_value_t = 8)]
    pub hub_lanes: usize,
    /// `--port-in`: hub messages one POST of the hub simulator carries at most (a batch
    /// of as many ports; 1: each message alone).
    #[arg(long, default_value_t = adapters::porting::MAX_BATCH)]
    pub hub_batch: usize,
    /// `--port-in`: the two phases interleaved in this many rounds (each round a share of
    /// the physical activations, then as many port-ins), so that a change in the
    /// machine's speed during the run weighs on both phases alike and both run on a store
    /// of about the same size; `1`: all the physical activations, then all the port-ins.
    #[arg(long, default_value_t = 4)]
    pub rounds: usize,
    /// Instead of activations: park this many scheduled port-ins (store-level seeding, each
    /// written as the engine writes it) and measure the process's CPU time over an idle
    /// window, with no port open and then with them parked.
    #[arg(long)]
    pub parked_ports: Option<u64>,
    /// `--parked-ports`: the length of each idle window, in seconds.
    #[arg(long, default_value_t = 10)]
    pub idle_s: u64,
    /// `cn`: run the physical activations with the compliance policy off (the baseline),
    /// then again with the China policy on (every order a store sale with a card-reader
    /// capture and a face match, the identity verifier simulator at zero latency), and
    /// report the ratio.
    #[arg(long, value_enum, conflicts_with_all = ["esim", "suspend", "store", "port_in"])]
    pub policy: Option<super::policy::BenchPolicy>,
    /// `postgres`: run the activations on the embedded store (the baseline), then on a
    /// private PostgreSQL started from this machine's packages (fsync and
    /// synchronous_commit on), and report the ratio.
    #[arg(long, value_enum, default_value_t = BenchStore::Embedded)]
    pub store: BenchStore,
    /// With `--store postgres`: `2` adds a phase with two gateway nodes on one database
    /// (a second node in this process, its own pool, engine and listener; the clients
    /// spread over both), compared with the one node's phase.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    pub nodes: u8,
    /// With `--store postgres`: the node's connection pool (`store.pool_size`; default:
    /// the concurrency, between 4 and 16). With `--nodes 2` each node has half.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub pg_pool: Option<u16>,
    /// With `--store postgres`: after the one node's phase, print the N statements that
    /// took most of the database's time (`pg_stat_statements`, preloaded for the run).
    #[arg(long)]
    pub pg_top: Option<usize>,
    /// With `--store postgres`: a server setting for the run's private PostgreSQL, over
    /// the bench's own (`NAME=VALUE`, as `postgres -c` takes it; repeatable), for example
    /// `--pg-set shared_buffers=32MB`. `fsync`, `synchronous_commit` and `full_page_writes`
    /// stay on.
    #[arg(long = "pg-set", value_name = "NAME=VALUE", value_parser = pg_setting)]
    pub pg_set: Vec<String>,
    /// Writes the figures as JSON to this file (the HTTP modes: activations, `--esim`,
    /// `--suspend`, `--policy`, `--store postgres`).
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Requests sent to the bare hyper+rustls endpoint before the load, from the same
    /// client at the same concurrency (0: no baseline, ratio 0).
    #[arg(long, default_value_t = 20_000)]
    pub baseline_requests: usize,
    /// SIMs added to the sandbox tenant before the run and never activated (memory and
    /// latency against a carrier-sized store).
    #[arg(long, default_value_t = 0)]
    pub inventory_sims: u64,
    /// Numbers added to the sandbox tenant's pool before the run.
    #[arg(long, default_value_t = 0)]
    pub inventory_numbers: u64,
    /// The embedded store's page cache in MiB (`[store] cache_mib`; default that of the
    /// configuration, 256): most of the resident memory under a large inventory.
    #[arg(long)]
    pub cache_mib: Option<usize>,
    /// How long `POST /v1/activations` waits for the identity verifier before the create
    /// commit (`[identity] before_create_wait_ms`; default that of the configuration, 0:
    /// the engine asks after the commit). With `--policy cn`.
    #[arg(long)]
    pub before_create_wait_ms: Option<u64>,
    /// Seconds after the first POST to wait for every order to be terminal; then the ones
    /// still open are named and the run fails.
    #[arg(long, default_value_t = 600)]
    pub deadline_s: u64,
}

/// Which store the activation benchmark runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchStore {
    /// The embedded redb store only.
    Embedded,
    /// The embedded store, then PostgreSQL, side by side.
    Postgres,
}

/// `--port-market`: the markets `simgw bench --port-in` can port in.
fn port_market(s: &str) -> Result<crate::compliance::Market, String> {
    use crate::compliance::Market;
    match Market::parse(s) {
        Some(m @ (Market::Uk | Market::EuGeneric)) => Ok(m),
        _ => Err("uk or eu-generic".into()),
    }
}

/// A `--pg-set` value: `NAME=VALUE` with a setting's name; durability stays on.
fn pg_setting(s: &str) -> Result<String, String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: expected NAME=VALUE"))?;
    let name_ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.');
    if !name_ok || value.is_empty() {
        return Err(format!("`{s}`: expected NAME=VALUE with a setting's name"));
    }
    if matches!(name, "fsync" | "synchronous_commit" | "full_page_writes") {
        return Err(format!(
            "`{name}` stays on: the bench measures durable commits"
        ));
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::pg_setting;

    #[test]
    fn a_pg_setting_is_a_name_and_a_value_and_durability_stays_on() {
        assert_eq!(
            pg_setting("shared_buffers=32MB").as_deref(),
            Ok("shared_buffers=32MB")
        );
        assert_eq!(
            pg_setting("pg_stat_statements.max=10").as_deref(),
            Ok("pg_stat_statements.max=10")
        );
        for bad in [
            "shared_buffers",
            "=1",
            "shared_buffers=",
            "Shared=1",
            "a b=1",
        ] {
            assert!(pg_setting(bad).is_err(), "{bad} accepted");
        }
        for durability in [
            "fsync=off",
            "synchronous_commit=off",
            "full_page_writes=off",
        ] {
            let e = pg_setting(durability).expect_err(durability);
            assert!(e.contains("stays on"), "{e}");
        }
    }
}

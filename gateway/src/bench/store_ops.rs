//! `simgw bench --pool-numbers` and `--import-rows`: the store's own operations, without
//! the API (number allocation against a large pool, and SIM batch imports).

use super::report::pct;
use super::{BenchArgs, BenchError, err};
use crate::config::Config;
use std::sync::Arc;
use tokio::time::Instant;

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
pub(super) async fn run_pool(
    args: &BenchArgs,
    numbers: u64,
    dir: &std::path::Path,
) -> Result<(), BenchError> {
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
pub(super) async fn run_import(rows: u64, dir: &std::path::Path) -> Result<(), BenchError> {
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

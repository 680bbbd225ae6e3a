//! `--inventory-sims` and `--inventory-numbers`: a large inventory in the sandbox tenant
//! before the timed run, so peak memory and latency are measured against a store of a
//! carrier's size (1M SIMs, 10M numbers), not only the SIMs the run activates. The extra
//! SIMs are never activated (the run uses the sandbox's own list); the extra numbers join
//! the pool automatic allocation draws from.

use super::{BenchError, err};
use crate::admin::NewSim;
use crate::sandbox::{PLMN, Sandbox, TENANT};
use crate::store::AdminChange;
use sim_profiles::Iccid;
use tokio::time::Instant;

/// SIMs per commit: sealing and the commit's dirty pages stay small.
const SIM_CHUNK: u64 = 10_000;
/// Numbers per commit.
const NUMBER_CHUNK: u64 = 100_000;
/// The extra numbers' first MSISDN, clear of the sandbox's blocks (8617000…, 86171…).
const FIRST_NUMBER: u64 = 8_617_200_000_000;

/// The ICCID of the `i`th SIM [`fill`] adds.
pub(super) fn iccid(i: u64) -> Result<Iccid, BenchError> {
    Iccid::from_payload(&format!("898600991{i:010}")).map_err(err)
}

/// Adds `sims` SIMs and `numbers` numbers to the sandbox tenant, in chunks; prints the
/// time taken.
pub(super) async fn fill(sb: &Sandbox, sims: u64, numbers: u64) -> Result<(), BenchError> {
    if sims == 0 && numbers == 0 {
        return Ok(());
    }
    if sims > 1_000_000_000 || numbers > 1_000_000_000 {
        return Err(BenchError("inventory above 10^9 SIMs or numbers".into()));
    }
    let store = &*sb.gateway.store;
    let keys = &*sb.gateway.keys;
    let started = Instant::now();
    let mut done = 0;
    while done < sims {
        let n = SIM_CHUNK.min(sims - done);
        let mut chunk = Vec::with_capacity(n as usize);
        for i in done..done + n {
            // Own ICCID and IMSI ranges: `898600991…` and `<PLMN>8…` are never seeded (see `sandbox_markets::SEEDED`).
            let sim = NewSim {
                iccid: iccid(i)?,
                imsi: format!("{PLMN}8{i:09}").parse().map_err(err)?,
                ki: crate::sandbox::random_key(keys).map_err(err)?,
                opc: Some(crate::sandbox::random_key(keys).map_err(err)?),
            };
            chunk.push(crate::admin::seal_sim(keys, TENANT, "bench-inventory", &sim).map_err(err)?);
        }
        crate::admin::apply(store, AdminChange::AddSims(chunk))
            .await
            .map_err(err)?;
        done += n;
    }
    let sims_in = started.elapsed();
    let mut done = 0;
    while done < numbers {
        let n = NUMBER_CHUNK.min(numbers - done);
        let first = (FIRST_NUMBER + done).to_string().parse().map_err(err)?;
        crate::admin::apply(
            store,
            AdminChange::AddNumbers {
                tenant: TENANT.into(),
                block: "bench-inventory".into(),
                first,
                count: n,
            },
        )
        .await
        .map_err(err)?;
        done += n;
    }
    println!(
        "inventory: {sims} more SIMs in {:.1} s, {numbers} more numbers in {:.1} s (not timed)",
        sims_in.as_secs_f64(),
        (started.elapsed() - sims_in).as_secs_f64()
    );
    Ok(())
}

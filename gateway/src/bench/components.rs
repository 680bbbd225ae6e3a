//! `simgw bench --osmo-ops` and `--profiles`: one component at a time (the OsmoHLR CTRL
//! adapter against a real osmo-hlr, profile personalisation on one core).

use super::{BenchError, err};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Duration;
use tokio::time::Instant;

/// OsmoHLR mode: provision `ops` subscribers through the CTRL adapter against a real
/// osmo-hlr started on 127.0.0.250, first one at a time, then `concurrency` in flight over
/// the adapter's one pipelined connection.
pub(super) async fn run_osmo(ops: u32, concurrency: usize) -> Result<(), BenchError> {
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
pub(super) fn run_profiles(n: u32) -> Result<(), BenchError> {
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

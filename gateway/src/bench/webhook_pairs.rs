//! `simgw bench --webhook --pairs N`: the physical activations without a webhook endpoint
//! and with one, N times each, alternated (off then on, then on then off, …), every phase
//! on a fresh sandbox. A single pair moves by ±15 % on a shared machine; the median of
//! the N paired ratios is what the outbox costs. Each phase with the endpoint waits,
//! untimed, until its deliveries are all acknowledged, so none runs into the next phase.

use super::report::{Report, ratio};
use super::{
    BenchArgs, BenchError, prepare, record, run_activations, start_sandbox, stop_sandbox,
    webhook_label,
};

/// Every pair, then the median and the spread of the ratios.
pub(super) async fn side_by_side(
    args: &BenchArgs,
    pairs: u16,
    data_dir: &std::path::Path,
    report: &mut Report,
) -> Result<(), BenchError> {
    let mut ratios = Vec::with_capacity(usize::from(pairs));
    let mut first = true;
    for pair in 1..=pairs {
        let order = if pair % 2 == 1 {
            [false, true]
        } else {
            [true, false]
        };
        let mut rate = [0.0_f64; 2];
        for on in order {
            let phase_args = BenchArgs {
                webhook: on,
                ..args.clone()
            };
            let tag = if on { "webhook" } else { "plain" };
            println!("== pair {pair}/{pairs}: {}", webhook_label(on));
            let dir = data_dir.join(format!("pair{pair}-{tag}"));
            // The first phase of the run measures the baseline too.
            let (sb, client, seeded_in) = if std::mem::take(&mut first) {
                prepare(&phase_args, &dir, None, report).await?
            } else {
                let (sb, client, seeded_in, _) = start_sandbox(&phase_args, &dir, None).await?;
                (sb, client, seeded_in)
            };
            let r = run_activations(&phase_args, &sb, &client, seeded_in).await;
            stop_sandbox(sb).await;
            let (mut phase, settled) = r?;
            phase.name = format!("pair{pair}_{tag}");
            rate[usize::from(on)] = phase.per_s;
            record(report, phase, settled);
        }
        let r = ratio(rate[1], rate[0]);
        println!(
            "pair {pair}: with / without the endpoint = {:.0} / {:.0} activations/s = {r:.3}",
            rate[1], rate[0]
        );
        ratios.push(r);
    }
    let s = Spread::of(&ratios);
    println!(
        "webhook / none over {pairs} pairs: median {:.3} ({:+.1} %), mean {:.3}, from {:.3} to {:.3}",
        s.median,
        (s.median - 1.0) * 100.0,
        s.mean,
        s.min,
        s.max
    );
    Ok(())
}

/// Median, mean and range of a sample.
#[derive(Debug, PartialEq)]
struct Spread {
    median: f64,
    mean: f64,
    min: f64,
    max: f64,
}

impl Spread {
    fn of(values: &[f64]) -> Self {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n == 0 {
            return Self {
                median: 0.0,
                mean: 0.0,
                min: 0.0,
                max: 0.0,
            };
        }
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Self {
            median,
            mean: v.iter().sum::<f64>() / n as f64,
            min: v[0],
            max: v[n - 1],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Spread;
    use crate::bench::{BenchArgs, run};
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: BenchArgs,
    }

    /// Two pairs end to end: the flag needs `--webhook`; the phases alternate (off/on,
    /// on/off), each on its own sandbox, every order is active, and every phase with the
    /// endpoint drains its 2 deliveries per activation.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn pairs_alternate_on_fresh_sandboxes_and_every_delivery_arrives() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        let json = dir.path().join("bench.json");
        let parse = |extra: &[&str]| {
            let mut argv = vec!["bench", "--activations", "24", "--concurrency", "4"];
            argv.extend(["--baseline-requests", "50", "--cache-mib", "16"]);
            argv.extend(["--data-dir", data.to_str().expect("utf-8")]);
            argv.extend(["--json", json.to_str().expect("utf-8")]);
            argv.extend(extra);
            Cli::try_parse_from(argv).map(|c| c.args)
        };
        assert!(parse(&["--pairs", "2"]).is_err(), "--pairs needs --webhook");
        let args = parse(&["--webhook", "--pairs", "2"]).expect("arguments");
        run(args).await.expect("the paired benchmark");
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&json).expect("report")).expect("JSON");
        assert_eq!(v["mode"], "webhook_pairs");
        let phases = v["phases"].as_array().expect("phases");
        let names: Vec<_> = phases.iter().map(|p| p["name"].as_str()).collect();
        assert_eq!(
            names,
            [
                Some("pair1_plain"),
                Some("pair1_webhook"),
                Some("pair2_webhook"),
                Some("pair2_plain")
            ]
        );
        for p in phases {
            assert_eq!(p["succeeded"], 24, "{p}");
            let with_endpoint = p["name"].as_str().is_some_and(|n| n.ends_with("webhook"));
            assert_eq!(p["deliveries_drained_s"].is_f64(), with_endpoint, "{p}");
            assert_eq!(p["deliveries_in_phase"].is_u64(), with_endpoint, "{p}");
        }
        assert_eq!(
            (v["failed"].as_u64(), v["open"].as_u64()),
            (Some(0), Some(0))
        );
    }

    #[test]
    fn the_median_of_an_even_sample_is_the_mean_of_its_middle_two() {
        let s = Spread::of(&[0.9, 0.7, 1.1, 0.8]);
        assert!((s.median - 0.85).abs() < 1e-12, "{s:?}");
        assert!((s.mean - 0.875).abs() < 1e-12, "{s:?}");
        assert_eq!((s.min, s.max), (0.7, 1.1));
        assert_eq!(Spread::of(&[0.8, 0.95, 0.7]).median, 0.8);
        assert_eq!(Spread::of(&[]).median, 0.0);
    }
}

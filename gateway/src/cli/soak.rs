//! `simgw soak`: the fault soak and the crash loop (feature `sandbox`); see `crate::soak`.

use super::CliError;
use crate::soak::{FaultProfile, Options};
use std::path::PathBuf;
use std::time::Duration;

/// `simgw soak`.
#[derive(clap::Args)]
#[command(after_help = "\
What it proves: under the faults a host operator's peers really show (timeouts, busy \
and permanent faults, answers lost after the change was made, ES2+ notifications \
duplicated and out of order, porting hub messages duplicated and reordered), every \
order ends in a terminal state, `simgw reconcile` finds the HLR and SM-DP+ in agreement \
with the gateway, and no Idempotency-Key made two orders. With --crash-loop, the same \
holds when the gateway process is killed with SIGKILL at random moments and restarted \
on the same data dir.

With --target FILE, the same load and checks run against a deployment of your own: FILE \
is the `sandbox.json` its `simgw serve --sandbox` wrote (DATA_DIR/sandbox.json; relative \
paths in it are taken from FILE's directory). No sandbox is started and no data dir made; \
the faults are set through the simulators' admin APIs the file names, and every check goes \
over the wire: each order read back with GET /v1/orders/{id}, each key sent again, and the \
reconciliation of each tenant the file names through POST /v1/reconciliations with its \
operator key. The one check made only in process (the store holds no order the soak was \
not answered) is listed under `not checked`. The target needs the stock for --orders: \
about as many physical SIMs and as many eSIM profiles as orders, and twice as many numbers \
(`[sandbox] physical_sims`, `esim_profiles`, `numbers` in the config given to its `simgw \
serve --sandbox --config`); requests refused for want of stock fail the run under their \
own line, not as gateway defects. Each run uses stock: give a second run fresh stock (a \
new data dir) or fewer orders. The target should carry no other traffic meanwhile: the \
reconciliation compares every line of each tenant.

Exit status: 0 when every check passed, 1 otherwise (the report says which failed and \
the data dir is kept).

Examples:
  simgw soak --orders 2000 --faults standard
  simgw soak --orders 400 --faults standard --mix physical=1,esim=1,suspend=1
  simgw soak --orders 3000 --crash-loop 10 --json crash.json
  simgw soak --target staging/sandbox.json --orders 2000 --json staging-soak.json")]
pub(super) struct SoakArgs {
    /// Orders to send (each with its own Idempotency-Key); with --crash-loop, the most
    /// orders the load may send (it stops after the last kill).
    #[arg(long, default_value_t = 2_000)]
    orders: u64,
    /// What the simulators inject: `none`, or `standard` (10% timeouts, 5% transient
    /// faults, 2% permanent faults, 5% answers lost after the change was applied, ES2+
    /// notifications duplicated and reordered, hub messages duplicated and reordered,
    /// 2% of port-ins rejected by the donor).
    #[arg(long, value_enum, default_value_t = FaultProfile::Standard)]
    faults: FaultProfile,
    /// Seeds the kinds drawn, the lines picked, the customers' choices and the kill
    /// moments (the simulators' own fault draws are seeded apart).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Orders in flight at once (one HTTPS client each).
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Writes the report as JSON to FILE too.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Data directory, which must be empty or absent (default: a fresh directory under the
    /// system temp dir, removed after a run that passed).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Weights of the kinds instead of the default mix, e.g.
    /// `physical=30,esim=25,suspend=12,resume=8,terminate=5,sim_swap=8,number_change=8,port_in=4,cn_sale=3`
    /// (the default); kinds not named are not sent. Follow-ups (suspend, resume,
    /// terminate, sim_swap, number_change) work on lines the soak opened; while none
    /// fits, an activation goes instead.
    #[arg(long, value_name = "KIND=WEIGHT,…")]
    mix: Option<String>,
    /// Seconds the load may take, sending and waiting for its orders to end; orders
    /// still open then are named and the run fails.
    #[arg(long, default_value_t = 600)]
    deadline_s: u64,
    /// Runs the gateway as a child process (`simgw serve --sandbox` on the data dir, its
    /// stderr in DATA_DIR/gateway.log) and kills it with SIGKILL this many times at random
    /// moments under the load, restarting it on the same data dir each time.
    #[arg(long, value_name = "KILLS")]
    crash_loop: Option<u32>,
    /// Runs against the deployment FILE names (the `sandbox.json` of its `simgw serve
    /// --sandbox`) instead of a sandbox of its own; not with --crash-loop or --data-dir.
    #[arg(long, value_name = "FILE")]
    target: Option<PathBuf>,
}

/// Runs `simgw soak`: prints the report, writes `--json`, fails unless every check passed.
pub(super) async fn run(args: SoakArgs) -> Result<(), CliError> {
    let opts = Options {
        orders: args.orders,
        faults: args.faults,
        seed: args.seed,
        concurrency: args.concurrency,
        data_dir: args.data_dir,
        mix: args.mix,
        deadline: Duration::from_secs(args.deadline_s),
        crash_loop: args.crash_loop,
        target: args.target,
    };
    let report = crate::soak::run(&opts)
        .await
        .map_err(|e| CliError::Refused(e.to_string()))?;
    print!("{}", report.text());
    if let Some(path) = &args.json {
        std::fs::write(path, report.to_json()).map_err(|source| CliError::Io {
            path: path.clone(),
            source,
        })?;
    }
    if report.passed {
        Ok(())
    } else {
        Err(CliError::Refused(format!(
            "the soak failed: {}",
            report.failures.join("; ")
        )))
    }
}

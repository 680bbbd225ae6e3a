//! `simgw`: the SIM provisioning and eSIM activation gateway binary.

use clap::Parser;
use gateway::cli::{self, Cli};
use std::process::ExitCode;

/// jemalloc rather than the system's malloc: with glibc's, allocating and freeing took
/// about a sixth of a port-in's CPU; with jemalloc every `simgw bench` phase on the
/// embedded store runs faster, and its background threads hand freed memory back to the
/// system while the process idles (README, Benchmarks). Only the binary: the library and
/// its tests keep the default.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SIMGW_LOG")
                .unwrap_or_else(|_| cli.default_log_filter().into()),
        )
        .with_writer(std::io::stderr)
        // Colour codes are noise in a file or a pipe (journald, `2> log`).
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

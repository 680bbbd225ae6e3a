//! `simgw terminal pair|revoke`: store terminals of a running gateway, over its API (the
//! operator's key): a one-time pairing code for a registered terminal, or ending every
//! session of one.

use super::CliError;
use super::api_client::TargetArgs;
use clap::Subcommand;
use serde_json::json;

#[derive(Subcommand)]
pub(super) enum TerminalCommand {
    /// Print a one-time pairing code (10 minutes) for a registered terminal; type it on
    /// the terminal's page, `https://HOST/terminal/`.
    Pair(PairArgs),
    /// Sign every browser paired as this terminal out (it needs a new code to sell).
    Revoke(PairArgs),
}

#[derive(clap::Args)]
pub(super) struct PairArgs {
    /// The tenant.
    #[arg(long)]
    tenant: String,
    /// The registered store (`SZ-0042`).
    #[arg(long)]
    store: String,
    /// The registered terminal (`T7`).
    #[arg(long)]
    terminal: String,
    /// Where the gateway is (the key: an operator key of the tenant; from the sandbox
    /// file, the tenant's own).
    #[command(flatten)]
    target: TargetArgs,
}

pub(super) async fn run(command: TerminalCommand) -> Result<(), CliError> {
    let (args, pairing) = match command {
        TerminalCommand::Pair(a) => (a, true),
        TerminalCommand::Revoke(a) => (a, false),
    };
    let target = args.target.target_for(&args.tenant)?;
    let (path, body) = if pairing {
        (
            "/v1/terminal/pairings".to_owned(),
            Some(
                json!({"tenant": args.tenant, "store_id": args.store, "terminal_id": args.terminal}),
            ),
        )
    } else {
        (
            format!(
                "/v1/terminal/devices/{}/{}/revoke",
                args.store, args.terminal
            ),
            None,
        )
    };
    let (status, v) = target
        .send_json(http::Method::POST, &path, body.as_ref())
        .await?;
    if !(200..300).contains(&status) {
        return Err(CliError::Api {
            url: path,
            problem: format!(
                "HTTP {status}: {}",
                v["detail"].as_str().unwrap_or("no detail")
            ),
        });
    }
    if pairing {
        // The code alone on stdout, so `CODE=$(simgw terminal pair …)` works.
        println!("{}", v["code"].as_str().unwrap_or_default());
        eprintln!(
            "valid until {}, once; type it on https://HOST/terminal/ of {}/{}",
            v["expires_at"].as_str().unwrap_or("?"),
            args.store,
            args.terminal
        );
    } else {
        eprintln!("{}/{}: every session signed out", args.store, args.terminal);
    }
    Ok(())
}

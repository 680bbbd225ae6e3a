//! The `simgw` command line. Each command group is one module that owns its clap arguments
//! and its `run`; this module only names the groups and dispatches to them.

mod activation;
mod api_client;
mod apikey;
mod audit;
mod compliance;
mod db;
mod error;
mod inventory;
mod keys;
mod numbers;
mod offline;
mod profile;
mod progress;
mod reconcile;
#[cfg(feature = "sandbox")]
mod sandbox;
mod serve;
#[cfg(feature = "sandbox")]
mod soak;
mod tenant;
mod terminal;
mod webhooks;

pub use error::CliError;

use clap::{Parser, Subcommand};

/// The `simgw` command line as parsed from `argv`.
#[derive(Parser)]
#[command(
    name = "simgw",
    version,
    about = "SIM provisioning and eSIM activation gateway for MVNOs"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway (HTTPS API, order engine).
    Serve(serve::ServeArgs),
    /// Load test: activations against an in-process sandbox; prints throughput and latency.
    #[cfg(feature = "sandbox")]
    Bench(crate::bench::BenchArgs),
    /// Fault soak: mixed orders against an in-process sandbox whose simulators inject
    /// faults, then every order terminal, reconciliation clean and one order per
    /// Idempotency-Key; `--crash-loop K` SIGKILLs a child gateway K times under the load.
    #[cfg(feature = "sandbox")]
    Soak(soak::SoakArgs),
    /// Tenants (offline: stop `simgw serve` first).
    #[command(subcommand)]
    Tenant(tenant::TenantCommand),
    /// API keys (offline).
    #[command(subcommand)]
    Apikey(apikey::ApikeyCommand),
    /// Number pools (offline).
    #[command(subcommand)]
    Numbers(numbers::NumbersCommand),
    /// Data keys that encrypt secrets at rest (offline).
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// SIM inventory (offline).
    #[command(subcommand)]
    Inventory(inventory::InventoryCommand),
    /// eSIM profile packages (TCA interoperable format, DER).
    #[command(subcommand)]
    Profile(profile::ProfileCommand),
    /// Activations on a running gateway (over its API).
    #[command(subcommand)]
    Activation(activation::ActivationCommand),
    /// Store terminals of a running gateway (over its API): `pair` prints a one-time
    /// pairing code, `revoke` signs a terminal out.
    #[command(subcommand)]
    Terminal(terminal::TerminalCommand),
    /// Webhooks of a running gateway (`listen`: a local receiver for the sandbox).
    #[command(subcommand)]
    Webhooks(webhooks::WebhooksCommand),
    /// The tamper-evident audit chain: `verify` it, print its `anchor` (offline for the
    /// embedded store).
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// The compliance report from the audit chain, and the lawful export of one line's
    /// subscriber details (audited) (offline for the embedded store).
    #[command(subcommand)]
    Compliance(compliance::ComplianceCommand),
    /// Compares the gateway with the HLR (and SM-DP+ where readable); exits 0 only when
    /// they agree. `--repair [--apply]`: the safe fixes (offline for the embedded store).
    Reconcile(reconcile::ReconcileArgs),
    /// The PostgreSQL store's schema (`[store] backend = "postgres"`).
    #[command(subcommand)]
    Db(db::DbCommand),
    /// The sandbox's data (offline: stop `simgw serve` first).
    #[cfg(feature = "sandbox")]
    #[command(subcommand)]
    Sandbox(sandbox::SandboxCommand),
}

impl Cli {
    /// The log filter when `SIMGW_LOG` is unset: `info`, but `warn` for `simgw soak`,
    /// whose simulators would otherwise log every fault they inject.
    pub fn default_log_filter(&self) -> &'static str {
        #[cfg(feature = "sandbox")]
        if matches!(self.command, Command::Soak(_)) {
            return "warn";
        }
        "info"
    }
}

/// Runs the parsed command to completion; what it prints on success is its output.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Serve(args) => serve::run(args).await,
        #[cfg(feature = "sandbox")]
        Command::Bench(args) => Ok(crate::bench::run(args).await?),
        #[cfg(feature = "sandbox")]
        Command::Soak(args) => soak::run(args).await,
        Command::Tenant(c) => tenant::run(c).await,
        Command::Apikey(c) => apikey::run(c).await,
        Command::Numbers(c) => numbers::run(c).await,
        Command::Keys(c) => keys::run(c).await,
        Command::Inventory(c) => inventory::run(c).await,
        Command::Profile(c) => profile::run(c).await,
        Command::Activation(c) => activation::run(c).await,
        Command::Terminal(c) => terminal::run(c).await,
        Command::Webhooks(c) => webhooks::run(c).await,
        Command::Db(c) => db::run(c).await,
        Command::Reconcile(args) => reconcile::run(args).await,
        Command::Audit(c) => audit::run(c).await,
        Command::Compliance(c) => compliance::run(c).await,
        #[cfg(feature = "sandbox")]
        Command::Sandbox(c) => sandbox::run(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::Format;
    use clap::{CommandFactory, ValueEnum};

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn import_formats_parse_the_same_on_the_command_line_and_in_the_api() {
        for f in Format::value_variants() {
            assert_eq!(Format::parse(f.name()), Some(*f));
            assert_eq!(Format::from_str(f.name(), false), Ok(*f));
        }
        assert_eq!(Format::parse("xml"), None);
        assert!(Format::from_str("xml", false).is_err());
    }

    #[cfg(not(feature = "sandbox"))]
    #[tokio::test]
    async fn a_build_without_the_sandbox_refuses_serve_sandbox_before_touching_anything() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        let data = data.to_str().expect("utf-8 path");
        let cli = Cli::try_parse_from(["simgw", "serve", "--sandbox", "--data-dir", data])
            .expect("the flag is kept");
        assert!(matches!(run(cli).await, Err(CliError::SandboxNotBuilt)));
        assert!(!dir.path().join("data").exists());
        assert!(Cli::try_parse_from(["simgw", "bench"]).is_err());
    }
}

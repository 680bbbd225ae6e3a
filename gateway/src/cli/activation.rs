//! `simgw activation qr`: activations on a running gateway, over its API.

use super::CliError;
use super::api_client::{self, ApiTarget};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub(super) enum ActivationCommand {
    /// Print an eSIM order's activation code and its QR in the terminal.
    Qr(QrArgs),
}

#[derive(clap::Args)]
pub(super) struct QrArgs {
    /// The activation id (`act_…`).
    id: String,
    /// Take the API address, key and CA from this sandbox.json.
    #[arg(long, default_value = "data/sandbox.json")]
    sandbox_file: PathBuf,
    /// The gateway's base URL (instead of the sandbox file's).
    #[arg(long, env = "SIMGW_BASE_URL")]
    base_url: Option<String>,
    /// The API key (instead of the sandbox file's).
    #[arg(long, env = "SIMGW_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// A CA certificate to trust (instead of the sandbox file's).
    #[arg(long)]
    ca_cert: Option<PathBuf>,
}

pub(super) async fn run(command: ActivationCommand) -> Result<(), CliError> {
    match command {
        ActivationCommand::Qr(args) => {
            let target = ApiTarget::resolve(
                &args.sandbox_file,
                args.base_url,
                args.api_key,
                args.ca_cert,
            )?;
            print!("{}", api_client::activation_qr(&target, &args.id).await?);
            Ok(())
        }
    }
}

//! `simgw activation qr`: activations on a running gateway, over its API.

use super::CliError;
use super::api_client::{self, TargetArgs};
use clap::Subcommand;

#[derive(Subcommand)]
pub(super) enum ActivationCommand {
    /// Print an eSIM order's activation code and its QR in the terminal.
    Qr(QrArgs),
}

#[derive(clap::Args)]
pub(super) struct QrArgs {
    /// The activation id (`act_…`).
    id: String,
    #[command(flatten)]
    target: TargetArgs,
}

pub(super) async fn run(command: ActivationCommand) -> Result<(), CliError> {
    match command {
        ActivationCommand::Qr(args) => {
            let target = args.target.target()?;
            print!("{}", api_client::activation_qr(&target, &args.id).await?);
            Ok(())
        }
    }
}

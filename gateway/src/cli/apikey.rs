//! `simgw apikey create`: issues an API key with a role offline; it is printed once and
//! stored only as a hash.

use super::CliError;
use super::offline::{self, StoreArgs};
use crate::admin;
use crate::app;
use crate::clock::Clock;
use crate::store::Role;
use clap::Subcommand;

#[derive(Subcommand)]
pub(super) enum ApikeyCommand {
    /// Issue an API key; it is printed once and stored only as a hash.
    Create(CreateArgs),
}

#[derive(clap::Args)]
pub(super) struct CreateArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The tenant the key acts for.
    #[arg(long)]
    tenant: String,
    /// Free-text label (which channel holds the key).
    #[arg(long, default_value = "")]
    label: String,
    /// What the key may do: `channel` (activations, number reservations, reads),
    /// `operator` (also imports, quarantine, lifecycle, webhooks) or `readonly`.
    #[arg(long, default_value = "channel")]
    role: Role,
}

pub(super) async fn run(command: ApikeyCommand) -> Result<(), CliError> {
    match command {
        ApikeyCommand::Create(args) => {
            let key = create(&args).await?;
            // The key alone on stdout, so `KEY=$(simgw apikey create …)` works.
            println!("{key}");
            eprintln!(
                "role: {}; this key is shown once; only its hash is stored",
                args.role
            );
            Ok(())
        }
    }
}

async fn create(args: &CreateArgs) -> Result<String, CliError> {
    let config = args.store.load()?;
    let tenant = &args.tenant;
    let keys = app::keyring(&config)?;
    let store = offline::open(&config)?;
    let result = async {
        if store.tenant(tenant).await?.is_none() {
            return Err(CliError::NotFound(format!(
                "tenant `{tenant}` does not exist; create it with `simgw tenant put`"
            )));
        }
        let (key, change) =
            admin::new_api_key(&keys, tenant, args.role, &args.label, Clock::new().now_ms())
                .map_err(admin::AdminError::from)?;
        admin::apply(&*store, change).await?;
        Ok(key)
    }
    .await;
    store.close().await;
    result
}

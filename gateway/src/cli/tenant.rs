//! `simgw tenant put`: creates or replaces a tenant (an MVNO brand), offline.

use super::CliError;
use super::offline::{self, StoreArgs};
use crate::admin;
use crate::numbers::{GoldenRule, NumberPolicy};
use crate::store::{AdminChange, Product, Tenant};
use clap::Subcommand;
use std::collections::BTreeMap;

#[derive(Subcommand)]
pub(super) enum TenantCommand {
    /// Create or replace a tenant (an MVNO brand).
    Put(PutArgs),
}

// The command line's names for `NumberPolicy`, mapped once below.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Policy {
    Random,
    Sequential,
}

impl From<Policy> for NumberPolicy {
    fn from(p: Policy) -> Self {
        match p {
            Policy::Random => Self::Random,
            Policy::Sequential => Self::Sequential,
        }
    }
}

#[derive(clap::Args)]
pub(super) struct PutArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Tenant id (letters, digits, `-`, `_`).
    #[arg(long)]
    id: String,
    /// Display name.
    #[arg(long)]
    name: String,
    /// Home PLMN of the tenant's IMSIs, e.g. 46011.
    #[arg(long)]
    plmn: String,
    /// A product and its HLR profile id, `CODE=PROFILE_ID`, plus `:ESIM_PROFILE_TYPE`
    /// if it is also sold as an eSIM; repeatable.
    #[arg(long = "product")]
    products: Vec<String>,
    /// eSIM orders carry a confirmation code the customer types on the device.
    #[arg(long)]
    esim_confirmation_code: bool,
    /// Store clerks may pick golden numbers on the store terminal (they are listed, marked,
    /// either way).
    #[arg(long)]
    golden_in_store: bool,
    /// Automatic number assignment: `random` (default) or `sequential`.
    #[arg(long, value_enum, default_value_t = Policy::Random)]
    number_policy: Policy,
    /// A golden-number rule (`repeat:4`, `sequence:4`, `pairs:2`, `tail:888`); repeatable.
    /// Given rules replace the defaults (repeat:4, sequence:4, pairs:2).
    #[arg(long = "golden")]
    golden: Vec<String>,
    /// Days a released number ages before reuse (default 90).
    #[arg(long)]
    quarantine_days: Option<u32>,
    /// Flag low stock in /metrics when available SIMs or numbers fall below this.
    #[arg(long)]
    low_stock: Option<u64>,
    /// A per-pool low-stock threshold `BLOCK=N` (overrides --low-stock for that pool); repeatable.
    #[arg(long = "pool-low-stock")]
    pool_low_stock: Vec<String>,
    /// The market whose real-name and anti-fraud rules apply: `cn`, `uk`, `us`, `eu-fr`
    /// or `eu-generic` (README, Compliance). Without it, the tenant keeps the permissive
    /// rules every tenant had before.
    #[arg(long)]
    market: Option<String>,
    /// The licence holder the tenant (a brand) belongs to: the per-ID line limit, the ID's
    /// velocity and the blocklists span every tenant of it. Default: the tenant itself.
    #[arg(long)]
    enterprise: Option<String>,
    /// A TOML file of compliance settings over the market's defaults (README, Compliance).
    #[arg(long, requires = "market")]
    compliance: Option<std::path::PathBuf>,
}

pub(super) async fn run(command: TenantCommand) -> Result<(), CliError> {
    match command {
        TenantCommand::Put(args) => {
            put(&args).await?;
            println!("tenant `{}` saved", args.id);
            Ok(())
        }
    }
}

/// Products are `CODE=HLR_PROFILE_ID`, or `CODE=HLR_PROFILE_ID:ESIM_PROFILE_TYPE` for a
/// product also sold as an eSIM.
async fn put(args: &PutArgs) -> Result<(), CliError> {
    let config = args.store.load()?;
    let id = &args.id;
    if id.is_empty()
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(CliError::Usage(
            "--id must be non-empty ASCII letters, digits, `-` or `_`".into(),
        ));
    }
    let plmn = args.plmn.parse().map_err(|e| CliError::arg("--plmn", e))?;
    let mut map = BTreeMap::new();
    for p in &args.products {
        let bad = |problem| CliError::arg(format!("--product `{p}`"), problem);
        let (code, profile) = p
            .split_once('=')
            .ok_or_else(|| bad("expected CODE=HLR_PROFILE_ID[:ESIM_PROFILE_TYPE]"))?;
        let (profile, esim) = match profile.split_once(':') {
            Some((id, t)) if !t.is_empty() => (id, Some(t)),
            Some(_) => return Err(bad("the eSIM profile type after `:` is empty")),
            None => (profile, None),
        };
        let hlr_profile_id = profile
            .parse()
            .map_err(|_| bad("the HLR profile id must be a number"))?;
        let mut product = Product::new(hlr_profile_id);
        if let Some(t) = esim {
            product = product.with_esim(t);
        }
        map.insert(code.to_owned(), product);
    }
    let mut tenant = Tenant::new(id, &args.name, plmn, map);
    tenant.number_policy = args.number_policy.into();
    if !args.golden.is_empty() {
        tenant.golden_rules = args
            .golden
            .iter()
            .map(|g| GoldenRule::parse(g))
            .collect::<Result<_, _>>()
            .map_err(CliError::Usage)?;
    }
    if let Some(days) = args.quarantine_days {
        tenant.quarantine_days = days;
    }
    tenant.low_stock_threshold = args.low_stock;
    tenant.esim_confirmation_code = args.esim_confirmation_code;
    tenant.golden_in_store = args.golden_in_store;
    for p in &args.pool_low_stock {
        let bad = |problem| CliError::arg(format!("--pool-low-stock `{p}`"), problem);
        let (block, n) = p.split_once('=').ok_or_else(|| bad("expected BLOCK=N"))?;
        let n = n.parse().map_err(|_| bad("N must be a number"))?;
        tenant.pool_low_stock.insert(block.to_owned(), n);
    }
    if let Some(m) = &args.market {
        tenant.market = Some(crate::compliance::Market::parse(m).ok_or_else(|| {
            CliError::arg(
                "--market",
                "expected `cn`, `uk`, `us`, `eu-fr` or `eu-generic`",
            )
        })?);
    }
    if let Some(e) = &args.enterprise {
        if e.is_empty()
            || e.len() > 64
            || !e
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(CliError::arg(
                "--enterprise",
                "expected 1 to 64 ASCII letters, digits, `-` or `_`",
            ));
        }
        tenant.enterprise = Some(e.clone());
    }
    if let Some(path) = &args.compliance {
        let bad =
            |problem: String| CliError::arg(format!("--compliance {}", path.display()), problem);
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        let o: crate::compliance::PolicyOverride =
            toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
        tenant.compliance = Some(Box::new(o));
    }
    // A setting out of range is refused here, not at the first order.
    tenant
        .policy()
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let store = offline::open(&config).await?;
    let result = admin::apply(&*store, AdminChange::PutTenant(tenant)).await;
    store.close().await;
    Ok(result?)
}

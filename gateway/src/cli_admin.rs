//! Offline administration commands (`simgw tenant|apikey|numbers ...`): they open the store
//! directly, so they run while no `simgw serve` holds the data dir.

use crate::admin;
use crate::app::{self, StartError};
use crate::clock::Clock;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::numbers::{GoldenRule, NumberPolicy};
use crate::store::embedded::RedbStore;
use crate::store::{AdminChange, Product, Store, Tenant};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Why an admin command failed; the message says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Start-up of the store or keys failed.
    #[error("{0}")]
    Start(#[from] StartError),
    /// The change was refused or failed.
    #[error("{0}")]
    Admin(#[from] admin::AdminError),
    /// An argument is invalid.
    #[error("{0}")]
    Usage(String),
}

fn open(config: &Config) -> Result<RedbStore, CliError> {
    app::open_store(config, Arc::new(Metrics::default())).map_err(|e| match e {
        StartError::Store(s) if s.to_string().contains("already open") => CliError::Usage(format!(
            "the data dir {} is in use by a running simgw; stop it first (admin commands work offline)",
            config.data_dir.display()
        )),
        other => CliError::Start(other),
    })
}

/// A tenant's number-pool settings from the command line.
#[derive(Debug, Clone, Default)]
pub struct PoolArgs {
    /// Automatic assignment policy.
    pub policy: NumberPolicy,
    /// Golden rules (`repeat:4`, ...); empty keeps the defaults.
    pub golden: Vec<String>,
    /// Quarantine length in days; `None` keeps 90.
    pub quarantine_days: Option<u32>,
    /// Low-stock alert threshold.
    pub low_stock: Option<u64>,
    /// Per-pool thresholds, `BLOCK=N`.
    pub pool_low_stock: Vec<String>,
    /// eSIM orders carry a confirmation code.
    pub esim_confirmation_code: bool,
}

/// Creates or replaces a tenant. `products` are `CODE=HLR_PROFILE_ID`, or
/// `CODE=HLR_PROFILE_ID:ESIM_PROFILE_TYPE` for a product also sold as an eSIM.
pub async fn tenant_put(
    config: &Config,
    id: &str,
    name: &str,
    plmn: &str,
    products: &[String],
    pool: &PoolArgs,
) -> Result<(), CliError> {
    if id.is_empty()
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(CliError::Usage(
            "--id must be non-empty ASCII letters, digits, `-` or `_`".into(),
        ));
    }
    let plmn = plmn
        .parse()
        .map_err(|e| CliError::Usage(format!("--plmn: {e}")))?;
    let mut map = BTreeMap::new();
    for p in products {
        let (code, profile) = p.split_once('=').ok_or_else(|| {
            CliError::Usage(format!(
                "--product `{p}`: expected CODE=HLR_PROFILE_ID[:ESIM_PROFILE_TYPE]"
            ))
        })?;
        let (profile, esim) = match profile.split_once(':') {
            Some((id, t)) if !t.is_empty() => (id, Some(t)),
            Some(_) => {
                return Err(CliError::Usage(format!(
                    "--product `{p}`: the eSIM profile type after `:` is empty"
                )));
            }
            None => (profile, None),
        };
        let hlr_profile_id = profile.parse().map_err(|_| {
            CliError::Usage(format!(
                "--product `{p}`: the HLR profile id must be a number"
            ))
        })?;
        let mut product = Product::new(hlr_profile_id);
        if let Some(t) = esim {
            product = product.with_esim(t);
        }
        map.insert(code.to_owned(), product);
    }
    let mut tenant = Tenant::new(id, name, plmn, map);
    tenant.number_policy = pool.policy;
    if !pool.golden.is_empty() {
        tenant.golden_rules = pool
            .golden
            .iter()
            .map(|g| GoldenRule::parse(g))
            .collect::<Result<_, _>>()
            .map_err(CliError::Usage)?;
    }
    if let Some(days) = pool.quarantine_days {
        tenant.quarantine_days = days;
    }
    tenant.low_stock_threshold = pool.low_stock;
    tenant.esim_confirmation_code = pool.esim_confirmation_code;
    for p in &pool.pool_low_stock {
        let (block, n) = p
            .split_once('=')
            .ok_or_else(|| CliError::Usage(format!("--pool-low-stock `{p}`: expected BLOCK=N")))?;
        let n = n
            .parse()
            .map_err(|_| CliError::Usage(format!("--pool-low-stock `{p}`: N must be a number")))?;
        tenant.pool_low_stock.insert(block.to_owned(), n);
    }
    let store = open(config)?;
    let result = admin::apply(&store, AdminChange::PutTenant(tenant)).await;
    store.close();
    Ok(result?)
}

/// Issues an API key for a tenant and returns it (shown once, stored only as a hash).
pub async fn apikey_create(config: &Config, tenant: &str, label: &str) -> Result<String, CliError> {
    let keys = app::keyring(config)?;
    let store = open(config)?;
    let result = async {
        if store
            .tenant(tenant)
            .map_err(admin::AdminError::from)?
            .is_none()
        {
            return Err(CliError::Usage(format!(
                "tenant `{tenant}` does not exist; create it with `simgw tenant put`"
            )));
        }
        let (key, change) = admin::new_api_key(&keys, tenant, label, Clock::new().now_ms())
            .map_err(admin::AdminError::from)?;
        admin::apply(&store, change).await?;
        Ok(key)
    }
    .await;
    store.close();
    result
}

/// Numbers per committed chunk when adding a block.
const NUMBER_CHUNK: u64 = 100_000;

/// Adds a block of consecutive numbers to a tenant's pool, in atomic chunks. A chunk is
/// all in or absent, so re-running after an interruption skips the chunks already in
/// (same block label) and adds the rest.
pub async fn numbers_add(
    config: &Config,
    tenant: &str,
    block: &str,
    first: &str,
    count: u64,
) -> Result<String, CliError> {
    let first: sim_profiles::Msisdn = first
        .parse()
        .map_err(|e| CliError::Usage(format!("--first: {e}")))?;
    if count == 0 || count > 100_000_000 {
        return Err(CliError::Usage(
            "--count must be between 1 and 100000000".into(),
        ));
    }
    let start: u64 = first
        .as_str()
        .parse()
        .map_err(|_| CliError::Usage("--first must be digits".into()))?;
    let width = first.as_str().len();
    let store = open(config)?;
    let result = async {
        // The block's identity (label → first number and size) makes a re-run a resume and
        // any other use of the label an error.
        let marker_key = format!("block:{tenant}:{block}");
        let marker = format!("{}:{count}", first.as_str()).into_bytes();
        match store.meta(&marker_key).map_err(admin::AdminError::from)? {
            Some(m) if m == marker => {}
            Some(_) => {
                return Err(CliError::Usage(format!("block `{block}` of `{tenant}` was added with another range; choose another --block label")));
            }
            None => {
                if let Some(b) = store.number_block(first.as_str()).map_err(admin::AdminError::from)? {
                    return Err(CliError::Usage(format!("number {} is already in block `{b}`", first.as_str())));
                }
                admin::apply(&store, AdminChange::PutMeta { key: marker_key, value: marker }).await?;
            }
        }
        let (mut added, mut skipped) = (0u64, 0u64);
        let mut offset = 0u64;
        while offset < count {
            let n = NUMBER_CHUNK.min(count - offset);
            let chunk_first = format!("{:0width$}", start + offset);
            match store.number_block(&chunk_first).map_err(admin::AdminError::from)? {
                Some(b) if b == block => skipped += n,
                _ => {
                    let first = chunk_first
                        .parse()
                        .map_err(|e| CliError::Usage(format!("block: {e}")))?;
                    let change = AdminChange::AddNumbers {
                        tenant: tenant.to_owned(),
                        block: block.to_owned(),
                        first,
                        count: n,
                    };
                    admin::apply(&store, change).await?;
                    added += n;
                }
            }
            offset += n;
        }
        Ok::<_, CliError>((added, skipped))
    }
    .await;
    store.close();
    let (added, skipped) = result?;
    Ok(if skipped == 0 {
        format!("{added} numbers added to `{tenant}` (block `{block}`)")
    } else {
        format!(
            "{added} numbers added to `{tenant}` (block `{block}`); {skipped} were already in from an earlier run"
        )
    })
}

/// `simgw keys rotate`: adds a new data key (unless `resume`) and re-seals every secret
/// under it, committing chunk by chunk; an interrupted run is finished with `--resume`.
pub fn keys_rotate(config: &Config, resume: bool) -> Result<String, CliError> {
    let path = app::key_path(config);
    // Open the store first so a running server (which holds it) is refused before any change.
    let store = open(config)?;
    let result = (|| {
        if !resume {
            crate::crypto::Keyring::add_key(&path).map_err(|e| CliError::Start(e.into()))?;
        }
        let keys = app::keyring(config)?;
        let report = store
            .rewrap(&keys, 1_000, None)
            .map_err(|e| CliError::Start(e.into()))?;
        Ok(format!(
            "{} secrets re-sealed under data key {} in {} commits",
            report.resealed,
            keys.current_id(),
            report.chunks
        ))
    })();
    store.close();
    result
}

/// `simgw keys status`: sealed values per data-key id.
pub fn keys_status(config: &Config) -> Result<String, CliError> {
    let keys = app::keyring(config)?;
    let store = open(config)?;
    let usage = store
        .sealed_key_usage()
        .map_err(|e| CliError::Start(e.into()));
    store.close();
    let mut out = format!("current data key: {}\n", keys.current_id());
    for (kid, n) in usage? {
        out.push_str(&format!("{kid}: {n} sealed values\n"));
    }
    Ok(out)
}

/// The optional settings of `simgw inventory import`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions<'a> {
    /// The cards are eSIM profiles held at the SM-DP+ under this profile type.
    pub esim_profile_type: Option<&'a str>,
    /// The issuer's ICCID length (19 or 20), when the file alone cannot tell.
    pub iccid_length: Option<usize>,
    /// Where to write every rejected line (CSV for `.csv`, JSON lines otherwise).
    pub rejects: Option<&'a std::path::Path>,
}

/// `simgw inventory import`: imports a vendor file whole or not at all, streaming it from
/// disk. Returns the summary line; a refusal shows the first rejected lines and the count
/// per reason, and `--rejects FILE` gets all of them.
pub fn inventory_import(
    config: &Config,
    tenant: &str,
    format: &str,
    file: &std::path::Path,
    options: &ImportOptions<'_>,
) -> Result<String, CliError> {
    use crate::import::{self, Format, ImportError, Imported};
    use std::io::{IsTerminal, Write};
    let format = Format::parse(format)
        .ok_or_else(|| CliError::Usage("--format must be vendor-out or csv".into()))?;
    if !file.is_file() {
        return Err(CliError::Usage(format!("{}: no such file", file.display())));
    }
    // Created before anything changes, so an unwritable path fails first; left empty
    // unless lines are rejected, so it never shows an earlier run's list.
    let mut rejects_out = options
        .rejects
        .map(|path| {
            std::fs::File::create(path)
                .map(|f| (path, std::io::BufWriter::new(f)))
                .map_err(|e| CliError::Usage(format!("--rejects {}: {e}", path.display())))
        })
        .transpose()?;
    let keys = app::keyring(config)?;
    let store = open(config)?;
    let tty = std::io::stderr().is_terminal();
    let mut last_pct = u64::MAX;
    let progress = |done: u64, total: u64| {
        let pct = done * 100 / total.max(1);
        if pct == last_pct {
            return;
        }
        if tty {
            let bar = "#".repeat((pct / 4) as usize);
            eprint!("\r[{bar:<25}] {pct:>3}%");
            if done >= total {
                eprintln!();
            }
        } else if pct / 10 != last_pct / 10 || done >= total {
            eprintln!("import: {pct}% of the file read");
        }
        let _ = std::io::stderr().flush();
        last_pct = pct;
    };
    let result = store
        .recover_imports()
        .map_err(ImportError::from)
        .and_then(|_| {
            import::import_file(
                &store,
                &keys,
                config,
                &import::FileJob {
                    tenant,
                    format,
                    path: file,
                    esim_profile_type: options.esim_profile_type,
                    iccid_length: options.iccid_length,
                },
                progress,
            )
        });
    store.close();
    match result {
        Ok(Imported::Loaded(b)) => Ok(format!(
            "imported {} cards into `{tenant}` as batch {} (sha256 {})",
            b.cards, b.id, b.file_sha256
        )),
        Ok(Imported::AlreadyImported(b)) => Ok(format!(
            "already imported as batch {} ({} cards); nothing changed",
            b.id, b.cards
        )),
        Err(ImportError::Rejected(rejects)) => {
            let mut written = None;
            if let Some((path, out)) = &mut rejects_out {
                let format = import::report::ListFormat::for_path(path);
                import::report::write_list(out, format, &rejects).map_err(|e| {
                    CliError::Usage(format!(
                        "nothing was imported: {} line(s) rejected, and writing them to {} failed: {e}",
                        rejects.len(),
                        path.display()
                    ))
                })?;
                written = Some(*path);
            }
            Err(CliError::Usage(import::report::summary(&rejects, written)))
        }
        Err(e) => Err(CliError::Usage(format!("nothing was imported: {e}"))),
    }
}

/// `simgw inventory status --tenant T`: counts overall, per pool and per batch, as JSON.
pub fn inventory_status(config: &Config, tenant: &str) -> Result<String, CliError> {
    let store = open(config)?;
    let result = (|| {
        let counts = store.inventory_counts(tenant)?;
        let breakdown = store.inventory_breakdown(tenant)?;
        Ok::<_, crate::store::StoreError>(serde_json::json!({"tenant": tenant, "counts": counts, "pools": breakdown.pools, "batches": breakdown.batches}))
    })()
    .map_err(admin::AdminError::from);
    store.close();
    Ok(serde_json::to_string_pretty(&result?).unwrap_or_default())
}

/// `simgw inventory lookup --iccid I | --imsi M`: one SIM without keys, as JSON.
pub fn inventory_lookup(
    config: &Config,
    iccid: Option<&str>,
    imsi: Option<&str>,
) -> Result<String, CliError> {
    let store = open(config)?;
    let result = (|| -> Result<Option<crate::store::SimRecord>, CliError> {
        match (iccid, imsi) {
            (Some(i), None) => Ok(store
                .get_sim(
                    &i.parse()
                        .map_err(|e| CliError::Usage(format!("--iccid: {e}")))?,
                )
                .map_err(admin::AdminError::from)?),
            (None, Some(m)) => Ok(store
                .sim_by_imsi(
                    &m.parse()
                        .map_err(|e| CliError::Usage(format!("--imsi: {e}")))?,
                )
                .map_err(admin::AdminError::from)?),
            _ => Err(CliError::Usage(
                "give exactly one of --iccid or --imsi".into(),
            )),
        }
    })();
    store.close();
    let sim = result?.ok_or_else(|| CliError::Usage("no such SIM in inventory".into()))?;
    let (state, order) = sim.state.label();
    let v = serde_json::json!({"iccid": sim.iccid, "imsi": sim.imsi, "tenant": sim.tenant, "state": state, "activation_id": order, "batch": sim.batch, "key_id": sim.ki.kid});
    Ok(serde_json::to_string_pretty(&v).unwrap_or_default())
}

/// `simgw inventory export --batch ID`: the state of each card of a batch as CSV (no keys).
pub fn inventory_export(config: &Config, batch: &str) -> Result<String, CliError> {
    let store = open(config)?;
    let result = admin::batch_csv(&store, batch);
    let known = store.batch(batch).map_err(admin::AdminError::from);
    store.close();
    if known?.is_none() {
        return Err(CliError::Usage(format!("no batch `{batch}`")));
    }
    Ok(result.map_err(admin::AdminError::from)?)
}

/// `simgw numbers quarantine --tenant T`: quarantined numbers and when they return.
pub fn numbers_quarantine(config: &Config, tenant: &str) -> Result<String, CliError> {
    let store = open(config)?;
    let list = store
        .quarantined(tenant, usize::MAX)
        .map_err(admin::AdminError::from);
    store.close();
    let mut out = String::new();
    for (m, until) in list? {
        out.push_str(&format!("{m} {}\n", crate::clock::rfc3339(until)));
    }
    Ok(out)
}

/// `simgw numbers release --tenant T --msisdn M`: ends a quarantine early.
pub async fn numbers_release(
    config: &Config,
    tenant: &str,
    msisdn: &str,
) -> Result<String, CliError> {
    let m = msisdn
        .parse()
        .map_err(|e| CliError::Usage(format!("--msisdn: {e}")))?;
    let store = open(config)?;
    let released = store
        .release_quarantine(tenant, &m)
        .await
        .map_err(admin::AdminError::from);
    store.close();
    if released? {
        Ok(format!("{msisdn} is available again"))
    } else {
        Err(CliError::Usage(format!(
            "{msisdn} is not in `{tenant}`'s quarantine"
        )))
    }
}

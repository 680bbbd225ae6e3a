//! `simgw profile inspect|validate|build|build-batch`: eSIM profile packages (TCA
//! interoperable format, DER) from files. Keys are masked unless asked for, and given keys
//! live only in zeroised memory until they are encoded into the output.

use super::CliError;
use super::offline::{self, StoreArgs};
use crate::import::Format;
use clap::Subcommand;
use sim_profiles::Key128;
use sim_profiles::profile::{self, Acc, AkaAlgorithm, Package, Personalisation, ProfileElement};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub(super) enum ProfileCommand {
    /// Print the element tree with readable field names (keys and PINs masked).
    Inspect(InspectArgs),
    /// Check structure: header first, End last, ICCID consistent, IMSI digits, key lengths,
    /// ordering, mandatory services and files. Exit 0 only if clean.
    Validate(ValidateArgs),
    /// Personalise a template (a DER file, or `builtin`); with only --template and --out it
    /// re-encodes the template byte-identically.
    Build(BuildArgs),
    /// Personalise one package per card, `<ICCID>.der` in --out-dir, streamed: from a vendor
    /// batch file (--file, --format) or from a batch in the store (--tenant, --batch).
    BuildBatch(BuildBatchArgs),
}

/// `--algorithm`: the AKA algorithm every AKA parameter is switched to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum AlgorithmArg {
    /// Milenage (algorithmID 1), what production HLRs run.
    Milenage,
    /// The USIM test algorithm (algorithmID 3), for lab test equipment only.
    Test,
    /// TUAK (algorithmID 2); needs a TUAK template (its TOPc is 256 bits).
    Tuak,
}

impl From<AlgorithmArg> for AkaAlgorithm {
    fn from(a: AlgorithmArg) -> Self {
        match a {
            AlgorithmArg::Milenage => Self::Milenage,
            AlgorithmArg::Test => Self::Test,
            AlgorithmArg::Tuak => Self::Tuak,
        }
    }
}

#[derive(clap::Args)]
pub(super) struct InspectArgs {
    /// The package (DER).
    file: PathBuf,
    /// Show keys and PINs in clear.
    #[arg(long)]
    show_secrets: bool,
}

#[derive(clap::Args)]
pub(super) struct ValidateArgs {
    /// The package (DER).
    file: PathBuf,
}

#[derive(clap::Args)]
pub(super) struct BuildArgs {
    /// Template package (DER file path, or `builtin`).
    #[arg(long)]
    template: String,
    /// ICCID for the header and EF.ICCID.
    #[arg(long)]
    iccid: Option<String>,
    /// IMSI for EF.IMSI; also sets EF.ACC to the access class of its last digit.
    #[arg(long)]
    imsi: Option<String>,
    /// EF.ACC as 4 hex digits (e.g. 0080 for access class 7), instead of the IMSI's.
    #[arg(long, value_name = "HEX")]
    acc: Option<String>,
    /// K (32 hex).
    #[arg(long)]
    ki: Option<String>,
    /// OPc (32 hex).
    #[arg(long)]
    opc: Option<String>,
    /// Switch every AKA parameter to this algorithm (K and OPc are written whatever
    /// the algorithm).
    #[arg(long, value_enum)]
    algorithm: Option<AlgorithmArg>,
    /// PIN1.
    #[arg(long)]
    pin1: Option<String>,
    /// PUK1.
    #[arg(long)]
    puk1: Option<String>,
    /// Write the package even if an AKA parameter keeps a well-known test K (all zeros,
    /// 000102…0f, 3GPP test sets): for lab profiles only.
    #[arg(long)]
    allow_test_keys: bool,
    /// Output file (written 0600).
    #[arg(long)]
    out: PathBuf,
}

#[derive(clap::Args)]
pub(super) struct BuildBatchArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Template package (DER file path, or `builtin`).
    #[arg(long)]
    template: String,
    /// A vendor batch file.
    #[arg(long)]
    file: Option<PathBuf>,
    /// Its format: `vendor-out` or `csv`.
    #[arg(long, value_enum, default_value_t = Format::VendorOut)]
    format: Format,
    /// Tenant of a stored batch.
    #[arg(long)]
    tenant: Option<String>,
    /// Stored batch id (`bat_…`); keys are opened only as each profile is encoded.
    #[arg(long)]
    batch: Option<String>,
    /// Write packages even if an AKA parameter keeps a well-known test K.
    #[arg(long)]
    allow_test_keys: bool,
    /// Switch every AKA parameter to this algorithm.
    #[arg(long, value_enum)]
    algorithm: Option<AlgorithmArg>,
    /// Output directory.
    #[arg(long)]
    out_dir: PathBuf,
}

pub(super) async fn run(command: ProfileCommand) -> Result<(), CliError> {
    match command {
        ProfileCommand::Inspect(args) => {
            print!(
                "{}",
                profile::inspect(&read(&args.file)?, args.show_secrets)
            );
        }
        ProfileCommand::Validate(args) => println!("{}", validate(&args.file)?),
        ProfileCommand::Build(args) => println!("{}", build(&args)?),
        ProfileCommand::BuildBatch(args) => {
            let cfg = args.store.load()?;
            let source = match (&args.file, &args.tenant, &args.batch) {
                (Some(path), None, None) => BatchSource::File {
                    path,
                    format: args.format,
                },
                (None, Some(tenant), Some(batch)) => BatchSource::Store { tenant, batch },
                _ => {
                    return Err(CliError::Usage(
                        "give either --file (with --format) or --tenant and --batch".into(),
                    ));
                }
            };
            let opts = BatchOptions {
                allow_test_keys: args.allow_test_keys,
                algorithm: args.algorithm.map(Into::into),
            };
            let n = build_batch(&cfg, &args.template, source, opts, &args.out_dir).await?;
            println!("wrote {n} profile packages to {}", args.out_dir.display());
        }
    }
    Ok(())
}

fn read(path: &Path) -> Result<Package, CliError> {
    let bytes = std::fs::read(path).map_err(CliError::io(path))?;
    Package::decode(&bytes).map_err(|source| CliError::NotAPackage {
        path: path.to_owned(),
        source,
    })
}

/// A summary if clean, else a refusal listing every finding.
fn validate(file: &Path) -> Result<String, CliError> {
    let p = read(file)?;
    let findings = profile::validate(&p);
    if findings.is_empty() {
        return Ok(format!(
            "{}: valid ({} profile elements)",
            file.display(),
            p.elements().len()
        ));
    }
    let mut msg = format!("{}: {} problem(s):", file.display(), findings.len());
    for f in &findings {
        msg.push_str(&format!("\n  {f}"));
    }
    Err(CliError::Refused(msg))
}

/// An optional flag's value parsed, or an error that names the flag.
fn parsed<T>(name: &str, value: Option<&str>) -> Result<Option<T>, CliError>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    value
        .map(str::parse)
        .transpose()
        .map_err(|e| CliError::arg(format!("--{name}"), e))
}

fn key(name: &str, hex: Option<&String>) -> Result<Option<Key128>, CliError> {
    hex.map(|h| Key128::from_hex(h).map_err(|e| CliError::arg(format!("--{name}"), e)))
        .transpose()
}

/// Refuses a personalised package in which an AKA parameter still holds a published test
/// K, naming each one, unless `allow` (a lab profile on purpose).
fn refuse_test_keys(built: &Package, allow: bool, what: &str) -> Result<(), CliError> {
    let found = profile::test_keys(built);
    if allow || found.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = found.iter().map(ToString::to_string).collect();
    Err(CliError::Refused(format!(
        "refusing to write {what}: {}; give --ki (it is written to every AKA parameter), \
         or --allow-test-keys for a lab profile",
        list.join("; ")
    )))
}

/// The AKA parameters of `p` that use the USIM test algorithm.
fn test_algorithm_slots(p: &Package) -> Vec<profile::AkaSlot> {
    profile::aka_slots(p.elements())
        .into_iter()
        .filter(|s| {
            matches!(p.elements().get(s.index), Some(ProfileElement::Aka(a))
                if a.algo.view().and_then(|v| v.algorithm_id) == Some(AkaAlgorithm::Test.id()))
        })
        .collect()
}

/// The template is a DER file or `builtin`.
fn template(template: &str) -> Result<Package, CliError> {
    if template == "builtin" {
        Ok(profile::builtin_template())
    } else {
        read(Path::new(template))
    }
}

/// With no personalisation the template is re-encoded, byte-identical: that is a copy of
/// the template, not a card, so the test-key refusal applies only when personalising.
fn build(args: &BuildArgs) -> Result<String, CliError> {
    let t = template(&args.template)?;
    let p = Personalisation {
        iccid: parsed("iccid", args.iccid.as_deref())?,
        imsi: parsed("imsi", args.imsi.as_deref())?,
        acc: parsed("acc", args.acc.as_deref())?,
        ki: key("ki", args.ki.as_ref())?,
        opc: key("opc", args.opc.as_ref())?,
        algorithm: args.algorithm.map(AkaAlgorithm::from),
        pin1: args.pin1.clone(),
        puk1: args.puk1.clone(),
    };
    let built = profile::personalise(&t, &p).map_err(|source| CliError::Personalise {
        what: "cannot personalise the template".into(),
        source,
    })?;
    if p != Personalisation::default() {
        refuse_test_keys(
            &built,
            args.allow_test_keys,
            &args.out.display().to_string(),
        )?;
    }
    let findings = profile::validate(&built);
    let bytes = zeroize::Zeroizing::new(built.encode());
    let out = &args.out;
    crate::crypto::write_private(out, &bytes).map_err(CliError::io(out))?;
    let mut msg = format!(
        "wrote {} ({} bytes, {} profile elements)",
        out.display(),
        bytes.len(),
        built.elements().len()
    );
    for f in findings {
        msg.push_str(&format!("\nwarning: {f}"));
    }
    for slot in test_algorithm_slots(&built) {
        msg.push_str(&format!(
            "\nwarning: {slot} uses the USIM test algorithm, which production HLRs do not \
             run; give --algorithm milenage for a production card"
        ));
    }
    Ok(msg)
}

/// Where batch personalisation takes its cards from.
enum BatchSource<'a> {
    /// A vendor file; keys decrypted with the configured transport keys.
    File { path: &'a Path, format: Format },
    /// A batch already in the store; keys are opened only as each profile is encoded.
    Store { tenant: &'a str, batch: &'a str },
}

/// How `simgw profile build-batch` personalises each card.
#[derive(Debug, Clone, Copy, Default)]
struct BatchOptions {
    /// Write packages even if an AKA parameter keeps a well-known test K.
    allow_test_keys: bool,
    /// The algorithm every AKA parameter is switched to.
    algorithm: Option<AkaAlgorithm>,
}

fn emit(
    template: &Package,
    p: &Personalisation,
    opts: BatchOptions,
    out_dir: &Path,
    name: &str,
) -> Result<(), CliError> {
    let built = profile::personalise(template, p).map_err(|source| CliError::Personalise {
        what: name.to_owned(),
        source,
    })?;
    refuse_test_keys(&built, opts.allow_test_keys, name)?;
    let bytes = zeroize::Zeroizing::new(built.encode());
    let path = out_dir.join(format!("{name}.der"));
    crate::crypto::write_private(&path, &bytes).map_err(CliError::io(path))
}

/// One personalised package per card, `<ICCID>.der` in `out_dir`, streamed card by card.
/// Returns how many were written.
async fn build_batch(
    config: &crate::config::Config,
    template_arg: &str,
    source: BatchSource<'_>,
    batch_opts: BatchOptions,
    out_dir: &Path,
) -> Result<u64, CliError> {
    use std::io::BufRead;
    let t = template(template_arg)?;
    std::fs::create_dir_all(out_dir).map_err(CliError::io(out_dir))?;
    let mut written = 0u64;
    match source {
        BatchSource::File { path, format } => {
            let tk = crate::import::transport_keys(&config.transport_keys)?;
            let opts = sim_profiles::batch::ParseOptions::default();
            let file = std::fs::File::open(path).map_err(CliError::io(path))?;
            let mut reader = std::io::BufReader::new(file);
            let mut parser = crate::import::Parser::new(format, &opts)?;
            let mut line = Vec::new();
            let mut flush = |cards: Vec<sim_profiles::batch::CardRecord>,
                             index: Option<u16>|
             -> Result<(), CliError> {
                for c in cards {
                    let sim = crate::import::clear_keys(&c, index, &tk)
                        .map_err(|e| CliError::CardKeys(format!("line {}: {e}", c.line)))?;
                    let p = Personalisation {
                        iccid: Some(sim.iccid.clone()),
                        imsi: Some(sim.imsi.clone()),
                        ki: Some(sim.ki.clone()),
                        opc: sim.opc.clone(),
                        pin1: c.pin1.as_ref().map(|s| s.expose().to_owned()),
                        puk1: c.puk1.as_ref().map(|s| s.expose().to_owned()),
                        // The vendor's class when the file has one, else the IMSI's.
                        acc: c
                            .acc
                            .map(Acc::new)
                            .transpose()
                            .map_err(|e| CliError::Refused(format!("line {}: {e}", c.line)))?,
                        algorithm: batch_opts.algorithm,
                    };
                    emit(&t, &p, batch_opts, out_dir, sim.iccid.as_str())?;
                    written += 1;
                }
                Ok(())
            };
            loop {
                line.clear();
                if reader
                    .read_until(b'\n', &mut line)
                    .map_err(CliError::io(path))?
                    == 0
                {
                    break;
                }
                let text =
                    String::from_utf8_lossy(line.strip_suffix(b"\n").unwrap_or(&line)).to_string();
                parser.push_line(&text)?;
                let index = parser.key_index();
                flush(parser.drain(), index)?;
            }
            let index = parser.key_index();
            let report = parser.finish()?;
            flush(report.records, index)?;
            if !report.rejects.is_empty() {
                let lines: Vec<String> = report.rejects.iter().map(ToString::to_string).collect();
                return Err(CliError::Refused(format!(
                    "{} line(s) rejected (the other cards were written): {}",
                    lines.len(),
                    lines.join("; ")
                )));
            }
        }
        BatchSource::Store { tenant, batch } => {
            let keys = crate::app::keyring(config)?;
            let store = offline::open(config)?;
            let result = async {
                let b = store
                    .batch(batch)
                    .await?
                    .filter(|b| b.tenant == tenant)
                    .ok_or_else(|| {
                        CliError::NotFound(format!("no batch `{batch}` for tenant `{tenant}`"))
                    })?;
                let mut after = String::new();
                loop {
                    let page = store.batch_sims(&b.id, &after, 1_000).await?;
                    for s in &page {
                        // The keys leave their sealed form only here, for this one profile.
                        let (ki, opc) =
                            crate::admin::open_sim_keys(&keys, s).map_err(CliError::CardKeys)?;
                        let p = Personalisation {
                            iccid: Some(s.iccid.clone()),
                            imsi: Some(s.imsi.clone()),
                            ki: Some(ki),
                            opc,
                            pin1: None,
                            puk1: None,
                            algorithm: batch_opts.algorithm,
                            ..Personalisation::default()
                        };
                        emit(&t, &p, batch_opts, out_dir, s.iccid.as_str())?;
                        written += 1;
                    }
                    match page.last() {
                        Some(last) => after = last.iccid.to_string(),
                        None => return Ok::<(), CliError>(()),
                    }
                }
            }
            .await;
            store.close().await;
            result?;
        }
    }
    Ok(written)
}

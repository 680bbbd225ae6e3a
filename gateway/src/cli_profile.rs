//! `simgw profile inspect|validate|build`: eSIM profile packages (TCA interoperable format,
//! DER) from files. Keys are masked unless asked for, and given keys live only in zeroised
//! memory until they are encoded into the output.

use sim_profiles::profile::{self, Acc, AkaAlgorithm, Package, Personalisation, ProfileElement};
use sim_profiles::{Key128, secret::SecretError};
use std::path::Path;

fn read(path: &Path) -> Result<Package, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Package::decode(&bytes)
        .map_err(|e| format!("{}: not a valid profile package: {e}", path.display()))
}

/// `simgw profile inspect FILE [--show-secrets]`.
pub fn inspect(file: &Path, show_secrets: bool) -> Result<String, String> {
    Ok(profile::inspect(&read(file)?, show_secrets))
}

/// `simgw profile validate FILE`: `Ok` with a summary if clean, `Err` listing every finding.
pub fn validate(file: &Path) -> Result<String, String> {
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
    Err(msg)
}

/// `--algorithm`: the AKA algorithm every AKA parameter is switched to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AlgorithmArg {
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

/// What `simgw profile build` writes into the template; all optional.
#[derive(Default)]
pub struct BuildArgs {
    /// New ICCID.
    pub iccid: Option<String>,
    /// New IMSI.
    pub imsi: Option<String>,
    /// EF.ACC as 4 hex digits; without it an IMSI sets its conventional class.
    pub acc: Option<String>,
    /// New K (32 hex).
    pub ki: Option<String>,
    /// New OPc (32 hex).
    pub opc: Option<String>,
    /// The algorithm every AKA parameter is switched to.
    pub algorithm: Option<AlgorithmArg>,
    /// New PIN1.
    pub pin1: Option<String>,
    /// New PUK1.
    pub puk1: Option<String>,
    /// Write the package even if an AKA parameter keeps a well-known test K.
    pub allow_test_keys: bool,
}

/// An optional flag's value parsed, or an error that names the flag.
fn parsed<T>(name: &str, value: Option<&str>) -> Result<Option<T>, String>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    value
        .map(str::parse)
        .transpose()
        .map_err(|e: T::Err| format!("--{name}: {e}"))
}

fn key(name: &str, hex: Option<&String>) -> Result<Option<Key128>, String> {
    hex.map(|h| Key128::from_hex(h).map_err(|e: SecretError| format!("--{name}: {e}")))
        .transpose()
}

/// Refuses a personalised package in which an AKA parameter still holds a published test
/// K, naming each one, unless `allow` (a lab profile on purpose).
fn refuse_test_keys(built: &Package, allow: bool, what: &str) -> Result<(), String> {
    let found = profile::test_keys(built);
    if allow || found.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = found.iter().map(ToString::to_string).collect();
    Err(format!(
        "refusing to write {what}: {}; give --ki (it is written to every AKA parameter), \
         or --allow-test-keys for a lab profile",
        list.join("; ")
    ))
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

/// `simgw profile build --template T [...] --out FILE`. `T` is a DER file or `builtin`.
/// With no personalisation the template is re-encoded, byte-identical: that is a copy of
/// the template, not a card, so the test-key refusal applies only when personalising.
pub fn build(template: &str, args: &BuildArgs, out: &Path) -> Result<String, String> {
    let t = if template == "builtin" {
        profile::builtin_template()
    } else {
        read(Path::new(template))?
    };
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
    let built = profile::personalise(&t, &p)
        .map_err(|e| format!("cannot personalise the template: {e}"))?;
    if p != Personalisation::default() {
        refuse_test_keys(&built, args.allow_test_keys, &out.display().to_string())?;
    }
    let findings = profile::validate(&built);
    let bytes = zeroize::Zeroizing::new(built.encode());
    crate::crypto::write_private(out, &bytes).map_err(|e| format!("{}: {e}", out.display()))?;
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
pub enum BatchSource<'a> {
    /// A vendor file (`vendor-out` or `csv`); keys decrypted with the configured transport keys.
    File {
        /// The file.
        path: &'a Path,
        /// Its format.
        format: crate::import::Format,
    },
    /// A batch already in the store; keys are opened only as each profile is encoded.
    Store {
        /// The tenant.
        tenant: &'a str,
        /// The batch id (`bat_…`).
        batch: &'a str,
    },
}

/// How `simgw profile build-batch` personalises each card.
#[derive(Debug, Clone, Copy, Default)]
pub struct BatchOptions {
    /// Write packages even if an AKA parameter keeps a well-known test K.
    pub allow_test_keys: bool,
    /// The algorithm every AKA parameter is switched to.
    pub algorithm: Option<AkaAlgorithm>,
}

fn emit(
    template: &Package,
    p: &Personalisation,
    opts: BatchOptions,
    out_dir: &Path,
    name: &str,
) -> Result<(), String> {
    let built = profile::personalise(template, p).map_err(|e| format!("{name}: {e}"))?;
    refuse_test_keys(&built, opts.allow_test_keys, name)?;
    let bytes = zeroize::Zeroizing::new(built.encode());
    let path = out_dir.join(format!("{name}.der"));
    crate::crypto::write_private(&path, &bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// `simgw profile build-batch`: one personalised package per card, `<ICCID>.der` in
/// `out_dir`, streamed card by card. Returns how many were written.
pub fn build_batch(
    config: &crate::config::Config,
    template: &str,
    source: BatchSource<'_>,
    batch_opts: BatchOptions,
    out_dir: &Path,
) -> Result<u64, String> {
    use std::io::BufRead;
    let t = if template == "builtin" {
        profile::builtin_template()
    } else {
        read(Path::new(template))?
    };
    std::fs::create_dir_all(out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let mut written = 0u64;
    match source {
        BatchSource::File { path, format } => {
            let tk =
                crate::import::transport_keys(&config.transport_keys).map_err(|e| e.to_string())?;
            let opts = sim_profiles::batch::ParseOptions::default();
            let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let mut reader = std::io::BufReader::new(file);
            let mut parser =
                crate::import::Parser::new(format, &opts).map_err(|e| e.to_string())?;
            let mut line = Vec::new();
            let mut flush = |cards: Vec<sim_profiles::batch::CardRecord>,
                             index: Option<u16>|
             -> Result<(), String> {
                for c in cards {
                    let sim = crate::import::clear_keys(&c, index, &tk)
                        .map_err(|e| format!("line {}: {e}", c.line))?;
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
                            .map_err(|e| format!("line {}: {e}", c.line))?,
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
                    .map_err(|e| e.to_string())?
                    == 0
                {
                    break;
                }
                let text =
                    String::from_utf8_lossy(line.strip_suffix(b"\n").unwrap_or(&line)).to_string();
                parser.push_line(&text).map_err(|e| e.to_string())?;
                let index = parser.key_index();
                flush(parser.drain(), index)?;
            }
            let index = parser.key_index();
            let report = parser.finish().map_err(|e| e.to_string())?;
            flush(report.records, index)?;
            if !report.rejects.is_empty() {
                let lines: Vec<String> = report.rejects.iter().map(ToString::to_string).collect();
                return Err(format!(
                    "{} line(s) rejected (the other cards were written): {}",
                    lines.len(),
                    lines.join("; ")
                ));
            }
        }
        BatchSource::Store { tenant, batch } => {
            use crate::store::Store;
            let keys = crate::app::keyring(config).map_err(|e| e.to_string())?;
            let store = crate::app::open_store(
                config,
                std::sync::Arc::new(crate::metrics::Metrics::default()),
            )
            .map_err(|e| e.to_string())?;
            let result = (|| -> Result<(), String> {
                let b = store
                    .batch(batch)
                    .map_err(|e| e.to_string())?
                    .filter(|b| b.tenant == tenant)
                    .ok_or_else(|| format!("no batch `{batch}` for tenant `{tenant}`"))?;
                let mut after = String::new();
                loop {
                    let page = store
                        .batch_sims(&b.id, &after, 1_000)
                        .map_err(|e| e.to_string())?;
                    for s in &page {
                        // The keys leave their sealed form only here, for this one profile.
                        let (ki, opc) = crate::admin::open_sim_keys(&keys, s)?;
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
                        None => return Ok(()),
                    }
                }
            })();
            store.close();
            result?;
        }
    }
    Ok(written)
}

/// Where a command reaches a running gateway's API.
pub struct ApiTarget {
    base_url: String,
    api_key: zeroize::Zeroizing<String>,
    ca_pem: Option<Vec<u8>>,
}

impl ApiTarget {
    /// Explicit values win; anything missing comes from `sandbox_file`.
    pub fn resolve(
        sandbox_file: &Path,
        base_url: Option<String>,
        api_key: Option<String>,
        ca_cert: Option<std::path::PathBuf>,
    ) -> Result<Self, String> {
        let sandbox = || -> Result<crate::sandbox::SandboxFile, String> {
            let bytes = std::fs::read(sandbox_file).map_err(|e| {
                format!(
                    "{}: {e}; give --base-url, --api-key and --ca-cert, or run `simgw serve --sandbox` first",
                    sandbox_file.display()
                )
            })?;
            serde_json::from_slice(&bytes)
                .map_err(|e| format!("{}: not a sandbox.json: {e}", sandbox_file.display()))
        };
        let (base_url, api_key, ca) = match (base_url, api_key) {
            (Some(b), Some(k)) => (b, k, ca_cert),
            (b, k) => {
                let sb = sandbox()?;
                (
                    b.unwrap_or(sb.base_url),
                    k.unwrap_or(sb.api_key),
                    ca_cert.or(Some(sb.ca_cert.into())),
                )
            }
        };
        let ca_pem = ca
            .map(|p| std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display())))
            .transpose()?;
        Ok(Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key: zeroize::Zeroizing::new(api_key),
            ca_pem,
        })
    }
}

/// `simgw activation qr ID`: the order's activation code and its QR as terminal text.
pub async fn activation_qr(target: &ApiTarget, id: &str) -> Result<String, String> {
    let mut b = adapters::http::HttpClient::builder();
    if let Some(ca) = &target.ca_pem {
        b = b.add_root_pem(ca);
    }
    let http = b.build().map_err(|e| e.to_string())?;
    let url = format!("{}/v1/activations/{id}", target.base_url);
    let r = http
        .get(
            &url,
            &[(
                "authorization",
                format!("Bearer {}", target.api_key.as_str()),
            )],
        )
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let v: serde_json::Value = serde_json::from_slice(&r.body)
        .map_err(|_| format!("{url}: HTTP {} without a JSON body", r.status))?;
    if r.status != 200 {
        return Err(format!(
            "{url}: HTTP {}: {}",
            r.status,
            v["detail"].as_str().unwrap_or("no detail")
        ));
    }
    let Some(code) = v["activation_code"].as_str() else {
        return Err(format!(
            "activation {id} has no activation code (status `{}`): only active eSIM orders have one",
            v["status"].as_str().unwrap_or("?")
        ));
    };
    let lpa = format!("LPA:{code}");
    let qr = crate::qr::qr_terminal(&lpa).map_err(|e| e.to_string())?;
    Ok(format!("{qr}\n{lpa}\n"))
}

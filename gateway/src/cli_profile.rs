//! `simgw profile inspect|validate|build`: eSIM profile packages (TCA interoperable format,
//! DER) from files. Keys are masked unless asked for, and given keys live only in zeroised
//! memory until they are encoded into the output.

use sim_profiles::profile::{self, Package, Personalisation};
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

/// What `simgw profile build` writes into the template; all optional.
#[derive(Default)]
pub struct BuildArgs {
    /// New ICCID.
    pub iccid: Option<String>,
    /// New IMSI.
    pub imsi: Option<String>,
    /// New K (32 hex).
    pub ki: Option<String>,
    /// New OPc (32 hex).
    pub opc: Option<String>,
    /// New PIN1.
    pub pin1: Option<String>,
    /// New PUK1.
    pub puk1: Option<String>,
}

fn key(name: &str, hex: Option<&String>) -> Result<Option<Key128>, String> {
    hex.map(|h| Key128::from_hex(h).map_err(|e: SecretError| format!("--{name}: {e}")))
        .transpose()
}

/// `simgw profile build --template T [...] --out FILE`. `T` is a DER file or `builtin`.
/// With no personalisation the template is re-encoded, byte-identical.
pub fn build(template: &str, args: &BuildArgs, out: &Path) -> Result<String, String> {
    let t = if template == "builtin" {
        profile::builtin_template()
    } else {
        read(Path::new(template))?
    };
    let p = Personalisation {
        iccid: args
            .iccid
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e| format!("--iccid: {e}"))?,
        imsi: args
            .imsi
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e| format!("--imsi: {e}"))?,
        ki: key("ki", args.ki.as_ref())?,
        opc: key("opc", args.opc.as_ref())?,
        pin1: args.pin1.clone(),
        puk1: args.puk1.clone(),
    };
    let built = profile::personalise(&t, &p)
        .map_err(|e| format!("cannot personalise the template: {e}"))?;
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
    Ok(msg)
}

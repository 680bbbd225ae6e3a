//! The personalised profile package a "downloaded" profile carries: the built-in template
//! of `sim_profiles::profile`, personalised with the profile's ICCID and, when seeded, its
//! IMSI, Ki and OPc, then validated and DER-encoded.

use super::state::Profile;
use sim_profiles::profile::{Personalisation, builtin_template, personalise, validate};

/// Why a package could not be built (no values in the message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackageError {
    /// The template refused the personalisation.
    #[error("personalisation failed: {0}")]
    Personalise(String),
    /// The result did not validate.
    #[error("personalised package does not validate ({count} findings)")]
    Invalid {
        /// How many findings.
        count: usize,
    },
}

/// Builds the DER package for `p`.
pub fn build(p: &Profile) -> Result<Vec<u8>, PackageError> {
    let personalisation = Personalisation {
        iccid: Some(p.iccid.clone()),
        imsi: p.personal.imsi.clone(),
        ki: p.personal.ki.clone(),
        opc: p.personal.opc.clone(),
        ..Personalisation::default()
    };
    let package = personalise(&builtin_template(), &personalisation)
        .map_err(|e| PackageError::Personalise(e.to_string()))?;
    let findings = validate(&package);
    if !findings.is_empty() {
        return Err(PackageError::Invalid {
            count: findings.len(),
        });
    }
    Ok(package.encode())
}

//! The AKA parameters of a package: which application (NAA) each belongs to, and writing
//! one card's K and OPc into every one of them. A profile with a USIM and an ISIM carries
//! one `PE-AKAParameter` per application, and each must get the card's keys: a copy left
//! at the template's value would authenticate that application on a published key.

use super::aka::{ALGORITHM_MILENAGE, AlgoConfiguration, algorithm_name};
use super::element::ProfileElement;
use super::error::ProfileError;
use crate::Key128;

/// One `PE-AKAParameter` of a package, located.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AkaSlot {
    /// Index of the element in the package.
    pub index: usize,
    /// Its PE `identification`.
    pub identification: u16,
    /// The application whose context it sits in (`USIM`, `ISIM`, `CSIM`, `IoT`), or
    /// `no application` when no NAA element precedes it.
    pub application: &'static str,
}

impl std::fmt::Display for AkaSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PE-AKAParameter id {} ({})",
            self.identification, self.application
        )
    }
}

/// The application an NAA element opens, or `None` for a file-system element outside any
/// NAA (MF, DF-CD, DF-TELECOM). Other elements (opt-usim, PIN codes, …) keep the context.
fn opens(tag: u32) -> Option<Option<&'static str>> {
    match tag {
        0xB3 => Some(Some("USIM")),
        0xB5 => Some(Some("ISIM")),
        0xB9 => Some(Some("CSIM")),
        0xBF20 => Some(Some("IoT")),
        0xB0..=0xB2 => Some(None),
        _ => None,
    }
}

/// Every `PE-AKAParameter` of `elements`, in order, with the application it follows.
pub fn aka_slots(elements: &[ProfileElement]) -> Vec<AkaSlot> {
    let mut context = None;
    let mut out = Vec::new();
    for (index, e) in elements.iter().enumerate() {
        if let Some(opened) = opens(e.tag()) {
            context = opened;
        }
        if let ProfileElement::Aka(a) = e {
            out.push(AkaSlot {
                index,
                identification: a.header.identification,
                application: context.unwrap_or("no application"),
            });
        }
    }
    out
}

/// The card's keys for [`write_keys`].
pub(crate) struct CardKeys<'a> {
    /// K, for every AKA parameter.
    pub ki: Option<&'a Key128>,
    /// OPc, for every AKA parameter.
    pub opc: Option<&'a Key128>,
}

/// Writes K and OPc into every Milenage AKA parameter. Fails, changing nothing the caller
/// keeps, if the package has none to take them.
pub(crate) fn write_keys(
    elements: &mut [ProfileElement],
    keys: &CardKeys<'_>,
) -> Result<(), ProfileError> {
    if keys.ki.is_none() && keys.opc.is_none() {
        return Ok(());
    }
    let mut written = 0usize;
    for e in elements.iter_mut() {
        let ProfileElement::Aka(a) = e else {
            continue;
        };
        let AlgoConfiguration::Algo(algo) = &mut a.algo else {
            continue;
        };
        if algo.algorithm_id != ALGORITHM_MILENAGE {
            continue;
        }
        if let Some(k) = keys.ki {
            algo.key = k.clone();
        }
        if let Some(opc) = keys.opc {
            algo.opc = opc.clone();
        }
        written += 1;
    }
    if written == 0 {
        return Err(ProfileError::MissingFile {
            file: "PE-AKAParameter with Milenage",
        });
    }
    Ok(())
}

/// The algorithm name of an AKA parameter, for messages.
pub(crate) fn algorithm_of(algo: &AlgoConfiguration) -> &'static str {
    match (algo.view(), algo) {
        (Some(v), _) => v.algorithm_id.map_or("no algorithmID", algorithm_name),
        (None, AlgoConfiguration::Raw(raw)) if raw.first() == Some(&0xA0) => "mappingParameter",
        (None, _) => "unknown algoConfiguration",
    }
}

//! The AKA parameters of a package: which application (NAA) each belongs to, and writing
//! one card's K, OPc and algorithm into every one of them. A profile with a USIM and an ISIM carries
//! one `PE-AKAParameter` per application, and each must get the card's keys: a copy left
//! at the template's value would authenticate that application on a published key.

use super::aka::{AkaAlgorithm, AlgoConfiguration, algorithm_name};
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
    /// The algorithm every AKA parameter is switched to.
    pub algorithm: Option<AkaAlgorithm>,
}

/// Why a value cannot be set in the AKA parameter at `slot`.
fn refuse(
    slot: AkaSlot,
    algo: &AlgoConfiguration,
    field: &'static str,
    reason: &'static str,
) -> ProfileError {
    ProfileError::AkaValue {
        identification: slot.identification,
        application: slot.application,
        algorithm: algorithm_of(algo),
        field,
        reason,
    }
}

/// Writes K, OPc and the algorithm into every AKA parameter that has keys of its own,
/// whatever its algorithm (a `mappingParameter` reuses another application's keys and is
/// left as it is). Fails naming the element, its application and its algorithm when one
/// cannot take a value; the caller discards the half-written copy.
pub(crate) fn write_keys(
    elements: &mut [ProfileElement],
    keys: &CardKeys<'_>,
) -> Result<(), ProfileError> {
    if keys.ki.is_none() && keys.opc.is_none() && keys.algorithm.is_none() {
        return Ok(());
    }
    let mut written = 0usize;
    for slot in aka_slots(elements) {
        let Some(ProfileElement::Aka(a)) = elements.get_mut(slot.index) else {
            continue;
        };
        if write_one(slot, &mut a.algo, keys)? {
            written += 1;
        }
    }
    if written == 0 {
        return Err(ProfileError::MissingElement {
            element: "PE-AKAParameter with keys of its own (an algoParameter)",
        });
    }
    if let Some(target) = keys.algorithm {
        declare_algorithms(elements, target);
    }
    Ok(())
}

/// Writes into one AKA parameter; `false` if it has no keys of its own.
fn write_one(
    slot: AkaSlot,
    algo: &mut AlgoConfiguration,
    keys: &CardKeys<'_>,
) -> Result<bool, ProfileError> {
    let Some(view) = algo.view() else {
        return match algo {
            AlgoConfiguration::Raw(raw) if raw.first() == Some(&0xA0) => Ok(false),
            _ => Err(refuse(
                slot,
                algo,
                "K",
                "its algoConfiguration is an alternative this version of simgw does not know",
            )),
        };
    };
    let (key_len, opc_len) = (view.key.map(<[u8]>::len), view.opc.map(<[u8]>::len));
    let current = view.algorithm_id;
    if keys.algorithm == Some(AkaAlgorithm::Tuak) && opc_len == Some(16) {
        return Err(refuse(
            slot,
            algo,
            "algorithmID",
            "TUAK needs a 256-bit TOPc and this element's opc field holds 128 bits; \
             simgw writes 128-bit keys only, so start from a TUAK template",
        ));
    }
    if let Some(target) = keys.algorithm {
        if current != Some(target.id()) && !matches!(algo, AlgoConfiguration::Algo(_)) {
            return Err(refuse(
                slot,
                algo,
                "algorithmID",
                "its key fields are not 128-bit K and OPc, so it cannot change algorithm",
            ));
        }
    }
    if keys.opc.is_some() && opc_len == Some(32) {
        return Err(refuse(
            slot,
            algo,
            "OPc",
            "TUAK's TOPc is 256 bits and --opc gives 128; keep the template's TOPc",
        ));
    }
    match algo {
        AlgoConfiguration::Algo(a) => {
            if let Some(target) = keys.algorithm {
                a.algorithm_id = target.id();
            }
            if let Some(k) = keys.ki {
                a.key = k.clone();
            }
            if let Some(opc) = keys.opc {
                a.opc = opc.clone();
            }
        }
        AlgoConfiguration::Raw(_) => {
            if let Some(k) = keys.ki {
                if key_len != Some(16) || !algo.overwrite_raw(0x82, k.expose()) {
                    return Err(refuse(
                        slot,
                        algo,
                        "K",
                        "its key field is not 128 bits (a 256-bit TUAK key, or malformed)",
                    ));
                }
            }
            if let Some(opc) = keys.opc {
                if opc_len != Some(16) || !algo.overwrite_raw(0x83, opc.expose()) {
                    return Err(refuse(slot, algo, "OPc", "its opc field is not 128 bits"));
                }
            }
        }
    }
    Ok(true)
}

/// After switching to `target`: the header declares its service, and no longer declares
/// an algorithm no AKA parameter uses (an eUICC without it would refuse the profile).
fn declare_algorithms(elements: &mut [ProfileElement], target: AkaAlgorithm) {
    let used: Vec<u8> = elements
        .iter()
        .filter_map(|e| match e {
            ProfileElement::Aka(a) => a.algo.view().and_then(|v| v.algorithm_id),
            _ => None,
        })
        .collect();
    let Some(header) = elements.iter_mut().find_map(|e| match e {
        ProfileElement::Header(h) => Some(h),
        _ => None,
    }) else {
        return;
    };
    for algorithm in AkaAlgorithm::ALL {
        if algorithm == target {
            header.mandatory_services.insert_name(algorithm.service());
        } else if !used.contains(&algorithm.id()) {
            header.mandatory_services.remove_name(algorithm.service());
        }
    }
}

/// The algorithm name of an AKA parameter, for messages.
pub(crate) fn algorithm_of(algo: &AlgoConfiguration) -> &'static str {
    match (algo.view(), algo) {
        (Some(v), _) => v.algorithm_id.map_or("no algorithmID", algorithm_name),
        (None, AlgoConfiguration::Raw(raw)) if raw.first() == Some(&0xA0) => "mappingParameter",
        (None, _) => "unknown algoConfiguration",
    }
}

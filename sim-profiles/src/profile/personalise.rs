//! Personalisation: writes one card's identifiers, keys and codes into a template package,
//! changing only those values (every other byte of the template is kept).

use super::acc::Acc;
use super::aka::AkaAlgorithm;
use super::element::ProfileElement;
use super::error::ProfileError;
use super::keys::{CardKeys, write_keys};
use super::package::Package;
use super::pin::{PinCodesContent, pad_code};
use crate::{Iccid, Imsi, Key128};

/// `keyReference` of PIN1 (`pinAppl1`) and of PUK1 (`pukAppl1`).
const KEY_REFERENCE_1: u8 = 1;

/// One card's values; a field left `None` keeps the template's value.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Personalisation {
    /// ICCID: written to the header (plain BCD) and EF.ICCID (nibble-swapped).
    pub iccid: Option<Iccid>,
    /// IMSI: written to EF.IMSI of the first PE-USIM.
    pub imsi: Option<Imsi>,
    /// EF.ACC of the first PE-USIM. `None` with an IMSI set writes the IMSI's conventional
    /// class ([`Acc::from_imsi`]), so cards of one template spread over classes 0–9.
    pub acc: Option<Acc>,
    /// K: written to every AKA parameter (one per application), whatever its algorithm.
    pub ki: Option<Key128>,
    /// OPc: written to every AKA parameter (the test algorithm ignores it).
    pub opc: Option<Key128>,
    /// The algorithm every AKA parameter is switched to; `None` keeps each one's.
    pub algorithm: Option<AkaAlgorithm>,
    /// PIN1 (key reference 1), 4 to 8 ASCII digits.
    pub pin1: Option<String>,
    /// PUK1 (key reference 1), 8 ASCII digits.
    pub puk1: Option<String>,
}

impl std::fmt::Debug for Personalisation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn mask<T>(v: &Option<T>) -> Option<&'static str> {
            v.as_ref().map(|_| "***")
        }
        f.debug_struct("Personalisation")
            .field("iccid", &self.iccid)
            .field("imsi", &self.imsi)
            .field("acc", &self.acc)
            .field("ki", &mask(&self.ki))
            .field("opc", &mask(&self.opc))
            .field("algorithm", &self.algorithm)
            .field("pin1", &mask(&self.pin1))
            .field("puk1", &mask(&self.puk1))
            .finish()
    }
}

/// The element a template must hold for a personalisation field.
fn missing(element: &'static str) -> ProfileError {
    ProfileError::MissingElement { element }
}

fn bad_value(reason: &'static str) -> ProfileError {
    ProfileError::malformed("Personalisation", reason)
}

/// A code of `min..=8` ASCII digits, `FF`-padded to 8 bytes.
fn code(digits: &str, min: usize, reason: &'static str) -> Result<[u8; 8], ProfileError> {
    if digits.len() < min || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad_value(reason));
    }
    pad_code(digits).ok_or(bad_value(reason))
}

/// Returns a copy of `template` with the values of `p` written in: the ICCID into the
/// header and the first PE-MF's EF.ICCID, the IMSI into the first PE-USIM's EF.IMSI (and
/// its access class into EF.ACC unless `acc` says otherwise), K, OPc and the algorithm
/// into every AKA parameter with keys of its own (the USIM's, the ISIM's, …, whatever their
/// algorithm; switching the algorithm also updates the header's mandatory services), PIN1
/// into every PIN configuration with key reference 1, and PUK1 into every PUK
/// configuration with key reference 1.
///
/// Nothing else changes: untouched elements keep their bytes, and changed elements differ
/// only in the written values. Fails, leaving nothing half-written, if a value is
/// malformed, the template lacks what a set field needs ([`ProfileError::MissingElement`],
/// [`ProfileError::MissingFile`]), or an AKA parameter cannot take a value
/// ([`ProfileError::AkaValue`] names it, its application and its algorithm).
pub fn personalise(template: &Package, p: &Personalisation) -> Result<Package, ProfileError> {
    let pin1 = p
        .pin1
        .as_deref()
        .map(|s| code(s, 4, "PIN1 must be 4 to 8 digits"))
        .transpose()?;
    let puk1 = p
        .puk1
        .as_deref()
        .map(|s| code(s, 8, "PUK1 must be 8 digits"))
        .transpose()?;
    let mut elements = template.clone().into_elements();

    if let Some(iccid) = &p.iccid {
        let header = elements
            .iter_mut()
            .find_map(|e| match e {
                ProfileElement::Header(h) => Some(h),
                _ => None,
            })
            .ok_or(missing("ProfileHeader"))?;
        header.iccid = iccid.clone();
        let mf = elements
            .iter_mut()
            .find_map(|e| match e {
                ProfileElement::Mf(m) => Some(m),
                _ => None,
            })
            .ok_or(missing("PE-MF"))?;
        mf.set_iccid(iccid)?;
    }

    let acc = p.acc.or_else(|| p.imsi.as_ref().map(Acc::from_imsi));
    if p.imsi.is_some() || acc.is_some() {
        let usim = elements
            .iter_mut()
            .find_map(|e| match e {
                ProfileElement::Usim(u) => Some(u),
                _ => None,
            })
            .ok_or(missing("PE-USIM"))?;
        if let Some(imsi) = &p.imsi {
            usim.set_imsi(imsi)?;
        }
        if let Some(acc) = acc {
            usim.set_acc(acc)?;
        }
    }

    write_keys(
        &mut elements,
        &CardKeys {
            ki: p.ki.as_ref(),
            opc: p.opc.as_ref(),
            algorithm: p.algorithm,
        },
    )?;

    if let Some(value) = pin1 {
        let mut found = false;
        for e in &mut elements {
            if let ProfileElement::PinCodes(codes) = e {
                if let PinCodesContent::Pins(pins) = &mut codes.codes {
                    for pin in pins
                        .iter_mut()
                        .filter(|c| c.key_reference == KEY_REFERENCE_1)
                    {
                        pin.value = value;
                        found = true;
                    }
                }
            }
        }
        if !found {
            return Err(missing("PIN with key reference 1 (pinAppl1)"));
        }
    }

    if let Some(value) = puk1 {
        let mut found = false;
        for e in &mut elements {
            if let ProfileElement::PukCodes(codes) = e {
                for puk in codes
                    .codes
                    .iter_mut()
                    .filter(|c| c.key_reference == KEY_REFERENCE_1)
                {
                    puk.value = value;
                    found = true;
                }
            }
        }
        if !found {
            return Err(missing("PUK with key reference 1 (pukAppl1)"));
        }
    }

    Package::from_elements(elements)
}

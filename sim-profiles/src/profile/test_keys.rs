//! Well-known test keys: K values published in standards and test profiles. A card that
//! carries one authenticates on a public key, so a personalised package must not.

use super::element::ProfileElement;
use super::keys::{AkaSlot, aka_slots, algorithm_of};
use super::package::Package;

/// `000102…0f`: the K of every GSMA TS.48 Generic eUICC Test Profile (USIM and ISIM).
const SEQUENCE_16: [u8; 16] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F,
];
/// `000102…1f`: the same pattern at 256 bits (TUAK).
const SEQUENCE_32: [u8; 32] = {
    let mut k = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        k[i] = i as u8;
        i += 1;
    }
    k
};
/// 3GPP TS 35.208 test set 1, K.
const TS35208_SET1: [u8; 16] = [
    0x46, 0x5B, 0x5C, 0xE8, 0xB1, 0x99, 0xB4, 0x9F, 0xAA, 0x5F, 0x0A, 0x2E, 0xE2, 0x38, 0xA6, 0xBC,
];
/// 3GPP TS 35.208 test set 2, K.
const TS35208_SET2: [u8; 16] = [
    0x03, 0x96, 0xEB, 0x31, 0x7B, 0x6D, 0x1C, 0x36, 0xF1, 0x9C, 0x1C, 0x84, 0xCD, 0x6F, 0xFD, 0x16,
];

/// Published keys and what they are. The built-in template's K is all zeros.
const WELL_KNOWN: [(&[u8], &str); 6] = [
    (&[0u8; 16], "all zeros"),
    (&[0u8; 32], "all zeros"),
    (&SEQUENCE_16, "000102…0f, the GSMA TS.48 test profile key"),
    (&SEQUENCE_32, "000102…1f"),
    (&TS35208_SET1, "3GPP TS 35.208 test set 1"),
    (&TS35208_SET2, "3GPP TS 35.208 test set 2"),
];

/// Which published key `key` is, if any.
pub fn well_known_key(key: &[u8]) -> Option<&'static str> {
    WELL_KNOWN
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, name)| *name)
}

/// An AKA parameter whose K is a published test key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestKey {
    /// Where the AKA parameter is.
    pub slot: AkaSlot,
    /// Its algorithm's name.
    pub algorithm: &'static str,
    /// Which published key it holds (never the key itself).
    pub key: &'static str,
}

impl std::fmt::Display for TestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let slot = self.slot;
        write!(
            f,
            "PE-AKAParameter id {} ({}, {}) holds a well-known test K ({})",
            slot.identification, slot.application, self.algorithm, self.key
        )
    }
}

/// Every AKA parameter of `p` whose K is a published test key. OPc is not checked: with a
/// secret K it is no key to the card (TS.48 and the built-in template leave it zero).
pub fn test_keys(p: &Package) -> Vec<TestKey> {
    let elements = p.elements();
    aka_slots(elements)
        .into_iter()
        .filter_map(|slot| {
            let ProfileElement::Aka(a) = elements.get(slot.index)? else {
                return None;
            };
            let key = well_known_key(a.algo.view()?.key?)?;
            Some(TestKey {
                slot,
                algorithm: algorithm_of(&a.algo),
                key,
            })
        })
        .collect()
}

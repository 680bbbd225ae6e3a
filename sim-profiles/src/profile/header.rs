//! `ProfileHeader` (`A0`): the first element of every package. It has no PE header.

use super::der::{decode_null, decode_uint, push_uint};
use super::error::ProfileError;
use super::oid::ObjectId;
use super::tlv::{Reader, Tlv, context_number, context_tag, is_constructed, is_context, push_tlv};
use crate::Iccid;
use std::collections::BTreeSet;

const ELEMENT: &str = "ProfileHeader";

/// The `ServicesList` flag names, indexed by their context tag number (§9.5).
const SERVICE_NAMES: [&str; 30] = [
    "contactless",
    "usim",
    "isim",
    "csim",
    "milenage",
    "tuak128",
    "cave",
    "gba-usim",
    "gba-isim",
    "mbms",
    "eap",
    "javacard",
    "multos",
    "multiple-usim",
    "multiple-isim",
    "multiple-csim",
    "tuak256",
    "usim-test-algorithm",
    "ber-tlv",
    "dfLink",
    "cat-tp",
    "get-identity",
    "profile-a-x25519",
    "profile-b-p256",
    "suciCalculatorApi",
    "dns-resolution",
    "scp11ac",
    "scp11c-authorization-mechanism",
    "s16mode",
    "eaka",
];

/// The profile header: versions, type, ICCID, policy, mandatory services and templates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileHeader {
    /// `major-version` (`80`).
    pub major_version: u8,
    /// `minor-version` (`81`).
    pub minor_version: u8,
    /// `profileType` (`82`), free text.
    pub profile_type: Option<String>,
    /// `iccid` (`83`), coded as non-swapped BCD padded with `F`.
    pub iccid: Iccid,
    /// `pol` (`84`), the profile policy bits.
    pub pol: Option<Vec<u8>>,
    /// `eUICC-Mandatory-services` (`A5`).
    pub mandatory_services: MandatoryServices,
    /// `eUICC-Mandatory-GFSTEList` (`A6`): the template OIDs used.
    pub gfste_list: Vec<ObjectId>,
    /// Any further components (`87`, `A8`, `A9`, extensions), as whole DER TLVs in order.
    pub extra: Vec<Vec<u8>>,
}

impl ProfileHeader {
    /// Decodes the header from its `A0` TLV.
    pub(crate) fn decode(tlv: &Tlv<'_>) -> Result<Self, ProfileError> {
        let mut r = Reader::children(tlv);
        let major = r.expect(0x80, ELEMENT, "major-version missing")?;
        let minor = r.expect(0x81, ELEMENT, "minor-version missing")?;
        let profile_type = match r.take(0x82)? {
            Some(t) => Some(
                std::str::from_utf8(t.value())
                    .map_err(|_| ProfileError::malformed(ELEMENT, "profileType is not UTF-8"))?
                    .to_owned(),
            ),
            None => None,
        };
        let iccid = r.expect(0x83, ELEMENT, "iccid missing")?;
        let pol = r.take(0x84)?.map(|t| t.value().to_vec());
        let services = r.expect(0xA5, ELEMENT, "eUICC-Mandatory-services missing")?;
        let gfste = r.expect(0xA6, ELEMENT, "eUICC-Mandatory-GFSTEList missing")?;
        let extra = r.rest()?.iter().map(|t| t.bytes.to_vec()).collect();
        Ok(Self {
            major_version: decode_uint(&major, ELEMENT)?,
            minor_version: decode_uint(&minor, ELEMENT)?,
            profile_type,
            iccid: decode_iccid(iccid.value())?,
            pol,
            mandatory_services: MandatoryServices::decode(&services)?,
            gfste_list: decode_gfste(&gfste)?,
            extra,
        })
    }

    /// Appends the whole `A0` TLV.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let mut v = Vec::with_capacity(64);
        push_uint(&mut v, 0x80, u64::from(self.major_version));
        push_uint(&mut v, 0x81, u64::from(self.minor_version));
        if let Some(t) = &self.profile_type {
            push_tlv(&mut v, 0x82, t.as_bytes());
        }
        push_tlv(&mut v, 0x83, &encode_iccid(&self.iccid));
        if let Some(pol) = &self.pol {
            push_tlv(&mut v, 0x84, pol);
        }
        self.mandatory_services.encode(&mut v);
        let mut oids = Vec::new();
        for oid in &self.gfste_list {
            push_tlv(&mut oids, 0x06, oid.as_der_content());
        }
        push_tlv(&mut v, 0xA6, &oids);
        for e in &self.extra {
            v.extend_from_slice(e);
        }
        push_tlv(out, 0xA0, &v);
    }
}

/// The header ICCID form: plain (non-swapped) BCD, right-padded with `F` to 10 bytes.
pub fn encode_iccid(iccid: &Iccid) -> [u8; 10] {
    let mut nibbles = [0x0Fu8; 20];
    for (n, b) in nibbles.iter_mut().zip(iccid.as_str().bytes()) {
        *n = b.wrapping_sub(b'0') & 0x0F;
    }
    let mut out = [0u8; 10];
    for (o, pair) in out.iter_mut().zip(nibbles.chunks_exact(2)) {
        if let [high, low] = *pair {
            *o = (high << 4) | low;
        }
    }
    out
}

/// Decodes the header ICCID form (see [`encode_iccid`]) and checks it as an [`Iccid`].
pub fn decode_iccid(bytes: &[u8]) -> Result<Iccid, ProfileError> {
    let bad = |reason| ProfileError::malformed(ELEMENT, reason);
    if bytes.len() != 10 {
        return Err(bad("iccid must be 10 bytes"));
    }
    let mut digits = String::with_capacity(20);
    let mut padding = false;
    for nib in bytes.iter().flat_map(|b| [b >> 4, b & 0x0F]) {
        match nib {
            0..=9 if !padding => digits.push(char::from(b'0' + nib)),
            0x0F => padding = true,
            _ => return Err(bad("iccid is not F-padded BCD")),
        }
    }
    digits
        .parse()
        .map_err(|_| bad("iccid is not a valid ICCID"))
}

fn decode_gfste(tlv: &Tlv<'_>) -> Result<Vec<ObjectId>, ProfileError> {
    let mut r = Reader::children(tlv);
    let mut out = Vec::new();
    while let Some(t) = r.next_tlv()? {
        if t.tag != 0x06 {
            return Err(ProfileError::malformed(
                ELEMENT,
                "GFSTE entry is not an OID",
            ));
        }
        out.push(ObjectId::from_der_content(t.value())?);
    }
    Ok(out)
}

/// `eUICC-Mandatory-services`: a set of `NULL` flags, held by context tag number so that
/// flags added after v3.3.1 survive a round trip.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct MandatoryServices(BTreeSet<u32>);

impl MandatoryServices {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The flag name of a context tag number, if it is one of v3.3.1's.
    pub fn name_of(number: u32) -> Option<&'static str> {
        usize::try_from(number)
            .ok()
            .and_then(|i| SERVICE_NAMES.get(i).copied())
    }

    /// The context tag number of a v3.3.1 flag name.
    pub fn number_of(name: &str) -> Option<u32> {
        SERVICE_NAMES
            .iter()
            .position(|n| *n == name)
            .and_then(|i| u32::try_from(i).ok())
    }

    /// Adds a flag by its context tag number (below 2^21).
    pub fn insert(&mut self, number: u32) {
        self.0.insert(number.min((1 << 21) - 1));
    }

    /// Adds a flag by name; returns `false` (and adds nothing) for an unknown name.
    pub fn insert_name(&mut self, name: &str) -> bool {
        match Self::number_of(name) {
            Some(n) => {
                self.0.insert(n);
                true
            }
            None => false,
        }
    }

    /// Removes a flag by name; returns whether it was set.
    pub fn remove_name(&mut self, name: &str) -> bool {
        Self::number_of(name).is_some_and(|n| self.0.remove(&n))
    }

    /// Whether the named flag is set.
    pub fn contains_name(&self, name: &str) -> bool {
        Self::number_of(name).is_some_and(|n| self.0.contains(&n))
    }

    /// The set flags' context tag numbers, ascending.
    pub fn numbers(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().copied()
    }

    /// The set flags' names, ascending; unknown flags print as `[n]`.
    pub fn names(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|n| Self::name_of(*n).map_or_else(|| format!("[{n}]"), str::to_owned))
            .collect()
    }

    fn decode(tlv: &Tlv<'_>) -> Result<Self, ProfileError> {
        let mut r = Reader::children(tlv);
        let mut set = BTreeSet::new();
        while let Some(t) = r.next_tlv()? {
            if !is_context(t.tag) || is_constructed(t.tag) {
                return Err(ProfileError::malformed(
                    ELEMENT,
                    "service flag is not a context NULL",
                ));
            }
            decode_null(&t, ELEMENT)?;
            let n = context_number(t.tag)
                .ok_or(ProfileError::malformed(ELEMENT, "service flag tag"))?;
            set.insert(n);
        }
        Ok(Self(set))
    }

    fn encode(&self, out: &mut Vec<u8>) {
        let mut v = Vec::with_capacity(self.0.len() * 2);
        for n in &self.0 {
            push_tlv(&mut v, context_tag(*n, false), &[]);
        }
        push_tlv(out, 0xA5, &v);
    }
}

impl<'a> FromIterator<&'a str> for MandatoryServices {
    /// Collects known flag names; unknown names are skipped.
    fn from_iter<I: IntoIterator<Item = &'a str>>(iter: I) -> Self {
        let mut s = Self::new();
        for name in iter {
            s.insert_name(name);
        }
        s
    }
}

//! `PE-AKAParameter` (`A4`): the NAA's authentication algorithm, keys and SQN scheme.
//! Components equal to their DEFAULT are omitted on encode (DER), and a decoded element
//! that carries one explicitly is rejected as non-canonical by [`super::ProfileElement`].

use super::der::{decode_fixed, decode_uint, push_uint};
use super::error::ProfileError;
use super::pe_header::PeHeader;
use super::tlv::{Reader, Tlv, push_tlv, read_tlv};
use crate::Key128;

const ELEMENT: &str = "PE-AKAParameter";

/// `rotationConstants` DEFAULT: r1..r5 = 64, 0, 32, 64, 96 bits.
pub const DEFAULT_ROTATION: [u8; 5] = [0x40, 0x00, 0x20, 0x40, 0x60];
/// `xoringConstants` DEFAULT: c1..c5 = 0, 1, 2, 4, 8 as 128-bit values.
pub const DEFAULT_XORING: [u8; 80] = {
    let mut c = [0u8; 80];
    c[31] = 1;
    c[47] = 2;
    c[63] = 4;
    c[79] = 8;
    c
};
/// `sqnOptions` DEFAULT.
pub const DEFAULT_SQN_OPTIONS: u8 = 0x02;
/// `sqnDelta` DEFAULT.
pub const DEFAULT_SQN_DELTA: [u8; 6] = [0x00, 0x00, 0x10, 0x00, 0x00, 0x00];
/// `sqnAgeLimit` DEFAULT.
pub const DEFAULT_SQN_AGE_LIMIT: [u8; 6] = [0x00, 0x00, 0x10, 0x00, 0x00, 0x00];
/// Number of `sqnInit` entries (SIZE(32)).
pub const SQN_INIT_LEN: usize = 32;
/// `numberOfKeccak` DEFAULT.
pub const DEFAULT_NUMBER_OF_KECCAK: u8 = 1;
/// `algorithmID` of Milenage.
pub const ALGORITHM_MILENAGE: u8 = 1;

/// An algorithm an AKA parameter can be switched to (`algorithmID`, §9.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AkaAlgorithm {
    /// Milenage (3GPP TS 35.206), `algorithmID` 1.
    Milenage,
    /// TUAK (3GPP TS 35.231), `algorithmID` 2.
    Tuak,
    /// The USIM test algorithm (XOR, 3GPP TS 34.108), `algorithmID` 3: labs only.
    Test,
}

impl AkaAlgorithm {
    /// Every algorithm.
    pub const ALL: [Self; 3] = [Self::Milenage, Self::Tuak, Self::Test];

    /// Its `algorithmID`.
    pub fn id(self) -> u8 {
        match self {
            Self::Milenage => 1,
            Self::Tuak => 2,
            Self::Test => 3,
        }
    }

    /// The algorithm of an `algorithmID`, if it is one of these.
    pub fn from_id(id: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.id() == id)
    }

    /// Its name, as [`algorithm_name`] prints it.
    pub fn name(self) -> &'static str {
        algorithm_name(self.id())
    }

    /// The `eUICC-Mandatory-services` flag a profile using it declares.
    pub fn service(self) -> &'static str {
        match self {
            Self::Milenage => "milenage",
            Self::Tuak => "tuak128",
            Self::Test => "usim-test-algorithm",
        }
    }
}

/// The name of an `algorithmID` (§9.7), as `inspect` and error messages print it.
pub fn algorithm_name(id: u8) -> &'static str {
    match id {
        1 => "Milenage",
        2 => "TUAK",
        3 => "usim-test-algorithm",
        _ => "unknown algorithm",
    }
}

/// The AKA parameter element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AkaParameter {
    /// `aka-header` (`A0`).
    pub header: PeHeader,
    /// `algoConfiguration` (`A1`, explicit).
    pub algo: AlgoConfiguration,
    /// `sqnOptions` (`82`), DEFAULT `02`.
    pub sqn_options: u8,
    /// `sqnDelta` (`83`), DEFAULT `000010000000`.
    pub sqn_delta: [u8; 6],
    /// `sqnAgeLimit` (`84`), DEFAULT `000010000000`.
    pub sqn_age_limit: [u8; 6],
    /// `sqnInit` (`A5`), 32 entries, DEFAULT all zero.
    pub sqn_init: Vec<[u8; 6]>,
}

/// `algoConfiguration`: typed for a 128-bit `AlgoParameter`, raw otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlgoConfiguration {
    /// `algoParameter` (`A1`) with 128-bit key and OPc (Milenage, TUAK-128, test algorithm).
    Algo(AlgoParameter),
    /// Any other alternative (`mappingParameter` `A0`, TUAK-256 keys, extensions): the
    /// inner TLV, byte for byte.
    Raw(Vec<u8>),
}

/// What an `algoConfiguration` holds, whether decoded typed or kept raw: its algorithm
/// and the bytes of its key fields. Fields absent or unreadable are `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlgoView<'a> {
    /// `algorithmID`.
    pub algorithm_id: Option<u8>,
    /// `key` (K).
    pub key: Option<&'a [u8]>,
    /// `opc` (OPc or TOPc).
    pub opc: Option<&'a [u8]>,
}

impl AlgoConfiguration {
    /// Overwrites the value of component `tag` (`82` key, `83` opc) of a raw
    /// `algoParameter` with `value` of the same length; `false` (and nothing changed) if
    /// there is no such component of that length.
    pub(crate) fn overwrite_raw(&mut self, tag: u32, value: &[u8]) -> bool {
        let Self::Raw(raw) = self else {
            return false;
        };
        let range = read_tlv(raw, 0).ok().and_then(|tlv| {
            let mut r = Reader::children(&tlv);
            while let Ok(Some(t)) = r.next_tlv() {
                if t.tag == tag {
                    let start = t.value_offset();
                    return Some(start..start.saturating_add(t.value().len()));
                }
            }
            None
        });
        match range.and_then(|r| raw.get_mut(r)) {
            Some(slot) if slot.len() == value.len() => {
                slot.copy_from_slice(value);
                true
            }
            _ => false,
        }
    }

    /// The algorithm and keys of an `algoParameter`; `None` for a `mappingParameter` or
    /// an extension, which carry no keys of their own.
    pub fn view(&self) -> Option<AlgoView<'_>> {
        match self {
            Self::Algo(a) => Some(AlgoView {
                algorithm_id: Some(a.algorithm_id),
                key: Some(a.key.expose()),
                opc: Some(a.opc.expose()),
            }),
            Self::Raw(raw) => {
                let tlv = read_tlv(raw, 0).ok()?;
                if tlv.tag != 0xA1 {
                    return None;
                }
                let mut view = AlgoView {
                    algorithm_id: None,
                    key: None,
                    opc: None,
                };
                let mut r = Reader::children(&tlv);
                while let Ok(Some(t)) = r.next_tlv() {
                    match t.tag {
                        0x80 => view.algorithm_id = decode_uint(&t, ELEMENT).ok(),
                        0x82 => view.key = Some(t.value()),
                        0x83 => view.opc = Some(t.value()),
                        _ => {}
                    }
                }
                Some(view)
            }
        }
    }
}

/// `AlgoParameter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlgoParameter {
    /// `algorithmID` (`80`): 1 Milenage, 2 TUAK, 3 test algorithm.
    pub algorithm_id: u8,
    /// `algorithmOptions` (`81`), one byte.
    pub algorithm_options: u8,
    /// `key` (`82`): K.
    pub key: Key128,
    /// `opc` (`83`): OPc (Milenage) or TOPc (TUAK).
    pub opc: Key128,
    /// `rotationConstants` (`84`), DEFAULT [`DEFAULT_ROTATION`].
    pub rotation_constants: [u8; 5],
    /// `xoringConstants` (`85`), DEFAULT [`DEFAULT_XORING`].
    pub xoring_constants: [u8; 80],
    /// `authCounterMax` (`86`) OPTIONAL.
    pub auth_counter_max: Option<[u8; 3]>,
    /// `numberOfKeccak` (`87`), DEFAULT 1.
    pub number_of_keccak: u8,
}

impl AlgoParameter {
    /// Milenage with the given options, K and OPc, and every other component at DEFAULT.
    pub fn milenage(algorithm_options: u8, key: Key128, opc: Key128) -> Self {
        Self {
            algorithm_id: ALGORITHM_MILENAGE,
            algorithm_options,
            key,
            opc,
            rotation_constants: DEFAULT_ROTATION,
            xoring_constants: DEFAULT_XORING,
            auth_counter_max: None,
            number_of_keccak: DEFAULT_NUMBER_OF_KECCAK,
        }
    }

    /// Decodes the `A1` AlgoParameter; `None` if its key or OPc is not 128 bits.
    fn decode(tlv: &Tlv<'_>) -> Result<Option<Self>, ProfileError> {
        let mut r = Reader::children(tlv);
        let id = r.expect(0x80, ELEMENT, "algorithmID missing")?;
        let options = r.expect(0x81, ELEMENT, "algorithmOptions missing")?;
        let key = r.expect(0x82, ELEMENT, "key missing")?;
        let opc = r.expect(0x83, ELEMENT, "opc missing")?;
        let rotation = r.take(0x84)?;
        let xoring = r.take(0x85)?;
        let counter = r.take(0x86)?;
        let keccak = r.take(0x87)?;
        r.finish(ELEMENT)?;
        let (Ok(k), Ok(o)) = (
            <[u8; 16]>::try_from(key.value()),
            <[u8; 16]>::try_from(opc.value()),
        ) else {
            return Ok(None);
        };
        Ok(Some(Self {
            algorithm_id: decode_uint(&id, ELEMENT)?,
            algorithm_options: decode_fixed::<1>(&options, ELEMENT, "algorithmOptions size")?[0],
            key: Key128::from_bytes(k),
            opc: Key128::from_bytes(o),
            rotation_constants: match rotation {
                Some(t) => decode_fixed(&t, ELEMENT, "rotationConstants size")?,
                None => DEFAULT_ROTATION,
            },
            xoring_constants: match xoring {
                Some(t) => decode_fixed(&t, ELEMENT, "xoringConstants size")?,
                None => DEFAULT_XORING,
            },
            auth_counter_max: counter
                .map(|t| decode_fixed(&t, ELEMENT, "authCounterMax size"))
                .transpose()?,
            number_of_keccak: match keccak {
                Some(t) => decode_uint(&t, ELEMENT)?,
                None => DEFAULT_NUMBER_OF_KECCAK,
            },
        }))
    }

    /// Appends the `A1` TLV.
    fn encode(&self, out: &mut Vec<u8>) {
        let mut v = Vec::with_capacity(48);
        push_uint(&mut v, 0x80, u64::from(self.algorithm_id));
        push_tlv(&mut v, 0x81, &[self.algorithm_options]);
        push_tlv(&mut v, 0x82, self.key.expose());
        push_tlv(&mut v, 0x83, self.opc.expose());
        if self.rotation_constants != DEFAULT_ROTATION {
            push_tlv(&mut v, 0x84, &self.rotation_constants);
        }
        if self.xoring_constants != DEFAULT_XORING {
            push_tlv(&mut v, 0x85, &self.xoring_constants);
        }
        if let Some(c) = &self.auth_counter_max {
            push_tlv(&mut v, 0x86, c);
        }
        if self.number_of_keccak != DEFAULT_NUMBER_OF_KECCAK {
            push_uint(&mut v, 0x87, u64::from(self.number_of_keccak));
        }
        push_tlv(out, 0xA1, &v);
        zeroize::Zeroize::zeroize(&mut v);
    }
}

impl AkaParameter {
    /// An element with the given header and algorithm, and every SQN field at DEFAULT.
    pub fn new(header: PeHeader, algo: AlgoParameter) -> Self {
        Self {
            header,
            algo: AlgoConfiguration::Algo(algo),
            sqn_options: DEFAULT_SQN_OPTIONS,
            sqn_delta: DEFAULT_SQN_DELTA,
            sqn_age_limit: DEFAULT_SQN_AGE_LIMIT,
            sqn_init: vec![[0u8; 6]; SQN_INIT_LEN],
        }
    }

    /// Decodes the element from its `A4` TLV.
    pub(crate) fn decode(tlv: &Tlv<'_>) -> Result<Self, ProfileError> {
        let mut r = Reader::children(tlv);
        let header = PeHeader::read(&mut r, ELEMENT)?;
        let config = r.expect(0xA1, ELEMENT, "algoConfiguration missing")?;
        let mut inner = Reader::children(&config);
        let choice = inner
            .next_tlv()?
            .ok_or(ProfileError::malformed(ELEMENT, "empty algoConfiguration"))?;
        inner.finish(ELEMENT)?;
        let algo = match choice.tag {
            0xA1 => match AlgoParameter::decode(&choice)? {
                Some(a) => AlgoConfiguration::Algo(a),
                None => AlgoConfiguration::Raw(choice.bytes.to_vec()),
            },
            _ => AlgoConfiguration::Raw(choice.bytes.to_vec()),
        };
        let sqn_options = match r.take(0x82)? {
            Some(t) => decode_fixed::<1>(&t, ELEMENT, "sqnOptions size")?[0],
            None => DEFAULT_SQN_OPTIONS,
        };
        let sqn_delta = match r.take(0x83)? {
            Some(t) => decode_fixed(&t, ELEMENT, "sqnDelta size")?,
            None => DEFAULT_SQN_DELTA,
        };
        let sqn_age_limit = match r.take(0x84)? {
            Some(t) => decode_fixed(&t, ELEMENT, "sqnAgeLimit size")?,
            None => DEFAULT_SQN_AGE_LIMIT,
        };
        let sqn_init = match r.take(0xA5)? {
            Some(t) => decode_sqn_init(&t)?,
            None => vec![[0u8; 6]; SQN_INIT_LEN],
        };
        r.finish(ELEMENT)?;
        Ok(Self {
            header,
            algo,
            sqn_options,
            sqn_delta,
            sqn_age_limit,
            sqn_init,
        })
    }

    /// Appends the whole `A4` TLV.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let mut v = Vec::with_capacity(64);
        self.header.encode(&mut v);
        let mut config = Vec::with_capacity(48);
        match &self.algo {
            AlgoConfiguration::Algo(a) => a.encode(&mut config),
            AlgoConfiguration::Raw(raw) => config.extend_from_slice(raw),
        }
        push_tlv(&mut v, 0xA1, &config);
        zeroize::Zeroize::zeroize(&mut config);
        if self.sqn_options != DEFAULT_SQN_OPTIONS {
            push_tlv(&mut v, 0x82, &[self.sqn_options]);
        }
        if self.sqn_delta != DEFAULT_SQN_DELTA {
            push_tlv(&mut v, 0x83, &self.sqn_delta);
        }
        if self.sqn_age_limit != DEFAULT_SQN_AGE_LIMIT {
            push_tlv(&mut v, 0x84, &self.sqn_age_limit);
        }
        if self.sqn_init.len() != SQN_INIT_LEN || self.sqn_init.iter().any(|s| *s != [0u8; 6]) {
            let mut init = Vec::with_capacity(self.sqn_init.len() * 8);
            for s in &self.sqn_init {
                push_tlv(&mut init, 0x04, s);
            }
            push_tlv(&mut v, 0xA5, &init);
        }
        push_tlv(out, 0xA4, &v);
        zeroize::Zeroize::zeroize(&mut v);
    }
}

fn decode_sqn_init(tlv: &Tlv<'_>) -> Result<Vec<[u8; 6]>, ProfileError> {
    let mut r = Reader::children(tlv);
    let mut out = Vec::with_capacity(SQN_INIT_LEN);
    while let Some(t) = r.next_tlv()? {
        if t.tag != 0x04 {
            return Err(ProfileError::malformed(
                ELEMENT,
                "sqnInit entry is not an OCTET STRING",
            ));
        }
        out.push(decode_fixed(&t, ELEMENT, "sqnInit entry size")?);
    }
    if out.len() != SQN_INIT_LEN {
        return Err(ProfileError::malformed(
            ELEMENT,
            "sqnInit must have 32 entries",
        ));
    }
    Ok(out)
}

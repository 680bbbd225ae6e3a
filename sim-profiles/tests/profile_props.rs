//! Property tests for the profile package codec: no input makes it panic, anything it
//! accepts re-encodes byte for byte, and any package built from generated typed elements
//! round-trips exactly.

use proptest::prelude::*;
use sim_profiles::profile::{
    AkaParameter, AlgoConfiguration, AlgoParameter, DEFAULT_ROTATION, DEFAULT_XORING, End,
    MandatoryServices, ObjectId, Package, PeHeader, PinCodes, PinCodesContent, PinConfiguration,
    ProfileElement, ProfileHeader, PukCodes, PukConfiguration, RawPe, SQN_INIT_LEN, encode_tlv,
    split_package,
};
use sim_profiles::{Iccid, Key128};

// Golden vectors of the reference (§9.12), copied so that tests read nothing outside the crate.
const HEADER: &str = "a030800102810103820474657374830a89000123456789012341a50481008400a610060667810f010201060667810f010204";
const AKA: &str = "a435a005800081010ba12ca12a8001018101008210000102030405060708090a0b0c0d0e0f8310101112131415161718191a1b1c1d1e1f";
const PIN: &str = "a236a0058000810102a12da02b3013800101810830303030ffffffff820101830106301480010a81083535353535353535830103840200aa";
const PUK: &str =
    "a328a0058000810105a11f300d80010181083131313131313131300e8002008181083232323232323232";
const END: &str = "aa07a005800081011f";
const DF_5GPROSE: &str = "bf1f13a0058000810128810667810f010210a2028000";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("test hex"))
        .collect()
}

fn golden_package() -> Vec<u8> {
    hex(&[HEADER, PUK, PIN, AKA, DF_5GPROSE, END].concat())
}

/// Checks the codec's contract on any input: no panic, and acceptance implies a byte-exact
/// round trip.
fn check_bytes(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(parts) = split_package(bytes) {
        let joined: Vec<u8> = parts.iter().flat_map(|p| p.bytes.iter().copied()).collect();
        prop_assert_eq!(&joined, bytes);
    }
    if let Ok(e) = ProfileElement::decode(bytes) {
        prop_assert_eq!(e.encode(), bytes);
    }
    if let Ok(p) = Package::decode(bytes) {
        prop_assert_eq!(p.encode(), bytes);
    }
    Ok(())
}

/// The DER of a PE header, written independently of the crate.
fn pe_header_der(mandated: bool, id: u16) -> Vec<u8> {
    let mut v = Vec::new();
    if mandated {
        v.extend([0x80, 0x00]);
    }
    let int = if id >= 0x80 {
        let b = id.to_be_bytes();
        if b[0] == 0 {
            vec![0x00, b[1]]
        } else if b[0] >= 0x80 {
            vec![0, b[0], b[1]]
        } else {
            b.to_vec()
        }
    } else {
        vec![id as u8]
    };
    v.extend(encode_tlv(0x81, &int));
    encode_tlv(0xA0, &v)
}

fn key() -> impl Strategy<Value = Key128> {
    any::<[u8; 16]>().prop_map(Key128::from_bytes)
}

fn header() -> impl Strategy<Value = ProfileHeader> {
    (
        any::<u8>(),
        any::<u8>(),
        proptest::option::of("\\PC{1,20}"),
        "89[0-9]{16,17}",
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..4)),
        proptest::collection::btree_set(0u32..40, 0..6),
        proptest::collection::vec(0u8..=200, 0..4),
        proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..6), 0..3),
    )
        .prop_map(
            |(major, minor, profile_type, payload, pol, services, oids, extra)| {
                let mut mandatory_services = MandatoryServices::new();
                for s in services {
                    mandatory_services.insert(s);
                }
                ProfileHeader {
                    major_version: major,
                    minor_version: minor,
                    profile_type,
                    iccid: Iccid::from_payload(&payload).expect("generated payload"),
                    pol,
                    mandatory_services,
                    gfste_list: oids.into_iter().map(ObjectId::template).collect(),
                    extra: extra.iter().map(|v| encode_tlv(0x87, v)).collect(),
                }
            },
        )
}

fn algo() -> impl Strategy<Value = AlgoConfiguration> {
    let typed = (
        any::<u8>(),
        any::<u8>(),
        key(),
        key(),
        prop_oneof![Just(DEFAULT_ROTATION), any::<[u8; 5]>()],
        prop_oneof![
            Just(DEFAULT_XORING.to_vec()),
            proptest::collection::vec(any::<u8>(), 80)
        ],
        proptest::option::of(any::<[u8; 3]>()),
        any::<u8>(),
    )
        .prop_map(|(id, options, k, opc, rotation, xoring, counter, keccak)| {
            let mut xoring_constants = [0u8; 80];
            xoring_constants.copy_from_slice(&xoring);
            AlgoConfiguration::Algo(AlgoParameter {
                algorithm_id: id,
                algorithm_options: options,
                key: k,
                opc,
                rotation_constants: rotation,
                xoring_constants,
                auth_counter_max: counter,
                number_of_keccak: keccak,
            })
        });
    let raw = proptest::collection::vec(any::<u8>(), 0..20)
        .prop_map(|v| AlgoConfiguration::Raw(encode_tlv(0xA0, &v)));
    prop_oneof![4 => typed, 1 => raw]
}

fn aka(header: PeHeader) -> impl Strategy<Value = ProfileElement> {
    (
        algo(),
        any::<u8>(),
        any::<[u8; 6]>(),
        any::<[u8; 6]>(),
        prop_oneof![
            Just(vec![[0u8; 6]; SQN_INIT_LEN]),
            proptest::collection::vec(any::<[u8; 6]>(), SQN_INIT_LEN)
        ],
    )
        .prop_map(
            move |(algo, sqn_options, sqn_delta, sqn_age_limit, sqn_init)| {
                ProfileElement::Aka(AkaParameter {
                    header,
                    algo,
                    sqn_options,
                    sqn_delta,
                    sqn_age_limit,
                    sqn_init,
                })
            },
        )
}

fn pins(header: PeHeader) -> impl Strategy<Value = ProfileElement> {
    let config = (
        any::<u8>(),
        any::<[u8; 8]>(),
        proptest::option::of(any::<u8>()),
        any::<u8>(),
        any::<u8>(),
    )
        .prop_map(
            |(key_reference, value, unblocking_reference, attributes, attempts)| PinConfiguration {
                key_reference,
                value,
                unblocking_reference,
                attributes,
                attempts,
            },
        );
    prop_oneof![
        4 => proptest::collection::vec(config, 1..5).prop_map(PinCodesContent::Pins),
        1 => proptest::collection::vec(any::<u8>(), 0..6).prop_map(PinCodesContent::FilePath),
    ]
    .prop_map(move |codes| ProfileElement::PinCodes(PinCodes { header, codes }))
}

fn puks(header: PeHeader) -> impl Strategy<Value = ProfileElement> {
    let config = (any::<u8>(), any::<[u8; 8]>(), any::<u8>()).prop_map(
        |(key_reference, value, attempts)| PukConfiguration {
            key_reference,
            value,
            attempts,
        },
    );
    proptest::collection::vec(config, 1..5)
        .prop_map(move |codes| ProfileElement::PukCodes(PukCodes { header, codes }))
}

fn raw(header: PeHeader) -> impl Strategy<Value = ProfileElement> {
    (
        prop::sample::select(vec![0xA1u32, 0xA6, 0xA7, 0xB2, 0xBF1F, 0xBF20, 0xBF22]),
        proptest::collection::vec(any::<u8>(), 0..30),
    )
        .prop_map(move |(tag, tail)| {
            let mut v = pe_header_der(header.mandated, header.identification);
            v.extend(encode_tlv(0x81, &tail));
            let tag_bytes: Vec<u8> = tag
                .to_be_bytes()
                .into_iter()
                .skip_while(|b| *b == 0)
                .collect();
            let mut der = tag_bytes;
            der.extend(&encode_tlv(0x04, &v)[1..]);
            ProfileElement::Raw(RawPe { tag, der })
        })
}

fn mf(header: PeHeader) -> impl Strategy<Value = ProfileElement> {
    proptest::collection::vec(any::<u8>(), 0..200).prop_map(move |content| {
        let mut v = pe_header_der(header.mandated, header.identification);
        v.extend(encode_tlv(0xA2, &[0x80, 0x00]));
        v.extend(encode_tlv(0xA4, &encode_tlv(0x83, &content)));
        ProfileElement::decode(&encode_tlv(0xB0, &v)).expect("generated PE-MF")
    })
}

fn middle(header: PeHeader) -> BoxedStrategy<ProfileElement> {
    prop_oneof![
        aka(header),
        pins(header),
        puks(header),
        raw(header),
        mf(header)
    ]
    .boxed()
}

fn package() -> impl Strategy<Value = Vec<ProfileElement>> {
    (
        header(),
        proptest::collection::vec(any::<bool>(), 0..8),
        any::<bool>(),
    )
        .prop_flat_map(|(h, kinds, end_mandated)| {
            let n = kinds.len();
            let middles: Vec<BoxedStrategy<ProfileElement>> = kinds
                .into_iter()
                .enumerate()
                .map(|(i, mandated)| {
                    // Ids are unique but deliberately not monotonic.
                    let identification = u16::try_from(1000 - i * 7).unwrap_or(1);
                    middle(PeHeader {
                        mandated,
                        identification,
                    })
                })
                .collect();
            (Just(h), middles).prop_map(move |(h, mids)| {
                let mut all = vec![ProfileElement::Header(h)];
                all.extend(mids);
                all.push(ProfileElement::End(End {
                    header: PeHeader {
                        mandated: end_mandated,
                        identification: u16::try_from(n + 2).unwrap_or(2),
                    },
                }));
                all
            })
        })
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        check_bytes(&bytes)?;
    }

    #[test]
    fn mutated_golden_package_never_panics(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = golden_package();
        for (at, b) in flips {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        check_bytes(&bytes)?;
    }

    #[test]
    fn generated_packages_round_trip(elements in package()) {
        let package = Package::from_elements(elements).expect("valid generated package");
        let bytes = package.encode();
        let decoded = Package::decode(&bytes).expect("generated package decodes");
        prop_assert_eq!(decoded.encode(), bytes);
        prop_assert_eq!(decoded, package);
    }
}

#[test]
fn golden_package_round_trips() {
    let bytes = golden_package();
    let p = Package::decode(&bytes).expect("decodes");
    assert_eq!(p.encode(), bytes);
}

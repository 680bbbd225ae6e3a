//! The TCA profile package codec against the reference golden vectors (copied here: tests
//! never read /work/shared), a synthetic package built from them, and typed errors.

use sim_profiles::profile::{
    AlgoConfiguration, AlgoParameter, End, MandatoryServices, ObjectId, Package, PeHeader,
    PinCodesContent, ProfileElement, ProfileError, RawPe, encode_tlv, split_package,
};
use sim_profiles::{Iccid, Imsi, Key128};

const HEADER: &str = "a030800102810103820474657374830a89000123456789012341a50481008400a610060667810f010201060667810f010204";
const AKA: &str = "a435a005800081010ba12ca12a8001018101008210000102030405060708090a0b0c0d0e0f8310101112131415161718191a1b1c1d1e1f";
const PIN: &str = "a236a0058000810102a12da02b3013800101810830303030ffffffff820101830106301480010a81083535353535353535830103840200aa";
const PUK: &str =
    "a328a0058000810105a11f300d80010181083131313131313131300e8002008181083232323232323232";
const END: &str = "aa07a005800081011f";
const DF_5GPROSE: &str = "bf1f13a0058000810128810667810f010210a2028000";
const IOT: &str = "bf2020a003810101810667810f010211a90b8309080910101032540636b20483020008";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("test hex"))
        .collect()
}

/// Decodes one element, checks it re-encodes to the same bytes, and returns it.
fn check(vector: &str) -> ProfileElement {
    let der = hex(vector);
    let element = ProfileElement::decode(&der).expect("golden vector decodes");
    assert_eq!(element.encode(), der, "re-encoding differs");
    element
}

fn id(mandated: bool, identification: u16) -> PeHeader {
    PeHeader {
        mandated,
        identification,
    }
}

fn key(first: u8) -> Key128 {
    let mut k = [0u8; 16];
    for (i, b) in k.iter_mut().enumerate() {
        *b = first + i as u8;
    }
    Key128::from_bytes(k)
}

#[test]
fn header_vector() {
    let ProfileElement::Header(h) = check(HEADER) else {
        panic!("not a header")
    };
    assert_eq!((h.major_version, h.minor_version), (2, 3));
    assert_eq!(h.profile_type.as_deref(), Some("test"));
    assert_eq!(h.iccid.as_str(), "89000123456789012341");
    assert_eq!(h.pol, None);
    assert_eq!(h.mandatory_services.names(), vec!["usim", "milenage"]);
    assert!(h.mandatory_services.contains_name("milenage"));
    let oids: Vec<String> = h.gfste_list.iter().map(ToString::to_string).collect();
    assert_eq!(oids, vec!["2.23.143.1.2.1", "2.23.143.1.2.4"]);
    assert_eq!(h.gfste_list[0], ObjectId::template(1));
    assert_eq!(h.gfste_list[1], "2.23.143.1.2.4".parse().expect("oid"));
    assert!(h.extra.is_empty());
}

#[test]
fn header_built_from_values_matches_vector() {
    let ProfileElement::Header(mut h) = check(HEADER) else {
        panic!("not a header")
    };
    h.mandatory_services = ["usim", "milenage"].into_iter().collect();
    h.gfste_list = vec![ObjectId::template(1), ObjectId::template(4)];
    assert_eq!(ProfileElement::Header(h).encode(), hex(HEADER));
}

#[test]
fn header_with_19_digit_iccid_is_f_padded_not_swapped() {
    let ProfileElement::Header(mut h) = check(HEADER) else {
        panic!("not a header")
    };
    h.iccid = "8949449999999990171".parse().expect("iccid");
    let der = ProfileElement::Header(h).encode();
    let needle = hex("830a8949449999999990171f");
    assert!(der.windows(needle.len()).any(|w| w == needle.as_slice()));
    assert_eq!(ProfileElement::decode(&der).expect("decodes").encode(), der);
}

#[test]
fn aka_vector() {
    let ProfileElement::Aka(a) = check(AKA) else {
        panic!("not aka")
    };
    assert_eq!(a.header, id(true, 11));
    let AlgoConfiguration::Algo(p) = &a.algo else {
        panic!("not an AlgoParameter")
    };
    assert_eq!(p.algorithm_id, 1);
    assert_eq!(p.algorithm_options, 0);
    assert_eq!(p.key, key(0x00));
    assert_eq!(p.opc, key(0x10));
    assert_eq!(p, &AlgoParameter::milenage(0, key(0x00), key(0x10)));
    let printed = format!("{a:?}");
    assert!(printed.contains("***"));
    assert!(!printed.contains("0, 1, 2, 3"));
    let built = sim_profiles::profile::AkaParameter::new(
        id(true, 11),
        AlgoParameter::milenage(0, key(0x00), key(0x10)),
    );
    assert_eq!(ProfileElement::Aka(built).encode(), hex(AKA));
}

#[test]
fn pin_vector() {
    let ProfileElement::PinCodes(p) = check(PIN) else {
        panic!("not pinCodes")
    };
    assert_eq!(p.header, id(true, 2));
    let PinCodesContent::Pins(pins) = &p.codes else {
        panic!("not a pin list")
    };
    assert_eq!(pins.len(), 2);
    assert_eq!(pins[0].key_reference, 1);
    assert_eq!(&pins[0].value, b"0000\xff\xff\xff\xff");
    assert_eq!(pins[0].unblocking_reference, Some(1));
    assert_eq!(pins[0].attributes, 6);
    assert_eq!(pins[0].attempts, 0x33);
    assert_eq!(pins[1].key_reference, 10);
    assert_eq!(&pins[1].value, b"55555555");
    assert_eq!(pins[1].unblocking_reference, None);
    assert_eq!(pins[1].attributes, 3);
    assert_eq!(pins[1].attempts, 0xAA);
    assert!(
        !format!("{p:?}").contains("53"),
        "PIN values are not printed"
    );
}

#[test]
fn puk_vector() {
    let ProfileElement::PukCodes(p) = check(PUK) else {
        panic!("not pukCodes")
    };
    assert_eq!(p.header, id(true, 5));
    assert_eq!(p.codes.len(), 2);
    assert_eq!(p.codes[0].key_reference, 1);
    assert_eq!(&p.codes[0].value, b"11111111");
    assert_eq!(p.codes[0].attempts, 0xAA);
    assert_eq!(p.codes[1].key_reference, 129);
    assert_eq!(&p.codes[1].value, b"22222222");
}

#[test]
fn end_vector() {
    assert_eq!(
        check(END),
        ProfileElement::End(End {
            header: id(true, 31)
        })
    );
}

#[test]
fn high_tag_vectors_stay_raw() {
    let e = check(DF_5GPROSE);
    assert_eq!(e.tag(), 0xBF1F);
    assert_eq!(e.name(), "df-5gprose");
    assert_eq!(e.pe_header(), Some(id(true, 40)));
    let e = check(IOT);
    assert_eq!(e.tag(), 0xBF20);
    assert_eq!(e.name(), "iot");
    assert_eq!(e.pe_header(), Some(id(false, 1)));
    let both = hex(&format!("{DF_5GPROSE}{IOT}"));
    let split = split_package(&both).expect("splits");
    assert_eq!(
        split.iter().map(|r| r.tag).collect::<Vec<_>>(),
        vec![0xBF1F, 0xBF20]
    );
    assert_eq!(split[1].bytes, hex(IOT).as_slice());
}

/// A PE-MF with EF.ICCID, and a PE-USIM with EF.IMSI, around other files kept raw.
fn mf_der() -> Vec<u8> {
    let mut v = hex("a0058000810103");
    v.extend(hex("810667810f010201"));
    v.extend(encode_tlv(0xA2, &hex("a10a8202782183023f008a0105")));
    v.extend(encode_tlv(
        0xA4,
        &hex("83 0a 98 92 09 01 21 43 65 87 09 f5"
            .replace(' ', "")
            .as_str()),
    ));
    v.extend(encode_tlv(0xA5, &hex("8000")));
    v.extend(encode_tlv(0xA6, &hex("8000")));
    encode_tlv(0xB0, &v)
}

fn usim_der() -> Vec<u8> {
    let mut v = hex("a0058000810108");
    v.extend(hex("810667810f010204"));
    v.extend(encode_tlv(0xA2, &hex("8000")));
    v.extend(encode_tlv(
        0xA3,
        // fileDescriptor, fillFileContent, then a fillFileOffset after it.
        &hex("a10482024121830908091010103254063682020004"),
    ));
    v.extend(encode_tlv(0xB2, &hex("83020001")));
    encode_tlv(0xB3, &v)
}

#[test]
fn mf_exposes_and_replaces_ef_iccid() {
    let der = mf_der();
    let ProfileElement::Mf(mut mf) = ProfileElement::decode(&der).expect("mf") else {
        panic!("not mf")
    };
    assert_eq!(mf.header(), &id(true, 3));
    assert_eq!(
        mf.ef_iccid_content(),
        Some(hex("989209012143658709f5").as_slice())
    );
    assert_eq!(mf.iccid().expect("iccid").as_str(), "8929901012345678905");
    assert_eq!(mf.der(), der.as_slice());

    let new: Iccid = "89000123456789012341".parse().expect("iccid");
    mf.set_iccid(&new).expect("set");
    assert_eq!(mf.iccid().expect("iccid"), new);
    let expected = der
        .windows(12)
        .position(|w| w == hex("830a989209012143658709f5").as_slice())
        .expect("old content");
    let mut want = der.clone();
    want.splice(expected + 2..expected + 12, new.to_ef_bytes());
    assert_eq!(mf.der(), want.as_slice(), "only the content bytes change");

    // A longer value re-frames the file and the element; everything else is kept.
    mf.set_ef_iccid_content(&[0x11; 200]).expect("set long");
    assert_eq!(mf.ef_iccid_content(), Some([0x11u8; 200].as_slice()));
    let again = ProfileElement::decode(mf.der()).expect("still decodes");
    assert_eq!(again.encode(), mf.der());
}

#[test]
fn usim_exposes_and_replaces_ef_imsi() {
    let der = usim_der();
    let ProfileElement::Usim(mut usim) = ProfileElement::decode(&der).expect("usim") else {
        panic!("not usim")
    };
    assert_eq!(usim.imsi().expect("imsi").as_str(), "001010123456063");
    let new: Imsi = "460001234567890".parse().expect("imsi");
    usim.set_imsi(&new).expect("set");
    assert_eq!(usim.imsi().expect("imsi"), new);
    assert_eq!(usim.der().len(), der.len());
    assert_eq!(usim.der()[..29], der[..29]);
    assert_eq!(usim.der()[usim.der().len() - 6..], der[der.len() - 6..]);
}

#[test]
fn missing_file_is_a_typed_error() {
    let der = encode_tlv(0xB3, &hex("a0058000810108810667810f010204"));
    let ProfileElement::Usim(mut usim) = ProfileElement::decode(&der).expect("usim") else {
        panic!("not usim")
    };
    assert_eq!(usim.ef_imsi_content(), None);
    let missing = ProfileError::MissingFile { file: "EF.IMSI" };
    assert_eq!(usim.imsi(), Err(missing.clone()));
    let imsi: Imsi = "001010123456063".parse().expect("imsi");
    assert_eq!(usim.set_imsi(&imsi), Err(missing));
}

fn synthetic() -> Vec<u8> {
    let unknown = hex("bf2205a003810163"); // an alternative v3.3.1 does not define
    let parts = [
        hex(HEADER),
        mf_der(),
        hex(PUK),
        hex(PIN),
        usim_der(),
        hex(AKA),
        hex(DF_5GPROSE),
        unknown,
        hex(END),
    ];
    parts.concat()
}

#[test]
fn synthetic_package_round_trips() {
    let bytes = synthetic();
    let package = Package::decode(&bytes).expect("decodes");
    assert_eq!(package.encode(), bytes);
    let names: Vec<&str> = package
        .elements()
        .iter()
        .map(ProfileElement::name)
        .collect();
    assert_eq!(
        names,
        vec![
            "header",
            "mf",
            "pukCodes",
            "pinCodes",
            "usim",
            "akaParameter",
            "df-5gprose",
            "unknown",
            "end"
        ]
    );
    let raw = &package.elements()[7];
    assert_eq!(
        raw,
        &ProfileElement::Raw(RawPe {
            tag: 0xBF22,
            der: hex("bf2205a003810163")
        })
    );
    assert_eq!(
        package.header().map(|h| h.iccid.as_str()),
        Some("89000123456789012341")
    );
}

#[test]
fn personalising_mf_and_usim_keeps_the_rest() {
    let bytes = synthetic();
    let mut package = Package::decode(&bytes).expect("decodes");
    let iccid: Iccid = "8949449999999990171".parse().expect("iccid");
    let imsi: Imsi = "460001234567890".parse().expect("imsi");
    package
        .mf_mut()
        .expect("mf")
        .set_iccid(&iccid)
        .expect("set");
    package
        .usim_mut()
        .expect("usim")
        .set_imsi(&imsi)
        .expect("set");
    let out = package.encode();
    assert_eq!(out.len(), bytes.len());
    let again = Package::decode(&out).expect("re-decodes");
    assert_eq!(again.mf().expect("mf").iccid().expect("iccid"), iccid);
    assert_eq!(again.usim().expect("usim").imsi().expect("imsi"), imsi);
    let differing = out.iter().zip(&bytes).filter(|(a, b)| a != b).count();
    assert!(differing <= 10 + 9, "{differing} bytes changed");
}

#[test]
fn framing_errors_are_typed() {
    let cases: Vec<(&str, Vec<u8>, ProfileError)> = vec![
        ("empty", vec![], ProfileError::Empty),
        (
            "truncated value",
            hex(&END[..14]),
            ProfileError::Truncated { offset: 0 },
        ),
        (
            "truncated tag",
            hex("bf"),
            ProfileError::Truncated { offset: 0 },
        ),
        (
            "truncated length",
            hex("a082"),
            ProfileError::Truncated { offset: 0 },
        ),
        (
            "indefinite",
            hex("a0800000"),
            ProfileError::IndefiniteLength { offset: 1 },
        ),
        (
            "81 for a short length",
            hex("a08105"),
            ProfileError::NonMinimalLength { offset: 1 },
        ),
        (
            "82 with a leading zero",
            hex("a0820005"),
            ProfileError::NonMinimalLength { offset: 1 },
        ),
        (
            "84 form",
            hex("a08400000001"),
            ProfileError::LengthTooLarge { offset: 1 },
        ),
        (
            "high tag below 31",
            hex("bf0500"),
            ProfileError::InvalidTag { offset: 0 },
        ),
        (
            "high tag padded",
            hex("bf801f00"),
            ProfileError::InvalidTag { offset: 0 },
        ),
        (
            "primitive top level",
            hex("0400"),
            ProfileError::NotAnElement { offset: 0 },
        ),
    ];
    for (name, input, want) in cases {
        assert_eq!(Package::decode(&input), Err(want), "{name}");
    }
    // An error deep inside the package carries its absolute offset.
    let mut bad = hex(HEADER);
    bad.extend(hex("aa07a0058000810201")); // identification runs past its parent
    let at = hex(HEADER).len();
    assert_eq!(
        Package::decode(&bad),
        Err(ProfileError::Truncated { offset: at + 6 })
    );
}

#[test]
fn package_rule_errors_are_typed() {
    let p = |parts: &[&str]| hex(&parts.concat());
    let cases = vec![
        (
            "missing header",
            p(&[PUK, END]),
            ProfileError::MissingHeader,
        ),
        (
            "header not first",
            p(&[PUK, HEADER, END]),
            ProfileError::HeaderNotFirst { index: 1 },
        ),
        (
            "two headers",
            p(&[HEADER, HEADER, END]),
            ProfileError::DuplicateHeader { index: 1 },
        ),
        ("missing end", p(&[HEADER, PUK]), ProfileError::MissingEnd),
        (
            "after end",
            p(&[HEADER, END, PUK]),
            ProfileError::ElementAfterEnd { index: 2 },
        ),
        (
            "two ends",
            p(&[HEADER, END, END]),
            ProfileError::ElementAfterEnd { index: 2 },
        ),
        (
            "duplicate id",
            p(&[
                HEADER,
                PIN,
                "a3",
                &PUK[2..4],
                "a0058000810102",
                &PUK[18..],
                END,
            ]),
            ProfileError::DuplicateIdentification { id: 2 },
        ),
        (
            "duplicate id in a raw element",
            p(&[HEADER, "bf1f13a005800081011f", &DF_5GPROSE[20..], END]),
            ProfileError::DuplicateIdentification { id: 31 },
        ),
    ];
    for (name, input, want) in cases {
        assert_eq!(Package::decode(&input), Err(want), "{name}");
    }
    assert_eq!(
        Package::decode(&p(&[HEADER, END])).map(|p| p.encode()),
        Ok(p(&[HEADER, END]))
    );
}

#[test]
fn element_errors_are_typed() {
    // An explicit DEFAULT (pinAttributes 7) is not DER.
    let pin_fixed = {
        let mut v = hex("a0058000810102");
        v.extend(encode_tlv(
            0xA1,
            &encode_tlv(
                0xA0,
                &encode_tlv(0x30, &hex("800101810830303030ffffffff830107")),
            ),
        ));
        encode_tlv(0xA2, &v)
    };
    assert_eq!(
        ProfileElement::decode(&pin_fixed),
        Err(ProfileError::NonCanonical {
            element: "pinCodes"
        })
    );
    // A non-minimal INTEGER.
    assert!(matches!(
        ProfileElement::decode(&hex("aa08a00680008102001f")),
        Err(ProfileError::Malformed { .. })
    ));
    // A header ICCID that fails Luhn.
    let bad_iccid = HEADER.replace("89000123456789012341", "89000123456789012342");
    assert_eq!(
        ProfileElement::decode(&hex(&bad_iccid)),
        Err(ProfileError::Malformed {
            element: "ProfileHeader",
            reason: "iccid is not a valid ICCID"
        })
    );
    // Trailing bytes after one element.
    assert!(ProfileElement::decode(&hex(&format!("{END}00"))).is_err());
}

#[test]
fn mandatory_services_names_round_trip() {
    let mut s = MandatoryServices::new();
    assert!(s.insert_name("eaka"));
    assert!(!s.insert_name("no-such-service"));
    s.insert(40);
    assert_eq!(s.names(), vec!["eaka".to_owned(), "[40]".to_owned()]);
    assert_eq!(s.numbers().collect::<Vec<_>>(), vec![29, 40]);
}

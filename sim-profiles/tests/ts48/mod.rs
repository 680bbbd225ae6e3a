//! TS.48-shaped test packages, made here from the structure GSMA TS.48 (Generic eUICC Test
//! Profile, v1–v7) and `identifiers-and-profiles.md` §9.11 describe: the SAIP 2.1 "A"
//! (28 elements), 2.1 "B" (29) and 2.3 (30) element orders, each with and without the
//! BER-TLV service, each with the generic ICCID/IMSI and with a unique one. What matters
//! for personalisation is as in TS.48: a USIM and an ISIM, each with its own
//! `PE-AKAParameter` holding the USIM test algorithm (id 3, options `02`), K `000102…0f`
//! and OPc zero; EF.ACC `0001`; PIN1 `0000`, ADM1/ADM2, PUK1/PUK2; a CSIM with a
//! cdmaParameter; and the elements simgw does not model (telecom, opt-*, gsm-access,
//! df-5gs, df-saip, genericFileManagement, securityDomain, rfm) kept as raw DER.
//!
//! The GSMA's own files are licensed "for information and third party internal use only",
//! so they are not in this repository; these are of our own making. The golden copies in
//! `tests/fixtures/profile/ts48/` are checked against this generator by `profile_ts48.rs`
//! (`UPDATE_FIXTURES=1` rewrites them) and read by the CLI tests.
#![allow(dead_code)]

use sim_profiles::profile::{
    AkaParameter, AlgoParameter, End, MandatoryServices, ObjectId, PeHeader, PinCodes,
    PinCodesContent, PinConfiguration, ProfileElement, ProfileHeader, PukCodes, PukConfiguration,
    encode_tlv,
};
use sim_profiles::{Iccid, Imsi, Key128};
use std::path::PathBuf;

/// TS.48's K for both AKA parameters.
pub const TS48_K: [u8; 16] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F,
];
/// The generic profile's header ICCID.
pub const GENERIC_ICCID: &str = "89000123456789012341";
/// The generic profile's IMSI.
pub const GENERIC_IMSI: &str = "001010123456063";
/// The USIM test algorithm.
pub const TEST_ALGORITHM: u8 = 3;
/// TS.48's `algorithmOptions`.
pub const TS48_OPTIONS: u8 = 0x02;
/// TS.48's EF.ACC.
pub const TS48_ACC: [u8; 2] = [0x00, 0x01];

/// The SAIP version and variant of a TS.48 package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saip {
    /// SAIP 2.1, variant A: 28 elements.
    V21A,
    /// SAIP 2.1, variant B (one more genericFileManagement): 29 elements.
    V21B,
    /// SAIP 2.3: 30 elements (df-5gs and df-saip as template elements).
    V23,
}

/// One package of the corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variant {
    /// SAIP version and variant.
    pub saip: Saip,
    /// Whether the header mandates the BER-TLV service.
    pub ber_tlv: bool,
    /// Whether it carries a unique ICCID and IMSI instead of the generic ones.
    pub unique: bool,
}

impl Variant {
    /// The fixture's file stem, e.g. `ts48like-saip23-bertlv-unique`.
    pub fn name(&self) -> String {
        let saip = match self.saip {
            Saip::V21A => "saip21a",
            Saip::V21B => "saip21b",
            Saip::V23 => "saip23",
        };
        format!(
            "ts48like-{saip}-{}{}",
            if self.ber_tlv { "bertlv" } else { "nobertlv" },
            if self.unique { "-unique" } else { "" }
        )
    }

    /// The header ICCID.
    pub fn iccid(&self) -> Iccid {
        if self.unique {
            let serial = match self.saip {
                Saip::V21A => 1,
                Saip::V21B => 2,
                Saip::V23 => 3,
            } * 10
                + u32::from(self.ber_tlv);
            Iccid::from_payload(&format!("894944999999{serial:07}")).expect("unique ICCID")
        } else {
            GENERIC_ICCID.parse().expect("generic ICCID")
        }
    }

    /// The IMSI in EF.IMSI.
    pub fn imsi(&self) -> Imsi {
        if self.unique {
            let serial = self.iccid().as_str()[12..18].to_owned();
            format!("001010000{serial}").parse().expect("unique IMSI")
        } else {
            GENERIC_IMSI.parse().expect("generic IMSI")
        }
    }

    /// The number of profile elements.
    pub fn element_count(&self) -> usize {
        match self.saip {
            Saip::V21A => 28,
            Saip::V21B => 29,
            Saip::V23 => 30,
        }
    }
}

/// Every variant: 3 element orders × BER-TLV or not × generic or unique identifiers.
pub fn variants() -> Vec<Variant> {
    let mut out = Vec::new();
    for saip in [Saip::V21A, Saip::V21B, Saip::V23] {
        for ber_tlv in [false, true] {
            for unique in [false, true] {
                out.push(Variant {
                    saip,
                    ber_tlv,
                    unique,
                });
            }
        }
    }
    out
}

/// Where the golden copies live.
pub fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/profile/ts48")
}

fn hdr(id: u16) -> PeHeader {
    PeHeader {
        mandated: true,
        identification: id,
    }
}

fn der_header(id: u16) -> Vec<u8> {
    let mut v = vec![0x80, 0x00];
    if id < 0x80 {
        v.extend([0x81, 0x01, id as u8]);
    } else {
        v.extend([0x81, 0x02, (id >> 8) as u8, id as u8]);
    }
    encode_tlv(0xA0, &v)
}

fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

fn template_id(suffix: u8) -> Vec<u8> {
    encode_tlv(0x81, ObjectId::template(suffix).as_der_content())
}

/// A `File` of an `Fcp` (descriptor, FID, security attributes) and optional contents.
fn ef(tag: u32, descriptor: &[u8], fid: [u8; 2], contents: &[&[u8]]) -> Vec<u8> {
    let fcp = cat(&[
        encode_tlv(0x82, descriptor),
        encode_tlv(0x83, &fid),
        encode_tlv(0x8B, &[0x6F, 0x06, 0x03]),
        encode_tlv(0xA5, &[]),
    ]);
    let mut file = encode_tlv(0xA1, &fcp);
    for c in contents {
        file.extend(encode_tlv(0x83, c));
    }
    encode_tlv(tag, &file)
}

/// A transparent EF with one content.
fn transparent(tag: u32, fid: [u8; 2], content: &[u8]) -> Vec<u8> {
    ef(tag, &[0x41, 0x21], fid, &[content])
}

/// An ADF or DF `File`: its FCP with a DF name (for an ADF) and PIN status.
fn adf(tag: u32, fid: [u8; 2], aid: Option<&[u8]>) -> Vec<u8> {
    let mut fcp = encode_tlv(0x83, &fid);
    if let Some(aid) = aid {
        fcp.extend(encode_tlv(0x84, aid));
    }
    fcp.extend(encode_tlv(0x8B, &[0x2F, 0x06, 0x01]));
    fcp.extend(encode_tlv(0xC6, &[0x81, 0x01, 0x0A, 0x0B]));
    encode_tlv(tag, &encode_tlv(0xA1, &fcp))
}

const USIM_AID: [u8; 12] = [
    0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02, 0xFF, 0x49, 0xFF, 0x05, 0x89,
];
const ISIM_AID: [u8; 12] = [
    0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x04, 0xFF, 0x49, 0xFF, 0x05, 0x89,
];
const CSIM_AID: [u8; 16] = [
    0xA0, 0x00, 0x00, 0x03, 0x43, 0x10, 0x02, 0xF3, 0x10, 0xFF, 0xFF, 0x89, 0x02, 0x00, 0x00, 0xFF,
];

fn header(v: &Variant) -> ProfileElement {
    let mut services = MandatoryServices::new();
    for name in [
        "usim",
        "isim",
        "csim",
        "usim-test-algorithm",
        "get-identity",
        "profile-a-x25519",
        "profile-b-p256",
    ] {
        services.insert_name(name);
    }
    if v.ber_tlv {
        services.insert_name("ber-tlv");
    }
    let mut gfste = vec![1, 3, 4, 5, 7, 8, 9, 10, 11];
    if v.saip == Saip::V23 {
        gfste.extend([13, 14]);
    }
    ProfileElement::Header(ProfileHeader {
        major_version: 2,
        minor_version: if v.saip == Saip::V23 { 3 } else { 1 },
        profile_type: Some("simgw TS.48-shaped test profile".to_owned()),
        iccid: v.iccid(),
        pol: None,
        mandatory_services: services,
        gfste_list: gfste.into_iter().map(ObjectId::template).collect(),
        extra: Vec::new(),
    })
}

fn raw(der: Vec<u8>) -> ProfileElement {
    ProfileElement::decode(&der).expect("TS.48-shaped element decodes")
}

fn mf(v: &Variant) -> ProfileElement {
    let dir_record = |aid: &[u8], label: &[u8]| {
        encode_tlv(
            0x61,
            &cat(&[encode_tlv(0x4F, aid), encode_tlv(0x50, label)]),
        )
    };
    raw(encode_tlv(
        0xB0,
        &cat(&[
            der_header(4),
            template_id(1),
            encode_tlv(
                0xA2,
                &encode_tlv(
                    0xA1,
                    &cat(&[
                        encode_tlv(0x8B, &[0x2F, 0x06, 0x01]),
                        encode_tlv(0xC6, &[0x01, 0x0A, 0x0B]),
                    ]),
                ),
            ),
            transparent(0xA3, [0x2F, 0x05], b"en"),
            transparent(0xA4, [0x2F, 0xE2], &v.iccid().to_ef_bytes()),
            ef(
                0xA5,
                &[0x42, 0x21, 0x00, 0x26],
                [0x2F, 0x00],
                &[
                    &dir_record(&USIM_AID, b"USIM"),
                    &dir_record(&ISIM_AID, b"ISIM"),
                    &dir_record(&CSIM_AID, b"CSIM"),
                ],
            ),
            ef(
                0xA6,
                &[0x42, 0x21, 0x00, 0x10],
                [0x2F, 0x06],
                &[&[
                    0x80, 0x01, 0x01, 0x90, 0x00, 0x80, 0x01, 0x18, 0xA4, 0x06, 0x83, 0x01, 0x0A,
                    0x95, 0x01, 0x08,
                ]],
            ),
            transparent(0xA7, [0x2F, 0x08], &[0x3C, 0x3C, 0x00, 0x00, 0x00]),
        ]),
    ))
}

fn puk_codes() -> ProfileElement {
    let puk = |key_reference, value: &[u8; 8]| PukConfiguration {
        key_reference,
        value: *value,
        attempts: 0xAA,
    };
    ProfileElement::PukCodes(PukCodes {
        header: hdr(5),
        codes: vec![puk(1, b"11111111"), puk(129, b"22222222")],
    })
}

fn pin(
    key_reference: u8,
    value: &[u8; 8],
    unblock: Option<u8>,
    attributes: u8,
    attempts: u8,
) -> PinConfiguration {
    PinConfiguration {
        key_reference,
        value: *value,
        unblocking_reference: unblock,
        attributes,
        attempts,
    }
}

fn mf_pins() -> ProfileElement {
    ProfileElement::PinCodes(PinCodes {
        header: hdr(2),
        codes: PinCodesContent::Pins(vec![
            pin(1, b"0000\xff\xff\xff\xff", Some(1), 6, 0x33),
            pin(10, b"55555555", None, 3, 0xAA),
            pin(11, b"66666666", None, 3, 0xAA),
        ]),
    })
}

fn second_pin(id: u16) -> ProfileElement {
    ProfileElement::PinCodes(PinCodes {
        header: hdr(id),
        codes: PinCodesContent::Pins(vec![pin(129, b"9999\xff\xff\xff\xff", Some(129), 3, 0x33)]),
    })
}

fn telecom() -> ProfileElement {
    raw(encode_tlv(
        0xB2,
        &cat(&[
            der_header(7),
            template_id(3),
            adf(0xA2, [0x7F, 0x10], None),
            transparent(0xA5, [0x6F, 0x54], &[0xFF]),
        ]),
    ))
}

fn gfm(id: u16, fid: [u8; 2]) -> ProfileElement {
    let cmd = cat(&[
        encode_tlv(0x80, &[0x7F, 0x10]),
        encode_tlv(
            0x62,
            &cat(&[
                encode_tlv(0x82, &[0x41, 0x21]),
                encode_tlv(0x83, &fid),
                encode_tlv(0x8B, &[0x2F, 0x06, 0x07]),
                encode_tlv(0x80, &[0x02]),
            ]),
        ),
        encode_tlv(0x81, &[0x00, 0x01]),
    ]);
    raw(encode_tlv(
        0xA1,
        &cat(&[der_header(id), encode_tlv(0xA1, &encode_tlv(0x30, &cmd))]),
    ))
}

fn usim(v: &Variant) -> ProfileElement {
    raw(encode_tlv(
        0xB3,
        &cat(&[
            der_header(8),
            template_id(4),
            adf(0xA2, [0x7F, 0xD0], Some(&USIM_AID)),
            transparent(0xA3, [0x6F, 0x07], &v.imsi().to_ef_bytes()),
            ef(
                0xA4,
                &[0x42, 0x21, 0x00, 0x10],
                [0x6F, 0x06],
                &[&[
                    0x80, 0x01, 0x01, 0x90, 0x00, 0x80, 0x01, 0x1A, 0xA4, 0x06, 0x83, 0x01, 0x0A,
                    0x95, 0x01, 0x08,
                ]],
            ),
            transparent(
                0xA8,
                [0x6F, 0x38],
                &[
                    0x9E, 0xFF, 0xBF, 0x1D, 0xFF, 0x3E, 0x00, 0x83, 0x41, 0x03, 0x10, 0x01, 0x04,
                    0x00, 0x40, 0x3E, 0x39,
                ],
            ),
            transparent(
                0xAD,
                [0x6F, 0x46],
                b"\x01GSMA\x11TEST\xff\xff\xff\xff\xff\xff\xff",
            ),
            transparent(0xAE, [0x6F, 0x56], &[0x00]),
            transparent(0xB2, [0x6F, 0x78], &TS48_ACC),
            transparent(0xB5, [0x6F, 0xAD], &[0x80, 0x00, 0x00, 0x02]),
            ef(
                0xB6,
                &[0x42, 0x21, 0x00, 0x0E],
                [0x6F, 0xB7],
                &[&[
                    0x11, 0xF2, 0xFF, 0x45, 0x75, 0x72, 0x6F, 0x20, 0x45, 0x6D, 0x65, 0x72, 0xFF,
                    0x00,
                ]],
            ),
        ]),
    ))
}

/// A plain template element of the given tag: PE header, templateID and one EF.
fn optional(tag: u32, id: u16, template: u8, fid: [u8; 2], content: &[u8]) -> ProfileElement {
    raw(encode_tlv(
        tag,
        &cat(&[
            der_header(id),
            template_id(template),
            transparent(0xA2, fid, content),
        ]),
    ))
}

/// TS.48's AKA parameter: test algorithm, options `02`, K `000102…0f`, OPc zero.
fn aka(id: u16) -> ProfileElement {
    ProfileElement::Aka(AkaParameter::new(
        hdr(id),
        AlgoParameter {
            algorithm_id: TEST_ALGORITHM,
            algorithm_options: TS48_OPTIONS,
            ..AlgoParameter::milenage(
                TS48_OPTIONS,
                Key128::from_bytes(TS48_K),
                Key128::from_bytes([0; 16]),
            )
        },
    ))
}

fn csim() -> ProfileElement {
    raw(encode_tlv(
        0xB9,
        &cat(&[
            der_header(12),
            template_id(10),
            adf(0xA2, [0x7F, 0xF2], Some(&CSIM_AID)),
            transparent(0xA3, [0x6F, 0x22], &[0x00; 10]),
        ]),
    ))
}

fn cdma_parameter() -> ProfileElement {
    raw(encode_tlv(
        0xA5,
        &cat(&[
            der_header(15),
            encode_tlv(0x80, &[0x00; 8]),
            encode_tlv(0x81, &[0x00; 16]),
        ]),
    ))
}

fn isim() -> ProfileElement {
    raw(encode_tlv(
        0xB5,
        &cat(&[
            der_header(16),
            template_id(8),
            adf(0xA2, [0x7F, 0xD1], Some(&ISIM_AID)),
            transparent(0xA3, [0x6F, 0x02], b"\x80\x1b001010123456063@ims.test"),
            transparent(0xA4, [0x6F, 0x03], b"\x80\x08ims.test"),
            transparent(0xA5, [0x6F, 0x04], b"\x80\x1csip:001010123456063@ims.test"),
            transparent(0xA6, [0x6F, 0xAD], &[0x80, 0x00, 0x00, 0x02]),
        ]),
    ))
}

fn security_domain() -> ProfileElement {
    raw(encode_tlv(
        0xA6,
        &cat(&[
            der_header(20),
            encode_tlv(
                0xA1,
                &cat(&[
                    encode_tlv(0x4F, &[0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50]),
                    encode_tlv(0x4F, &[0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50, 0x41]),
                    encode_tlv(0x4F, &[0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00]),
                ]),
            ),
        ]),
    ))
}

fn rfm(id: u16, tar: [u8; 3]) -> ProfileElement {
    raw(encode_tlv(
        0xA7,
        &cat(&[
            der_header(id),
            encode_tlv(0x4F, &[0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0x01]),
            encode_tlv(0xA1, &encode_tlv(0x04, &tar)),
            encode_tlv(0x02, &[0x06]),
            encode_tlv(0x04, &[0x01]),
        ]),
    ))
}

/// The elements of one variant, in TS.48's order.
pub fn elements(v: &Variant) -> Vec<ProfileElement> {
    let mut e = vec![
        header(v),
        mf(v),
        puk_codes(),
        mf_pins(),
        telecom(),
        second_pin(3),
        gfm(23, [0x2F, 0xFB]),
        usim(v),
        optional(0xB4, 9, 5, [0x6F, 0x05], b"en"),
        second_pin(10),
        aka(11),
        optional(0xB8, 24, 7, [0x6F, 0x20], &[0x00; 9]),
    ];
    if v.saip == Saip::V23 {
        e.push(optional(0xBC, 25, 13, [0x4F, 0x01], &[0x00; 5]));
        e.push(optional(0xBD, 26, 14, [0x4F, 0x01], &[0x00; 5]));
    } else {
        // SAIP 2.1 has no DF-5GS/DF-SAIP templates: the files are created by hand.
        e.push(gfm(25, [0x4F, 0x01]));
    }
    e.extend([
        csim(),
        optional(0xBA, 13, 11, [0x6F, 0x2C], &[0x00; 4]),
        second_pin(14),
        cdma_parameter(),
        isim(),
        optional(0xB6, 17, 9, [0x6F, 0x07], &[0x00; 4]),
        second_pin(18),
        aka(19),
        gfm(27, [0x6F, 0x44]),
    ]);
    if v.saip != Saip::V21A {
        e.push(gfm(28, [0x6F, 0x45]));
    }
    e.extend([
        security_domain(),
        rfm(21, [0xB0, 0x00, 0x00]),
        rfm(22, [0xB0, 0x01, 0x00]),
        rfm(29, [0xB0, 0x02, 0x00]),
        rfm(30, [0xB0, 0x03, 0x00]),
        ProfileElement::End(End { header: hdr(31) }),
    ]);
    assert_eq!(e.len(), v.element_count(), "{}", v.name());
    e
}

/// The DER package of one variant.
pub fn package_der(v: &Variant) -> Vec<u8> {
    elements(v)
        .iter()
        .flat_map(ProfileElement::encode)
        .collect()
}

/// The golden copy of one variant, as read by tests and the CLI.
pub fn fixture(v: &Variant) -> PathBuf {
    fixture_dir().join(format!("{}.der", v.name()))
}

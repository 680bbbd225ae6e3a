//! The built-in template: a small Milenage USIM profile of our own making (no vendor or
//! GSMA data), with placeholder identifiers, keys and codes for [`super::personalise`].
//!
//! Elements: header (v2.3, services usim + milenage, GFSTE MF + ADF-USIM), PE-MF
//! (EF.ICCID, EF.DIR, EF.ARR), PUK codes, PIN codes (PIN1, ADM1), PE-USIM (EF.IMSI and the
//! other mandatory files), the USIM's PIN codes (second PIN), Milenage AKA parameter, End.
//! The typed elements are built with their constructors; the file systems as raw DER, as
//! the templates (`templateID`) supply every FCP this profile does not override.

use super::aka::{AkaParameter, AlgoParameter};
use super::element::{ProfileElement, TAG_MF, TAG_USIM};
use super::end::End;
use super::error::ProfileError;
use super::header::{MandatoryServices, ProfileHeader};
use super::oid::ObjectId;
use super::package::Package;
use super::pe_header::PeHeader;
use super::pin::{
    DEFAULT_PIN_ATTEMPTS, DEFAULT_PUK_ATTEMPTS, PinCodes, PinCodesContent, PinConfiguration,
    PukCodes, PukConfiguration, pad_code,
};
use super::tlv::{encode_tlv, push_tlv};
use crate::{Iccid, Imsi, Key128};

/// The template's placeholder ICCID (header and EF.ICCID).
pub const TEMPLATE_ICCID: &str = "89000123456789012341";
/// The template's placeholder IMSI (EF.IMSI).
pub const TEMPLATE_IMSI: &str = "001010123456063";
/// The template's `profileType`.
pub const TEMPLATE_PROFILE_TYPE: &str = "simgw Milenage USIM";

/// The USIM application's AID (ADF-USIM DF name and the EF.DIR record).
const USIM_AID: [u8; 16] = [
    0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x01, 0x00,
];

/// `fillFileContent`.
const FILL_FILE_CONTENT: u32 = 0x83;
/// `fileDescriptor` (an `Fcp`).
const FILE_DESCRIPTOR: u32 = 0xA1;

/// The built-in Milenage USIM template (see the module documentation).
///
/// Built from constants only, so it cannot fail; the unit test below and the integration
/// tests check that it builds, round-trips byte for byte and validates clean.
pub fn builtin_template() -> Package {
    match build() {
        Ok(p) => p,
        // Unreachable: `build` is a pure function of constants, tested to succeed.
        Err(e) => unreachable!("built-in template does not build: {e}"),
    }
}

fn header(identification: u16) -> PeHeader {
    PeHeader {
        mandated: true,
        identification,
    }
}

/// A `File` holding only a `fillFileContent`: the template supplies its FCP.
fn content_file(tag: u32, content: &[u8]) -> Vec<u8> {
    encode_tlv(tag, &encode_tlv(FILL_FILE_CONTENT, content))
}

/// A `File` holding only a `fileDescriptor` with the given FCP components.
fn fcp_file(tag: u32, fcp: &[u8]) -> Vec<u8> {
    encode_tlv(tag, &encode_tlv(FILE_DESCRIPTOR, fcp))
}

/// `templateID` (`81`) of `2.23.143.1.2.<suffix>`.
fn template_id(suffix: u8) -> Vec<u8> {
    encode_tlv(0x81, ObjectId::template(suffix).as_der_content())
}

/// One EF.ARR record: READ always, UPDATE/DEACTIVATE/ACTIVATE with ADM1 (key ref 10).
fn arr_record() -> Vec<u8> {
    let mut v = Vec::new();
    push_tlv(&mut v, 0x80, &[0x01]); // AM: READ
    push_tlv(&mut v, 0x90, &[]); // SC: always
    push_tlv(&mut v, 0x80, &[0x1A]); // AM: UPDATE, DEACTIVATE, ACTIVATE
    let mut crt = Vec::new();
    push_tlv(&mut crt, 0x83, &[0x0A]); // key reference ADM1
    push_tlv(&mut crt, 0x95, &[0x08]); // usage qualifier: user verification
    push_tlv(&mut v, 0xA4, &crt);
    v
}

fn mf_der(iccid: &Iccid) -> Vec<u8> {
    let mut v = Vec::new();
    header(1).encode(&mut v);
    v.extend(template_id(1));
    // mf: security attributes referenced (EF.ARR 2F06 record 1), PIN status (PIN1, ADM1).
    let mut fcp = Vec::new();
    push_tlv(&mut fcp, 0x8B, &[0x2F, 0x06, 0x01]);
    push_tlv(&mut fcp, 0xC6, &[0x01, 0x0A]);
    v.extend(fcp_file(0xA2, &fcp));
    v.extend(content_file(0xA4, &iccid.to_ef_bytes()));
    // EF.DIR: one application template for the USIM.
    let mut app = Vec::new();
    push_tlv(&mut app, 0x4F, &USIM_AID);
    push_tlv(&mut app, 0x50, b"USIM");
    v.extend(content_file(0xA5, &encode_tlv(0x61, &app)));
    v.extend(content_file(0xA6, &arr_record()));
    encode_tlv(TAG_MF, &v)
}

fn usim_der(imsi: &Imsi) -> Vec<u8> {
    let mut v = Vec::new();
    header(4).encode(&mut v);
    v.extend(template_id(4));
    // adf-usim: DF name (the AID), security attributes, PIN status (PIN1, 2nd PIN, ADM1).
    let mut fcp = Vec::new();
    push_tlv(&mut fcp, 0x84, &USIM_AID);
    push_tlv(&mut fcp, 0x8B, &[0x6F, 0x06, 0x01]);
    push_tlv(&mut fcp, 0xC6, &[0x01, 0x81, 0x0A]);
    v.extend(fcp_file(0xA2, &fcp));
    v.extend(content_file(0xA3, &imsi.to_ef_bytes()));
    v.extend(content_file(0xA4, &arr_record()));
    // EF.UST: service 19 (SPN) only, beyond what the template enables.
    v.extend(content_file(
        0xA8,
        &[0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00],
    ));
    // EF.SPN: display condition, then "simgw" padded with FF to 16 bytes.
    let mut spn = [0xFFu8; 17];
    spn[0] = 0x01;
    for (d, s) in spn.iter_mut().skip(1).zip(b"simgw") {
        *d = *s;
    }
    v.extend(content_file(0xAD, &spn));
    v.extend(content_file(0xAE, &[0x00])); // EF.EST: nothing enabled
    v.extend(content_file(0xB2, &[0x00, 0x08])); // EF.ACC: class 3 (IMSI ends in 3)
    v.extend(content_file(0xB5, &[0x00, 0x00, 0x00, 0x02])); // EF.AD: MNC length 2
    v.extend(content_file(0xB6, &[0x11, 0xF2, 0xFF, 0x00])); // EF.ECC: 112
    encode_tlv(TAG_USIM, &v)
}

fn padded(digits: &str) -> [u8; 8] {
    pad_code(digits).unwrap_or([0xFF; 8])
}

fn build() -> Result<Package, ProfileError> {
    let iccid: Iccid = TEMPLATE_ICCID
        .parse()
        .map_err(|_| ProfileError::malformed("template", "ICCID placeholder"))?;
    let imsi: Imsi = TEMPLATE_IMSI
        .parse()
        .map_err(|_| ProfileError::malformed("template", "IMSI placeholder"))?;
    let mut services = MandatoryServices::new();
    services.insert_name("usim");
    services.insert_name("milenage");
    let profile_header = ProfileHeader {
        major_version: 2,
        minor_version: 3,
        profile_type: Some(TEMPLATE_PROFILE_TYPE.to_owned()),
        iccid: iccid.clone(),
        pol: None,
        mandatory_services: services,
        gfste_list: vec![ObjectId::template(1), ObjectId::template(4)],
        extra: Vec::new(),
    };
    let puk = PukCodes {
        header: header(2),
        codes: vec![
            PukConfiguration {
                key_reference: 1,
                value: padded("11111111"),
                attempts: DEFAULT_PUK_ATTEMPTS,
            },
            PukConfiguration {
                key_reference: 129,
                value: padded("22222222"),
                attempts: DEFAULT_PUK_ATTEMPTS,
            },
        ],
    };
    let mf_pins = PinCodes {
        header: header(3),
        codes: PinCodesContent::Pins(vec![
            PinConfiguration {
                key_reference: 1,
                value: padded("0000"),
                unblocking_reference: Some(1),
                attributes: 6,
                attempts: DEFAULT_PIN_ATTEMPTS,
            },
            PinConfiguration {
                key_reference: 10,
                value: padded("55555555"),
                unblocking_reference: None,
                attributes: 3,
                attempts: DEFAULT_PUK_ATTEMPTS,
            },
        ]),
    };
    let usim_pins = PinCodes {
        header: header(5),
        codes: PinCodesContent::Pins(vec![PinConfiguration {
            key_reference: 129,
            value: padded("0000"),
            unblocking_reference: Some(129),
            attributes: 3,
            attempts: DEFAULT_PIN_ATTEMPTS,
        }]),
    };
    let aka = AkaParameter::new(
        header(6),
        AlgoParameter::milenage(
            0x00,
            Key128::from_bytes([0; 16]),
            Key128::from_bytes([0; 16]),
        ),
    );
    let elements = vec![
        ProfileElement::Header(profile_header),
        ProfileElement::decode(&mf_der(&iccid))?,
        ProfileElement::PukCodes(puk),
        ProfileElement::PinCodes(mf_pins),
        ProfileElement::decode(&usim_der(&imsi))?,
        ProfileElement::PinCodes(usim_pins),
        ProfileElement::Aka(aka),
        ProfileElement::End(End { header: header(7) }),
    ];
    Package::from_elements(elements)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_round_trips() {
        let p = build().expect("template builds");
        let der = p.encode();
        assert_eq!(Package::decode(&der).expect("decodes").encode(), der);
    }
}

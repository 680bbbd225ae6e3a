//! A human-readable, indented tree of a package: one line per element, then its typed
//! fields. Secrets (K, OPc, PIN and PUK values) print as `***` unless asked for.

use super::aka::{
    AkaParameter, AlgoConfiguration, DEFAULT_SQN_AGE_LIMIT, DEFAULT_SQN_DELTA, DEFAULT_SQN_OPTIONS,
    algorithm_name,
};
use super::element::ProfileElement;
use super::header::ProfileHeader;
use super::keys::aka_slots;
use super::oid::ObjectId;
use super::package::Package;
use super::pin::{PinCodes, PinCodesContent, PukCodes};
use super::tlv::{Reader, read_tlv};
use std::fmt::Write as _;

const MASK: &str = "***";
const INDENT: &str = "    ";

/// Renders `p` as an indented tree; K, OPc and PIN/PUK values are masked as `***`
/// unless `show_secrets`.
pub fn inspect(p: &Package, show_secrets: bool) -> String {
    let mut out = String::new();
    let size = p.encode().len();
    let _ = writeln!(
        out,
        "profile package: {} elements, {size} bytes",
        p.elements().len()
    );
    let slots = aka_slots(p.elements());
    for (index, e) in p.elements().iter().enumerate() {
        element_line(&mut out, index, e);
        match e {
            ProfileElement::Header(h) => header(&mut out, h),
            ProfileElement::Mf(m) => {
                file_system(&mut out, m.der(), MF_COMPONENTS);
                match m.iccid() {
                    Ok(iccid) => field(&mut out, "EF.ICCID", iccid.as_str()),
                    Err(_) => field(&mut out, "EF.ICCID", &content(m.ef_iccid_content())),
                }
            }
            ProfileElement::Usim(u) => {
                file_system(&mut out, u.der(), USIM_COMPONENTS);
                match u.imsi() {
                    Ok(imsi) => field(&mut out, "EF.IMSI", imsi.as_str()),
                    Err(_) => field(&mut out, "EF.IMSI", &content(u.ef_imsi_content())),
                }
                if let Some(acc) = u.ef_acc_content() {
                    field(&mut out, "EF.ACC", &access_classes(acc));
                }
            }
            ProfileElement::Aka(a) => {
                if let Some(slot) = slots.iter().find(|s| s.index == index) {
                    field(&mut out, "application", slot.application);
                }
                aka(&mut out, a, show_secrets);
            }
            ProfileElement::PinCodes(c) => pins(&mut out, c, show_secrets),
            ProfileElement::PukCodes(c) => puks(&mut out, c, show_secrets),
            ProfileElement::End(_) => {}
            ProfileElement::Raw(r) => field(&mut out, "raw", &format!("{} bytes", r.der.len())),
        }
    }
    out
}

fn element_line(out: &mut String, index: usize, e: &ProfileElement) {
    let _ = write!(out, "[{index}] {} ({:02X})", e.name(), e.tag());
    if let Some(h) = e.pe_header() {
        let _ = write!(out, " id={}", h.identification);
        if h.mandated {
            out.push_str(" mandated");
        }
    }
    out.push('\n');
}

fn field(out: &mut String, name: &str, value: &str) {
    let _ = writeln!(out, "{INDENT}{name}: {value}");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn content(c: Option<&[u8]>) -> String {
    match c {
        Some(c) => format!("invalid content {}", hex(c)),
        None => "no content".to_owned(),
    }
}

/// The TCA template name of a `2.23.143.1.2.<n>…` OID.
fn template_name(oid: &ObjectId) -> Option<&'static str> {
    const NAMES: [&str; 18] = [
        "MF",
        "DF-CD",
        "DF-TELECOM",
        "ADF-USIM",
        "USIM optional",
        "DF-PHONEBOOK",
        "DF-GSM-ACCESS",
        "ADF-ISIM",
        "ISIM optional",
        "ADF-CSIM",
        "CSIM optional",
        "DF-EAP",
        "DF-5GS",
        "DF-SAIP",
        "DF-SNPN",
        "DF-5GProSe",
        "IoT",
        "IoT optional",
    ];
    let s = oid.to_string();
    let rest = s.strip_prefix("2.23.143.1.2.")?;
    let n: usize = rest.split('.').next()?.parse().ok()?;
    NAMES.get(n.checked_sub(1)?).copied()
}

fn oid_text(oid: &ObjectId) -> String {
    match template_name(oid) {
        Some(name) => format!("{oid} ({name})"),
        None => oid.to_string(),
    }
}

fn header(out: &mut String, h: &ProfileHeader) {
    field(
        out,
        "version",
        &format!("{}.{}", h.major_version, h.minor_version),
    );
    if let Some(t) = &h.profile_type {
        field(out, "profileType", &format!("{t:?}"));
    }
    field(out, "ICCID", h.iccid.as_str());
    if let Some(pol) = &h.pol {
        field(out, "pol", &hex(pol));
    }
    field(out, "services", &h.mandatory_services.names().join(", "));
    let oids: Vec<String> = h.gfste_list.iter().map(oid_text).collect();
    field(out, "GFSTE", &oids.join(", "));
    for e in &h.extra {
        let tag = read_tlv(e, 0).map(|t| t.tag).unwrap_or_default();
        field(out, "extra", &format!("{tag:02X}, {} bytes", e.len()));
    }
}

/// Component names of PE-MF by tag.
const MF_COMPONENTS: &[(u32, &str)] = &[
    (0xA2, "mf"),
    (0xA3, "ef-pl"),
    (0xA4, "ef-iccid"),
    (0xA5, "ef-dir"),
    (0xA6, "ef-arr"),
    (0xA7, "ef-umpc"),
];

/// Component names of PE-USIM by tag (the ones §9.6 lists).
const USIM_COMPONENTS: &[(u32, &str)] = &[
    (0xA2, "adf-usim"),
    (0xA3, "ef-imsi"),
    (0xA4, "ef-arr"),
    (0xA8, "ef-ust"),
    (0xAD, "ef-spn"),
    (0xAE, "ef-est"),
    (0xB2, "ef-acc"),
    (0xB5, "ef-ad"),
    (0xB6, "ef-ecc"),
];

/// The template OID and the file components of a PE-MF or PE-USIM.
fn file_system(out: &mut String, der: &[u8], names: &[(u32, &str)]) {
    let Ok(outer) = read_tlv(der, 0) else {
        return;
    };
    let mut r = Reader::children(&outer);
    let mut files = Vec::new();
    while let Ok(Some(t)) = r.next_tlv() {
        match t.tag {
            0xA0 => {}
            0x81 => match ObjectId::from_der_content(t.value()) {
                Ok(oid) => field(out, "templateID", &oid_text(&oid)),
                Err(_) => field(out, "templateID", "invalid"),
            },
            tag => files.push(
                names
                    .iter()
                    .find(|(t, _)| *t == tag)
                    .map_or_else(|| format!("[{tag:02X}]"), |(_, n)| (*n).to_owned()),
            ),
        }
    }
    field(out, "files", &files.join(", "));
}

/// EF.ACC as its hex content and the classes it sets, e.g. `0081 (classes 0, 7)`.
fn access_classes(content: &[u8]) -> String {
    let Ok(bytes) = <[u8; 2]>::try_from(content) else {
        return self::content(Some(content));
    };
    let bits = u16::from_be_bytes(bytes);
    let classes: Vec<String> = (0..16)
        .filter(|n| bits & (1 << n) != 0)
        .map(|n: u16| n.to_string())
        .collect();
    match classes.len() {
        0 => format!("{} (no class)", hex(content)),
        1 => format!("{} (class {})", hex(content), classes[0]),
        _ => format!("{} (classes {})", hex(content), classes.join(", ")),
    }
}

fn secret(bytes: &[u8], show: bool) -> String {
    if show { hex(bytes) } else { MASK.to_owned() }
}

fn aka(out: &mut String, a: &AkaParameter, show: bool) {
    match &a.algo {
        AlgoConfiguration::Algo(p) => {
            field(
                out,
                "algorithm",
                &format!(
                    "{} ({}), options {:02x}",
                    algorithm_name(p.algorithm_id),
                    p.algorithm_id,
                    p.algorithm_options
                ),
            );
            field(out, "K", &secret(p.key.expose(), show));
            field(out, "OPc", &secret(p.opc.expose(), show));
            if let Some(c) = &p.auth_counter_max {
                field(out, "authCounterMax", &hex(c));
            }
        }
        AlgoConfiguration::Raw(raw) => {
            let kind = match read_tlv(raw, 0).map(|t| t.tag) {
                Ok(0xA0) => "mappingParameter",
                _ => "algoConfiguration",
            };
            field(out, kind, &format!("raw, {} bytes", raw.len()));
        }
    }
    let defaults = a.sqn_options == DEFAULT_SQN_OPTIONS
        && a.sqn_delta == DEFAULT_SQN_DELTA
        && a.sqn_age_limit == DEFAULT_SQN_AGE_LIMIT
        && a.sqn_init.iter().all(|s| *s == [0u8; 6]);
    if defaults {
        field(out, "sqn", "defaults");
    } else {
        field(
            out,
            "sqn",
            &format!(
                "options {:02x}, delta {}, ageLimit {}",
                a.sqn_options,
                hex(&a.sqn_delta),
                hex(&a.sqn_age_limit)
            ),
        );
    }
}

/// The name of a PIN `keyReference` (§9.8).
pub fn pin_reference_name(reference: u8) -> String {
    match reference {
        1..=8 => format!("pinAppl{reference}"),
        10..=14 => format!("adm{}", reference - 9),
        129..=136 => format!("secondPINAppl{}", reference - 128),
        138..=142 => format!("adm{}", reference - 132),
        _ => format!("keyReference{reference}"),
    }
}

/// The name of a PUK `keyReference` (§9.8).
pub fn puk_reference_name(reference: u8) -> String {
    match reference {
        1..=8 => format!("pukAppl{reference}"),
        129..=136 => format!("secondPUKAppl{}", reference - 128),
        _ => format!("keyReference{reference}"),
    }
}

/// A PIN/PUK value: the digits before the `FF` padding, or hex if not digits.
fn code_value(value: &[u8; 8], show: bool) -> String {
    if !show {
        return MASK.to_owned();
    }
    let digits: Vec<u8> = value.iter().copied().take_while(|b| *b != 0xFF).collect();
    let padding_ok = value.iter().skip(digits.len()).all(|b| *b == 0xFF);
    if padding_ok && digits.iter().all(u8::is_ascii_digit) {
        String::from_utf8_lossy(&digits).into_owned()
    } else {
        hex(value)
    }
}

fn attempts(a: u8) -> String {
    format!("{}/{}", a & 0x0F, a >> 4)
}

fn pins(out: &mut String, c: &PinCodes, show: bool) {
    match &c.codes {
        PinCodesContent::Pins(pins) => {
            for p in pins {
                let mut line = format!(
                    "{} ({}): {}",
                    pin_reference_name(p.key_reference),
                    p.key_reference,
                    code_value(&p.value, show)
                );
                if let Some(u) = p.unblocking_reference {
                    let _ = write!(line, ", unblock {}", puk_reference_name(u));
                }
                let _ = write!(
                    line,
                    ", attributes {}, attempts left {}",
                    p.attributes,
                    attempts(p.attempts)
                );
                let _ = writeln!(out, "{INDENT}{line}");
            }
        }
        PinCodesContent::FilePath(path) => field(out, "filePath", &hex(path)),
    }
}

fn puks(out: &mut String, c: &PukCodes, show: bool) {
    for p in &c.codes {
        let _ = writeln!(
            out,
            "{INDENT}{} ({}): {}, attempts left {}",
            puk_reference_name(p.key_reference),
            p.key_reference,
            code_value(&p.value, show),
            attempts(p.attempts)
        );
    }
}

//! Validity checks of a profile package beyond its framing (TCA v3.3.1 ordering and
//! validity rules, mandatory files, identifier and key sanity). Pure and total: every
//! problem is reported as a [`Finding`], nothing panics.

use super::aka::{ALGORITHM_MILENAGE, AkaParameter};
use super::element::ProfileElement;
use super::oid::ObjectId;
use super::package::Package;
use super::tlv::{Reader, read_tlv};
use crate::Iccid;
use std::collections::{BTreeMap, HashMap};

/// One thing wrong with a package; its `Display` is a one-line explanation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Finding {
    /// There is no `ProfileHeader`.
    #[error("no ProfileHeader: the header must be the first element")]
    MissingHeader,
    /// The `ProfileHeader` is not the first element.
    #[error("ProfileHeader at index {index} must be the first element")]
    HeaderNotFirst {
        /// Index of the (first) header.
        index: usize,
    },
    /// A second `ProfileHeader`.
    #[error("second ProfileHeader at index {index}: the header must appear exactly once")]
    DuplicateHeader {
        /// Index of the extra header.
        index: usize,
    },
    /// There is no `PE-End`.
    #[error("no PE-End: end must be the last element")]
    MissingEnd,
    /// A `PE-End` that is not the last element.
    #[error("end at index {index} is not the last element")]
    EndNotLast {
        /// Index of the misplaced end.
        index: usize,
    },
    /// Two elements share a PE `identification`.
    #[error("element at index {index} repeats PE identification {id}")]
    DuplicateIdentification {
        /// The repeated identification.
        id: u16,
        /// Index of the second element carrying it.
        index: usize,
    },
    /// An element that may appear at most once appears more often.
    #[error("{element} appears {count} times, at most once is allowed")]
    TooMany {
        /// The alternative name.
        element: &'static str,
        /// How often it appears.
        count: usize,
    },
    /// A full profile (no PE-IoT) without `mf`.
    #[error("no mf element: a full profile needs the MF right after the header")]
    MissingMf,
    /// `mf` is not the element right after the header.
    #[error("mf at index {index} must directly follow the header")]
    MfNotSecond {
        /// Index of the mf.
        index: usize,
    },
    /// An element that must come after another kind of element does not.
    #[error("{element} at index {index} must come after {after}")]
    MustFollow {
        /// The alternative name.
        element: &'static str,
        /// Its index.
        index: usize,
        /// What must precede it.
        after: &'static str,
    },
    /// An element that must come before the security domains does not.
    #[error("{element} at index {index} must come before the first securityDomain")]
    AfterSecurityDomain {
        /// The alternative name.
        element: &'static str,
        /// Its index.
        index: usize,
    },
    /// An element needs another kind of element that the package lacks.
    #[error("{element} at index {index} needs a {requires} element, and there is none")]
    Requires {
        /// The alternative name.
        element: &'static str,
        /// Its index.
        index: usize,
        /// The needed alternative.
        requires: &'static str,
    },
    /// A mandatory file is absent from a file-system element.
    #[error("{element} at index {index} lacks mandatory file {file}")]
    MissingMandatoryFile {
        /// The alternative name.
        element: &'static str,
        /// Its index.
        index: usize,
        /// The file's component name.
        file: &'static str,
    },
    /// A file-system element whose own DER cannot be walked.
    #[error("{element} at index {index} is not well-formed DER inside")]
    MalformedFileSystem {
        /// The alternative name.
        element: &'static str,
        /// Its index.
        index: usize,
    },
    /// EF.ICCID is present but has no `fillFileContent`.
    #[error("EF.ICCID has no content, so the card would have no ICCID")]
    EmptyEfIccid,
    /// EF.ICCID's content is not a valid nibble-swapped ICCID.
    #[error("EF.ICCID content does not decode to a valid ICCID")]
    InvalidEfIccid,
    /// The header ICCID and EF.ICCID disagree.
    #[error("header ICCID {header} differs from EF.ICCID {ef}")]
    IccidMismatch {
        /// The header's ICCID.
        header: Iccid,
        /// EF.ICCID's ICCID.
        ef: Iccid,
    },
    /// EF.IMSI is present but has no `fillFileContent`.
    #[error("EF.IMSI has no content, so the USIM would have no IMSI")]
    EmptyEfImsi,
    /// EF.IMSI's content is not a valid IMSI coding.
    #[error("EF.IMSI content does not decode to a valid IMSI")]
    InvalidEfImsi,
    /// A key of an AKA parameter has the wrong length for its algorithm.
    #[error("akaParameter at index {index}: {field} is {len} bytes, expected {expected}")]
    KeyLength {
        /// Index of the AKA parameter.
        index: usize,
        /// `key` or `opc`.
        field: &'static str,
        /// The found length.
        len: usize,
        /// The allowed length(s).
        expected: &'static str,
    },
    /// A mandatory service without the element it needs.
    #[error("service {service} is mandated but the package has no {needs}")]
    ServiceWithoutElement {
        /// The service flag name.
        service: &'static str,
        /// What the package lacks.
        needs: &'static str,
    },
    /// A template-based element whose `templateID` is not in the header's GFSTE list.
    #[error("{element} at index {index} uses template {oid}, absent from the header's GFSTE list")]
    TemplateNotDeclared {
        /// The alternative name.
        element: &'static str,
        /// Its index.
        index: usize,
        /// The element's template OID.
        oid: ObjectId,
    },
}

/// Elements that may appear at most once.
const AT_MOST_ONCE: [&str; 17] = [
    "header", "mf", "end", "cd", "telecom", "usim", "isim", "csim", "opt-usim", "opt-isim",
    "opt-csim", "opt-iot", "df-saip", "df-5gs", "pukCodes", "iot", "eap",
];

/// Elements that come after `mf`.
const AFTER_MF: [&str; 5] = ["usim", "isim", "csim", "telecom", "cd"];

/// Elements that come after (and need) another one: (element, prerequisite).
const NEEDS: [(&str, &str); 9] = [
    ("opt-usim", "usim"),
    ("gsm-access", "usim"),
    ("phonebook", "usim"),
    ("df-5gs", "usim"),
    ("df-saip", "usim"),
    ("df-snpn", "usim"),
    ("df-5gprose", "usim"),
    ("opt-isim", "isim"),
    ("opt-csim", "csim"),
];

/// The network access applications an `akaParameter` can belong to.
const NAAS: [&str; 4] = ["usim", "isim", "csim", "iot"];

/// Elements that come before the first `securityDomain` (file system, NAA, PIN, PUK).
const BEFORE_SD: [&str; 22] = [
    "mf",
    "cd",
    "telecom",
    "usim",
    "opt-usim",
    "isim",
    "opt-isim",
    "phonebook",
    "gsm-access",
    "csim",
    "opt-csim",
    "eap",
    "df-5gs",
    "df-saip",
    "df-snpn",
    "df-5gprose",
    "iot",
    "opt-iot",
    "pinCodes",
    "pukCodes",
    "akaParameter",
    "cdmaParameter",
];

/// Mandatory files (component tag, name) of PE-MF (§9.6).
const MF_FILES: [(u32, &str); 4] = [
    (0xA2, "mf"),
    (0xA4, "ef-iccid"),
    (0xA5, "ef-dir"),
    (0xA6, "ef-arr"),
];

/// Mandatory files (component tag, name) of PE-USIM (§9.6).
const USIM_FILES: [(u32, &str); 8] = [
    (0xA2, "adf-usim"),
    (0xA3, "ef-imsi"),
    (0xA4, "ef-arr"),
    (0xA8, "ef-ust"),
    (0xAD, "ef-spn"),
    (0xAE, "ef-est"),
    (0xB2, "ef-acc"),
    (0xB6, "ef-ecc"),
];

/// Mandatory services and the element each needs: (service, element name, description).
const SERVICE_ELEMENTS: [(&str, &str, &str); 3] = [
    ("usim", "usim", "PE-USIM"),
    ("isim", "isim", "PE-ISIM"),
    ("csim", "csim", "PE-CSIM"),
];

/// Mandatory algorithm services and the `algorithmID` they need.
const SERVICE_ALGORITHMS: [(&str, u8, &str); 3] = [
    (
        "milenage",
        ALGORITHM_MILENAGE,
        "akaParameter with algorithmID 1 (Milenage)",
    ),
    ("tuak128", 2, "akaParameter with algorithmID 2 (TUAK)"),
    (
        "usim-test-algorithm",
        3,
        "akaParameter with algorithmID 3 (test algorithm)",
    ),
];

/// Checks a package; an empty list means no rule is broken.
pub fn validate(p: &Package) -> Vec<Finding> {
    validate_elements(p.elements())
}

/// Checks a list of elements that may not even form a [`Package`] (header, End and
/// identification rules included); an empty list means no rule is broken.
pub fn validate_elements(elements: &[ProfileElement]) -> Vec<Finding> {
    let mut out = Vec::new();
    let names: Vec<&'static str> = elements.iter().map(ProfileElement::name).collect();
    let first = |name: &str| names.iter().position(|n| *n == name);

    framing(elements, &names, &mut out);
    identifications(elements, &mut out);
    ordering(&names, &mut out);

    if first("mf").is_none() && first("iot").is_none() {
        out.push(Finding::MissingMf);
    }
    files(elements, &mut out);
    identifiers(elements, &mut out);
    keys(elements, &mut out);
    services(elements, &names, &mut out);
    templates(elements, &mut out);
    out
}

fn framing(elements: &[ProfileElement], names: &[&'static str], out: &mut Vec<Finding>) {
    let headers: Vec<usize> = positions(names, "header");
    match headers.first() {
        None => out.push(Finding::MissingHeader),
        Some(&index) if index != 0 => out.push(Finding::HeaderNotFirst { index }),
        Some(_) => {}
    }
    for &index in headers.iter().skip(1) {
        out.push(Finding::DuplicateHeader { index });
    }
    let ends = positions(names, "end");
    if ends.is_empty() {
        out.push(Finding::MissingEnd);
    }
    let last = elements.len().saturating_sub(1);
    for &index in &ends {
        if index != last {
            out.push(Finding::EndNotLast { index });
        }
    }
}

fn identifications(elements: &[ProfileElement], out: &mut Vec<Finding>) {
    let mut seen = HashMap::new();
    for (index, e) in elements.iter().enumerate() {
        if let Some(h) = e.pe_header() {
            if seen.insert(h.identification, index).is_some() {
                out.push(Finding::DuplicateIdentification {
                    id: h.identification,
                    index,
                });
            }
        }
    }
}

fn positions(names: &[&'static str], name: &str) -> Vec<usize> {
    names
        .iter()
        .enumerate()
        .filter(|(_, n)| **n == name)
        .map(|(i, _)| i)
        .collect()
}

fn ordering(names: &[&'static str], out: &mut Vec<Finding>) {
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    for n in names {
        *counts.entry(n).or_default() += 1;
    }
    for name in AT_MOST_ONCE {
        // Header and end duplicates are reported by `framing`.
        if name == "header" || name == "end" {
            continue;
        }
        if let Some(&count) = counts.get(name) {
            if count > 1 {
                out.push(Finding::TooMany {
                    element: name,
                    count,
                });
            }
        }
    }
    if counts.get("end").is_some_and(|c| *c > 1) {
        out.push(Finding::TooMany {
            element: "end",
            count: counts.get("end").copied().unwrap_or(0),
        });
    }

    let first = |name: &str| names.iter().position(|n| *n == name);
    let mf = first("mf");
    if let Some(index) = mf {
        if index != 1 {
            out.push(Finding::MfNotSecond { index });
        }
    }
    let first_sd = first("securityDomain");
    for (index, &name) in names.iter().enumerate() {
        if let Some(mf) = mf {
            if AFTER_MF.contains(&name) && index < mf {
                out.push(Finding::MustFollow {
                    element: name,
                    index,
                    after: "mf",
                });
            }
        }
        for (element, needs) in NEEDS {
            if name != element {
                continue;
            }
            match first(needs) {
                None => out.push(Finding::Requires {
                    element: name,
                    index,
                    requires: needs,
                }),
                Some(at) if at > index => out.push(Finding::MustFollow {
                    element: name,
                    index,
                    after: needs,
                }),
                Some(_) => {}
            }
        }
        let before = names.get(..index).unwrap_or_default();
        if name == "akaParameter" && !before.iter().any(|n| NAAS.contains(n)) {
            out.push(Finding::MustFollow {
                element: name,
                index,
                after: "an NAA (usim, isim, csim or iot)",
            });
        }
        if (name == "application" || name == "rfm") && !before.contains(&"securityDomain") {
            out.push(Finding::MustFollow {
                element: name,
                index,
                after: "a securityDomain",
            });
        }
        if let Some(sd) = first_sd {
            if index > sd && BEFORE_SD.contains(&name) {
                out.push(Finding::AfterSecurityDomain {
                    element: name,
                    index,
                });
            }
        }
    }
}

/// The component tags of a file-system element, or `None` if its DER cannot be walked.
fn component_tags(der: &[u8]) -> Option<Vec<u32>> {
    let outer = read_tlv(der, 0).ok()?;
    let mut r = Reader::children(&outer);
    let mut tags = Vec::new();
    while let Some(t) = r.next_tlv().ok()? {
        tags.push(t.tag);
    }
    Some(tags)
}

fn files(elements: &[ProfileElement], out: &mut Vec<Finding>) {
    for (index, e) in elements.iter().enumerate() {
        let (der, mandatory): (&[u8], &[(u32, &'static str)]) = match e {
            ProfileElement::Mf(m) => (m.der(), &MF_FILES),
            ProfileElement::Usim(u) => (u.der(), &USIM_FILES),
            _ => continue,
        };
        let element = e.name();
        let Some(tags) = component_tags(der) else {
            out.push(Finding::MalformedFileSystem { element, index });
            continue;
        };
        for (tag, file) in mandatory {
            if !tags.contains(tag) {
                out.push(Finding::MissingMandatoryFile {
                    element,
                    index,
                    file,
                });
            }
        }
    }
}

fn identifiers(elements: &[ProfileElement], out: &mut Vec<Finding>) {
    let header = elements.iter().find_map(|e| match e {
        ProfileElement::Header(h) => Some(h),
        _ => None,
    });
    let mf = elements.iter().find_map(|e| match e {
        ProfileElement::Mf(m) => Some(m),
        _ => None,
    });
    if let Some(mf) = mf {
        let has_file = component_tags(mf.der()).is_some_and(|t| t.contains(&0xA4));
        match mf.ef_iccid_content() {
            None if has_file => out.push(Finding::EmptyEfIccid),
            None => {}
            Some(_) => match (mf.iccid(), header) {
                (Err(_), _) => out.push(Finding::InvalidEfIccid),
                (Ok(ef), Some(h)) if ef != h.iccid => out.push(Finding::IccidMismatch {
                    header: h.iccid.clone(),
                    ef,
                }),
                (Ok(_), _) => {}
            },
        }
    }
    let usim = elements.iter().find_map(|e| match e {
        ProfileElement::Usim(u) => Some(u),
        _ => None,
    });
    if let Some(usim) = usim {
        let has_file = component_tags(usim.der()).is_some_and(|t| t.contains(&0xA3));
        match usim.ef_imsi_content() {
            None if has_file => out.push(Finding::EmptyEfImsi),
            None => {}
            Some(_) if usim.imsi().is_err() => out.push(Finding::InvalidEfImsi),
            Some(_) => {}
        }
    }
}

/// What an AKA parameter's `AlgoParameter` says: algorithm id, key and OPc lengths.
struct AlgoSummary {
    algorithm_id: Option<u8>,
    key_len: Option<usize>,
    opc_len: Option<usize>,
}

fn summarise(aka: &AkaParameter) -> Option<AlgoSummary> {
    let v = aka.algo.view()?;
    Some(AlgoSummary {
        algorithm_id: v.algorithm_id,
        key_len: v.key.map(<[u8]>::len),
        opc_len: v.opc.map(<[u8]>::len),
    })
}

fn keys(elements: &[ProfileElement], out: &mut Vec<Finding>) {
    for (index, e) in elements.iter().enumerate() {
        let ProfileElement::Aka(aka) = e else {
            continue;
        };
        let Some(s) = summarise(aka) else {
            continue;
        };
        let milenage = s.algorithm_id == Some(ALGORITHM_MILENAGE);
        if let Some(len) = s.key_len {
            let ok = len == 16 || (!milenage && len == 32);
            if !ok {
                out.push(Finding::KeyLength {
                    index,
                    field: "key",
                    len,
                    expected: if milenage { "16" } else { "16 or 32" },
                });
            }
        }
        if let Some(len) = s.opc_len {
            if milenage && len != 16 {
                out.push(Finding::KeyLength {
                    index,
                    field: "opc",
                    len,
                    expected: "16",
                });
            }
        }
    }
}

fn services(elements: &[ProfileElement], names: &[&'static str], out: &mut Vec<Finding>) {
    let Some(header) = elements.iter().find_map(|e| match e {
        ProfileElement::Header(h) => Some(h),
        _ => None,
    }) else {
        return;
    };
    let s = &header.mandatory_services;
    for (service, element, needs) in SERVICE_ELEMENTS {
        if s.contains_name(service) && !names.contains(&element) {
            out.push(Finding::ServiceWithoutElement { service, needs });
        }
    }
    let algorithms: Vec<u8> = elements
        .iter()
        .filter_map(|e| match e {
            ProfileElement::Aka(a) => summarise(a).and_then(|s| s.algorithm_id),
            _ => None,
        })
        .collect();
    for (service, id, needs) in SERVICE_ALGORITHMS {
        if s.contains_name(service) && !algorithms.contains(&id) {
            out.push(Finding::ServiceWithoutElement { service, needs });
        }
    }
}

/// Whether one dotted OID equals the other or is an arc prefix of it (versioned sub-arcs
/// such as `.4.2` match a declared `.4`, and the other way round).
fn related(a: &str, b: &str) -> bool {
    let prefix = |short: &str, long: &str| {
        long.strip_prefix(short)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
    };
    prefix(a, b) || prefix(b, a)
}

/// The `templateID` (`81`, second component) of a template-based file-system element.
fn template_of(e: &ProfileElement) -> Option<ObjectId> {
    let der: &[u8] = match e {
        ProfileElement::Mf(m) => m.der(),
        ProfileElement::Usim(u) => u.der(),
        ProfileElement::Raw(r) if matches!(r.tag, 0xB0..=0xBE | 0xBF1F..=0xBF21) => &r.der,
        _ => return None,
    };
    let outer = read_tlv(der, 0).ok()?;
    let mut r = Reader::children(&outer);
    let _header = r.next_tlv().ok()??;
    let id = r.next_tlv().ok()??;
    (id.tag == 0x81)
        .then(|| ObjectId::from_der_content(id.value()).ok())
        .flatten()
}

fn templates(elements: &[ProfileElement], out: &mut Vec<Finding>) {
    let Some(header) = elements.iter().find_map(|e| match e {
        ProfileElement::Header(h) => Some(h),
        _ => None,
    }) else {
        return;
    };
    let declared: Vec<String> = header.gfste_list.iter().map(ToString::to_string).collect();
    for (index, e) in elements.iter().enumerate() {
        let Some(oid) = template_of(e) else {
            continue;
        };
        let s = oid.to_string();
        if !declared.iter().any(|d| related(d, &s)) {
            out.push(Finding::TemplateNotDeclared {
                element: e.name(),
                index,
                oid,
            });
        }
    }
}

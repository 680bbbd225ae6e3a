//! GsmHlr and GsmAuc content: `MOType`, `MOId` and the subscription wrapper elements.

use super::envelope::{C, mo_prefix};
use super::error::CodecError;
use super::ns;
use super::types::{AucSubscription, GetResult, HlrSubscription, KiWire, MoBody, MoId, MoKind};
use super::xml::{self, Element};
use sim_profiles::{Imsi, Key128, Msisdn};
use std::str::FromStr;

/// Appends `MOType` and `MOId`.
pub fn write_target(out: &mut String, id: &MoId) {
    xml::leaf(out, &format!("{C}:MOType"), id.kind.mo_type());
    xml::open_tag(out, &format!("{C}:MOId"));
    let p = mo_prefix(id.kind);
    if let Some(msisdn) = &id.msisdn {
        xml::leaf(out, &format!("{p}:msisdn"), msisdn.as_str());
    }
    if let Some(imsi) = &id.imsi {
        xml::leaf(out, &format!("{p}:imsi"), imsi.as_str());
    }
    xml::close_tag(out, &format!("{C}:MOId"));
}

/// Appends a subscription wrapper (`createSubscription`, `setSubscription`). The wrapper's
/// key attributes repeat `id`'s keys (the object addressed), its children hold `body`.
pub fn write_body(out: &mut String, wrapper: &str, id: &MoId, body: &MoBody) {
    match body {
        MoBody::Hlr(h) => write_hlr(out, wrapper, id.msisdn.as_ref(), id.imsi.as_ref(), h),
        MoBody::HlrMsisdn { imsi, msisdn } => {
            let (p, tag) = hlr_open(out, wrapper, id.msisdn.as_ref(), id.imsi.as_ref());
            xml::leaf(out, &format!("{p}:msisdn"), msisdn.as_str());
            xml::leaf(out, &format!("{p}:imsi"), imsi.as_str());
            xml::close_tag(out, &tag);
        }
        MoBody::Auc(a) => write_auc(out, wrapper, &a.imsi, Some(&a.ki), Some(a.fsetind)),
    }
}

/// Appends the wrapper of a Get result.
pub fn write_get_result(out: &mut String, wrapper: &str, result: &GetResult) {
    match result {
        GetResult::Hlr(h) => write_hlr(out, wrapper, Some(&h.msisdn), Some(&h.imsi), h),
        GetResult::Auc(a) => write_auc(out, wrapper, &a.imsi, Some(&a.ki), Some(a.fsetind)),
        GetResult::AucPartial { imsi, ki, fsetind } => {
            write_auc(out, wrapper, imsi, ki.as_ref(), *fsetind)
        }
    }
}

fn write_hlr(
    out: &mut String,
    wrapper: &str,
    key_msisdn: Option<&Msisdn>,
    key_imsi: Option<&Imsi>,
    h: &HlrSubscription,
) {
    let (p, tag) = hlr_open(out, wrapper, key_msisdn, key_imsi);
    xml::leaf(out, &format!("{p}:msisdn"), h.msisdn.as_str());
    xml::leaf(out, &format!("{p}:imsi"), h.imsi.as_str());
    xml::leaf(out, &format!("{p}:profileId"), &h.profile_id.to_string());
    xml::leaf(out, &format!("{p}:obo"), if h.obo { "1" } else { "0" });
    xml::leaf(out, &format!("{p}:obi"), if h.obi { "1" } else { "0" });
    xml::close_tag(out, &tag);
}

/// Opens a GsmHlr wrapper with its key attributes; gives the prefix and the tag to close.
fn hlr_open(
    out: &mut String,
    wrapper: &str,
    key_msisdn: Option<&Msisdn>,
    key_imsi: Option<&Imsi>,
) -> (&'static str, String) {
    let p = mo_prefix(MoKind::GsmHlr);
    let tag = format!("{p}:{wrapper}");
    out.push('<');
    out.push_str(&tag);
    if let Some(m) = key_msisdn {
        xml::attr(out, "msisdn", m.as_str());
    }
    if let Some(i) = key_imsi {
        xml::attr(out, "imsi", i.as_str());
    }
    out.push('>');
    (p, tag)
}

fn write_auc(
    out: &mut String,
    wrapper: &str,
    imsi: &Imsi,
    ki: Option<&KiWire>,
    fsetind: Option<u8>,
) {
    let p = mo_prefix(MoKind::GsmAuc);
    let tag = format!("{p}:{wrapper}");
    out.push('<');
    out.push_str(&tag);
    xml::attr(out, "imsi", imsi.as_str());
    out.push('>');
    xml::leaf(out, &format!("{p}:imsi"), imsi.as_str());
    let key = |k: &Key128| k.expose_hex();
    match ki {
        Some(KiWire::Clear(k)) => xml::leaf(out, &format!("{p}:ki"), &key(k)),
        Some(KiWire::Encrypted { ciphertext, .. }) => {
            xml::leaf(out, &format!("{p}:ki"), &key(ciphertext))
        }
        None => {}
    }
    if let Some(f) = fsetind {
        xml::leaf(out, &format!("{p}:fsetind"), &f.to_string());
    }
    if let Some(KiWire::Encrypted { a4ind, adkey, .. }) = ki {
        xml::leaf(out, &format!("{p}:a4ind"), &a4ind.to_string());
        xml::leaf(out, &format!("{p}:adkey"), &adkey.to_string());
    }
    xml::close_tag(out, &tag);
}

/// Reads `MOType`.
pub fn read_kind(op: &Element) -> Result<MoKind, CodecError> {
    let el = op
        .child_lax(ns::CAI3G, "MOType")
        .ok_or(CodecError::Missing { path: "MOType" })?;
    MoKind::from_mo_type(el.text()).ok_or(CodecError::UnsupportedMoType)
}

/// Reads `MOId` (at least one key required).
pub fn read_id(op: &Element, kind: MoKind) -> Result<MoId, CodecError> {
    let el = op
        .child_lax(ns::CAI3G, "MOId")
        .ok_or(CodecError::Missing { path: "MOId" })?;
    let id = read_keys(el, kind)?;
    if id.imsi.is_none() && id.msisdn.is_none() {
        return Err(CodecError::Missing {
            path: "MOId/imsi|msisdn",
        });
    }
    Ok(id)
}

/// Reads the optional `imsi`/`msisdn` children of an element in the MO namespace.
pub fn read_keys(el: &Element, kind: MoKind) -> Result<MoId, CodecError> {
    let mo = kind.namespace();
    let imsi = el
        .child_lax(mo, "imsi")
        .map(|e| parse_text::<Imsi>(e, "imsi"))
        .transpose()?;
    let msisdn = el
        .child_lax(mo, "msisdn")
        .map(|e| parse_text::<Msisdn>(e, "msisdn"))
        .transpose()?;
    Ok(MoId { kind, imsi, msisdn })
}

/// Finds the subscription wrapper `local` inside `MOAttributes`, in the MO namespace.
pub fn find_wrapper<'a>(
    op: &'a Element,
    kind: MoKind,
    local: &'static str,
) -> Result<&'a Element, CodecError> {
    let attrs = op
        .child_lax(ns::CAI3G, "MOAttributes")
        .ok_or(CodecError::Missing {
            path: "MOAttributes",
        })?;
    match attrs.children.iter().find(|c| c.local == local) {
        Some(w) if w.ns == kind.namespace() => Ok(w),
        Some(_) => Err(CodecError::WrongNamespace { element: local }),
        None => Err(CodecError::Missing {
            path: "MOAttributes/*Subscription",
        }),
    }
}

/// Reads a Create/Set wrapper into a body, checking it against `MOId` when given. With
/// `msisdn_may_change` (a GsmHlr Set) the MSISDN may differ from `MOId`'s: the number
/// change, which may also carry the MSISDN alone ([`MoBody::HlrMsisdn`]: no `profileId`,
/// no barring).
pub fn read_body(
    wrapper: &Element,
    kind: MoKind,
    id: Option<&MoId>,
    msisdn_may_change: bool,
) -> Result<MoBody, CodecError> {
    let body = match kind {
        MoKind::GsmHlr if msisdn_may_change && msisdn_alone(wrapper) => {
            let mo = ns::GSM_HLR;
            MoBody::HlrMsisdn {
                imsi: key(wrapper, mo, "imsi", id.and_then(|i| i.imsi.as_ref()))?,
                msisdn: key(wrapper, mo, "msisdn", id.and_then(|i| i.msisdn.as_ref()))?,
            }
        }
        MoKind::GsmHlr => MoBody::Hlr(read_hlr(wrapper, id)?),
        MoKind::GsmAuc => match read_auc(wrapper, id)? {
            GetResult::Auc(a) => MoBody::Auc(a),
            GetResult::AucPartial { ki: None, .. } => {
                return Err(CodecError::Missing { path: "ki" });
            }
            _ => return Err(CodecError::Missing { path: "fsetind" }),
        },
    };
    if let Some(id) = id {
        let expected = body.id();
        if id
            .imsi
            .as_ref()
            .is_some_and(|i| Some(i) != expected.imsi.as_ref())
        {
            return Err(CodecError::Inconsistent { field: "imsi" });
        }
        if !msisdn_may_change
            && id
                .msisdn
                .as_ref()
                .is_some_and(|m| Some(m) != expected.msisdn.as_ref())
        {
            return Err(CodecError::Inconsistent { field: "msisdn" });
        }
    }
    Ok(body)
}

/// Whether a GsmHlr `setSubscription` sets the MSISDN and nothing else (its children are
/// `msisdn` and, as a key, `imsi`).
fn msisdn_alone(w: &Element) -> bool {
    w.child_lax(ns::GSM_HLR, "msisdn").is_some()
        && w.children.iter().all(|c| {
            (c.local == "msisdn" || c.local == "imsi") && (c.ns == ns::GSM_HLR || c.ns.is_empty())
        })
}

/// Reads a GsmHlr wrapper. Keys fall back to the wrapper's attributes, then to `MOId`.
pub fn read_hlr(w: &Element, id: Option<&MoId>) -> Result<HlrSubscription, CodecError> {
    let mo = ns::GSM_HLR;
    let imsi = key(w, mo, "imsi", id.and_then(|i| i.imsi.as_ref()))?;
    let msisdn = key(w, mo, "msisdn", id.and_then(|i| i.msisdn.as_ref()))?;
    let profile_id = required(w, mo, "profileId")?;
    let flag = |name| {
        w.child_lax(mo, name)
            .map(|e| parse_flag(e, name))
            .transpose()
    };
    // Absent barring flags mean "not barred": hosts omit default-valued attributes.
    Ok(HlrSubscription {
        imsi,
        msisdn,
        profile_id,
        obo: flag("obo")?.unwrap_or(false),
        obi: flag("obi")?.unwrap_or(false),
    })
}

/// Reads a GsmAuc wrapper; a missing `ki` or `fsetind` gives [`GetResult::AucPartial`].
pub fn read_auc(w: &Element, id: Option<&MoId>) -> Result<GetResult, CodecError> {
    let mo = ns::GSM_AUC;
    let imsi = key(w, mo, "imsi", id.and_then(|i| i.imsi.as_ref()))?;
    let fsetind = w
        .child_lax(mo, "fsetind")
        .map(|e| parse_text::<u8>(e, "fsetind"))
        .transpose()?;
    let ki = match w.child_lax(mo, "ki") {
        None => None,
        Some(e) => {
            let k =
                Key128::from_hex(e.text()).map_err(|_| CodecError::InvalidValue { field: "ki" })?;
            let a4ind = w
                .child_lax(mo, "a4ind")
                .map(|e| parse_text::<u8>(e, "a4ind"))
                .transpose()?;
            let adkey = w
                .child_lax(mo, "adkey")
                .map(|e| parse_text::<u16>(e, "adkey"))
                .transpose()?;
            Some(match (a4ind, adkey) {
                (None, None) => KiWire::Clear(k),
                (Some(a4ind), Some(adkey)) => KiWire::Encrypted {
                    ciphertext: k,
                    a4ind,
                    adkey,
                },
                (None, Some(_)) => return Err(CodecError::Missing { path: "a4ind" }),
                (Some(_), None) => return Err(CodecError::Missing { path: "adkey" }),
            })
        }
    };
    Ok(match (ki, fsetind) {
        (Some(ki), Some(fsetind)) => GetResult::Auc(AucSubscription { imsi, ki, fsetind }),
        (ki, fsetind) => GetResult::AucPartial { imsi, ki, fsetind },
    })
}

fn key<T: FromStr + Clone>(
    w: &Element,
    mo: &str,
    name: &'static str,
    fallback: Option<&T>,
) -> Result<T, CodecError> {
    if let Some(e) = w.child_lax(mo, name) {
        return parse_text(e, name);
    }
    if let Some(v) = w.attr(name) {
        return v
            .trim()
            .parse()
            .map_err(|_| CodecError::InvalidValue { field: name });
    }
    fallback.cloned().ok_or(CodecError::Missing { path: name })
}

fn required<T: FromStr>(w: &Element, mo: &str, name: &'static str) -> Result<T, CodecError> {
    let e = w
        .child_lax(mo, name)
        .ok_or(CodecError::Missing { path: name })?;
    parse_text(e, name)
}

/// Parses an element's trimmed text; the error names the field, never the value.
pub fn parse_text<T: FromStr>(e: &Element, field: &'static str) -> Result<T, CodecError> {
    e.text()
        .parse()
        .map_err(|_| CodecError::InvalidValue { field })
}

fn parse_flag(e: &Element, field: &'static str) -> Result<bool, CodecError> {
    match e.text() {
        "1" | "true" | "TRUE" => Ok(true),
        "0" | "false" | "FALSE" => Ok(false),
        _ => Err(CodecError::InvalidValue { field }),
    }
}

//! SOAP 1.1 faults carrying a `Cai3gFault` detail with vendor sub-faults.

use super::envelope::{C, SOAP};
use super::ns;
use super::types::Cai3gFault;
use super::xml::{self, Element};

/// Appends a `Fault` element. Only the parts that are set are written.
pub fn write(out: &mut String, f: &Cai3gFault) {
    xml::open_tag(out, &format!("{SOAP}:Fault"));
    let code = if f.soap_faultcode.is_empty() {
        String::new()
    } else {
        format!("{SOAP}:{}", f.soap_faultcode)
    };
    xml::leaf(out, "faultcode", &code);
    xml::leaf(out, "faultstring", &f.faultstring);
    let has_pg = f.pg_code.is_some() || f.pg_message.is_some();
    let has_ema = f.resp_code.is_some() || f.resp_description.is_some();
    let has_cai3g = f.cai3g_code.is_some() || f.reason.is_some() || f.role.is_some();
    if has_pg || has_ema || has_cai3g {
        xml::open_tag(out, "detail");
        xml::open_tag(out, &format!("{C}:Cai3gFault"));
        opt_leaf(out, &format!("{C}:faultcode"), &f.cai3g_code);
        if let Some(reason) = &f.reason {
            xml::open_tag(out, &format!("{C}:faultreason"));
            xml::leaf(out, &format!("{C}:reasonText"), reason);
            xml::close_tag(out, &format!("{C}:faultreason"));
        }
        opt_leaf(out, &format!("{C}:faultrole"), &f.role);
        if has_pg || has_ema {
            xml::open_tag(out, &format!("{C}:details"));
            if has_pg {
                out.push_str("<pg:PGFault");
                xml::attr(out, "xmlns:pg", ns::PG);
                out.push('>');
                opt_leaf(out, "pg:errorcode", &f.pg_code);
                opt_leaf(out, "pg:errormessage", &f.pg_message);
                xml::close_tag(out, "pg:PGFault");
            }
            if has_ema {
                out.push_str("<ema:UserProvisioningFault");
                xml::attr(out, "xmlns:ema", ns::EMA);
                out.push('>');
                opt_leaf(out, "ema:respCode", &f.resp_code);
                opt_leaf(out, "ema:respDescription", &f.resp_description);
                xml::close_tag(out, "ema:UserProvisioningFault");
            }
            xml::close_tag(out, &format!("{C}:details"));
        }
        xml::close_tag(out, &format!("{C}:Cai3gFault"));
        xml::close_tag(out, "detail");
    }
    xml::close_tag(out, &format!("{SOAP}:Fault"));
}

fn opt_leaf(out: &mut String, name: &str, value: &Option<String>) {
    if let Some(v) = value {
        xml::leaf(out, name, v);
    }
}

/// Reads a `Fault` element. Lenient: a fault stays a fault even when parts are missing,
/// because misreading a rejection as a protocol error would make it look retryable.
pub fn read(fault: &Element) -> Cai3gFault {
    // SOAP 1.1 leaves faultcode/faultstring/detail unqualified; some stacks qualify them.
    let soap = |local| fault.child_lax(ns::SOAP_ENV, local);
    let text = |e: Option<&Element>| e.map(|e| e.text().to_owned());
    let code = text(soap("faultcode")).unwrap_or_default();
    let soap_faultcode = match code.split_once(':') {
        Some((_, local)) => local.to_owned(),
        None => code,
    };
    let mut out = Cai3gFault {
        soap_faultcode,
        faultstring: text(soap("faultstring")).unwrap_or_default(),
        ..Cai3gFault::default()
    };
    let Some(c) = soap("detail").and_then(|d| d.child(ns::CAI3G, "Cai3gFault")) else {
        return out;
    };
    out.cai3g_code = text(cai3g(c, "faultcode"));
    out.role = text(cai3g(c, "faultrole"));
    if let Some(r) = cai3g(c, "faultreason") {
        let texts: Vec<&str> = r
            .children_lax(ns::CAI3G, "reasonText")
            .map(Element::text)
            .collect();
        out.reason = (!texts.is_empty()).then(|| texts.join("; "));
    }
    if let Some(details) = cai3g(c, "details") {
        if let Some(pg) = details.child(ns::PG, "PGFault") {
            out.pg_code = text(pg.child_lax(ns::PG, "errorcode"));
            out.pg_message = text(pg.child_lax(ns::PG, "errormessage"));
        }
        if let Some(ema) = details.child(ns::EMA, "UserProvisioningFault") {
            out.resp_code = text(ema.child_lax(ns::EMA, "respCode"));
            out.resp_description = text(ema.child_lax(ns::EMA, "respDescription"));
        }
    }
    out
}

fn cai3g<'a>(e: &'a Element, local: &str) -> Option<&'a Element> {
    e.child_lax(ns::CAI3G, local)
}

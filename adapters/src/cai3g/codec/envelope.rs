//! The SOAP 1.1 envelope and the CAI3G header, shared by requests and responses.

use super::error::CodecError;
use super::ns;
use super::types::{Header, MoKind};
use super::xml::{self, Element};

/// Prefix we use for the SOAP envelope namespace.
pub const SOAP: &str = "SOAP-ENV";
/// Prefix we use for the CAI3G namespace.
pub const C: &str = "cai3g";

/// The prefix we use for an MO namespace.
pub fn mo_prefix(kind: MoKind) -> &'static str {
    match kind {
        MoKind::GsmHlr => "gsmhlr",
        MoKind::GsmAuc => "gsmauc",
    }
}

/// Wraps a body payload in an envelope, declaring the MO namespace when one is used.
pub fn wrap(header: &Header, mo: Option<MoKind>, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + 512);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    out.push_str("<SOAP-ENV:Envelope");
    xml::attr(&mut out, "xmlns:SOAP-ENV", ns::SOAP_ENV);
    xml::attr(&mut out, "xmlns:cai3g", ns::CAI3G);
    if let Some(kind) = mo {
        xml::attr(
            &mut out,
            &format!("xmlns:{}", mo_prefix(kind)),
            kind.namespace(),
        );
    }
    out.push('>');
    write_header(&mut out, header);
    xml::open_tag(&mut out, "SOAP-ENV:Body");
    out.push_str(body);
    xml::close_tag(&mut out, "SOAP-ENV:Body");
    xml::close_tag(&mut out, "SOAP-ENV:Envelope");
    out
}

fn write_header(out: &mut String, header: &Header) {
    let entries = [
        ("cai3g:SessionId", &header.session_id),
        ("cai3g:TransactionId", &header.transaction_id),
        ("cai3g:SequenceId", &header.sequence_id),
    ];
    if entries.iter().all(|(_, v)| v.is_none()) {
        out.push_str("<SOAP-ENV:Header/>");
        return;
    }
    xml::open_tag(out, "SOAP-ENV:Header");
    for (name, value) in entries {
        if let Some(v) = value {
            xml::leaf(out, name, v);
        }
    }
    xml::close_tag(out, "SOAP-ENV:Header");
}

/// Checks the envelope and returns its header values and the body's payload element.
pub fn split(root: &Element) -> Result<(Header, Option<&Element>), CodecError> {
    if root.local != "Envelope" {
        return Err(CodecError::UnexpectedElement {
            expected: "Envelope",
            found: root.name_for_error(),
        });
    }
    if root.ns != ns::SOAP_ENV {
        return Err(CodecError::WrongNamespace {
            element: "Envelope",
        });
    }
    let header = root
        .child(ns::SOAP_ENV, "Header")
        .map(read_header)
        .unwrap_or_default();
    let body = root
        .child(ns::SOAP_ENV, "Body")
        .ok_or(CodecError::Missing {
            path: "Envelope/Body",
        })?;
    Ok((header, body.first_child()))
}

fn read_header(el: &Element) -> Header {
    let get = |local| el.child(ns::CAI3G, local).map(|e| e.text().to_owned());
    Header {
        session_id: get("SessionId"),
        transaction_id: get("TransactionId"),
        sequence_id: get("SequenceId"),
    }
}

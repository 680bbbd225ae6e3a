//! Response envelopes: what the simulator sends and the client reads.

use super::envelope::{self, C};
use super::error::CodecError;
use super::fault;
use super::mo;
use super::ns;
use super::types::{GetResult, Header, MoKind, Operation, Response};
use super::xml::{self, Element};

const GET_WRAPPER: &str = "getResponseSubscription";

/// Encodes a response envelope with its HTTP status: 500 for a fault, else 200.
pub fn encode_response(header: &Header, resp: &Response) -> (u16, String) {
    let mut body = String::with_capacity(512);
    let mut mo_kind = None;
    let op = match resp {
        Response::Fault(f) => {
            fault::write(&mut body, f);
            return (500, envelope::wrap(header, None, &body));
        }
        Response::Login { .. } => Operation::Login,
        Response::Logout => Operation::Logout,
        Response::Create => Operation::Create,
        Response::Get(_) => Operation::Get,
        Response::Set => Operation::Set,
        Response::Delete => Operation::Delete,
    };
    let tag = format!("{C}:{}", op.response_element());
    match resp {
        Response::Login {
            session_id,
            base_sequence_id,
        } => {
            xml::open_tag(&mut body, &tag);
            xml::leaf(&mut body, &format!("{C}:sessionId"), session_id);
            xml::leaf(
                &mut body,
                &format!("{C}:baseSequenceId"),
                &base_sequence_id.to_string(),
            );
            xml::close_tag(&mut body, &tag);
        }
        Response::Get(result) => {
            mo_kind = Some(kind_of(result));
            xml::open_tag(&mut body, &tag);
            xml::open_tag(&mut body, &format!("{C}:MOAttributes"));
            mo::write_get_result(&mut body, GET_WRAPPER, result);
            xml::close_tag(&mut body, &format!("{C}:MOAttributes"));
            xml::close_tag(&mut body, &tag);
        }
        _ => {
            body.push('<');
            body.push_str(&tag);
            body.push_str("/>");
        }
    }
    (200, envelope::wrap(header, mo_kind, &body))
}

fn kind_of(result: &GetResult) -> MoKind {
    match result {
        GetResult::Hlr(_) => MoKind::GsmHlr,
        GetResult::Auc(_) | GetResult::AucPartial { .. } => MoKind::GsmAuc,
    }
}

/// Decodes a response to `expected`. A SOAP fault is returned as [`Response::Fault`]
/// whatever the status; any other non-2xx status is [`CodecError::HttpStatus`]. For a
/// Get, `kind` (if given) is checked against the answer's namespace.
pub fn decode_response(
    status: u16,
    body: &[u8],
    expected: Operation,
    kind: Option<MoKind>,
) -> Result<(Header, Response), CodecError> {
    let success = (200..300).contains(&status);
    let root = match xml::parse(body) {
        Ok(root) => root,
        Err(_) if !success => return Err(CodecError::HttpStatus { status }),
        Err(e) => return Err(e),
    };
    let (header, payload) = match envelope::split(&root) {
        Ok(split) => split,
        Err(_) if !success => return Err(CodecError::HttpStatus { status }),
        Err(e) => return Err(e),
    };
    if let Some(f) = payload.filter(|p| p.is(ns::SOAP_ENV, "Fault")) {
        return Ok((header, Response::Fault(fault::read(f))));
    }
    if !success {
        return Err(CodecError::HttpStatus { status });
    }
    let name = expected.response_element();
    let el = payload.ok_or(CodecError::Missing { path: "Body/*" })?;
    if el.local != name {
        return Err(CodecError::UnexpectedElement {
            expected: name,
            found: el.name_for_error(),
        });
    }
    if el.ns != ns::CAI3G {
        return Err(CodecError::WrongNamespace { element: name });
    }
    let resp = match expected {
        Operation::Login => read_login(el)?,
        Operation::Logout => Response::Logout,
        Operation::Create => Response::Create,
        Operation::Get => Response::Get(read_get(el, kind)?),
        Operation::Set => Response::Set,
        Operation::Delete => Response::Delete,
    };
    Ok((header, resp))
}

fn read_login(el: &Element) -> Result<Response, CodecError> {
    let session = el
        .child_lax(ns::CAI3G, "sessionId")
        .ok_or(CodecError::Missing {
            path: "LoginResponse/sessionId",
        })?;
    let base = el
        .child_lax(ns::CAI3G, "baseSequenceId")
        .ok_or(CodecError::Missing {
            path: "LoginResponse/baseSequenceId",
        })?;
    if session.text().is_empty() {
        return Err(CodecError::InvalidValue { field: "sessionId" });
    }
    Ok(Response::Login {
        session_id: session.text().to_owned(),
        base_sequence_id: mo::parse_text(base, "baseSequenceId")?,
    })
}

fn read_get(el: &Element, kind: Option<MoKind>) -> Result<GetResult, CodecError> {
    let attrs = el
        .child_lax(ns::CAI3G, "MOAttributes")
        .ok_or(CodecError::Missing {
            path: "GetResponse/MOAttributes",
        })?;
    // The wrapper's namespace says which MO answered; its local name varies by host.
    let (wrapper, found) = attrs
        .children
        .iter()
        .find_map(|c| MoKind::from_namespace(&c.ns).map(|k| (c, k)))
        .ok_or(CodecError::Missing {
            path: "GetResponse/MOAttributes/getResponseSubscription",
        })?;
    if kind.is_some_and(|k| k != found) {
        return Err(CodecError::WrongNamespace {
            element: GET_WRAPPER,
        });
    }
    let id = el
        .child_lax(ns::CAI3G, "MOId")
        .map(|i| mo::read_keys(i, found))
        .transpose()?;
    match found {
        MoKind::GsmHlr => Ok(GetResult::Hlr(mo::read_hlr(wrapper, id.as_ref())?)),
        MoKind::GsmAuc => mo::read_auc(wrapper, id.as_ref()),
    }
}

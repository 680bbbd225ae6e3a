//! Request envelopes: what the client sends and the simulator reads.

use super::envelope::{self, C};
use super::error::CodecError;
use super::mo;
use super::ns;
use super::types::{Header, MoBody, MoId, MoKind, Operation, Password, Request};
use super::xml::{self, Element};

/// Encodes a complete SOAP 1.1 request envelope.
pub fn encode_request(header: &Header, req: &Request) -> String {
    let op = req.operation();
    let tag = format!("{C}:{}", op.element());
    let mut body = String::with_capacity(512);
    xml::open_tag(&mut body, &tag);
    match req {
        Request::Login { user_id, pwd } => {
            xml::leaf(&mut body, &format!("{C}:userId"), user_id);
            xml::leaf(&mut body, &format!("{C}:pwd"), pwd.expose());
        }
        Request::Logout { session_id } => {
            xml::leaf(&mut body, &format!("{C}:sessionId"), session_id);
        }
        Request::Create(b) => write_change(&mut body, op, &b.id(), b),
        Request::Set { id, body: b } => write_change(&mut body, op, id, b),
        Request::Get(id) | Request::Delete(id) => mo::write_target(&mut body, id),
    }
    xml::close_tag(&mut body, &tag);
    envelope::wrap(header, req.mo_kind(), &body)
}

/// `MOType`, `MOId` and `MOAttributes` of a Create or Set.
fn write_change(out: &mut String, op: Operation, id: &MoId, b: &MoBody) {
    mo::write_target(out, id);
    xml::open_tag(out, &format!("{C}:MOAttributes"));
    mo::write_body(out, wrapper_of(op), id, b);
    xml::close_tag(out, &format!("{C}:MOAttributes"));
}

fn wrapper_of(op: Operation) -> &'static str {
    if op == Operation::Set {
        "setSubscription"
    } else {
        "createSubscription"
    }
}

/// Decodes a request envelope (the server side: the simulator and tests).
pub fn decode_request(body: &[u8]) -> Result<(Header, Request), CodecError> {
    let root = xml::parse(body)?;
    let (header, payload) = envelope::split(&root)?;
    let el = payload.ok_or(CodecError::Missing { path: "Body/*" })?;
    let op = Operation::ALL
        .into_iter()
        .find(|op| op.element() == el.local)
        .ok_or_else(|| CodecError::UnexpectedElement {
            expected: "a CAI3G operation",
            found: el.name_for_error(),
        })?;
    if el.ns != ns::CAI3G {
        return Err(CodecError::WrongNamespace {
            element: op.element(),
        });
    }
    Ok((header, read_op(op, el)?))
}

fn read_op(op: Operation, el: &Element) -> Result<Request, CodecError> {
    let field = |local, path| {
        el.child_lax(ns::CAI3G, local)
            .ok_or(CodecError::Missing { path })
    };
    Ok(match op {
        Operation::Login => Request::Login {
            user_id: field("userId", "Login/userId")?.text().to_owned(),
            pwd: Password::new(field("pwd", "Login/pwd")?.raw_text().to_owned()),
        },
        Operation::Logout => Request::Logout {
            session_id: field("sessionId", "Logout/sessionId")?.text().to_owned(),
        },
        Operation::Create | Operation::Set => {
            let kind = mo::read_kind(el)?;
            let id = mo::read_id(el, kind)?;
            let wrapper = mo::find_wrapper(el, kind, wrapper_of(op))?;
            let is_set = op == Operation::Set;
            let number_change = is_set && kind == MoKind::GsmHlr;
            let body = mo::read_body(wrapper, kind, Some(&id), number_change)?;
            if is_set {
                Request::Set { id, body }
            } else {
                Request::Create(body)
            }
        }
        Operation::Get | Operation::Delete => {
            let kind = mo::read_kind(el)?;
            let id = mo::read_id(el, kind)?;
            if op == Operation::Get {
                Request::Get(id)
            } else {
                Request::Delete(id)
            }
        }
    })
}

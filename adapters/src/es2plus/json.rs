//! Shared JSON helpers: a capped parse into an object, and member accessors that return
//! typed errors naming the member (serde's own errors can echo values, so they are not used).

use super::error::Es2Error;
use serde::Serialize;
use serde_json::{Map, Value};
use std::str::FromStr;

/// The largest body any decoder accepts, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// A decoded JSON object.
pub(crate) type Object = Map<String, Value>;

/// Parses `body` as one JSON object (serde_json caps nesting depth at 128).
pub(crate) fn parse_object(body: &[u8]) -> Result<Object, Es2Error> {
    if body.len() > MAX_MESSAGE_BYTES {
        return Err(Es2Error::TooLarge {
            limit: MAX_MESSAGE_BYTES,
        });
    }
    let text = std::str::from_utf8(body).map_err(|_| Es2Error::NotUtf8)?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Es2Error::NotAnObject),
        Err(e) => Err(Es2Error::Malformed {
            line: e.line(),
            column: e.column(),
        }),
    }
}

/// Serialises a value whose `Serialize` only emits strings, booleans, integers and maps,
/// which cannot fail; an empty body would be rejected by any peer, never silently accepted.
pub(crate) fn to_bytes<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// A member, with `null` treated as absent.
pub(crate) fn get<'a>(obj: &'a Object, name: &str) -> Option<&'a Value> {
    match obj.get(name) {
        None | Some(Value::Null) => None,
        Some(v) => Some(v),
    }
}

/// An optional string member.
pub(crate) fn opt_str<'a>(
    obj: &'a Object,
    name: &str,
    path: &'static str,
) -> Result<Option<&'a str>, Es2Error> {
    match get(obj, name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Es2Error::InvalidValue { field: path }),
    }
}

/// A mandatory string member.
pub(crate) fn req_str<'a>(
    obj: &'a Object,
    name: &str,
    path: &'static str,
) -> Result<&'a str, Es2Error> {
    opt_str(obj, name, path)?.ok_or(Es2Error::Missing { field: path })
}

/// A mandatory object member.
pub(crate) fn req_obj<'a>(
    obj: &'a Object,
    name: &str,
    path: &'static str,
) -> Result<&'a Object, Es2Error> {
    match get(obj, name) {
        None => Err(Es2Error::Missing { field: path }),
        Some(Value::Object(o)) => Ok(o),
        Some(_) => Err(Es2Error::InvalidValue { field: path }),
    }
}

/// A mandatory boolean member (a JSON boolean, not a string).
pub(crate) fn req_bool(obj: &Object, name: &str, path: &'static str) -> Result<bool, Es2Error> {
    match get(obj, name) {
        None => Err(Es2Error::Missing { field: path }),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(Es2Error::InvalidValue { field: path }),
    }
}

/// An optional string member parsed with `FromStr`.
pub(crate) fn opt_parse<T: FromStr>(
    obj: &Object,
    name: &str,
    path: &'static str,
) -> Result<Option<T>, Es2Error> {
    opt_str(obj, name, path)?
        .map(|s| {
            s.parse()
                .map_err(|_| Es2Error::InvalidValue { field: path })
        })
        .transpose()
}

/// A mandatory string member parsed with `FromStr`.
pub(crate) fn req_parse<T: FromStr>(
    obj: &Object,
    name: &str,
    path: &'static str,
) -> Result<T, Es2Error> {
    opt_parse(obj, name, path)?.ok_or(Es2Error::Missing { field: path })
}
